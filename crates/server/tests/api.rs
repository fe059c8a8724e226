//! The HTTP API, end to end: the real server on a random port against a fresh
//! database (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{error_code, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn health_and_the_openapi_document_are_served() {
    let app = spawn_app(false).await;
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in ["/api/session", "/api/orgs/{org}/classes/{class}", "/api/orgs/{org}/people"] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    app.finish().await;
}

#[tokio::test]
async fn signing_in_sets_a_session_and_signing_out_ends_it() {
    let app = spawn_app(false).await;
    let client = app.signed_in("DIRECTOR").await;
    let me: Value = client.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["person"]["last_name"], "Директорова");
    assert_eq!(me["roles"][0]["role"], "administrator");
    let res = client.delete(app.url("/api/session")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let ended: Value = res.json().await.unwrap();
    assert_eq!(ended["messenger_signed_out"], false, "no messenger was open in this browser");
    let (status, code) = error_code(client.get(app.url("/api/me")).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "unauthenticated"));
    app.finish().await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = spawn_app(false).await;
    let res = app
        .client()
        .post(app.url("/api/session"))
        .json(&json!({"login": "director", "password": "secret-pass"}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()[reqwest::header::SET_COOKIE].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    app.finish().await;
}

#[tokio::test]
async fn wrong_passwords_and_accounts_without_one_get_clear_errors() {
    let app = spawn_app(false).await;
    let client = app.client();
    let attempt = |login: &'static str, password: &'static str| {
        client.post(app.url("/api/session")).json(&json!({"login": login, "password": password})).send()
    };
    let (status, code) = error_code(attempt("director", "nope").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::UNAUTHORIZED, "invalid_credentials"));
    let (_, code) = error_code(attempt("nobody", "nope").await.unwrap()).await;
    assert_eq!(code, "invalid_credentials");
    let (_, code) = error_code(attempt("student1", "anything").await.unwrap()).await;
    assert_eq!(code, "no_password_yet");
    app.finish().await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_login_for_a_while() {
    let app = spawn_app(false).await;
    let client = app.client();
    for _ in 0..10 {
        let res = client
            .post(app.url("/api/session"))
            .json(&json!({"login": "director", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = client
        .post(app.url("/api/session"))
        .json(&json!({"login": "director", "password": "secret-pass"}))
        .send()
        .await
        .unwrap();
    let (status, code) = error_code(res).await;
    assert_eq!((status, code.as_str()), (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    app.finish().await;
}

#[tokio::test]
async fn only_an_administrator_of_the_organisation_reads_its_roster() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let classes: Value =
        admin.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(classes.as_array().unwrap().len(), 2);

    let parent = app.signed_in("parent1").await;
    let (status, code) =
        error_code(parent.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "forbidden"));

    let stranger = app.signed_in("other.admin").await;
    let res = stranger.get(app.url(&format!("/api/orgs/{org}/people"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let class_id = classes[0]["id"].as_i64().unwrap();
    let other_org = app.org_of(&stranger).await;
    let res = stranger.get(app.url(&format!("/api/orgs/{other_org}/classes/{class_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "another school's class is invisible, not forbidden-but-present");

    let anonymous = app.client();
    let res = anonymous.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn a_class_page_shows_students_parents_and_teachers() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let classes: Value =
        admin.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap().json().await.unwrap();
    let id = classes[0]["id"].as_i64().unwrap();
    let detail: Value =
        admin.get(app.url(&format!("/api/orgs/{org}/classes/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(detail["class"]["name"], "5А");
    assert_eq!(detail["class"]["class_teacher_name"], "Учителева Ольга");
    assert_eq!(detail["students"].as_array().unwrap().len(), 2);
    assert_eq!(detail["students"][0]["guardians"][0]["first_name"], "Мария");
    assert_eq!(detail["sections"][0]["subject"], "Математика");
    app.finish().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_a_code_and_changes_nothing() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let classes: Value =
        admin.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap().json().await.unwrap();
    let id = classes[0]["id"].as_i64().unwrap();
    let teacher = classes[0]["class_teacher_id"].as_i64().unwrap();
    let class_url = app.url(&format!("/api/orgs/{org}/classes/{id}"));

    // A bad name together with a valid teacher change: neither happens.
    let res = admin.patch(&class_url).json(&json!({"name": "15Я", "class_teacher_id": null})).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "bad_class_name".to_string()));
    let after: Value = admin.get(&class_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(after["class"]["name"], "5А");
    assert_eq!(after["class"]["class_teacher_id"], teacher);

    let res =
        admin.patch(&class_url).header("content-type", "application/json").body("{not json").send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "invalid_input".to_string()));
    let res = admin.get(app.url(&format!("/api/orgs/{org}/people?role=wizard"))).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "invalid_input".to_string()));
    let res = admin.get(app.url("/api/orgs/not-a-number/classes")).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "invalid_input".to_string()));
    let res = admin
        .post(app.url(&format!("/api/orgs/{org}/people")))
        .json(&json!({"last_name": " ", "first_name": "Вера", "login": "vera.n", "roles": ["guardian"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "empty_name".to_string()));
    let res = admin.get(app.url("/api/no-such-thing")).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".to_string()));
    app.finish().await;
}

#[tokio::test]
async fn a_one_time_password_from_the_slip_must_be_changed_at_first_sign_in() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let classes: Value =
        admin.get(app.url(&format!("/api/orgs/{org}/classes"))).send().await.unwrap().json().await.unwrap();
    let id = classes[0]["id"].as_i64().unwrap();
    let slip: Value = admin
        .post(app.url(&format!("/api/orgs/{org}/classes/{id}/password-slip")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let student = slip.as_array().unwrap().iter().find(|s| s["login"] == "student1").unwrap();
    let one_time = student["password"].as_str().unwrap().to_string();
    // Issued once: the next slip has nobody left without a password.
    let again: Value = admin
        .post(app.url(&format!("/api/orgs/{org}/classes/{id}/password-slip")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again.as_array().unwrap().len(), 0);

    let kid = app.client();
    let me: Value = kid
        .post(app.url("/api/session"))
        .json(&json!({"login": "student1", "password": one_time}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["person"]["must_change_password"], true);
    let res =
        kid.post(app.url("/api/me/password")).json(&json!({"current": one_time, "new": "short"})).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "weak_password");
    let res = kid
        .post(app.url("/api/me/password"))
        .json(&json!({"current": one_time, "new": "my own secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let me: Value = kid.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["person"]["must_change_password"], false);
    app.finish().await;
}

#[tokio::test]
async fn the_chats_module_switch_is_stored() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let res = admin
        .put(app.url(&format!("/api/orgs/{org}/modules/chats")))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["chats_enabled"], false);
    let me: Value = admin.get(app.url("/api/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["roles"][0]["chats_enabled"], false);
    app.finish().await;
}

#[tokio::test]
async fn demo_accounts_are_served_only_in_demo_mode() {
    let app = spawn_app(false).await;
    let res = reqwest::get(app.url("/api/dev/demo-accounts")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    app.finish().await;

    let app = spawn_app(true).await;
    let accounts: Value = reqwest::get(app.url("/api/dev/demo-accounts")).await.unwrap().json().await.unwrap();
    assert_eq!(accounts[0]["login"], "director");
    for key in ["role", "name", "login", "password", "org"] {
        assert!(accounts[0][key].is_string(), "{key}");
    }
    app.finish().await;
}

#[tokio::test]
async fn the_portal_page_is_served_with_a_strict_content_policy() {
    let app = spawn_app(false).await;
    let res = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert!(res.text().await.unwrap().contains("<html"));
    app.finish().await;
}

#[tokio::test]
async fn an_administrator_sets_up_a_subject_taught_to_a_group() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let api = |path: String| app.url(&format!("/api/orgs/{org}{path}"));
    let people: Value = admin.get(api("/people?role=teacher".into())).send().await.unwrap().json().await.unwrap();
    let teacher =
        people.as_array().unwrap().iter().find(|p| p["last_name"] == "Математиков").unwrap()["id"].as_i64().unwrap();
    let students: Value =
        admin.get(api("/people?role=student&q=алёна".into())).send().await.unwrap().json().await.unwrap();
    let alena = students[0]["id"].as_i64().unwrap();
    let classes: Value = admin.get(api("/classes".into())).send().await.unwrap().json().await.unwrap();
    let c5a = classes[0]["id"].as_i64().unwrap();

    let res = admin.post(api("/subjects".into())).json(&json!({"name": "  Английский   язык "})).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let subject: Value = res.json().await.unwrap();
    assert_eq!(subject["name"], "Английский язык");

    let res = admin
        .post(api(format!("/classes/{c5a}/sections")))
        .json(&json!({"subject_id": subject["id"], "group_name": "1", "teacher_ids": [teacher]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let sections: Value = res.json().await.unwrap();
    let group = sections.as_array().unwrap().iter().find(|s| s["group_name"] == "1").unwrap();
    assert_eq!(group["teachers"][0]["last_name"], "Математиков");
    let group_id = group["id"].as_i64().unwrap();

    let res = admin.put(api(format!("/sections/{group_id}/students/{alena}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let detail: Value = admin.get(api(format!("/classes/{c5a}"))).send().await.unwrap().json().await.unwrap();
    let group = detail["sections"].as_array().unwrap().iter().find(|s| s["id"] == group_id).unwrap().clone();
    assert_eq!(group["group_students"], 1);

    // The whole class takes mathematics: nobody joins it as a group.
    let math = detail["sections"].as_array().unwrap().iter().find(|s| s["subject"] == "Математика").unwrap()["id"]
        .as_i64()
        .unwrap();
    let res = admin.put(api(format!("/sections/{math}/students/{alena}"))).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "whole_class_section".to_string()));
    // A student cannot be made a teacher of a section.
    let res = admin.put(api(format!("/sections/{math}/teachers/{alena}"))).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "not_a_teacher".to_string()));
    // A section with a refused teacher is not left half-made.
    let res = admin
        .post(api(format!("/classes/{c5a}/sections")))
        .json(&json!({"subject_id": subject["id"], "group_name": "2", "teacher_ids": [alena]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let detail: Value = admin.get(api(format!("/classes/{c5a}"))).send().await.unwrap().json().await.unwrap();
    assert!(detail["sections"].as_array().unwrap().iter().all(|s| s["group_name"] != "2"));

    let res = admin.delete(api(format!("/sections/{group_id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let detail: Value = admin.get(api(format!("/classes/{c5a}"))).send().await.unwrap().json().await.unwrap();
    assert!(detail["sections"].as_array().unwrap().iter().all(|s| s["id"] != group_id));
    app.finish().await;
}
