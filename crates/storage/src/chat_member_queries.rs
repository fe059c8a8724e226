// Part of `mod chat_admin` (imports in chat_admin_queries.rs): a managed
// chat's members — added, removed, made admins — and the people who may be added.

pub(crate) async fn add_members(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
    people: &[PersonId],
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, facts, _) = change(pool, org, actor, chat, rules::may_manage).await?;
    let people = dedup(people);
    check_additions(&mut tx, org, &facts, &people).await?;
    let existing: Vec<(PersonId, String)> = rows_for(
        &mut tx,
        "SELECT m.person_id, m.status FROM chat_members m WHERE m.chat_id = {scope}",
        "m.person_id",
        chat,
        &people,
    )
    .await?;
    let existing: HashMap<PersonId, String> = existing.into_iter().collect();
    if existing.values().any(|s| s != "removed_by_hand") {
        return Err(refused(ManageRefusal::AlreadyMember));
    }
    let linked = linked_people(&mut tx, org, &people).await?;
    for &person in &people {
        let status = status_for(linked.contains(&person));
        // Someone removed by hand comes back as a manual member: staff, not the
        // roster, decide about them from now on.
        sqlx::query(
            "INSERT INTO chat_members (chat_id, person_id, admin, source, status) VALUES ($1, $2, FALSE, 'manual', $3) \
             ON CONFLICT (chat_id, person_id) DO UPDATE SET admin = FALSE, source = 'manual', status = $3",
        )
        .bind(chat)
        .bind(person)
        .bind(status)
        .execute(&mut *tx)
        .await?;
        let before = existing.get(&person).map_or_else(|| json!({}), |s| json!({ "status": s }));
        audit(&mut tx, org, chat, Some(actor), "add_member", Some(person), before, json!({ "status": status }), now)
            .await?;
    }
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people })
}

pub(crate) async fn remove_member(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
    person: PersonId,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    let m = member(&mut tx, chat, person).await?.filter(|m| m.status != "removed_by_hand");
    let m = m.ok_or(refused(ManageRefusal::NotAMember))?;
    rules::keeps_an_admin(usize::try_from(row.admins).unwrap_or(0), m.admin).map_err(refused)?;
    if row.kind == "custom" {
        sqlx::query("DELETE FROM chat_members WHERE chat_id = $1 AND person_id = $2")
            .bind(chat)
            .bind(person)
            .execute(&mut *tx)
            .await?;
    } else {
        // The roster would put them back: the row stays, saying "kept out".
        sqlx::query(
            "UPDATE chat_members SET status = 'removed_by_hand', admin = FALSE WHERE chat_id = $1 AND person_id = $2",
        )
        .bind(chat)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    }
    let before = json!({ "status": m.status, "source": m.source, "admin": m.admin });
    audit(&mut tx, org, chat, Some(actor), "remove_member", Some(person), before, json!({}), now).await?;
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people: vec![person] })
}

pub(crate) async fn set_admin(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    chat: ChatId,
    person: PersonId,
    wanted: AdminChange,
    now: i64,
) -> Result<ManageOutcome, StorageError> {
    let admin = wanted == AdminChange::Appoint;
    let (mut tx, _, row) = change(pool, org, actor, chat, rules::may_manage).await?;
    let m = member(&mut tx, chat, person).await?.filter(|m| m.status != "removed_by_hand");
    let m = m.ok_or(refused(ManageRefusal::NotAMember))?;
    if m.admin == admin {
        tx.rollback().await?;
        return Ok(ManageOutcome { chat_id: chat, people: Vec::new() });
    }
    if !admin {
        rules::keeps_an_admin(usize::try_from(row.admins).unwrap_or(0), true).map_err(refused)?;
    }
    sqlx::query("UPDATE chat_members SET admin = $1, admin_overridden = $2 WHERE chat_id = $3 AND person_id = $4")
        .bind(admin)
        // In an automatic chat the roster would undo it.
        .bind(row.kind != "custom")
        .bind(chat)
        .bind(person)
        .execute(&mut *tx)
        .await?;
    let action = if admin { "appoint_admin" } else { "revoke_admin" };
    audit(
        &mut tx,
        org,
        chat,
        Some(actor),
        action,
        Some(person),
        json!({ "admin": m.admin }),
        json!({ "admin": admin }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ManageOutcome { chat_id: chat, people: vec![person] })
}

// ---------------------------------------------------------------- candidates

/// How many people the SQL filters hand to the reach rule at most.
const CANDIDATE_SCAN: i64 = 5_000;

pub(crate) async fn candidates(
    pool: &Pool<Db>,
    org: OrgId,
    actor: PersonId,
    filter: &CandidateFilter,
) -> Result<Candidates, StorageError> {
    let mut conn = pool.acquire().await?;
    let facts = actor_facts(&mut conn, org, actor).await?;
    rules::may_create(&facts).map_err(refused)?;
    let chat_members: HashMap<PersonId, String> = match filter.chat_id {
        Some(chat) => {
            let row = chat_row(&mut conn, org, actor, chat).await?;
            rules::may_manage(&facts, &row.facts()).map_err(refused)?;
            let rows: Vec<(PersonId, String)> =
                sqlx::query_as("SELECT person_id, status FROM chat_members WHERE chat_id = $1")
                    .bind(chat)
                    .fetch_all(&mut *conn)
                    .await?;
            rows.into_iter().collect()
        }
        None => HashMap::new(),
    };
    let query = filter.query.as_deref().map(|q| format!("%{}%", fold(q).replace(['%', '_'], "")));
    // A class: its students, their parents and everyone who teaches there,
    // each as the role asked for ("parents of 7Б" are not its teachers who
    // happen to be parents elsewhere).
    const STUDENT_OF: &str = "EXISTS (SELECT 1 FROM enrollments e WHERE e.person_id = p.id AND e.active \
         AND e.role = 'student' AND e.class_id = CAST($4 AS BIGINT))";
    const TEACHER_OF: &str = "(EXISTS (SELECT 1 FROM enrollments e WHERE e.person_id = p.id AND e.active \
         AND e.role = 'teacher' AND e.class_id = CAST($4 AS BIGINT)) \
         OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.id = e.section_id \
         WHERE e.person_id = p.id AND e.active AND e.role = 'teacher' AND s.active AND s.class_id = CAST($4 AS BIGINT)))";
    const PARENT_OF: &str = "EXISTS (SELECT 1 FROM guardianships g JOIN enrollments e ON e.person_id = g.student_id \
         WHERE g.guardian_id = p.id AND e.active AND e.role = 'student' AND e.class_id = CAST($4 AS BIGINT))";
    let in_class = match filter.role {
        Some(Role::Student) => STUDENT_OF.to_string(),
        Some(Role::Guardian) => PARENT_OF.to_string(),
        Some(_) => TEACHER_OF.to_string(),
        None => format!("({STUDENT_OF} OR {TEACHER_OF} OR {PARENT_OF})"),
    };
    // A subject: its teachers and the students who take it.
    let rows: Vec<(PersonId, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT p.id, p.last_name, p.first_name, p.middle_name FROM people p WHERE p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR r.role = CAST($2 AS TEXT))) \
         AND (CAST($3 AS TEXT) IS NULL OR p.search_key LIKE CAST($3 AS TEXT)) \
         AND (CAST($4 AS BIGINT) IS NULL OR {in_class}) \
         AND (CAST($5 AS BIGINT) IS NULL \
           OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.id = e.section_id \
                      WHERE e.person_id = p.id AND e.active AND s.active AND s.subject_id = CAST($5 AS BIGINT)) \
           OR EXISTS (SELECT 1 FROM enrollments e JOIN sections s ON s.class_id = e.class_id \
                      WHERE e.person_id = p.id AND e.active AND e.role = 'student' AND s.active \
                      AND s.group_name IS NULL AND s.subject_id = CAST($5 AS BIGINT))) \
         ORDER BY p.last_name, p.first_name, p.middle_name, p.id LIMIT $6"
    ))
    .bind(org)
    .bind(filter.role.map(Role::as_str))
    .bind(query)
    .bind(filter.class_id)
    .bind(filter.subject_id)
    .bind(CANDIDATE_SCAN)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<PersonId> = rows.iter().map(|r| r.0).collect();
    let people = person_facts(&mut conn, org, &ids).await?;
    let linked = linked_people(&mut conn, org, &ids).await?;
    let classes: BTreeMap<ClassId, String> =
        sqlx::query_as::<_, (ClassId, String)>("SELECT id, name FROM classes WHERE org_id = $1")
            .bind(org)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut out = Vec::new();
    let mut truncated = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= CANDIDATE_SCAN;
    for (id, last_name, first_name, middle_name) in rows {
        let Some(f) = people.get(&id) else { continue };
        if rules::may_add(&facts, f).is_err() {
            continue;
        }
        if out.len() >= filter.limit {
            truncated = true;
            break;
        }
        let mut roles: Vec<Role> = f.roles.iter().copied().collect();
        roles.sort_by_key(|r| Role::ALL.iter().position(|x| x == r));
        out.push(Candidate {
            id,
            last_name,
            first_name,
            middle_name,
            roles: roles.into_iter().map(|r| r.as_str().to_string()).collect(),
            classes: f.classes.iter().filter_map(|c| classes.get(c).cloned()).collect(),
            linked: linked.contains(&id),
            member: chat_members.get(&id).cloned(),
        });
    }
    Ok(Candidates { people: out, truncated })
}
