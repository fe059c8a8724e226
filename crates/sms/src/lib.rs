//! SMS delivery for Parta ID codes (DESIGN §3), behind one trait so the
//! identity flows never know which provider is configured: a development
//! sender that writes to the log, and an HTTP sender for a real provider.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod config;
mod http;
mod log;

pub use config::{ConfigError, SmsConfig};
pub use http::{HttpSender, HttpSmsConfig};
pub use log::{LogSender, SentSms};

use std::future::Future;
use std::pin::Pin;

pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

pub trait SmsSender: Send + Sync + 'static {
    /// Sends `text` to `phone` (E.164, already validated by `identity::Phone`).
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> SendFuture<'a>;

    /// The messages kept for demo mode, newest first; `None` when this sender
    /// keeps none (every real provider), so `/api/dev/sms-outbox` can say so.
    fn dev_outbox(&self) -> Option<Vec<SentSms>> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// The provider could not be reached or kept failing after the retries:
    /// the person is told the code could not be sent and to try later.
    #[error("the SMS provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (a 4xx): retrying would not help.
    #[error("the SMS provider rejected the message: {0}")]
    Rejected(String),
}
