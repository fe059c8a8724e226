//! Reports, the moderation queue and its decisions, blocks, oversight.

use super::MessageView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A report as its reporter follows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyReport {
    pub id: i64,
    pub chat_id: i64,
    pub chat_name: String,
    pub message_id: i64,
    pub reason: String,
    pub created_at: i64,
    /// `open`, `actioned` or `dismissed`.
    pub status: String,
    /// What the moderator did (set once decided).
    pub hid: bool,
    pub muted_until: Option<i64>,
    pub removed: bool,
    pub note: String,
    pub decided_at: Option<i64>,
}

impl From<storage::MyReport> for MyReport {
    fn from(value: storage::MyReport) -> Self {
        let storage::MyReport {
            id,
            chat_id,
            chat_name,
            message_id,
            reason,
            created_at,
            status,
            hid,
            muted_until,
            removed,
            note,
            decided_at,
        } = value;
        MyReport {
            id,
            chat_id,
            chat_name,
            message_id,
            reason,
            created_at,
            status,
            hid,
            muted_until,
            removed,
            note,
            decided_at,
        }
    }
}

/// A report in the school's moderation queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub chat_id: i64,
    pub chat_name: String,
    /// `direct` for a direct chat (nobody is removed from one).
    pub chat_kind: String,
    pub message_id: i64,
    pub reason: String,
    pub comment: String,
    pub reporter_id: i64,
    pub reporter_name: String,
    pub author_id: i64,
    pub author_name: String,
    pub created_at: i64,
    pub status: String,
    /// The reported message and a few around it, as they were when reported.
    pub context: Vec<MessageView>,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<i64>,
    pub hid: bool,
    pub muted_until: Option<i64>,
    pub removed: bool,
    pub note: String,
}

impl From<storage::ReportView> for ReportView {
    fn from(value: storage::ReportView) -> Self {
        let storage::ReportView {
            id,
            chat_id,
            chat_name,
            chat_kind,
            message_id,
            reason,
            comment,
            reporter_id,
            reporter_name,
            author_id,
            author_name,
            created_at,
            status,
            context,
            decided_by_name,
            decided_at,
            hid,
            muted_until,
            removed,
            note,
        } = value;
        ReportView {
            id,
            chat_id,
            chat_name,
            chat_kind,
            message_id,
            reason,
            comment,
            reporter_id,
            reporter_name,
            author_id,
            author_name,
            created_at,
            status,
            context: context.into_iter().map(MessageView::for_members).collect(),
            decided_by_name,
            decided_at,
            hid,
            muted_until,
            removed,
            note,
        }
    }
}

/// A filed report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportReceipt {
    pub id: i64,
    /// False when the person had already reported this message.
    pub created: bool,
}

impl From<storage::ReportReceipt> for ReportReceipt {
    fn from(value: storage::ReportReceipt) -> Self {
        let storage::ReportReceipt { id, created } = value;
        ReportReceipt { id, created }
    }
}

/// A chat as a moderator opened it, read-only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OversightView {
    pub chat_id: i64,
    pub chat_name: String,
    pub chat_kind: String,
    /// The newest 200 messages, oldest first.
    pub messages: Vec<MessageView>,
}

impl From<storage::OversightView> for OversightView {
    fn from(value: storage::OversightView) -> Self {
        let storage::OversightView { chat_id, chat_name, chat_kind, messages } = value;
        OversightView {
            chat_id,
            chat_name,
            chat_kind,
            messages: messages.into_iter().map(MessageView::for_members).collect(),
        }
    }
}

/// One opening in the school's oversight log.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OversightEntry {
    pub id: i64,
    pub chat_id: i64,
    pub chat_name: String,
    pub chat_kind: String,
    pub person_id: i64,
    pub person_name: String,
    pub reason: String,
    pub at: i64,
}

impl From<storage::OversightEntry> for OversightEntry {
    fn from(value: storage::OversightEntry) -> Self {
        let storage::OversightEntry { id, chat_id, chat_name, chat_kind, person_id, person_name, reason, at } = value;
        OversightEntry { id, chat_id, chat_name, chat_kind, person_id, person_name, reason, at }
    }
}

/// A person named responsible for safeguarding.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SafeguardingPerson {
    pub person_id: i64,
    pub name: String,
    pub named_at: i64,
}

impl From<storage::SafeguardingPerson> for SafeguardingPerson {
    fn from(value: storage::SafeguardingPerson) -> Self {
        let storage::SafeguardingPerson { person_id, name, named_at } = value;
        SafeguardingPerson { person_id, name, named_at }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ReportForm {
    #[schema(schema_with = crate::openapi::report_reason)]
    pub reason: String,
    /// What happened, in the reporter's words (optional).
    #[serde(default)]
    #[schema(max_length = 1000, pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$")]
    pub comment: String,
}

/// What a moderator does; choosing nothing dismisses the report.
#[derive(Deserialize, ToSchema)]
pub struct DecisionForm {
    /// Hide the message for everyone («Скрыто модератором»).
    #[serde(default)]
    pub hide: bool,
    /// Mute the author in the chat for this many minutes.
    #[schema(minimum = 1, maximum = 43200)]
    pub mute_minutes: Option<i64>,
    /// Remove the author from the chat (not from a direct chat).
    #[serde(default)]
    pub remove: bool,
    /// Told to the reporter (and, with a hide, shown to moderators).
    #[serde(default)]
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$")]
    pub note: String,
}

#[derive(Serialize, ToSchema)]
pub struct BlockState {
    /// The signed-in person blocked the other person of this direct chat.
    pub blocked: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct OversightForm {
    /// Why the chat is opened: required, at most 500 characters once trimmed.
    #[schema(
        max_length = 500,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
}

/// «Администрация школы открывала этот чат N раз за 30 дней».
#[derive(Serialize, ToSchema)]
pub struct OversightNotice {
    /// When, newest first (never who or why).
    pub dates: Vec<i64>,
}
