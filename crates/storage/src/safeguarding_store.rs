//! The safeguarding half of `Store` (DESIGN §6, oversight never hidden):
//! reports of messages with the evidence kept as it was, the school's
//! moderation queue and its decisions (hide, mute, remove, dismiss), the
//! staff the director names responsible for safeguarding, and blocks in
//! direct chats.
//!
//! Every decision runs in one transaction that checks `messenger::report`,
//! applies it and writes its lines to the chat audit log; a refusal changes
//! nothing.

use crate::{EventView, MessageView, Pool, StorageError, Store};
use messenger::ReportReason;
use messenger::report::Decision;

/// A report as its reporter follows it.
#[derive(Debug, Clone)]
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

/// A report in the school's moderation queue.
#[derive(Debug, Clone)]
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

/// A filed report.
#[derive(Debug, Clone)]
pub struct ReportReceipt {
    pub id: i64,
    /// False when the person had already reported this message.
    pub created: bool,
}

/// A moderator's decision as applied.
#[derive(Debug, Clone)]
pub struct Decided {
    pub chat_id: i64,
    /// The `hidden` event to publish, when the message was hidden now.
    pub event: Option<EventView>,
    /// School accounts whose chat list changes (a removed author).
    pub people: Vec<i64>,
}

/// A chat as a moderator opened it, read-only.
#[derive(Debug, Clone)]
pub struct OversightView {
    pub chat_id: i64,
    pub chat_name: String,
    pub chat_kind: String,
    /// The newest 200 messages, oldest first.
    pub messages: Vec<MessageView>,
}

/// One opening in the school's oversight log.
#[derive(Debug, Clone, sqlx::FromRow)]
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

/// A person named responsible for safeguarding.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SafeguardingPerson {
    pub person_id: i64,
    pub name: String,
    pub named_at: i64,
}

impl Store {
    /// The account's person reports a message of a chat they are in.
    #[allow(clippy::too_many_arguments)]
    pub async fn report_message(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        reason: ReportReason,
        comment: &str,
        now: i64,
    ) -> Result<ReportReceipt, StorageError> {
        dispatch!(self.safeguarding::report_message(account, chat, message, reason, comment, now))
    }

    /// The reports the account's people filed, newest first.
    pub async fn my_reports(&self, account: i64) -> Result<Vec<MyReport>, StorageError> {
        dispatch!(self.safeguarding::my_reports(account))
    }

    /// The school's queue for a moderator: open reports, or decided ones.
    pub async fn reports(&self, org: i64, actor: i64, open: bool) -> Result<Vec<ReportView>, StorageError> {
        dispatch!(self.safeguarding::reports(org, actor, open, None))
    }

    pub async fn report(&self, org: i64, actor: i64, report: i64) -> Result<ReportView, StorageError> {
        let found = dispatch!(self.safeguarding::reports(org, actor, true, Some(report)))?;
        found.into_iter().next().ok_or(StorageError::NotFound)
    }

    pub async fn decide_report(
        &self,
        org: i64,
        actor: i64,
        report: i64,
        decision: Decision,
        note: &str,
        now: i64,
    ) -> Result<Decided, StorageError> {
        dispatch!(self.safeguarding::decide(org, actor, report, decision, note, now))
    }

    pub async fn safeguarding_staff(&self, org: i64, actor: i64) -> Result<Vec<SafeguardingPerson>, StorageError> {
        dispatch!(self.safeguarding::staff(org, actor))
    }

    /// An administrator names `person` responsible for safeguarding (or not).
    pub async fn set_safeguarding(
        &self,
        org: i64,
        actor: i64,
        person: i64,
        named: bool,
        now: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.safeguarding::set_staff(org, actor, person, named, now))
    }

    /// The account's person blocked the other person of this direct chat.
    pub async fn blocked(&self, account: i64, chat: i64) -> Result<bool, StorageError> {
        dispatch!(self.safeguarding::blocked(account, chat))
    }

    /// Blocks (or unblocks) the other person of a direct chat from writing
    /// to the account's person there.
    pub async fn set_blocked(&self, account: i64, chat: i64, block: bool, now: i64) -> Result<(), StorageError> {
        dispatch!(self.safeguarding::set_blocked(account, chat, block, now))
    }

    /// A moderator opens a chat of the school read-only, with a reason; logged.
    pub async fn oversee(
        &self,
        org: i64,
        actor: i64,
        chat: i64,
        reason: &str,
        now: i64,
    ) -> Result<OversightView, StorageError> {
        dispatch!(self.safeguarding::oversee(org, actor, chat, reason, now))
    }

    pub async fn oversight_log(&self, org: i64, actor: i64) -> Result<Vec<OversightEntry>, StorageError> {
        dispatch!(self.safeguarding::oversight_log(org, actor))
    }

    /// For a member: when the chat was opened by moderators in the last 30 days.
    pub async fn oversight_notice(&self, account: i64, chat: i64, now: i64) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.safeguarding::oversight_notice(account, chat, now))
    }
}
