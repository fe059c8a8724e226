//! The messenger's WebSocket protocol, version 1: every frame either side
//! sends, in one place (`docs/protocol.md` explains them). A change that
//! breaks old clients bumps [`VERSION`]. What a frame carries from storage
//! (a message, a poll, a consent form, an author) is `wire::v1`'s, converted
//! here: storage's own types never reach the socket.

use crate::wire::v1::{Author, ConsentView, MessageView, PollView};
use messenger::call::{CallKind, CallOutcome, CallPhase};
use serde::{Deserialize, Serialize};
use storage::{Change, EventView};

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
        /// «Срочно»: a chat admin's message that notifies at once, through
        /// quiet hours and everyone's choices; refused from anyone else.
        #[serde(default)]
        urgent: bool,
    },
    Typing {
        chat: i64,
    },
    Read {
        chat: i64,
        seq: i64,
    },
    Ping,
    /// Join the chat's call, starting one of `kind` if there is none; `sdp`
    /// is the client's offer.
    CallJoin {
        chat: i64,
        kind: CallKind,
        sdp: String,
    },
    /// The client's answer to a `call_offer`.
    CallAnswer {
        call: i64,
        sdp: String,
    },
    CallMedia {
        call: i64,
        audio: bool,
        video: bool,
        screen: bool,
    },
    CallLeave {
        call: i64,
    },
    CallDecline {
        call: i64,
    },
    CallMute {
        call: i64,
        person: i64,
    },
    CallRemove {
        call: i64,
        person: i64,
    },
    /// A moderator lets a removed person join this call again.
    CallLetBack {
        call: i64,
        person: i64,
    },
    CallEnd {
        call: i64,
    },
    /// «Поднять руку» (`raised`) or lower one's own hand.
    CallHand {
        call: i64,
        raised: bool,
    },
    /// A moderator lowers someone's hand.
    CallLowerHand {
        call: i64,
        person: i64,
    },
    /// «Выключить микрофоны у всех»: a moderator mutes everyone else and
    /// locks the microphones.
    CallMuteAll {
        call: i64,
    },
    /// A moderator lets everyone unmute again.
    CallUnlockMics {
        call: i64,
    },
    /// A moderator gives one participant the floor (`None`: takes it back).
    CallFloor {
        call: i64,
        person: Option<i64>,
    },
    /// A moderator pins a participant's picture as everyone's main view
    /// (`None`: unpins).
    CallPin {
        call: i64,
        person: Option<i64>,
    },
}

impl ClientFrame {
    /// Reads a text frame from the client. Any text at all gives a frame or
    /// an error, never a panic (fuzzed in the tests below).
    pub fn parse(text: &str) -> Result<ClientFrame, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A STUN or TURN server for `RTCPeerConnection({iceServers})`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// A live call as every member of its chat sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallInfo {
    pub id: i64,
    pub chat: i64,
    pub kind: CallKind,
    pub direct: bool,
    pub state: CallPhase,
    pub started_at: i64,
    pub started_by: Author,
    pub participants: Vec<CallParticipant>,
    /// Who may mute, remove and end for everyone.
    pub moderators: Vec<i64>,
    /// Whom a moderator removed: they cannot rejoin until let back.
    pub removed: Vec<Author>,
    /// Raised hands, first raised first.
    pub hands: Vec<i64>,
    /// Only moderators and `floor` may unmute.
    pub mics_locked: bool,
    pub floor: Option<i64>,
    /// Whose picture is everyone's main view.
    pub presenter: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CallParticipant {
    pub person: i64,
    pub name: String,
    pub audio: bool,
    pub video: bool,
    pub screen: bool,
    pub reconnecting: bool,
}

/// Why a connection is no longer in a call.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallLeftReason {
    Left,
    Removed,
    /// The person joined from another connection.
    Elsewhere,
    /// Left the chat, or unlinked.
    NotMember,
    /// The peer failed in the SFU: rejoin.
    MediaFailed,
    Ended,
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

/// What a `reminder` asks for.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReminderAbout {
    #[default]
    Read,
    /// Answer the consent form for a child who has no answer yet.
    Consent,
}

impl ReminderAbout {
    fn is_read(&self) -> bool {
        *self == ReminderAbout::Read
    }
}

/// Server → client.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Ready {
        v: u32,
        chats: Vec<i64>,
        ice_servers: Vec<IceServer>,
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
        /// Seconds to wait before sending it again (`rate_limited`).
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
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
    CallState {
        chat: i64,
        call: Box<CallInfo>,
    },
    CallEnded {
        chat: i64,
        call: i64,
        reason: CallOutcome,
    },
    CallJoined {
        call: Box<CallInfo>,
        sdp: String,
    },
    CallOffer {
        call: i64,
        sdp: String,
    },
    CallLeft {
        call: i64,
        reason: CallLeftReason,
    },
    CallMuted {
        call: i64,
        by: String,
    },
    /// Who is speaking in the call (`None`: nobody), to its participants.
    CallSpeaker {
        call: i64,
        person: Option<i64>,
    },
    Pong,
    /// A chat admin asks this person to read a message they have not, or
    /// to answer a consent form for their child («Напомнить»). Sent only to
    /// those who had not.
    Reminder {
        chat: i64,
        message: i64,
        chat_name: String,
        /// What to do; `read` when absent (clients before consent forms).
        #[serde(default, skip_serializing_if = "ReminderAbout::is_read")]
        about: ReminderAbout,
    },
    Bye {
        reason: ByeReason,
        resume: bool,
    },
}

/// The content of an `event` frame. `Poll` carries a poll's results after a
/// vote or a close, naming no voter of an anonymous poll. `Consent` carries a
/// consent form after an answer or a reopening, with no family's answer: each
/// guardian reads their own children's rows over HTTP.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// As every member may see it: [`MessageView::for_members`].
    Message {
        message: Box<MessageView>,
    },
    Edited {
        message_id: i64,
        text: String,
        edited_at: i64,
    },
    Deleted {
        message_id: i64,
    },
    /// A moderator hid the message: deleted, shown as «Скрыто модератором».
    Hidden {
        message_id: i64,
    },
    ReactionAdded {
        message_id: i64,
        person: i64,
        emoji: String,
    },
    ReactionRemoved {
        message_id: i64,
        person: i64,
        emoji: String,
    },
    Pinned {
        message_id: i64,
    },
    Unpinned {
        message_id: i64,
    },
    Poll {
        message_id: i64,
        poll: Box<PollView>,
    },
    Consent {
        message_id: i64,
        consent: Box<ConsentView>,
    },
}

impl ServerFrame {
    pub fn event(e: EventView) -> ServerFrame {
        let event = match e.change {
            Change::Message(m) => Event::Message { message: Box::new(MessageView::for_members(*m)) },
            Change::Edited { message_id, text, edited_at } => Event::Edited { message_id, text, edited_at },
            Change::Deleted { message_id } => Event::Deleted { message_id },
            Change::Hidden { message_id } => Event::Hidden { message_id },
            Change::ReactionAdded { message_id, person, emoji } => Event::ReactionAdded { message_id, person, emoji },
            Change::ReactionRemoved { message_id, person, emoji } => {
                Event::ReactionRemoved { message_id, person, emoji }
            }
            Change::Pinned { message_id } => Event::Pinned { message_id },
            Change::Unpinned { message_id } => Event::Unpinned { message_id },
            Change::Poll { message_id, poll } => Event::Poll { message_id, poll: Box::new((*poll).into()) },
            Change::Consent { message_id, consent } => {
                Event::Consent { message_id, consent: Box::new((*consent).into()) }
            }
        };
        ServerFrame::Event { chat: e.chat_id, seq: e.seq, at: e.at, event }
    }

    pub fn error(client_id: Option<String>, e: &crate::error::ApiError) -> ServerFrame {
        ServerFrame::Error {
            client_id,
            code: e.code.to_string(),
            message: e.message.to_string(),
            message_en: e.message_en.to_string(),
            retry_after: e.retry_after,
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
                attachments: vec![],
                urgent: false,
            }
        );
    }

    #[test]
    fn a_call_join_names_its_kind_in_lower_case() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"call_join","chat":3,"kind":"video","sdp":"v=0"}"#).unwrap();
        assert_eq!(f, ClientFrame::CallJoin { chat: 3, kind: CallKind::Video, sdp: "v=0".into() });
        assert!(
            serde_json::from_str::<ClientFrame>(r#"{"type":"call_join","chat":3,"kind":"holo","sdp":""}"#).is_err()
        );
        let ended = ServerFrame::CallEnded { chat: 3, call: 8, reason: CallOutcome::EndedByModerator };
        assert_eq!(ended.to_json(), r#"{"type":"call_ended","chat":3,"call":8,"reason":"ended_by_moderator"}"#);
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

    // Fuzzing: any text, and valid frames mutated. `PROPTEST_CASES=100000`
    // runs it longer.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        fn id() -> impl Strategy<Value = i64> {
            prop_oneof![any::<i64>(), 0i64..1000]
        }

        fn text() -> impl Strategy<Value = String> {
            prop_oneof!["\\PC{0,40}", any::<String>()]
        }

        fn kind() -> impl Strategy<Value = CallKind> {
            prop_oneof![Just(CallKind::Audio), Just(CallKind::Video)]
        }

        fn frame() -> impl Strategy<Value = ClientFrame> {
            let positions = prop::collection::vec((id(), id()).prop_map(|(chat, seq)| Position { chat, seq }), 0..4);
            let ids = || prop::collection::vec(id(), 0..4);
            prop_oneof![
                (any::<u32>(), positions).prop_map(|(v, positions)| ClientFrame::Hello { v, positions }),
                (id(), text(), text(), prop::option::of(id()), ids(), ids(), any::<bool>()).prop_map(
                    |(chat, client_id, text, reply_to, mentions, attachments, urgent)| ClientFrame::Send {
                        chat,
                        client_id,
                        text,
                        reply_to,
                        mentions,
                        attachments,
                        urgent,
                    }
                ),
                id().prop_map(|chat| ClientFrame::Typing { chat }),
                (id(), id()).prop_map(|(chat, seq)| ClientFrame::Read { chat, seq }),
                Just(ClientFrame::Ping),
                (id(), kind(), text()).prop_map(|(chat, kind, sdp)| ClientFrame::CallJoin { chat, kind, sdp }),
                (id(), text()).prop_map(|(call, sdp)| ClientFrame::CallAnswer { call, sdp }),
                (id(), any::<(bool, bool, bool)>()).prop_map(|(call, (audio, video, screen))| ClientFrame::CallMedia {
                    call,
                    audio,
                    video,
                    screen
                }),
                id().prop_map(|call| ClientFrame::CallLeave { call }),
                id().prop_map(|call| ClientFrame::CallDecline { call }),
                (id(), id()).prop_map(|(call, person)| ClientFrame::CallMute { call, person }),
                (id(), id()).prop_map(|(call, person)| ClientFrame::CallRemove { call, person }),
                (id(), id()).prop_map(|(call, person)| ClientFrame::CallLetBack { call, person }),
                id().prop_map(|call| ClientFrame::CallEnd { call }),
                (id(), any::<bool>()).prop_map(|(call, raised)| ClientFrame::CallHand { call, raised }),
                (id(), id()).prop_map(|(call, person)| ClientFrame::CallLowerHand { call, person }),
                id().prop_map(|call| ClientFrame::CallMuteAll { call }),
                id().prop_map(|call| ClientFrame::CallUnlockMics { call }),
                (id(), prop::option::of(id())).prop_map(|(call, person)| ClientFrame::CallFloor { call, person }),
                (id(), prop::option::of(id())).prop_map(|(call, person)| ClientFrame::CallPin { call, person }),
            ]
        }

        /// A frame's text with bytes cut out, repeated or replaced.
        fn mutated() -> impl Strategy<Value = String> {
            (frame(), prop::collection::vec(any::<(usize, u8, u8)>(), 1..6)).prop_map(|(frame, edits)| {
                let mut bytes = serde_json::to_vec(&frame).unwrap_or_default();
                blobs::testdata::damage(&mut bytes, &edits);
                String::from_utf8_lossy(&bytes).into_owned()
            })
        }

        proptest! {
            #[test]
            fn every_frame_a_client_can_send_reads_back_as_itself(frame in frame()) {
                let text = serde_json::to_string(&frame).unwrap();
                prop_assert_eq!(ClientFrame::parse(&text).unwrap(), frame);
            }

            #[test]
            fn any_text_is_a_frame_or_an_error(text in prop_oneof![mutated(), text()]) {
                if let Ok(frame) = ClientFrame::parse(&text) {
                    // What parsed is a frame the client could have sent.
                    let again = serde_json::to_string(&frame).unwrap();
                    prop_assert_eq!(ClientFrame::parse(&again).unwrap(), frame);
                }
            }
        }
    }
}
