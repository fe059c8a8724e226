//! The automatic-chats half of `Store`: reconciling an organisation's chats
//! with its roster and links (the rules are in the `provisioning` crate), and
//! the chats a person sees.

use crate::{Pool, Run, StorageError, Store};
use roster::ids::{OrgId, PersonId};

/// A chat as the "Чаты" window lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
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

/// Which automatic chats of an organisation a reconciliation looks at.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// All of them.
    Org,
    /// The chats these people are members of or belong in, each read in full.
    People(&'a [PersonId]),
}

impl Store {
    /// Brings one organisation's automatic chats in line with its roster and
    /// links, in one transaction, and returns what it changed (or, with
    /// [`Run::DryRun`], would change).
    pub async fn reconcile(&self, org: OrgId, run: Run, now: i64) -> Result<provisioning::Plan, StorageError> {
        dispatch!(self.chats::reconcile(org.into(), Scope::Org, run, now))
    }

    /// Like [`Store::reconcile`], for the chats `people` are members of or
    /// belong in: enough after a change that concerns only them (a student moved
    /// to another class, a person linked or unlinked, a guardianship), and far
    /// cheaper in a large school. The plan is the whole organisation's plan
    /// restricted to those chats; a change to a class, a section or the
    /// organisation needs [`Store::reconcile`].
    pub async fn reconcile_people(
        &self,
        org: OrgId,
        people: &[PersonId],
        run: Run,
        now: i64,
    ) -> Result<provisioning::Plan, StorageError> {
        dispatch!(self.chats::reconcile(org.into(), Scope::People(people), run, now))
    }

    pub async fn person_chats(&self, org: i64, person: i64) -> Result<Vec<ChatListItem>, StorageError> {
        dispatch!(self.chats::person_chats(org, person))
    }
}
