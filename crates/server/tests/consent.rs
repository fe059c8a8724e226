//! Consent forms in a parents' chat (issue 20), end to end on a fresh
//! database (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`), in the
//! «Родители 5А» of `common::chat::parents_chat`: Королёва Алёна has two
//! guardians (parent1 Мария, parent2 Андрей), parent1 also has Королёв Иван,
//! and the class teacher (Учителева Ольга) is the mother of Катя in the class
//! and of Миша in 5Б. The server's clock is the test's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, ParentsChat, linked, parents_chat};
use common::{TestApp, error_code};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DAY: i64 = 24 * 3600;

fn form(app: &TestApp, client_id: &str) -> Value {
    json!({
        "client_id": client_id,
        "title": "Экскурсия в музей",
        "text": "В пятницу 5А едет в Исторический музей. Разрешаете ли вы ребёнку поехать?",
        "deadline": app.now() + DAY,
    })
}

async fn create(who: &Linked, app: &TestApp, chat: i64, body: Value) -> i64 {
    let res = who.post(app, &format!("/api/messenger/chats/{chat}/consent-forms"), body).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

fn path(chat: i64, message: i64, rest: &str) -> String {
    format!("/api/messenger/chats/{chat}/messages/{message}/{rest}")
}

async fn answer(who: &Linked, app: &TestApp, chat: i64, message: i64, body: Value) -> reqwest::Response {
    who.request(app, Method::PUT, &path(chat, message, "consent"), Some(body)).await
}

async fn answered(who: &Linked, app: &TestApp, chat: i64, message: i64, student: i64, option: i64) -> Value {
    let res = answer(who, app, chat, message, json!({ "student": student, "option": option })).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn report(who: &Linked, app: &TestApp, chat: i64, message: i64) -> Value {
    who.json(app, &path(chat, message, "consent/report")).await
}

/// A student's row of the report, by name.
fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["students"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()
}

/// (name, option of the latest answer) of each child in a guardian's view.
fn children(view: &Value) -> Vec<(String, Option<i64>)> {
    view["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["answer"]["option"].as_i64()))
        .collect()
}

async fn student_id(app: &TestApp, login: &str) -> i64 {
    app.person_id(login).await
}

#[tokio::test]
async fn one_guardian_answers_for_each_of_two_children_and_the_teacher_sees_who_has_not() {
    let ParentsChat { app, teacher, parent1, chat, .. } = parents_chat().await;
    let mut watching = parent1.socket(&app, json!([])).await;
    watching.until("ready").await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let created = watching.until("event").await;
    let card = &created["event"]["message"]["consent"];
    assert_eq!(card["title"], "Экскурсия в музей");
    assert_eq!(card["options"], json!(["Согласен", "Не согласен"]));
    assert_eq!((card["answered"].as_i64(), card["students"].as_i64()), (Some(0), Some(3)));
    assert!(card.get("children").is_none(), "an event is everyone's: no family's rows in it");

    let view = parent1.json(&app, &path(chat, message, "consent")).await;
    assert_eq!(children(&view), [("Королёв Иван".into(), None), ("Королёва Алёна".into(), None)]);
    let ivan = student_id(&app, "student2").await;
    let after = answered(&parent1, &app, chat, message, ivan, 0).await;
    assert_eq!(children(&after), [("Королёв Иван".into(), Some(0)), ("Королёва Алёна".into(), None)]);
    let live = watching.until("event").await;
    assert_eq!(live["event"]["kind"], "consent");
    assert_eq!(live["event"]["consent"]["answered"], 1);
    assert!(live["event"]["consent"].get("children").is_none());

    let r = report(&teacher, &app, chat, message).await;
    assert_eq!((r["answered"].as_i64(), r["total"].as_i64(), r["counts"].clone()), (Some(1), Some(3), json!([1, 0])));
    let ivan_row = row(&r, "Королёв Иван");
    assert_eq!(ivan_row["answer"]["by"]["name"], "Королёва Мария");
    assert_eq!(ivan_row["answer"]["at"].as_i64(), Some(app.now()));
    assert!(row(&r, "Королёва Алёна")["answer"].is_null(), "Алёна's family has not answered");
    assert!(row(&r, "Учителева Катя")["answer"].is_null());

    // The teacher's own history shows the form with her own child's row.
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let mine = &page["messages"].as_array().unwrap().last().unwrap()["consent"];
    assert_eq!(children(mine), [("Учителева Катя".into(), None)]);
    app.finish().await;
}

#[tokio::test]
async fn two_guardians_of_one_child_see_each_others_answer_the_latest_counts_and_the_history_is_kept() {
    let ParentsChat { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let alyona = student_id(&app, "student1").await;
    answered(&parent1, &app, chat, message, alyona, 0).await;
    let seen = parent2.json(&app, &path(chat, message, "consent")).await;
    assert_eq!(children(&seen), [("Королёва Алёна".into(), Some(0))], "her father sees her mother's answer");
    assert_eq!(seen["children"][0]["answer"]["by"]["name"], "Королёва Мария");

    app.advance(600);
    let body = json!({ "student": alyona, "option": 1, "comment": "У неё в пятницу соревнования" });
    assert_eq!(answer(&parent2, &app, chat, message, body).await.status(), StatusCode::OK);
    let seen = parent1.json(&app, &path(chat, message, "consent")).await;
    let alyona_row = seen["children"].as_array().unwrap().iter().find(|c| c["student"] == alyona).unwrap();
    assert_eq!(alyona_row["answer"]["option"], 1, "the latest answer counts");
    assert_eq!(alyona_row["answer"]["by"]["name"], "Королёв Андрей");

    let r = report(&teacher, &app, chat, message).await;
    assert_eq!((r["answered"].as_i64(), r["counts"].clone()), (Some(1), json!([0, 1])), "one child, one answer");
    let alyona_row = row(&r, "Королёва Алёна");
    assert_eq!(alyona_row["answer"]["comment"], "У неё в пятницу соревнования");
    let history = alyona_row["history"].as_array().unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0]["option"].as_i64(), history[0]["by"]["name"].as_str()), (Some(0), Some("Королёва Мария")));
    let guardians: Vec<&str> =
        alyona_row["guardians"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(guardians, ["Королёв Андрей", "Королёва Мария"]);

    let res = teacher.get(&app, &format!("{}?offset=180", path(chat, message, "consent.csv"))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "Экскурсия в музей");
    assert_eq!(lines[1], "ученик,ответ,комментарий,кто ответил,когда (UTC+03:00),прежние ответы");
    assert!(lines.contains(&"Королёв Иван,нет ответа,,,,"), "{csv}");
    let alyona_line = lines.iter().find(|l| l.starts_with("Королёва Алёна,")).unwrap();
    assert!(
        alyona_line.starts_with("Королёва Алёна,Не согласен,У неё в пятницу соревнования,Королёв Андрей,")
            && alyona_line.contains(",\"Согласен — Королёва Мария, "),
        "{alyona_line}"
    );
    app.finish().await;
}

#[tokio::test]
async fn a_teacher_who_is_also_a_parent_answers_for_her_child_and_nobody_answers_for_anothers() {
    let ParentsChat { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let katya = student_id(&app, "student4").await;
    let misha = student_id(&app, "student3").await;
    let alyona = student_id(&app, "student1").await;
    let ivan = student_id(&app, "student2").await;
    answered(&teacher, &app, chat, message, katya, 0).await;
    let refused = [
        (&parent1, katya, "someone else's child"),
        (&teacher, alyona, "a classmate of her child"),
        (&teacher, misha, "her own child, but in 5Б"),
        (&parent2, ivan, "Алёна's father is not Иван's guardian"),
    ];
    for (who, student, why) in refused {
        let res = answer(who, &app, chat, message, json!({ "student": student, "option": 1 })).await;
        assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "consent_not_your_child".into()), "{why}");
    }
    let r = report(&teacher, &app, chat, message).await;
    assert_eq!((r["answered"].as_i64(), r["counts"].clone()), (Some(1), json!([1, 0])));
    assert_eq!(row(&r, "Учителева Катя")["answer"]["by"]["name"], "Учителева Ольга");
    app.finish().await;
}

#[tokio::test]
async fn after_the_deadline_answers_are_refused_until_the_teacher_reopens_with_a_new_one() {
    let ParentsChat { app, teacher, parent1, chat, .. } = parents_chat().await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let ivan = student_id(&app, "student2").await;
    app.advance(DAY);
    let res = answer(&parent1, &app, chat, message, json!({ "student": ivan, "option": 0 })).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "consent_closed".into()));

    let reopen = path(chat, message, "consent/reopen");
    let res = parent1.post(&app, &reopen, json!({ "deadline": app.now() + DAY })).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    let res = teacher.post(&app, &reopen, json!({ "deadline": app.now() - 1 })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "consent_deadline_in_past".into()));

    let mut watching = parent1.socket(&app, json!([])).await;
    watching.until("ready").await;
    let res = teacher.post(&app, &reopen, json!({ "deadline": app.now() + DAY })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let reopened: Value = res.json().await.unwrap();
    assert_eq!(
        (reopened["deadline"].as_i64(), reopened["reopened_at"].as_i64()),
        (Some(app.now() + DAY), Some(app.now()))
    );
    let live = watching.until("event").await;
    assert_eq!(
        (live["event"]["kind"].as_str(), live["event"]["consent"]["deadline"].as_i64()),
        (Some("consent"), Some(app.now() + DAY))
    );
    answered(&parent1, &app, chat, message, ivan, 0).await;
    assert_eq!(report(&teacher, &app, chat, message).await["answered"], 1);
    app.finish().await;
}

#[tokio::test]
async fn remind_reaches_only_families_without_an_answer_at_most_once_in_twelve_hours() {
    let ParentsChat { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let alyona = student_id(&app, "student1").await;
    let katya = student_id(&app, "student4").await;
    answered(&parent2, &app, chat, message, alyona, 0).await;
    answered(&teacher, &app, chat, message, katya, 0).await;
    let mut mother = parent1.socket(&app, json!([])).await;
    mother.until("ready").await;
    let mut father = parent2.socket(&app, json!([])).await;
    father.until("ready").await;

    let remind = path(chat, message, "consent/remind");
    let res = parent1.post(&app, &remind, json!({})).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    let res = teacher.post(&app, &remind, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["people"], 1, "only Иван has no answer: his mother is reminded");
    let reminder = mother.until("reminder").await;
    assert_eq!((reminder["message"].as_i64(), reminder["about"].as_str()), (Some(message), Some("consent")));
    assert_eq!(reminder["chat_name"], "Родители 5А");
    // The mother's reminder went out before the father's pong comes back.
    father.send(json!({ "type": "ping" })).await;
    while let Some(frame) = father.next().await {
        assert_ne!(frame["type"], "reminder", "Алёна's family has answered");
        if frame["type"] == "pong" {
            break;
        }
    }

    let res = teacher.post(&app, &remind, json!({})).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "reminded_recently".into()));
    let r = report(&teacher, &app, chat, message).await;
    assert_eq!(r["next_reminder_at"].as_i64(), Some(app.now() + 12 * 3600));
    app.advance(12 * 3600);
    assert_eq!(teacher.post(&app, &remind, json!({})).await.status(), StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn only_members_see_a_form_and_a_guardian_who_leaves_the_chat_keeps_no_access() {
    let ParentsChat { app, teacher, parent1, parent2, chat } = parents_chat().await;
    let message = create(&teacher, &app, chat, form(&app, "form-1")).await;
    let alyona = student_id(&app, "student1").await;
    let outsider = linked(&app, "teacher2", "+79120000009").await;
    for rest in ["consent", "consent/report", "consent.csv"] {
        let res = outsider.get(&app, &path(chat, message, rest)).await;
        assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()), "{rest}");
    }
    for rest in ["consent/report", "consent.csv"] {
        let res = parent1.get(&app, &path(chat, message, rest)).await;
        assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()), "parents see no report");
    }

    let director = app.signed_in("director").await;
    let res = director
        .delete(app.url(&format!("/api/orgs/{}/chats/{chat}/members/{}", parent2.org, parent2.person)))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let res = parent2.get(&app, &path(chat, message, "consent")).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let res = answer(&parent2, &app, chat, message, json!({ "student": alyona, "option": 0 })).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let r = report(&teacher, &app, chat, message).await;
    assert_eq!(r["answered"], 0);
    let guardians = row(&r, "Королёва Алёна")["guardians"].as_array().unwrap().len();
    assert_eq!(guardians, 1, "only the guardian still in the chat can answer");
    app.finish().await;
}

#[tokio::test]
async fn bad_forms_and_answers_are_refused_with_clear_errors_and_nothing_is_stored() {
    let ParentsChat { app, teacher, parent1, chat, .. } = parents_chat().await;
    let create_path = format!("/api/messenger/chats/{chat}/consent-forms");
    let with = |change: Value| {
        let mut body = form(&app, "bad");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let eleven: Vec<String> = (1..=11).map(|i| format!("Вариант {i}")).collect();
    let cases = [
        (with(json!({ "title": "  " })), StatusCode::BAD_REQUEST, "consent_title_empty"),
        (with(json!({ "text": "" })), StatusCode::BAD_REQUEST, "consent_text_empty"),
        (with(json!({ "options": eleven })), StatusCode::BAD_REQUEST, "consent_option_count"),
        (with(json!({ "options": ["Да"] })), StatusCode::BAD_REQUEST, "consent_option_count"),
        (with(json!({ "options": ["Да", " "] })), StatusCode::BAD_REQUEST, "consent_option_empty"),
        (with(json!({ "deadline": app.now() })), StatusCode::BAD_REQUEST, "consent_deadline_in_past"),
    ];
    for (body, status, code) in cases {
        let res = teacher.post(&app, &create_path, body).await;
        assert_eq!(error_code(res).await, (status, code.into()));
    }
    let res = parent1.post(&app, &create_path, form(&app, "by-parent")).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "not_chat_admin".into()));
    let class_chat = teacher.chat_named(&app, "5А класс").await;
    let res = teacher.post(&app, &format!("/api/messenger/chats/{class_chat}/consent-forms"), form(&app, "c")).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "consent_not_parents_chat".into()));
    for c in [chat, class_chat] {
        let page = teacher.json(&app, &format!("/api/messenger/chats/{c}/messages")).await;
        assert_eq!(page["messages"], json!([]), "nothing stored");
    }

    let body =
        with(json!({ "client_id": "needs-comment", "options": ["Да", "Нет", "Заберу сам"], "comment_required": true }));
    let message = create(&teacher, &app, chat, body.clone()).await;
    assert_eq!(create(&teacher, &app, chat, body).await, message, "a retry makes no second form");
    let ivan = student_id(&app, "student2").await;
    let answers = [
        (json!({ "student": ivan, "option": 3, "comment": "—" }), "consent_unknown_option"),
        (json!({ "student": ivan, "option": -1, "comment": "—" }), "consent_unknown_option"),
        (json!({ "student": ivan, "option": 0 }), "consent_comment_required"),
        (json!({ "student": ivan, "option": 0, "comment": "   " }), "consent_comment_required"),
        (json!({ "student": ivan, "option": 0, "comment": "я".repeat(1001) }), "consent_comment_invalid"),
    ];
    for (body, code) in answers {
        let res = answer(&parent1, &app, chat, message, body).await;
        assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, code.into()));
    }
    let r = report(&teacher, &app, chat, message).await;
    assert_eq!((r["answered"].as_i64(), r["counts"].clone()), (Some(0), json!([0, 0, 0])));
    assert!(r["students"].as_array().unwrap().iter().all(|s| s["history"] == json!([])), "nothing stored");
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    app.finish().await;
}
