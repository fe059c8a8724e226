//! Web Push (issue 19) end to end on a fresh database (SQLite, or PostgreSQL
//! with `PARTA_TEST_POSTGRES`): a parent whose messenger is closed gets the
//! teacher's message through a push service on loopback, which decrypts it
//! as the parent's browser would. Demo mode, so that service may subscribe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::push::PushReceiver;
use common::{NodeOptions, Options, TestApp, error_code, spawn_node, spawn_with};
use reqwest::{Method, StatusCode};
use roster::Role;
use roster::import::{Batch, Guardianship, Mode, Part};
use serde_json::{Value, json};
use server::notify::PushConfig;
use std::time::Duration;
use testkit::fixture::{origin, person};

/// The grace period in these tests: a read inside it stops the push.
const GRACE: Duration = Duration::from_millis(400);

struct Class {
    app: TestApp,
    teacher: Linked,
    parent: Linked,
    /// «Родители 5А»: the class teacher and parent1.
    chat: i64,
    service: PushReceiver,
}

fn config() -> PushConfig {
    PushConfig { delay_ms: GRACE.as_millis() as u64, ..PushConfig::default() }
}

async fn class() -> Class {
    let app = spawn_with(Options { demo: true, push: Some(config()), ..Options::default() }).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "Родители 5А").await;
    // These tests are about who wants a push, not the time of day: the
    // school keeps no quiet hours (tests/quiet_hours.rs is about those).
    let none = messenger::quiet::QuietHours::new("UTC", Vec::new(), Vec::new()).unwrap();
    app.db.store.set_quiet_hours(parent.org, &none, app.now()).await.unwrap();
    Class { app, teacher, parent, chat, service: PushReceiver::start().await }
}

async fn subscribe(class: &Class, who: &Linked, device: &str) -> reqwest::Response {
    who.post(&class.app, "/api/push/subscriptions", class.service.subscribe(device)).await
}

async fn post(who: &Linked, app: &TestApp, chat: i64, id: &str, text: &str) -> i64 {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["seq"].as_i64().unwrap()
}

/// Long enough for a push the grace period held back to have gone out.
async fn after_grace() {
    tokio::time::sleep(GRACE * 3).await;
}

#[tokio::test]
async fn a_parent_with_the_messenger_closed_gets_the_teachers_message_by_push() {
    let c = class().await;
    assert_eq!(subscribe(&c, &c.parent, "parent-phone").await.status(), StatusCode::NO_CONTENT);
    assert_eq!(subscribe(&c, &c.teacher, "teacher-laptop").await.status(), StatusCode::NO_CONTENT);
    let long = "Завтра уроки до 13:00, после — собрание в актовом зале. ".repeat(4);
    let seq = post(&c.teacher, &c.app, c.chat, "m1", &long).await;

    let received = c.service.until(1).await;
    let push = &received[0];
    assert_eq!(push.device, "parent-phone", "the author is not notified of her own message");
    let p = &push.payload;
    assert_eq!((p["v"].as_i64(), p["type"].as_str()), (Some(1), Some("message")));
    assert_eq!((p["chat"].as_i64(), p["seq"].as_i64()), (Some(c.chat), Some(seq)));
    assert_eq!(p["chat_name"], "Родители 5А");
    assert_eq!(p["sender"], "Учителева Ольга");
    let preview = p["preview"].as_str().unwrap();
    assert_eq!(preview.chars().count(), 100, "{preview}");
    assert!(preview.starts_with("Завтра уроки до 13:00") && preview.ends_with('…'));
    assert_eq!(push.urgency.as_deref(), Some("normal"));
    assert!(push.vapid, "pushes are VAPID-signed");
    after_grace().await;
    assert_eq!(c.service.received().len(), 1, "nothing to the teacher's own laptop");
    c.app.finish().await;
}

#[tokio::test]
async fn a_person_who_reads_the_chat_within_the_grace_period_gets_no_push() {
    let c = class().await;
    subscribe(&c, &c.parent, "parent-phone").await;
    let seq = post(&c.teacher, &c.app, c.chat, "m1", "Кто забыл сменку?").await;
    // The parent's open tab shows the chat and marks the message read.
    let res = c.parent.post(&c.app, &format!("/api/messenger/chats/{}/read", c.chat), json!({ "seq": seq })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    after_grace().await;
    assert_eq!(c.service.requests("parent-phone"), 0);

    post(&c.teacher, &c.app, c.chat, "m2", "Нашлась!").await;
    assert_eq!(c.service.until(1).await[0].payload["preview"], "Нашлась!", "an unread one is pushed");
    c.app.finish().await;
}

#[tokio::test]
async fn messages_that_come_due_together_are_each_pushed_only_if_still_unread() {
    let c = class().await;
    subscribe(&c, &c.parent, "parent-phone").await;
    // A burst: the parent's open tab reads the first two within the grace period.
    post(&c.teacher, &c.app, c.chat, "b1", "Первое").await;
    let second = post(&c.teacher, &c.app, c.chat, "b2", "Второе").await;
    post(&c.teacher, &c.app, c.chat, "b3", "Третье").await;
    let res = c.parent.post(&c.app, &format!("/api/messenger/chats/{}/read", c.chat), json!({ "seq": second })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.service.until(1).await[0].payload["preview"], "Третье");

    // A burst read in full: nobody behind, nothing pushed.
    post(&c.teacher, &c.app, c.chat, "b4", "Четвёртое").await;
    let last = post(&c.teacher, &c.app, c.chat, "b5", "Пятое").await;
    let res = c.parent.post(&c.app, &format!("/api/messenger/chats/{}/read", c.chat), json!({ "seq": last })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    after_grace().await;
    assert_eq!(c.service.requests("parent-phone"), 1, "only «Третье» was pushed");
    c.app.finish().await;
}

#[tokio::test]
async fn a_subscription_the_push_service_calls_gone_is_removed() {
    let c = class().await;
    subscribe(&c, &c.parent, "parent-phone").await;
    c.service.answer("parent-phone", StatusCode::GONE);
    post(&c.teacher, &c.app, c.chat, "m1", "Первое").await;
    after_grace().await;
    assert_eq!(c.service.requests("parent-phone"), 1);
    post(&c.teacher, &c.app, c.chat, "m2", "Второе").await;
    after_grace().await;
    assert_eq!(c.service.requests("parent-phone"), 1, "not tried again once gone");
    c.app.finish().await;
}

#[tokio::test]
async fn signing_out_or_leaving_the_chat_stops_the_pushes() {
    let c = class().await;
    subscribe(&c, &c.parent, "parent-phone").await;
    // Signing out ends the session, and its subscription with it.
    let res = c.parent.request(&c.app, Method::DELETE, "/api/messenger/session", None).await;
    assert!(res.status().is_success(), "{}", res.status());
    post(&c.teacher, &c.app, c.chat, "m1", "После выхода").await;
    after_grace().await;
    assert_eq!(c.service.requests("parent-phone"), 0);

    // A member removed from the chat hears nothing more about it.
    let again = c.parent.new_session(&c.app).await;
    subscribe(&c, &again, "parent-tablet").await;
    let director = c.app.signed_in("director").await;
    let path = format!("/api/orgs/{}/chats/{}/members/{}", again.org, c.chat, again.person);
    let res = director.delete(c.app.url(&path)).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    post(&c.teacher, &c.app, c.chat, "m2", "Без неё").await;
    after_grace().await;
    assert_eq!(c.service.requests("parent-tablet"), 0);
    c.app.finish().await;
}

#[tokio::test]
async fn subscriptions_are_checked_and_belong_to_one_person() {
    let c = class().await;
    let good = c.service.subscribe("parent-phone");
    let with = |endpoint: &str| {
        let mut body = good.clone();
        body["endpoint"] = json!(endpoint);
        body
    };
    let refused = [
        (with("https://push.evil.example/x"), "push_endpoint_not_allowed"),
        (with("http://fcm.googleapis.com/fcm/send/x"), "push_endpoint_not_https"),
        (with("http://10.1.2.3/push"), "push_endpoint_not_https"),
        (with("not a url"), "invalid_input"),
        (
            json!({ "endpoint": good["endpoint"], "keys": { "p256dh": "AAAA", "auth": good["keys"]["auth"] } }),
            "invalid_input",
        ),
        (
            json!({ "endpoint": good["endpoint"], "keys": { "p256dh": good["keys"]["p256dh"], "auth": "" } }),
            "invalid_input",
        ),
        (json!({ "endpoint": good["endpoint"] }), "invalid_input"),
    ];
    for (body, code) in refused {
        let res = c.parent.post(&c.app, "/api/push/subscriptions", body.clone()).await;
        assert_eq!(error_code(res).await.1, code, "{body}");
    }
    let anonymous = c.app.post(&reqwest::Client::new(), "/api/push/subscriptions", good.clone()).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(c.parent.post(&c.app, "/api/push/subscriptions", good.clone()).await.status(), StatusCode::NO_CONTENT);
    // Another person cannot take the parent's device, nor switch it off.
    let res = c.teacher.post(&c.app, "/api/push/subscriptions", good.clone()).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "push_subscription_taken".into()));
    let endpoint = json!({ "endpoint": good["endpoint"] });
    let res = c.teacher.request(&c.app, Method::DELETE, "/api/push/subscriptions", Some(endpoint.clone())).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "push_subscription_not_found".into()));
    post(&c.teacher, &c.app, c.chat, "m1", "Ещё подписаны").await;
    c.service.until(1).await;

    let res = c.parent.request(&c.app, Method::DELETE, "/api/push/subscriptions", Some(endpoint)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    post(&c.teacher, &c.app, c.chat, "m2", "Уже нет").await;
    after_grace().await;
    assert_eq!(c.service.received().len(), 1, "switched off on the device");
    c.app.finish().await;
}

#[tokio::test]
async fn every_node_signs_with_the_key_made_at_first_start() {
    let app = spawn_with(Options { push: Some(config()), ..Options::default() }).await;
    let key: Value = app.client().get(app.url("/api/push/key")).send().await.unwrap().json().await.unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    assert_eq!(key.len(), 87, "65 bytes in unpadded base64url: {key}");
    let node = spawn_node(&app, NodeOptions { push: Some(config()), ..NodeOptions::default() }).await;
    let again: Value = reqwest::get(format!("{}/api/push/key", node.base)).await.unwrap().json().await.unwrap();
    assert_eq!(again["key"], key.as_str());
    app.finish().await;
}

#[tokio::test]
async fn without_push_the_key_says_notifications_are_off() {
    let app = spawn_with(Options::default()).await;
    let res = app.client().get(app.url("/api/push/key")).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::SERVICE_UNAVAILABLE, "push_unavailable".into()));
    app.finish().await;
}

/// «Родители 5А» with a second parent (Королёв Андрей, Алёна's father), who
/// chats with the first.
async fn two_parents() -> (Class, Linked) {
    let c = class().await;
    let batch = Batch {
        people: Part {
            mode: Mode::Delta, rows: vec![person("g2", "Королёв", "Андрей", "parent2", &[Role::Guardian])]
        },
        guardianships: vec![(origin("users.csv", 9), Guardianship { guardian: "g2".into(), student: "st1".into() })],
        ..Batch::default()
    };
    c.app.db.store.apply_import(&batch, storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    let father = linked(&c.app, "parent2", "+79120000004").await;
    assert_eq!(father.chat_named(&c.app, "Родители 5А").await, c.chat);
    (c, father)
}

async fn post_json(who: &Linked, app: &TestApp, chat: i64, body: Value) -> i64 {
    let res = who.post(app, &format!("/api/messenger/chats/{chat}/messages"), body).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

async fn notifications(who: &Linked, app: &TestApp, chat: i64, change: Value) -> Value {
    let res = who.request(app, Method::PUT, &format!("/api/messenger/chats/{chat}/notifications"), Some(change)).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The previews pushed so far, in order.
fn previews(service: &PushReceiver) -> Vec<String> {
    service.received().iter().map(|r| r.payload["preview"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_parent_hears_the_teacher_mentions_and_replies_but_not_the_other_parents_chatter() {
    let (c, father) = two_parents().await;
    subscribe(&c, &c.parent, "mother-phone").await;
    let settings = c.parent.json(&c.app, &format!("/api/messenger/chats/{}/notifications", c.chat)).await;
    assert_eq!(
        settings,
        json!({"level": "important", "chosen": false, "default_level": "important", "muted_until": null})
    );

    post(&c.parent, &c.app, c.chat, "q", "Во сколько собрание?").await;
    post_json(&father, &c.app, c.chat, json!({"client_id": "f1", "text": "Кто-нибудь видел сменку?"})).await;
    post_json(&c.teacher, &c.app, c.chat, json!({"client_id": "t1", "text": "Собрание в 18:00"})).await;
    c.service.until(1).await;
    let asked = c.parent.json(&c.app, &format!("/api/messenger/chats/{}/messages?limit=5", c.chat)).await;
    let question = asked["messages"].as_array().unwrap().iter().find(|m| m["text"] == "Во сколько собрание?").unwrap()
        ["id"]
        .as_i64()
        .unwrap();
    post_json(&father, &c.app, c.chat, json!({"client_id": "f2", "text": "В 18:00", "reply_to": question})).await;
    post_json(
        &father,
        &c.app,
        c.chat,
        json!({"client_id": "f3", "text": "Карина, спасибо!", "mentions": [c.parent.person]}),
    )
    .await;
    c.service.until(3).await;
    after_grace().await;
    assert_eq!(previews(&c.service), ["Собрание в 18:00", "В 18:00", "Карина, спасибо!"], "no push for the chatter");
    c.app.finish().await;
}

#[tokio::test]
async fn a_muted_chat_pushes_only_mentions_and_all_messages_brings_the_chatter_back() {
    let (c, father) = two_parents().await;
    subscribe(&c, &c.parent, "mother-phone").await;
    let muted = notifications(&c.parent, &c.app, c.chat, json!({"mute": "eight_hours"})).await;
    assert_eq!(muted["muted_until"].as_i64(), Some(c.app.state.now() + 8 * 3600));
    post_json(&c.teacher, &c.app, c.chat, json!({"client_id": "t1", "text": "Собрание в 18:00"})).await;
    post_json(
        &father,
        &c.app,
        c.chat,
        json!({"client_id": "f1", "text": "Карина, вы будете?", "mentions": [c.parent.person]}),
    )
    .await;
    c.service.until(1).await;
    after_grace().await;
    assert_eq!(previews(&c.service), ["Карина, вы будете?"], "a mention notifies even in a muted chat");

    // Eight hours later the mute is over by itself.
    c.app.advance(8 * 3600 + 1);
    let after = c.parent.json(&c.app, &format!("/api/messenger/chats/{}/notifications", c.chat)).await;
    assert_eq!(after["muted_until"], Value::Null);

    let all = notifications(&c.parent, &c.app, c.chat, json!({"level": "all"})).await;
    assert_eq!((all["level"].as_str(), all["chosen"].as_bool()), (Some("all"), Some(true)));
    post_json(&father, &c.app, c.chat, json!({"client_id": "f2", "text": "Кто-нибудь видел сменку?"})).await;
    c.service.until(2).await;
    assert_eq!(previews(&c.service)[1], "Кто-нибудь видел сменку?");

    let back = notifications(&c.parent, &c.app, c.chat, json!({"level": "default", "mute": "until_on"})).await;
    assert_eq!((back["level"].as_str(), back["chosen"].as_bool()), (Some("important"), Some(false)));
    assert_eq!(back["muted_until"].as_i64(), Some(i64::MAX));
    c.app.finish().await;
}

#[tokio::test]
async fn notification_settings_are_checked_and_only_for_members() {
    let c = class().await;
    let path = format!("/api/messenger/chats/{}/notifications", c.chat);
    for (change, field) in [(json!({"level": "loud"}), "level"), (json!({"mute": "forever"}), "mute")] {
        let res = c.parent.request(&c.app, Method::PUT, &path, Some(change)).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("invalid_input"), Some(field)));
    }
    let student = linked(&c.app, "student3", "+79120000009").await;
    let res = student.request(&c.app, Method::PUT, &path, Some(json!({"level": "all"}))).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "not a member of «Родители 5А»");
    let teacher = c.teacher.json(&c.app, &path).await;
    assert_eq!(teacher["default_level"], "all", "the teacher hears her parents' chat");
    c.app.finish().await;
}

#[tokio::test]
async fn a_direct_call_rings_the_other_persons_closed_messenger_at_once() {
    let calls = server::messenger::calls::CallsConfig::default();
    let app = spawn_with(Options { demo: true, push: Some(config()), calls: Some(calls), ..Options::default() }).await;
    let service = PushReceiver::start().await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let res = parent.post(&app, "/api/push/subscriptions", service.subscribe("mother-phone")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let direct: Value = teacher
        .post(&app, "/api/messenger/direct", json!({"org": teacher.org, "person": parent.person}))
        .await
        .json()
        .await
        .unwrap();
    let chat = direct["id"].as_i64().unwrap();
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    ws.send(json!({"type": "call_join", "chat": chat, "kind": "audio", "sdp": common::chat::offer()})).await;
    let call = ws.until("call_joined").await["call"]["id"].as_i64().unwrap();

    // No grace period: a call cannot wait.
    let ring = tokio::time::timeout(GRACE, service.until(1)).await.expect("rung within the grace period");
    assert_eq!(
        ring[0].payload,
        json!({"v": 1, "type": "call", "chat": chat, "call": call, "caller": "Учителева Ольга"})
    );
    assert_eq!(ring[0].urgency.as_deref(), Some("high"));
    app.finish().await;
}

#[tokio::test]
async fn a_teachers_reminder_reaches_a_parent_whose_messenger_is_closed() {
    let c = class().await;
    subscribe(&c, &c.parent, "mother-phone").await;
    let res = c.teacher.send(&c.app, c.chat, "t1", "Завтра уроки до 13:00").await;
    let message = res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap();
    c.service.until(1).await;
    let path = format!("/api/messenger/chats/{}/messages/{message}/remind", c.chat);
    assert_eq!(c.teacher.post(&c.app, &path, json!({})).await.status(), StatusCode::OK);
    let received = c.service.until(2).await;
    assert_eq!(
        received[1].payload,
        json!({"v": 1, "type": "reminder", "chat": c.chat, "chat_name": "Родители 5А", "message": message, "about": "read"})
    );
    c.app.finish().await;
}
