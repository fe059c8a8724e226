//! Data rights: copies, erasure plans, retention and their log.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A copy of a person's data, as its requester follows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExportJob {
    pub id: i64,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    /// `pending` (being made), `ready`, `failed` or `expired`.
    pub status: String,
    /// Percent done.
    pub progress: i64,
    /// The zip's size in bytes, once ready.
    pub size: Option<i64>,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    /// After this the copy is gone (24 hours after it was made).
    pub expires_at: Option<i64>,
}

impl From<storage::ExportJob> for ExportJob {
    fn from(value: storage::ExportJob) -> Self {
        let storage::ExportJob {
            id,
            account_id: _,
            org_id: _,
            person_id,
            person_name,
            status,
            progress,
            sha256: _,
            size,
            created_at,
            ready_at,
            expires_at,
        } = value;
        ExportJob { id, person_id, person_name, status, progress, size, created_at, ready_at, expires_at }
    }
}

/// What erasing a former member's data takes away.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasurePlan {
    /// Messages that stay, shown as «Удалённый пользователь».
    pub messages: i64,
    /// Files removed, and their bytes.
    pub files: i64,
    pub file_bytes: i64,
    pub reactions: i64,
    pub votes: i64,
    /// Chat memberships removed.
    pub memberships: i64,
    /// The link to a Parta ID goes.
    pub link: bool,
    /// The Parta ID itself is erased (no other school holds it).
    pub parta_id: bool,
}

impl From<storage::ErasurePlan> for ErasurePlan {
    fn from(value: storage::ErasurePlan) -> Self {
        let storage::ErasurePlan { messages, files, file_bytes, reactions, votes, memberships, link, parta_id, .. } =
            value;
        ErasurePlan { messages, files, file_bytes, reactions, votes, memberships, link, parta_id }
    }
}

/// A school's retention of past years' archived chats.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionSetting {
    /// Years after a year's end its archived chats are deleted; null: never.
    pub years: Option<i64>,
}

impl From<storage::RetentionSetting> for RetentionSetting {
    fn from(value: storage::RetentionSetting) -> Self {
        let storage::RetentionSetting { years } = value;
        RetentionSetting { years }
    }
}

/// An archived chat the retention deletes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionChat {
    pub chat_id: i64,
    pub name: String,
    pub kind: String,
    /// The academic year's title and last day (YYYY-MM-DD).
    pub year: String,
    pub year_end: String,
    pub messages: i64,
    pub files: i64,
}

impl From<storage::RetentionChat> for RetentionChat {
    fn from(value: storage::RetentionChat) -> Self {
        let storage::RetentionChat { chat_id, name, kind, year, year_end, messages, files } = value;
        RetentionChat { chat_id, name, kind, year, year_end, messages, files }
    }
}

/// A person who left the school and whose data is not erased yet.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormerMember {
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
}

impl From<storage::FormerMember> for FormerMember {
    fn from(value: storage::FormerMember) -> Self {
        let storage::FormerMember { person_id, last_name, first_name, middle_name } = value;
        FormerMember { person_id, last_name, first_name, middle_name }
    }
}

/// One line of the school's data-rights audit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RightsAuditEntry {
    pub id: i64,
    /// `export`, `erasure`, `retention_setting` or `retention`.
    pub action: String,
    /// Who did it (absent for the system's retention runs).
    pub actor_name: Option<String>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    pub reason: String,
    /// What went (counts), or the setting before and after.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub at: i64,
}

impl From<storage::RightsAuditEntry> for RightsAuditEntry {
    fn from(value: storage::RightsAuditEntry) -> Self {
        let storage::RightsAuditEntry { id, action, actor_name, person_id, person_name, reason, details, at, .. } =
            value;
        RightsAuditEntry { id, action, actor_name, person_id, person_name, reason, details, at }
    }
}

/// Why an administrator acts on a person's data: required.
#[derive(Deserialize, ToSchema)]
pub struct RightsForm {
    /// The person's request or the legal ground, at most 500 characters once trimmed.
    #[schema(
        max_length = 500,
        pattern = "^[^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0009\\u000B-\\u001F\\u007F-\\u009F]*$"
    )]
    pub reason: String,
    /// Erasure only: true once the administrator saw the dry-run and confirms.
    #[serde(default)]
    pub confirm: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct RetentionForm {
    /// 1–25 years after a year's end; null or 0: keep for ever.
    #[schema(minimum = 0, maximum = 25)]
    pub years: Option<i64>,
}
