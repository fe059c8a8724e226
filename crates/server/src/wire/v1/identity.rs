//! Parta ID: proving a phone, the "Чаты" window of the school portal, and
//! messenger sign-in, sessions and links.

use super::ChatListItem;
use identity::Phone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessengerSessionView {
    pub id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    /// Opened from the school portal ("Перейти в мессенджер"); ends on unlink.
    pub from_school: bool,
}

impl From<storage::MessengerSessionView> for MessengerSessionView {
    fn from(value: storage::MessengerSessionView) -> Self {
        let storage::MessengerSessionView { id, created_at, last_seen_at, user_agent, from_school } = value;
        MessengerSessionView { id, created_at, last_seen_at, user_agent, from_school }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessengerLink {
    pub org_id: i64,
    pub org_name: String,
    pub person_id: i64,
    pub linked_at: i64,
}

impl From<storage::MessengerLink> for MessengerLink {
    fn from(value: storage::MessengerLink) -> Self {
        let storage::MessengerLink { org_id, org_name, person_id, linked_at } = value;
        MessengerLink { org_id, org_name, person_id, linked_at }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneForm {
    /// As the person typed it: "8 (912) 345-67-89", "+7 912 345-67-89", "89123456789".
    #[schema(min_length = 1)]
    pub phone: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhoneStatus {
    /// E.164, to send back in the next steps.
    pub phone: String,
    /// "+7 912 345-67-89".
    pub display: String,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSent {
    pub display: String,
    /// Seconds the code stays valid.
    pub expires_in: u64,
    /// Seconds before another code may be requested.
    pub resend_after: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct ProofForm {
    #[schema(min_length = 1)]
    pub phone: String,
    /// The code from the SMS…
    pub code: Option<String>,
    /// …or the password of the existing Parta ID.
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Proof {
    /// Single-use, valid 15 minutes: pass it to the step that needs a proven phone.
    pub proof: String,
    pub account_exists: bool,
    pub has_profile: bool,
    /// Whose Parta ID the proven phone has, masked: «Ева М.». The full name
    /// is never given out: on a family phone it may be somebody else's.
    pub holder: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AboutMe {
    /// No markup characters (`roster::MARKUP`): a name is a name.
    #[schema(min_length = 1, max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub last_name: String,
    #[schema(min_length = 1, max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub first_name: String,
    #[schema(max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub middle_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LinkedProfile {
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    /// "+7 912 ***-**-89": the owner's own number, partly hidden.
    pub phone_masked: Option<String>,
    pub linked_at: i64,
}

impl From<storage::LinkView> for LinkedProfile {
    fn from(value: storage::LinkView) -> Self {
        let storage::LinkView {
            link_id: _,
            profile_id: _,
            account_id: _,
            last_name,
            first_name,
            middle_name,
            phone,
            linked_at,
        } = value;
        LinkedProfile { last_name, first_name, middle_name, phone_masked: masked(phone.as_deref()), linked_at }
    }
}

/// What the "Чаты" window shows the signed-in person for one organisation.
#[derive(Serialize, ToSchema)]
pub struct ChatsWindow {
    pub org_id: i64,
    pub org_name: String,
    pub available: bool,
    /// `not_general_education` or `module_off` when chats are not available.
    pub unavailable_reason: Option<&'static str>,
    pub linked: Option<LinkedProfile>,
    /// Employees see "Управление чатами".
    pub can_manage: bool,
    /// Guardians see «Дети»: profiles for their children.
    pub guardian: bool,
    /// The person's chats here (when linked and chats are available).
    pub chats: Vec<ChatListItem>,
    /// "About me" pre-filled from the school roster.
    pub suggested: AboutMe,
}

#[derive(Deserialize, ToSchema)]
pub struct LinkForm {
    #[schema(min_length = 1)]
    pub proof: String,
    /// "It's me": add this school account to the Parta ID the proven phone
    /// already has, keeping its name. Otherwise a new Parta ID is made with
    /// the names below, and a phone that has one is refused (`phone_in_use`)…
    #[serde(default)]
    pub join: bool,
    /// …unless it is the Parta ID of the caller's child, registered on the
    /// caller's phone: with `child_consent` it becomes the child's profile
    /// (chats and history kept) and the phone becomes the caller's.
    #[serde(default)]
    pub free_from_child: bool,
    /// The legal representative's consent (`GET /api/family/consent`).
    #[serde(default)]
    pub child_consent: bool,
    #[schema(max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub last_name: Option<String>,
    #[schema(max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub first_name: Option<String>,
    #[schema(max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub middle_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MessengerEntry {
    /// Open this address to land in the messenger signed in. Valid once, for a minute.
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    /// The owner's own number, in full: only they see this.
    pub phone: Option<String>,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub has_password: bool,
}

impl From<storage::AccountRow> for Account {
    fn from(value: storage::AccountRow) -> Self {
        let storage::AccountRow { id, phone, last_name, first_name, middle_name, password_hash } = value;
        Account {
            id,
            phone: phone.as_deref().and_then(|p| Phone::parse(p).ok()).map(|p| p.display()),
            last_name,
            first_name,
            middle_name,
            has_password: password_hash.is_some(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessengerMe {
    pub account: Account,
    /// None: no learning profile yet — link one from the school portal.
    pub profile: Option<AboutMe>,
    pub links: Vec<MessengerLink>,
}

#[derive(Deserialize, ToSchema)]
pub struct MessengerSignIn {
    /// The one-time token from "Перейти в мессенджер"…
    pub token: Option<String>,
    /// …or a phone proof ("Войти" with a code or password)…
    pub proof: Option<String>,
    /// …or the code a guardian's device shows for a child's («ABCD-EFGH»)…
    pub child_code: Option<String>,
    /// …or the login and password a guardian set for a child.
    pub login: Option<String>,
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct Registration {
    #[schema(min_length = 1)]
    pub proof: String,
    #[serde(flatten)]
    pub about: AboutMe,
    pub password: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionItem {
    #[serde(flatten)]
    pub session: MessengerSessionView,
    pub current: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct NewPassword {
    /// Required when the account already has a password.
    pub current: Option<String>,
    #[schema(min_length = 8, max_length = 256)]
    pub new: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneChange {
    /// A proof for the new phone (a code sent to it).
    #[schema(min_length = 1)]
    pub proof: String,
}

/// «+7 912 ***-**-89»: a phone as the portal and a guardian see it.
pub(super) fn masked(phone: Option<&str>) -> Option<String> {
    phone.and_then(|p| Phone::parse(p).ok()).map(|p| p.masked())
}
