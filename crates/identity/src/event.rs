//! What happened to links between school accounts and profiles, written to an
//! outbox table as JSON so provisioning (DESIGN §4) reacts after the commit.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnlinkReason {
    ByUser,
    AccountDeleted,
    /// A student's school account leaves a Parta ID it shared with others
    /// (made before the family rules) for a child profile of its own.
    MovedToChildProfile,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IdentityEvent {
    ProfileLinked { org_id: i64, person_id: i64, profile_id: i64 },
    ProfileUnlinked { org_id: i64, person_id: i64, profile_id: i64, reason: UnlinkReason },
}

impl IdentityEvent {
    /// The same string as the JSON `type`, for an indexed outbox column.
    pub fn kind(&self) -> &'static str {
        match self {
            IdentityEvent::ProfileLinked { .. } => "profile_linked",
            IdentityEvent::ProfileUnlinked { .. } => "profile_unlinked",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_stored_as_tagged_json_and_read_back() {
        let events = [
            IdentityEvent::ProfileLinked { org_id: 1, person_id: 2, profile_id: 3 },
            IdentityEvent::ProfileUnlinked { org_id: 1, person_id: 2, profile_id: 3, reason: UnlinkReason::ByUser },
        ];
        for event in events {
            let value = serde_json::to_value(&event).unwrap();
            assert_eq!(value["type"], event.kind());
            assert_eq!(serde_json::from_value::<IdentityEvent>(value).unwrap(), event);
        }
    }

    #[test]
    fn an_unlink_event_has_a_stable_json_shape() {
        let event = IdentityEvent::ProfileUnlinked {
            org_id: 10,
            person_id: 20,
            profile_id: 30,
            reason: UnlinkReason::AccountDeleted,
        };
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({"type": "profile_unlinked", "org_id": 10, "person_id": 20, "profile_id": 30, "reason": "account_deleted"})
        );
    }
}
