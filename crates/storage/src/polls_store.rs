//! Polls (issue 20): a message whose text is the question, with its options,
//! votes and closing. A poll is created with its message (`NewMessage.poll`,
//! in the append's transaction); its close, and its votes a few times a
//! second at most, are events in the chat's log (`Change::Poll`) carrying
//! the results, so sockets resume through them.
//! The rules are `messenger::polls`.

use crate::{EventView, Pool, StorageError, Store};
use serde::{Deserialize, Serialize};

/// A poll's settings as its message is appended (the question is the text).
#[derive(Debug, Clone)]
pub struct NewPoll {
    pub options: Vec<String>,
    pub multiple: bool,
    pub anonymous: bool,
    pub closes_at: Option<i64>,
}

/// A poll as every member sees it. An anonymous poll names no voter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl PollView {
    /// The poll as an event shows it to every member: nobody's own choice,
    /// and no voter named (a named poll's voters are in its history and
    /// CSV) — a class voting at once would otherwise send every member each
    /// voter's id again with every update.
    pub fn for_everyone(mut self) -> PollView {
        self.mine = None;
        for option in &mut self.options {
            option.people = None;
        }
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    pub text: String,
    pub votes: i64,
    /// Who chose it (person ids), in a named poll; absent in an anonymous one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<Vec<i64>>,
}

/// A poll's results as a table: one row per option, with the voters' names
/// in a named poll.
#[derive(Debug, Clone)]
pub struct PollExport {
    pub question: String,
    pub anonymous: bool,
    pub rows: Vec<(String, i64, Vec<String>)>,
}

/// What a close did: the event to publish, and the poll as its author now
/// sees it.
#[derive(Debug, Clone)]
pub struct PollChanged {
    pub event: EventView,
    pub poll: PollView,
}

impl Store {
    /// Replaces the account's vote in a poll of the chat, and marks the
    /// poll's results unlogged: [`Store::log_poll_results`] makes the event,
    /// at most a few times a second however fast the votes come.
    pub async fn vote(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        choice: &[i64],
        now: i64,
    ) -> Result<PollView, StorageError> {
        self.queued(async { dispatch!(self.polls::vote(account, chat, message, choice, now)) }).await
    }

    /// Logs the poll's results as they are now as a `poll` event of its
    /// chat; `None` if the poll is gone.
    pub async fn log_poll_results(&self, chat: i64, message: i64, now: i64) -> Result<Option<EventView>, StorageError> {
        self.queued(async { dispatch!(self.polls::log_unlogged(chat, message, now)) }).await
    }

    /// Polls with votes no event carries yet (their node stopped before
    /// logging them), as (chat, message).
    pub async fn unlogged_polls(&self) -> Result<Vec<(i64, i64)>, StorageError> {
        dispatch!(self.polls::unlogged())
    }

    /// The poll's author closes it before its time.
    pub async fn close_poll(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        now: i64,
    ) -> Result<PollChanged, StorageError> {
        self.queued(async { dispatch!(self.polls::close(account, chat, message, now)) }).await
    }

    pub async fn poll_export(&self, account: i64, chat: i64, message: i64) -> Result<PollExport, StorageError> {
        dispatch!(self.polls::export(account, chat, message))
    }
}
