//! Server frames as the workloads read them: only the fields they count,
//! borrowed from the text (no `serde_json::Value` per frame), so the generator
//! spends its share of the two cores on the sockets rather than on parsing.

use serde::Deserialize;
use std::borrow::Cow;

#[derive(Debug, Deserialize)]
pub struct Incoming<'a> {
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default)]
    pub chat: i64,
    #[serde(default)]
    pub seq: i64,
    #[serde(default, borrow)]
    pub client_id: Option<Cow<'a, str>>,
    #[serde(default)]
    pub message_id: i64,
    #[serde(default)]
    pub duplicate: bool,
    #[serde(default, borrow)]
    pub event: Option<EventBody<'a>>,
    #[serde(default, borrow)]
    pub code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub reason: Option<Cow<'a, str>>,
    /// The bare reference server's `ready` tells where its sequence stands.
    #[serde(default)]
    pub last_seq: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct EventBody<'a> {
    #[serde(default, borrow)]
    pub message: Option<MessageBody<'a>>,
}

#[derive(Debug, Deserialize)]
pub struct MessageBody<'a> {
    #[serde(borrow)]
    pub text: Cow<'a, str>,
}

impl<'a> Incoming<'a> {
    pub fn parse(text: &'a str) -> Option<Incoming<'a>> {
        serde_json::from_str(text).ok()
    }

    /// The text of a `message` event.
    pub fn message_text(&self) -> Option<&str> {
        self.event.as_ref()?.message.as_ref().map(|m| m.text.as_ref())
    }
}

/// The text a workload sends: the send time (µs since the run's start)
/// first, so that any receiver can tell the latency, then who and which,
/// padded with `.` to `len` bytes.
pub fn message_text(sent_us: u64, sender: usize, n: u64, len: usize) -> String {
    let mut text = format!("{sent_us:012} s{sender:04} n{n:09} ");
    while text.len() < len {
        text.push('.');
    }
    text
}

/// The send time a [`message_text`] carries.
pub fn sent_us(text: &str) -> Option<u64> {
    text.get(..12)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_frame_yields_its_seq_and_the_send_time_in_its_text() {
        let text = message_text(1_234_567, 3, 42, 100);
        assert_eq!(text.len(), 100);
        let frame = format!(
            r#"{{"type":"event","chat":7,"seq":9,"at":1,"event":{{"kind":"message","message":{{"id":5,"chat":7,"seq":9,"author":{{"person":1,"name":"A"}},"text":"{text}","reply_to":null,"mentions":[],"created_at":1,"edited_at":null,"deleted":false,"pinned":false,"reactions":[]}}}}}}"#
        );
        let f = Incoming::parse(&frame).unwrap();
        assert_eq!((f.kind.as_ref(), f.chat, f.seq), ("event", 7, 9));
        assert_eq!(f.message_text().and_then(sent_us), Some(1_234_567));
    }

    #[test]
    fn an_ack_yields_its_client_id() {
        let f =
            Incoming::parse(r#"{"type":"ack","client_id":"lg-1","chat":7,"seq":3,"message_id":11,"duplicate":true}"#)
                .unwrap();
        assert_eq!(
            (f.kind.as_ref(), f.client_id.as_deref(), f.seq, f.message_id, f.duplicate),
            ("ack", Some("lg-1"), 3, 11, true)
        );
    }
}
