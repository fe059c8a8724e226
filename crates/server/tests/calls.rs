//! Calls end to end through the real server: signalling on the messenger
//! WebSocket, the SFU answering real offers on loopback, the call's record in
//! the chat. The fixture school: 5А with Алёна (student1) and Иван (student2),
//! class teacher Ольга (teacher1, the class chat's admin); parent1 is not in
//! the class chat.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, Socket, linked, offer};
use common::{Options, TestApp, spawn_with};
use serde_json::{Value, json};
use server::messenger::calls::CallsConfig;
use std::time::{Duration, Instant};

/// Short timeouts so ringing out and abandoned seats happen within a test.
async fn calls_app() -> TestApp {
    let calls = CallsConfig { ring_timeout_secs: 2, reconnect_grace_secs: 2, ..CallsConfig::default() };
    spawn_with(Options { calls: Some(calls), ..Options::default() }).await
}

async fn socket(app: &TestApp, who: &Linked) -> Socket {
    let mut ws = who.socket(app, json!([])).await;
    ws.until("ready").await;
    ws
}

async fn join(ws: &mut Socket, chat: i64, kind: &str) -> Value {
    ws.send(json!({"type": "call_join", "chat": chat, "kind": kind, "sdp": offer()})).await;
    ws.until("call_joined").await
}

fn people(call: &Value) -> Vec<i64> {
    call["participants"].as_array().unwrap().iter().map(|p| p["person"].as_i64().unwrap()).collect()
}

fn participant(call: &Value, person: i64) -> Value {
    call["participants"].as_array().unwrap().iter().find(|p| p["person"] == person).cloned().unwrap_or(Value::Null)
}

/// The next call record posted in the chat.
async fn record(ws: &mut Socket) -> Value {
    loop {
        let event = ws.until("event").await;
        if event["event"]["kind"] == "message" && !event["event"]["message"]["call"].is_null() {
            return event["event"]["message"].clone();
        }
    }
}

#[tokio::test]
async fn the_teacher_starts_a_class_call_students_join_and_ending_it_for_everyone_leaves_a_record() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let ivan = linked(&app, "student2", "+79120000004").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let (mut t, mut a, mut i) = (socket(&app, &teacher).await, socket(&app, &alyona).await, socket(&app, &ivan).await);

    let joined = join(&mut t, chat, "video").await;
    let call = joined["call"]["id"].as_i64().unwrap();
    let answer = joined["sdp"].as_str().unwrap();
    assert!(answer.contains("a=ice-lite"), "the SFU answers as ICE-lite:\n{answer}");
    assert!(answer.contains("127.0.0.1"), "its candidate is on loopback:\n{answer}");
    assert_eq!(joined["call"]["moderators"], json!([teacher.person]), "the class chat's admin moderates");

    // Members who are not in the call see it in progress.
    let state = i.until("call_state").await;
    assert_eq!((state["chat"].as_i64(), state["call"]["id"].as_i64()), (Some(chat), Some(call)));
    assert_eq!((state["call"]["state"].as_str(), state["call"]["kind"].as_str()), (Some("active"), Some("video")));
    assert_eq!(people(&state["call"]), vec![teacher.person]);
    assert_eq!(state["call"]["started_by"]["name"], "Учителева Ольга");

    let joined = join(&mut a, chat, "video").await;
    assert_eq!(joined["call"]["id"], call, "joining the chat's call, not starting another");
    assert_eq!(joined["call"]["moderators"], json!([teacher.person]));
    let state = i.until("call_state").await;
    assert_eq!(people(&state["call"]).len(), 2);

    // A student may not end it for everyone; the teacher may mute a student.
    a.send(json!({"type": "call_end", "call": call})).await;
    assert_eq!(a.until("error").await["code"], "call_forbidden");
    t.send(json!({"type": "call_mute", "call": call, "person": alyona.person})).await;
    let muted = a.until("call_muted").await;
    assert_eq!(muted["by"], "Учителева Ольга");
    let state = i.until("call_state").await;
    assert_eq!(participant(&state["call"], alyona.person)["audio"], false);

    t.send(json!({"type": "call_end", "call": call})).await;
    assert_eq!(a.until("call_left").await["reason"], "ended");
    let ended = i.until("call_ended").await;
    assert_eq!((ended["call"].as_i64(), ended["reason"].as_str()), (Some(call), Some("ended_by_moderator")));
    let message = record(&mut i).await;
    assert_eq!(message["author"]["person"], teacher.person);
    assert_eq!(message["text"], "");
    let record = &message["call"];
    assert_eq!((record["kind"].as_str(), record["outcome"].as_str()), (Some("video"), Some("ended_by_moderator")));
    let names: Vec<&str> =
        record["participants"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Учителева Ольга", "Королёва Алёна"]);

    let page = ivan.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["call"]["id"], call, "the record stays in the history");
    app.finish().await;
}

#[tokio::test]
async fn someone_who_opens_the_messenger_during_a_call_sees_it_right_after_ready() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut t = socket(&app, &teacher).await;
    let call = join(&mut t, chat, "audio").await["call"]["id"].clone();

    let mut a = alyona.socket(&app, json!([])).await;
    a.until("ready").await;
    let state = a.next().await.unwrap();
    assert_eq!((state["type"].as_str(), state["call"]["id"].clone()), (Some("call_state"), call));
    assert_eq!(participant(&state["call"], teacher.person)["video"], false, "an audio call starts with cameras off");
    app.finish().await;
}

#[tokio::test]
async fn only_members_join_and_bad_offers_or_unknown_calls_are_refused_without_starting_anything() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut t = socket(&app, &teacher).await;
    let mut p = socket(&app, &parent).await;

    p.send(json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": offer()})).await;
    assert_eq!(p.until("error").await["code"], "call_forbidden", "the parent is not in the class chat");
    t.send(json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": "this is not SDP"})).await;
    let error = t.until("error").await;
    assert_eq!(error["code"], "call_invalid_sdp");
    assert!(!error["message"].as_str().unwrap().is_empty() && !error["message_en"].as_str().unwrap().is_empty());
    t.send(json!({"type": "call_join", "chat": chat, "kind": "hologram", "sdp": offer()})).await;
    assert_eq!(t.until("error").await["code"], "invalid_input");
    t.send(json!({"type": "call_leave", "call": 999_999})).await;
    assert_eq!(t.until("error").await["code"], "call_not_found");
    // Nothing was started by any of it.
    while let Some(frame) = t.next().await {
        assert_ne!(frame["type"], "call_state", "no call was started: {frame}");
    }
    app.finish().await;
}

/// In an announcement-only chat a class call is the teacher's to open: a
/// student's start is refused (and posts no record in her name), and she
/// joins the teacher's call.
#[tokio::test]
async fn in_an_announcement_only_chat_a_student_cannot_start_a_call_but_joins_the_teachers() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let settings = json!({"announcement_only": true});
    let res =
        teacher.request(&app, reqwest::Method::PATCH, &format!("/api/messenger/chats/{chat}"), Some(settings)).await;
    assert!(res.status().is_success());
    let mut s = socket(&app, &student).await;
    s.send(json!({"type": "call_join", "chat": chat, "kind": "audio", "sdp": offer()})).await;
    let error = s.until("error").await;
    assert_eq!(error["code"], "call_admins_start");
    let mut t = socket(&app, &teacher).await;
    let call = join(&mut t, chat, "video").await["call"]["id"].clone();
    let joined = join(&mut s, chat, "audio").await;
    assert_eq!(joined["call"]["id"], call, "the student joins the teacher's call");
    assert_eq!(people(&joined["call"]), [teacher.person, student.person]);
    app.finish().await;
}

#[tokio::test]
async fn a_declined_direct_call_and_one_nobody_answers_leave_their_records() {
    let app = calls_app().await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let mut t = socket(&app, &teacher).await;
    let mut a = socket(&app, &alyona).await;
    let direct: Value = alyona
        .post(&app, "/api/messenger/direct", json!({"org": alyona.org, "person": teacher.person}))
        .await
        .json()
        .await
        .unwrap();
    let chat = direct["id"].as_i64().unwrap();
    t.until("chats_changed").await;
    // Her own socket, open before the chat existed, learns of it too and may call there.
    a.until("chats_changed").await;

    let call = join(&mut a, chat, "audio").await["call"]["id"].as_i64().unwrap();
    let ringing = t.until("call_state").await;
    assert_eq!((ringing["call"]["state"].as_str(), ringing["call"]["direct"].as_bool()), (Some("ringing"), Some(true)));
    assert_eq!(ringing["call"]["moderators"], json!([]), "a direct call has no moderator");
    t.send(json!({"type": "call_decline", "call": call})).await;
    assert_eq!(a.until("call_left").await["reason"], "ended");
    assert_eq!(t.until("call_ended").await["reason"], "declined");
    let declined = record(&mut t).await;
    assert_eq!(
        (declined["call"]["outcome"].as_str(), declined["call"]["duration"].as_i64()),
        (Some("declined"), Some(0))
    );

    let second = join(&mut a, chat, "video").await["call"]["id"].as_i64().unwrap();
    assert_ne!(second, call);
    let ended = t.until_within("call_ended", Duration::from_secs(10)).await;
    assert_eq!((ended["call"].as_i64(), ended["reason"].as_str()), (Some(second), Some("missed")), "it rang out");
    assert_eq!(record(&mut t).await["call"]["outcome"], "missed");
    app.finish().await;
}

#[tokio::test]
async fn a_dropped_connection_keeps_the_seat_for_a_rejoin_and_an_unlink_drops_it_at_once() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut t = socket(&app, &teacher).await;
    let call = join(&mut t, chat, "video").await["call"]["id"].clone();
    let mut a = socket(&app, &alyona).await;
    join(&mut a, chat, "video").await;

    drop(a);
    let state = loop {
        let state = t.until("call_state").await;
        if participant(&state["call"], alyona.person)["reconnecting"] == true {
            break state;
        }
    };
    assert_eq!(people(&state["call"]).len(), 2, "still in the call while reconnecting");
    let mut a = socket(&app, &alyona).await;
    let rejoined = join(&mut a, chat, "video").await;
    assert_eq!(rejoined["call"]["id"], call, "back in the same call");
    assert_eq!(participant(&rejoined["call"], alyona.person)["reconnecting"], false);

    // Gone for longer than the grace period: she has left.
    drop(a);
    let started = Instant::now();
    loop {
        let state = t.until_within("call_state", Duration::from_secs(10)).await;
        if people(&state["call"]) == vec![teacher.person] {
            break;
        }
    }
    assert!(started.elapsed() >= Duration::from_secs(2), "the seat waited for the grace period");

    let mut a = socket(&app, &alyona).await;
    join(&mut a, chat, "video").await;
    let res = alyona.portal.delete(app.url(&format!("/api/chats/{}/link", alyona.org))).send().await.unwrap();
    assert!(res.status().is_success());
    let started = Instant::now();
    loop {
        let state = t.until("call_state").await;
        if people(&state["call"]) == vec![teacher.person] {
            break;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(2), "an unlink does not wait for the grace period");
    app.finish().await;
}

#[tokio::test]
async fn stopping_the_server_ends_its_calls_with_a_record_and_a_crash_is_recorded_at_the_next_start() {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mut t = socket(&app, &teacher).await;
    join(&mut t, chat, "audio").await;
    app.state.calls.shutdown().await;
    assert_eq!(t.until("call_left").await["reason"], "ended");
    assert_eq!(t.until("call_ended").await["reason"], "server_restart");
    assert_eq!(record(&mut t).await["call"]["outcome"], "server_restart");

    // A call this node hosted when it died (no end was written) ...
    let now = app.state.now();
    let orphan =
        app.db.store.start_call(chat, teacher.person, messenger::call::CallKind::Video, "main", now).await.unwrap();
    // ... is ended with a record when calls start again.
    let mut restarted = app.state.clone();
    restarted.start_calls(CallsConfig::default()).await.unwrap();
    let message = record(&mut t).await;
    assert_eq!(
        (message["call"]["id"].as_i64(), message["call"]["outcome"].as_str()),
        (Some(orphan), Some("server_restart"))
    );
    app.finish().await;
}

/// The teacher's classroom: one class call, the teacher and two students in it.
struct Classroom {
    app: TestApp,
    teacher: Linked,
    alyona: Linked,
    ivan: Linked,
    call: i64,
    t: Socket,
    a: Socket,
    i: Socket,
}

async fn classroom() -> Classroom {
    let app = calls_app().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let ivan = linked(&app, "student2", "+79120000004").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let (mut t, mut a, mut i) = (socket(&app, &teacher).await, socket(&app, &alyona).await, socket(&app, &ivan).await);
    let call = join(&mut t, chat, "video").await["call"]["id"].as_i64().unwrap();
    join(&mut a, chat, "video").await;
    join(&mut i, chat, "video").await;
    t.call_state_where(|c| people(c).len() == 3).await;
    Classroom { app, teacher, alyona, ivan, call, t, a, i }
}

#[tokio::test]
async fn a_removed_student_cannot_rejoin_until_the_teacher_lets_her_back_in() {
    let Classroom { app, teacher, alyona, ivan, call, mut t, mut a, mut i } = classroom().await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    t.send(json!({"type": "call_remove", "call": call, "person": alyona.person})).await;
    assert_eq!(a.until("call_left").await["reason"], "removed");
    let state = t.call_state_where(|c| !people(c).contains(&alyona.person)).await;
    assert_eq!(state["removed"], json!([{"person": alyona.person, "name": "Королёва Алёна"}]));

    a.send(json!({"type": "call_join", "chat": chat, "kind": "video", "sdp": offer()})).await;
    let refused = a.until("error").await;
    assert_eq!(refused["code"], "call_removed");
    assert!(refused["message"].as_str().unwrap().contains("впустит"), "{refused}");
    // A student cannot let her back; the teacher can.
    i.send(json!({"type": "call_let_back", "call": call, "person": alyona.person})).await;
    assert_eq!(i.until("error").await["code"], "call_forbidden");
    t.send(json!({"type": "call_let_back", "call": call, "person": ivan.person})).await;
    assert_eq!(t.until("error").await["code"], "call_not_found", "Иван was never removed");
    t.send(json!({"type": "call_let_back", "call": call, "person": alyona.person})).await;
    i.call_state_where(|c| c["removed"] == json!([])).await;
    let joined = join(&mut a, chat, "video").await;
    assert_eq!(joined["call"]["id"], call, "back in the same call");
    app.finish().await;
}

#[tokio::test]
async fn raised_hands_queue_in_order_for_everyone_and_are_lowered_by_their_owner_or_the_teacher() {
    let Classroom { app, teacher: _, alyona, ivan, call, mut t, mut a, mut i } = classroom().await;
    i.send(json!({"type": "call_hand", "call": call, "raised": true})).await;
    t.call_state_where(|c| c["hands"] == json!([ivan.person])).await;
    a.send(json!({"type": "call_hand", "call": call, "raised": true})).await;
    let queue = json!([ivan.person, alyona.person]);
    for ws in [&mut t, &mut a, &mut i] {
        ws.call_state_where(|c| c["hands"] == queue).await;
    }

    a.send(json!({"type": "call_hand", "call": call, "raised": false})).await;
    t.call_state_where(|c| c["hands"] == json!([ivan.person])).await;
    a.send(json!({"type": "call_lower_hand", "call": call, "person": ivan.person})).await;
    assert_eq!(a.until("error").await["code"], "call_forbidden", "only a moderator lowers another's hand");
    t.send(json!({"type": "call_lower_hand", "call": call, "person": ivan.person})).await;
    i.call_state_where(|c| c["hands"] == json!([])).await;
    app.finish().await;
}

/// The server, not only the page, keeps a locked microphone off: a client
/// that unmutes anyway is refused, its audio stays unforwarded and the
/// others see it muted; rejoining does not get round it.
#[tokio::test]
async fn muting_everyone_locks_the_students_microphones_until_the_teacher_gives_the_floor_or_unlocks() {
    let Classroom { app, teacher, alyona, ivan, call, mut t, mut a, mut i } = classroom().await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let media =
        |audio: bool| json!({"type": "call_media", "call": call, "audio": audio, "video": true, "screen": false});
    a.send(json!({"type": "call_mute_all", "call": call})).await;
    assert_eq!(a.until("error").await["code"], "call_forbidden", "a student cannot mute everyone");
    t.send(json!({"type": "call_mute_all", "call": call})).await;
    i.call_state_where(|c| c["mics_locked"] == true).await;
    let state = t.call_state_where(|c| c["mics_locked"] == true).await;
    assert_eq!(participant(&state, teacher.person)["audio"], true, "the teacher still speaks");
    assert_eq!(participant(&state, alyona.person)["audio"], false);

    a.send(media(true)).await;
    let refused = a.until("error").await;
    assert_eq!(refused["code"], "call_mics_locked");
    assert!(!refused["message_en"].as_str().unwrap().is_empty());
    let state = t.call_state_where(|c| participant(c, alyona.person)["video"] == true).await;
    assert_eq!(participant(&state, alyona.person)["audio"], false, "her camera changed, her microphone did not");
    let joined = join(&mut a, chat, "video").await;
    assert_eq!(participant(&joined["call"], alyona.person)["audio"], false, "a rejoin stays muted");

    // Иван raises his hand and is given the floor: his hand goes down and he may speak.
    i.send(json!({"type": "call_hand", "call": call, "raised": true})).await;
    t.call_state_where(|c| c["hands"] == json!([ivan.person])).await;
    i.send(json!({"type": "call_floor", "call": call, "person": ivan.person})).await;
    assert_eq!(i.until("error").await["code"], "call_forbidden");
    t.send(json!({"type": "call_floor", "call": call, "person": ivan.person})).await;
    let state = i.call_state_where(|c| c["floor"] == ivan.person).await;
    assert_eq!(state["hands"], json!([]));
    i.send(media(true)).await;
    t.call_state_where(|c| participant(c, ivan.person)["audio"] == true).await;
    a.send(media(true)).await;
    assert_eq!(a.until("error").await["code"], "call_mics_locked", "the floor is his alone");

    // Taken back, he is muted; unlocked, anyone may unmute (nobody is unmuted by it).
    t.send(json!({"type": "call_floor", "call": call, "person": null})).await;
    assert_eq!(i.until("call_muted").await["by"], "Учителева Ольга");
    t.call_state_where(|c| c["floor"].is_null() && participant(c, ivan.person)["audio"] == false).await;
    t.send(json!({"type": "call_unlock_mics", "call": call})).await;
    let state = a.call_state_where(|c| c["mics_locked"] == false).await;
    assert_eq!(participant(&state, alyona.person)["audio"], false);
    a.send(media(true)).await;
    t.call_state_where(|c| participant(c, alyona.person)["audio"] == true).await;
    app.finish().await;
}

#[tokio::test]
async fn the_teacher_pins_a_presenter_for_everyone_and_leaving_unpins() {
    let Classroom { app, teacher, alyona, ivan, call, mut t, mut a, mut i } = classroom().await;
    a.send(json!({"type": "call_pin", "call": call, "person": alyona.person})).await;
    assert_eq!(a.until("error").await["code"], "call_forbidden", "a student cannot pin");
    t.send(json!({"type": "call_pin", "call": call, "person": 999_999})).await;
    assert_eq!(t.until("error").await["code"], "call_not_found", "only a participant is pinned");
    t.send(json!({"type": "call_pin", "call": call, "person": ivan.person})).await;
    for ws in [&mut t, &mut a, &mut i] {
        ws.call_state_where(|c| c["presenter"] == ivan.person).await;
    }
    t.send(json!({"type": "call_pin", "call": call, "person": null})).await;
    a.call_state_where(|c| c["presenter"].is_null()).await;
    t.send(json!({"type": "call_pin", "call": call, "person": teacher.person})).await;
    a.call_state_where(|c| c["presenter"] == teacher.person).await;
    t.send(json!({"type": "call_pin", "call": call, "person": ivan.person})).await;
    a.call_state_where(|c| c["presenter"] == ivan.person).await;
    i.send(json!({"type": "call_leave", "call": call})).await;
    let state = a.call_state_where(|c| !people(c).contains(&ivan.person)).await;
    assert!(state["presenter"].is_null(), "leaving unpins");
    app.finish().await;
}
