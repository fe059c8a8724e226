//! Polls, as their message and `poll` events carry them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A poll as every member sees it. An anonymous poll names no voter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PollView {
    pub multiple: bool,
    pub anonymous: bool,
    pub closes_at: Option<i64>,
    /// When its author closed it early.
    pub closed_at: Option<i64>,
    pub options: Vec<PollOption>,
    /// How many people voted.
    pub voters: i64,
    /// The viewer's own choice (option indexes): in answers to the viewer
    /// only, never in events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<Vec<i64>>,
}

impl From<storage::PollView> for PollView {
    fn from(value: storage::PollView) -> Self {
        let storage::PollView { multiple, anonymous, closes_at, closed_at, options, voters, mine } = value;
        PollView {
            multiple,
            anonymous,
            closes_at,
            closed_at,
            options: options.into_iter().map(Into::into).collect(),
            voters,
            mine,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PollOption {
    pub text: String,
    pub votes: i64,
    /// Who chose it (person ids), in a named poll; absent in an anonymous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<i64>>,
}

impl From<storage::PollOption> for PollOption {
    fn from(value: storage::PollOption) -> Self {
        let storage::PollOption { text, votes, people } = value;
        PollOption { text, votes, people }
    }
}
