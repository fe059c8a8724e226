//! Attachments, a chat's «Файлы» and search hits.

use super::Author;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An attachment as a chat member sees it (in `MessageView.attachments`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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

impl From<storage::Attachment> for Attachment {
    fn from(value: storage::Attachment) -> Self {
        let storage::Attachment { id, name, size, mime, kind, width, height } = value;
        Attachment { id, name, size, mime, kind, width, height }
    }
}

/// An attachment in a chat's "Files" view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatFile {
    #[serde(flatten)]
    pub file: Attachment,
    pub message_id: i64,
    pub seq: i64,
    pub author: Author,
    pub at: i64,
}

impl From<storage::ChatFile> for ChatFile {
    fn from(value: storage::ChatFile) -> Self {
        let storage::ChatFile { file, message_id, seq, author, at } = value;
        ChatFile { file: file.into(), message_id, seq, author: author.into(), at }
    }
}

/// A message that matched, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl From<storage::SearchHit> for SearchHit {
    fn from(value: storage::SearchHit) -> Self {
        let storage::SearchHit { chat, chat_name, message_id, seq, author, at, snippet, snippet_html, has_files } =
            value;
        SearchHit { chat, chat_name, message_id, seq, author: author.into(), at, snippet, snippet_html, has_files }
    }
}
