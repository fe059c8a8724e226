// Parta ID queries, compiled per backend inside `mod identity` of `mod sqlite`
// and `mod postgres` (see lib.rs).

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

/// The school accounts that hold a profile's Parta ID, each with whether it
/// is a student's in the organisation of its link.
pub(crate) async fn holders(tx: &mut Tx, profile: i64) -> Result<Vec<Holder>, StorageError> {
    let rows: Vec<(i64, bool)> = sqlx::query_as(
        "SELECT l.person_id, EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = l.person_id \
           AND r.org_id = l.org_id AND r.role = 'student') FROM profile_links l WHERE l.profile_id = $1",
    )
    .bind(profile)
    .fetch_all(&mut **tx)
    .await?;
    Ok(rows.into_iter().map(|(person_id, student)| Holder { person_id, student }).collect())
}

async fn is_student(tx: &mut Tx, org: i64, person: i64) -> Result<bool, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = 'student')",
    )
    .bind(person)
    .bind(org)
    .fetch_one(&mut **tx)
    .await?)
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

/// The account's learning profile, made from the account's own names when it
/// has none yet: a Parta ID's name is its holder's to change, never a link's.
pub(crate) async fn profile_for_account(tx: &mut Tx, account: i64, now: i64) -> Result<i64, StorageError> {
    let profile: Option<i64> = sqlx::query_scalar("SELECT id FROM learning_profiles WHERE account_id = $1")
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(id) = profile {
        return Ok(id);
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO learning_profiles (account_id, last_name, first_name, middle_name, created_at) \
         SELECT id, last_name, first_name, middle_name, $2 FROM accounts WHERE id = $1 RETURNING id",
    )
    .bind(account)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

/// Links a school account (a person in an organisation) to the learning profile
/// of the proven phone's Parta ID. `LinkAs::New` makes the Parta ID and refuses
/// a phone that has one; `LinkAs::Existing` ("it's me") joins the Parta ID the
/// phone has, if the family rules allow, and never changes its name.
pub(crate) async fn link_profile(pool: &Pool<Db>, link: &NewLink, now: i64) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, &link.proof_hash, now).await?;
    let already: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND org_id = $2")
        .bind(link.person_id)
        .bind(link.org_id)
        .fetch_one(&mut *tx)
        .await?;
    if already > 0 {
        return Err(StorageError::Conflict(Conflict::AlreadyLinked));
    }
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE phone = $1 AND deleted_at IS NULL")
        .bind(&phone)
        .fetch_optional(&mut *tx)
        .await?;
    let account = match (&link.target, existing) {
        (LinkAs::New(name) | LinkAs::NewFreeingChild(name, _), None) => {
            insert_account(&mut tx, Some(&phone), name, now).await?
        }
        (LinkAs::New(_), Some(_)) => return Err(StorageError::Conflict(Conflict::PhoneInUse)),
        (LinkAs::NewFreeingChild(name, consent), Some(child_account)) => {
            super::family::free_phone_from_child(&mut tx, child_account, link.person_id, consent, now).await?;
            insert_account(&mut tx, Some(&phone), name, now).await?
        }
        (LinkAs::Existing, Some(id)) => id,
        (LinkAs::Existing, None) => return Err(StorageError::Conflict(Conflict::NoAccount)),
    };
    let profile = profile_for_account(&mut tx, account, now).await?;
    let joining =
        Holder { person_id: link.person_id, student: is_student(&mut tx, link.org_id, link.person_id).await? };
    family::may_join(&holders(&mut tx, profile).await?, joining).map_err(StorageError::SharingRefused)?;
    insert_link(&mut tx, profile, link.person_id, link.org_id, now).await?;
    tx.commit().await?;
    Ok(profile)
}

/// Adds a link of `person` in `org` to `profile`, lets the person into the
/// chats staff added them to before, and emits `ProfileLinked`.
pub(crate) async fn insert_link(
    tx: &mut Tx,
    profile: i64,
    person: i64,
    org: i64,
    now: i64,
) -> Result<(), StorageError> {
    // A school account belongs to one person: all its links go to one profile.
    let elsewhere: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM profile_links WHERE person_id = $1 AND profile_id <> $2")
            .bind(person)
            .bind(profile)
            .fetch_one(&mut **tx)
            .await?;
    if elsewhere > 0 {
        return Err(StorageError::Conflict(Conflict::LinkedToAnotherProfile));
    }
    sqlx::query("INSERT INTO profile_links (profile_id, person_id, org_id, linked_at) VALUES ($1, $2, $3, $4)")
        .bind(profile)
        .bind(person)
        .bind(org)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    // Staff added them to chats of their own before they linked: they join
    // now. (Automatic chats are the reconciler's, which runs after the link.)
    sqlx::query(
        "UPDATE chat_members SET status = 'active' WHERE person_id = $1 AND status = 'pending' \
         AND chat_id IN (SELECT id FROM chats WHERE org_id = $2 AND kind = 'custom')",
    )
    .bind(person)
    .bind(org)
    .execute(&mut **tx)
    .await?;
    let event = IdentityEvent::ProfileLinked { org_id: org, person_id: person, profile_id: profile };
    push_event(tx, &event, now).await
}

pub(crate) async fn remove_link(tx: &mut Tx, link_id: i64, event: IdentityEvent, now: i64) -> Result<(), StorageError> {
    // The person leaves every chat of the organisation at once. Automatic
    // chats are the reconciler's (it keeps their place for a re-link); chats
    // made by hand and direct chats are left for good.
    if let IdentityEvent::ProfileUnlinked { org_id, person_id, .. } = &event {
        sqlx::query(
            "DELETE FROM chat_members WHERE person_id = $1 \
             AND chat_id IN (SELECT id FROM chats WHERE org_id = $2 AND kind IN ('custom', 'direct'))",
        )
        .bind(person_id)
        .bind(org_id)
        .execute(&mut **tx)
        .await?;
    }
    // Sessions and tokens that came from the link go with it.
    sqlx::query("DELETE FROM messenger_sessions WHERE link_id = $1").bind(link_id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM sign_in_tokens WHERE link_id = $1").bind(link_id).execute(&mut **tx).await?;
    sqlx::query("DELETE FROM profile_links WHERE id = $1").bind(link_id).execute(&mut **tx).await?;
    push_event(tx, &event, now).await
}

pub(crate) async fn unlink_profile(pool: &Pool<Db>, org: i64, person: i64, now: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let link: Option<(i64, i64)> =
        sqlx::query_as("SELECT id, profile_id FROM profile_links WHERE person_id = $1 AND org_id = $2")
            .bind(person)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?;
    let (link_id, profile_id) = link.ok_or(StorageError::NotFound)?;
    let event =
        IdentityEvent::ProfileUnlinked { org_id: org, person_id: person, profile_id, reason: UnlinkReason::ByUser };
    remove_link(&mut tx, link_id, event, now).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn link_of(pool: &Pool<Db>, org: i64, person: i64) -> Result<Option<LinkView>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT l.id AS link_id, l.profile_id, p.account_id, p.last_name, p.first_name, p.middle_name, a.phone, l.linked_at \
         FROM profile_links l JOIN learning_profiles p ON p.id = l.profile_id JOIN accounts a ON a.id = p.account_id \
         WHERE l.person_id = $1 AND l.org_id = $2",
    )
    .bind(person)
    .bind(org)
    .fetch_optional(pool)
    .await?)
}

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

pub(crate) async fn messenger_links(pool: &Pool<Db>, account: i64) -> Result<Vec<MessengerLink>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT l.org_id, o.name AS org_name, l.person_id, l.linked_at FROM profile_links l \
         JOIN learning_profiles p ON p.id = l.profile_id JOIN orgs o ON o.id = l.org_id \
         WHERE p.account_id = $1 ORDER BY o.name",
    )
    .bind(account)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn profile_of(
    pool: &Pool<Db>,
    account: i64,
) -> Result<Option<(String, String, Option<String>)>, StorageError> {
    Ok(sqlx::query_as("SELECT last_name, first_name, middle_name FROM learning_profiles WHERE account_id = $1")
        .bind(account)
        .fetch_optional(pool)
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

/// Starts a messenger session for an account whose credentials the server checked.
pub(crate) async fn start_session(pool: &Pool<Db>, account: i64, session: &NewSession) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    insert_session(&mut tx, session, account, None).await?;
    tx.commit().await?;
    Ok(())
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

/// The Parta ID a school account is linked to (in any organisation).
pub(crate) async fn account_of_person(pool: &Pool<Db>, person: i64) -> Result<Option<AccountRow>, StorageError> {
    Ok(sqlx::query_as(&format!(
        "{ACCOUNT} WHERE deleted_at IS NULL AND id IN (SELECT lp.account_id FROM profile_links l \
         JOIN learning_profiles lp ON lp.id = l.profile_id WHERE l.person_id = $1) LIMIT 1"
    ))
    .bind(person)
    .fetch_optional(pool)
    .await?)
}

/// Starts a portal session for the school account the proven phone's Parta ID
/// holds: a sign-in by SMS code, which a password lockout does not close.
pub(crate) async fn portal_session_from_proof(
    pool: &Pool<Db>,
    proof_hash: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let phone = take_proof(&mut tx, proof_hash, now).await?;
    let people: Vec<i64> = sqlx::query_scalar(
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
