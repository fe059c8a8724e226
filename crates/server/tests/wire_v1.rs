//! Protocol v1 pinned: the exact text of representative WebSocket frames and
//! the served OpenAPI document. A change to what storage returns, or to the
//! wire types, must not change what clients read; if one of these fails, the
//! protocol changed, and that needs a new version, not a new fixture.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use messenger::call::{CallKind, CallOutcome, CallPhase};
use server::messenger::protocol::{
    ByeReason, CallInfo, CallLeftReason, CallParticipant, IceServer, ReminderAbout, ServerFrame,
};
use server::wire::v1;
use storage::{
    Attachment, Author, CallRecord, Change, ConsentAnswer, ConsentChild, ConsentView, EventView, Hidden, MessageView,
    PollOption, PollView, ReactionView, ReplyPreview,
};

fn author(person: i64, name: &str) -> Author {
    Author { person, name: name.into() }
}

/// A message with every optional part that an ordinary message can have, as
/// storage returns it to its author (with the client id).
fn full_message() -> MessageView {
    MessageView {
        id: 41,
        chat: 7,
        seq: 12,
        author: author(3, "Иванова Мария Петровна"),
        text: "Завтра экскурсия, @Петров".into(),
        reply_to: Some(ReplyPreview {
            id: 40,
            author_name: "Петров Олег".into(),
            preview: "Во сколько?".into(),
            deleted: false,
        }),
        mentions: vec![5, 6],
        created_at: 1_790_000_000,
        edited_at: Some(1_790_000_060),
        deleted: false,
        hidden: None,
        pinned: true,
        urgent: true,
        reactions: vec![
            ReactionView { emoji: "👍".into(), people: vec![5, 3] },
            ReactionView { emoji: "❤️".into(), people: vec![6] },
        ],
        client_id: Some("c-1790000000-1".into()),
        attachments: vec![
            Attachment {
                id: 90,
                name: "маршрут.png".into(),
                size: 48_213,
                mime: "image/png".into(),
                kind: "image".into(),
                width: Some(640),
                height: Some(480),
            },
            Attachment {
                id: 91,
                name: "список.pdf".into(),
                size: 1_024,
                mime: "application/pdf".into(),
                kind: "file".into(),
                width: None,
                height: None,
            },
        ],
        call: None,
        poll: None,
        consent: None,
    }
}

fn poll() -> PollView {
    PollView {
        multiple: true,
        anonymous: false,
        closes_at: Some(1_790_086_400),
        closed_at: None,
        options: vec![
            PollOption { text: "Суббота".into(), votes: 2, people: Some(vec![5, 6]) },
            PollOption { text: "Воскресенье".into(), votes: 0, people: Some(vec![]) },
        ],
        voters: 2,
        mine: Some(vec![0]),
    }
}

fn consent() -> ConsentView {
    ConsentView {
        title: "Экскурсия в музей".into(),
        options: vec!["Согласен".into(), "Не согласен".into()],
        deadline: 1_790_172_800,
        comment_required: false,
        reopened_at: Some(1_790_100_000),
        answered: 1,
        students: 25,
        children: Some(vec![
            ConsentChild {
                student: 8,
                name: "Петров Илья".into(),
                answer: Some(ConsentAnswer {
                    option: 0,
                    comment: Some("Заберу сам".into()),
                    by: author(5, "Петров Олег"),
                    at: 1_790_050_000,
                }),
            },
            ConsentChild { student: 9, name: "Петрова Анна".into(), answer: None },
        ]),
    }
}

fn event(change: Change) -> String {
    ServerFrame::event(EventView { chat_id: 7, seq: 12, at: 1_790_000_100, change }).to_json()
}

#[test]
fn a_message_event_carries_the_whole_message_without_the_senders_client_id() {
    assert_eq!(
        event(Change::Message(Box::new(full_message()))),
        r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":{"kind":"message","message":{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"Завтра экскурсия, @Петров","reply_to":{"id":40,"author_name":"Петров Олег","preview":"Во сколько?","deleted":false},"mentions":[5,6],"created_at":1790000000,"edited_at":1790000060,"deleted":false,"pinned":true,"urgent":true,"reactions":[{"emoji":"👍","people":[5,3]},{"emoji":"❤️","people":[6]}],"attachments":[{"id":90,"name":"маршрут.png","size":48213,"mime":"image/png","kind":"image","width":640,"height":480},{"id":91,"name":"список.pdf","size":1024,"mime":"application/pdf","kind":"file","width":null,"height":null}]}}}"#
    );
}

#[test]
fn message_events_of_polls_consent_forms_calls_and_hidden_messages() {
    let poll_message = MessageView {
        text: "Когда идём?".into(),
        reply_to: None,
        mentions: vec![],
        edited_at: None,
        pinned: false,
        urgent: false,
        reactions: vec![],
        attachments: vec![],
        poll: Some(poll().for_everyone()),
        ..full_message()
    };
    assert_eq!(
        event(Change::Message(Box::new(poll_message.clone()))),
        r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":{"kind":"message","message":{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"Когда идём?","reply_to":null,"mentions":[],"created_at":1790000000,"edited_at":null,"deleted":false,"pinned":false,"reactions":[],"attachments":[],"poll":{"multiple":true,"anonymous":false,"closes_at":1790086400,"closed_at":null,"options":[{"text":"Суббота","votes":2},{"text":"Воскресенье","votes":0}],"voters":2}}}}"#
    );
    let consent_message = MessageView {
        text: "Прошу дать согласие".into(),
        poll: None,
        consent: Some(consent()),
        ..poll_message.clone()
    };
    assert_eq!(
        event(Change::Message(Box::new(consent_message))),
        r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":{"kind":"message","message":{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"Прошу дать согласие","reply_to":null,"mentions":[],"created_at":1790000000,"edited_at":null,"deleted":false,"pinned":false,"reactions":[],"attachments":[],"consent":{"title":"Экскурсия в музей","options":["Согласен","Не согласен"],"deadline":1790172800,"comment_required":false,"reopened_at":1790100000,"answered":1,"students":25,"children":[{"student":8,"name":"Петров Илья","answer":{"option":0,"comment":"Заберу сам","by":{"person":5,"name":"Петров Олег"},"at":1790050000}},{"student":9,"name":"Петрова Анна","answer":null}]}}}}"#
    );
    let call_message = MessageView {
        text: String::new(),
        poll: None,
        call: Some(CallRecord {
            id: 4,
            kind: "video".into(),
            outcome: "finished".into(),
            started_at: 1_790_000_000,
            ended_at: 1_790_000_300,
            duration: 300,
            participants: vec![author(3, "Иванова Мария Петровна"), author(5, "Петров Олег")],
        }),
        ..poll_message.clone()
    };
    assert_eq!(
        event(Change::Message(Box::new(call_message))),
        r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":{"kind":"message","message":{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"","reply_to":null,"mentions":[],"created_at":1790000000,"edited_at":null,"deleted":false,"pinned":false,"reactions":[],"attachments":[],"call":{"id":4,"kind":"video","outcome":"finished","started_at":1790000000,"ended_at":1790000300,"duration":300,"participants":[{"person":3,"name":"Иванова Мария Петровна"},{"person":5,"name":"Петров Олег"}]}}}}"#
    );
    let hidden = MessageView {
        text: String::new(),
        deleted: true,
        hidden: Some(Hidden { reason: Some("spam".into()) }),
        poll: None,
        ..poll_message
    };
    assert_eq!(
        event(Change::Message(Box::new(hidden))),
        r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":{"kind":"message","message":{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"","reply_to":null,"mentions":[],"created_at":1790000000,"edited_at":null,"deleted":true,"hidden":{"reason":"spam"},"pinned":false,"reactions":[],"attachments":[]}}}"#
    );
}

#[test]
fn the_other_events_of_a_chat() {
    let frames = [
        Change::Edited { message_id: 41, text: "Исправлено".into(), edited_at: 1_790_000_090 },
        Change::Deleted { message_id: 41 },
        Change::Hidden { message_id: 41 },
        Change::ReactionAdded { message_id: 41, person: 5, emoji: "👍".into() },
        Change::ReactionRemoved { message_id: 41, person: 5, emoji: "👍".into() },
        Change::Pinned { message_id: 41 },
        Change::Unpinned { message_id: 41 },
        Change::Poll { message_id: 41, poll: Box::new(poll().for_everyone()) },
        Change::Consent { message_id: 41, consent: Box::new(ConsentView { children: None, ..consent() }) },
    ]
    .map(event);
    let head = r#"{"type":"event","chat":7,"seq":12,"at":1790000100,"event":"#;
    let expected = [
        r#"{"kind":"edited","message_id":41,"text":"Исправлено","edited_at":1790000090}"#,
        r#"{"kind":"deleted","message_id":41}"#,
        r#"{"kind":"hidden","message_id":41}"#,
        r#"{"kind":"reaction_added","message_id":41,"person":5,"emoji":"👍"}"#,
        r#"{"kind":"reaction_removed","message_id":41,"person":5,"emoji":"👍"}"#,
        r#"{"kind":"pinned","message_id":41}"#,
        r#"{"kind":"unpinned","message_id":41}"#,
        r#"{"kind":"poll","message_id":41,"poll":{"multiple":true,"anonymous":false,"closes_at":1790086400,"closed_at":null,"options":[{"text":"Суббота","votes":2},{"text":"Воскресенье","votes":0}],"voters":2}}"#,
        r#"{"kind":"consent","message_id":41,"consent":{"title":"Экскурсия в музей","options":["Согласен","Не согласен"],"deadline":1790172800,"comment_required":false,"reopened_at":1790100000,"answered":1,"students":25}}"#,
    ]
    .map(|e| format!("{head}{e}}}"));
    assert_eq!(frames, expected);
}

#[test]
fn the_frames_around_the_events() {
    let frames = [
        ServerFrame::Ready {
            v: 1,
            chats: vec![7, 8],
            ice_servers: vec![
                IceServer { urls: vec!["stun:stun.example.ru:3478".into()], username: None, credential: None },
                IceServer {
                    urls: vec!["turn:turn.example.ru:3478?transport=udp".into()],
                    username: Some("u".into()),
                    credential: Some("p".into()),
                },
            ],
        },
        ServerFrame::Ack { client_id: "c-1".into(), chat: 7, seq: 12, message_id: 41, duplicate: false },
        ServerFrame::error(Some("c-2".into()), &server::error::RATE_LIMITED.retry_after(3)),
        ServerFrame::error(None, &server::error::FORBIDDEN),
        ServerFrame::Typing { chat: 7, person: 3, name: "Иванова Мария".into() },
        ServerFrame::Read { chat: 7, person: 5, seq: 12 },
        ServerFrame::Resync { chat: 7 },
        ServerFrame::ChatsChanged,
        ServerFrame::Pong,
        ServerFrame::Reminder { chat: 7, message: 41, chat_name: "5А класс".into(), about: ReminderAbout::Read },
        ServerFrame::Reminder {
            chat: 7, message: 41, chat_name: "5А класс".into(), about: ReminderAbout::Consent
        },
        ServerFrame::bye(ByeReason::SessionEnded),
        ServerFrame::bye(ByeReason::Shutdown),
    ]
    .map(|f| f.to_json());
    let forbidden = server::error::FORBIDDEN;
    let expected = [
        r#"{"type":"ready","v":1,"chats":[7,8],"ice_servers":[{"urls":["stun:stun.example.ru:3478"]},{"urls":["turn:turn.example.ru:3478?transport=udp"],"username":"u","credential":"p"}]}"#.to_string(),
        r#"{"type":"ack","client_id":"c-1","chat":7,"seq":12,"message_id":41,"duplicate":false}"#.to_string(),
        format!(
            r#"{{"type":"error","client_id":"c-2","code":"rate_limited","message":"{}","message_en":"{}","retry_after":3}}"#,
            server::error::RATE_LIMITED.message,
            server::error::RATE_LIMITED.message_en
        ),
        format!(
            r#"{{"type":"error","code":"{}","message":"{}","message_en":"{}"}}"#,
            forbidden.code, forbidden.message, forbidden.message_en
        ),
        r#"{"type":"typing","chat":7,"person":3,"name":"Иванова Мария"}"#.to_string(),
        r#"{"type":"read","chat":7,"person":5,"seq":12}"#.to_string(),
        r#"{"type":"resync","chat":7}"#.to_string(),
        r#"{"type":"chats_changed"}"#.to_string(),
        r#"{"type":"pong"}"#.to_string(),
        r#"{"type":"reminder","chat":7,"message":41,"chat_name":"5А класс"}"#.to_string(),
        r#"{"type":"reminder","chat":7,"message":41,"chat_name":"5А класс","about":"consent"}"#.to_string(),
        r#"{"type":"bye","reason":"session_ended","resume":false}"#.to_string(),
        r#"{"type":"bye","reason":"shutdown","resume":true}"#.to_string(),
    ];
    assert_eq!(frames, expected);
}

#[test]
fn call_frames() {
    let call = CallInfo {
        id: 4,
        chat: 7,
        kind: CallKind::Video,
        direct: false,
        state: CallPhase::Active,
        started_at: 1_790_000_000,
        started_by: v1::Author { person: 3, name: "Иванова Мария Петровна".into() },
        participants: vec![CallParticipant {
            person: 3,
            name: "Иванова Мария Петровна".into(),
            audio: true,
            video: false,
            screen: true,
            reconnecting: false,
        }],
        moderators: vec![3],
        removed: vec![v1::Author { person: 6, name: "Сидоров Пётр".into() }],
        hands: vec![5],
        mics_locked: true,
        floor: Some(5),
        presenter: None,
    };
    let frames = [
        ServerFrame::CallState { chat: 7, call: Box::new(call.clone()) },
        ServerFrame::CallJoined { call: Box::new(call), sdp: "v=0".into() },
        ServerFrame::CallEnded { chat: 7, call: 4, reason: CallOutcome::Missed },
        ServerFrame::CallOffer { call: 4, sdp: "v=0".into() },
        ServerFrame::CallLeft { call: 4, reason: CallLeftReason::MediaFailed },
        ServerFrame::CallMuted { call: 4, by: "Иванова Мария Петровна".into() },
        ServerFrame::CallSpeaker { call: 4, person: Some(5) },
        ServerFrame::CallSpeaker { call: 4, person: None },
    ]
    .map(|f| f.to_json());
    let info = r#"{"id":4,"chat":7,"kind":"video","direct":false,"state":"active","started_at":1790000000,"started_by":{"person":3,"name":"Иванова Мария Петровна"},"participants":[{"person":3,"name":"Иванова Мария Петровна","audio":true,"video":false,"screen":true,"reconnecting":false}],"moderators":[3],"removed":[{"person":6,"name":"Сидоров Пётр"}],"hands":[5],"mics_locked":true,"floor":5,"presenter":null}"#;
    let expected = [
        format!(r#"{{"type":"call_state","chat":7,"call":{info}}}"#),
        format!(r#"{{"type":"call_joined","call":{info},"sdp":"v=0"}}"#),
        r#"{"type":"call_ended","chat":7,"call":4,"reason":"missed"}"#.to_string(),
        r#"{"type":"call_offer","call":4,"sdp":"v=0"}"#.to_string(),
        r#"{"type":"call_left","call":4,"reason":"media_failed"}"#.to_string(),
        r#"{"type":"call_muted","call":4,"by":"Иванова Мария Петровна"}"#.to_string(),
        r#"{"type":"call_speaker","call":4,"person":5}"#.to_string(),
        r#"{"type":"call_speaker","call":4,"person":null}"#.to_string(),
    ];
    assert_eq!(frames, expected);
}

/// The HTTP form of a message (history, search context, a send's answer)
/// to its author: the client id, their own poll choice and children's answers.
#[test]
fn a_message_as_its_author_reads_it_over_http() {
    let message = MessageView { poll: Some(poll()), consent: Some(consent()), ..full_message() };
    assert_eq!(
        serde_json::to_string(&v1::MessageView::for_viewer(message)).unwrap(),
        r#"{"id":41,"chat":7,"seq":12,"author":{"person":3,"name":"Иванова Мария Петровна"},"text":"Завтра экскурсия, @Петров","reply_to":{"id":40,"author_name":"Петров Олег","preview":"Во сколько?","deleted":false},"mentions":[5,6],"created_at":1790000000,"edited_at":1790000060,"deleted":false,"pinned":true,"urgent":true,"reactions":[{"emoji":"👍","people":[5,3]},{"emoji":"❤️","people":[6]}],"client_id":"c-1790000000-1","attachments":[{"id":90,"name":"маршрут.png","size":48213,"mime":"image/png","kind":"image","width":640,"height":480},{"id":91,"name":"список.pdf","size":1024,"mime":"application/pdf","kind":"file","width":null,"height":null}],"poll":{"multiple":true,"anonymous":false,"closes_at":1790086400,"closed_at":null,"options":[{"text":"Суббота","votes":2,"people":[5,6]},{"text":"Воскресенье","votes":0,"people":[]}],"voters":2,"mine":[0]},"consent":{"title":"Экскурсия в музей","options":["Согласен","Не согласен"],"deadline":1790172800,"comment_required":false,"reopened_at":1790100000,"answered":1,"students":25,"children":[{"student":8,"name":"Петров Илья","answer":{"option":0,"comment":"Заберу сам","by":{"person":5,"name":"Петров Олег"},"at":1790050000}},{"student":9,"name":"Петрова Анна","answer":null}]}}"#
    );
}

/// The OpenAPI document as served, against the one committed in
/// `fixtures/openapi-v1.json`. After a deliberate change to the API, run
/// this test with `PARTA_BLESS=1` to write the new document, and review the
/// fixture's diff: it is every schema change clients will see.
#[tokio::test]
async fn the_openapi_document_is_the_pinned_one() {
    let app = common::spawn_app(false).await;
    let served = reqwest::get(app.url("/api/openapi.json")).await.unwrap().text().await.unwrap();
    app.finish().await;
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi-v1.json");
    if std::env::var_os("PARTA_BLESS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&served).unwrap() + "\n").unwrap();
    }
    let pinned: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(served == pinned, "the served OpenAPI document differs from {}", path.display());
}
