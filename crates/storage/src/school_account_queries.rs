// Compiled twice, into the backend module itself (imports in common_queries.rs).
// School accounts (a person's login and password) and portal sessions.

pub(crate) async fn credentials(pool: &Pool<Db>, login: &str) -> Result<Option<Credentials>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT id AS person_id, password_hash, must_change_password, active FROM people WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn set_password(
    pool: &Pool<Db>,
    person: PersonId,
    hash: &str,
    must_change: bool,
) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE people SET password_hash = $1, must_change_password = $2 WHERE id = $3")
        .bind(hash)
        .bind(must_change)
        .bind(person)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn create_session(
    pool: &Pool<Db>,
    token_hash: &str,
    person: PersonId,
    now: i64,
    expires: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO portal_sessions (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(person)
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn session_person(
    pool: &Pool<Db>,
    token_hash: &str,
    now: i64,
) -> Result<Option<PersonId>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT s.person_id FROM portal_sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.active",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn delete_session(pool: &Pool<Db>, token_hash: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
    Ok(())
}
