//! The automatic-chats half of `Store`: reconciling an organisation's chats
//! with its roster and links (the rules are in the `provisioning` crate), and
//! the chats a person sees.

use crate::{Pool, StorageError, Store};
use serde::Serialize;
use utoipa::ToSchema;

/// A chat as the "Чаты" window lists it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ChatListItem {
    pub id: i64,
    /// `staff_room`, `class`, `parents`, `subject` or `custom`.
    pub kind: String,
    pub name: String,
    /// The person is an admin of this chat.
    pub admin: bool,
    /// Active members.
    pub members: i64,
}

impl Store {
    /// Brings one organisation's automatic chats in line with its roster and
    /// links, in one transaction, and returns what it changed (or, with
    /// `dry_run`, would change).
    pub async fn reconcile(&self, org: i64, dry_run: bool, now: i64) -> Result<provisioning::Plan, StorageError> {
        dispatch!(self.chats::reconcile(org, dry_run, now))
    }

    pub async fn person_chats(&self, org: i64, person: i64) -> Result<Vec<ChatListItem>, StorageError> {
        dispatch!(self.chats::person_chats(org, person))
    }
}
