//! «Отправить позже»: scheduling a message, and scheduled messages as their
//! author sees them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a scheduled message is, as its author is told. (A message the
/// server has taken to send is still `pending` to them: it is about to go.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduledStatus {
    Pending,
    Sent,
    Failed,
    Cancelled,
}

impl From<storage::ScheduledStatus> for ScheduledStatus {
    fn from(value: storage::ScheduledStatus) -> Self {
        match value {
            storage::ScheduledStatus::Pending => ScheduledStatus::Pending,
            storage::ScheduledStatus::Sent => ScheduledStatus::Sent,
            storage::ScheduledStatus::Failed => ScheduledStatus::Failed,
            storage::ScheduledStatus::Cancelled => ScheduledStatus::Cancelled,
        }
    }
}

/// A scheduled message as its author sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ScheduledView {
    pub id: i64,
    pub chat: i64,
    pub text: String,
    /// Unix seconds.
    pub send_at: i64,
    pub reply_to: Option<i64>,
    pub mentions: Vec<i64>,
    pub state: ScheduledStatus,
    /// Why it was not sent: the error code a send would have got then
    /// (`announcement_only`, `chat_read_only`, `muted`, `blocked`,
    /// `reply_outside_chat`, `not_in_chat`: the author left the chat or it
    /// was deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The message it became, once sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<i64>,
}

impl From<storage::ScheduledView> for ScheduledView {
    fn from(value: storage::ScheduledView) -> Self {
        let storage::ScheduledView { id, chat, text, send_at, reply_to, mentions, state, failure, message } = value;
        ScheduledView { id, chat, text, send_at, reply_to, mentions, state: state.into(), failure, message }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduleForm {
    /// As in a send: not blank, at most 10,000 characters once trimmed.
    #[schema(schema_with = crate::openapi::message_text)]
    pub text: String,
    /// When to send it, unix seconds: not in the past, at most a year ahead.
    pub send_at: i64,
    /// The client's idempotency key (a UUID), as in a send: a retry with the
    /// same key returns the first scheduled message. The message sent later
    /// carries it too.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    /// A message of this chat to reply to.
    pub reply_to: Option<i64>,
    /// People mentioned; only those still members when it is sent count,
    /// and only the first 50.
    #[serde(default)]
    pub mentions: Vec<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct ScheduledEditForm {
    /// The new text, as in a send.
    #[schema(schema_with = crate::openapi::message_text)]
    pub text: Option<String>,
    /// The new time, unix seconds: not in the past, at most a year ahead.
    pub send_at: Option<i64>,
}
