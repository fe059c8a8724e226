//! Calls, the storage half (docs/protocol.md "Calls"): a row per call, who
//! took part and when, and the record message the chat shows once it is over.
//! The server holds live calls in memory (`messenger::call::Call` decides what
//! each join and leave means) and writes here what happened; people are
//! school accounts (`people.id`), already resolved and checked by the server.

use crate::{Author, EventView, Pool, StorageError, Store};
use messenger::call::{CallKind, CallOutcome};
use serde::{Deserialize, Serialize};

/// A finished call, as its record message carries it (`MessageView.call`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl Store {
    /// Records a call `started_by_person` starts in `chat`, hosted on `node`,
    /// with the starter as its first participant. Returns the call's id;
    /// `CallLive` when the chat has a call already, on this node or another.
    pub async fn start_call(
        &self,
        chat: i64,
        started_by_person: i64,
        kind: CallKind,
        node: &str,
        now: i64,
    ) -> Result<i64, StorageError> {
        dispatch!(self.calls::start_call(chat, started_by_person, kind, node, now))
    }

    /// A person joins (or rejoins) a live call; the first join by anyone but
    /// the starter answers it. Changes nothing once the call is over;
    /// `NotFound` for an unknown call.
    pub async fn call_joined(&self, call: i64, person: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.calls::call_joined(call, person, now))
    }

    /// A person leaves a live call. Changes nothing if they are not in it or
    /// the call is over.
    pub async fn call_left(&self, call: i64, person: i64, now: i64) -> Result<(), StorageError> {
        dispatch!(self.calls::call_left(call, person, now))
    }

    /// Ends a call in one transaction: its outcome, everyone still in it
    /// leaving, and its record message appended to the chat with the chat's
    /// next sequence number. Returns that message's event, to publish; `None`
    /// when the call had already been finished (nothing is written again).
    /// `NotFound` for an unknown call.
    pub async fn finish_call(
        &self,
        call: i64,
        outcome: CallOutcome,
        now: i64,
    ) -> Result<Option<EventView>, StorageError> {
        dispatch!(self.calls::finish_call(call, outcome, now))
    }

    /// The calls `node` hosts (any node's, for `None`) that are not
    /// finished, oldest first: at start-up the node ends them as `ServerRestart`.
    pub async fn unfinished_calls(&self, node: Option<&str>) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.calls::unfinished_calls(node))
    }

    /// Where a call lives: its chat, the node hosting it, and whether it is over.
    pub async fn call_host(&self, call: i64) -> Result<Option<(i64, String, bool)>, StorageError> {
        dispatch!(self.calls::call_host(call))
    }

    /// The calls not finished in these chats: (call, chat, node), oldest first.
    pub async fn live_calls_in(&self, chats: &[i64]) -> Result<Vec<(i64, i64, String)>, StorageError> {
        dispatch!(self.calls::live_calls_in(chats))
    }

    /// The chat a call is in, and whether it is over.
    pub async fn call_chat(&self, call: i64) -> Result<Option<(i64, bool)>, StorageError> {
        dispatch!(self.calls::call_chat(call))
    }
}
