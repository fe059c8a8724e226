// Full-text search: the index, kept in the transactions that append, edit
// and delete messages, and the search itself. Compiled per backend inside
// `mod search` of `mod sqlite` and `mod postgres` (see lib.rs); the one
// difference is `SEARCH_FTS5`: SQLite indexes terms stemmed here, in an FTS5
// table, each prefixed by its chat; PostgreSQL indexes text folded here with
// its own `russian` configuration.

use crate::{Author, SearchFilter, SearchHit, StorageError};
use std::collections::HashMap;

/// Characters of a result's snippet.
const SNIPPET_CHARS: usize = 160;
/// Rows per multi-row index insert.
const INDEX_CHUNK: usize = 500;

/// A message's text as the index takes it: its words and its files' names.
pub(crate) struct Indexed<'a> {
    pub id: i64,
    pub chat: i64,
    pub text: &'a str,
    pub names: Vec<String>,
}

impl Indexed<'_> {
    fn all_text(&self) -> String {
        let mut all = self.text.to_string();
        for n in &self.names {
            all.push(' ');
            all.push_str(n);
        }
        all
    }

    /// SQLite: "<chat>_<stem>" per word.
    fn terms(&self) -> String {
        let chat = self.chat;
        ::search::terms(&self.all_text()).into_iter().map(|t| format!("{chat}_{t}")).collect::<Vec<_>>().join(" ")
    }
}

pub(crate) async fn index(tx: &mut Tx, messages: &[Indexed<'_>]) -> Result<(), StorageError> {
    for chunk in messages.chunks(INDEX_CHUNK) {
        if SEARCH_FTS5 {
            let rows: Vec<(i64, String)> =
                chunk.iter().map(|m| (m.id, m.terms())).filter(|(_, terms)| !terms.is_empty()).collect();
            if rows.is_empty() {
                continue;
            }
            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO message_fts (rowid, terms) ");
            q.push_values(rows, |mut row, (id, terms)| {
                row.push_bind(id).push_bind(terms);
            });
            q.build().execute(&mut **tx).await?;
        } else {
            let mut q = sqlx::QueryBuilder::<Db>::new("INSERT INTO message_search (message_id, chat_id, tsv) ");
            q.push_values(chunk, |mut row, m| {
                row.push_bind(m.id)
                    .push_bind(m.chat)
                    .push("to_tsvector('russian', ")
                    .push_bind_unseparated(::search::folded_words(&m.all_text()))
                    .push_unseparated(")");
            });
            q.build().execute(&mut **tx).await?;
        }
    }
    Ok(())
}

pub(crate) async fn unindex(tx: &mut Tx, message: i64) -> Result<(), StorageError> {
    let sql = if SEARCH_FTS5 {
        "DELETE FROM message_fts WHERE rowid = $1"
    } else {
        "DELETE FROM message_search WHERE message_id = $1"
    };
    sqlx::query(sql).bind(message).execute(&mut **tx).await?;
    Ok(())
}

/// An edit: the message's new words replace its old ones.
pub(crate) async fn reindex(tx: &mut Tx, message: i64, chat: i64, text: &str) -> Result<(), StorageError> {
    unindex(tx, message).await?;
    let names = super::files::names_of(tx, message).await?;
    index(tx, &[Indexed { id: message, chat, text, names }]).await
}

/// Indexes, newest first and a chunk per transaction, the messages written
/// before the index existed.
pub(crate) async fn backfill(pool: &Pool<Db>) -> Result<u64, StorageError> {
    const CHUNK: i64 = 2_000;
    let mut done = 0;
    loop {
        let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
        let up_to: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(up_to), 0) FROM search_backfill").fetch_one(&mut *tx).await?;
        if up_to <= 0 {
            tx.commit().await?;
            return Ok(done);
        }
        let rows: Vec<(i64, i64, String)> =
            sqlx::query_as("SELECT id, chat_id, body FROM messages WHERE id <= $1 ORDER BY id DESC LIMIT $2")
                .bind(up_to)
                .bind(CHUNK)
                .fetch_all(&mut *tx)
                .await?;
        let next = if (rows.len() as i64) < CHUNK { 0 } else { rows.last().map_or(0, |r| r.0 - 1) };
        let live: Vec<Indexed<'_>> = rows
            .iter()
            .filter(|r| !r.2.is_empty())
            .map(|(id, chat, body)| Indexed { id: *id, chat: *chat, text: body, names: Vec::new() })
            .collect();
        index(&mut tx, &live).await?;
        done += live.len() as u64;
        sqlx::query("UPDATE search_backfill SET up_to = $1").bind(next).execute(&mut *tx).await?;
        tx.commit().await?;
    }
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: i64,
    chat_id: i64,
    seq: i64,
    author_id: i64,
    author_name: String,
    body: String,
    created_at: i64,
    has_files: bool,
}

/// A string FTS5 reads as one token, whatever it holds.
fn fts_token(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub(crate) async fn search(
    pool: &Pool<Db>,
    account: i64,
    filter: &SearchFilter,
) -> Result<Vec<SearchHit>, StorageError> {
    let mut chats: Vec<(i64, i64)> =
        super::messages::memberships(pool, account).await?.into_iter().map(|m| (m.chat_id, m.person_id)).collect();
    if let Some(only) = filter.chat {
        chats.retain(|(chat, _)| *chat == only);
        if chats.is_empty() {
            return Err(StorageError::NotFound);
        }
    }
    if chats.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT m.id, m.chat_id, m.seq, m.author_id, a.last_name || ' ' || a.first_name AS author_name, m.body, \
           m.created_at, EXISTS (SELECT 1 FROM files x WHERE x.message_id = m.id) AS has_files ",
    );
    let order = if SEARCH_FTS5 {
        // (c1_t1 OR c2_t1 …) AND (c1_t2 OR c2_t2 …): a message's terms all
        // carry its own chat, so each group reads only the viewer's chats.
        let expr = filter
            .query
            .terms()
            .iter()
            .map(|t| {
                let any: Vec<String> = chats.iter().map(|(c, _)| fts_token(&format!("{c}_{t}"))).collect();
                format!("({})", any.join(" OR "))
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        q.push("FROM message_fts JOIN messages m ON m.id = message_fts.rowid JOIN people a ON a.id = m.author_id ");
        q.push("WHERE message_fts MATCH ").push_bind(expr);
        " ORDER BY message_fts.rowid DESC LIMIT "
    } else {
        q.push("FROM message_search s JOIN messages m ON m.id = s.message_id JOIN people a ON a.id = m.author_id ");
        q.push("WHERE s.tsv @@ plainto_tsquery('russian', ").push_bind(filter.query.folded()).push(")");
        if let Some(before) = filter.before {
            q.push(" AND s.message_id < ").push_bind(before);
        }
        " ORDER BY s.message_id DESC LIMIT "
    };
    // Access again on the message itself: only the viewer's chats.
    q.push(" AND m.deleted_at IS NULL AND m.chat_id IN (");
    let mut list = q.separated(", ");
    for (chat, _) in &chats {
        list.push_bind(*chat);
    }
    q.push(")");
    if let Some(sender) = filter.sender {
        q.push(" AND m.author_id = ").push_bind(sender);
    }
    if let Some(from) = filter.from {
        q.push(" AND m.created_at >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        q.push(" AND m.created_at < ").push_bind(to);
    }
    if let Some(before) = filter.before.filter(|_| SEARCH_FTS5) {
        q.push(" AND message_fts.rowid < ").push_bind(before);
    }
    match filter.has_file {
        Some(true) => {
            q.push(" AND EXISTS (SELECT 1 FROM files y WHERE y.message_id = m.id)");
        }
        Some(false) => {
            q.push(" AND NOT EXISTS (SELECT 1 FROM files y WHERE y.message_id = m.id)");
        }
        None => {}
    }
    q.push(order).push_bind(filter.limit);
    let mut conn = pool.acquire().await?;
    let rows: Vec<HitRow> = q.build_query_as().fetch_all(&mut *conn).await?;
    let me: HashMap<i64, i64> = chats.into_iter().collect();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut hits = Vec::with_capacity(rows.len());
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(r.chat_id) {
            let person = me.get(&r.chat_id).copied().unwrap_or_default();
            let (kind, name, direct): (String, String, Option<String>) = sqlx::query_as(
                "SELECT c.kind, c.name, (SELECT q.last_name || ' ' || q.first_name FROM chat_members x \
                   JOIN people q ON q.id = x.person_id WHERE x.chat_id = c.id AND x.person_id <> $2 LIMIT 1) \
                 FROM chats c WHERE c.id = $1",
            )
            .bind(r.chat_id)
            .bind(person)
            .fetch_one(&mut *conn)
            .await?;
            slot.insert(if kind == "direct" { direct.unwrap_or(name) } else { name });
        }
        let snippet = ::search::snippet(&r.body, &filter.query, SNIPPET_CHARS);
        hits.push(SearchHit {
            chat: r.chat_id,
            chat_name: names.get(&r.chat_id).cloned().unwrap_or_default(),
            message_id: r.id,
            seq: r.seq,
            author: Author { person: r.author_id, name: r.author_name },
            at: r.created_at,
            snippet_html: snippet.to_html(),
            snippet: snippet.text,
            has_files: r.has_files,
        });
    }
    Ok(hits)
}
