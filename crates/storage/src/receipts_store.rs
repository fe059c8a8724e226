//! Who has read a message (issue 20), for a chat's admins: the counts beside
//! each message, the list of who has and has not read one (by student in a
//! parents' chat) and «Напомнить». The counting rules are
//! `messenger::receipts`; this loads the facts: members, their read positions
//! and the times they reached them (`read_marks`), the class's families.

use crate::{Pool, StorageError, Store};

/// How many have read one message.
#[derive(Debug, Clone)]
pub struct ReceiptCount {
    pub message: i64,
    pub seq: i64,
    pub read: i64,
    pub total: i64,
}

/// The counts of a chat's recent messages.
#[derive(Debug, Clone)]
pub struct ReceiptCounts {
    /// `family` in a parents' chat, `person` elsewhere.
    pub unit: String,
    /// Newest first; deleted messages and call records are left out.
    pub messages: Vec<ReceiptCount>,
}

/// Who has read a message and who has not.
#[derive(Debug, Clone)]
pub struct ReceiptReport {
    pub message: i64,
    /// `family` in a parents' chat, `person` elsewhere.
    pub unit: String,
    pub read: i64,
    pub total: i64,
    /// Families (by student) or people; those who have not read first.
    pub readers: Vec<ReceiptReader>,
    /// The last reminder about this message.
    pub reminded_at: Option<i64>,
    /// When «Напомнить» may be used again (absent: now).
    pub next_reminder_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ReceiptReader {
    /// The student (a family) or the person.
    pub id: i64,
    pub name: String,
    pub read: bool,
    /// The members who read for it: a family's guardians in the chat.
    pub people: Vec<ReceiptPerson>,
}

#[derive(Debug, Clone)]
pub struct ReceiptPerson {
    pub person: i64,
    pub name: String,
    pub read: bool,
    /// When they read it; absent when unread, or read before times were kept.
    pub read_at: Option<i64>,
}

/// What «Напомнить» did.
#[derive(Debug, Clone)]
pub enum Reminded {
    /// These Parta IDs are reminded (`people` school accounts had not read).
    Sent { accounts: Vec<i64>, people: i64, next_at: i64 },
    /// The last reminder was too recent: again in this many seconds.
    TooSoon { retry_after: i64 },
}

impl Store {
    /// The read counts of the chat's messages from `from` on (the newest 200).
    pub async fn receipt_counts(&self, account: i64, chat: i64, from: i64) -> Result<ReceiptCounts, StorageError> {
        dispatch!(self.receipts::counts(account, chat, from))
    }

    pub async fn receipt_report(&self, account: i64, chat: i64, message: i64) -> Result<ReceiptReport, StorageError> {
        dispatch!(self.receipts::report(account, chat, message))
    }

    /// Records a reminder to those who have not read `message`, unless one
    /// went less than 12 hours ago.
    pub async fn remind_unread(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        now: i64,
    ) -> Result<Reminded, StorageError> {
        dispatch!(self.receipts::remind(account, chat, message, now))
    }
}
