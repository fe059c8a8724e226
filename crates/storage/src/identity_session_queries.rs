// Part of `mod identity` (imports in identity_queries.rs): signing in —
// one-time sign-in tokens, messenger sessions, portal sessions by phone proof.

pub(crate) async fn create_sign_in_token(
    pool: &Pool<Db>,
    token_hash: &str,
    account: i64,
    link: i64,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO sign_in_tokens (token_hash, account_id, link_id, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(account)
        .bind(link)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// Exchanges a one-time sign-in token for a messenger session (both hashed).
pub(crate) async fn session_from_sign_in_token(
    pool: &Pool<Db>,
    token_hash: &str,
    session: &NewSession,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let taken: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE sign_in_tokens SET used = TRUE WHERE token_hash = $1 AND NOT used AND expires_at > $2 \
         RETURNING account_id, link_id",
    )
    .bind(token_hash)
    .bind(session.now)
    .fetch_optional(&mut *tx)
    .await?;
    let (account, link) = taken.ok_or(StorageError::Conflict(Conflict::SignInLinkInvalid))?;
    insert_session(&mut tx, session, account, Some(link)).await?;
    tx.commit().await?;
    Ok(account)
}

pub(crate) async fn insert_session(
    tx: &mut Tx,
    session: &NewSession,
    account: i64,
    link: Option<i64>,
) -> Result<(), StorageError> {
    let agent: String = session.user_agent.chars().take(300).collect();
    sqlx::query(
        "INSERT INTO messenger_sessions (token_hash, account_id, link_id, created_at, last_seen_at, expires_at, user_agent) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(&session.token_hash)
    .bind(account)
    .bind(link)
    .bind(session.now)
    .bind(session.expires_at)
    .bind(agent)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Signs in by a proven phone: the account must exist.
pub(crate) async fn session_from_proof(
    pool: &Pool<Db>,
    proof_hash: &str,
    session: &NewSession,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, proof_hash, session.now).await?;
    let account: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE phone = $1 AND deleted_at IS NULL")
        .bind(&phone)
        .fetch_optional(&mut *tx)
        .await?;
    let account = account.ok_or(StorageError::Conflict(Conflict::NoAccount))?;
    insert_session(&mut tx, session, account, None).await?;
    tx.commit().await?;
    Ok(account)
}

/// Creates a Parta ID for a proven phone and signs it in.
pub(crate) async fn register_account(
    pool: &Pool<Db>,
    proof_hash: &str,
    about: &roster::PersonName,
    password_hash: Option<&str>,
    session: &NewSession,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, proof_hash, session.now).await?;
    let account: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (phone, last_name, first_name, middle_name, password_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&phone)
    .bind(about.last())
    .bind(about.first())
    .bind(about.middle())
    .bind(password_hash)
    .bind(session.now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(Conflict::PhoneTaken),
        _ => e.into(),
    })?;
    insert_session(&mut tx, session, account, None).await?;
    tx.commit().await?;
    Ok(account)
}

/// The account and session of a live messenger session token; refreshes its
/// last-seen time at most once a minute.
pub(crate) async fn messenger_session(
    pool: &Pool<Db>,
    session_hash: &str,
    now: i64,
) -> Result<Option<(i64, i64)>, StorageError> {
    let found: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT s.id, s.account_id, s.last_seen_at FROM messenger_sessions s JOIN accounts a ON a.id = s.account_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.deleted_at IS NULL",
    )
    .bind(session_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let Some((id, account, last_seen)) = found else { return Ok(None) };
    if now - last_seen >= 60 {
        sqlx::query("UPDATE messenger_sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?;
    }
    Ok(Some((id, account)))
}

pub(crate) async fn messenger_sessions(
    pool: &Pool<Db>,
    account: i64,
    now: i64,
) -> Result<Vec<MessengerSessionView>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT id, created_at, last_seen_at, user_agent, (link_id IS NOT NULL) AS from_school FROM messenger_sessions \
         WHERE account_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, id DESC",
    )
    .bind(account)
    .bind(now)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn revoke_messenger_session(pool: &Pool<Db>, account: i64, session: i64) -> Result<(), StorageError> {
    let done = sqlx::query("DELETE FROM messenger_sessions WHERE id = $1 AND account_id = $2")
        .bind(session)
        .bind(account)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

/// Starts a messenger session for an account whose credentials the server checked.
pub(crate) async fn start_session(pool: &Pool<Db>, account: i64, session: &NewSession) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    insert_session(&mut tx, session, account, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a portal session for the school account the proven phone's Parta ID
/// holds: a sign-in by SMS code, which a password lockout does not close.
pub(crate) async fn portal_session_from_proof(
    pool: &Pool<Db>,
    proof_hash: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<roster::ids::PersonId, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, proof_hash, now).await?;
    let people: Vec<roster::ids::PersonId> = sqlx::query_scalar(
        "SELECT DISTINCT l.person_id FROM profile_links l JOIN learning_profiles lp ON lp.id = l.profile_id \
         JOIN accounts a ON a.id = lp.account_id JOIN people p ON p.id = l.person_id \
         WHERE a.phone = $1 AND a.deleted_at IS NULL AND p.active",
    )
    .bind(&phone)
    .fetch_all(&mut *tx)
    .await?;
    let person = match people.as_slice() {
        [] => return Err(StorageError::Conflict(Conflict::NoSchoolAccount)),
        [person] => *person,
        _ => return Err(StorageError::Conflict(Conflict::SeveralSchoolAccounts)),
    };
    sqlx::query("INSERT INTO portal_sessions (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(person)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(person)
}
