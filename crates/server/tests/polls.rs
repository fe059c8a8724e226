//! Polls (issue 20) end to end on a fresh database (SQLite, or PostgreSQL with
//! `PARTA_TEST_POSTGRES`): the class teacher of 5А asks, two students vote in
//! «5А класс». Anonymity is checked on every answer, event and CSV a member
//! or an admin could read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::{TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Class {
    app: TestApp,
    teacher: Linked,
    alyona: Linked,
    ivan: Linked,
    chat: i64,
}

async fn class() -> Class {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let alyona = linked(&app, "student1", "+79120000002").await;
    let ivan = linked(&app, "student2", "+79120000005").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    Class { app, teacher, alyona, ivan, chat }
}

fn poll(question: &str, options: &[&str]) -> Value {
    json!({ "client_id": "poll-1", "question": question, "options": options })
}

async fn create(who: &Linked, app: &TestApp, chat: i64, body: Value) -> i64 {
    let res = who.post(app, &format!("/api/messenger/chats/{chat}/polls"), body).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

async fn vote(who: &Linked, app: &TestApp, chat: i64, message: i64, options: &[i64]) -> reqwest::Response {
    let path = format!("/api/messenger/chats/{chat}/messages/{message}/vote");
    who.request(app, Method::PUT, &path, Some(json!({ "options": options }))).await
}

/// The poll of the newest message, as `who` reads the history.
async fn poll_of(who: &Linked, app: &TestApp, chat: i64) -> Value {
    let page = who.json(app, &format!("/api/messenger/chats/{chat}/messages")).await;
    page["messages"].as_array().unwrap().last().unwrap()["poll"].clone()
}

fn votes(poll: &Value) -> Vec<i64> {
    poll["options"].as_array().unwrap().iter().map(|o| o["votes"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_named_poll_counts_votes_live_and_a_voter_changes_their_vote() {
    let Class { app, teacher, alyona, ivan, chat } = class().await;
    let mut watching = teacher.socket(&app, json!([])).await;
    watching.until("ready").await;
    let message = create(&teacher, &app, chat, poll("Когда экскурсия?", &["В пятницу", "В субботу"])).await;
    let created = watching.until("event").await;
    assert_eq!(created["event"]["message"]["text"], "Когда экскурсия?");
    assert_eq!(created["event"]["message"]["poll"]["options"][1]["text"], "В субботу");

    let res = vote(&alyona, &app, chat, message, &[0]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mine: Value = res.json().await.unwrap();
    assert_eq!(mine["mine"], json!([0]));
    let live = watching.until("event").await;
    assert_eq!(live["event"]["kind"], "poll");
    assert_eq!(votes(&live["event"]["poll"]), [1, 0]);
    assert!(live["event"]["poll"].get("mine").is_none(), "an event is everyone's: no one's own choice in it");
    assert!(live["event"]["poll"]["options"][0].get("people").is_none(), "events carry counts, not voters");
    assert_eq!(
        poll_of(&teacher, &app, chat).await["options"][0]["people"],
        json!([alyona.person]),
        "the history names them"
    );

    assert_eq!(vote(&ivan, &app, chat, message, &[1]).await.status(), StatusCode::OK);
    assert_eq!(vote(&alyona, &app, chat, message, &[1]).await.status(), StatusCode::OK);
    let seen = poll_of(&teacher, &app, chat).await;
    assert_eq!((votes(&seen), seen["voters"].as_i64()), (vec![0, 2], Some(2)), "her earlier vote is replaced");
    assert_eq!(poll_of(&alyona, &app, chat).await["mine"], json!([1]));

    let csv = teacher.get(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/poll.csv")).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let text = csv.text().await.unwrap();
    assert!(text.contains("В субботу,2,Королёв Иван; Королёва Алёна"), "{text}");

    // A client resuming from before the votes gets the results from the log.
    let mut late = ivan.socket(&app, json!([{ "chat": chat, "seq": created["seq"] }])).await;
    let replayed = late.until("event").await;
    assert_eq!((replayed["event"]["kind"].as_str(), votes(&replayed["event"]["poll"])), (Some("poll"), vec![0, 2]));
    app.finish().await;
}

#[tokio::test]
async fn an_anonymous_poll_names_no_voter_in_any_answer_event_or_export() {
    let Class { app, teacher, alyona, ivan, chat } = class().await;
    let mut body = poll("Удобно ли время собрания?", &["Да", "Нет", "Не знаю"]);
    body["anonymous"] = json!(true);
    body["multiple"] = json!(true);
    let message = create(&teacher, &app, chat, body).await;
    let mut watching = teacher.socket(&app, json!([])).await;
    watching.until("ready").await;
    assert_eq!(vote(&alyona, &app, chat, message, &[0, 2]).await.status(), StatusCode::OK);
    assert_eq!(vote(&ivan, &app, chat, message, &[1]).await.status(), StatusCode::OK);

    let mut seen: Vec<String> =
        vec![watching.until("event").await.to_string(), watching.until("event").await.to_string()];
    for who in [&teacher, &alyona, &ivan] {
        seen.push(who.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await.to_string());
        seen.push(who.json(&app, &format!("/api/messenger/chats/{chat}/pins")).await.to_string());
    }
    let csv = teacher.get(&app, &format!("/api/messenger/chats/{chat}/messages/{message}/poll.csv")).await;
    let csv = csv.text().await.unwrap();
    assert!(csv.contains("Да,1") && csv.contains("Нет,1") && !csv.contains("Королёв"), "{csv}");
    // A late socket replays the log: the votes' events carry no voter either.
    let mut late = teacher.socket(&app, json!([{ "chat": chat, "seq": 0 }])).await;
    while let Some(frame) = late.next().await {
        seen.push(frame.to_string());
    }
    for text in &seen {
        let v: Value = serde_json::from_str(text).unwrap();
        for poll in polls_in(&v) {
            assert!(poll["options"].as_array().unwrap().iter().all(|o| o.get("people").is_none()), "{poll}");
        }
    }
    // Each voter still sees their own choice, and only theirs.
    assert_eq!(poll_of(&alyona, &app, chat).await["mine"], json!([0, 2]));
    assert_eq!(poll_of(&ivan, &app, chat).await["mine"], json!([1]));
    assert_eq!(poll_of(&teacher, &app, chat).await["mine"], json!([]));
    let results = poll_of(&teacher, &app, chat).await;
    assert_eq!((votes(&results), results["voters"].as_i64()), (vec![1, 1, 1], Some(2)));
    app.finish().await;
}

/// Every poll object in a JSON value.
fn polls_in(v: &Value) -> Vec<&Value> {
    match v {
        Value::Object(map) => {
            let mut found: Vec<&Value> = map.values().flat_map(polls_in).collect();
            if let Some(p) = map.get("poll").filter(|p| p.is_object()) {
                found.push(p);
            }
            found
        }
        Value::Array(items) => items.iter().flat_map(polls_in).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn bad_polls_and_votes_are_refused_with_clear_errors_and_nothing_is_stored() {
    let Class { app, teacher, alyona, chat, .. } = class().await;
    let path = format!("/api/messenger/chats/{chat}/polls");
    let eleven: Vec<String> = (1..=11).map(|i| format!("{i}")).collect();
    let cases = [
        (json!({ "client_id": "a", "question": "  ", "options": ["Да", "Нет"] }), "poll_question_empty"),
        (json!({ "client_id": "b", "question": "Когда?", "options": eleven }), "poll_option_count"),
        (json!({ "client_id": "c", "question": "Когда?", "options": ["Да"] }), "poll_option_count"),
        (json!({ "client_id": "d", "question": "Когда?", "options": ["Да", ""] }), "poll_option_empty"),
        (
            json!({ "client_id": "e", "question": "Когда?", "options": ["Да", "Нет"], "closes_at": 1 }),
            "poll_closes_in_past",
        ),
    ];
    for (body, code) in cases {
        assert_eq!(error_code(teacher.post(&app, &path, body).await).await, (StatusCode::BAD_REQUEST, code.into()));
    }
    let page = teacher.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    assert_eq!(page["messages"], json!([]), "nothing stored");

    let mut body = poll("Когда?", &["В пятницу", "В субботу"]);
    body["closes_at"] = json!(chrono::Utc::now().timestamp() + 3600);
    let message = create(&teacher, &app, chat, body).await;
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[2]).await).await,
        (StatusCode::BAD_REQUEST, "vote_unknown_option".into())
    );
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[-1]).await).await,
        (StatusCode::BAD_REQUEST, "vote_unknown_option".into())
    );
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[0, 1]).await).await,
        (StatusCode::BAD_REQUEST, "vote_one_only".into())
    );
    assert_eq!(votes(&poll_of(&teacher, &app, chat).await), [0, 0]);

    // The closing time passes (the server's clock): no more votes.
    app.advance(3600 + 60);
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[0]).await).await,
        (StatusCode::CONFLICT, "poll_closed".into())
    );
    assert_eq!(poll_of(&teacher, &app, chat).await["voters"], 0);
    app.finish().await;
}

#[tokio::test]
async fn the_author_closes_a_poll_early_and_no_one_else_can() {
    let Class { app, teacher, alyona, ivan, chat } = class().await;
    let message = create(&teacher, &app, chat, poll("Кто дежурит?", &["Алёна", "Иван"])).await;
    assert_eq!(vote(&ivan, &app, chat, message, &[1]).await.status(), StatusCode::OK);
    let close = format!("/api/messenger/chats/{chat}/messages/{message}/close-poll");
    assert_eq!(
        error_code(alyona.post(&app, &close, json!({})).await).await,
        (StatusCode::FORBIDDEN, "not_poll_author".into())
    );
    let res = teacher.post(&app, &close, json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = res.json().await.unwrap();
    assert!(closed["closed_at"].is_i64());
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[0]).await).await,
        (StatusCode::CONFLICT, "poll_closed".into())
    );
    assert_eq!(votes(&poll_of(&alyona, &app, chat).await), [0, 1], "the results stay");
    app.finish().await;
}

#[tokio::test]
async fn only_members_see_or_vote_and_one_who_leaves_keeps_no_access() {
    let Class { app, teacher, alyona, chat, .. } = class().await;
    let message = create(&teacher, &app, chat, poll("Кто дежурит?", &["Алёна", "Иван"])).await;
    let outsider = linked(&app, "teacher2", "+79120000009").await;
    assert_eq!(
        error_code(vote(&outsider, &app, chat, message, &[0]).await).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let csv = format!("/api/messenger/chats/{chat}/messages/{message}/poll.csv");
    assert_eq!(error_code(outsider.get(&app, &csv).await).await, (StatusCode::NOT_FOUND, "not_found".into()));

    let director = app.signed_in("director").await;
    let org = alyona.org;
    let res = director
        .delete(app.url(&format!("/api/orgs/{org}/chats/{chat}/members/{}", alyona.person)))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(
        error_code(vote(&alyona, &app, chat, message, &[0]).await).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    assert_eq!(error_code(alyona.get(&app, &csv).await).await, (StatusCode::NOT_FOUND, "not_found".into()));
    app.finish().await;
}

#[tokio::test]
async fn votes_in_quick_succession_reach_members_as_a_few_result_events_with_the_final_count() {
    let Class { app, teacher, alyona, ivan, chat } = class().await;
    let message = create(&teacher, &app, chat, poll("Когда экскурсия?", &["В пятницу", "В субботу"])).await;
    let mut watching = teacher.socket(&app, json!([])).await;
    watching.until("ready").await;
    // Twenty votes, as fast as they are answered: each one replaces the
    // voter's earlier choice, so the last two decide.
    for round in 0..10 {
        for who in [&alyona, &ivan] {
            assert_eq!(vote(who, &app, chat, message, &[round % 2]).await.status(), StatusCode::OK);
        }
    }
    let mut events = Vec::new();
    while let Some(frame) = watching.next().await {
        if frame["type"] == "event" && frame["event"]["kind"] == "poll" {
            events.push(frame);
        }
    }
    assert!(!events.is_empty() && events.len() < 20, "{} events for 20 votes", events.len());
    let last = &events.last().unwrap()["event"]["poll"];
    assert_eq!((votes(last), last["voters"].as_i64()), (vec![0, 2], Some(2)), "the last event has the final results");
    let seqs: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "each is a logged event, in order: {seqs:?}");
    app.finish().await;
}

#[tokio::test]
async fn votes_whose_event_was_never_logged_are_logged_by_the_background_jobs() {
    let Class { app, teacher, alyona, chat, .. } = class().await;
    let message = create(&teacher, &app, chat, poll("Когда экскурсия?", &["В пятницу", "В субботу"])).await;
    // A vote committed by a node that stopped before logging its results:
    // the store alone, no server to hear of it.
    let account = app.state.store.account_of_person(roster::ids::PersonId(alyona.person)).await.unwrap().unwrap().id;
    app.state.store.vote(account, chat, message, &[1], app.state.now()).await.unwrap();
    assert_eq!(app.state.store.unlogged_polls().await.unwrap(), [(chat, message)]);
    let mut watching = teacher.socket(&app, json!([])).await;
    watching.until("ready").await;
    app.state.messenger.poll_results.log_left_over(app.state.now()).await;
    let event = watching.until("event").await;
    assert_eq!((event["event"]["kind"].as_str(), votes(&event["event"]["poll"])), (Some("poll"), vec![0, 1]));
    assert!(app.state.store.unlogged_polls().await.unwrap().is_empty(), "logged once, the mark is gone");
    app.finish().await;
}
