//! Polls: asking and voting, and polls as their message and `poll` events
//! carry them.

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

#[derive(Deserialize, ToSchema)]
pub struct PollForm {
    /// The client's idempotency key, as in a send.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    /// Not blank, at most 500 characters once trimmed.
    #[schema(schema_with = crate::openapi::poll_question)]
    pub question: String,
    /// 2–10 options, each not blank, one line of at most 200 characters.
    #[schema(schema_with = crate::openapi::poll_options)]
    pub options: Vec<String>,
    /// Several answers may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// Nobody is ever told who chose what.
    #[serde(default)]
    pub anonymous: bool,
    /// When it closes (unix seconds, in the future); open until closed without it.
    pub closes_at: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct VoteForm {
    /// The chosen options' indexes (one, unless the poll takes several).
    #[schema(min_items = 1, max_items = 10)]
    pub options: Vec<i64>,
}
