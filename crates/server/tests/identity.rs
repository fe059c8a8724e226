//! Parta ID over HTTP: proving a phone, the "Чаты" window, messenger sessions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Options, TestApp, error_code, spawn_app, spawn_with};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

const PHONE: &str = "+79123456789";

async fn send_code(app: &TestApp, client: &Client, phone: &str) -> reqwest::Response {
    app.post(client, "/api/identity/codes", json!({ "phone": phone })).await
}

/// Asks for a code and proves the phone with it; returns the proof.
async fn prove(app: &TestApp, client: &Client, phone: &str) -> Value {
    let res = send_code(app, client, phone).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let code = app.last_code(phone);
    let res = app.post(client, "/api/identity/proofs", json!({ "phone": phone, "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn link(app: &TestApp, client: &Client, org: i64, phone: &str) -> reqwest::Response {
    let proof = prove(app, client, phone).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Мария" });
    app.post(client, &format!("/api/chats/{org}/link"), about).await
}

async fn events(app: &TestApp) -> Vec<Value> {
    let rows = app.db.store.events_after(0, 100).await.unwrap();
    rows.into_iter().map(|(_, json)| serde_json::from_str(&json).unwrap()).collect()
}

#[tokio::test]
async fn the_ways_russians_write_a_phone_all_mean_one_number() {
    let app = spawn_app(false).await;
    let client = app.client();
    for typed in ["8 (912) 345-67-89", "+7 912 345-67-89", "89123456789", "+79123456789"] {
        let res = app.post(&client, "/api/identity/phone", json!({ "phone": typed })).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["phone"], PHONE, "{typed}");
        assert_eq!(body["display"], "+7 912 345-67-89");
        assert_eq!(body["account_exists"], false);
    }
    let res = app.post(&client, "/api/identity/phone", json!({ "phone": "12-34" })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "phone_malformed".into()));
    let res = app.post(&client, "/api/identity/phone", json!({ "phone": "  " })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "phone_empty".into()));
    let res = app.post(&client, "/api/identity/phone", json!({ "phone": "+7 495 123-45-67" })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "phone_not_mobile".into()));
    app.finish().await;
}

#[tokio::test]
async fn a_parent_links_a_new_profile_and_the_chats_window_shows_it() {
    let app = spawn_app(true).await;
    let parent = app.signed_in("parent1").await;
    let org = app.org_of(&parent).await;
    let window: Value = parent.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(window["available"], true);
    assert_eq!(window["linked"], Value::Null);
    assert_eq!(window["can_manage"], false);
    assert_eq!(window["suggested"]["last_name"], "Королёва");

    let res = link(&app, &parent, org, "8 912 345 67 89").await;
    assert_eq!(res.status(), StatusCode::OK);
    let window: Value = res.json().await.unwrap();
    assert_eq!(window["linked"]["first_name"], "Мария");
    assert_eq!(window["linked"]["phone_masked"], "+7 912 ***-**-89");
    let chats: Vec<&str> = window["chats"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(chats, ["Родители 5А"], "the chats are there on the very next response");
    assert_eq!(
        events(&app).await[0],
        json!({"type": "profile_linked", "org_id": org, "person_id": window_person(&app, &parent).await, "profile_id": 1})
    );
    // The demo outbox is what the code page shows.
    let outbox: Value = reqwest::get(app.url("/api/dev/sms-outbox")).await.unwrap().json().await.unwrap();
    assert_eq!(outbox[0]["phone"], PHONE);

    app.advance(61);
    let again = link(&app, &parent, org, PHONE).await;
    assert_eq!(error_code(again).await, (StatusCode::CONFLICT, "already_linked".into()));
    app.finish().await;
}

async fn window_person(app: &TestApp, client: &Client) -> i64 {
    let me: Value = client.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    me["person"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_fifth_wrong_code_burns_it_and_the_right_one_no_longer_works() {
    let app = spawn_app(false).await;
    let client = app.client();
    send_code(&app, &client, PHONE).await;
    let right = app.last_code(PHONE);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for remaining in (1..=4).rev() {
        let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": wrong })).await;
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            (body["code"].as_str().unwrap(), body["remaining_attempts"].as_u64()),
            ("wrong_code", Some(remaining))
        );
    }
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": wrong })).await;
    assert_eq!(error_code(res).await.1, "code_burned");
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": right })).await;
    assert_eq!(error_code(res).await.1, "code_burned");
    app.finish().await;
}

#[tokio::test]
async fn a_code_works_once_and_not_after_five_minutes() {
    let app = spawn_app(false).await;
    let client = app.client();
    send_code(&app, &client, PHONE).await;
    let code = app.last_code(PHONE);
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": code })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": code })).await;
    assert_eq!(error_code(res).await.1, "code_used");

    app.advance(61);
    send_code(&app, &client, PHONE).await;
    let code = app.last_code(PHONE);
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": "12ab" })).await;
    assert_eq!(error_code(res).await.1, "code_malformed");
    app.advance(301);
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": code })).await;
    assert_eq!(error_code(res).await.1, "code_expired");
    app.finish().await;
}

#[tokio::test]
async fn codes_are_limited_per_minute_and_per_hour_for_a_phone() {
    let app = spawn_app(false).await;
    let client = app.client();
    assert_eq!(send_code(&app, &client, PHONE).await.status(), StatusCode::OK);
    let res = send_code(&app, &client, PHONE).await;
    assert_eq!(res.headers()["retry-after"], "60");
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["code"].as_str().unwrap(), body["retry_after"].as_u64()), ("code_cooldown", Some(60)));
    for _ in 0..4 {
        app.advance(61);
        assert_eq!(send_code(&app, &client, PHONE).await.status(), StatusCode::OK);
    }
    app.advance(61);
    let res = send_code(&app, &client, PHONE).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "phone_hourly_limit".into()));
    app.advance(3600);
    assert_eq!(send_code(&app, &client, PHONE).await.status(), StatusCode::OK, "an hour later it works again");
    app.finish().await;
}

#[tokio::test]
async fn one_network_address_may_ask_for_twenty_codes_an_hour() {
    let app = spawn_app(false).await;
    let client = app.client();
    for i in 0..20 {
        let res = send_code(&app, &client, &format!("+7912000{i:04}")).await;
        assert_eq!(res.status(), StatusCode::OK, "send {i}");
    }
    let res = send_code(&app, &client, "+79120009999").await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "ip_hourly_limit".into()));
    app.finish().await;
}

struct DownProvider;

impl sms::SmsSender for DownProvider {
    fn send<'a>(&'a self, _phone: &'a str, _text: &'a str) -> sms::SendFuture<'a> {
        Box::pin(async { Err(sms::SmsError::Unavailable("connection refused".into())) })
    }
}

#[tokio::test]
async fn a_provider_failure_says_try_later_and_does_not_use_up_the_limit() {
    let app = spawn_with(Options { sms: Some(Arc::new(DownProvider)), ..Options::default() }).await;
    let client = app.client();
    for _ in 0..3 {
        let res = send_code(&app, &client, PHONE).await;
        assert_eq!(error_code(res).await, (StatusCode::SERVICE_UNAVAILABLE, "sms_unavailable".into()));
    }
    let history = app.db.store.send_history(PHONE, "127.0.0.1", app.state.now()).await.unwrap();
    assert_eq!(history.sends_to_phone_last_hour, 0);
    app.finish().await;
}

#[tokio::test]
async fn linking_is_refused_where_chats_are_off_and_changes_nothing() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let res = admin
        .put(app.url(&format!("/api/orgs/{org}/modules/chats")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let window: Value = admin.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (window["available"].clone(), window["unavailable_reason"].clone()),
        (json!(false), json!("module_off"))
    );
    let res = link(&app, &admin, org, PHONE).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "chats_unavailable".into()));
    assert!(events(&app).await.is_empty());
    assert!(app.db.store.account_by_phone(PHONE).await.unwrap().is_none());
    app.finish().await;
}

#[tokio::test]
async fn one_profile_links_a_parent_in_two_schools() {
    let app = spawn_app(false).await;
    let parent = app.signed_in("parent1").await;
    let me: Value = parent.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    let orgs: Vec<i64> = me["roles"].as_array().unwrap().iter().map(|r| r["org_id"].as_i64().unwrap()).collect();
    assert_eq!(orgs.len(), 2);
    for org in &orgs {
        assert_eq!(link(&app, &parent, *org, PHONE).await.status(), StatusCode::OK);
        app.advance(61);
    }
    let token: Value =
        app.post(&parent, &format!("/api/chats/{}/messenger-token", orgs[0]), json!({})).await.json().await.unwrap();
    let messenger = app.client();
    let t = token["url"].as_str().unwrap().split("token=").nth(1).unwrap();
    let me: Value = app.post(&messenger, "/api/messenger/session", json!({ "token": t })).await.json().await.unwrap();
    assert_eq!(me["links"].as_array().unwrap().len(), 2);
    assert_eq!(me["profile"]["first_name"], "Мария");
    assert_eq!(me["account"]["phone"], "+7 912 345-67-89");

    // The same school account cannot be linked to a second person's profile elsewhere.
    app.db.store.unlink_profile(orgs[1], window_person(&app, &parent).await, app.state.now()).await.unwrap();
    app.advance(61);
    let res = link(&app, &parent, orgs[1], "+79127654321").await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "linked_to_another_profile".into()));
    app.finish().await;
}

#[tokio::test]
async fn the_messenger_link_signs_in_once_and_unlinking_ends_that_session() {
    let app = spawn_app(false).await;
    let parent = app.signed_in("parent1").await;
    let org = app.org_of(&parent).await;
    link(&app, &parent, org, PHONE).await;
    let url = |client: &Client| {
        let app = &app;
        let client = client.clone();
        async move {
            let body: Value =
                app.post(&client, &format!("/api/chats/{org}/messenger-token"), json!({})).await.json().await.unwrap();
            body["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_string()
        }
    };
    let token = url(&parent).await;
    let from_school = app.client();
    let res = app.post(&from_school, "/api/messenger/session", json!({ "token": token })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.post(&app.client(), "/api/messenger/session", json!({ "token": token })).await;
    assert_eq!(error_code(res).await.1, "sign_in_link_invalid", "a sign-in link works once");
    let stale = url(&parent).await;
    app.advance(61);
    let res = app.post(&app.client(), "/api/messenger/session", json!({ "token": stale })).await;
    assert_eq!(error_code(res).await.1, "sign_in_link_invalid", "and only for a minute");

    // A sign-in by phone is not tied to the link.
    let by_phone = app.client();
    let proof = prove(&app, &by_phone, PHONE).await;
    let res = app.post(&by_phone, "/api/messenger/session", json!({ "proof": proof["proof"] })).await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = parent.delete(app.url(&format!("/api/chats/{org}/link"))).send().await.unwrap();
    let window: Value = res.json().await.unwrap();
    assert_eq!(window["linked"], Value::Null);
    assert_eq!(window["chats"], json!([]), "unlinking leaves every chat at once");
    let res = from_school.get(app.url("/api/messenger/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the session that came from the link ended");
    let me: Value = by_phone.get(app.url("/api/messenger/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["links"], json!([]));
    assert_eq!(events(&app).await[1]["type"], "profile_unlinked");
    assert_eq!(events(&app).await[1]["reason"], "by_user");
    let res = parent.delete(app.url(&format!("/api/chats/{org}/link"))).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_linked".into()));
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_session_gets_401() {
    let app = spawn_app(false).await;
    let phone_a = app.client();
    let proof = prove(&app, &phone_a, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера" });
    let me: Value = app.post(&phone_a, "/api/messenger/register", about).await.json().await.unwrap();
    assert_eq!(me["profile"], Value::Null, "a Parta ID without a learning profile yet");
    app.advance(61);
    let phone_b = app.client();
    let proof = prove(&app, &phone_b, PHONE).await;
    assert_eq!(proof["account_exists"], true);
    app.post(&phone_b, "/api/messenger/session", json!({ "proof": proof["proof"] })).await;

    let sessions: Value = phone_a.get(app.url("/api/messenger/sessions")).send().await.unwrap().json().await.unwrap();
    assert_eq!(sessions.as_array().unwrap().len(), 2);
    let other = sessions.as_array().unwrap().iter().find(|s| s["current"] == false).unwrap()["id"].as_i64().unwrap();
    let res = phone_a.delete(app.url(&format!("/api/messenger/sessions/{other}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = phone_b.get(app.url("/api/messenger/me")).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::UNAUTHORIZED, "unauthenticated".into()));
    app.finish().await;
}

#[tokio::test]
async fn a_password_proves_the_phone_once_set() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = prove(&app, &client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "short" });
    let res = app.post(&client, "/api/messenger/register", about).await;
    assert_eq!(error_code(res).await.1, "weak_password");
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "password": "anything" })).await;
    assert_eq!(error_code(res).await.1, "no_password_set");

    app.advance(61);
    let proof = prove(&app, &client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера" });
    app.post(&client, "/api/messenger/register", about).await;
    let res = client
        .put(app.url("/api/messenger/me/password"))
        .json(&json!({ "new": "a good password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = client
        .put(app.url("/api/messenger/me/password"))
        .json(&json!({ "current": "wrong", "new": "another one" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await.1, "wrong_current_password");

    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "password": "wrong password" })).await;
    assert_eq!(error_code(res).await.1, "wrong_password");
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    let proof: Value = res.json().await.unwrap();
    assert_eq!((proof["account_exists"].clone(), proof["has_profile"].clone()), (json!(true), json!(false)));
    assert_eq!(proof["about"]["last_name"], "Новикова");
    app.finish().await;
}

#[tokio::test]
async fn guessing_a_parta_id_password_is_stopped_after_ten_tries() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = prove(&app, &client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "a good password" });
    app.post(&client, "/api/messenger/register", about).await;
    let guesser = app.client();
    for _ in 0..10 {
        let res = app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "guess" })).await;
        assert_eq!(error_code(res).await.1, "wrong_password");
    }
    let res =
        app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()));
    app.finish().await;
}

#[tokio::test]
async fn changing_the_phone_needs_a_code_sent_to_the_new_one() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = prove(&app, &client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера" });
    app.post(&client, "/api/messenger/register", about).await;
    let new_phone = "+79990001122";
    let proof = prove(&app, &client, new_phone).await;
    let res =
        client.put(app.url("/api/messenger/me/phone")).json(&json!({ "proof": proof["proof"] })).send().await.unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["account"]["phone"], "+7 999 000-11-22");
    let res =
        client.put(app.url("/api/messenger/me/phone")).json(&json!({ "proof": proof["proof"] })).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "proof_invalid", "a proof is single-use");
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_parta_id_unlinks_it_everywhere_and_frees_the_phone() {
    let app = spawn_app(false).await;
    let parent = app.signed_in("parent1").await;
    let org = app.org_of(&parent).await;
    link(&app, &parent, org, PHONE).await;
    app.advance(61);
    let messenger = app.client();
    let proof = prove(&app, &messenger, PHONE).await;
    app.post(&messenger, "/api/messenger/session", json!({ "proof": proof["proof"] })).await;
    let res = messenger.delete(app.url("/api/messenger/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(messenger.get(app.url("/api/messenger/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let window: Value = parent.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(window["linked"], Value::Null);
    assert_eq!(events(&app).await.last().unwrap()["reason"], "account_deleted");
    assert!(app.db.store.account_by_phone(PHONE).await.unwrap().is_none(), "the phone is erased");
    app.finish().await;
}

#[tokio::test]
async fn the_sms_outbox_exists_only_in_demo_mode() {
    let app = spawn_app(false).await;
    let res = reqwest::get(app.url("/api/dev/sms-outbox")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn the_chats_window_is_only_for_the_person_s_own_organisations() {
    let app = spawn_app(false).await;
    let stranger = app.signed_in("other.admin").await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let res = stranger.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let window: Value = admin.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(window["can_manage"], true, "employees see chat management");
    let res = app.client().get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}
