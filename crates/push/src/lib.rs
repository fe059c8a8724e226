//! Web Push for the messenger (issue 19): reaching a person whose tab is
//! closed. Three parts, each usable alone:
//!
//! - [`VapidKey`]: the server's identity towards push services (RFC 8292),
//!   made once and kept with the data so every node signs with the same key;
//! - [`Subscription`]: what a browser's `PushSubscription.toJSON()` gives,
//!   checked before anything is stored — only `https` endpoints of the push
//!   services on the [`AllowList`], so a subscription cannot make the server
//!   send requests into the school's own network (SSRF);
//! - [`Pusher`]: encrypts a payload to the browser's keys (RFC 8291) and
//!   delivers it (RFC 8030), retrying what a push service asks to be retried
//!   and reporting subscriptions the service says are gone.
//!
//! What to push to whom is the server's business, not this crate's.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod key;
#[cfg(feature = "receiver")]
pub mod receiver;
mod send;
mod subscription;

pub use key::VapidKey;
pub use send::{Delivery, MAX_PAYLOAD, Notice, Pusher, PusherConfig, Urgency};
pub use subscription::{AllowList, BROWSER_PUSH_SERVICES, Subscription, SubscriptionError};

/// What can go wrong with the server's own key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the VAPID private key must be 32 bytes in base64url (as `parta` prints it), not {0}")]
    Malformed(String),
}

/// The HTTP client for push services could not be made (no TLS roots).
#[derive(Debug, thiserror::Error)]
#[error("cannot make the HTTP client for push services: {0}")]
pub struct ClientError(pub(crate) String);
