//! Direct chats: opening one, and an organisation's rules for who may start
//! one with whom.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct DirectForm {
    pub org: i64,
    pub person: i64,
}

/// One rule of an organisation's direct-message policy.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct DmPolicyEntry {
    /// Who starts the conversation.
    #[schema(schema_with = crate::openapi::party)]
    pub from: String,
    #[schema(schema_with = crate::openapi::party)]
    pub to: String,
    /// `shared_class`: they share a class; `family`: a parent and their child.
    #[schema(schema_with = crate::openapi::dm_rule)]
    pub rule: String,
}
