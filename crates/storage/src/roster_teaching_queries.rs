// Compiled twice, into the backend module itself (imports in common_queries.rs).
// Subjects and teaching: sections of a class, their teachers and group members.

pub(crate) async fn create_subject(pool: &Pool<Db>, org: OrgId, name: &str) -> Result<SubjectId, StorageError> {
    org_exists(pool, org).await?;
    Ok(sqlx::query_scalar("INSERT INTO subjects (org_id, name) VALUES ($1, $2) RETURNING id")
        .bind(org)
        .bind(name)
        .fetch_one(pool)
        .await?)
}

async fn org_exists(pool: &Pool<Db>, org: OrgId) -> Result<(), StorageError> {
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE id = $1 AND active").bind(org).fetch_one(pool).await?;
    if n > 0 { Ok(()) } else { Err(StorageError::NotFound) }
}

pub(crate) async fn rename_subject(
    pool: &Pool<Db>,
    org: OrgId,
    subject: SubjectId,
    name: &str,
) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE subjects SET name = $1 WHERE id = $2 AND org_id = $3 AND active")
        .bind(name)
        .bind(subject)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn create_section(
    pool: &Pool<Db>,
    org: OrgId,
    class: ClassId,
    subject: SubjectId,
    group: Option<&str>,
) -> Result<SectionId, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_class(&mut tx, org, class).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects WHERE id = $1 AND org_id = $2 AND active")
        .bind(subject)
        .bind(org)
        .fetch_one(&mut *tx)
        .await?;
    if n == 0 {
        return Err(StorageError::NotFound);
    }
    let id = sqlx::query_scalar(
        "INSERT INTO sections (org_id, subject_id, class_id, group_name, year_id) \
         VALUES ($1, $2, $3, $4, (SELECT year_id FROM classes WHERE id = $3)) RETURNING id",
    )
    .bind(org)
    .bind(subject)
    .bind(class)
    .bind(group)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn require_section(tx: &mut Tx, org: OrgId, section: SectionId) -> Result<Option<String>, StorageError> {
    let group: Option<Option<String>> =
        sqlx::query_scalar("SELECT group_name FROM sections WHERE id = $1 AND org_id = $2 AND active")
            .bind(section)
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?;
    group.ok_or(StorageError::NotFound)
}

pub(crate) async fn close_section(pool: &Pool<Db>, org: OrgId, section: SectionId) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_section(&mut tx, org, section).await?;
    sqlx::query("UPDATE sections SET active = FALSE WHERE id = $1").bind(section).execute(&mut *tx).await?;
    sqlx::query("UPDATE enrollments SET active = FALSE WHERE section_id = $1 AND active")
        .bind(section)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds or removes a teacher of a section, or a student of a group section.
pub(crate) async fn set_section_member(
    pool: &Pool<Db>,
    org: OrgId,
    section: SectionId,
    person: PersonId,
    role: roster::import::EnrollmentRole,
    change: LinkChange,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let group = require_section(&mut tx, org, section).await?;
    let role = match role {
        EnrollmentRole::Teacher => {
            require_role(&mut tx, org, person, Role::Teacher, Conflict::NotATeacher).await?;
            "teacher"
        }
        EnrollmentRole::Student => {
            require_role(&mut tx, org, person, Role::Student, Conflict::NotAStudent).await?;
            if group.is_none() {
                return Err(StorageError::Conflict(Conflict::WholeClassSection));
            }
            "student"
        }
    };
    sqlx::query(
        "UPDATE enrollments SET active = FALSE WHERE section_id = $1 AND person_id = $2 AND role = $3 AND active",
    )
    .bind(section)
    .bind(person)
    .bind(role)
    .execute(&mut *tx)
    .await?;
    if change == LinkChange::Add {
        sqlx::query("INSERT INTO enrollments (person_id, section_id, role) VALUES ($1, $2, $3)")
            .bind(person)
            .bind(section)
            .bind(role)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
