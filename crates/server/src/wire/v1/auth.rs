//! The school portal's sign-in: the signed-in person and their password.

use super::{PersonView, RoleView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// Who is signed in and what they may see.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub person: PersonView,
    pub roles: Vec<RoleView>,
}

#[derive(Deserialize, ToSchema)]
pub struct PhoneSignIn {
    /// A proof of the phone of the Parta ID linked to the school account.
    pub proof: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignedOut {
    /// The messenger was open on this device too and is signed out as well.
    pub messenger_signed_out: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current: String,
    #[schema(min_length = 8)]
    pub new: String,
}
