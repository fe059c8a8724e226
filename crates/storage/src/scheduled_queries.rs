// Scheduled messages, compiled per backend inside `mod scheduled` of
// `mod sqlite` and `mod postgres` (see lib.rs).

use super::messages::access;
use crate::{
    Conflict, DueScheduled, NewScheduled, SCHEDULED_SHOWN_AFTER_SECS, ScheduledChange, ScheduledOutcome,
    ScheduledStatus, ScheduledView, StorageError,
};
use ::messenger::scheduled::{ScheduledState, check_send_at, may_change, may_schedule};

const COLUMNS: &str = "SELECT id, chat_id, account_id, body, send_at, reply_to, mentions, state, failure, message_id \
     FROM scheduled_messages";

#[derive(sqlx::FromRow)]
struct ScheduledRow {
    id: i64,
    chat_id: i64,
    account_id: i64,
    body: String,
    send_at: i64,
    reply_to: Option<i64>,
    mentions: String,
    state: String,
    failure: Option<String>,
    message_id: Option<i64>,
}

impl ScheduledRow {
    fn state(&self) -> Result<ScheduledState, StorageError> {
        ScheduledState::parse(&self.state)
            .ok_or_else(|| StorageError::Encoding(format!("scheduled message state {:?}", self.state)))
    }

    fn view(self) -> Result<ScheduledView, StorageError> {
        let state = match self.state()? {
            ScheduledState::Pending | ScheduledState::Sending => ScheduledStatus::Pending,
            ScheduledState::Sent => ScheduledStatus::Sent,
            ScheduledState::Failed => ScheduledStatus::Failed,
            ScheduledState::Cancelled => ScheduledStatus::Cancelled,
        };
        Ok(ScheduledView {
            id: self.id,
            chat: self.chat_id,
            text: self.body,
            send_at: self.send_at,
            reply_to: self.reply_to,
            mentions: split_ids(&self.mentions),
            state,
            failure: self.failure,
            message: self.message_id,
        })
    }
}

fn join_ids(ids: &[i64]) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

fn split_ids(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|p| p.parse().ok()).collect()
}

async fn by_id(conn: &mut Conn, id: i64) -> Result<Option<ScheduledRow>, StorageError> {
    Ok(sqlx::query_as(&format!("{COLUMNS} WHERE id = $1")).bind(id).fetch_optional(conn).await?)
}

pub(crate) async fn schedule(pool: &Pool<Db>, new: &NewScheduled) -> Result<ScheduledView, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, new.chat_id, new.account_id).await?;
    let retried: Option<ScheduledRow> =
        sqlx::query_as(&format!("{COLUMNS} WHERE chat_id = $1 AND account_id = $2 AND client_id = $3"))
            .bind(new.chat_id)
            .bind(new.account_id)
            .bind(new.client_id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(first) = retried {
        return first.view();
    }
    check_send_at(new.send_at, new.now).map_err(StorageError::ScheduleRefused)?;
    ::messenger::may_post(&me.chat, &me.member(new.now)).map_err(StorageError::Refused)?;
    if let Some(reply) = new.reply_to {
        let in_chat: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND chat_id = $2")
            .bind(reply)
            .bind(new.chat_id)
            .fetch_optional(&mut *tx)
            .await?;
        if in_chat.is_none() {
            return Err(StorageError::Conflict(Conflict::ReplyOutsideChat));
        }
    }
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM scheduled_messages WHERE account_id = $1 AND state IN ('pending', 'sending')",
    )
    .bind(new.account_id)
    .fetch_one(&mut *tx)
    .await?;
    may_schedule(pending).map_err(StorageError::ScheduleRefused)?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scheduled_messages (chat_id, account_id, person_id, client_id, body, reply_to, mentions, \
           send_at, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $9) RETURNING id",
    )
    .bind(new.chat_id)
    .bind(new.account_id)
    .bind(me.person_id)
    .bind(new.client_id.as_str())
    .bind(new.text.as_str())
    .bind(new.reply_to)
    .bind(join_ids(&new.mentions))
    .bind(new.send_at)
    .bind(new.now)
    .fetch_one(&mut *tx)
    .await?;
    let row = by_id(&mut tx, id).await?.ok_or(StorageError::NotFound)?;
    tx.commit().await?;
    row.view()
}

pub(crate) async fn in_chat(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    now: i64,
) -> Result<Vec<ScheduledView>, StorageError> {
    let mut conn = pool.acquire().await?;
    access(&mut *conn, chat, account).await?;
    let rows: Vec<ScheduledRow> = sqlx::query_as(&format!(
        "{COLUMNS} WHERE chat_id = $1 AND account_id = $2 AND (state IN ('pending', 'sending') \
           OR (state IN ('sent', 'failed') AND updated_at >= $3)) ORDER BY send_at, id"
    ))
    .bind(chat)
    .bind(account)
    .bind(now - SCHEDULED_SHOWN_AFTER_SECS)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(ScheduledRow::view).collect()
}

/// `account`'s pending message `id`, in a chat it still reaches, in the
/// transaction that changes it. Anyone else's is not found.
async fn own_pending(tx: &mut Tx, account: i64, id: i64) -> Result<ScheduledRow, StorageError> {
    let row = by_id(tx, id).await?.filter(|r| r.account_id == account).ok_or(StorageError::NotFound)?;
    access(&mut **tx, row.chat_id, account).await?;
    may_change(row.state()?).map_err(StorageError::ScheduleRefused)?;
    Ok(row)
}

pub(crate) async fn edit(
    pool: &Pool<Db>,
    account: i64,
    id: i64,
    change: &ScheduledChange,
    now: i64,
) -> Result<ScheduledView, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    own_pending(&mut tx, account, id).await?;
    if let Some(at) = change.send_at {
        check_send_at(at, now).map_err(StorageError::ScheduleRefused)?;
    }
    sqlx::query(
        "UPDATE scheduled_messages SET body = COALESCE($1, body), send_at = COALESCE($2, send_at), updated_at = $3 \
         WHERE id = $4 AND state = 'pending'",
    )
    .bind(change.text.as_ref().map(|t| t.as_str().to_string()))
    .bind(change.send_at)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let row = by_id(&mut tx, id).await?.ok_or(StorageError::NotFound)?;
    tx.commit().await?;
    row.view()
}

pub(crate) async fn cancel(pool: &Pool<Db>, account: i64, id: i64, now: i64) -> Result<ScheduledView, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    own_pending(&mut tx, account, id).await?;
    sqlx::query(
        "UPDATE scheduled_messages SET state = 'cancelled', updated_at = $1 WHERE id = $2 AND state = 'pending'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let row = by_id(&mut tx, id).await?.ok_or(StorageError::NotFound)?;
    tx.commit().await?;
    row.view()
}

/// due rows: id, chat, account, client id, body, reply to, mentions, send at
type DueRow = (i64, i64, i64, String, String, Option<i64>, String, i64);

pub(crate) async fn claim_due(pool: &Pool<Db>, now: i64, limit: i64) -> Result<Vec<DueScheduled>, StorageError> {
    const DUE: &str = "SELECT id FROM scheduled_messages WHERE state IN ('pending', 'sending') AND send_at <= $1 \
         ORDER BY send_at, id LIMIT $2";
    // Asked every second, and nearly always nothing is due: find out
    // without taking the write lock.
    let any: Option<i64> = sqlx::query_scalar(DUE).bind(now).bind(1_i64).fetch_optional(pool).await?;
    if any.is_none() {
        return Ok(Vec::new());
    }
    let mut rows: Vec<DueRow> = sqlx::query_as(&format!(
        "UPDATE scheduled_messages SET state = 'sending', updated_at = $1 WHERE id IN ({DUE}) \
         RETURNING id, chat_id, account_id, client_id, body, reply_to, mentions, send_at"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.sort_by_key(|r| (r.7, r.0));
    Ok(rows
        .into_iter()
        .map(|(id, chat_id, account_id, client_id, text, reply_to, mentions, send_at)| DueScheduled {
            id,
            chat_id,
            account_id,
            client_id,
            text,
            reply_to,
            mentions: split_ids(&mentions),
            send_at,
        })
        .collect())
}

pub(crate) async fn release(pool: &Pool<Db>, id: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE scheduled_messages SET state = 'pending' WHERE id = $1 AND state = 'sending'")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn finish(
    pool: &Pool<Db>,
    id: i64,
    outcome: ScheduledOutcome<'_>,
    now: i64,
) -> Result<(), StorageError> {
    let (state, message, failure) = match outcome {
        ScheduledOutcome::Sent(message) => ("sent", Some(message), None),
        ScheduledOutcome::Failed(code) => ("failed", None, Some(code)),
    };
    sqlx::query(
        "UPDATE scheduled_messages SET state = $1, message_id = $2, failure = $3, updated_at = $4 \
         WHERE id = $5 AND state = 'sending'",
    )
    .bind(state)
    .bind(message)
    .bind(failure)
    .bind(now)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}
