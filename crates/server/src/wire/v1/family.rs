//! «Дети»: a guardian's children, their child profiles, and Parta IDs shared
//! with a student.

use super::identity::masked;
use roster::{OrgKind, chats_availability};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ChildSchool {
    pub org_id: i64,
    pub org_name: String,
    pub class_name: Option<String>,
    pub chats_available: bool,
}

impl From<storage::ChildSchoolRow> for ChildSchool {
    fn from(value: storage::ChildSchoolRow) -> Self {
        let storage::ChildSchoolRow { org_id, org_name, org_kind, chats_enabled, class_name } = value;
        let kind = OrgKind::parse(&org_kind).unwrap_or(OrgKind::Other);
        ChildSchool { org_id, org_name, class_name, chats_available: chats_availability(kind, chats_enabled).is_ok() }
    }
}

/// Where a child's profile stands.
#[derive(Serialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum ProfileState {
    /// No profile yet: a guardian can make one.
    None,
    /// A child profile the guardians manage.
    Managed,
    /// The child's own Parta ID (their own phone): nothing to manage.
    Own,
    /// On a Parta ID shared with adults, made before the family rules: making
    /// a child profile moves the child onto it.
    Shared,
}

#[derive(Serialize, ToSchema)]
pub struct ManagedProfile {
    /// «Сафин Ринат»: the guardian who made it (the other guardian sees who).
    pub created_by: String,
    pub created_at: i64,
    pub login: Option<String>,
    pub has_password: bool,
    /// Once moved to the child's phone: «+7 912 ***-**-89».
    pub phone_masked: Option<String>,
    /// Devices signed in now.
    pub devices: i64,
}

impl From<storage::ManagedChildRow> for ManagedProfile {
    fn from(value: storage::ManagedChildRow) -> Self {
        let storage::ManagedChildRow {
            account_id: _,
            created_at,
            created_by_last,
            created_by_first,
            login,
            has_password,
            phone,
            devices,
        } = value;
        ManagedProfile {
            created_by: format!("{created_by_last} {created_by_first}"),
            created_at,
            login,
            has_password,
            phone_masked: masked(phone.as_deref()),
            devices,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Child {
    pub person_id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub schools: Vec<ChildSchool>,
    pub profile: ProfileState,
    pub managed: Option<ManagedProfile>,
}

impl From<storage::ChildRow> for Child {
    fn from(value: storage::ChildRow) -> Self {
        let storage::ChildRow { person_id, last_name, first_name, middle_name, schools, managed, linked, shared } =
            value;
        let profile = match (&managed, linked, shared) {
            (Some(_), _, _) => ProfileState::Managed,
            (None, false, _) => ProfileState::None,
            (None, true, true) => ProfileState::Shared,
            (None, true, false) => ProfileState::Own,
        };
        Child {
            person_id,
            last_name,
            first_name,
            middle_name,
            schools: super::list(schools),
            profile,
            managed: managed.map(Into::into),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewChildProfile {
    /// The guardian confirms, as the child's legal representative, the
    /// consent whose wording is `consent_text` (version `consent_version`).
    pub consent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentWording {
    pub version: &'static str,
    pub text: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ChildSignInCode {
    /// «ABCD-EFGH»: typed on the child's device under «Войти по коду от родителя».
    pub code: String,
    pub expires_at: i64,
    /// Opens the messenger on the child's device signed in: what the QR holds.
    pub url: String,
    /// The QR code of `url`, as SVG.
    pub qr_svg: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChildLogin {
    /// 3–64 letters, digits or . _ - @; unique among Parta IDs.
    pub login: String,
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ChildPhone {
    /// A proof of the child's new phone (a code sent to it).
    pub proof: String,
}

#[derive(Serialize, ToSchema)]
pub struct SharedHolder {
    pub person_id: i64,
    /// «Малышева Ева»
    pub name: String,
    pub org_name: String,
    pub student: bool,
}

impl From<storage::MixedHolderRow> for SharedHolder {
    fn from(value: storage::MixedHolderRow) -> Self {
        let storage::MixedHolderRow {
            account_id: _,
            phone: _,
            person_id,
            last_name,
            first_name,
            org_id: _,
            org_name,
            student,
        } = value;
        SharedHolder { person_id, name: format!("{last_name} {first_name}"), org_name, student }
    }
}

/// A Parta ID that holds a student's school account together with someone
/// else's: made before the family rules, reported, never changed silently.
#[derive(Serialize, ToSchema)]
pub struct SharedParta {
    pub phone_masked: Option<String>,
    pub holders: Vec<SharedHolder>,
}

impl From<storage::MixedPartaId> for SharedParta {
    fn from(value: storage::MixedPartaId) -> Self {
        let storage::MixedPartaId { account_id: _, phone, holders } = value;
        SharedParta { phone_masked: masked(phone.as_deref()), holders: super::list(holders) }
    }
}
