//! "Управление чатами": chats, members, candidates and the audit log.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A chat on the management page.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagedChat {
    pub id: i64,
    /// `staff_room`, `class`, `parents`, `subject` or `custom`.
    pub kind: String,
    pub name: String,
    pub description: String,
    /// `live`, `archived` or `read_only_hidden` (the module is off, or the chat is deleted).
    pub state: String,
    pub announcement_only: bool,
    /// The class of a class, parents' or subject chat.
    pub class_id: Option<i64>,
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

impl From<storage::ManagedChat> for ManagedChat {
    fn from(value: storage::ManagedChat) -> Self {
        let storage::ManagedChat {
            id,
            kind,
            name,
            description,
            state,
            announcement_only,
            class_id,
            class_name,
            year_id,
            year_title,
            subject,
            group_name,
            member_count,
            pending_count,
            admin_count,
            name_overridden,
            archived_by_hand,
            deleted_at,
            purge_at,
            purged,
            version,
            can_manage,
        } = value;
        ManagedChat {
            id: id.into(),
            kind,
            name,
            description,
            state,
            announcement_only,
            class_id: class_id.map(Into::into),
            class_name,
            year_id,
            year_title,
            subject,
            group_name,
            member_count,
            pending_count,
            admin_count,
            name_overridden,
            archived_by_hand,
            deleted_at,
            purge_at,
            purged,
            version,
            can_manage,
        }
    }
}

/// A member as the management page explains them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagedMember {
    pub person: i64,
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

impl From<storage::ManagedMember> for ManagedMember {
    fn from(value: storage::ManagedMember) -> Self {
        let storage::ManagedMember {
            person,
            last_name,
            first_name,
            middle_name,
            roles,
            admin,
            admin_overridden,
            source,
            status,
            reasons,
        } = value;
        ManagedMember {
            person: person.into(),
            last_name,
            first_name,
            middle_name,
            roles,
            admin,
            admin_overridden,
            source,
            status,
            reasons,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagedChatDetail {
    #[serde(flatten)]
    pub chat: ManagedChat,
    pub members: Vec<ManagedMember>,
    /// Other chats of the organisation with the same name (allowed; the page warns).
    pub same_name: i64,
}

impl From<storage::ManagedChatDetail> for ManagedChatDetail {
    fn from(value: storage::ManagedChatDetail) -> Self {
        let storage::ManagedChatDetail { chat, members, same_name } = value;
        ManagedChatDetail { chat: chat.into(), members: members.into_iter().map(Into::into).collect(), same_name }
    }
}

/// A person staff may add, as the add-participants dialog lists them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub id: i64,
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

impl From<storage::Candidate> for Candidate {
    fn from(value: storage::Candidate) -> Self {
        let storage::Candidate { id, last_name, first_name, middle_name, roles, classes, linked, member } = value;
        Candidate { id: id.into(), last_name, first_name, middle_name, roles, classes, linked, member }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidates {
    pub people: Vec<Candidate>,
    /// More people match: narrow the filters.
    pub truncated: bool,
}

impl From<storage::Candidates> for Candidates {
    fn from(value: storage::Candidates) -> Self {
        let storage::Candidates { people, truncated } = value;
        Candidates { people: people.into_iter().map(Into::into).collect(), truncated }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NamedId {
    pub id: i64,
    pub name: String,
}

impl From<storage::NamedId> for NamedId {
    fn from(value: storage::NamedId) -> Self {
        let storage::NamedId { id, name } = value;
        NamedId { id, name }
    }
}

/// What the management page needs to draw its filters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManageContext {
    pub org_id: i64,
    pub org_name: String,
    /// A school administrator: every chat, the audit log.
    pub administrator: bool,
    pub can_create: bool,
    pub classes: Vec<NamedId>,
    pub years: Vec<NamedId>,
    pub subjects: Vec<NamedId>,
}

impl From<storage::ManageContext> for ManageContext {
    fn from(value: storage::ManageContext) -> Self {
        let storage::ManageContext { org_id, org_name, administrator, can_create, classes, years, subjects } = value;
        ManageContext {
            org_id: org_id.into(),
            org_name,
            administrator,
            can_create,
            classes: classes.into_iter().map(Into::into).collect(),
            years: years.into_iter().map(Into::into).collect(),
            subjects: subjects.into_iter().map(Into::into).collect(),
        }
    }
}

/// One management action.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub chat_id: i64,
    pub chat_name: String,
    /// `None` for the system (a purge).
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    /// `create`, `edit`, `archive`, `unarchive`, `delete`, `restore`, `purge`,
    /// `add_member`, `remove_member`, `appoint_admin` or `revoke_admin`.
    pub action: String,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    #[schema(value_type = Object)]
    pub before: serde_json::Value,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
}

impl From<storage::AuditEntry> for AuditEntry {
    fn from(value: storage::AuditEntry) -> Self {
        let storage::AuditEntry {
            id,
            at,
            chat_id,
            chat_name,
            actor_id,
            actor_name,
            action,
            person_id,
            person_name,
            before,
            after,
        } = value;
        AuditEntry {
            id,
            at,
            chat_id: chat_id.into(),
            chat_name,
            actor_id: actor_id.map(Into::into),
            actor_name,
            action,
            person_id: person_id.map(Into::into),
            person_name,
            before,
            after,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewChatForm {
    /// 1–100 characters. Another chat may have the same name (`same_name` says so).
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: String,
    /// Only chat admins post.
    #[serde(default)]
    pub announcement_only: bool,
    /// People to add besides the creator, who becomes the chat's admin.
    #[serde(default)]
    #[schema(max_items = 2000)]
    pub members: Vec<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct ChatEditForm {
    /// The `version` the editor saw: if someone changed the chat since, the edit is refused (`chat_changed`).
    pub version: i64,
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub announcement_only: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct PeopleForm {
    /// School accounts of this organisation; all are added or none.
    #[schema(min_items = 1, max_items = 2000)]
    pub people: Vec<i64>,
}

#[derive(Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ru,
    En,
}
