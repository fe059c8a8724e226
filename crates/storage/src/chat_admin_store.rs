//! The chat-management half of `Store` (DESIGN §5): the "Управление чатами"
//! page's reads, the changes staff make to chats and their members, the audit
//! log of those changes, and the purge of chats deleted long enough ago.
//!
//! Every change runs in one transaction that loads the facts, asks
//! `messenger::manage` whether the signed-in person may do it, applies it and
//! writes its audit row; a refusal changes nothing. Each takes the
//! organisation's reconciliation lock (PostgreSQL) or the write lock (SQLite),
//! so a reconciliation never applies a plan made before a staff change.

use crate::{Pool, StorageError, Store};
use messenger::{ChatDescription, ChatName};
use roster::ids::{ChatId, ClassId, OrgId, PersonId, SubjectId};

/// How long a deleted chat can be restored before it is purged.
pub const PURGE_AFTER_SECS: i64 = 30 * 24 * 3600;

/// A chat on the management page.
#[derive(Debug, Clone)]
pub struct ManagedChat {
    pub id: ChatId,
    /// `staff_room`, `class`, `parents`, `subject` or `custom`.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// `live`, `archived` or `read_only_hidden` (the module is off, or the chat is deleted).
    pub state: String,
    pub announcement_only: bool,
    /// The class of a class, parents' or subject chat.
    pub class_id: Option<ClassId>,
    pub class_name: Option<String>,
    pub year_id: Option<i64>,
    pub year_title: Option<String>,
    /// A subject chat's subject and group.
    pub subject: Option<String>,
    pub group_name: Option<String>,
    /// Active members.
    pub member_count: i64,
    /// Members who have not linked a learning profile yet.
    pub pending_count: i64,
    pub admin_count: i64,
    /// Staff renamed an automatic chat: the roster keeps their name.
    pub name_overridden: bool,
    /// Staff archived it: the roster does not bring it back.
    pub archived_by_hand: bool,
    pub deleted_at: Option<i64>,
    /// When a deleted chat is purged for good.
    pub purge_at: Option<i64>,
    pub purged: bool,
    /// Sent back with an edit: an edit made from an older version is refused.
    pub version: i64,
    /// The viewer may change this chat.
    pub can_manage: bool,
}

/// A member as the management page explains them.
#[derive(Debug, Clone)]
pub struct ManagedMember {
    pub person: PersonId,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    /// Roles in the organisation.
    pub roles: Vec<String>,
    pub admin: bool,
    /// Staff appointed or revoked this admin by hand.
    pub admin_overridden: bool,
    /// `roster` (the reconciler put them here, `reasons` says why) or `manual`.
    pub source: String,
    /// `active`, `pending` (not linked yet: joins on linking) or
    /// `removed_by_hand` (a roster member staff took out; kept out).
    pub status: String,
    /// «ученик 9А; родитель ученика 5Б» for roster members.
    pub reasons: String,
}

#[derive(Debug, Clone)]
pub struct ManagedChatDetail {
    pub chat: ManagedChat,
    pub members: Vec<ManagedMember>,
    /// Other chats of the organisation with the same name (allowed; the page warns).
    pub same_name: i64,
}

/// Which chats the list shows, by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StateFilter {
    /// Live (and hidden) chats, not deleted.
    #[default]
    Current,
    Archived,
    /// Deleted and not purged yet: restorable.
    Deleted,
    All,
}

impl StateFilter {
    pub const ALL: [StateFilter; 4] =
        [StateFilter::Current, StateFilter::Archived, StateFilter::Deleted, StateFilter::All];

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Current => "current",
            StateFilter::Archived => "archived",
            StateFilter::Deleted => "deleted",
            StateFilter::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        StateFilter::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    pub kind: Option<String>,
    pub class_id: Option<ClassId>,
    pub year_id: Option<i64>,
    pub state: StateFilter,
    /// Part of the name, case-insensitively.
    pub query: Option<String>,
}

/// A new custom chat. Its creator becomes its first admin.
#[derive(Debug, Clone)]
pub struct ChatDraft {
    pub name: ChatName,
    pub description: ChatDescription,
    pub announcement_only: bool,
    pub members: Vec<PersonId>,
}

/// Whether staff archive a chat or bring it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveChange {
    Archive,
    Unarchive,
}

/// Whether a member becomes a chat admin or stops being one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    Appoint,
    Revoke,
}

/// A settings edit; `None` keeps the value.
#[derive(Debug, Clone)]
pub struct ChatEdit {
    /// The version the editor saw.
    pub version: i64,
    pub name: Option<ChatName>,
    pub description: Option<ChatDescription>,
    pub announcement_only: Option<bool>,
}

/// What a change touched: the people whose chat lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageOutcome {
    pub chat_id: ChatId,
    pub people: Vec<PersonId>,
}

/// A person staff may add, as the add-participants dialog lists them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: PersonId,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub roles: Vec<String>,
    /// Classes as a student, or their children's classes as a parent.
    pub classes: Vec<String>,
    pub linked: bool,
    /// Their membership in the chat asked about: `active`, `pending`,
    /// `removed_by_hand`, or none.
    pub member: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Candidates {
    pub people: Vec<Candidate>,
    /// More people match: narrow the filters.
    pub truncated: bool,
}

#[derive(Debug, Clone, Default)]
pub struct CandidateFilter {
    pub query: Option<String>,
    pub role: Option<roster::Role>,
    pub class_id: Option<ClassId>,
    pub subject_id: Option<SubjectId>,
    /// Mark who is already in this chat.
    pub chat_id: Option<ChatId>,
    pub limit: usize,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NamedId {
    pub id: i64,
    pub name: String,
}

/// What the management page needs to draw its filters.
#[derive(Debug, Clone)]
pub struct ManageContext {
    pub org_id: OrgId,
    pub org_name: String,
    /// A school administrator: every chat, the audit log.
    pub administrator: bool,
    pub can_create: bool,
    pub classes: Vec<NamedId>,
    pub years: Vec<NamedId>,
    pub subjects: Vec<NamedId>,
}

/// One management action.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub chat_id: ChatId,
    pub chat_name: String,
    /// `None` for the system (a purge).
    pub actor_id: Option<PersonId>,
    pub actor_name: Option<String>,
    /// `create`, `edit`, `archive`, `unarchive`, `delete`, `restore`, `purge`,
    /// `add_member`, `remove_member`, `appoint_admin` or `revoke_admin`.
    pub action: String,
    pub person_id: Option<PersonId>,
    pub person_name: Option<String>,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub chat_id: Option<ChatId>,
    pub actor_id: Option<PersonId>,
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    /// The management page's frame for `actor` in `org`; refused for students,
    /// parents and people without a role there.
    pub async fn manage_context(&self, org: OrgId, actor: PersonId) -> Result<ManageContext, StorageError> {
        dispatch!(self.chat_admin::manage_context(org, actor))
    }

    /// Every chat of the organisation for an administrator; the chats they
    /// admin for another employee.
    pub async fn managed_chats(
        &self,
        org: OrgId,
        actor: PersonId,
        filter: &ChatFilter,
    ) -> Result<Vec<ManagedChat>, StorageError> {
        dispatch!(self.chat_admin::managed_chats(org, actor, filter))
    }

    pub async fn managed_chat(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
    ) -> Result<ManagedChatDetail, StorageError> {
        dispatch!(self.chat_admin::managed_chat(org, actor, chat))
    }

    pub async fn create_custom_chat(
        &self,
        org: OrgId,
        actor: PersonId,
        draft: &ChatDraft,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::create_chat(org, actor, draft, now))
    }

    pub async fn edit_chat(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        edit: &ChatEdit,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::edit_chat(org, actor, chat, edit, now))
    }

    /// Archives (read-only, kept so by the reconciler) or brings back.
    pub async fn set_chat_archived(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        change: ArchiveChange,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::set_archived(org, actor, chat, change, now))
    }

    /// Deletes a custom chat: hidden at once, restorable for
    /// [`PURGE_AFTER_SECS`], then purged.
    pub async fn delete_chat(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::delete_chat(org, actor, chat, now))
    }

    pub async fn restore_chat(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::restore_chat(org, actor, chat, now))
    }

    /// Adds people by hand, all or none. Someone not linked yet becomes a
    /// pending member and joins on linking.
    pub async fn add_chat_members(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        people: &[PersonId],
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::add_members(org, actor, chat, people, now))
    }

    /// Takes a member out. From an automatic chat a member is removed by
    /// hand and stays out whatever the roster says.
    pub async fn remove_chat_member(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        person: PersonId,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::remove_member(org, actor, chat, person, now))
    }

    /// Appoints a member as a chat admin or revokes them; the last admin stays.
    pub async fn set_chat_admin(
        &self,
        org: OrgId,
        actor: PersonId,
        chat: ChatId,
        person: PersonId,
        change: AdminChange,
        now: i64,
    ) -> Result<ManageOutcome, StorageError> {
        dispatch!(self.chat_admin::set_admin(org, actor, chat, person, change, now))
    }

    /// People `actor` may add, filtered by name, role, class and subject.
    pub async fn chat_candidates(
        &self,
        org: OrgId,
        actor: PersonId,
        filter: &CandidateFilter,
    ) -> Result<Candidates, StorageError> {
        dispatch!(self.chat_admin::candidates(org, actor, filter))
    }

    /// The audit log, newest first; administrators only.
    pub async fn chat_audit(
        &self,
        org: OrgId,
        actor: PersonId,
        filter: &AuditFilter,
    ) -> Result<Vec<AuditEntry>, StorageError> {
        dispatch!(self.chat_admin::audit_log(org, actor, filter))
    }

    /// Purges the chats deleted more than [`PURGE_AFTER_SECS`] before `now`:
    /// their messages and members are erased, the chat row stays for the
    /// audit log. Returns `(org, chat)` of each.
    pub async fn purge_deleted_chats(&self, now: i64) -> Result<Vec<(OrgId, ChatId)>, StorageError> {
        dispatch!(self.chat_admin::purge_deleted(now))
    }
}
