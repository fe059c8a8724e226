//! Read receipts for chat admins (issue 20), end to end on a fresh database
//! (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`), in the parents' chat
//! of `common::chat::parents_chat`, which holds every way of counting a
//! family: two guardians of one child, one guardian of two children, and a
//! teacher who is also a parent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, ParentsChat as Class, linked, parents_chat};
use common::{TestApp, error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

const TWELVE_HOURS: i64 = 12 * 3600;

async fn post(who: &Linked, app: &TestApp, chat: i64, id: &str, text: &str) -> (i64, i64) {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK);
    let ack: Value = res.json().await.unwrap();
    (ack["message_id"].as_i64().unwrap(), ack["seq"].as_i64().unwrap())
}

async fn read(who: &Linked, app: &TestApp, chat: i64, seq: i64) {
    let res = who.post(app, &format!("/api/messenger/chats/{chat}/read"), json!({ "seq": seq })).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}

/// (read, total) of a message in the admin's counts.
async fn count(who: &Linked, app: &TestApp, chat: i64, message: i64) -> (i64, i64) {
    let counts = who.json(app, &format!("/api/messenger/chats/{chat}/receipts")).await;
    let m = counts["messages"].as_array().unwrap().iter().find(|m| m["message"] == message).unwrap();
    (m["read"].as_i64().unwrap(), m["total"].as_i64().unwrap())
}

#[tokio::test]
async fn a_parents_chat_counts_families_read_when_any_guardian_has_read() {
    let Class { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let (message, seq) = post(&teacher, &app, chat, "t-1", "Завтра уроки до 13:00").await;
    let counts = teacher.json(&app, &format!("/api/messenger/chats/{chat}/receipts")).await;
    assert_eq!(counts["unit"], "family");
    // Алёна, Иван and the teacher's own Катя: her family has seen what her mother wrote.
    assert_eq!(count(&teacher, &app, chat, message).await, (1, 3));

    app.advance(60);
    read(&parent2, &app, chat, seq).await;
    assert_eq!(count(&teacher, &app, chat, message).await, (2, 3), "Алёна's family: her father read it");

    app.advance(60);
    read(&parent1, &app, chat, seq).await;
    assert_eq!(count(&teacher, &app, chat, message).await, (3, 3), "parent1 read for Алёна and Иван");

    let report = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/receipts")).await;
    assert_eq!((report["read"].as_i64(), report["total"].as_i64()), (Some(3), Some(3)));
    let alyona = report["readers"].as_array().unwrap().iter().find(|r| r["name"] == "Королёва Алёна").unwrap();
    let guardians: Vec<(&str, bool)> = alyona["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["read"].as_bool().unwrap()))
        .collect();
    assert_eq!(guardians.len(), 2);
    assert!(guardians.iter().all(|(_, read)| *read));
    let father = alyona["people"].as_array().unwrap().iter().find(|p| p["name"] == "Королёв Андрей").unwrap();
    let mother = alyona["people"].as_array().unwrap().iter().find(|p| p["name"] == "Королёва Мария").unwrap();
    assert_eq!(mother["read_at"].as_i64().unwrap() - father["read_at"].as_i64().unwrap(), 60, "when each read it");
}

#[tokio::test]
async fn the_list_shows_who_has_not_read_by_student_and_a_parents_own_message_counts_their_families() {
    let Class { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let (message, _) = post(&parent1, &app, chat, "p-1", "Кто забирает детей?").await;
    // parent1 wrote it: Алёна's and Иван's families have it; Катя's mother
    // is the teacher, who has not read it yet.
    assert_eq!(count(&teacher, &app, chat, message).await, (2, 3));
    let report = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/receipts")).await;
    let first = &report["readers"][0];
    assert_eq!((first["name"].as_str(), first["read"].as_bool()), (Some("Учителева Катя"), Some(false)));
    assert_eq!(first["people"][0]["name"], "Учителева Ольга");
    assert!(first["people"][0]["read_at"].is_null());
    let _ = parent2;
}

#[tokio::test]
async fn only_the_chats_admins_see_receipts_or_remind() {
    let Class { app, teacher, parent1, chat, .. } = parents_chat().await;
    let (message, _) = post(&teacher, &app, chat, "t-1", "Собрание в четверг").await;
    for path in [
        format!("/api/messenger/chats/{chat}/receipts"),
        format!("/api/messenger/chats/{chat}/messages/{message}/receipts"),
    ] {
        assert_eq!(error_code(parent1.get(&app, &path).await).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    }
    let res = parent1.post(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/remind"), json!({})).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    // Someone outside the chat learns nothing of it.
    let outsider = linked(&app, "teacher2", "+79120000009").await;
    let res = outsider.get(&app, &format!("/api/messenger/chats/{chat}/receipts")).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
}

#[tokio::test]
async fn a_reminder_reaches_only_those_who_have_not_read_and_goes_at_most_once_in_twelve_hours() {
    let Class { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let (message, seq) = post(&teacher, &app, chat, "t-1", "Сдайте деньги на экскурсию").await;
    read(&parent2, &app, chat, seq).await;
    let mut mother = parent1.socket(&app, json!([{ "chat": chat, "seq": seq }])).await;
    mother.until("ready").await;
    let mut father = parent2.socket(&app, json!([{ "chat": chat, "seq": seq }])).await;
    father.until("ready").await;

    let path = format!("/api/messenger/chats/{chat}/messages/{message}/remind");
    let res = teacher.post(&app, &path, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent: Value = res.json().await.unwrap();
    // Иван's family has not read: parent1 alone (Алёна's read through her father).
    assert_eq!(sent["people"], 1);
    let reminder = mother.until("reminder").await;
    assert_eq!((reminder["chat"].as_i64(), reminder["message"].as_i64()), (Some(chat), Some(message)));
    assert_eq!(reminder["chat_name"], "Родители 5А");
    while let Some(frame) = father.next().await {
        assert_ne!(frame["type"], "reminder", "who has read is not reminded");
    }

    app.advance(TWELVE_HOURS - 1);
    let res = teacher.post(&app, &path, json!({})).await;
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "reminded_recently".into()));
    assert_eq!(retry.as_deref(), Some("1"));
    let report = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/receipts")).await;
    assert_eq!(report["next_reminder_at"].as_i64().unwrap() - report["reminded_at"].as_i64().unwrap(), TWELVE_HOURS);

    app.advance(1);
    assert_eq!(teacher.post(&app, &path, json!({})).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn other_chats_count_people_and_leave_out_the_author() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student1 = linked(&app, "student1", "+79120000002").await;
    let student2 = linked(&app, "student2", "+79120000005").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let (message, seq) = post(&teacher, &app, chat, "t-1", "Домашнее задание на доске").await;
    let counts = teacher.json(&app, &format!("/api/messenger/chats/{chat}/receipts")).await;
    assert_eq!(counts["unit"], "person");
    assert_eq!(count(&teacher, &app, chat, message).await, (0, 2));
    read(&student1, &app, chat, seq).await;
    assert_eq!(count(&teacher, &app, chat, message).await, (1, 2));
    let report = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/receipts")).await;
    assert_eq!(report["readers"][0]["name"], "Королёв Иван", "who has not read comes first");
    let _ = student2;
}
