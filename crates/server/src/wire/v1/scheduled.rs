//! «Отправить позже»: scheduled messages as their author sees them.

use serde::Serialize;
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
