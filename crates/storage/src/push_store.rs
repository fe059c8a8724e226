//! Web Push (issue 19): the server's VAPID key and the browsers' push
//! subscriptions, one per messenger session, and who a new message is pushed
//! to. Which pushes are wanted is decided by the server; this keeps the rows.

use crate::{Pool, StorageError, Store};
use ::messenger::notify::Level;

/// A person's notifications in one chat, as they chose them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NotifySetting {
    /// `None`: the chat's kind decides (`messenger::notify::default_level`).
    pub level: Option<Level>,
    /// «Без уведомлений» until then; `i64::MAX` until turned on.
    pub muted_until: Option<i64>,
}

impl NotifySetting {
    pub fn muted(&self, now: i64) -> bool {
        self.muted_until.is_some_and(|until| until > now)
    }
}

/// Who a new message may be pushed to, with what the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAudience {
    /// The school, whose quiet hours apply.
    pub org: i64,
    pub kind: String,
    /// The chat's own name (empty for a direct chat, which each side sees
    /// under the other's name).
    pub chat_name: String,
    /// Active members.
    pub members: i64,
    /// The author is one of the chat's admins.
    pub author_admin: bool,
    /// The author of the message replied to.
    pub reply_author: Option<i64>,
    pub targets: Vec<PushTarget>,
}

/// A browser subscribed to pushes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevice {
    pub subscription: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The Parta ID it belongs to.
    pub account: i64,
}

/// One member's subscription a new message may be pushed to (a Parta ID
/// with two school accounts in the chat comes once for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub device: PushDevice,
    /// The member, and whether they are one of the chat's admins.
    pub person: i64,
    pub admin: bool,
    pub setting: NotifySetting,
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

    /// Where message `seq` of `chat` written by `author` (a person) may be
    /// pushed: the live sessions' subscriptions of the chat's reachable
    /// members who have not read it yet, except the author's own Parta ID and
    /// anyone who blocked the author; with each member's choice and the facts
    /// `messenger::notify` decides by. `reply_to`: the message it answers.
    /// `None` when there is no such subscription.
    pub async fn push_audience(
        &self,
        chat: i64,
        seq: i64,
        author: i64,
        reply_to: Option<i64>,
        now: i64,
    ) -> Result<Option<PushAudience>, StorageError> {
        dispatch!(self.push::audience(chat, seq, author, reply_to, now))
    }

    /// Whether any reachable member of `chat` who has not read up to `below`
    /// has a subscribed device on a live session: when none has, no message
    /// of the chat up to `below` is pushed, and nothing more need be asked.
    pub async fn push_devices_unread(&self, chat: i64, below: i64, now: i64) -> Result<bool, StorageError> {
        dispatch!(self.push::any_unread_device(chat, below, now))
    }

    /// The subscribed devices of these Parta IDs' live sessions.
    pub async fn push_devices(&self, accounts: &[i64], now: i64) -> Result<Vec<PushDevice>, StorageError> {
        dispatch!(self.push::devices(accounts, now))
    }

    /// `person`'s notifications in `chat`.
    pub async fn notify_setting(&self, chat: i64, person: i64) -> Result<NotifySetting, StorageError> {
        dispatch!(self.push::setting(chat, person))
    }

    pub async fn set_notify_setting(&self, chat: i64, person: i64, setting: NotifySetting) -> Result<(), StorageError> {
        dispatch!(self.push::set_setting(chat, person, setting))
    }
}
