// Compiled twice, into the backend module itself (imports in common_queries.rs).
// The roster as administrators read and edit it: organisations, people and
// their roles, classes, enrollments, guardianships, password slips.

pub(crate) async fn is_empty(pool: &Pool<Db>) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs").fetch_one(pool).await?;
    Ok(n == 0)
}

// ---------------------------------------------------------------- reads

/// A person as listed in organisation `$1`.
const BRIEF: &str = "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.login, \
     COALESCE((SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1), '') AS roles, \
     (p.password_hash IS NOT NULL) AS has_password";

fn brief_sql(rest: &str) -> String {
    format!("{} {rest}", BRIEF.replace("STRING_AGG", STRING_AGG))
}

const ORDER_BY_NAME: &str = "ORDER BY p.last_name, p.first_name, p.middle_name, p.id";

pub(crate) async fn person(pool: &Pool<Db>, id: PersonId) -> Result<PersonView, StorageError> {
    sqlx::query_as(
        "SELECT id, last_name, first_name, middle_name, login, must_change_password FROM people WHERE id = $1 AND active",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StorageError::NotFound)
}

pub(crate) async fn person_roles(pool: &Pool<Db>, id: PersonId) -> Result<Vec<RoleView>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT r.org_id, o.name AS org_name, o.kind AS org_kind, o.chats_enabled, r.role \
         FROM person_roles r JOIN orgs o ON o.id = r.org_id WHERE r.person_id = $1 AND o.active ORDER BY o.name, r.role",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn orgs(pool: &Pool<Db>) -> Result<Vec<OrgView>, StorageError> {
    Ok(sqlx::query_as("SELECT id, name, kind, chats_enabled FROM orgs WHERE active ORDER BY name")
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn org(pool: &Pool<Db>, id: OrgId) -> Result<OrgView, StorageError> {
    sqlx::query_as("SELECT id, name, kind, chats_enabled FROM orgs WHERE id = $1 AND active")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StorageError::NotFound)
}

const CLASS_VIEW: &str = "SELECT c.id, c.name, c.grade, y.title AS year, \
     (SELECT e.person_id FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'teacher' AND e.is_primary AND e.active AND p.active ORDER BY e.id LIMIT 1) AS class_teacher_id, \
     (SELECT p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, '') FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'teacher' AND e.is_primary AND e.active AND p.active ORDER BY e.id LIMIT 1) AS class_teacher_name, \
     (SELECT COUNT(*) FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'student' AND e.active AND p.active) AS students \
     FROM classes c LEFT JOIN academic_years y ON y.id = c.year_id WHERE c.org_id = $1 AND c.active";

pub(crate) async fn classes(pool: &Pool<Db>, org: OrgId) -> Result<Vec<ClassView>, StorageError> {
    Ok(sqlx::query_as(&format!("{CLASS_VIEW} ORDER BY c.grade, c.name, c.id")).bind(org).fetch_all(pool).await?)
}

pub(crate) async fn class(pool: &Pool<Db>, org: OrgId, class: ClassId) -> Result<ClassView, StorageError> {
    sqlx::query_as(&format!("{CLASS_VIEW} AND c.id = $2"))
        .bind(org)
        .bind(class)
        .fetch_optional(pool)
        .await?
        .ok_or(StorageError::NotFound)
}

#[derive(sqlx::FromRow)]
struct Related {
    /// A person's or a section's id: the one query shape serves both.
    of: i64,
    #[sqlx(flatten)]
    person: PersonBrief,
}

pub(crate) async fn class_students(
    pool: &Pool<Db>,
    org: OrgId,
    class_id: ClassId,
) -> Result<Vec<StudentView>, StorageError> {
    class(pool, org, class_id).await?;
    let students: Vec<PersonBrief> = sqlx::query_as(&brief_sql(&format!(
        "FROM people p JOIN enrollments e ON e.person_id = p.id \
         WHERE e.class_id = $2 AND e.role = 'student' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let guardians: Vec<Related> = sqlx::query_as(&brief_sql(&format!(
        ", g.student_id AS of FROM people p JOIN guardianships g ON g.guardian_id = p.id \
         JOIN enrollments e ON e.person_id = g.student_id \
         WHERE e.class_id = $2 AND e.role = 'student' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let mut by_student: HashMap<i64, Vec<PersonBrief>> = HashMap::new();
    for g in guardians {
        by_student.entry(g.of).or_default().push(g.person);
    }
    Ok(students
        .into_iter()
        .map(|s| StudentView { guardians: by_student.remove(&i64::from(s.id)).unwrap_or_default(), student: s })
        .collect())
}

#[derive(sqlx::FromRow)]
struct SectionRow {
    id: SectionId,
    subject: String,
    group_name: Option<String>,
    group_students: i64,
}

pub(crate) async fn class_sections(
    pool: &Pool<Db>,
    org: OrgId,
    class_id: ClassId,
) -> Result<Vec<SectionView>, StorageError> {
    class(pool, org, class_id).await?;
    let sections: Vec<SectionRow> = sqlx::query_as(
        "SELECT s.id, sub.name AS subject, s.group_name, \
         (SELECT COUNT(*) FROM enrollments e WHERE e.section_id = s.id AND e.role = 'student' AND e.active) AS group_students \
         FROM sections s JOIN subjects sub ON sub.id = s.subject_id \
         WHERE s.org_id = $1 AND s.class_id = $2 AND s.active ORDER BY sub.name, s.group_name, s.id",
    )
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let teachers: Vec<Related> = sqlx::query_as(&brief_sql(&format!(
        ", e.section_id AS of FROM people p JOIN enrollments e ON e.person_id = p.id \
         JOIN sections s ON s.id = e.section_id \
         WHERE s.class_id = $2 AND e.role = 'teacher' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let mut by_section: HashMap<i64, Vec<PersonBrief>> = HashMap::new();
    for t in teachers {
        by_section.entry(t.of).or_default().push(t.person);
    }
    Ok(sections
        .into_iter()
        .map(|s| SectionView {
            teachers: by_section.remove(&i64::from(s.id)).unwrap_or_default(),
            id: s.id,
            subject: s.subject,
            group_name: s.group_name,
            group_students: s.group_students,
        })
        .collect())
}

pub(crate) async fn people(
    pool: &Pool<Db>,
    org: OrgId,
    filter: &PeopleFilter,
) -> Result<Vec<PersonBrief>, StorageError> {
    let query = filter.query.as_deref().map(|q| format!("%{}%", roster::search_text(q).replace(['%', '_'], "")));
    Ok(sqlx::query_as(&brief_sql(&format!(
        "FROM people p WHERE p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR r.role = CAST($2 AS TEXT))) \
         AND (CAST($3 AS TEXT) IS NULL OR p.search_key LIKE CAST($3 AS TEXT)) \
         {ORDER_BY_NAME} LIMIT $4 OFFSET $5"
    )))
    .bind(org)
    .bind(filter.role.map(Role::as_str))
    .bind(query)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn person_card(pool: &Pool<Db>, org: OrgId, person: PersonId) -> Result<PersonCard, StorageError> {
    let brief: PersonBrief = sqlx::query_as(&brief_sql(
        "FROM people p WHERE p.id = $2 AND p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1)",
    ))
    .bind(org)
    .bind(person)
    .fetch_optional(pool)
    .await?
    .ok_or(StorageError::NotFound)?;
    let classes: Vec<ClassLink> = sqlx::query_as(
        "SELECT c.id AS class_id, c.name AS class_name, \
           CASE WHEN e.role = 'student' THEN 'student' ELSE 'class_teacher' END AS relation, \
           CAST(NULL AS TEXT) AS subject, CAST(NULL AS TEXT) AS group_name \
         FROM enrollments e JOIN classes c ON c.id = e.class_id \
         WHERE e.person_id = $2 AND c.org_id = $1 AND e.active AND c.active AND (e.role = 'student' OR e.is_primary) \
         UNION ALL \
         SELECT c.id, c.name, 'teacher', sub.name, s.group_name \
         FROM enrollments e JOIN sections s ON s.id = e.section_id JOIN subjects sub ON sub.id = s.subject_id \
           JOIN classes c ON c.id = s.class_id \
         WHERE e.person_id = $2 AND s.org_id = $1 AND e.role = 'teacher' AND e.active AND s.active \
         ORDER BY 2, 3, 4",
    )
    .bind(org)
    .bind(person)
    .fetch_all(pool)
    .await?;
    let guardians = related(pool, org, person, "g.guardian_id = p.id WHERE g.student_id = $2").await?;
    let children = related(pool, org, person, "g.student_id = p.id WHERE g.guardian_id = $2").await?;
    Ok(PersonCard { person: brief, classes, guardians, children })
}

async fn related(pool: &Pool<Db>, org: OrgId, person: PersonId, join: &str) -> Result<Vec<PersonBrief>, sqlx::Error> {
    let sql = brief_sql(&format!("FROM people p JOIN guardianships g ON {join} AND p.active {ORDER_BY_NAME}"));
    sqlx::query_as(&sql).bind(org).bind(person).fetch_all(pool).await
}

pub(crate) async fn subjects(pool: &Pool<Db>, org: OrgId) -> Result<Vec<SubjectView>, StorageError> {
    Ok(sqlx::query_as("SELECT id, name FROM subjects WHERE org_id = $1 AND active ORDER BY name")
        .bind(org)
        .fetch_all(pool)
        .await?)
}

// ---------------------------------------------------------------- edits

async fn has_role(tx: &mut Tx, org: OrgId, person: PersonId, role: Role) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.org_id = $1 AND r.person_id = $2 AND r.role = $3 AND p.active",
    )
    .bind(org)
    .bind(person)
    .bind(role.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

async fn require_role(
    tx: &mut Tx,
    org: OrgId,
    person: PersonId,
    role: Role,
    otherwise: Conflict,
) -> Result<(), StorageError> {
    if has_role(tx, org, person, role).await? { Ok(()) } else { Err(StorageError::Conflict(otherwise)) }
}

async fn require_class(tx: &mut Tx, org: OrgId, class: ClassId) -> Result<(), StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM classes WHERE id = $1 AND org_id = $2 AND active")
        .bind(class)
        .bind(org)
        .fetch_one(&mut **tx)
        .await?;
    if n > 0 { Ok(()) } else { Err(StorageError::NotFound) }
}

fn unique_login(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(Conflict::LoginTaken),
        _ => e.into(),
    }
}

pub(crate) async fn set_chats_enabled(pool: &Pool<Db>, org: OrgId, enabled: bool) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE orgs SET chats_enabled = $1 WHERE id = $2 AND active")
        .bind(enabled)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn update_person(
    pool: &Pool<Db>,
    org: OrgId,
    person: PersonId,
    name: &PersonName,
    roles: Option<&[Role]>,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let login: Option<Option<String>> = sqlx::query_scalar(
        "SELECT p.login FROM people p WHERE p.id = $1 AND p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $2)",
    )
    .bind(person)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let login = login.ok_or(StorageError::NotFound)?;
    sqlx::query("UPDATE people SET last_name = $1, first_name = $2, middle_name = $3, search_key = $4 WHERE id = $5")
        .bind(name.last())
        .bind(name.first())
        .bind(name.middle())
        .bind(name.search_key(login.as_deref()))
        .bind(person)
        .execute(&mut *tx)
        .await?;
    if let Some(roles) = roles {
        set_roles(&mut tx, org, person, roles).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn create_person(pool: &Pool<Db>, org: OrgId, new: &NewPerson) -> Result<PersonId, StorageError> {
    if new.roles.is_empty() {
        return Err(StorageError::Conflict(Conflict::LastRole));
    }
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let id: PersonId = sqlx::query_scalar(
        "INSERT INTO people (last_name, first_name, middle_name, login, search_key) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(new.name.last())
    .bind(new.name.first())
    .bind(new.name.middle())
    .bind(new.login.as_str())
    .bind(new.name.search_key(Some(new.login.as_str())))
    .fetch_one(&mut *tx)
    .await
    .map_err(unique_login)?;
    insert_roles(&mut tx, org, id, &new.roles).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_roles(tx: &mut Tx, org: OrgId, person: PersonId, roles: &[Role]) -> Result<(), sqlx::Error> {
    for role in roles {
        sqlx::query("INSERT INTO person_roles (person_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_roles(tx: &mut Tx, org: OrgId, person: PersonId, roles: &[Role]) -> Result<(), StorageError> {
    if roles.is_empty() {
        return Err(StorageError::Conflict(Conflict::LastRole));
    }
    let current: Vec<String> = sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_all(&mut **tx)
        .await?;
    for role in current.iter().filter(|r| !roles.iter().any(|w| w.as_str() == r.as_str())) {
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = $3")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    insert_roles(tx, org, person, roles).await?;
    Ok(())
}

pub(crate) async fn create_class(pool: &Pool<Db>, org: OrgId, name: &ClassName) -> Result<ClassId, StorageError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO classes (org_id, year_id, name, grade) VALUES \
         ($1, (SELECT id FROM academic_years WHERE active ORDER BY start_date DESC LIMIT 1), $2, $3) RETURNING id",
    )
    .bind(org)
    .bind(name.to_string())
    .bind(i64::from(name.grade()))
    .fetch_one(pool)
    .await?)
}

pub(crate) async fn rename_class(
    pool: &Pool<Db>,
    org: OrgId,
    class: ClassId,
    name: &ClassName,
) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE classes SET name = $1, grade = $2 WHERE id = $3 AND org_id = $4 AND active")
        .bind(name.to_string())
        .bind(i64::from(name.grade()))
        .bind(class)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn set_class_teacher(
    pool: &Pool<Db>,
    org: OrgId,
    class: ClassId,
    teacher: Option<PersonId>,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_class(&mut tx, org, class).await?;
    if let Some(teacher) = teacher {
        require_role(&mut tx, org, teacher, Role::Teacher, Conflict::NotATeacher).await?;
    }
    sqlx::query(
        "UPDATE enrollments SET active = FALSE WHERE class_id = $1 AND role = 'teacher' AND is_primary AND active",
    )
    .bind(class)
    .execute(&mut *tx)
    .await?;
    if let Some(teacher) = teacher {
        sqlx::query("INSERT INTO enrollments (person_id, class_id, role, is_primary) VALUES ($1, $2, 'teacher', TRUE)")
            .bind(teacher)
            .bind(class)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn move_student(
    pool: &Pool<Db>,
    org: OrgId,
    student: PersonId,
    class: ClassId,
    today: NaiveDate,
) -> Result<(), StorageError> {
    // Enrollment dates are ISO text on both backends, as the importer writes them.
    let today = today.to_string();
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_class(&mut tx, org, class).await?;
    require_role(&mut tx, org, student, Role::Student, Conflict::NotAStudent).await?;
    // Leaving a class also means leaving its groups: the new class has its own.
    // Checked row by row (the student's few enrollments), not by listing the
    // organisation's sections: sections are not indexed by organisation.
    sqlx::query(
        "UPDATE enrollments SET active = FALSE, end_date = $1 WHERE person_id = $2 AND role = 'student' AND active \
         AND (EXISTS (SELECT 1 FROM classes c WHERE c.id = enrollments.class_id AND c.org_id = $3) \
           OR EXISTS (SELECT 1 FROM sections s WHERE s.id = enrollments.section_id AND s.org_id = $3))",
    )
    .bind(&today)
    .bind(student)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO enrollments (person_id, class_id, role, begin_date) VALUES ($1, $2, 'student', $3)")
        .bind(student)
        .bind(class)
        .bind(&today)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_guardianship(
    pool: &Pool<Db>,
    org: OrgId,
    guardian: PersonId,
    student: PersonId,
    change: LinkChange,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_role(&mut tx, org, guardian, Role::Guardian, Conflict::NotAGuardian).await?;
    require_role(&mut tx, org, student, Role::Student, Conflict::NotAStudent).await?;
    let sql = match change {
        LinkChange::Add => "INSERT INTO guardianships (guardian_id, student_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        LinkChange::Remove => "DELETE FROM guardianships WHERE guardian_id = $1 AND student_id = $2",
    };
    sqlx::query(sql).bind(guardian).bind(student).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SlipRow {
    id: PersonId,
    name: String,
    login: String,
    role: String,
}

pub(crate) async fn password_candidates(
    pool: &Pool<Db>,
    org: OrgId,
    class: ClassId,
) -> Result<Vec<PasswordSlip>, StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_class(&mut tx, org, class).await?;
    let rows: Vec<SlipRow> = sqlx::query_as(
        "SELECT p.id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, '') AS name, p.login, 'student' AS role \
         FROM people p JOIN enrollments e ON e.person_id = p.id \
         WHERE e.class_id = $1 AND e.role = 'student' AND e.active AND p.active AND p.login IS NOT NULL AND p.password_hash IS NULL \
         UNION \
         SELECT p.id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, ''), p.login, 'guardian' \
         FROM people p JOIN guardianships g ON g.guardian_id = p.id JOIN enrollments e ON e.person_id = g.student_id \
         WHERE e.class_id = $1 AND e.role = 'student' AND e.active AND p.active AND p.login IS NOT NULL AND p.password_hash IS NULL \
         ORDER BY 4 DESC, 2",
    )
    .bind(class)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| PasswordSlip { person_id: r.id, name: r.name, login: r.login, password: String::new(), role: r.role })
        .collect())
}
