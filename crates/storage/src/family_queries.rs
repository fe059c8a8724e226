// Child profiles, compiled per backend inside `mod family` of `mod sqlite` and
// `mod postgres` (see lib.rs). A guardian reaches a child through the
// roster's guardianships of the school accounts their own Parta ID holds.

use super::identity::{
    erase_account, holders, insert_account, insert_link, insert_session, profile_for_account, remove_link,
};
use crate::{
    ChildRow, ChildSchoolRow, Conflict, CreatedChild, ManagedChildRow, MixedHolderRow, NewConsent, NewSession,
    StorageError,
};
use ::identity::event::{IdentityEvent, UnlinkReason};
use roster::{OrgKind, PersonName, chats_availability};

/// The school accounts a Parta ID holds: the people it may act as.
const HELD_PEOPLE: &str = "SELECT l.person_id FROM profile_links l \
     JOIN learning_profiles lp ON lp.id = l.profile_id WHERE lp.account_id = $1";

/// The students whose guardian the Parta ID is, through any school account it holds.
pub(crate) async fn children_of(pool: &Pool<Db>, account: i64, now: i64) -> Result<Vec<ChildRow>, StorageError> {
    let children: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(&format!(
        "SELECT DISTINCT p.id, p.last_name, p.first_name, p.middle_name FROM guardianships g \
         JOIN people p ON p.id = g.student_id WHERE p.active AND g.guardian_id IN ({HELD_PEOPLE}) \
         ORDER BY p.last_name, p.first_name, p.id"
    ))
    .bind(account)
    .fetch_all(pool)
    .await?;
    let mut rows = Vec::with_capacity(children.len());
    for (person_id, last_name, first_name, middle_name) in children {
        let schools = schools_of(pool, person_id).await?;
        let (managed, linked, shared) = link_state(pool, person_id, now).await?;
        rows.push(ChildRow { person_id, last_name, first_name, middle_name, schools, managed, linked, shared });
    }
    Ok(rows)
}

async fn schools_of(pool: &Pool<Db>, child: i64) -> Result<Vec<ChildSchoolRow>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT o.id AS org_id, o.name AS org_name, o.kind AS org_kind, o.chats_enabled, \
           (SELECT c.name FROM enrollments e JOIN classes c ON c.id = e.class_id WHERE e.person_id = r.person_id \
              AND e.role = 'student' AND e.active AND c.active AND c.org_id = o.id ORDER BY c.id DESC LIMIT 1) AS class_name \
         FROM person_roles r JOIN orgs o ON o.id = r.org_id \
         WHERE r.person_id = $1 AND r.role = 'student' AND o.active ORDER BY o.name",
    )
    .bind(child)
    .fetch_all(pool)
    .await?)
}

/// (the child profile, if the child has one; whether the child is linked at
/// all; whether the Parta ID it is linked to also holds somebody else's).
async fn link_state(
    pool: &Pool<Db>,
    child: i64,
    now: i64,
) -> Result<(Option<ManagedChildRow>, bool, bool), StorageError> {
    let account: Option<i64> = sqlx::query_scalar(
        "SELECT lp.account_id FROM profile_links l JOIN learning_profiles lp ON lp.id = l.profile_id \
         WHERE l.person_id = $1 LIMIT 1",
    )
    .bind(child)
    .fetch_optional(pool)
    .await?;
    let Some(account) = account else { return Ok((None, false, false)) };
    let managed: Option<ManagedChildRow> = sqlx::query_as(
        "SELECT cp.account_id, cp.created_at, g.last_name AS created_by_last, g.first_name AS created_by_first, \
           a.login, (a.password_hash IS NOT NULL) AS has_password, a.phone, \
           (SELECT COUNT(*) FROM messenger_sessions s WHERE s.account_id = a.id AND s.expires_at > $2) AS devices \
         FROM child_profiles cp JOIN accounts a ON a.id = cp.account_id JOIN people g ON g.id = cp.created_by \
         WHERE cp.account_id = $1 AND a.deleted_at IS NULL",
    )
    .bind(account)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    let others: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM ({HELD_PEOPLE}) h WHERE h.person_id <> $2"))
        .bind(account)
        .bind(child)
        .fetch_one(pool)
        .await?;
    Ok((managed, true, others > 0))
}

/// The guardian's school account through which `account` reaches `child`.
async fn guardian_of(tx: &mut Tx, account: i64, child: i64) -> Result<i64, StorageError> {
    let guardian: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT g.guardian_id FROM guardianships g JOIN people p ON p.id = g.student_id \
         WHERE g.student_id = $2 AND p.active AND g.guardian_id IN ({HELD_PEOPLE}) ORDER BY g.guardian_id LIMIT 1"
    ))
    .bind(account)
    .bind(child)
    .fetch_optional(&mut **tx)
    .await?;
    guardian.ok_or(StorageError::NotFound)
}

/// Makes a child's own Parta ID (no phone) and links the child's school
/// accounts in every school of theirs with chats; records the consent. A child
/// linked to a Parta ID shared with adults (made before the family rules)
/// leaves it for the new one; a child with a Parta ID of their own is refused;
/// a child who has a child profile already gets it back (`created: false`).
pub(crate) async fn create_child_profile(
    pool: &Pool<Db>,
    guardian_account: i64,
    child: i64,
    consent: &NewConsent,
    now: i64,
) -> Result<CreatedChild, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let guardian = guardian_of(&mut tx, guardian_account, child).await?;
    let existing: Option<i64> = sqlx::query_scalar("SELECT account_id FROM child_profiles WHERE child_id = $1")
        .bind(child)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(account_id) = existing {
        return Ok(CreatedChild { account_id, orgs: Vec::new(), left: None, created: false });
    }
    let (mut orgs, left) = leave_shared_parta_id(&mut tx, child, now).await?;

    let (last, first, middle): (String, String, Option<String>) =
        sqlx::query_as("SELECT last_name, first_name, middle_name FROM people WHERE id = $1")
            .bind(child)
            .fetch_one(&mut *tx)
            .await?;
    let name =
        PersonName::parse(&last, &first, middle.as_deref()).map_err(|e| StorageError::Encoding(e.to_string()))?;
    let schools: Vec<(i64, String, bool)> = sqlx::query_as(
        "SELECT o.id, o.kind, o.chats_enabled FROM person_roles r JOIN orgs o ON o.id = r.org_id \
         WHERE r.person_id = $1 AND r.role = 'student' AND o.active ORDER BY o.id",
    )
    .bind(child)
    .fetch_all(&mut *tx)
    .await?;
    let with_chats: Vec<i64> = schools
        .into_iter()
        .filter(|(_, kind, enabled)| {
            chats_availability(OrgKind::parse(kind).unwrap_or(OrgKind::Other), *enabled).is_ok()
        })
        .map(|(org, _, _)| org)
        .collect();
    if with_chats.is_empty() {
        return Err(StorageError::Conflict(Conflict::NoChatsForChild));
    }

    let account_id = insert_account(&mut tx, None, &name, now).await?;
    let profile = profile_for_account(&mut tx, account_id, now).await?;
    record_child_profile(&mut tx, account_id, child, guardian, consent, now).await?;
    for &org in &with_chats {
        insert_link(&mut tx, profile, child, org, now).await?;
    }
    tx.commit().await?;
    orgs.extend(with_chats);
    orgs.sort_unstable();
    orgs.dedup();
    Ok(CreatedChild { account_id, orgs, left, created: true })
}

/// Marks `account` as `child`'s profile made by `guardian`, with the consent.
async fn record_child_profile(
    tx: &mut Tx,
    account: i64,
    child: i64,
    guardian: i64,
    consent: &NewConsent,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO child_profiles (account_id, child_id, created_by, created_at) VALUES ($1, $2, $3, $4)")
        .bind(account)
        .bind(child)
        .bind(guardian)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO guardian_consents (account_id, child_id, guardian_id, guardian_name, version, wording, given_at) \
         SELECT $1, $2, p.id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, ''), $4, $5, $6 \
         FROM people p WHERE p.id = $3",
    )
    .bind(account)
    .bind(child)
    .bind(guardian)
    .bind(consent.version)
    .bind(consent.wording)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A child registered on a parent's phone: the Parta ID `account` holds only
/// the child, and `guardian` (a guardian of that child) has just proven the
/// phone. The Parta ID becomes the child's profile, managed by guardians,
/// with its chats and history; the phone is freed for the guardian's own.
pub(crate) async fn free_phone_from_child(
    tx: &mut Tx,
    account: i64,
    guardian: i64,
    consent: &NewConsent,
    now: i64,
) -> Result<(), StorageError> {
    let profile: Option<i64> = sqlx::query_scalar("SELECT id FROM learning_profiles WHERE account_id = $1")
        .bind(account)
        .fetch_optional(&mut **tx)
        .await?;
    let holders = match profile {
        Some(profile) => holders(tx, profile).await?,
        None => Vec::new(),
    };
    let child = match holders.as_slice() {
        [first, rest @ ..] if first.student && rest.iter().all(|h| h.person_id == first.person_id) => first.person_id,
        _ => return Err(StorageError::Conflict(Conflict::NotYourChild)),
    };
    let guardian_of_child: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM guardianships WHERE guardian_id = $1 AND student_id = $2)")
            .bind(guardian)
            .bind(child)
            .fetch_one(&mut **tx)
            .await?;
    if !guardian_of_child {
        return Err(StorageError::Conflict(Conflict::NotYourChild));
    }
    sqlx::query("UPDATE accounts SET phone = NULL WHERE id = $1").bind(account).execute(&mut **tx).await?;
    record_child_profile(tx, account, child, guardian, consent, now).await
}

/// Takes the child's school accounts out of a Parta ID shared with other
/// people; returns the organisations they left and that Parta ID. One that is
/// the child's alone is the child's: refused.
async fn leave_shared_parta_id(tx: &mut Tx, child: i64, now: i64) -> Result<(Vec<i64>, Option<i64>), StorageError> {
    let links: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT id, org_id, profile_id FROM profile_links WHERE person_id = $1")
            .bind(child)
            .fetch_all(&mut **tx)
            .await?;
    let Some(&(_, _, profile)) = links.first() else { return Ok((Vec::new(), None)) };
    if holders(tx, profile).await?.iter().all(|h| h.person_id == child) {
        return Err(StorageError::Conflict(Conflict::ChildHasOwnParta));
    }
    let mut left = Vec::with_capacity(links.len());
    for (link_id, org_id, profile_id) in links {
        let event = IdentityEvent::ProfileUnlinked {
            org_id,
            person_id: child,
            profile_id,
            reason: UnlinkReason::MovedToChildProfile,
        };
        remove_link(tx, link_id, event, now).await?;
        left.push(org_id);
    }
    let account: i64 = sqlx::query_scalar("SELECT account_id FROM learning_profiles WHERE id = $1")
        .bind(profile)
        .fetch_one(&mut **tx)
        .await?;
    Ok((left, Some(account)))
}

/// The child profile a guardian manages: `NotFound` unless the Parta ID is a
/// guardian of the child and the child has one.
pub(crate) async fn managed_child(pool: &Pool<Db>, guardian_account: i64, child: i64) -> Result<i64, StorageError> {
    let account: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT cp.account_id FROM child_profiles cp JOIN accounts a ON a.id = cp.account_id \
         JOIN people p ON p.id = cp.child_id \
         WHERE cp.child_id = $2 AND a.deleted_at IS NULL AND p.active AND EXISTS (SELECT 1 FROM guardianships g \
           WHERE g.student_id = $2 AND g.guardian_id IN ({HELD_PEOPLE}))"
    ))
    .bind(guardian_account)
    .bind(child)
    .fetch_optional(pool)
    .await?;
    account.ok_or(StorageError::NotFound)
}

/// The organisations a child profile is linked in, with the child's school account.
pub(crate) async fn child_links(pool: &Pool<Db>, child_account: i64) -> Result<Vec<(i64, i64)>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT l.org_id, l.person_id FROM profile_links l JOIN learning_profiles lp ON lp.id = l.profile_id \
         WHERE lp.account_id = $1 ORDER BY l.org_id",
    )
    .bind(child_account)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn create_child_code(
    pool: &Pool<Db>,
    code_hash: &str,
    child_account: i64,
    guardian_account: i64,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO child_sign_in_codes (code_hash, account_id, created_by, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(code_hash)
    .bind(child_account)
    .bind(guardian_account)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Exchanges a child's one-time code for a messenger session; `None` when
/// the code is unknown, used or expired.
pub(crate) async fn session_from_child_code(
    pool: &Pool<Db>,
    code_hash: &str,
    session: &NewSession,
) -> Result<Option<i64>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let account: Option<i64> = sqlx::query_scalar(
        "UPDATE child_sign_in_codes SET used = TRUE WHERE code_hash = $1 AND NOT used AND expires_at > $2 \
         RETURNING account_id",
    )
    .bind(code_hash)
    .bind(session.now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(account) = account else { return Ok(None) };
    insert_session(&mut tx, session, account, None).await?;
    tx.commit().await?;
    Ok(Some(account))
}

/// Sets the login and password a child signs in with.
pub(crate) async fn set_child_login(
    pool: &Pool<Db>,
    child_account: i64,
    login: &str,
    password_hash: &str,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET login = $1, password_hash = $2 WHERE id = $3 AND deleted_at IS NULL")
        .bind(login)
        .bind(password_hash)
        .bind(child_account)
        .execute(pool)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(Conflict::LoginTaken),
            _ => e.into(),
        })?;
    Ok(())
}

/// Erases a child profile: the child leaves every chat and every device, the
/// messages stay with the school account. The consent record stays.
pub(crate) async fn delete_child_profile(pool: &Pool<Db>, child_account: i64, now: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    erase_account(&mut tx, child_account, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Every school account on a Parta ID shared by more than one person, for the
/// report of mixes the family rules now forbid (`identity::family::is_mixed`
/// decides which are).
pub(crate) async fn shared_parta_ids(pool: &Pool<Db>) -> Result<Vec<MixedHolderRow>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT lp.account_id, a.phone, l.person_id, p.last_name, p.first_name, l.org_id, o.name AS org_name, \
           EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = l.person_id AND r.org_id = l.org_id \
             AND r.role = 'student') AS student \
         FROM profile_links l JOIN learning_profiles lp ON lp.id = l.profile_id JOIN accounts a ON a.id = lp.account_id \
         JOIN people p ON p.id = l.person_id JOIN orgs o ON o.id = l.org_id \
         WHERE lp.account_id IN (SELECT lp2.account_id FROM profile_links l2 \
           JOIN learning_profiles lp2 ON lp2.id = l2.profile_id GROUP BY lp2.account_id \
           HAVING COUNT(DISTINCT l2.person_id) > 1) \
         ORDER BY lp.account_id, p.last_name, p.first_name, l.org_id",
    )
    .fetch_all(pool)
    .await?)
}
