//! Web Push (issue 19): the server's VAPID key and the browsers' push
//! subscriptions, one per messenger session, and who a new message is pushed
//! to. Which pushes are wanted is decided by the server; this keeps the rows.

use crate::{Pool, StorageError, Store};

/// A subscription a new message may be pushed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub subscription: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The Parta ID it belongs to.
    pub account: i64,
    /// The chat's own name (empty for a direct chat, which each side sees
    /// under the other's name).
    pub chat_name: String,
    pub direct: bool,
    /// The person wants the text in the notification.
    pub previews: bool,
}

/// Saving a subscription was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionTaken {
    /// Another Parta ID's session holds this endpoint.
    ByAnotherAccount,
}

impl Store {
    /// The stored VAPID private key; `candidate` becomes it when there is
    /// none yet. Every node calls this at start and gets the same key.
    pub async fn push_vapid_key(&self, candidate: &str, now: i64) -> Result<String, StorageError> {
        dispatch!(self.push::vapid_key(candidate, now))
    }

    /// Keeps `session`'s subscription (replacing the session's earlier one).
    /// The same endpoint moves from another session of the same Parta ID (a
    /// browser signed in again); another Parta ID's endpoint is refused.
    pub async fn save_push_subscription(
        &self,
        session: i64,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        now: i64,
    ) -> Result<Result<i64, SubscriptionTaken>, StorageError> {
        dispatch!(self.push::save(session, endpoint, p256dh, auth, now))
    }

    /// Deletes the subscription with this endpoint if it belongs to one of
    /// `account`'s sessions; false when there is none such.
    pub async fn delete_push_subscription(&self, account: i64, endpoint: &str) -> Result<bool, StorageError> {
        dispatch!(self.push::delete(account, endpoint))
    }

    /// Drops a subscription the push service says is gone.
    pub async fn forget_push_subscription(&self, subscription: i64) -> Result<(), StorageError> {
        dispatch!(self.push::forget(subscription))
    }

    /// Whether `account`'s notifications show the message's text.
    pub async fn push_previews(&self, account: i64) -> Result<bool, StorageError> {
        dispatch!(self.push::previews(account))
    }

    pub async fn set_push_previews(&self, account: i64, shown: bool) -> Result<(), StorageError> {
        dispatch!(self.push::set_previews(account, shown))
    }

    /// Where to push message `seq` of `chat` written by `author` (a person):
    /// the live sessions' subscriptions of the chat's reachable members who
    /// have not read it yet, except the author's own Parta ID and anyone the
    /// author is blocked by.
    pub async fn push_targets(
        &self,
        chat: i64,
        seq: i64,
        author: i64,
        now: i64,
    ) -> Result<Vec<PushTarget>, StorageError> {
        dispatch!(self.push::targets(chat, seq, author, now))
    }
}
