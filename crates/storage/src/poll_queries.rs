// Polls, compiled per backend inside `mod polls` of `mod sqlite` and
// `mod postgres` (see lib.rs).

use super::messages::{access, log_event, next_seq};
use crate::{Change, EventView, NewPoll, PollChanged, PollExport, PollOption, PollView, StorageError};
use ::messenger::polls::{self, PollFacts};
use std::collections::HashMap;

/// A `polls` row: message, multiple, anonymous, closes at, closed at.
type PollRow = (i64, bool, bool, Option<i64>, Option<i64>);

/// Appending a poll's message: its settings and options, in the same transaction.
pub(crate) async fn insert(tx: &mut Tx, message: i64, poll: &NewPoll) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO polls (message_id, multiple, anonymous, closes_at) VALUES ($1, $2, $3, $4)")
        .bind(message)
        .bind(poll.multiple)
        .bind(poll.anonymous)
        .bind(poll.closes_at)
        .execute(&mut **tx)
        .await?;
    let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO poll_options (message_id, idx, text) ");
    q.push_values(poll.options.iter().enumerate(), |mut row, (i, text)| {
        row.push_bind(message).push_bind(i64::try_from(i).unwrap_or(i64::MAX)).push_bind(text.clone());
    });
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// A new poll as its first event shows it: nobody has voted.
pub(crate) fn fresh(poll: &NewPoll) -> PollView {
    PollView {
        multiple: poll.multiple,
        anonymous: poll.anonymous,
        closes_at: poll.closes_at,
        closed_at: None,
        options: poll
            .options
            .iter()
            .map(|text| PollOption { text: text.clone(), votes: 0, people: (!poll.anonymous).then(Vec::new) })
            .collect(),
        voters: 0,
        mine: None,
    }
}

/// The polls among `messages`, with `viewer`'s own choice when given.
pub(crate) async fn views_of(
    conn: &mut Conn,
    messages: &[i64],
    viewer: Option<i64>,
) -> Result<HashMap<i64, PollView>, StorageError> {
    let mut views = HashMap::new();
    if messages.is_empty() {
        return Ok(views);
    }
    let list = |sql: &str| {
        let mut q = sqlx::QueryBuilder::<Db>::new(sql);
        let mut ids = q.separated(", ");
        for id in messages {
            ids.push_bind(*id);
        }
        q.push(")");
        q
    };
    let polls: Vec<PollRow> =
        list("SELECT message_id, multiple, anonymous, closes_at, closed_at FROM polls WHERE message_id IN (")
            .build_query_as()
            .fetch_all(&mut *conn)
            .await?;
    if polls.is_empty() {
        return Ok(views);
    }
    for (id, multiple, anonymous, closes_at, closed_at) in polls {
        let view = PollView { multiple, anonymous, closes_at, closed_at, options: Vec::new(), voters: 0, mine: None };
        views.insert(id, view);
    }
    let mut q = list("SELECT message_id, idx, text FROM poll_options WHERE message_id IN (");
    q.push(" ORDER BY message_id, idx");
    let options: Vec<(i64, i64, String)> = q.build_query_as().fetch_all(&mut *conn).await?;
    for (id, _, text) in options {
        if let Some(v) = views.get_mut(&id) {
            v.options.push(PollOption { text, votes: 0, people: (!v.anonymous).then(Vec::new) });
        }
    }
    let mut q = list("SELECT message_id, idx, person_id FROM poll_votes WHERE message_id IN (");
    q.push(" ORDER BY message_id, at, person_id");
    let votes: Vec<(i64, i64, i64)> = q.build_query_as().fetch_all(&mut *conn).await?;
    let mut voters: HashMap<i64, std::collections::HashSet<i64>> = HashMap::new();
    for (id, idx, person) in votes {
        let Some(v) = views.get_mut(&id) else { continue };
        voters.entry(id).or_default().insert(person);
        if viewer == Some(person) {
            v.mine.get_or_insert_with(Vec::new).push(idx);
        }
        if let Some(option) = usize::try_from(idx).ok().and_then(|i| v.options.get_mut(i)) {
            option.votes += 1;
            // Who chose what, only where the poll is named.
            if let Some(people) = option.people.as_mut() {
                people.push(person);
            }
        }
    }
    for (id, v) in &mut views {
        v.voters = voters.get(id).map_or(0, |s| i64::try_from(s.len()).unwrap_or(i64::MAX));
        if viewer.is_some() {
            v.mine.get_or_insert_with(Vec::new).sort_unstable();
        }
    }
    Ok(views)
}

#[derive(sqlx::FromRow)]
struct Stored {
    multiple: bool,
    anonymous: bool,
    closes_at: Option<i64>,
    closed_at: Option<i64>,
    author_id: i64,
    options: i64,
}

/// A live poll of the chat: its facts, author and whether it is anonymous.
async fn poll_of(conn: &mut Conn, chat: i64, message: i64) -> Result<(PollFacts, i64, bool), StorageError> {
    let row: Option<Stored> = sqlx::query_as(
        "SELECT p.multiple, p.anonymous, p.closes_at, p.closed_at, m.author_id, \
           (SELECT COUNT(*) FROM poll_options o WHERE o.message_id = p.message_id) AS options \
         FROM polls p JOIN messages m ON m.id = p.message_id \
         WHERE p.message_id = $1 AND m.chat_id = $2 AND m.deleted_at IS NULL",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *conn)
    .await?;
    let p = row.ok_or(StorageError::NotFound)?;
    let options = usize::try_from(p.options).unwrap_or(0);
    let facts = PollFacts { options, multiple: p.multiple, closes_at: p.closes_at, closed_at: p.closed_at };
    Ok((facts, p.author_id, p.anonymous))
}

/// Logs the poll's results as they are now as an event in its chat, and
/// clears its unlogged mark. The mark is cleared first: a vote committing
/// meanwhile waits for it (PostgreSQL's row lock) and marks the poll again,
/// so its results are logged by a later call, never lost between the two.
/// Also answers the results as `viewer` sees them (their own choice in it).
async fn log_results(
    mut tx: Tx,
    chat: i64,
    message: i64,
    author: i64,
    viewer: Option<i64>,
    now: i64,
) -> Result<(EventView, PollView), StorageError> {
    sqlx::query("UPDATE polls SET unlogged = FALSE WHERE message_id = $1").bind(message).execute(&mut *tx).await?;
    let seq = next_seq(&mut tx, chat).await?;
    // Under the poll's author: a named poll's voters are not in the log either.
    log_event(&mut tx, chat, seq, "poll", message, author, None, now).await?;
    let poll = views_of(&mut tx, &[message], viewer).await?.remove(&message).ok_or(StorageError::NotFound)?;
    tx.commit().await?;
    let change = Change::Poll { message_id: message, poll: Box::new(poll.clone().for_everyone()) };
    Ok((EventView { chat_id: chat, seq, at: now, change }, poll))
}

/// Logs a poll's results if a vote left them unlogged (or it changed
/// otherwise); `None` for a poll that is gone.
pub(crate) async fn log_unlogged(
    pool: &Pool<Db>,
    chat: i64,
    message: i64,
    now: i64,
) -> Result<Option<EventView>, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let author: Option<i64> = sqlx::query_scalar(
        "SELECT m.author_id FROM polls p JOIN messages m ON m.id = p.message_id \
         WHERE p.message_id = $1 AND m.chat_id = $2 AND m.deleted_at IS NULL",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *tx)
    .await?;
    match author {
        Some(author) => log_results(tx, chat, message, author, None, now).await.map(|(event, _)| Some(event)),
        None => Ok(None),
    }
}

/// The polls whose latest votes no event carries yet: (chat, message).
pub(crate) async fn unlogged(pool: &Pool<Db>) -> Result<Vec<(i64, i64)>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT m.chat_id, p.message_id FROM polls p JOIN messages m ON m.id = p.message_id WHERE p.unlogged",
    )
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn vote(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    choice: &[i64],
    now: i64,
) -> Result<PollView, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    let (facts, _, _) = poll_of(&mut tx, chat, message).await?;
    let chosen = polls::check_vote(&facts, choice, now).map_err(StorageError::VoteRefused)?;
    sqlx::query("DELETE FROM poll_votes WHERE message_id = $1 AND person_id = $2")
        .bind(message)
        .bind(me.person_id)
        .execute(&mut *tx)
        .await?;
    let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO poll_votes (message_id, person_id, idx, at) ");
    q.push_values(chosen, |mut row, i| {
        row.push_bind(message).push_bind(me.person_id).push_bind(i64::try_from(i).unwrap_or(i64::MAX)).push_bind(now);
    });
    q.build().execute(&mut *tx).await?;
    sqlx::query("UPDATE polls SET unlogged = TRUE WHERE message_id = $1").bind(message).execute(&mut *tx).await?;
    let mut poll =
        views_of(&mut tx, &[message], Some(me.person_id)).await?.remove(&message).ok_or(StorageError::NotFound)?;
    tx.commit().await?;
    poll.mine.get_or_insert_with(Vec::new);
    Ok(poll)
}

pub(crate) async fn close(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    now: i64,
) -> Result<PollChanged, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    let (facts, author, _) = poll_of(&mut tx, chat, message).await?;
    polls::may_close(&facts, author == me.person_id, now).map_err(StorageError::VoteRefused)?;
    sqlx::query("UPDATE polls SET closed_at = $1 WHERE message_id = $2")
        .bind(now)
        .bind(message)
        .execute(&mut *tx)
        .await?;
    let (event, mut poll) = log_results(tx, chat, message, author, Some(me.person_id), now).await?;
    poll.mine.get_or_insert_with(Vec::new);
    Ok(PollChanged { event, poll })
}

pub(crate) async fn export(pool: &Pool<Db>, account: i64, chat: i64, message: i64) -> Result<PollExport, StorageError> {
    let mut conn = pool.acquire().await?;
    access(&mut *conn, chat, account).await?;
    let (_, _, anonymous) = poll_of(&mut conn, chat, message).await?;
    let question: String =
        sqlx::query_scalar("SELECT body FROM messages WHERE id = $1").bind(message).fetch_one(&mut *conn).await?;
    let poll = views_of(&mut conn, &[message], None).await?.remove(&message).ok_or(StorageError::NotFound)?;
    let names: HashMap<i64, String> = if anonymous {
        HashMap::new()
    } else {
        sqlx::query_as(
            "SELECT p.id, p.last_name || ' ' || p.first_name FROM poll_votes v JOIN people p ON p.id = v.person_id \
             WHERE v.message_id = $1",
        )
        .bind(message)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect()
    };
    let rows = poll
        .options
        .into_iter()
        .map(|o| {
            let mut people: Vec<String> =
                o.people.unwrap_or_default().iter().filter_map(|p| names.get(p).cloned()).collect();
            people.sort();
            (o.text, o.votes, people)
        })
        .collect();
    Ok(PollExport { question, anonymous, rows })
}
