// Part of `mod identity` (imports in identity_queries.rs): SMS codes, the
// phone proofs they give, and the limits on failed sign-in tries.

pub(crate) async fn send_history(
    pool: &Pool<Db>,
    phone: &str,
    ip: &str,
    now: i64,
) -> Result<SendHistoryRow, StorageError> {
    let hour_ago = now - 3600;
    Ok(sqlx::query_as(
        "SELECT (SELECT MAX(created_at) FROM sms_codes WHERE phone = $1) AS last_sent_to_phone, \
           (SELECT COUNT(*) FROM sms_codes WHERE phone = $1 AND created_at > $3) AS sends_to_phone_last_hour, \
           (SELECT COUNT(*) FROM sms_codes WHERE ip = $2 AND created_at > $3) AS sends_from_ip_last_hour",
    )
    .bind(phone)
    .bind(ip)
    .bind(hour_ago)
    .fetch_one(pool)
    .await?)
}

pub(crate) async fn record_code(
    pool: &Pool<Db>,
    phone: &str,
    ip: &str,
    salt: &str,
    hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO sms_codes (phone, ip, salt, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(phone)
    .bind(ip)
    .bind(salt)
    .bind(hash)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Only the newest code of a phone counts: sending a new one retires the old.
pub(crate) async fn latest_code(pool: &Pool<Db>, phone: &str) -> Result<Option<StoredCodeRow>, StorageError> {
    Ok(sqlx::query_as(&format!("{CODE} WHERE phone = $1 ORDER BY created_at DESC, id DESC LIMIT 1"))
        .bind(phone)
        .fetch_optional(pool)
        .await?)
}

const CODE: &str = "SELECT id, salt, hash, expires_at, wrong_attempts AS tries, used FROM sms_codes";

/// Counts a try of the phone's newest code and returns it, in one conditional
/// update: none once it is used, expired or has had its five tries. Parallel
/// guesses queue on the row (SQLite's one writer; PostgreSQL re-checks the
/// condition on the row a concurrent update left), so never more than five are
/// compared.
pub(crate) async fn try_code(pool: &Pool<Db>, phone: &str, now: i64) -> Result<Option<StoredCodeRow>, StorageError> {
    Ok(sqlx::query_as(
        "UPDATE sms_codes SET wrong_attempts = wrong_attempts + 1 \
         WHERE id = (SELECT id FROM sms_codes WHERE phone = $1 ORDER BY created_at DESC, id DESC LIMIT 1) \
         AND wrong_attempts < $2 AND NOT used AND expires_at > $3 \
         RETURNING id, salt, hash, expires_at, wrong_attempts AS tries, used",
    )
    .bind(phone)
    .bind(i64::from(::identity::code::MAX_WRONG_ATTEMPTS))
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

/// Marks a code used; false when a concurrent request used it first.
pub(crate) async fn use_code(pool: &Pool<Db>, code: i64) -> Result<bool, StorageError> {
    let done =
        sqlx::query("UPDATE sms_codes SET used = TRUE WHERE id = $1 AND NOT used").bind(code).execute(pool).await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn create_proof(
    pool: &Pool<Db>,
    token_hash: &str,
    phone: &str,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO phone_proofs (token_hash, phone, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(phone)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

/// The phone a proof was issued for, consuming the proof.
pub(crate) async fn take_proof(tx: &mut Tx, token_hash: &str, now: i64) -> Result<String, StorageError> {
    let phone: Option<String> = sqlx::query_scalar(
        "UPDATE phone_proofs SET used = TRUE WHERE token_hash = $1 AND NOT used AND expires_at > $2 RETURNING phone",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    phone.ok_or(StorageError::Conflict(Conflict::ProofInvalid))
}

/// Failed sign-in tries of `key` in `scope` since `since`.
pub(crate) async fn attempts_since(pool: &Pool<Db>, scope: &str, key: &str, since: i64) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM auth_attempts WHERE scope = $1 AND key = $2 AND at > $3")
        .bind(scope)
        .bind(key)
        .bind(since)
        .fetch_one(pool)
        .await?)
}

/// Records failed tries (one per scope and key) and forgets those older than
/// `forget_before`, so the table holds only what a limit still looks at.
pub(crate) async fn record_attempts(
    pool: &Pool<Db>,
    keys: &[(&str, &str)],
    now: i64,
    forget_before: i64,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    for (scope, key) in keys {
        sqlx::query("INSERT INTO auth_attempts (scope, key, at) VALUES ($1, $2, $3)")
            .bind(scope)
            .bind(key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM auth_attempts WHERE at <= $1").bind(forget_before).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn clear_attempts(pool: &Pool<Db>, scope: &str, key: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM auth_attempts WHERE scope = $1 AND key = $2").bind(scope).bind(key).execute(pool).await?;
    Ok(())
}
