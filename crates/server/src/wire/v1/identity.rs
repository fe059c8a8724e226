//! Parta ID: messenger sessions and links.

use serde::Serialize;
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
