// Part of `mod messages` (imports in message_queries.rs): direct chats and
// the organisation's direct-message policy.

/// Who a person is for the direct-message rules: their parties, the classes
/// they are in (as a student, a teacher of the class or one of its sections,
/// or a guardian of one of its students) and their family.
async fn dm_facts(tx: &mut Tx, org: i64, person: i64) -> Result<PersonDmFacts, StorageError> {
    let roles: Vec<String> = sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_all(&mut **tx)
        .await?;
    let parties = roles.iter().filter_map(|r| Role::parse(r)).map(Party::of).collect();
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT e.role, e.class_id FROM enrollments e JOIN classes c ON c.id = e.class_id \
           WHERE e.person_id = $1 AND e.active AND c.org_id = $2 AND c.active \
         UNION SELECT e.role, s.class_id FROM enrollments e JOIN sections s ON s.id = e.section_id \
           WHERE e.person_id = $1 AND e.active AND s.org_id = $2 AND s.active AND s.class_id IS NOT NULL \
         UNION SELECT 'guardian', e.class_id FROM guardianships g JOIN enrollments e ON e.person_id = g.student_id \
           JOIN classes c ON c.id = e.class_id \
           WHERE g.guardian_id = $1 AND e.active AND e.role = 'student' AND c.org_id = $2 AND c.active",
    )
    .bind(person)
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    let classes = rows
        .into_iter()
        .filter_map(|(role, class)| {
            let party = match role.as_str() {
                "student" => Party::Student,
                "teacher" => Party::Teacher,
                "guardian" => Party::Guardian,
                _ => return None,
            };
            Some((party, class))
        })
        .collect();
    let family: Vec<i64> = sqlx::query_scalar(
        "SELECT student_id FROM guardianships WHERE guardian_id = $1 \
         UNION SELECT guardian_id FROM guardianships WHERE student_id = $1",
    )
    .bind(person)
    .fetch_all(&mut **tx)
    .await?;
    Ok(PersonDmFacts { person_id: person, parties, classes, family })
}

async fn policy_in(tx: &mut Tx, org: i64) -> Result<DmPolicy, StorageError> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT from_party, to_party, rule FROM dm_policy WHERE org_id = $1")
            .bind(org)
            .fetch_all(&mut **tx)
            .await?;
    let mut policy = DmPolicy::default();
    for (from, to, rule) in rows {
        if let (Some(from), Some(to), Some(rule)) = (Party::parse(&from), Party::parse(&to), DmRule::parse(&rule)) {
            policy.set(from, to, rule);
        }
    }
    Ok(policy)
}

pub(crate) async fn dm_policy(pool: &Pool<Db>, org: i64) -> Result<DmPolicy, StorageError> {
    let mut tx: Tx = pool.begin().await?;
    let policy = policy_in(&mut tx, org).await?;
    tx.commit().await?;
    Ok(policy)
}

pub(crate) async fn set_dm_policy(pool: &Pool<Db>, org: i64, policy: &DmPolicy) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query("DELETE FROM dm_policy WHERE org_id = $1").bind(org).execute(&mut *tx).await?;
    let defaults = DmPolicy::default();
    for (from, to, rule) in policy.entries() {
        if defaults.rule(from, to) == rule {
            continue;
        }
        sqlx::query("INSERT INTO dm_policy (org_id, from_party, to_party, rule) VALUES ($1, $2, $3, $4)")
            .bind(org)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(rule.as_str())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn direct_chat(
    pool: &Pool<Db>,
    account: i64,
    org: i64,
    person: i64,
    now: i64,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let chats_on: Option<bool> =
        sqlx::query_scalar("SELECT chats_enabled AND kind = 'general_education' FROM orgs WHERE id = $1 AND active")
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
    if chats_on != Some(true) {
        return Err(StorageError::NotFound);
    }
    let me: Option<i64> = sqlx::query_scalar(
        "SELECT l.person_id FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id \
         WHERE p.account_id = $1 AND l.org_id = $2",
    )
    .bind(account)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let me = me.ok_or(StorageError::NotFound)?;
    let target_here: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.person_id = $1 AND r.org_id = $2 AND p.active",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut *tx)
    .await?;
    if target_here == 0 {
        return Err(StorageError::NotFound);
    }
    let policy = policy_in(&mut tx, org).await?;
    let from = dm_facts(&mut tx, org, me).await?;
    let to = dm_facts(&mut tx, org, person).await?;
    may_start_direct(&policy, &from, &to).map_err(StorageError::DirectRefused)?;
    let linked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_one(&mut *tx)
        .await?;
    if linked == 0 {
        return Err(StorageError::Conflict(Conflict::NotLinkedYet));
    }
    let key = format!("{}:{}", me.min(person), me.max(person));
    let existing: Option<i64> =
        sqlx::query_scalar("SELECT id FROM chats WHERE org_id = $1 AND kind = 'direct' AND direct_key = $2")
            .bind(org)
            .bind(&key)
            .fetch_optional(&mut *tx)
            .await?;
    let chat = match existing {
        Some(id) => id,
        None => {
            sqlx::query_scalar(
                "INSERT INTO chats (org_id, kind, name, created_at, direct_key) VALUES ($1, 'direct', '', $2, $3) \
                 RETURNING id",
            )
            .bind(org)
            .bind(now)
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for member in [me, person] {
        sqlx::query(
            "INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) \
             VALUES ($1, $2, FALSE, 'manual', 'active', '') \
             ON CONFLICT (chat_id, person_id) DO UPDATE SET status = 'active'",
        )
        .bind(chat)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(chat)
}
