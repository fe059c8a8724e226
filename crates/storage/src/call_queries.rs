// Calls: the call rows, their participants and the record message a finished
// call leaves in its chat. Compiled per backend inside `mod calls` of
// `mod sqlite` and `mod postgres` (see lib.rs).

use crate::{Author, CallRecord, Change, EventView, StorageError};
use ::messenger::call::{CallKind, CallOutcome};
use std::collections::HashMap;

/// Call ids per `IN (…)` lookup.
const LOOKUP_CHUNK: usize = 500;

pub(crate) async fn start_call(
    pool: &Pool<Db>,
    chat: i64,
    started_by: i64,
    kind: CallKind,
    node: &str,
    now: i64,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let chats: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM chats WHERE id = $1 AND purged_at IS NULL")
        .bind(chat)
        .fetch_one(&mut *tx)
        .await?;
    if chats == 0 {
        return Err(StorageError::NotFound);
    }
    if let Some(host) = live_call_host(&mut *tx, chat).await? {
        return Err(StorageError::CallLive { node: host });
    }
    let inserted = sqlx::query_scalar(
        "INSERT INTO calls (chat_id, kind, started_by, started_at, node) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(chat)
    .bind(kind.as_str())
    .bind(started_by)
    .bind(now)
    .bind(node)
    .fetch_one(&mut *tx)
    .await;
    let call: i64 = match inserted {
        Ok(call) => call,
        // Another node started one in the same instant (PostgreSQL lets both
        // transactions reach the insert; `calls_live_in_chat` lets one win).
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            drop(tx);
            let host = live_call_host(pool, chat).await?.ok_or(StorageError::NotFound)?;
            return Err(StorageError::CallLive { node: host });
        }
        Err(e) => return Err(e.into()),
    };
    sqlx::query("INSERT INTO call_participants (call_id, person_id, first_joined_at) VALUES ($1, $2, $3)")
        .bind(call)
        .bind(started_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(call)
}

async fn live_call_host<'e, E: sqlx::Executor<'e, Database = Db>>(
    db: E,
    chat: i64,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar("SELECT node FROM calls WHERE chat_id = $1 AND ended_at IS NULL")
        .bind(chat)
        .fetch_optional(db)
        .await?)
}

pub(crate) async fn call_joined(pool: &Pool<Db>, call: i64, person: i64, now: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let row: Option<(i64, Option<i64>)> = sqlx::query_as("SELECT started_by, ended_at FROM calls WHERE id = $1")
        .bind(call)
        .fetch_optional(&mut *tx)
        .await?;
    let (started_by, ended_at) = row.ok_or(StorageError::NotFound)?;
    if ended_at.is_some() {
        return Ok(());
    }
    // A rejoin keeps the first join's time: the participants' order.
    sqlx::query(
        "INSERT INTO call_participants (call_id, person_id, first_joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT (call_id, person_id) DO UPDATE SET last_left_at = NULL",
    )
    .bind(call)
    .bind(person)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if person != started_by {
        sqlx::query("UPDATE calls SET answered_at = $1 WHERE id = $2 AND answered_at IS NULL")
            .bind(now)
            .bind(call)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn call_left(pool: &Pool<Db>, call: i64, person: i64, now: i64) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE call_participants SET last_left_at = $1 \
         WHERE call_id = $2 AND person_id = $3 AND last_left_at IS NULL \
           AND EXISTS (SELECT 1 FROM calls k WHERE k.id = $2 AND k.ended_at IS NULL)",
    )
    .bind(now)
    .bind(call)
    .bind(person)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn finish_call(
    pool: &Pool<Db>,
    call: i64,
    outcome: CallOutcome,
    now: i64,
) -> Result<Option<EventView>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    // Only the first finish writes: the condition and the write are one
    // statement, under the transaction's write lock.
    let ended: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE calls SET ended_at = $1, outcome = $2 WHERE id = $3 AND ended_at IS NULL \
         RETURNING chat_id, started_by",
    )
    .bind(now)
    .bind(outcome.as_str())
    .bind(call)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((chat, started_by)) = ended else {
        let known: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE id = $1").bind(call).fetch_one(&mut *tx).await?;
        return if known == 0 { Err(StorageError::NotFound) } else { Ok(None) };
    };
    sqlx::query("UPDATE call_participants SET last_left_at = $1 WHERE call_id = $2 AND last_left_at IS NULL")
        .bind(now)
        .bind(call)
        .execute(&mut *tx)
        .await?;
    // The record: a message like any other (the chat's next sequence number
    // and a `message` event), with no words to index. Its client id has a
    // ':', which no client's may (`ClientId`), so no send can take it first.
    let seq = super::messages::next_seq(&mut tx, chat).await?;
    let message: i64 = sqlx::query_scalar(
        "INSERT INTO messages (chat_id, seq, author_id, client_id, body, mentions, created_at, call_id) \
         VALUES ($1, $2, $3, $4, '', '', $5, $6) RETURNING id",
    )
    .bind(chat)
    .bind(seq)
    .bind(started_by)
    .bind(format!("call:{call}"))
    .bind(now)
    .bind(call)
    .fetch_one(&mut *tx)
    .await?;
    super::messages::log_event(&mut tx, chat, seq, "message", message, started_by, None, now).await?;
    let view = super::messages::message_by_id(&mut tx, message, None).await?;
    tx.commit().await?;
    Ok(Some(EventView { chat_id: chat, seq, at: now, change: Change::Message(Box::new(view)) }))
}

pub(crate) async fn unfinished_calls(pool: &Pool<Db>, node: Option<&str>) -> Result<Vec<i64>, StorageError> {
    Ok(sqlx::query_scalar("SELECT id FROM calls WHERE ($1 IS NULL OR node = $1) AND ended_at IS NULL ORDER BY id")
        .bind(node)
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn call_chat(pool: &Pool<Db>, call: i64) -> Result<Option<(i64, bool)>, StorageError> {
    Ok(sqlx::query_as("SELECT chat_id, ended_at IS NOT NULL FROM calls WHERE id = $1")
        .bind(call)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn call_host(pool: &Pool<Db>, call: i64) -> Result<Option<(i64, String, bool)>, StorageError> {
    Ok(sqlx::query_as("SELECT chat_id, node, ended_at IS NOT NULL FROM calls WHERE id = $1")
        .bind(call)
        .fetch_optional(pool)
        .await?)
}

pub(crate) async fn live_calls_in(pool: &Pool<Db>, chats: &[i64]) -> Result<Vec<(i64, i64, String)>, StorageError> {
    let mut found = Vec::new();
    for chunk in chats.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, chat_id, node FROM calls WHERE ended_at IS NULL AND chat_id IN (",
        );
        let mut list = q.separated(", ");
        for chat in chunk {
            list.push_bind(*chat);
        }
        q.push(") ORDER BY id");
        found.extend(q.build_query_as().fetch_all(pool).await?);
    }
    Ok(found)
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    kind: String,
    outcome: Option<String>,
    started_at: i64,
    answered_at: Option<i64>,
    ended_at: Option<i64>,
    chat_kind: String,
    person_id: Option<i64>,
    name: Option<String>,
}

/// The records of these finished calls, with their participants, by call
/// id: one query per chunk, whatever the number of calls.
pub(crate) async fn records_of(
    conn: &mut <Db as sqlx::Database>::Connection,
    calls: &[i64],
) -> Result<HashMap<i64, CallRecord>, StorageError> {
    let mut out: HashMap<i64, CallRecord> = HashMap::new();
    for chunk in calls.chunks(LOOKUP_CHUNK) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT k.id, k.kind, k.outcome, k.started_at, k.answered_at, k.ended_at, c.kind AS chat_kind, \
               p.person_id, a.last_name || ' ' || a.first_name || COALESCE(' ' || a.middle_name, '') AS name \
             FROM calls k JOIN chats c ON c.id = k.chat_id \
             LEFT JOIN call_participants p ON p.call_id = k.id LEFT JOIN people a ON a.id = p.person_id \
             WHERE k.ended_at IS NOT NULL AND k.id IN (",
        );
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(") ORDER BY k.id, p.first_joined_at, p.person_id");
        let rows: Vec<RecordRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        for row in rows {
            let record = out.entry(row.id).or_insert_with(|| {
                let ended_at = row.ended_at.unwrap_or(row.started_at);
                let counted_from = if row.chat_kind == "direct" { row.answered_at } else { Some(row.started_at) };
                CallRecord {
                    id: row.id,
                    kind: row.kind.clone(),
                    outcome: row.outcome.clone().unwrap_or_default(),
                    started_at: row.started_at,
                    ended_at,
                    duration: counted_from.map_or(0, |from| (ended_at - from).max(0)),
                    participants: Vec::new(),
                }
            });
            if let (Some(person), Some(name)) = (row.person_id, row.name) {
                record.participants.push(Author { person, name });
            }
        }
    }
    Ok(out)
}
