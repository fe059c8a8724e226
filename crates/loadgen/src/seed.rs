//! A benchmark organisation written straight into a Parta server's database
//! (SQLite, whose WAL lets both in while the server runs, or PostgreSQL): people with roles,
//! Parta IDs with learning profiles linked to them, `custom` chats (the
//! reconciler leaves those alone) whose members are all active, and one
//! messenger session per member with a token this module chose. Everyone is a
//! student with no class, so the reconciler derives no chats for the
//! organisation either: it stays as seeded across restarts.
//!
//! Rows are made in one transaction by `INSERT … SELECT` over a counter, so
//! 50,000 members take seconds; only the session hashes are bound from Rust.
//! Ids are given explicitly from the tables' current maximum: the first
//! statement is a write, so the transaction holds SQLite's write lock (on
//! PostgreSQL, it locks the tables and moves their id sequences on after) and
//! no one else can take those ids meanwhile.

use crate::{Error, Result, unix_now};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, Connection};
use std::path::Path;

/// Sessions last this long from the seed.
const SESSION_DAYS: i64 = 30;
/// Sessions per multi-row INSERT (one bind each).
const SESSIONS_PER_INSERT: usize = 2_000;

/// What was made.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub org: i64,
    /// The chats, in member order: member `i` is in `chats[i / chat_size]`.
    pub chats: Vec<i64>,
    pub members: Vec<Member>,
}

/// A linked member with a messenger session.
#[derive(Debug, Clone)]
pub struct Member {
    /// The school account (the author of what it sends).
    pub person: i64,
    /// The Parta ID.
    pub account: i64,
    /// The Parta ID's link to the school account (what a session is for).
    pub link: i64,
    pub chat: i64,
    /// The session token: the value of the `parta_messenger` cookie.
    pub token: String,
}

/// One line per member: `person chat token`, for `parta-load seed --sessions-out`.
pub fn sessions_file(members: &[Member]) -> String {
    members.iter().map(|m| format!("{} {} {}\n", m.person, m.chat, m.token)).collect()
}

impl Member {
    /// `parta_messenger=<token>`, for the WebSocket handshake and HTTP.
    pub fn cookie(&self) -> String {
        format!("parta_messenger={}", self.token)
    }
}

impl Seeded {
    /// The only chat, for a seed of one chat.
    pub fn chat(&self) -> i64 {
        self.chats.first().copied().unwrap_or_default()
    }
}

/// `sqlite://DIR/parta.db`, the database `parta demo` and `parta serve` keep
/// in their data directory.
pub fn database_url(data_dir: &Path) -> String {
    format!("sqlite://{}/parta.db", data_dir.display())
}

/// One chat of `members` linked members in a new organisation.
pub async fn seed(data_dir: &Path, members: usize) -> Result<Seeded> {
    seed_chats(data_dir, members, members.max(1)).await
}

/// `members` linked members in one new organisation, in chats of
/// `chat_size` (the last one may be smaller).
pub async fn seed_chats(data_dir: &Path, members: usize, chat_size: usize) -> Result<Seeded> {
    if !data_dir.join("parta.db").exists() {
        return Err(Error::Protocol(format!(
            "{} has no parta.db: start `parta demo --data {0}` or `parta serve --data {0}` first",
            data_dir.display()
        )));
    }
    seed_url(&database_url(data_dir), members, chat_size).await
}

/// As [`seed_chats`], for a database URL (`sqlite://…` or `postgres://…`).
pub async fn seed_url(url: &str, members: usize, chat_size: usize) -> Result<Seeded> {
    if members == 0 || chat_size == 0 {
        return Err(Error::Protocol("members and chat size must be at least 1".into()));
    }
    sqlx::any::install_default_drivers();
    let postgres = url.starts_with("postgres");
    let pool = AnyPoolOptions::new().max_connections(1).connect(url).await?;
    let mut conn = pool.acquire().await?;
    let seeded = write(&mut conn, postgres, members, chat_size).await;
    drop(conn);
    pool.close().await;
    seeded
}

/// The tables given explicit ids, whose PostgreSQL sequences move on after.
const NUMBERED: [&str; 5] = ["people", "accounts", "learning_profiles", "profile_links", "chats"];

async fn write(conn: &mut AnyConnection, postgres: bool, members: usize, chat_size: usize) -> Result<Seeded> {
    let now = unix_now();
    let n = i64::try_from(members).map_err(|_| Error::Protocol("too many members".into()))?;
    let size = i64::try_from(chat_size).map_err(|_| Error::Protocol("chat size too large".into()))?;
    let chat_count = (n + size - 1) / size;
    let tokens: Vec<String> = (0..members).map(|_| identity::token::new_token(&mut rand::thread_rng())).collect();

    let mut tx = conn.begin().await?;
    if postgres {
        let tables = NUMBERED.join(", ");
        sqlx::query(&format!("LOCK TABLE orgs, {tables} IN SHARE ROW EXCLUSIVE MODE")).execute(&mut *tx).await?;
    }
    // A write first: from here on this transaction holds the write lock.
    let org: i64 = sqlx::query_scalar(
        "INSERT INTO orgs (source_id, name, kind, chats_enabled) VALUES ($1, $2, 'general_education', TRUE) \
         RETURNING id",
    )
    .bind(format!("loadgen-{now}-{}", &tokens[0][..12]))
    .bind(format!("Нагрузочная школа {now}"))
    .fetch_one(&mut *tx)
    .await?;
    let max = |table: &'static str| format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    let person0: i64 = sqlx::query_scalar(&max("people")).fetch_one(&mut *tx).await?;
    let account0: i64 = sqlx::query_scalar(&max("accounts")).fetch_one(&mut *tx).await?;
    let profile0: i64 = sqlx::query_scalar(&max("learning_profiles")).fetch_one(&mut *tx).await?;
    let link0: i64 = sqlx::query_scalar(&max("profile_links")).fetch_one(&mut *tx).await?;
    let chat0: i64 = sqlx::query_scalar(&max("chats")).fetch_one(&mut *tx).await?;

    // Phones are unique; +7000… is no one's real number.
    let phone = if postgres { "'+7000' || lpad(($2 + i)::text, 8, '0')" } else { "printf('+7000%08d', $2 + i)" };
    // `n` counts 1..=$1; every id below is the table's maximum plus n.
    const COUNTER: &str = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) ";
    let statements: [(String, Vec<i64>); 7] = [
        (
            format!(
                "INSERT INTO people (id, last_name, first_name, search_key) {COUNTER} \
                 SELECT $2 + i, 'Нагрузкин', 'Участник ' || i, 'нагрузкин участник ' || i FROM n"
            ),
            vec![n, person0],
        ),
        (
            format!(
                "INSERT INTO person_roles (person_id, org_id, role) {COUNTER} \
                 SELECT $2 + i, $3, 'student' FROM n"
            ),
            vec![n, person0, org],
        ),
        (
            format!(
                "INSERT INTO accounts (id, phone, last_name, first_name, created_at) {COUNTER} \
                 SELECT $2 + i, {phone}, 'Нагрузкин', 'Участник ' || i, $3 FROM n"
            ),
            vec![n, account0, now],
        ),
        (
            format!(
                "INSERT INTO learning_profiles (id, account_id, last_name, first_name, created_at) {COUNTER} \
                 SELECT $2 + i, $3 + i, 'Нагрузкин', 'Участник ' || i, $4 FROM n"
            ),
            vec![n, profile0, account0, now],
        ),
        (
            format!(
                "INSERT INTO profile_links (id, profile_id, person_id, org_id, linked_at) {COUNTER} \
                 SELECT $2 + i, $3 + i, $4 + i, $5, $6 FROM n"
            ),
            vec![n, link0, profile0, person0, org, now],
        ),
        (
            format!(
                "INSERT INTO chats (id, org_id, kind, name, created_at) {COUNTER} \
                 SELECT $2 + i, $3, 'custom', 'Нагрузка ' || i, $4 FROM n"
            ),
            vec![chat_count, chat0, org, now],
        ),
        (
            // The first member of each chat is its admin.
            format!(
                "INSERT INTO chat_members (chat_id, person_id, admin, source, status, reasons) {COUNTER} \
                 SELECT $2 + 1 + (i - 1) / $4, $3 + i, (i - 1) % $4 = 0, 'manual', 'active', 'parta-load' FROM n"
            ),
            vec![n, chat0, person0, size],
        ),
    ];
    for (sql, binds) in &statements {
        let mut query = sqlx::query(sql);
        for b in binds {
            query = query.bind(*b);
        }
        query.execute(&mut *tx).await?;
    }

    let sessions: Vec<(&str, i64, i64)> =
        tokens.iter().enumerate().map(|(k, t)| (t.as_str(), account0 + k as i64 + 1, link0 + k as i64 + 1)).collect();
    insert_sessions(&mut tx, &sessions, now).await?;
    if postgres {
        for table in NUMBERED {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
    }
    tx.commit().await?;
    if postgres {
        // As after an import: the planner must know the tables grew.
        sqlx::query("ANALYZE").execute(&mut *conn).await?;
    }

    let chats: Vec<i64> = (1..=chat_count).map(|c| chat0 + c).collect();
    let members = tokens
        .into_iter()
        .enumerate()
        .map(|(k, token)| {
            let i = k as i64 + 1;
            let (account, link) = (account0 + i, link0 + i);
            Member { person: person0 + i, account, link, chat: chat0 + 1 + (i - 1) / size, token }
        })
        .collect();
    Ok(Seeded { org, chats, members })
}

/// Messenger sessions (token, account, link), inserted in chunks. Only
/// the hashes are bound (numbered: the Any driver writes `?`, which
/// PostgreSQL does not read); the numbers are ours.
async fn insert_sessions(conn: &mut AnyConnection, sessions: &[(&str, i64, i64)], now: i64) -> Result<()> {
    let expires = now + SESSION_DAYS * 86_400;
    for chunk in sessions.chunks(SESSIONS_PER_INSERT) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|k| {
                let (_, account, link) = chunk[k];
                format!("(${}, {account}, {link}, {now}, {now}, {expires}, 'parta-load')", k + 1)
            })
            .collect();
        let sql = format!(
            "INSERT INTO messenger_sessions (token_hash, account_id, link_id, created_at, last_seen_at, expires_at, \
             user_agent) VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for (token, _, _) in chunk {
            query = query.bind(identity::token::hash(token));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Another device for each of `members`: a second messenger session of the
/// same member (a phone beside the laptop).
pub async fn another_device(data_dir: &Path, members: &[Member]) -> Result<Vec<Member>> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new().max_connections(1).connect(&database_url(data_dir)).await?;
    let mut conn = pool.acquire().await?;
    let devices: Vec<Member> = members
        .iter()
        .map(|m| Member { token: identity::token::new_token(&mut rand::thread_rng()), ..m.clone() })
        .collect();
    let sessions: Vec<(&str, i64, i64)> = devices.iter().map(|m| (m.token.as_str(), m.account, m.link)).collect();
    let mut tx = conn.begin().await?;
    insert_sessions(&mut tx, &sessions, unix_now()).await?;
    tx.commit().await?;
    drop(conn);
    pool.close().await;
    Ok(devices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn members_are_linked_in_their_chats_with_sessions_that_hash_their_tokens() {
        // The server's own migrations make the schema (PostgreSQL with PARTA_TEST_POSTGRES).
        let db = testkit::fresh_db().await;
        let url = db.url.clone();
        let first = seed_url(&url, 5, 2).await.unwrap();
        let second = seed_url(&url, 3, 3).await.unwrap();
        assert_eq!(first.chats.len(), 3);
        assert_eq!(second.chats.len(), 1);
        assert_eq!(first.members[4].chat, first.chats[2]);
        assert!(second.members.iter().all(|m| m.person > first.members[4].person));

        let mut conn = AnyConnection::connect(&url).await.unwrap();
        for m in first.members.iter().chain(&second.members) {
            let (account, status): (i64, String) = sqlx::query_as(
                "SELECT s.account_id, cm.status FROM messenger_sessions s \
                 JOIN learning_profiles p ON p.account_id = s.account_id \
                 JOIN profile_links l ON l.profile_id = p.id AND l.id = s.link_id \
                 JOIN chat_members cm ON cm.person_id = l.person_id \
                 WHERE s.token_hash = $1 AND cm.chat_id = $2",
            )
            .bind(identity::token::hash(&m.token))
            .bind(m.chat)
            .fetch_one(&mut conn)
            .await
            .unwrap();
            assert_eq!((account, status.as_str()), (m.account, "active"));
        }
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM chat_members WHERE admin").fetch_one(&mut conn).await.unwrap();
        assert_eq!(admins, 4);
        // Parta's own inserts go on after the seeded ids (PostgreSQL's sequences moved on).
        let next: i64 = sqlx::query_scalar(
            "INSERT INTO people (last_name, first_name, search_key) VALUES ('После', 'Сида', 'после сида') RETURNING id",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert!(next > second.members[2].person);
        conn.close().await.unwrap();

        let lines = sessions_file(&first.members);
        let parsed: Vec<(i64, i64, &str)> = lines
            .lines()
            .map(|line| {
                let mut fields = line.split(' ');
                let mut number = || fields.next().unwrap().parse::<i64>().unwrap();
                let (person, chat) = (number(), number());
                (person, chat, fields.next().unwrap())
            })
            .collect();
        let expected: Vec<(i64, i64, &str)> =
            first.members.iter().map(|m| (m.person, m.chat, m.token.as_str())).collect();
        assert_eq!(parsed, expected, "one line per member: person, chat, the session token");
        db.finish().await;
    }
}
