//! Scheduled messages («Отправить позже», issue 19) end to end on a fresh
//! database (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`): the class
//! teacher of 5А and a student in «5А класс», the background jobs running,
//! and the server's clock moved by the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::{TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

struct Class {
    app: TestApp,
    teacher: Linked,
    student: Linked,
    chat: i64,
    _jobs: server::jobs::Jobs,
}

async fn class() -> Class {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let _jobs = server::jobs::spawn(app.state.clone());
    Class { app, teacher, student, chat, _jobs }
}

async fn schedule(who: &Linked, app: &TestApp, chat: i64, body: Value) -> reqwest::Response {
    who.post(app, &format!("/api/messenger/chats/{chat}/scheduled"), body).await
}

/// Schedules `text` at `send_at`; the new scheduled message.
async fn scheduled(who: &Linked, app: &TestApp, chat: i64, client_id: &str, text: &str, send_at: i64) -> Value {
    let res = schedule(who, app, chat, json!({ "client_id": client_id, "text": text, "send_at": send_at })).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn list(who: &Linked, app: &TestApp, chat: i64) -> Vec<Value> {
    who.json(app, &format!("/api/messenger/chats/{chat}/scheduled")).await.as_array().unwrap().clone()
}

/// The scheduled message `id` in `who`'s list, once it is no longer pending.
async fn settled(who: &Linked, app: &TestApp, chat: i64, id: i64) -> Value {
    for _ in 0..100 {
        let found = list(who, app, chat).await.into_iter().find(|s| s["id"] == id).unwrap();
        if found["state"] != "pending" {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("scheduled message {id} was never sent or failed");
}

async fn texts(who: &Linked, app: &TestApp, chat: i64) -> Vec<String> {
    let page = who.json(app, &format!("/api/messenger/chats/{chat}/messages")).await;
    page["messages"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_scheduled_message_goes_out_at_its_time_and_the_other_member_receives_it_live() {
    let Class { app, teacher, student, chat, _jobs } = class().await;
    let send_at = app.now() + 3600;
    let made = scheduled(&teacher, &app, chat, "later-1", "Завтра контрольная", send_at).await;
    assert_eq!(made["state"], "pending");
    assert_eq!((made["chat"].as_i64(), made["send_at"].as_i64()), (Some(chat), Some(send_at)));
    assert_eq!(made["text"], "Завтра контрольная");
    assert!(made.get("message").is_none() && made.get("failure").is_none(), "{made}");
    let id = made["id"].as_i64().unwrap();
    assert_eq!(list(&teacher, &app, chat).await, vec![made.clone()]);
    assert!(list(&student, &app, chat).await.is_empty(), "nobody else sees it");

    let mut student_ws = student.socket(&app, json!([])).await;
    student_ws.until("ready").await;
    let mut teacher_ws = teacher.socket(&app, json!([])).await;
    teacher_ws.until("ready").await;
    // The jobs look every second: a few rounds pass and nothing is due yet.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!texts(&student, &app, chat).await.contains(&"Завтра контрольная".to_string()));

    app.advance(3600);
    let event = student_ws.until_within("event", Duration::from_secs(10)).await;
    let message = &event["event"]["message"];
    assert_eq!(message["text"], "Завтра контрольная");
    assert_eq!(message["author"]["person"], teacher.person);
    let created = message["created_at"].as_i64().unwrap();
    assert!(created >= send_at && created <= app.now(), "its time is when it was sent: {created}");
    let own = teacher_ws.until_within("event", Duration::from_secs(10)).await;
    assert_eq!(own["event"]["message"]["id"], message["id"], "the author's open messenger gets it too");

    let done = settled(&teacher, &app, chat, id).await;
    assert_eq!(done["state"], "sent");
    assert_eq!(done["message"], message["id"]);
    let history = texts(&student, &app, chat).await;
    assert_eq!(history.iter().filter(|t| *t == "Завтра контрольная").count(), 1);
    app.finish().await;
}

#[tokio::test]
async fn the_author_edits_text_and_time_and_cancels_before_it_is_sent() {
    let Class { app, teacher, student, chat, _jobs } = class().await;
    let now = app.now();
    let edited = scheduled(&teacher, &app, chat, "e1", "Собрание в 18:00", now + 600).await;
    let cancelled = scheduled(&teacher, &app, chat, "c1", "Не придётся", now + 300).await;
    let (edited_id, cancelled_id) = (edited["id"].as_i64().unwrap(), cancelled["id"].as_i64().unwrap());
    let order: Vec<i64> = list(&teacher, &app, chat).await.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(order, [cancelled_id, edited_id], "by time to send");

    let path = format!("/api/messenger/scheduled/{edited_id}");
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({ "text": "Собрание в 19:00" }))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({ "send_at": now + 7200 }))).await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!((changed["text"].as_str(), changed["send_at"].as_i64()), (Some("Собрание в 19:00"), Some(now + 7200)));

    let gone = format!("/api/messenger/scheduled/{cancelled_id}");
    let res = teacher.request(&app, Method::DELETE, &gone, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["state"], "cancelled");
    let ids: Vec<i64> = list(&teacher, &app, chat).await.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [edited_id], "a cancelled message leaves the list");
    let again = teacher.request(&app, Method::DELETE, &gone, None).await;
    assert_eq!(error_code(again).await, (StatusCode::CONFLICT, "scheduled_not_pending".into()));
    let res = teacher.request(&app, Method::PATCH, &gone, Some(json!({ "text": "Всё же" }))).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "scheduled_not_pending".into()));

    app.advance(3600);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let history = texts(&student, &app, chat).await;
    assert!(!history.iter().any(|t| t.starts_with("Собрание") || t == "Не придётся"), "{history:?}");
    app.advance(3600);
    assert_eq!(settled(&teacher, &app, chat, edited_id).await["state"], "sent");
    let history = texts(&student, &app, chat).await;
    assert!(history.contains(&"Собрание в 19:00".to_string()), "the edited text at the edited time");
    assert!(!history.iter().any(|t| t == "Собрание в 18:00" || t == "Не придётся"), "{history:?}");
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({ "text": "Поздно" }))).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "scheduled_not_pending".into()), "a sent one stays");
    app.finish().await;
}

#[tokio::test]
async fn bad_times_empty_text_foreign_chats_and_others_messages_are_refused_and_nothing_is_stored() {
    let Class { app, teacher, student, chat, _jobs } = class().await;
    let now = app.now();
    let body = |text: &str, send_at: i64| json!({ "client_id": "x1", "text": text, "send_at": send_at });
    for (bad, code) in [
        (body("Вчера", now - 60), "scheduled_in_past"),
        (body("Через два года", now + 2 * 365 * 24 * 3600), "scheduled_too_far"),
        (body("   ", now + 60), "message_empty"),
        (json!({ "client_id": "не годится", "text": "Привет", "send_at": now + 60 }), "invalid_client_id"),
    ] {
        let res = schedule(&teacher, &app, chat, bad.clone()).await;
        assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, code.into()), "{bad}");
    }
    let res = schedule(&teacher, &app, chat, json!({ "client_id": "x2", "text": "Без времени" })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "invalid_input".into()));
    // A reply to a message of another chat.
    let staff = teacher.chat_named(&app, "Учительская").await;
    let elsewhere: Value = teacher.send(&app, staff, "s1", "Педсовет").await.json().await.unwrap();
    let reply = json!({ "client_id": "x3", "text": "Ответ", "send_at": now + 60, "reply_to": elsewhere["message_id"] });
    let res = schedule(&teacher, &app, chat, reply).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "reply_outside_chat".into()));
    // A chat the student is not in.
    let res = schedule(&student, &app, staff, body("Здравствуйте", now + 60)).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let res = student.get(&app, &format!("/api/messenger/chats/{staff}/scheduled")).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    assert!(list(&teacher, &app, chat).await.is_empty(), "nothing refused is stored");

    // Another person's scheduled message is not theirs to see, change or cancel.
    let mine = scheduled(&teacher, &app, chat, "t1", "Только моё", now + 60).await;
    let path = format!("/api/messenger/scheduled/{}", mine["id"]);
    let res = student.request(&app, Method::PATCH, &path, Some(json!({ "text": "Подмена" }))).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let res = student.request(&app, Method::DELETE, &path, None).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    assert!(list(&student, &app, chat).await.is_empty());
    // Nor may its author move it into the past or blank it.
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({ "send_at": now - 1 }))).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "scheduled_in_past".into()));
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({ "text": "" }))).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "message_empty".into()));
    let res = teacher.request(&app, Method::PATCH, "/api/messenger/scheduled/999999", Some(json!({}))).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    assert_eq!(list(&teacher, &app, chat).await, vec![mine]);
    app.finish().await;
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_same_scheduled_message_and_sends_once() {
    let Class { app, teacher, student, chat, _jobs } = class().await;
    let send_at = app.now() + 60;
    let first = scheduled(&teacher, &app, chat, "same", "Один раз", send_at).await;
    let again = scheduled(&teacher, &app, chat, "same", "Один раз", send_at).await;
    assert_eq!(first, again);
    assert_eq!(list(&teacher, &app, chat).await.len(), 1);
    app.advance(60);
    assert_eq!(settled(&teacher, &app, chat, first["id"].as_i64().unwrap()).await["state"], "sent");
    let late = scheduled(&teacher, &app, chat, "same", "Один раз", send_at).await;
    assert_eq!(late["state"], "sent", "a retry after the time still finds the first");
    assert_eq!(texts(&student, &app, chat).await.iter().filter(|t| *t == "Один раз").count(), 1);
    app.finish().await;
}

#[tokio::test]
async fn a_send_repeated_after_a_crash_before_it_was_marked_makes_no_second_message() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let made = scheduled(&teacher, &app, chat, "crash-1", "Не дважды", app.now() + 60).await;
    app.advance(60);
    // A node takes it and commits the message, then dies before marking it sent.
    let taken = app.db.store.claim_due_scheduled(app.now(), 10).await.unwrap();
    assert_eq!(taken.len(), 1);
    let due = &taken[0];
    let message = storage::NewMessage {
        chat_id: due.chat_id,
        account_id: due.account_id,
        client_id: messenger::ClientId::parse(&due.client_id).unwrap(),
        text: messenger::MessageText::parse(&due.text).unwrap(),
        reply_to: None,
        mentions: Vec::new(),
        attachments: Vec::new(),
        poll: None,
        consent: None,
        urgent: false,
        now: app.now(),
    };
    let first = app.state.messenger.writer.send(message).await.unwrap();
    // The next leader finds it taken and unfinished, and sends it again.
    let _jobs = server::jobs::spawn(app.state.clone());
    let done = settled(&teacher, &app, chat, made["id"].as_i64().unwrap()).await;
    assert_eq!(done["message"], first.message_id, "the message the first try made");
    assert_eq!(texts(&teacher, &app, chat).await.iter().filter(|t| *t == "Не дважды").count(), 1);
    app.finish().await;
}

#[tokio::test]
async fn an_author_who_may_no_longer_post_gets_failed_with_the_reason_and_nothing_is_sent() {
    let Class { app, teacher, student, chat, _jobs } = class().await;
    let now = app.now();
    // The chat becomes announcement-only: the student's message fails.
    let muted = scheduled(&student, &app, chat, "s1", "Можно вопрос?", now + 60).await;
    let settings = Some(json!({ "announcement_only": true }));
    let res = teacher.request(&app, Method::PATCH, &format!("/api/messenger/chats/{chat}"), settings).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.advance(60);
    let failed = settled(&student, &app, chat, muted["id"].as_i64().unwrap()).await;
    assert_eq!((failed["state"].as_str(), failed["failure"].as_str()), (Some("failed"), Some("announcement_only")));
    assert!(failed.get("message").is_none());
    let settings = Some(json!({ "announcement_only": false }));
    let res = teacher.request(&app, Method::PATCH, &format!("/api/messenger/chats/{chat}"), settings).await;
    assert_eq!(res.status(), StatusCode::OK);

    // The student is removed from the chat before the time.
    let gone = scheduled(&student, &app, chat, "s2", "Меня уже нет", app.now() + 60).await;
    let director = app.signed_in("director").await;
    let member = app.url(&format!("/api/orgs/{}/chats/{chat}/members/{}", student.org, student.person));
    assert!(director.delete(&member).send().await.unwrap().status().is_success());
    app.advance(60);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let history = texts(&teacher, &app, chat).await;
    assert!(!history.iter().any(|t| t == "Можно вопрос?" || t == "Меня уже нет"), "{history:?}");
    // Back in the chat, the student sees why it did not go.
    let members = app.url(&format!("/api/orgs/{}/chats/{chat}/members", student.org));
    let res = director.post(&members).json(&json!({ "people": [student.person] })).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let failed = settled(&student, &app, chat, gone["id"].as_i64().unwrap()).await;
    assert_eq!((failed["state"].as_str(), failed["failure"].as_str()), (Some("failed"), Some("not_in_chat")));
    app.finish().await;
}

#[tokio::test]
async fn a_person_has_at_most_a_hundred_messages_waiting() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let send_at = app.now() + 3600;
    for i in 0..messenger::scheduled::MAX_PENDING {
        scheduled(&teacher, &app, chat, &format!("n{i}"), &format!("Напоминание {i}"), send_at).await;
    }
    let res =
        schedule(&teacher, &app, chat, json!({ "client_id": "one-more", "text": "Ещё", "send_at": send_at })).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "too_many_scheduled".into()));
    let first = list(&teacher, &app, chat).await[0]["id"].clone();
    let res = teacher.request(&app, Method::DELETE, &format!("/api/messenger/scheduled/{first}"), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    scheduled(&teacher, &app, chat, "one-more", "Ещё", send_at).await;
    app.finish().await;
}

#[tokio::test]
async fn a_deleted_parta_id_leaves_no_scheduled_message_behind() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    scheduled(&teacher, &app, chat, "mine", "Личное, ещё не отправленное", app.now() + 3600).await;
    let res = teacher.request(&app, Method::DELETE, "/api/messenger/me", None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let left = app.db.store.claim_due_scheduled(app.now() + 3600, 100).await.unwrap();
    assert!(left.is_empty(), "its text goes with the Parta ID: {left:?}");
    app.finish().await;
}
