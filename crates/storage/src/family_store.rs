//! Child profiles (DESIGN §2): a Parta ID a guardian makes for a child without
//! a phone, the consent recorded with it, the codes that sign the child in on
//! a device, and the report of Parta IDs that mix a student with others.

use crate::{Pool, StorageError, Store};
use identity::family::{self, Holder};

/// A student a Parta ID is guardian of, and where the child's profile stands.
#[derive(Debug, Clone)]
pub struct ChildRow {
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub schools: Vec<ChildSchoolRow>,
    /// The child profile guardians manage, when the child has one.
    pub managed: Option<ManagedChildRow>,
    /// The child's school account is linked to some Parta ID.
    pub linked: bool,
    /// …which also holds other people's school accounts (made before the
    /// family rules: a child on a parent's Parta ID).
    pub shared: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChildSchoolRow {
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: String,
    pub chats_enabled: bool,
    pub class_name: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ManagedChildRow {
    pub account_id: i64,
    pub created_at: i64,
    pub created_by_last: String,
    pub created_by_first: String,
    pub login: Option<String>,
    pub has_password: bool,
    /// Once the profile moved to the child's own phone.
    pub phone: Option<String>,
    /// Devices signed in now.
    pub devices: i64,
}

/// A legal representative's consent, as worded when given.
pub struct NewConsent {
    pub version: &'static str,
    pub wording: &'static str,
}

#[derive(Debug, Clone)]
pub struct CreatedChild {
    pub account_id: i64,
    /// Organisations whose chats change: linked in, or left (a shared Parta ID).
    pub orgs: Vec<i64>,
    /// The shared Parta ID the child left, whose messengers lose the child's chats.
    pub left: Option<i64>,
    /// False when the child had a child profile already (another guardian's).
    pub created: bool,
}

/// A Parta ID that holds a student's school account with somebody else's.
#[derive(Debug, Clone)]
pub struct MixedPartaId {
    pub account_id: i64,
    pub phone: Option<String>,
    pub holders: Vec<MixedHolderRow>,
}

/// One school account on a Parta ID that more than one person shares.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MixedHolderRow {
    pub account_id: i64,
    pub phone: Option<String>,
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub org_id: i64,
    pub org_name: String,
    pub student: bool,
}

impl Store {
    pub async fn children_of(&self, account: i64, now: i64) -> Result<Vec<ChildRow>, StorageError> {
        dispatch!(self.family::children_of(account, now))
    }

    pub async fn create_child_profile(
        &self,
        guardian_account: i64,
        child: i64,
        consent: &NewConsent,
        now: i64,
    ) -> Result<CreatedChild, StorageError> {
        dispatch!(self.family::create_child_profile(guardian_account, child, consent, now))
    }

    /// The child profile's account; `NotFound` for anyone but the child's guardians.
    pub async fn managed_child(&self, guardian_account: i64, child: i64) -> Result<i64, StorageError> {
        dispatch!(self.family::managed_child(guardian_account, child))
    }

    /// (organisation, school account) of each link of a child profile.
    pub async fn child_links(&self, child_account: i64) -> Result<Vec<(i64, i64)>, StorageError> {
        dispatch!(self.family::child_links(child_account))
    }

    pub async fn create_child_code(
        &self,
        code_hash: &str,
        child_account: i64,
        guardian_account: i64,
        expires_at: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.family::create_child_code(code_hash, child_account, guardian_account, expires_at))
    }

    pub async fn session_from_child_code(
        &self,
        code_hash: &str,
        session: &crate::NewSession,
    ) -> Result<Option<i64>, StorageError> {
        dispatch!(self.family::session_from_child_code(code_hash, session))
    }

    pub async fn set_child_login(
        &self,
        child_account: i64,
        login: &str,
        password_hash: &str,
    ) -> Result<(), StorageError> {
        dispatch!(self.family::set_child_login(child_account, login, password_hash))
    }

    pub async fn delete_child_profile(&self, child_account: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.family::delete_child_profile(child_account, now))
    }

    /// Parta IDs whose school accounts break the family rules (a student's
    /// with anybody else's): made before the rules, reported, never changed
    /// silently.
    pub async fn mixed_parta_ids(&self) -> Result<Vec<MixedPartaId>, StorageError> {
        let rows: Vec<MixedHolderRow> = dispatch!(self.family::shared_parta_ids())?;
        let mut groups: Vec<MixedPartaId> = Vec::new();
        for row in rows {
            match groups.last_mut() {
                Some(group) if group.account_id == row.account_id => group.holders.push(row),
                _ => groups.push(MixedPartaId {
                    account_id: row.account_id,
                    phone: row.phone.clone(),
                    holders: vec![row],
                }),
            }
        }
        groups.retain(|g| {
            let holders: Vec<Holder> =
                g.holders.iter().map(|h| Holder { person_id: h.person_id, student: h.student }).collect();
            family::is_mixed(&holders)
        });
        Ok(groups)
    }
}
