//! Family phones (DESIGN §2): one phone, several people — never a silent merge
//! of a child and an adult; child profiles a guardian makes and manages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, error_code, spawn_app};
use reqwest::{Client, StatusCode};
use roster::ids::OrgId;
use serde_json::{Value, json};

const FAMILY_PHONE: &str = "+79123456789";
const TEACHER_PHONE: &str = "+79120000007";
const CHILD_PHONE: &str = "+79990001122";

async fn window(app: &TestApp, client: &Client, org: i64) -> Value {
    client.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap()
}

/// Links the signed-in person with a new Parta ID on `phone`.
async fn link_new(app: &TestApp, client: &Client, org: i64, phone: &str, last: &str, first: &str) -> reqwest::Response {
    let proof = app.prove(client, phone).await;
    app.post(
        client,
        &format!("/api/chats/{org}/link"),
        json!({ "proof": proof["proof"], "last_name": last, "first_name": first }),
    )
    .await
}

/// "It's me": joins the Parta ID `phone` already has.
async fn join(app: &TestApp, client: &Client, org: i64, phone: &str) -> reqwest::Response {
    let proof = app.prove(client, phone).await;
    app.post(client, &format!("/api/chats/{org}/link"), json!({ "proof": proof["proof"], "join": true })).await
}

async fn children(app: &TestApp, client: &Client) -> Vec<Value> {
    let res = client.get(app.url("/api/family/children")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

fn child<'a>(list: &'a [Value], first_name: &str) -> &'a Value {
    list.iter().find(|c| c["first_name"] == first_name).unwrap()
}

/// Королёва Мария (parent1) linked on the family phone, with a profile made
/// for her child `student`: her portal client, the school, the child.
async fn mother_with_child_profile(app: &TestApp, student: &str) -> (Client, i64, i64) {
    let mother = app.signed_in("parent1").await;
    let org = app.org_of(&mother).await;
    link_new(app, &mother, org, FAMILY_PHONE, "Королёва", "Мария").await;
    let child = app.person_id(student).await;
    app.post(&mother, &format!("/api/family/children/{child}/profile"), json!({ "consent": true })).await;
    (mother, org, child)
}

async fn chat_names(app: &TestApp, messenger: &Client) -> Vec<String> {
    let chats: Value = messenger.get(app.url("/api/messenger/chats")).send().await.unwrap().json().await.unwrap();
    let mut names: Vec<String> =
        chats.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap().to_string()).collect();
    names.sort();
    names
}

/// A messenger session of the Parta ID `phone` has (proved by a code).
async fn messenger_by_phone(app: &TestApp, phone: &str) -> Client {
    let messenger = app.client();
    let proof = app.prove(&messenger, phone).await;
    let res = app.post(&messenger, "/api/messenger/session", json!({ "proof": proof["proof"] })).await;
    assert_eq!(res.status(), StatusCode::OK);
    messenger
}

#[tokio::test]
async fn a_student_never_joins_a_parents_parta_id_and_is_told_whose_it_is() {
    let app = spawn_app(false).await;
    let mother = app.signed_in("parent1").await;
    let org = app.org_of(&mother).await;
    assert_eq!(link_new(&app, &mother, org, FAMILY_PHONE, "Королёва", "Мария").await.status(), StatusCode::OK);

    let daughter = app.signed_in_anyone("student1").await;
    app.advance(61);
    let proof = app.prove(&daughter, FAMILY_PHONE).await;
    assert_eq!(proof["holder"], "Мария К.", "named masked, never in full");
    assert!(proof.get("about").is_none(), "nothing to pre-fill «Информация о себе» with");
    let res =
        app.post(&daughter, &format!("/api/chats/{org}/link"), json!({ "proof": proof["proof"], "join": true })).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "student_needs_own_profile".into()));
    // Typing her own name does not rename the mother's Parta ID either.
    let about = json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Алёна" });
    let res = app.post(&daughter, &format!("/api/chats/{org}/link"), about).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "phone_in_use".into()));

    assert_eq!(window(&app, &daughter, org).await["linked"], Value::Null);
    let mother_window = window(&app, &mother, org).await;
    assert_eq!(mother_window["linked"]["first_name"], "Мария");
    let messenger = messenger_by_phone(&app, FAMILY_PHONE).await;
    assert_eq!(chat_names(&app, &messenger).await, ["Родители 5А"]);
    app.finish().await;
}

#[tokio::test]
async fn an_adult_never_joins_a_students_parta_id() {
    let app = spawn_app(false).await;
    let student = app.signed_in_anyone("student1").await;
    let org = app.org_of(&student).await;
    assert_eq!(link_new(&app, &student, org, CHILD_PHONE, "Королёва", "Алёна").await.status(), StatusCode::OK);
    let teacher = app.signed_in_anyone("teacher2").await;
    app.advance(61);
    let res = join(&app, &teacher, org, CHILD_PHONE).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "adult_needs_own_profile".into()));
    let messenger = messenger_by_phone(&app, CHILD_PHONE).await;
    let names = chat_names(&app, &messenger).await;
    assert!(!names.iter().any(|n| n == "Учительская"), "a child never sees the staff room: {names:?}");
    app.finish().await;
}

#[tokio::test]
async fn siblings_never_share_one_parta_id() {
    let app = spawn_app(false).await;
    let alena = app.signed_in_anyone("student1").await;
    let org = app.org_of(&alena).await;
    assert_eq!(link_new(&app, &alena, org, FAMILY_PHONE, "Королёва", "Алёна").await.status(), StatusCode::OK);
    let ivan = app.signed_in_anyone("student2").await;
    app.advance(61);
    let res = join(&app, &ivan, org, FAMILY_PHONE).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "student_needs_own_profile".into()));
    app.finish().await;
}

#[tokio::test]
async fn two_adults_roles_share_one_parta_id_and_its_name_never_changes_by_a_link() {
    let app = spawn_app(false).await;
    let teacher = app.signed_in_anyone("teacher1").await;
    let org = app.org_of(&teacher).await;
    assert_eq!(link_new(&app, &teacher, org, TEACHER_PHONE, "Учителева", "Ольга").await.status(), StatusCode::OK);
    // Another adult school account (the roster listed her twice) joins: allowed, the name stays.
    let parent = app.signed_in("parent1").await;
    app.advance(61);
    let res = join(&app, &parent, org, TEACHER_PHONE).await;
    assert_eq!(res.status(), StatusCode::OK);
    let linked: Value = res.json().await.unwrap();
    assert_eq!(
        (linked["linked"]["last_name"].as_str(), linked["linked"]["first_name"].as_str()),
        (Some("Учителева"), Some("Ольга"))
    );

    // Only the holder renames it, in the messenger's settings.
    let messenger = messenger_by_phone(&app, TEACHER_PHONE).await;
    let res = messenger
        .put(app.url("/api/messenger/me/name"))
        .json(&json!({ "last_name": "Учителева", "first_name": "Ольга", "middle_name": "Петровна" }))
        .send()
        .await
        .unwrap();
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["profile"]["middle_name"], "Петровна");
    assert_eq!(me["account"]["middle_name"], "Петровна");
    let res = app
        .client()
        .put(app.url("/api/messenger/me/name"))
        .json(&json!({ "last_name": "X", "first_name": "Y" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn a_guardian_makes_a_child_profile_and_the_child_signs_in_by_a_one_time_code() {
    let app = spawn_app(false).await;
    let mother = app.signed_in("parent1").await;
    let org = app.org_of(&mother).await;
    link_new(&app, &mother, org, FAMILY_PHONE, "Королёва", "Мария").await;
    let kids = children(&app, &mother).await;
    assert_eq!(kids.len(), 2);
    let alena = child(&kids, "Алёна")["person_id"].as_i64().unwrap();
    assert_eq!(child(&kids, "Алёна")["profile"], "none");
    assert_eq!(child(&kids, "Алёна")["schools"][0]["class_name"], "5А");

    let profile = format!("/api/family/children/{alena}/profile");
    let res = app.post(&mother, &profile, json!({ "consent": false })).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "consent_required".into()));
    let res = app.post(&mother, &profile, json!({ "consent": true })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let made: Value = res.json().await.unwrap();
    assert_eq!(made["profile"], "managed");
    assert_eq!(made["managed"]["created_by"], "Королёва Мария");

    let code: Value = app
        .post(&mother, &format!("/api/family/children/{alena}/sign-in-codes"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let shown = code["code"].as_str().unwrap();
    assert_eq!(shown.len(), 9, "ABCD-EFGH: {shown}");
    assert!(code["url"].as_str().unwrap().ends_with(&format!("/messenger#child-code={}", shown.replace('-', ""))));
    assert!(code["qr_svg"].as_str().unwrap().starts_with("<?xml"));

    let tablet = app.client();
    let me: Value = app
        .post(&tablet, "/api/messenger/session", json!({ "child_code": shown.to_lowercase() }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (me["profile"]["last_name"].as_str(), me["profile"]["first_name"].as_str()),
        (Some("Королёва"), Some("Алёна"))
    );
    assert_eq!(me["account"]["phone"], Value::Null);
    assert_eq!(chat_names(&app, &tablet).await, ["5А класс", "Математика 5А"], "her class and subject chats only");

    // Single use.
    let again = app.post(&app.client(), "/api/messenger/session", json!({ "child_code": shown })).await;
    assert_eq!(error_code(again).await, (StatusCode::BAD_REQUEST, "child_code_invalid".into()));
    // Ten minutes.
    let code: Value = app
        .post(&mother, &format!("/api/family/children/{alena}/sign-in-codes"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    app.advance(601);
    let late = app.post(&app.client(), "/api/messenger/session", json!({ "child_code": code["code"] })).await;
    assert_eq!(error_code(late).await.1, "child_code_invalid");

    // The guardian sees the device and signs it out; never the chats.
    let sessions: Value = mother
        .get(app.url(&format!("/api/family/children/{alena}/sessions")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    let session = sessions[0]["id"].as_i64().unwrap();
    let res = mother.delete(app.url(&format!("/api/family/children/{alena}/sessions/{session}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(tablet.get(app.url("/api/messenger/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn wrong_child_codes_are_limited_per_network_and_cost_nothing_when_malformed() {
    let app = spawn_app(false).await;
    let guesser = app.client_from([127, 0, 0, 2]);
    let res = app.post(&guesser, "/api/messenger/session", json!({ "child_code": "12" })).await;
    assert_eq!(error_code(res).await.1, "child_code_malformed");
    for _ in 0..10 {
        let res = app.post(&guesser, "/api/messenger/session", json!({ "child_code": "ABCD-EFGH" })).await;
        assert_eq!(error_code(res).await.1, "child_code_invalid");
    }
    let res = app.post(&guesser, "/api/messenger/session", json!({ "child_code": "ABCD-EFGH" })).await;
    assert_eq!(error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()));
    let elsewhere = app.client_from([127, 0, 0, 3]);
    let res = app.post(&elsewhere, "/api/messenger/session", json!({ "child_code": "ABCD-EFGH" })).await;
    assert_eq!(error_code(res).await.1, "child_code_invalid", "another network is not locked out");
    app.finish().await;
}

#[tokio::test]
async fn the_second_guardian_finds_the_first_ones_child_profile_instead_of_a_second() {
    let app = spawn_app(false).await;
    let director = app.signed_in("director").await;
    let org = app.org_of(&director).await;
    let (teacher1, alena) = (app.person_id("teacher1").await, app.person_id("student1").await);
    let res = director
        .put(app.url(&format!("/api/orgs/{org}/guardianships")))
        .json(&json!({ "guardian_id": teacher1, "student_id": alena }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let mother = app.signed_in("parent1").await;
    link_new(&app, &mother, org, FAMILY_PHONE, "Королёва", "Мария").await;
    app.post(&mother, &format!("/api/family/children/{alena}/profile"), json!({ "consent": true })).await;
    let father = app.signed_in_anyone("teacher1").await;
    link_new(&app, &father, org, TEACHER_PHONE, "Учителева", "Ольга").await;
    // The portal session reaches «Дети» too, not only the messenger.
    let res = app.post(&father, &format!("/api/family/children/{alena}/profile"), json!({ "consent": true })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(shown["managed"]["created_by"], "Королёва Мария", "the other guardian sees who made it");
    let accounts = app.db.store.mixed_parta_ids().await.unwrap();
    assert!(accounts.is_empty(), "no Parta ID holds two people");
    // Either guardian manages it.
    let res = app.post(&father, &format!("/api/family/children/{alena}/sign-in-codes"), json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn a_guardian_reaches_only_their_own_children() {
    let app = spawn_app(false).await;
    let teacher = app.signed_in_anyone("teacher1").await;
    let org = app.org_of(&teacher).await;
    link_new(&app, &teacher, org, TEACHER_PHONE, "Учителева", "Ольга").await;
    let kids = children(&app, &teacher).await;
    assert_eq!(kids.iter().map(|c| c["first_name"].as_str().unwrap()).collect::<Vec<_>>(), ["Миша"]);
    let alena = app.person_id("student1").await;
    for (method, path) in [
        ("POST", format!("/api/family/children/{alena}/profile")),
        ("POST", format!("/api/family/children/{alena}/sign-in-codes")),
        ("GET", format!("/api/family/children/{alena}/sessions")),
        ("DELETE", format!("/api/family/children/{alena}/profile")),
    ] {
        let req = teacher.request(method.parse().unwrap(), app.url(&path));
        let res = req.json(&json!({ "consent": true })).send().await.unwrap();
        assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()), "{method} {path}");
    }
    assert!(app.db.store.mixed_parta_ids().await.unwrap().is_empty());
    // Without a linked profile there is no «Дети».
    let mother = app.signed_in("parent1").await;
    let res = mother.get(app.url("/api/family/children")).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_linked".into()));
    let res = app.client().get(app.url("/api/family/children")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn a_child_profile_moves_to_the_childs_own_phone_with_its_chats() {
    let app = spawn_app(false).await;
    let (mother, _, alena) = mother_with_child_profile(&app, "student1").await;

    // The family phone is taken: refused, nothing moves.
    app.advance(61);
    let proof = app.prove(&mother, FAMILY_PHONE).await;
    let res = mother
        .put(app.url(&format!("/api/family/children/{alena}/phone")))
        .json(&json!({ "proof": proof["proof"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "phone_taken".into()));

    let proof = app.prove(&mother, CHILD_PHONE).await;
    let res = mother
        .put(app.url(&format!("/api/family/children/{alena}/phone")))
        .json(&json!({ "proof": proof["proof"] }))
        .send()
        .await
        .unwrap();
    let moved: Value = res.json().await.unwrap();
    assert_eq!(moved["managed"]["phone_masked"], "+7 999 ***-**-22");
    let phone = messenger_by_phone(&app, CHILD_PHONE).await;
    let me: Value = phone.get(app.url("/api/messenger/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["profile"]["first_name"], "Алёна");
    assert_eq!(chat_names(&app, &phone).await, ["5А класс", "Математика 5А"]);
    app.finish().await;
}

#[tokio::test]
async fn a_child_signs_in_with_the_login_and_password_a_guardian_set() {
    let app = spawn_app(false).await;
    let (mother, _, ivan) = mother_with_child_profile(&app, "student2").await;
    let login = format!("/api/family/children/{ivan}/login");
    let res =
        mother.put(app.url(&login)).json(&json!({ "login": "<b>", "password": "ivan-2015-k" })).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "bad_login");
    let res =
        mother.put(app.url(&login)).json(&json!({ "login": "ivan.k", "password": "short" })).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "weak_password");
    let res = mother
        .put(app.url(&login))
        .json(&json!({ "login": "Ivan.K", "password": "ivan-2015-k" }))
        .send()
        .await
        .unwrap();
    let set: Value = res.json().await.unwrap();
    assert_eq!(
        (set["managed"]["login"].as_str(), set["managed"]["has_password"].as_bool()),
        (Some("ivan.k"), Some(true))
    );

    let laptop = app.client();
    let res = app.post(&laptop, "/api/messenger/session", json!({ "login": "ivan.k", "password": "wrong one" })).await;
    assert_eq!(error_code(res).await, (StatusCode::UNAUTHORIZED, "invalid_credentials".into()));
    let res =
        app.post(&laptop, "/api/messenger/session", json!({ "login": "IVAN.K ", "password": "ivan-2015-k" })).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(chat_names(&app, &laptop).await, ["5А класс", "Математика 5А"]);
    app.finish().await;
}

#[tokio::test]
async fn unlinking_a_child_profile_takes_the_child_out_of_every_chat_and_device() {
    let app = spawn_app(false).await;
    let (mother, org, alena) = mother_with_child_profile(&app, "student1").await;
    let code: Value = app
        .post(&mother, &format!("/api/family/children/{alena}/sign-in-codes"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let tablet = app.client();
    app.post(&tablet, "/api/messenger/session", json!({ "child_code": code["code"] })).await;

    let res = mother.delete(app.url(&format!("/api/family/children/{alena}/profile"))).send().await.unwrap();
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["profile"], "none");
    assert_eq!(tablet.get(app.url("/api/messenger/me")).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let class_chat = app.db.store.person_chats(org, alena).await.unwrap();
    assert!(class_chat.is_empty(), "no chat lists her as a member: {class_chat:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_parent_whose_phone_the_child_was_registered_on_frees_it_with_a_child_profile() {
    let app = spawn_app(false).await;
    let daughter = app.signed_in_anyone("student1").await;
    let org = app.org_of(&daughter).await;
    // Before: Алёна linked herself with her mother's phone.
    assert_eq!(link_new(&app, &daughter, org, FAMILY_PHONE, "Королёва", "Алёна").await.status(), StatusCode::OK);
    let her_tablet = messenger_by_phone(&app, FAMILY_PHONE).await;

    let mother = app.signed_in("parent1").await;
    app.advance(61);
    let proof = app.prove(&mother, FAMILY_PHONE).await;
    assert_eq!(proof["holder"], "Алёна К.");
    let link = format!("/api/chats/{org}/link");
    let res = app.post(&mother, &link, json!({ "proof": proof["proof"], "join": true })).await;
    assert_eq!(error_code(res).await.1, "adult_needs_own_profile");
    let freeing =
        json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Мария", "free_from_child": true });
    let res = app.post(&mother, &link, freeing.clone()).await;
    assert_eq!(error_code(res).await.1, "consent_required");
    let mut with_consent = freeing;
    with_consent["child_consent"] = json!(true);
    let res = app.post(&mother, &link, with_consent).await;
    assert_eq!(res.status(), StatusCode::OK);
    let linked: Value = res.json().await.unwrap();
    assert_eq!(linked["linked"]["first_name"], "Мария");

    let kids = children(&app, &mother).await;
    let alena = child(&kids, "Алёна");
    assert_eq!((alena["profile"].as_str(), alena["managed"]["phone_masked"].as_str()), (Some("managed"), None));
    // Her chats and her signed-in device stay hers.
    let me: Value = her_tablet.get(app.url("/api/messenger/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["profile"]["first_name"], "Алёна");
    assert_eq!(chat_names(&app, &her_tablet).await, ["5А класс", "Математика 5А"]);
    // The phone is the mother's now.
    let phone = messenger_by_phone(&app, FAMILY_PHONE).await;
    assert_eq!(chat_names(&app, &phone).await, ["Родители 5А"]);
    app.finish().await;
}

#[tokio::test]
async fn a_stranger_cannot_free_a_students_number() {
    let app = spawn_app(false).await;
    let student = app.signed_in_anyone("student3").await;
    let org = app.org_of(&student).await;
    link_new(&app, &student, org, FAMILY_PHONE, "Учителев", "Миша").await;
    let mother = app.signed_in("parent1").await;
    app.advance(61);
    let proof = app.prove(&mother, FAMILY_PHONE).await;
    let body = json!({ "proof": proof["proof"], "last_name": "Королёва", "first_name": "Мария", "free_from_child": true, "child_consent": true });
    let res = app.post(&mother, &format!("/api/chats/{org}/link"), body).await;
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "not_your_child".into()));
    let me: Value = messenger_by_phone(&app, FAMILY_PHONE)
        .await
        .get(app.url("/api/messenger/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["profile"]["first_name"], "Миша", "nothing changed");
    app.finish().await;
}

#[tokio::test]
async fn a_mix_made_before_the_rules_is_reported_to_administrators_and_ended_by_a_child_profile() {
    let app = spawn_app(false).await;
    let mother = app.signed_in("parent1").await;
    let org = app.org_of(&mother).await;
    link_new(&app, &mother, org, FAMILY_PHONE, "Королёва", "Мария").await;
    let (alena, maria) = (app.person_id("student1").await, app.person_id("parent1").await);
    // As an older Parta linked whoever typed the family's phone.
    app.db
        .execute(&format!(
            "INSERT INTO profile_links (profile_id, person_id, org_id, linked_at) \
             SELECT profile_id, {alena}, org_id, 0 FROM profile_links WHERE person_id = {maria}"
        ))
        .await;
    app.state.reconcile(OrgId(org)).await;
    let phone = messenger_by_phone(&app, FAMILY_PHONE).await;
    assert_eq!(chat_names(&app, &phone).await, ["5А класс", "Математика 5А", "Родители 5А"], "the mix, as found");

    let director = app.signed_in("director").await;
    let report: Value =
        director.get(app.url(&format!("/api/orgs/{org}/shared-parta-ids"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(report.as_array().unwrap().len(), 1);
    assert_eq!(report[0]["phone_masked"], "+7 912 ***-**-89");
    let holders: Vec<(&str, bool)> = report[0]["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["student"].as_bool().unwrap()))
        .collect();
    assert_eq!(holders, [("Королёва Алёна", true), ("Королёва Мария", false)]);
    let res = mother.get(app.url(&format!("/api/orgs/{org}/shared-parta-ids"))).send().await.unwrap();
    assert_eq!(error_code(res).await.0, StatusCode::FORBIDDEN);

    // The mother moves her daughter to a child profile of her own.
    assert_eq!(child(&children(&app, &mother).await, "Алёна")["profile"], "shared");
    let res = app.post(&mother, &format!("/api/family/children/{alena}/profile"), json!({ "consent": true })).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(chat_names(&app, &phone).await, ["Родители 5А"], "the adult's messenger holds the adult's chats only");
    let report: Value =
        director.get(app.url(&format!("/api/orgs/{org}/shared-parta-ids"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(report, json!([]));
    let code: Value = app
        .post(&mother, &format!("/api/family/children/{alena}/sign-in-codes"), json!({}))
        .await
        .json()
        .await
        .unwrap();
    let tablet = app.client();
    app.post(&tablet, "/api/messenger/session", json!({ "child_code": code["code"] })).await;
    assert_eq!(chat_names(&app, &tablet).await, ["5А класс", "Математика 5А"]);
    app.finish().await;
}
