//! The data-rights half of `Store` (issue 21, items 5–6; 152-ФЗ): copies of a
//! person's data made in the background, the erasure of a former member's
//! Parta ID data, and how long a school keeps past years' archived chats.
//!
//! Who may be erased and when a copy or an archive goes are decided by
//! `identity::rights` and `roster::retention`; every administrator's act is a
//! `data_rights_audit` line written in the transaction that does it.

use crate::{Pool, StorageError, Store};
use roster::retention::Retention;
use serde::Serialize;
use serde_json::{Value, json};

/// A copy of a person's data, as its requester follows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportJob {
    pub id: i64,
    /// The Parta ID whose own copy this is.
    pub account_id: Option<i64>,
    /// An administrator's copy: the school and the person.
    pub org_id: Option<i64>,
    pub person_id: Option<i64>,
    pub person_name: Option<String>,
    /// `pending` (being made), `ready`, `failed` or `expired`.
    pub status: String,
    /// Percent done.
    pub progress: i64,
    pub sha256: Option<String>,
    /// The zip's size in bytes, once ready.
    pub size: Option<i64>,
    pub created_at: i64,
    pub ready_at: Option<i64>,
    /// After this the copy is gone (24 hours after it was made).
    pub expires_at: Option<i64>,
}

/// Everything a copy of a person's data holds.
#[derive(Debug, Clone, Serialize)]
pub struct ExportData {
    pub profile: Option<ExportProfile>,
    pub school_accounts: Vec<ExportSchoolAccount>,
    pub chats: Vec<ExportChat>,
    pub messages: Vec<ExportMessage>,
    pub files: Vec<ExportFile>,
}

/// The Parta ID and its learning profile.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportProfile {
    pub phone: Option<String>,
    pub login: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub created_at: i64,
    pub profile_last_name: Option<String>,
    pub profile_first_name: Option<String>,
    pub profile_middle_name: Option<String>,
}

/// A school account the Parta ID holds (or the one an administrator asked for).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportSchoolAccount {
    pub org_name: String,
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub login: Option<String>,
    pub linked_at: Option<i64>,
    #[sqlx(skip)]
    pub roles: Vec<String>,
}

/// A chat the person is in, with their membership.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportChat {
    pub chat_id: i64,
    pub org_name: String,
    pub name: String,
    pub kind: String,
    pub state: String,
    pub admin: bool,
    pub status: String,
    pub source: String,
    pub reasons: String,
}

/// A message the person wrote (deleted and hidden ones have no words left).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportMessage {
    pub id: i64,
    pub chat_id: i64,
    pub chat_name: String,
    pub text: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// A file the person sent; its bytes go into the zip.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ExportFile {
    pub id: i64,
    pub chat_id: i64,
    pub message_id: Option<i64>,
    pub name: String,
    pub mime: String,
    pub size: i64,
    #[serde(skip)]
    pub sha256: String,
    pub created_at: i64,
}

/// What erasing a former member's data takes away.
#[derive(Debug, Clone)]
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
    /// The link, its profile and its Parta ID.
    pub(crate) link_ids: Option<(i64, i64, i64)>,
}

impl ErasurePlan {
    /// The counts, as the audit line keeps them.
    pub fn counts(&self) -> Value {
        json!({
            "messages": self.messages,
            "files": self.files,
            "file_bytes": self.file_bytes,
            "reactions": self.reactions,
            "votes": self.votes,
            "memberships": self.memberships,
            "link": self.link,
            "parta_id": self.parta_id,
        })
    }
}

/// A school's retention of past years' archived chats.
#[derive(Debug, Clone)]
pub struct RetentionSetting {
    /// Years after a year's end its archived chats are deleted; null: never.
    pub years: Option<i64>,
}

/// An archived chat the retention deletes.
#[derive(Debug, Clone, sqlx::FromRow)]
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

/// A person who left the school and whose data is not erased yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FormerMember {
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
}

/// One line of the school's data-rights audit.
#[derive(Debug, Clone, sqlx::FromRow)]
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
    #[sqlx(skip)]
    pub details: Value,
    /// `details` as stored.
    #[sqlx(rename = "details")]
    pub(crate) details_json: String,
    pub at: i64,
}

impl Store {
    /// The people who left the school and whose data may still be erased.
    pub async fn former_members(&self, org: i64) -> Result<Vec<FormerMember>, StorageError> {
        dispatch!(self.data_rights::former_members(org))
    }

    /// The school's data-rights audit, newest first.
    pub async fn data_rights_audit(&self, org: i64) -> Result<Vec<RightsAuditEntry>, StorageError> {
        dispatch!(self.data_rights::audit_log(org))
    }

    /// A copy of the account's own data; one still being made is returned again.
    pub async fn create_self_export(&self, account: i64, now: i64) -> Result<ExportJob, StorageError> {
        dispatch!(self.data_rights::create_self_export(account, now))
    }

    /// An administrator's copy of a person of their school, audited with the reason.
    pub async fn create_org_export(
        &self,
        org: i64,
        actor: i64,
        person: i64,
        reason: &str,
        now: i64,
    ) -> Result<ExportJob, StorageError> {
        dispatch!(self.data_rights::create_org_export(org, actor, person, reason, now))
    }

    pub async fn export_job(&self, id: i64) -> Result<ExportJob, StorageError> {
        dispatch!(self.data_rights::export_job(id))
    }

    pub async fn account_exports(&self, account: i64) -> Result<Vec<ExportJob>, StorageError> {
        dispatch!(self.data_rights::account_exports(account))
    }

    pub async fn org_exports(&self, org: i64) -> Result<Vec<ExportJob>, StorageError> {
        dispatch!(self.data_rights::org_exports(org))
    }

    /// Copies still being made (after a restart, to be made again).
    pub async fn pending_exports(&self) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.data_rights::pending_exports())
    }

    pub async fn set_export_progress(&self, id: i64, progress: i64) -> Result<(), StorageError> {
        dispatch!(self.data_rights::set_export_progress(id, progress))
    }

    pub async fn finish_export(&self, id: i64, sha256: &str, size: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.data_rights::finish_export(id, sha256, size, now))
    }

    pub async fn fail_export(&self, id: i64) -> Result<(), StorageError> {
        dispatch!(self.data_rights::fail_export(id))
    }

    /// Expires the copies past their day; the zips' hashes to delete.
    pub async fn expire_exports(&self, now: i64) -> Result<Vec<String>, StorageError> {
        dispatch!(self.data_rights::expire_exports(now))
    }

    pub async fn export_data(&self, job: &ExportJob) -> Result<ExportData, StorageError> {
        dispatch!(self.data_rights::export_data(job))
    }

    /// The dry-run of an erasure: what would go, or why it may not.
    pub async fn erasure_plan(&self, org: i64, person: i64) -> Result<ErasurePlan, StorageError> {
        dispatch!(self.data_rights::erasure_plan(org, person))
    }

    /// Erases a former member's Parta ID data in the school, audited.
    pub async fn erase_person(
        &self,
        org: i64,
        actor: i64,
        person: i64,
        reason: &str,
        now: i64,
    ) -> Result<ErasurePlan, StorageError> {
        dispatch!(self.data_rights::erase_person(org, actor, person, reason, now))
    }

    pub async fn retention(&self, org: i64) -> Result<RetentionSetting, StorageError> {
        dispatch!(self.data_rights::retention(org))
    }

    pub async fn set_retention(
        &self,
        org: i64,
        actor: i64,
        retention: Retention,
        now: i64,
    ) -> Result<RetentionSetting, StorageError> {
        dispatch!(self.data_rights::set_retention(org, actor, retention, now))
    }

    /// The archived chats `retention` deletes on `today`.
    pub async fn retention_preview(
        &self,
        org: i64,
        retention: Retention,
        today: chrono::NaiveDate,
    ) -> Result<Vec<RetentionChat>, StorageError> {
        dispatch!(self.data_rights::retention_preview(org, retention, today))
    }

    /// Deletes the archived chats due on `today` in every school; (school, chats).
    pub async fn run_retention(&self, today: chrono::NaiveDate, now: i64) -> Result<Vec<(i64, usize)>, StorageError> {
        dispatch!(self.data_rights::run_retention(today, now))
    }
}
