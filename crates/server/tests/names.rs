//! Names are names: markup in «Информация о себе» and in the portal's person
//! forms is refused with a code naming the field; real names still pass.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, error_code, spawn_app};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const PHONE: &str = "+79123456780";

/// Signs a parent in to the portal and proves a phone; the portal client and
/// the single-use proof.
async fn parent_with_proof(app: &TestApp) -> (Client, i64, Value) {
    let portal = app.signed_in("parent1").await;
    let org = app.org_of(&portal).await;
    let res = app.post(&portal, "/api/identity/codes", json!({ "phone": PHONE })).await;
    assert_eq!(res.status(), StatusCode::OK);
    let code = app.last_code(PHONE);
    let proof = app.post(&portal, "/api/identity/proofs", json!({ "phone": PHONE, "code": code })).await;
    (portal, org, proof.json::<Value>().await.unwrap()["proof"].clone())
}

#[tokio::test]
async fn about_me_refuses_markup_naming_the_field_and_links_nothing() {
    let app = spawn_app(false).await;
    let (portal, org, proof) = parent_with_proof(&app).await;
    let link = format!("/api/chats/{org}/link");
    for (field, value, code) in [
        ("last_name", "<img src=x onerror=alert(1)>", "last_name_markup"),
        ("first_name", "{{constructor.constructor('alert(1)')()}}", "first_name_markup"),
        ("middle_name", "Петровна\" autofocus onfocus=\"alert(1)", "middle_name_markup"),
    ] {
        let mut about = json!({ "proof": proof, "last_name": "Королёва", "first_name": "Мария" });
        about[field] = json!(value);
        let res = app.post(&portal, &link, about).await;
        assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, code.to_string()), "{field}");
    }
    let window: Value = portal.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(window["linked"], Value::Null, "nothing was linked");
    // The same proof still links with a real name, apostrophe and hyphen included.
    let about = json!({ "proof": proof, "last_name": "Д’Артаньян-Королёва", "first_name": "Мари-Анн" });
    assert_eq!(app.post(&portal, &link, about).await.status(), StatusCode::OK);
    let window: Value = portal.get(app.url(&format!("/api/chats/{org}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(window["linked"]["last_name"], "Д’Артаньян-Королёва");
    app.finish().await;
}

#[tokio::test]
async fn the_portal_refuses_markup_in_a_persons_name_and_keeps_real_names() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let people = format!("/api/orgs/{org}/people");
    let person =
        |last: &str| json!({"last_name": last, "first_name": "Вера", "login": "vera.n", "roles": ["guardian"]});
    let res = app.post(&admin, &people, person("Новикова<script>")).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "last_name_markup".to_string()));
    let res = app.post(&admin, &people, person("O'Brien")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let edit = json!({"last_name": "O'Brien", "first_name": "Вера", "middle_name": "`whoami`"});
    let res = admin.patch(app.url(&format!("{people}/{id}"))).json(&edit).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "middle_name_markup".to_string()));
    app.finish().await;
}
