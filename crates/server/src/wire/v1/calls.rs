//! A finished call's record message.

use super::Author;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A finished call, as its record message carries it (`MessageView.call`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallRecord {
    pub id: i64,
    /// `audio` or `video`: what it was started as.
    pub kind: String,
    /// `finished`, `missed`, `declined`, `ended_by_moderator` or `server_restart`.
    pub outcome: String,
    pub started_at: i64,
    pub ended_at: i64,
    /// Seconds. A direct call counts from its answer (0 if nobody answered),
    /// a group call from its start.
    pub duration: i64,
    /// Everyone who joined, in the order they first did.
    pub participants: Vec<Author>,
}

impl From<storage::CallRecord> for CallRecord {
    fn from(value: storage::CallRecord) -> Self {
        let storage::CallRecord { id, kind, outcome, started_at, ended_at, duration, participants } = value;
        CallRecord {
            id,
            kind,
            outcome,
            started_at,
            ended_at,
            duration,
            participants: participants.into_iter().map(Into::into).collect(),
        }
    }
}
