// Read receipts for chat admins, compiled per backend inside `mod receipts`
// of `mod sqlite` and `mod postgres` (see lib.rs).

use super::messages::access;
use crate::{ReceiptCount, ReceiptCounts, ReceiptPerson, ReceiptReader, ReceiptReport, Reminded, StorageError};
use ::messenger::receipts::{self, Reader, Unit};
use std::collections::HashMap;

/// The newest messages a count covers.
const COUNTED: i64 = 200;

/// A read position moved: when, for the times the admins' list shows.
pub(crate) async fn mark(tx: &mut Tx, chat: i64, person: i64, seq: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO read_marks (chat_id, person_id, seq, at) VALUES ($1, $2, $3, $4)")
        .bind(chat)
        .bind(person)
        .bind(seq)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Who a chat's messages are counted over.
struct Audience {
    unit: Unit,
    members: Vec<i64>,
    families: Vec<Reader>,
    names: HashMap<i64, String>,
    read_seq: HashMap<i64, i64>,
}

impl Audience {
    fn readers(&self, author: i64) -> Vec<Reader> {
        receipts::readers(self.unit, author, &self.members, &self.families)
    }
}

async fn audience(conn: &mut Conn, chat: i64) -> Result<Audience, StorageError> {
    let kind: String =
        sqlx::query_scalar("SELECT kind FROM chats WHERE id = $1").bind(chat).fetch_one(&mut *conn).await?;
    let unit = Unit::of_chat(&kind);
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT m.person_id, m.last_read_seq, p.last_name || ' ' || p.first_name FROM chat_members m \
         JOIN people p ON p.id = m.person_id WHERE m.chat_id = $1 AND m.status = 'active' \
         ORDER BY p.last_name, p.first_name, p.id",
    )
    .bind(chat)
    .fetch_all(&mut *conn)
    .await?;
    let mut names = HashMap::with_capacity(rows.len());
    let mut read_seq = HashMap::with_capacity(rows.len());
    let mut members = Vec::with_capacity(rows.len());
    for (person, seq, name) in rows {
        members.push(person);
        read_seq.insert(person, seq);
        names.insert(person, name);
    }
    let mut families: Vec<Reader> = Vec::new();
    if unit == Unit::Family {
        // The class's students with their guardians who are in the chat.
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT s.id, s.last_name || ' ' || s.first_name, g.guardian_id FROM chats c \
             JOIN enrollments e ON e.class_id = c.class_id AND e.role = 'student' AND e.active \
             JOIN people s ON s.id = e.person_id AND s.active \
             JOIN guardianships g ON g.student_id = s.id \
             JOIN chat_members m ON m.chat_id = c.id AND m.person_id = g.guardian_id AND m.status = 'active' \
             WHERE c.id = $1 ORDER BY s.last_name, s.first_name, s.id, g.guardian_id",
        )
        .bind(chat)
        .fetch_all(&mut *conn)
        .await?;
        for (student, name, guardian) in rows {
            match families.last_mut() {
                Some(f) if f.key == student => f.people.push(guardian),
                _ => families.push(Reader { key: student, people: vec![guardian] }),
            }
            names.insert(student, name);
        }
    }
    Ok(Audience { unit, members, families, names, read_seq })
}

/// The viewer may see receipts in the chat: an admin of it.
async fn admin_access(conn: &mut Conn, chat: i64, account: i64) -> Result<(), StorageError> {
    let me = access(&mut *conn, chat, account).await?;
    receipts::may_see(me.admin).map_err(StorageError::Refused)
}

/// A live message of the chat: its sequence number and author.
async fn message_of(conn: &mut Conn, chat: i64, message: i64) -> Result<(i64, i64), StorageError> {
    sqlx::query_as(
        "SELECT seq, author_id FROM messages WHERE id = $1 AND chat_id = $2 AND deleted_at IS NULL AND call_id IS NULL",
    )
    .bind(message)
    .bind(chat)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StorageError::NotFound)
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(crate) async fn counts(pool: &Pool<Db>, account: i64, chat: i64, from: i64) -> Result<ReceiptCounts, StorageError> {
    let mut conn = pool.acquire().await?;
    admin_access(&mut conn, chat, account).await?;
    let audience = audience(&mut conn, chat).await?;
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT id, seq, author_id FROM messages WHERE chat_id = $1 AND seq >= $2 AND deleted_at IS NULL \
         AND call_id IS NULL ORDER BY seq DESC LIMIT $3",
    )
    .bind(chat)
    .bind(from)
    .bind(COUNTED)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_author: HashMap<i64, Vec<Reader>> = HashMap::new();
    let messages = rows
        .into_iter()
        .map(|(message, seq, author)| {
            let readers = by_author.entry(author).or_insert_with(|| audience.readers(author));
            let tally = receipts::tally(readers, author, seq, &audience.read_seq);
            ReceiptCount { message, seq, read: count(tally.read), total: count(tally.total) }
        })
        .collect();
    Ok(ReceiptCounts { unit: audience.unit.as_str().into(), messages })
}

/// Where a «Напомнить» is recorded: the same rows for a message's readers
/// and for a consent form's families, in a table of each's own.
#[derive(Clone, Copy)]
pub(super) enum Reminders {
    Read,
    Consent,
}

impl Reminders {
    fn table(self) -> &'static str {
        match self {
            Reminders::Read => "message_reminders",
            Reminders::Consent => "consent_reminders",
        }
    }
}

/// When `message` was last reminded of.
pub(super) async fn last_reminder(
    conn: &mut Conn,
    reminders: Reminders,
    message: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!("SELECT MAX(at) FROM {} WHERE message_id = $1", reminders.table()))
        .bind(message)
        .fetch_one(&mut *conn)
        .await
}

/// Records that `by` reminded `people` of `message` and commits: the Parta
/// IDs the reminder goes to, and when the next one may.
pub(super) async fn record_reminder(
    mut tx: Tx,
    reminders: Reminders,
    chat: i64,
    message: i64,
    by: i64,
    mut people: Vec<i64>,
    now: i64,
) -> Result<Reminded, StorageError> {
    people.sort_unstable();
    people.dedup();
    let accounts = accounts_of(&mut tx, chat, &people).await?;
    let insert =
        format!("INSERT INTO {} (message_id, person_id, recipients, at) VALUES ($1, $2, $3, $4)", reminders.table());
    sqlx::query(&insert).bind(message).bind(by).bind(count(people.len())).bind(now).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(Reminded::Sent { accounts, people: count(people.len()), next_at: now + receipts::REMIND_EVERY })
}

pub(crate) async fn report(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
) -> Result<ReceiptReport, StorageError> {
    let mut conn = pool.acquire().await?;
    admin_access(&mut conn, chat, account).await?;
    let (seq, author) = message_of(&mut conn, chat, message).await?;
    let audience = audience(&mut conn, chat).await?;
    let times: HashMap<i64, i64> =
        sqlx::query_as("SELECT person_id, MIN(at) FROM read_marks WHERE chat_id = $1 AND seq >= $2 GROUP BY person_id")
            .bind(chat)
            .bind(seq)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let name = |id: i64| audience.names.get(&id).cloned().unwrap_or_default();
    let mut readers: Vec<ReceiptReader> = audience
        .readers(author)
        .iter()
        .map(|r| ReceiptReader {
            id: r.key,
            name: name(r.key),
            read: receipts::has_read(r, author, seq, &audience.read_seq),
            people: r
                .people
                .iter()
                .map(|p| {
                    let read = *p == author || audience.read_seq.get(p).is_some_and(|s| *s >= seq);
                    ReceiptPerson { person: *p, name: name(*p), read, read_at: times.get(p).copied().filter(|_| read) }
                })
                .collect(),
        })
        .collect();
    // Those still to read come first: they are what the admin opens this for.
    readers.sort_by_key(|r| r.read);
    let read = count(readers.iter().filter(|r| r.read).count());
    let reminded_at = last_reminder(&mut conn, Reminders::Read, message).await?;
    let next_reminder_at = reminded_at.map(|at| at + receipts::REMIND_EVERY);
    Ok(ReceiptReport {
        message,
        unit: audience.unit.as_str().into(),
        read,
        total: count(readers.len()),
        readers,
        reminded_at,
        next_reminder_at,
    })
}

pub(crate) async fn remind(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    message: i64,
    now: i64,
) -> Result<Reminded, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let me = access(&mut *tx, chat, account).await?;
    receipts::may_see(me.admin).map_err(StorageError::Refused)?;
    let (seq, author) = message_of(&mut tx, chat, message).await?;
    if let Err(wait) = receipts::may_remind(last_reminder(&mut tx, Reminders::Read, message).await?, now) {
        return Ok(Reminded::TooSoon { retry_after: wait });
    }
    let audience = audience(&mut tx, chat).await?;
    let people: Vec<i64> = audience
        .readers(author)
        .iter()
        .filter(|r| !receipts::has_read(r, author, seq, &audience.read_seq))
        .flat_map(|r| r.people.iter().copied())
        .collect();
    record_reminder(tx, Reminders::Read, chat, message, me.person_id, people, now).await
}

/// The Parta IDs holding these school accounts of the chat's organisation:
/// whom a reminder reaches.
pub(crate) async fn accounts_of(conn: &mut Conn, chat: i64, people: &[i64]) -> Result<Vec<i64>, sqlx::Error> {
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT DISTINCT lp.account_id FROM profile_links l JOIN learning_profiles lp ON lp.id = l.profile_id \
         JOIN chats c ON c.org_id = l.org_id WHERE c.id = ",
    );
    q.push_bind(chat).push(" AND l.person_id IN (");
    let mut list = q.separated(", ");
    list.push_bind(0_i64);
    for p in people {
        list.push_bind(*p);
    }
    q.push(")");
    q.build_query_scalar().fetch_all(&mut *conn).await
}
