use crate::{SendFuture, SmsSender};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// A message the development sender "sent".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentSms {
    pub phone: String,
    pub text: String,
    /// Unix seconds.
    pub sent_at: i64,
}

/// Development and demo delivery: the message goes to the server log, where
/// whoever runs the server reads the code. Never use it for real people.
#[derive(Debug, Default)]
pub struct LogSender {
    outbox: Option<Outbox>,
}

#[derive(Debug)]
struct Outbox {
    capacity: usize,
    messages: Mutex<VecDeque<SentSms>>,
}

impl LogSender {
    pub fn new() -> LogSender {
        LogSender::default()
    }

    /// Also keeps the last `capacity` messages in memory, for demo mode, where
    /// the page shows the code instead of sending it to anyone's phone.
    pub fn with_outbox(capacity: usize) -> LogSender {
        LogSender { outbox: Some(Outbox { capacity, messages: Mutex::new(VecDeque::with_capacity(capacity)) }) }
    }

    /// Newest first; empty without an outbox.
    pub fn outbox(&self) -> Vec<SentSms> {
        self.outbox.as_ref().map_or_else(Vec::new, |outbox| outbox.lock().iter().cloned().collect())
    }

    fn record(&self, phone: &str, text: &str) {
        tracing::info!(phone, text, "SMS (development sender)");
        let Some(outbox) = &self.outbox else { return };
        if outbox.capacity == 0 {
            return;
        }
        let sent_at =
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let mut messages = outbox.lock();
        messages.truncate(outbox.capacity - 1);
        messages.push_front(SentSms { phone: phone.to_owned(), text: text.to_owned(), sent_at });
    }
}

impl Outbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<SentSms>> {
        // A panic elsewhere while holding the lock leaves a valid queue behind.
        self.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SmsSender for LogSender {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> SendFuture<'a> {
        self.record(phone, text);
        Box::pin(std::future::ready(Ok(())))
    }

    fn dev_outbox(&self) -> Option<Vec<SentSms>> {
        self.outbox.as_ref().map(|_| self.outbox())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn the_outbox_keeps_the_newest_message_first_and_drops_the_oldest_past_its_capacity() {
        let sender = LogSender::with_outbox(2);
        for text in ["one", "two", "three"] {
            block_on(sender.send("+79123456789", text)).unwrap();
        }
        let texts: Vec<String> = sender.outbox().into_iter().map(|m| m.text).collect();
        assert_eq!(texts, ["three", "two"]);
        let newest = &sender.outbox()[0];
        assert_eq!(newest.phone, "+79123456789");
        assert!(newest.sent_at > 1_700_000_000);
    }

    #[test]
    fn a_sender_without_an_outbox_keeps_nothing() {
        let sender = LogSender::new();
        block_on(sender.send("+79123456789", "code")).unwrap();
        assert!(sender.outbox().is_empty());
        assert_eq!(sender.dev_outbox(), None);
        assert_eq!(LogSender::with_outbox(5).dev_outbox(), Some(vec![]));
    }

    #[test]
    fn an_outbox_of_capacity_zero_stays_empty() {
        let sender = LogSender::with_outbox(0);
        block_on(sender.send("+79123456789", "code")).unwrap();
        assert!(sender.outbox().is_empty());
    }
}
