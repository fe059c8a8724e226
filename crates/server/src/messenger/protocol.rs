//! The messenger's WebSocket protocol, version 1: every frame either side
//! sends, in one place (`docs/protocol.md` explains them). A change that
//! breaks old clients bumps [`VERSION`].

use serde::{Deserialize, Serialize};
use storage::{Change, EventView, MessageView};

pub const VERSION: u32 = 1;

/// A chat and the last sequence number the client has applied in it.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct Position {
    pub chat: i64,
    pub seq: i64,
}

/// Client → server.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello {
        v: u32,
        #[serde(default)]
        positions: Vec<Position>,
    },
    Send {
        chat: i64,
        client_id: String,
        text: String,
        #[serde(default)]
        reply_to: Option<i64>,
        #[serde(default)]
        mentions: Vec<i64>,
        /// Pending uploads of the sender in this chat (at most 10).
        #[serde(default)]
        attachments: Vec<i64>,
    },
    Typing {
        chat: i64,
    },
    Read {
        chat: i64,
        seq: i64,
    },
    Ping,
}

/// Why the server closes a connection.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ByeReason {
    /// The client fell behind; reconnect and resume.
    SlowConsumer,
    /// The session was revoked or expired (or the profile unlinked): sign in again.
    SessionEnded,
    /// The server is stopping; reconnect.
    Shutdown,
    /// The first frame was not a `hello` of a known version.
    Protocol,
}

impl ByeReason {
    pub fn resume(self) -> bool {
        matches!(self, ByeReason::SlowConsumer | ByeReason::Shutdown)
    }
}

/// Server → client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ready {
        v: u32,
        chats: Vec<i64>,
    },
    Event {
        chat: i64,
        seq: i64,
        at: i64,
        event: Event,
    },
    Ack {
        client_id: String,
        chat: i64,
        seq: i64,
        message_id: i64,
        duplicate: bool,
    },
    Error {
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        code: String,
        message: String,
        message_en: String,
    },
    Typing {
        chat: i64,
        person: i64,
        name: String,
    },
    Read {
        chat: i64,
        person: i64,
        seq: i64,
    },
    Resync {
        chat: i64,
    },
    ChatsChanged,
    Pong,
    Bye {
        reason: ByeReason,
        resume: bool,
    },
}

/// The content of an `event` frame.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Message { message: Box<MessageWire> },
    Edited { message_id: i64, text: String, edited_at: i64 },
    Deleted { message_id: i64 },
    ReactionAdded { message_id: i64, person: i64, emoji: String },
    ReactionRemoved { message_id: i64, person: i64, emoji: String },
    Pinned { message_id: i64 },
    Unpinned { message_id: i64 },
}

/// A message on the wire. The same shape as the HTTP history's messages.
pub type MessageWire = MessageView;

impl ServerFrame {
    pub fn event(e: EventView) -> ServerFrame {
        let event = match e.change {
            // Events go to every member: the author's idempotency key stays out.
            Change::Message(mut m) => {
                m.client_id = None;
                Event::Message { message: m }
            }
            Change::Edited { message_id, text, edited_at } => Event::Edited { message_id, text, edited_at },
            Change::Deleted { message_id } => Event::Deleted { message_id },
            Change::ReactionAdded { message_id, person, emoji } => Event::ReactionAdded { message_id, person, emoji },
            Change::ReactionRemoved { message_id, person, emoji } => {
                Event::ReactionRemoved { message_id, person, emoji }
            }
            Change::Pinned { message_id } => Event::Pinned { message_id },
            Change::Unpinned { message_id } => Event::Unpinned { message_id },
        };
        ServerFrame::Event { chat: e.chat_id, seq: e.seq, at: e.at, event }
    }

    pub fn error(client_id: Option<String>, e: &crate::error::ApiError) -> ServerFrame {
        ServerFrame::Error {
            client_id,
            code: e.code.to_string(),
            message: e.message.to_string(),
            message_en: e.message_en.to_string(),
        }
    }

    pub fn bye(reason: ByeReason) -> ServerFrame {
        ServerFrame::Bye { reason, resume: reason.resume() }
    }

    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys, no
        // custom serialisers.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_without_positions_parses() {
        let f: ClientFrame = serde_json::from_str(r#"{"type":"hello","v":1}"#).unwrap();
        assert_eq!(f, ClientFrame::Hello { v: 1, positions: vec![] });
    }

    #[test]
    fn a_send_carries_its_client_id_and_optional_fields() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"send","chat":3,"client_id":"a-1","text":"Привет"}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Send {
                chat: 3,
                client_id: "a-1".into(),
                text: "Привет".into(),
                reply_to: None,
                mentions: vec![],
                attachments: vec![]
            }
        );
    }

    #[test]
    fn unknown_frame_types_are_refused() {
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"nuke"}"#).is_err());
    }

    #[test]
    fn frames_are_tagged_in_snake_case() {
        let bye = ServerFrame::bye(ByeReason::SlowConsumer).to_json();
        assert_eq!(bye, r#"{"type":"bye","reason":"slow_consumer","resume":true}"#);
        assert_eq!(ServerFrame::ChatsChanged.to_json(), r#"{"type":"chats_changed"}"#);
        let deleted = ServerFrame::Event { chat: 1, seq: 9, at: 5, event: Event::Deleted { message_id: 4 } };
        assert_eq!(
            deleted.to_json(),
            r#"{"type":"event","chat":1,"seq":9,"at":5,"event":{"kind":"deleted","message_id":4}}"#
        );
    }
}
