//! Files and search, the storage half: attachments (rows pointing at
//! content-addressed blobs; the bytes are in the `blobs` crate's store), the
//! garbage the collector may delete, and full-text search over the chats a
//! Parta ID can open.
//!
//! Access is the messenger's (`access` and `REACHABLE` in message_queries.rs): the same
//! active, linked membership, checked in the query that reads. A pending
//! upload (not yet in a message) is its uploader's alone.

use crate::{Author, Pool, StorageError, Store};
use serde::{Deserialize, Serialize};

/// An attachment as a chat member sees it (in `MessageView.attachments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    pub name: String,
    pub size: i64,
    /// Sniffed from the content.
    pub mime: String,
    /// `image` (shown, with a thumbnail) or `file` (downloaded).
    pub kind: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A finished upload to record as a pending attachment.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub chat_id: i64,
    pub account_id: i64,
    pub sha256: String,
    pub size: i64,
    pub mime: String,
    pub kind: String,
    pub name: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The thumbnail's blob and size.
    pub thumbnail: Option<(String, i64)>,
    pub now: i64,
}

/// What a download needs, once access is granted.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub id: i64,
    pub chat_id: i64,
    pub sha256: String,
    pub thumb_sha256: Option<String>,
    pub name: String,
    pub size: i64,
    pub mime: String,
    pub kind: String,
}

/// The answer to "may this Parta ID download this file?".
#[derive(Debug, Clone)]
pub enum FileLookup {
    Granted(StoredFile),
    /// The file exists, in a chat the asker cannot open.
    NotMember,
    /// No such file (or a pending upload of someone else, or deleted).
    Missing,
}

/// Where an upload may go and how large it may be.
#[derive(Debug, Clone, Copy)]
pub struct UploadSlot {
    pub person_id: i64,
    /// The organisation's limit in bytes, if it set one.
    pub org_limit: Option<i64>,
}

/// An attachment in a chat's "Files" view.
#[derive(Debug, Clone)]
pub struct ChatFile {
    pub file: Attachment,
    pub message_id: i64,
    pub seq: i64,
    pub author: Author,
    pub at: i64,
}

/// Blobs the collector removed from the database: their bytes go next.
#[derive(Debug, Clone, Default)]
pub struct Garbage {
    pub pending_files: u64,
    pub blobs: Vec<String>,
}

/// A search over the viewer's chats.
#[derive(Debug, Clone)]
pub struct SearchFilter {
    pub query: search::Query,
    pub chat: Option<i64>,
    /// A person id (the author in the chat's school).
    pub sender: Option<i64>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub has_file: Option<bool>,
    /// Only messages with a smaller id (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// A message that matched, newest first.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub chat: i64,
    pub chat_name: String,
    pub message_id: i64,
    pub seq: i64,
    pub author: Author,
    pub at: i64,
    /// Plain text around the first match.
    pub snippet: String,
    /// The same, HTML-escaped, with the matched words in `<mark>`.
    pub snippet_html: String,
    pub has_files: bool,
}

impl Store {
    /// The sender's standing for an upload into `chat`: a member who may post
    /// there. Checked before a byte of the body is read.
    pub async fn upload_slot(&self, account: i64, chat: i64, now: i64) -> Result<UploadSlot, StorageError> {
        dispatch!(self.files::upload_slot(account, chat, now))
    }

    /// Records a finished upload as the uploader's pending attachment.
    pub async fn add_file(&self, new: &NewFile) -> Result<Attachment, StorageError> {
        dispatch!(self.files::add_file(new))
    }

    /// Looks a file up for a download by this Parta ID, checking membership.
    pub async fn file_for(&self, account: i64, file: i64) -> Result<FileLookup, StorageError> {
        dispatch!(self.files::file_for(account, file))
    }

    /// The attachments of a chat's messages, newest first.
    pub async fn chat_files(
        &self,
        account: i64,
        chat: i64,
        before_seq: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ChatFile>, StorageError> {
        dispatch!(self.files::chat_files(account, chat, before_seq, limit))
    }

    /// Deletes pending uploads older than `pending_before` and the rows of
    /// blobs no file references, untouched since `blobs_before`; returns
    /// the blobs whose bytes may now be deleted.
    pub async fn collect_garbage(&self, pending_before: i64, blobs_before: i64) -> Result<Garbage, StorageError> {
        dispatch!(self.files::collect_garbage(pending_before, blobs_before))
    }

    /// An organisation's upload limit in bytes (`None`: the server's default).
    pub async fn set_upload_limit(&self, org: i64, bytes: Option<i64>) -> Result<(), StorageError> {
        dispatch!(self.files::set_upload_limit(org, bytes))
    }

    /// Full-text search in the chats the Parta ID can open.
    pub async fn search_messages(&self, account: i64, filter: &SearchFilter) -> Result<Vec<SearchHit>, StorageError> {
        dispatch!(self.search::search(account, filter))
    }

    /// Indexes messages written before the index existed (SQLite; PostgreSQL
    /// did it in its migration). Returns how many were indexed.
    pub async fn backfill_search(&self) -> Result<u64, StorageError> {
        dispatch!(self.search::backfill())
    }
}
