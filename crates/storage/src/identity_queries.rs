// Parta ID queries, compiled per backend inside `mod identity` of `mod sqlite`
// and `mod postgres` (see lib.rs), together with identity_code_queries.rs,
// identity_link_queries.rs and identity_session_queries.rs, which use the
// imports here. This file: the accounts themselves — read, created, renamed,
// re-phoned, deleted — and the identity event outbox.

use crate::{
    AccountRow, Conflict, LinkAs, LinkView, MessengerLink, MessengerSessionView, NewLink, NewSession, SendHistoryRow,
    StorageError, StoredCodeRow,
};
use ::identity::event::{IdentityEvent, UnlinkReason};
use ::identity::family::{self, Holder};
use roster::PersonName;

async fn push_event(tx: &mut Tx, event: &IdentityEvent, now: i64) -> Result<(), StorageError> {
    let payload = serde_json::to_string(event).map_err(|e| StorageError::Encoding(e.to_string()))?;
    sqlx::query("INSERT INTO domain_events (kind, payload, created_at) VALUES ($1, $2, $3)")
        .bind(event.kind())
        .bind(payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

const ACCOUNT: &str = "SELECT id, phone, last_name, first_name, middle_name, password_hash FROM accounts";

pub(crate) async fn account_by_phone(pool: &Pool<Db>, phone: &str) -> Result<Option<AccountRow>, StorageError> {
    Ok(sqlx::query_as(&format!("{ACCOUNT} WHERE phone = $1 AND deleted_at IS NULL"))
        .bind(phone)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn account(pool: &Pool<Db>, id: i64) -> Result<AccountRow, StorageError> {
    sqlx::query_as(&format!("{ACCOUNT} WHERE id = $1 AND deleted_at IS NULL"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StorageError::NotFound)
}

pub(crate) async fn insert_account(
    tx: &mut Tx,
    phone: Option<&str>,
    name: &PersonName,
    now: i64,
) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO accounts (phone, last_name, first_name, middle_name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(phone)
    .bind(name.last())
    .bind(name.first())
    .bind(name.middle())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

pub(crate) async fn set_account_password(pool: &Pool<Db>, account: i64, hash: &str) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(hash)
        .bind(account)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn change_account_phone(
    pool: &Pool<Db>,
    account: i64,
    proof_hash: &str,
    now: i64,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, proof_hash, now).await?;
    sqlx::query("UPDATE accounts SET phone = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(&phone)
        .bind(account)
        .execute(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(Conflict::PhoneTaken),
            _ => e.into(),
        })?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a Parta ID: unlinks it everywhere, ends every session and erases the
/// personal data. The row stays so that messages can still name an author:
/// "Удалённый пользователь".
pub(crate) async fn delete_account(pool: &Pool<Db>, account: i64, now: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    erase_account(&mut tx, account, now).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn erase_account(tx: &mut Tx, account: i64, now: i64) -> Result<(), StorageError> {
    let links: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT l.id, l.org_id, l.person_id, l.profile_id FROM profile_links l \
         JOIN learning_profiles p ON p.id = l.profile_id WHERE p.account_id = $1",
    )
    .bind(account)
    .fetch_all(&mut **tx)
    .await?;
    for (link_id, org_id, person_id, profile_id) in links {
        let event =
            IdentityEvent::ProfileUnlinked { org_id, person_id, profile_id, reason: UnlinkReason::AccountDeleted };
        remove_link(tx, link_id, event, now).await?;
    }
    for table in ["messenger_sessions", "sign_in_tokens", "child_sign_in_codes", "child_profiles", "scheduled_messages"]
    {
        sqlx::query(&format!("DELETE FROM {table} WHERE account_id = $1")).bind(account).execute(&mut **tx).await?;
    }
    sqlx::query("UPDATE learning_profiles SET last_name = 'Удалённый', first_name = 'пользователь', middle_name = NULL WHERE account_id = $1")
        .bind(account)
        .execute(&mut **tx)
        .await?;
    let done = sqlx::query(
        "UPDATE accounts SET phone = NULL, login = NULL, last_name = 'Удалённый', first_name = 'пользователь', \
         middle_name = NULL, password_hash = NULL, deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(account)
    .execute(&mut **tx)
    .await?;
    found(done.rows_affected())
}

pub(crate) async fn events_after(pool: &Pool<Db>, after: i64, limit: i64) -> Result<Vec<(i64, String)>, StorageError> {
    Ok(sqlx::query_as("SELECT id, payload FROM domain_events WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

/// The name a phone's Parta ID goes by (its learning profile's, else the
/// account's), for «Этот номер уже используется: Ева М.».
pub(crate) async fn name_of_phone(pool: &Pool<Db>, phone: &str) -> Result<Option<(String, String)>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT COALESCE(p.last_name, a.last_name), COALESCE(p.first_name, a.first_name) FROM accounts a \
         LEFT JOIN learning_profiles p ON p.account_id = a.id WHERE a.phone = $1 AND a.deleted_at IS NULL",
    )
    .bind(phone)
    .fetch_optional(pool)
    .await?)
}

/// Renames a Parta ID and its learning profile: only its holder asks.
pub(crate) async fn rename_account(pool: &Pool<Db>, account: i64, name: &PersonName) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let done = sqlx::query(
        "UPDATE accounts SET last_name = $1, first_name = $2, middle_name = $3 WHERE id = $4 AND deleted_at IS NULL",
    )
    .bind(name.last())
    .bind(name.first())
    .bind(name.middle())
    .bind(account)
    .execute(&mut *tx)
    .await?;
    found(done.rows_affected())?;
    sqlx::query("UPDATE learning_profiles SET last_name = $1, first_name = $2, middle_name = $3 WHERE account_id = $4")
        .bind(name.last())
        .bind(name.first())
        .bind(name.middle())
        .bind(account)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A child's account by the login a guardian set for it.
pub(crate) async fn account_by_login(pool: &Pool<Db>, login: &str) -> Result<Option<AccountRow>, StorageError> {
    Ok(sqlx::query_as(&format!("{ACCOUNT} WHERE login = $1 AND deleted_at IS NULL"))
        .bind(login)
        .fetch_optional(pool)
        .await?)
}

/// The Parta ID a school account is linked to (in any organisation).
pub(crate) async fn account_of_person(
    pool: &Pool<Db>,
    person: roster::ids::PersonId,
) -> Result<Option<AccountRow>, StorageError> {
    Ok(sqlx::query_as(&format!(
        "{ACCOUNT} WHERE deleted_at IS NULL AND id IN (SELECT lp.account_id FROM profile_links l \
         JOIN learning_profiles lp ON lp.id = l.profile_id WHERE l.person_id = $1) LIMIT 1"
    ))
    .bind(person)
    .fetch_optional(pool)
    .await?)
}
