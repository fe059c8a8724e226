// Web Push subscriptions and targets, compiled per backend inside `mod push`
// of `mod sqlite` and `mod postgres` (see lib.rs).

use super::messages::{MEMBER_JOINS, REACHABLE};
use crate::{NotifySetting, PushAudience, PushDevice, PushTarget, StorageError, SubscriptionTaken};
use ::messenger::notify::Level;

pub(crate) async fn vapid_key(pool: &Pool<Db>, candidate: &str, now: i64) -> Result<String, StorageError> {
    sqlx::query(
        "INSERT INTO push_vapid_key (id, private_key, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(candidate)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(sqlx::query_scalar("SELECT private_key FROM push_vapid_key WHERE id = 1").fetch_one(pool).await?)
}

pub(crate) async fn save(
    pool: &Pool<Db>,
    session: i64,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    now: i64,
) -> Result<Result<i64, SubscriptionTaken>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let same_account: Option<bool> = sqlx::query_scalar(
        "SELECT h.account_id = (SELECT account_id FROM messenger_sessions WHERE id = $2) \
         FROM push_subscriptions s JOIN messenger_sessions h ON h.id = s.session_id WHERE s.endpoint = $1",
    )
    .bind(endpoint)
    .bind(session)
    .fetch_optional(&mut *tx)
    .await?;
    if same_account == Some(false) {
        return Ok(Err(SubscriptionTaken::ByAnotherAccount));
    }
    // One per session (a session is one browser), and the endpoint leaves
    // the Parta ID's earlier session that held it.
    sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1 OR endpoint = $2")
        .bind(session)
        .bind(endpoint)
        .execute(&mut *tx)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO push_subscriptions (session_id, endpoint, p256dh, auth, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(session)
    .bind(endpoint)
    .bind(p256dh)
    .bind(auth)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

pub(crate) async fn delete(pool: &Pool<Db>, account: i64, endpoint: &str) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "DELETE FROM push_subscriptions WHERE endpoint = $1 \
         AND session_id IN (SELECT id FROM messenger_sessions WHERE account_id = $2)",
    )
    .bind(endpoint)
    .bind(account)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn forget(pool: &Pool<Db>, subscription: i64) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(subscription).execute(pool).await?;
    Ok(())
}

pub(crate) async fn any_unread_device(pool: &Pool<Db>, chat: i64, below: i64, now: i64) -> Result<bool, StorageError> {
    let query = format!(
        "SELECT EXISTS (SELECT 1 {MEMBER_JOINS} \
         JOIN messenger_sessions ms ON ms.account_id = p.account_id AND ms.expires_at > $3 \
         JOIN push_subscriptions s ON s.session_id = ms.id \
         WHERE c.id = $1 AND {REACHABLE} AND m.last_read_seq < $2)"
    );
    Ok(sqlx::query_scalar(&query).bind(chat).bind(below).bind(now).fetch_one(pool).await?)
}

/// subscription, endpoint, p256dh, auth, account, person, admin, level, muted_until, previews
type TargetRow = (i64, String, String, String, i64, i64, bool, Option<String>, Option<i64>, bool);

pub(crate) async fn audience(
    pool: &Pool<Db>,
    chat: i64,
    seq: i64,
    author: i64,
    reply_to: Option<i64>,
    now: i64,
) -> Result<Option<PushAudience>, StorageError> {
    // Devices first: most chats have none subscribed, and then the chat's
    // facts are not needed. The author's own Parta ID is left out whichever
    // of its school accounts wrote (a teacher who is also a parent in the chat).
    let query = format!(
        "SELECT s.id, s.endpoint, s.p256dh, s.auth, p.account_id, m.person_id, m.admin, n.level, n.muted_until, \
         a.push_previews {MEMBER_JOINS} JOIN accounts a ON a.id = p.account_id \
         JOIN messenger_sessions ms ON ms.account_id = p.account_id AND ms.expires_at > $4 \
         JOIN push_subscriptions s ON s.session_id = ms.id \
         LEFT JOIN chat_notify n ON n.chat_id = m.chat_id AND n.person_id = m.person_id \
         WHERE c.id = $1 AND {REACHABLE} AND m.last_read_seq < $2 \
         AND p.account_id NOT IN (SELECT ap.account_id FROM profile_links al \
             JOIN learning_profiles ap ON ap.id = al.profile_id WHERE al.person_id = $3) \
         AND NOT EXISTS (SELECT 1 FROM person_blocks b WHERE b.blocker_id = m.person_id AND b.blocked_id = $3) \
         ORDER BY s.id"
    );
    let rows: Vec<TargetRow> =
        sqlx::query_as(&query).bind(chat).bind(seq).bind(author).bind(now).fetch_all(pool).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let facts: Option<(i64, String, String, i64, bool, Option<i64>)> = sqlx::query_as(
        "SELECT c.org_id, c.kind, c.name, \
         (SELECT COUNT(*) FROM chat_members cm WHERE cm.chat_id = c.id AND cm.status = 'active'), \
         COALESCE((SELECT am.admin FROM chat_members am WHERE am.chat_id = c.id AND am.person_id = $2), FALSE), \
         (SELECT r.author_id FROM messages r WHERE r.id = $3 AND r.chat_id = c.id) \
         FROM chats c WHERE c.id = $1",
    )
    .bind(chat)
    .bind(author)
    .bind(reply_to)
    .fetch_optional(pool)
    .await?;
    let Some((org, kind, chat_name, members, author_admin, reply_author)) = facts else { return Ok(None) };
    let targets = rows
        .into_iter()
        .map(|(subscription, endpoint, p256dh, auth, account, person, admin, level, muted_until, previews)| {
            PushTarget {
                device: PushDevice { subscription, endpoint, p256dh, auth, account },
                person,
                admin,
                setting: NotifySetting { level: level.as_deref().and_then(Level::parse), muted_until },
                previews,
            }
        })
        .collect();
    Ok(Some(PushAudience { org, kind, chat_name, members, author_admin, reply_author, targets }))
}

pub(crate) async fn setting(pool: &Pool<Db>, chat: i64, person: i64) -> Result<NotifySetting, StorageError> {
    let row: Option<(Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT level, muted_until FROM chat_notify WHERE chat_id = $1 AND person_id = $2")
            .bind(chat)
            .bind(person)
            .fetch_optional(pool)
            .await?;
    Ok(row.map_or(NotifySetting::default(), |(level, muted_until)| NotifySetting {
        level: level.as_deref().and_then(Level::parse),
        muted_until,
    }))
}

pub(crate) async fn set_setting(
    pool: &Pool<Db>,
    chat: i64,
    person: i64,
    setting: NotifySetting,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO chat_notify (chat_id, person_id, level, muted_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (chat_id, person_id) DO UPDATE SET level = excluded.level, muted_until = excluded.muted_until",
    )
    .bind(chat)
    .bind(person)
    .bind(setting.level.map(Level::as_str))
    .bind(setting.muted_until)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn previews(pool: &Pool<Db>, account: i64) -> Result<bool, StorageError> {
    let shown: Option<bool> = sqlx::query_scalar("SELECT push_previews FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_optional(pool)
        .await?;
    shown.ok_or(StorageError::NotFound)
}

pub(crate) async fn set_previews(pool: &Pool<Db>, account: i64, shown: bool) -> Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET push_previews = $1 WHERE id = $2").bind(shown).bind(account).execute(pool).await?;
    Ok(())
}

pub(crate) async fn devices(pool: &Pool<Db>, accounts: &[i64], now: i64) -> Result<Vec<PushDevice>, StorageError> {
    let mut devices = Vec::new();
    for chunk in accounts.chunks(500) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT s.id, s.endpoint, s.p256dh, s.auth, ms.account_id \
             FROM push_subscriptions s JOIN messenger_sessions ms ON ms.id = s.session_id WHERE ms.expires_at > ",
        );
        q.push_bind(now).push(" AND ms.account_id IN (");
        let mut list = q.separated(", ");
        for account in chunk {
            list.push_bind(*account);
        }
        q.push(") ORDER BY s.id");
        let rows: Vec<(i64, String, String, String, i64)> = q.build_query_as().fetch_all(pool).await?;
        devices.extend(rows.into_iter().map(|(subscription, endpoint, p256dh, auth, account)| PushDevice {
            subscription,
            endpoint,
            p256dh,
            auth,
            account,
        }));
    }
    Ok(devices)
}
