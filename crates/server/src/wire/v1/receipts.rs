//! Read receipts and reminders, for a chat's admins.

use serde::Serialize;
use utoipa::ToSchema;

/// How many have read one message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptCount {
    pub message: i64,
    pub seq: i64,
    pub read: i64,
    pub total: i64,
}

impl From<storage::ReceiptCount> for ReceiptCount {
    fn from(value: storage::ReceiptCount) -> Self {
        let storage::ReceiptCount { message, seq, read, total } = value;
        ReceiptCount { message, seq, read, total }
    }
}

/// The counts of a chat's recent messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptCounts {
    /// `family` in a parents' chat, `person` elsewhere.
    pub unit: String,
    /// Newest first; deleted messages and call records are left out.
    pub messages: Vec<ReceiptCount>,
}

impl From<storage::ReceiptCounts> for ReceiptCounts {
    fn from(value: storage::ReceiptCounts) -> Self {
        let storage::ReceiptCounts { unit, messages } = value;
        ReceiptCounts { unit, messages: messages.into_iter().map(Into::into).collect() }
    }
}

/// Who has read a message and who has not.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl From<storage::ReceiptReport> for ReceiptReport {
    fn from(value: storage::ReceiptReport) -> Self {
        let storage::ReceiptReport { message, unit, read, total, readers, reminded_at, next_reminder_at } = value;
        ReceiptReport {
            message,
            unit,
            read,
            total,
            readers: readers.into_iter().map(Into::into).collect(),
            reminded_at,
            next_reminder_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptReader {
    /// The student (a family) or the person.
    pub id: i64,
    pub name: String,
    pub read: bool,
    /// The members who read for it: a family's guardians in the chat.
    pub people: Vec<ReceiptPerson>,
}

impl From<storage::ReceiptReader> for ReceiptReader {
    fn from(value: storage::ReceiptReader) -> Self {
        let storage::ReceiptReader { id, name, read, people } = value;
        ReceiptReader { id, name, read, people: people.into_iter().map(Into::into).collect() }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptPerson {
    pub person: i64,
    pub name: String,
    pub read: bool,
    /// When they read it; absent when unread, or read before times were kept.
    pub read_at: Option<i64>,
}

impl From<storage::ReceiptPerson> for ReceiptPerson {
    fn from(value: storage::ReceiptPerson) -> Self {
        let storage::ReceiptPerson { person, name, read, read_at } = value;
        ReceiptPerson { person, name, read, read_at }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RemindResult {
    /// School accounts reminded: the members of families (or the people)
    /// who had not read.
    pub people: i64,
    pub next_reminder_at: i64,
}
