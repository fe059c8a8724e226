//! School quiet hours (issue 19): what each school chose, the pushes they
//! held back until they end, and how often «Срочно» cut through them. The
//! rules are `messenger::quiet`'s; this keeps the rows.

use crate::{Pool, StorageError, Store};
use ::messenger::quiet::QuietHours;

/// What quiet hours held for one Parta ID, unread when they ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldSummary {
    pub account: i64,
    pub chats: Vec<HeldChat>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldChat {
    pub chat: i64,
    pub name: String,
    pub kind: String,
    /// Held messages still unread.
    pub messages: i64,
}

/// How often one chat admin marked messages «Срочно» in one chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrgentUse {
    pub chat: i64,
    pub chat_name: String,
    pub author: i64,
    pub author_name: String,
    pub uses: i64,
}

impl Store {
    /// The school's quiet hours, `None` until its administrators chose them.
    pub async fn quiet_hours(&self, org: i64) -> Result<Option<QuietHours>, StorageError> {
        dispatch!(self.quiet::get(org))
    }

    pub async fn set_quiet_hours(&self, org: i64, quiet: &QuietHours, now: i64) -> Result<(), StorageError> {
        dispatch!(self.quiet::set(org, quiet, now))
    }

    /// Keeps pushes quiet hours held: `(account, person, chat, seq, release_at)`.
    pub async fn hold_pushes(&self, held: &[(i64, i64, i64, i64, i64)]) -> Result<(), StorageError> {
        dispatch!(self.quiet::hold(held))
    }

    /// Takes every held push whose quiet hours ended by `now`: per Parta ID,
    /// the chats and how many of their held messages are still unread
    /// (those all read are left out; a Parta ID with nothing unread too).
    pub async fn release_held_pushes(&self, now: i64) -> Result<Vec<HeldSummary>, StorageError> {
        dispatch!(self.quiet::release(now))
    }

    /// «Срочно» in the school's chats since `since`, per chat and author,
    /// the most used first.
    pub async fn urgent_usage(&self, org: i64, since: i64) -> Result<Vec<UrgentUse>, StorageError> {
        dispatch!(self.quiet::urgent_usage(org, since))
    }
}
