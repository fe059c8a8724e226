// Attachments: pending uploads, linking them to messages, downloads with the
// membership check, a chat's files and the garbage collector. Compiled per
// backend inside `mod files` of `mod sqlite` and `mod postgres` (see lib.rs).

use super::messages::access;
use crate::{Attachment, Author, ChatFile, FileLookup, Garbage, NewFile, StorageError, StoredFile, UploadSlot};
use std::collections::HashMap;

pub(crate) async fn upload_slot(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    now: i64,
) -> Result<UploadSlot, StorageError> {
    let mut conn = pool.acquire().await?;
    let me = access(&mut *conn, chat, account).await?;
    ::messenger::may_post(&me.chat, &me.member(now)).map_err(StorageError::Refused)?;
    let org_limit: Option<i64> =
        sqlx::query_scalar("SELECT o.max_file_bytes FROM chats c JOIN orgs o ON o.id = c.org_id WHERE c.id = $1")
            .bind(chat)
            .fetch_one(&mut *conn)
            .await?;
    Ok(UploadSlot { person_id: me.person_id, org_limit })
}

async fn touch_blob(tx: &mut Tx, sha256: &str, size: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO blobs (sha256, size, touched_at) VALUES ($1, $2, $3) \
         ON CONFLICT (sha256) DO UPDATE SET touched_at = excluded.touched_at",
    )
    .bind(sha256)
    .bind(size)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn add_file(pool: &Pool<Db>, new: &NewFile) -> Result<Attachment, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    // Checked again: membership may have ended while the body streamed.
    let me = access(&mut *tx, new.chat_id, new.account_id).await?;
    ::messenger::may_post(&me.chat, &me.member(new.now)).map_err(StorageError::Refused)?;
    touch_blob(&mut tx, &new.sha256, new.size, new.now).await?;
    if let Some((thumb, size)) = &new.thumbnail {
        touch_blob(&mut tx, thumb, *size, new.now).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO files (chat_id, uploader_id, sha256, thumb_sha256, name, size, mime, kind, width, height, \
           created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(new.chat_id)
    .bind(me.person_id)
    .bind(&new.sha256)
    .bind(new.thumbnail.as_ref().map(|t| t.0.as_str()))
    .bind(&new.name)
    .bind(new.size)
    .bind(&new.mime)
    .bind(&new.kind)
    .bind(new.width)
    .bind(new.height)
    .bind(new.now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Attachment {
        id,
        name: new.name.clone(),
        size: new.size,
        mime: new.mime.clone(),
        kind: new.kind.clone(),
        width: new.width,
        height: new.height,
    })
}

type AttachmentRow = (i64, i64, String, i64, String, String, Option<i64>, Option<i64>);

fn attachment((id, _, name, size, mime, kind, width, height): AttachmentRow) -> Attachment {
    Attachment { id, name, size, mime, kind, width, height }
}

/// The attachments of these messages, in their order.
pub(crate) async fn attachments_of(
    conn: &mut <Db as sqlx::Database>::Connection,
    messages: &[i64],
) -> Result<HashMap<i64, Vec<Attachment>>, StorageError> {
    let mut out: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for chunk in messages.chunks(500) {
        let mut q = sqlx::QueryBuilder::<Db>::new(
            "SELECT id, message_id, name, size, mime, kind, width, height FROM files WHERE message_id IN (",
        );
        let mut list = q.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        q.push(") ORDER BY message_id, position, id");
        let rows: Vec<AttachmentRow> = q.build_query_as().fetch_all(&mut *conn).await?;
        for row in rows {
            out.entry(row.1).or_default().push(attachment(row));
        }
    }
    Ok(out)
}

/// Pending uploads of `person` in `chat` among `ids`, claimed for a message
/// of the same batch: every one must be there, or none is taken.
pub(crate) async fn pending_of(
    tx: &mut Tx,
    chat: i64,
    person: i64,
    ids: &[i64],
) -> Result<Option<Vec<Attachment>>, StorageError> {
    if ids.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut q = sqlx::QueryBuilder::<Db>::new(
        "SELECT id, CAST(0 AS BIGINT) AS message_id, name, size, mime, kind, width, height FROM files WHERE message_id IS NULL AND chat_id = ",
    );
    q.push_bind(chat).push(" AND uploader_id = ").push_bind(person).push(" AND id IN (");
    let mut list = q.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    q.push(")");
    let rows: Vec<AttachmentRow> = q.build_query_as().fetch_all(&mut **tx).await?;
    if rows.len() != ids.len() {
        return Ok(None);
    }
    let mut by_id: HashMap<i64, Attachment> = rows.into_iter().map(|r| (r.0, attachment(r))).collect();
    Ok(ids.iter().map(|id| by_id.remove(id)).collect())
}

/// Links claimed uploads to their new message.
pub(crate) async fn link(tx: &mut Tx, message: i64, files: &[Attachment]) -> Result<(), StorageError> {
    for (position, file) in files.iter().enumerate() {
        sqlx::query("UPDATE files SET message_id = $1, position = $2 WHERE id = $3 AND message_id IS NULL")
            .bind(message)
            .bind(position as i64)
            .bind(file.id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A deleted message's files go with it (their blobs become garbage).
pub(crate) async fn unlink_message(tx: &mut Tx, message: i64) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM files WHERE message_id = $1").bind(message).execute(&mut **tx).await?;
    Ok(())
}

/// The names of a message's files, for the search index.
pub(crate) async fn names_of(tx: &mut Tx, message: i64) -> Result<Vec<String>, StorageError> {
    Ok(sqlx::query_scalar("SELECT name FROM files WHERE message_id = $1 ORDER BY position")
        .bind(message)
        .fetch_all(&mut **tx)
        .await?)
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: i64,
    chat_id: i64,
    uploader_id: i64,
    message_id: Option<i64>,
    sha256: String,
    thumb_sha256: Option<String>,
    name: String,
    size: i64,
    mime: String,
    kind: String,
}

pub(crate) async fn file_for(pool: &Pool<Db>, account: i64, file: i64) -> Result<FileLookup, StorageError> {
    let mut conn = pool.acquire().await?;
    let row: Option<FileRow> = sqlx::query_as(
        "SELECT f.id, f.chat_id, f.uploader_id, f.message_id, f.sha256, f.thumb_sha256, f.name, f.size, f.mime, \
           f.kind FROM files f LEFT JOIN messages m ON m.id = f.message_id \
         WHERE f.id = $1 AND (f.message_id IS NULL OR m.deleted_at IS NULL)",
    )
    .bind(file)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(FileLookup::Missing) };
    let me = match access(&mut *conn, row.chat_id, account).await {
        Ok(me) => me,
        Err(StorageError::NotFound) => return Ok(FileLookup::NotMember),
        Err(e) => return Err(e),
    };
    if row.message_id.is_none() && row.uploader_id != me.person_id {
        return Ok(FileLookup::Missing);
    }
    Ok(FileLookup::Granted(StoredFile {
        id: row.id,
        chat_id: row.chat_id,
        sha256: row.sha256,
        thumb_sha256: row.thumb_sha256,
        name: row.name,
        size: row.size,
        mime: row.mime,
        kind: row.kind,
    }))
}

#[derive(sqlx::FromRow)]
struct ChatFileRow {
    id: i64,
    name: String,
    size: i64,
    mime: String,
    kind: String,
    width: Option<i64>,
    height: Option<i64>,
    message_id: i64,
    seq: i64,
    author_id: i64,
    author_name: String,
    created_at: i64,
}

pub(crate) async fn chat_files(
    pool: &Pool<Db>,
    account: i64,
    chat: i64,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<ChatFile>, StorageError> {
    let mut conn = pool.acquire().await?;
    access(&mut *conn, chat, account).await?;
    let rows: Vec<ChatFileRow> = sqlx::query_as(
        "SELECT f.id, f.name, f.size, f.mime, f.kind, f.width, f.height, m.id AS message_id, m.seq, m.author_id, \
           a.last_name || ' ' || a.first_name AS author_name, m.created_at \
         FROM files f JOIN messages m ON m.id = f.message_id JOIN people a ON a.id = m.author_id \
         WHERE f.chat_id = $1 AND m.chat_id = $1 AND m.deleted_at IS NULL AND ($2 IS NULL OR m.seq < $2) \
         ORDER BY m.seq DESC, f.position LIMIT $3",
    )
    .bind(chat)
    .bind(before_seq)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| ChatFile {
            file: Attachment {
                id: r.id,
                name: r.name,
                size: r.size,
                mime: r.mime,
                kind: r.kind,
                width: r.width,
                height: r.height,
            },
            message_id: r.message_id,
            seq: r.seq,
            author: Author { person: r.author_id, name: r.author_name },
            at: r.created_at,
        })
        .collect())
}

pub(crate) async fn collect_garbage(
    pool: &Pool<Db>,
    pending_before: i64,
    blobs_before: i64,
) -> Result<Garbage, StorageError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    let pending = sqlx::query("DELETE FROM files WHERE message_id IS NULL AND created_at < $1")
        .bind(pending_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let blobs: Vec<String> = sqlx::query_scalar(
        "DELETE FROM blobs WHERE touched_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = blobs.sha256) \
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.thumb_sha256 = blobs.sha256) \
         RETURNING sha256",
    )
    .bind(blobs_before)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Garbage { pending_files: pending, blobs })
}

pub(crate) async fn set_upload_limit(pool: &Pool<Db>, org: i64, bytes: Option<i64>) -> Result<(), StorageError> {
    let done =
        sqlx::query("UPDATE orgs SET max_file_bytes = $1 WHERE id = $2").bind(bytes).bind(org).execute(pool).await?;
    if done.rows_affected() == 0 {
        return Err(StorageError::NotFound);
    }
    Ok(())
}
