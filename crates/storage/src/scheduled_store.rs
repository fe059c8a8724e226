//! Scheduled messages («Отправить позже», issue 19): the rows the author
//! sees, edits and cancels until their time, and what the background job
//! takes when it comes. Sending itself goes through `append_messages`, like
//! any message; the rules are `messenger::scheduled`.

use crate::{Pool, StorageError, Store};
use messenger::{ClientId, MessageText};

/// A message to schedule, checked.
#[derive(Debug, Clone)]
pub struct NewScheduled {
    pub chat_id: i64,
    /// The Parta ID scheduling it; it alone sees and changes it.
    pub account_id: i64,
    /// The message's idempotency key, now and when it is sent.
    pub client_id: ClientId,
    pub text: MessageText,
    pub reply_to: Option<i64>,
    pub mentions: Vec<i64>,
    pub send_at: i64,
    pub now: i64,
}

/// Where a scheduled message is, as its author is told. (A message the
/// server has taken to send is still `pending` to them: it is about to go.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledStatus {
    Pending,
    Sent,
    Failed,
    Cancelled,
}

/// A scheduled message as its author sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub failure: Option<String>,
    /// The message it became, once sent.
    pub message: Option<i64>,
}

/// A change of a pending message; what is `None` stays.
#[derive(Debug, Clone, Default)]
pub struct ScheduledChange {
    pub text: Option<MessageText>,
    pub send_at: Option<i64>,
}

/// A message whose time has come, taken to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueScheduled {
    pub id: i64,
    pub chat_id: i64,
    pub account_id: i64,
    pub client_id: String,
    pub text: String,
    pub reply_to: Option<i64>,
    pub mentions: Vec<i64>,
    pub send_at: i64,
}

/// How a due message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledOutcome<'a> {
    /// It is this message (made now, or by an earlier try that crashed).
    Sent(i64),
    /// Refused with this error code.
    Failed(&'a str),
}

/// How long sent and failed messages stay in their author's list.
pub const SCHEDULED_SHOWN_AFTER_SECS: i64 = 7 * 24 * 3600;

impl Store {
    /// Schedules a message as `account`'s person in the chat, who must be
    /// able to post there now. A retry with the same client id returns the
    /// first one unchanged.
    pub async fn schedule_message(&self, new: &NewScheduled) -> Result<ScheduledView, StorageError> {
        self.queued(async { dispatch!(self.scheduled::schedule(new)) }).await
    }

    /// `account`'s pending messages in the chat, and those sent or failed in
    /// the last week, by time to send.
    pub async fn scheduled_in_chat(
        &self,
        account: i64,
        chat: i64,
        now: i64,
    ) -> Result<Vec<ScheduledView>, StorageError> {
        dispatch!(self.scheduled::in_chat(account, chat, now))
    }

    /// Changes the text or time of `account`'s pending message.
    pub async fn edit_scheduled(
        &self,
        account: i64,
        id: i64,
        change: &ScheduledChange,
        now: i64,
    ) -> Result<ScheduledView, StorageError> {
        self.queued(async { dispatch!(self.scheduled::edit(account, id, change, now)) }).await
    }

    /// Cancels `account`'s pending message.
    pub async fn cancel_scheduled(&self, account: i64, id: i64, now: i64) -> Result<ScheduledView, StorageError> {
        self.queued(async { dispatch!(self.scheduled::cancel(account, id, now)) }).await
    }

    /// Takes up to `limit` messages due at `now` to send, earliest first: no
    /// longer editable. Also those taken before and never finished (a crash):
    /// sent again, their client id makes that at most once.
    pub async fn claim_due_scheduled(&self, now: i64, limit: i64) -> Result<Vec<DueScheduled>, StorageError> {
        dispatch!(self.scheduled::claim_due(now, limit))
    }

    /// Gives a taken message back (its author may not send now: flood
    /// control); the next round takes it again.
    pub async fn release_scheduled(&self, id: i64) -> Result<(), StorageError> {
        dispatch!(self.scheduled::release(id))
    }

    pub async fn finish_scheduled(&self, id: i64, outcome: ScheduledOutcome<'_>, now: i64) -> Result<(), StorageError> {
        dispatch!(self.scheduled::finish(id, outcome, now))
    }
}
