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

async fn link(app: &TestApp, client: &Client, org: i64, phone: &str) -> reqwest::Response {
    let proof = app.prove(client, phone).await;
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
        assert_eq!(body, json!({ "phone": PHONE, "display": "+7 912 345-67-89" }), "{typed}");
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
    assert_eq!(link(&app, &parent, orgs[0], PHONE).await.status(), StatusCode::OK);
    app.advance(61);
    // The second school: "it's me", the Parta ID the phone already has.
    let proof = app.prove(&parent, PHONE).await;
    let res = app
        .post(&parent, &format!("/api/chats/{}/link", orgs[1]), json!({ "proof": proof["proof"], "join": true }))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
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
    let proof = app.prove(&by_phone, PHONE).await;
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
    let proof = app.prove(&phone_a, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера" });
    let me: Value = app.post(&phone_a, "/api/messenger/register", about).await.json().await.unwrap();
    assert_eq!(me["profile"], Value::Null, "a Parta ID without a learning profile yet");
    app.advance(61);
    let phone_b = app.client();
    let proof = app.prove(&phone_b, PHONE).await;
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
    let proof = app.prove(&client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "short" });
    let res = app.post(&client, "/api/messenger/register", about).await;
    assert_eq!(error_code(res).await.1, "weak_password");
    // No Parta ID yet: the answer is a wrong password, as if there were one.
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "password": "anything" })).await;
    assert_eq!(error_code(res).await.1, "wrong_password");

    app.advance(61);
    let proof = app.prove(&client, PHONE).await;
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
    assert_eq!(proof["holder"], "Вера Н.");
    app.finish().await;
}

#[tokio::test]
async fn guessing_a_parta_id_password_locks_the_guessers_network_not_the_owner() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = app.prove(&client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "a good password" });
    app.post(&client, "/api/messenger/register", about).await;
    let guesser = app.client_from([127, 0, 0, 2]);
    for _ in 0..10 {
        let res = app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "guess" })).await;
        assert_eq!(error_code(res).await.1, "wrong_password");
    }
    let res =
        app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()));
    let owner = app.client_from([127, 0, 0, 3]);
    let res = app.post(&owner, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    assert_eq!(res.status(), StatusCode::OK, "the owner, elsewhere, still signs in");
    app.advance(15 * 60 + 1);
    let res =
        app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    assert_eq!(res.status(), StatusCode::OK, "the lock ends with its window, on the server's clock");
    app.finish().await;
}

#[tokio::test]
async fn a_guess_spread_over_many_networks_closes_the_password_but_not_the_sms_code_and_tells_the_owner() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = app.prove(&client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "a good password" });
    app.post(&client, "/api/messenger/register", about).await;
    for i in 0..50u8 {
        let guesser = app.client_from([127, 0, 1, 10 + i / 5]);
        let res = app.post(&guesser, "/api/identity/proofs", json!({ "phone": PHONE, "password": "guess" })).await;
        assert_eq!(error_code(res).await.1, "wrong_password");
    }
    let owner = app.client_from([127, 0, 0, 9]);
    let res = app.post(&owner, "/api/identity/proofs", json!({ "phone": PHONE, "password": "a good password" })).await;
    assert_eq!(error_code(res).await.1, "too_many_attempts");
    let warned = app.state.sms.dev_outbox().unwrap();
    assert!(warned.iter().any(|m| m.phone == PHONE && m.text.contains("неверный пароль")), "{warned:?}");
    app.advance(61);
    app.prove(&owner, PHONE).await;
    app.finish().await;
}

#[tokio::test]
async fn the_phone_step_answers_alike_for_numbers_with_and_without_a_parta_id() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = app.prove(&client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера", "password": "a good password" });
    app.post(&client, "/api/messenger/register", about).await;
    let scanner = app.client_from([127, 0, 0, 4]);
    let known: Value = app.post(&scanner, "/api/identity/phone", json!({ "phone": PHONE })).await.json().await.unwrap();
    let unknown: Value =
        app.post(&scanner, "/api/identity/phone", json!({ "phone": "+79120000055" })).await.json().await.unwrap();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&known), keys(&unknown));
    assert_eq!(keys(&known), ["display", "phone"]);
    // A wrong password and a number without one are the same answer.
    let with: Value = app
        .post(&scanner, "/api/identity/proofs", json!({ "phone": PHONE, "password": "guess" }))
        .await
        .json()
        .await
        .unwrap();
    let without: Value = app
        .post(&scanner, "/api/identity/proofs", json!({ "phone": "+79120000055", "password": "guess" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with, without);
    // And a scan is stopped.
    for _ in 0..18 {
        app.post(&scanner, "/api/identity/phone", json!({ "phone": PHONE })).await;
    }
    let res = app.post(&scanner, "/api/identity/phone", json!({ "phone": PHONE })).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_requests".into()));
    app.finish().await;
}

#[tokio::test]
async fn a_hundred_parallel_guesses_get_five_tries_between_them() {
    let app = spawn_app(false).await;
    let client = app.client();
    app.post(&client, "/api/identity/codes", json!({ "phone": PHONE })).await;
    let right = app.last_code(PHONE);
    let guesses = (0..100).map(|i| {
        let client = client.clone();
        let url = app.url("/api/identity/proofs");
        // The right code is among the guesses, late.
        let code =
            if i == 60 { right.clone() } else { format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000) };
        async move { client.post(url).json(&json!({ "phone": PHONE, "code": code })).send().await.unwrap() }
    });
    let answers = futures_util::future::join_all(guesses).await;
    let mut compared = 0;
    for res in answers {
        let body: Value = res.json().await.unwrap();
        match body["code"].as_str() {
            Some("wrong_code") => compared += 1,
            Some("code_burned") => {}
            None => compared += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert!(compared <= 5, "{compared} guesses were compared");
    let res = app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": right })).await;
    assert!(res.status().is_client_error(), "the code is spent");
    app.finish().await;
}

#[tokio::test]
async fn a_burned_code_can_be_replaced_at_once() {
    let app = spawn_app(false).await;
    let client = app.client();
    app.post(&client, "/api/identity/codes", json!({ "phone": PHONE })).await;
    let right = app.last_code(PHONE);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.post(&client, "/api/identity/proofs", json!({ "phone": PHONE, "code": wrong })).await;
    }
    let res = app.post(&client, "/api/identity/codes", json!({ "phone": PHONE })).await;
    assert_eq!(res.status(), StatusCode::OK, "no minute's wait after a burned code");
    app.finish().await;
}

#[tokio::test]
async fn signing_out_of_the_portal_signs_this_device_out_of_the_messenger() {
    use futures_util::{SinkExt, StreamExt};
    use reqwest::cookie::CookieStore;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = spawn_app(false).await;
    // One browser: one cookie jar for the portal and the messenger.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = Client::builder().cookie_provider(jar.clone()).build().unwrap();
    let res = app.post(&browser, "/api/session", json!({ "login": "parent1", "password": common::PASSWORD })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let org = app.org_of(&browser).await;
    link(&app, &browser, org, PHONE).await;
    let open_messenger = |browser: Client| {
        let app = &app;
        async move {
            let token: Value =
                app.post(&browser, &format!("/api/chats/{org}/messenger-token"), json!({})).await.json().await.unwrap();
            let t = token["url"].as_str().unwrap().split("token=").nth(1).unwrap().to_string();
            let res = app.post(&browser, "/api/messenger/session", json!({ "token": t })).await;
            assert_eq!(res.status(), StatusCode::OK);
        }
    };
    open_messenger(browser.clone()).await;
    let mut request = app.url("/api/ws").replace("http", "ws").into_client_request().unwrap();
    let cookies = jar.cookies(&app.url("/").parse().unwrap()).unwrap();
    request.headers_mut().insert("cookie", cookies);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let hello = json!({ "type": "hello", "v": 1, "positions": {} }).to_string();
    socket.send(tokio_tungstenite::tungstenite::Message::Text(hello.into())).await.unwrap();

    let res = browser.delete(app.url("/api/session")).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["messenger_signed_out"], true);
    assert_eq!(browser.get(app.url("/api/messenger/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get(app.url("/api/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Its open socket is told and closes.
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Some(Ok(frame)) = socket.next().await {
            if frame.is_close() || frame.to_text().is_ok_and(|t| t.contains("session_ended")) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ended, Ok(true));

    // And the reverse, when asked: signing out of the messenger ends the portal session too.
    let res = app.post(&browser, "/api/session", json!({ "login": "parent1", "password": common::PASSWORD })).await;
    assert_eq!(res.status(), StatusCode::OK);
    open_messenger(browser.clone()).await;
    let res = browser.delete(app.url("/api/messenger/session?portal=true")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(browser.get(app.url("/api/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn changing_the_phone_needs_a_code_sent_to_the_new_one() {
    let app = spawn_app(false).await;
    let client = app.client();
    let proof = app.prove(&client, PHONE).await;
    let about = json!({ "proof": proof["proof"], "last_name": "Новикова", "first_name": "Вера" });
    app.post(&client, "/api/messenger/register", about).await;
    let new_phone = "+79990001122";
    let proof = app.prove(&client, new_phone).await;
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
    let proof = app.prove(&messenger, PHONE).await;
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

#[tokio::test]
async fn a_portal_login_locked_by_guessing_still_signs_in_by_an_sms_code() {
    let app = spawn_app(false).await;
    let parent = app.signed_in("parent1").await;
    let org = app.org_of(&parent).await;
    link(&app, &parent, org, PHONE).await;
    // A guess spread over many networks closes the password for everyone.
    for i in 0..50u8 {
        let guesser = app.client_from([127, 0, 2, 10 + i / 5]);
        let res = app.post(&guesser, "/api/session", json!({ "login": "parent1", "password": "guess" })).await;
        assert_eq!(error_code(res).await.1, "invalid_credentials");
    }
    let owner = app.client_from([127, 0, 0, 8]);
    let res = app.post(&owner, "/api/session", json!({ "login": "parent1", "password": common::PASSWORD })).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()));
    let warned = app.state.sms.dev_outbox().unwrap();
    assert!(warned.iter().any(|m| m.phone == PHONE && m.text.contains("неверный пароль")), "the owner is told");

    app.advance(61);
    let proof = app.prove(&owner, PHONE).await;
    let res = app.post(&owner, "/api/session/by-phone", json!({ "proof": proof["proof"] })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = owner.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["person"]["first_name"], "Мария");

    // A number without a school account signs nobody in.
    let stranger = app.client();
    let proof = app.prove(&stranger, "+79120000077").await;
    let res = app.post(&stranger, "/api/session/by-phone", json!({ "proof": proof["proof"] })).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "no_school_account".into()));
    app.finish().await;
}

#[tokio::test]
async fn an_over_long_name_is_refused_naming_the_field_and_its_limit() {
    let app = spawn_app(false).await;
    let parent = app.signed_in("parent1").await;
    let org = app.org_of(&parent).await;
    let proof = app.prove(&parent, PHONE).await;
    let long = "Я".repeat(101);
    let about = json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Мария", "middle_name": long });
    let res = app.post(&parent, &format!("/api/chats/{org}/link"), about).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["code"].as_str(), body["field"].as_str()), (Some("middle_name_too_long"), Some("middle_name")));
    assert!(body["message"].as_str().unwrap().contains("Отчество — не длиннее 100 символов"), "{body}");
    // Nothing was linked, and the proof still works.
    let about = json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Мария" });
    assert_eq!(app.post(&parent, &format!("/api/chats/{org}/link"), about).await.status(), StatusCode::OK);
    app.finish().await;
}
