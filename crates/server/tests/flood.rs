//! Flood control: a flood is refused politely and nothing is lost; a person
//! typing fast is never limited; chat admins have more room but not
//! unlimited room.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, Socket, linked};
use common::{Options, TestApp, spawn_with, unlimited};
use messenger::flood::{Limits, Rate};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

async fn spawn(flood: Limits) -> TestApp {
    spawn_with(Options { flood: Some(flood), ..Options::default() }).await
}

/// Sends every message over the socket, then reads until each is answered;
/// the ack or error frame per client id.
async fn send_all(ws: &mut Socket, chat: i64, ids: &[String]) -> HashMap<String, Value> {
    for id in ids {
        ws.send(json!({"type": "send", "chat": chat, "client_id": id, "text": format!("Сообщение {id}")})).await;
    }
    let mut answers = HashMap::new();
    while answers.len() < ids.len() {
        let frame = ws.next().await.expect("every send is answered");
        if matches!(frame["type"].as_str(), Some("ack" | "error")) {
            answers.insert(frame["client_id"].as_str().unwrap().to_string(), frame);
        }
    }
    answers
}

/// The client ids of the chat's messages as its history shows them to `who`.
async fn stored_client_ids(app: &TestApp, who: &Linked, chat: i64) -> Vec<String> {
    let page = who.json(app, &format!("/api/messenger/chats/{chat}/messages?limit=100")).await;
    page["messages"].as_array().unwrap().iter().filter_map(|m| m["client_id"].as_str().map(String::from)).collect()
}

#[tokio::test]
async fn a_flood_is_refused_politely_and_nothing_acknowledged_is_lost_or_doubled() {
    let app = spawn(Limits { messages: Rate::new(10, 10.0), ..unlimited() }).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let mut ws = student.socket(&app, json!([])).await;
    ws.until("ready").await;

    let ids: Vec<String> = (0..40).map(|i| format!("flood-{i}")).collect();
    let answers = send_all(&mut ws, chat, &ids).await;
    let acked: BTreeSet<String> =
        answers.iter().filter(|(_, f)| f["type"] == "ack").map(|(id, _)| id.clone()).collect();
    let refused: Vec<&Value> = answers.values().filter(|f| f["type"] == "error").collect();
    assert!((10..16).contains(&acked.len()), "the burst and little more is admitted: {}", acked.len());
    for frame in &refused {
        assert_eq!(frame["code"], "rate_limited", "{frame}");
        assert!(frame["retry_after"].as_u64().is_some_and(|s| s >= 1), "{frame}");
        assert!(frame["message"].as_str().unwrap().starts_with("Слишком часто, подождите"), "{frame}");
        assert!(!frame["message_en"].as_str().unwrap().is_empty());
    }
    // What was acknowledged is stored once; what was refused is not stored.
    let stored = stored_client_ids(&app, &student, chat).await;
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), acked);
    assert_eq!(stored.len(), acked.len(), "no message stored twice");

    // The client waits as told and sends the rest again, until all are in.
    let mut pending: Vec<String> = ids.iter().filter(|id| !acked.contains(*id)).cloned().collect();
    let mut rounds = 0;
    while !pending.is_empty() {
        rounds += 1;
        assert!(rounds <= 8, "the rest goes out after a few waits");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let answers = send_all(&mut ws, chat, &pending).await;
        pending.retain(|id| answers[id]["type"] != "ack");
    }
    let stored = stored_client_ids(&app, &student, chat).await;
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), ids.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(stored.len(), ids.len(), "every message exactly once");
    app.finish().await;
}

#[tokio::test]
async fn a_fast_typist_is_never_limited() {
    // The real limits: a message every 250 ms with "typing" in between, read
    // marks, reactions and an edit — quicker than anyone types.
    let app = spawn(Limits::default()).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let mut ws = student.socket(&app, json!([])).await;
    ws.until("ready").await;
    for i in 0..30 {
        ws.send(json!({"type": "typing", "chat": chat})).await;
        let id = format!("fast-{i}");
        ws.send(json!({"type": "send", "chat": chat, "client_id": id, "text": "ок"})).await;
        let answer = loop {
            let frame = ws.next().await.expect("answered");
            assert_ne!(frame["type"], "error", "message {i}: {frame}");
            if frame["type"] == "ack" {
                break frame;
            }
        };
        ws.send(json!({"type": "read", "chat": chat, "seq": answer["seq"]})).await;
        if i % 5 == 0 {
            let message = answer["message_id"].as_i64().unwrap();
            let path = format!("/api/messenger/chats/{chat}/messages/{message}/reactions/👍");
            assert_eq!(teacher.request(&app, Method::PUT, &path, None).await.status(), StatusCode::NO_CONTENT);
            let edit = format!("/api/messenger/chats/{chat}/messages/{message}");
            let res = student.request(&app, Method::PATCH, &edit, Some(json!({"text": "окей"}))).await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    while let Some(frame) = ws.next().await {
        assert_ne!(frame["type"], "error", "nothing is refused: {frame}");
    }
    app.finish().await;
}

#[tokio::test]
async fn http_writes_are_refused_with_429_and_retry_after() {
    // One new message or reaction every 4 s: a loaded machine taking a
    // second or two over these requests does not refill the allowance.
    let app = spawn(Limits { messages: Rate::new(3, 0.25), reactions: Rate::new(2, 0.25), ..unlimited() }).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    let mut message = 0;
    for i in 0..3 {
        let res = student.send(&app, chat, &format!("h-{i}"), "Привет").await;
        assert_eq!(res.status(), StatusCode::OK);
        message = res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap();
    }
    let res = student.send(&app, chat, "h-3", "Привет").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let header: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["code"].as_str(), body["retry_after"].as_u64()), (Some("rate_limited"), Some(header)));
    assert!((1..=4).contains(&header), "the wait for one more: {header} s");
    // An edit draws on the same allowance as sends; reactions have their own.
    let edit = format!("/api/messenger/chats/{chat}/messages/{message}");
    let res = student.request(&app, Method::PATCH, &edit, Some(json!({"text": "Пока"}))).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let react = |emoji: &str| format!("/api/messenger/chats/{chat}/messages/{message}/reactions/{emoji}");
    assert_eq!(student.request(&app, Method::PUT, &react("👍"), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(student.request(&app, Method::PUT, &react("❤️"), None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(student.request(&app, Method::PUT, &react("😂"), None).await.status(), StatusCode::TOO_MANY_REQUESTS);
    let res = student.send(&app, chat, "h-3", "Привет").await;
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(student.send(&app, chat, "h-3", "Привет").await.status(), StatusCode::OK, "sent after the wait");
    let stored = stored_client_ids(&app, &student, chat).await;
    assert_eq!(stored, ["h-0", "h-1", "h-2", "h-3"]);
    app.finish().await;
}

#[tokio::test]
async fn a_chat_admin_has_more_room_but_is_not_exempt() {
    let app = spawn(Limits { messages: Rate::new(3, 0.1), admin_factor: 3, ..unlimited() }).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;

    let mut admitted = HashMap::new();
    for (who, person) in [("teacher", &teacher), ("student", &student)] {
        let mut ws = person.socket(&app, json!([])).await;
        ws.until("ready").await;
        let ids: Vec<String> = (0..15).map(|i| format!("{who}-{i}")).collect();
        let answers = send_all(&mut ws, chat, &ids).await;
        admitted.insert(who, answers.values().filter(|f| f["type"] == "ack").count());
    }
    assert_eq!(admitted["student"], 3);
    assert_eq!(admitted["teacher"], 9, "the class teacher admins the class chat: three times the room, not more");
    // Over HTTP the teacher's extra room is found the same way (and is spent).
    let res = teacher.send(&app, chat, "teacher-http", "Объявление").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    app.finish().await;
}

#[tokio::test]
async fn a_socket_sending_too_many_frames_is_slowed_down_not_cut_off() {
    let app = spawn(Limits { socket: Rate::new(10, 20.0), ..unlimited() }).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let mut ws = student.socket(&app, json!([])).await;
    ws.until("ready").await;
    let started = std::time::Instant::now();
    for _ in 0..40 {
        ws.send(json!({"type": "ping"})).await;
    }
    for _ in 0..40 {
        assert_eq!(ws.until("pong").await["type"], "pong", "every frame is answered in the end");
    }
    // 30 frames past the burst at 20 a second.
    assert!(started.elapsed() >= Duration::from_millis(1_400), "paced: {:?}", started.elapsed());
    app.finish().await;
}
