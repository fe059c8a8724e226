//! Demo mode: the accounts `parta demo` prints.

use serde::Serialize;
use utoipa::ToSchema;

/// A demo login, as printed by `parta demo`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemoAccount {
    pub role: String,
    pub name: String,
    pub login: String,
    pub password: String,
    pub org: String,
    /// Who this is, e.g. «классный руководитель 5А».
    pub note: String,
}
