//! School quiet hours and «Срочно» (issue 19) end to end on a fresh database
//! (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`): the server's clock is
//! moved to 22:00 in the school's zone (Moscow, UTC+3 all year), where the
//! default quiet hours hold pushes for parents' and class chats until 08:00;
//! the leader's jobs then send one summary per person, which the push
//! receiver on loopback decrypts as the parent's browser would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::push::PushReceiver;
use common::{Options, TestApp, error_code, spawn_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::notify::PushConfig;
use std::time::Duration;

const GRACE: Duration = Duration::from_millis(300);

struct School {
    app: TestApp,
    teacher: Linked,
    parent: Linked,
    /// «Родители 5А»: the class teacher and parent1.
    chat: i64,
    service: PushReceiver,
    _jobs: server::jobs::Jobs,
}

/// The fixture school with the parent's phone subscribed, its clock at the
/// next 22:00 in Moscow (a weekday evening or the weekend: quiet either way).
async fn school_at_22() -> School {
    let config = PushConfig { delay_ms: GRACE.as_millis() as u64, ..PushConfig::default() };
    let app = spawn_with(Options { demo: true, push: Some(config), ..Options::default() }).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "Родители 5А").await;
    let service = PushReceiver::start().await;
    let res = parent.post(&app, "/api/push/subscriptions", service.subscribe("parent-phone")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let now = app.now();
    let mut at_22_moscow = now - now.rem_euclid(86_400) + 19 * 3600;
    if at_22_moscow <= now {
        at_22_moscow += 86_400;
    }
    app.advance(at_22_moscow - now);
    let jobs = server::jobs::spawn(app.state.clone());
    School { app, teacher, parent, chat, service, _jobs: jobs }
}

async fn send(who: &Linked, app: &TestApp, chat: i64, body: Value) -> reqwest::Response {
    who.post(app, &format!("/api/messenger/chats/{chat}/messages"), body).await
}

async fn post(who: &Linked, app: &TestApp, chat: i64, id: &str, text: &str) -> i64 {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["seq"].as_i64().unwrap()
}

async fn quiet_of(who: &Linked, app: &TestApp, chat: i64) -> Value {
    who.json(app, &format!("/api/messenger/chats/{chat}/quiet")).await
}

/// Long enough for a push the grace period held back, or a summary the
/// jobs' next round sends, to have gone out.
async fn a_while() {
    tokio::time::sleep(Duration::from_millis(2_500)).await;
}

#[tokio::test]
async fn at_22_a_parent_gets_no_push_and_one_summary_when_quiet_hours_end() {
    let s = school_at_22().await;
    let quiet = quiet_of(&s.parent, &s.app, s.chat).await;
    assert_eq!(quiet["quiet"], true, "{quiet}");
    assert_eq!(quiet["until_local"], "08:00");
    let until = quiet["until"].as_i64().unwrap();
    assert_eq!(until.rem_euclid(86_400), 5 * 3600, "08:00 in Moscow is 05:00 UTC");

    for (id, text) in [("m1", "Завтра контрольная"), ("m2", "Не забудьте форму"), ("m3", "И сменку")]
    {
        post(&s.teacher, &s.app, s.chat, id, text).await;
    }
    a_while().await;
    assert_eq!(s.service.requests("parent-phone"), 0, "nothing at 22:00");

    s.app.advance(until - s.app.now() - 60);
    a_while().await;
    assert_eq!(s.service.requests("parent-phone"), 0, "nothing at 07:59 either");
    s.app.advance(60);
    let received = s.service.until(1).await;
    let p = &received[0].payload;
    assert_eq!((p["v"].as_i64(), p["type"].as_str()), (Some(1), Some("summary")), "{p}");
    assert_eq!(p["messages"], 3);
    assert_eq!(p["chats"], json!([{ "chat": s.chat, "chat_name": "Родители 5А", "messages": 3 }]));
    a_while().await;
    assert_eq!(s.service.received().len(), 1, "one summary, once");
    s.app.finish().await;
}

#[tokio::test]
async fn messages_read_before_the_morning_are_left_out_of_the_summary() {
    let s = school_at_22().await;
    let until = quiet_of(&s.parent, &s.app, s.chat).await["until"].as_i64().unwrap();
    post(&s.teacher, &s.app, s.chat, "m1", "Собрание в четверг").await;
    let seq = post(&s.teacher, &s.app, s.chat, "m2", "В 18:00").await;
    a_while().await;
    let res = s.parent.post(&s.app, &format!("/api/messenger/chats/{}/read", s.chat), json!({ "seq": seq })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    s.app.advance(until - s.app.now());
    a_while().await;
    assert_eq!(s.service.requests("parent-phone"), 0, "everything was read: no summary");
    s.app.finish().await;
}

#[tokio::test]
async fn an_urgent_message_at_22_is_pushed_at_once_and_shown_as_urgent() {
    let s = school_at_22().await;
    let body = json!({ "client_id": "u1", "text": "Завтра занятий нет: карантин", "urgent": true });
    let res = send(&s.teacher, &s.app, s.chat, body).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let received = s.service.until(1).await;
    let push = &received[0];
    assert_eq!(push.payload["type"], "message");
    assert_eq!(push.payload["preview"], "Завтра занятий нет: карантин");
    assert_eq!(push.urgency.as_deref(), Some("high"));

    let history = s.parent.json(&s.app, &format!("/api/messenger/chats/{}/messages", s.chat)).await;
    let last = history["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["urgent"], true, "{last}");
    s.app.finish().await;
}

#[tokio::test]
async fn only_a_chats_admins_may_send_urgent() {
    let s = school_at_22().await;
    let body = json!({ "client_id": "p1", "text": "Срочно всем!", "urgent": true });
    let res = send(&s.parent, &s.app, s.chat, body).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "urgent_not_admin".into()));

    let mut socket = s.parent.socket(&s.app, json!([])).await;
    socket.send(json!({ "type": "send", "chat": s.chat, "client_id": "p2", "text": "Срочно!", "urgent": true })).await;
    let error = socket.until("error").await;
    assert_eq!((error["client_id"].as_str(), error["code"].as_str()), (Some("p2"), Some("urgent_not_admin")));
    let history = s.parent.json(&s.app, &format!("/api/messenger/chats/{}/messages", s.chat)).await;
    assert!(history["messages"].as_array().unwrap().is_empty(), "nothing was stored: {history}");
    s.app.finish().await;
}

#[tokio::test]
async fn the_staff_room_is_not_quiet_by_default() {
    let s = school_at_22().await;
    let colleague = linked(&s.app, "teacher2", "+79120000002").await;
    let res = colleague.post(&s.app, "/api/push/subscriptions", s.service.subscribe("colleague-phone")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let staff = s.teacher.chat_named(&s.app, "Учительская").await;
    assert_eq!(
        quiet_of(&s.teacher, &s.app, staff).await,
        json!({ "quiet": false, "until": null, "until_local": null })
    );
    post(&s.teacher, &s.app, staff, "s1", "Кто дежурит завтра?").await;
    let received = s.service.until(1).await;
    assert_eq!(received[0].device, "colleague-phone");
    s.app.finish().await;
}

fn period(from_day: &str, from: &str, to_day: &str, to: &str) -> Value {
    json!({ "from_day": from_day, "from": from, "to_day": to_day, "to": to })
}

#[tokio::test]
async fn administrators_set_quiet_hours_and_bad_ones_are_refused_whole() {
    let s = school_at_22().await;
    let director = s.app.signed_in("director").await;
    let path = s.app.url(&format!("/api/orgs/{}/quiet-hours", s.parent.org));
    let defaults: Value = director.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(defaults["chosen"], false);
    assert_eq!(defaults["time_zone"], "Europe/Moscow");
    assert_eq!(defaults["chat_kinds"], json!(["parents", "class"]));
    assert_eq!(defaults["periods"][0], period("mon", "19:00", "tue", "08:00"));
    assert_eq!(defaults["periods"][4], period("fri", "19:00", "mon", "08:00"));

    let form =
        |periods: Vec<Value>, zone: &str| json!({ "time_zone": zone, "periods": periods, "chat_kinds": ["parents"] });
    let overlapping = form(vec![period("mon", "19:00", "tue", "08:00"), period("tue", "07:00", "tue", "09:00")], "UTC");
    let res = director.put(&path).json(&overlapping).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "quiet_hours_invalid");
    assert_eq!(
        body["message"],
        "Тихие часы не сохранены: периоды тихих часов пересекаются: пн 19:00–08:00 и вт 07:00–09:00"
    );
    for bad in [
        form(vec![period("wed", "19:00", "wed", "19:00")], "UTC"),
        form(vec![period("wed", "7:00", "wed", "19:00")], "UTC"),
        form(vec![period("wed", "19:00", "thursday", "07:00")], "UTC"),
        form(vec![period("wed", "19:00", "thu", "07:00")], "Europe/Atlantis"),
        json!({ "time_zone": "UTC", "periods": [], "chat_kinds": ["lounge"] }),
    ] {
        let res = director.put(&path).json(&bad).send().await.unwrap();
        assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "quiet_hours_invalid".into()), "{bad}");
    }
    let still: Value = director.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(still["chosen"], false, "nothing stored");

    // Every evening of the week, the staff room too, on Yekaterinburg's clock (UTC+5).
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let evenings: Vec<Value> = (0..7).map(|i| period(days[i], "20:00", days[(i + 1) % 7], "07:00")).collect();
    let chosen =
        json!({ "time_zone": "Asia/Yekaterinburg", "periods": evenings, "chat_kinds": ["parents", "staff_room"] });
    let res = director.put(&path).json(&chosen).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let saved: Value = director.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(saved["chosen"], true);
    assert_eq!(saved["time_zone"], "Asia/Yekaterinburg");
    assert_eq!(saved["chat_kinds"], json!(["parents", "staff_room"]));
    assert_eq!(saved["periods"].as_array().unwrap().len(), 7);
    // 22:00 in Moscow is midnight in Yekaterinburg: quiet until 07:00 there.
    let staff = s.teacher.chat_named(&s.app, "Учительская").await;
    let quiet = quiet_of(&s.teacher, &s.app, staff).await;
    assert_eq!((quiet["quiet"].as_bool(), quiet["until_local"].as_str()), (Some(true), Some("07:00")), "{quiet}");
    s.app.finish().await;
}

#[tokio::test]
async fn only_the_schools_administrators_see_and_set_its_quiet_hours() {
    let s = school_at_22().await;
    let path = s.app.url(&format!("/api/orgs/{}/quiet-hours", s.parent.org));
    let body = json!({ "time_zone": "UTC", "periods": [], "chat_kinds": [] });
    let teacher = s.app.signed_in_anyone("teacher1").await;
    let other_admin = s.app.signed_in("other.admin").await;
    for who in [&teacher, &other_admin] {
        assert_eq!(error_code(who.put(&path).json(&body).send().await.unwrap()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(who.get(&path).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    }
    let anonymous = reqwest::Client::new().put(&path).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    s.app.finish().await;
}

#[tokio::test]
async fn administrators_see_how_often_urgent_was_used() {
    let s = school_at_22().await;
    for id in ["u1", "u2"] {
        let res = send(&s.teacher, &s.app, s.chat, json!({ "client_id": id, "text": "Срочно", "urgent": true })).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    post(&s.teacher, &s.app, s.chat, "m1", "Не срочно").await;
    let director = s.app.signed_in("director").await;
    let path = s.app.url(&format!("/api/orgs/{}/quiet-hours", s.parent.org));
    let view: Value = director.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        view["urgent_usage"],
        json!([{ "chat": s.chat, "chat_name": "Родители 5А", "author": s.teacher.person,
                 "author_name": "Учителева Ольга", "uses": 2 }])
    );
    s.app.advance(31 * 86_400);
    let director = s.app.signed_in("director").await;
    let view: Value = director.get(&path).send().await.unwrap().json().await.unwrap();
    assert_eq!(view["urgent_usage"], json!([]), "only the last 30 days");
    s.app.finish().await;
}
