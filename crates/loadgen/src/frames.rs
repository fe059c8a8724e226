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
    /// bare-ws's ack names the send by its `txn`.
    #[serde(default)]
    pub txn: Option<u64>,
    /// bare-ws's `msg` carries the text as `body`.
    #[serde(default, borrow)]
    pub body: Option<Cow<'a, str>>,
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

    /// A message delivered to a member: Parta's `event`, bare-ws's `msg`.
    pub fn is_delivery(&self) -> bool {
        matches!(self.kind.as_ref(), "event" | "msg")
    }

    /// The delivered message's text, in either protocol.
    pub fn delivered_text(&self) -> Option<&str> {
        self.message_text().or(self.body.as_deref())
    }

    /// The server took the connection in: Parta's `ready`, bare-ws's `joined`.
    pub fn is_ready(&self) -> bool {
        matches!(self.kind.as_ref(), "ready" | "joined")
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
    fn a_bare_ws_msg_is_a_delivery_with_its_send_time_and_its_ack_names_the_txn() {
        let text = message_text(7_654_321, 1, 2, 100);
        let frame = format!(r#"{{"type":"msg","seq":42,"from":"u1","body":"{text}"}}"#);
        let f = Incoming::parse(&frame).unwrap();
        assert!(f.is_delivery());
        assert_eq!((f.seq, f.delivered_text().and_then(sent_us)), (42, Some(7_654_321)));
        let ack = Incoming::parse(r#"{"type":"ack","txn":7,"seq":42}"#).unwrap();
        assert_eq!((ack.kind.as_ref(), ack.txn, ack.seq), ("ack", Some(7), 42));
        assert!(Incoming::parse(r#"{"type":"joined","room":"R"}"#).unwrap().is_ready());
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
