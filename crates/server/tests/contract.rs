//! The OpenAPI document is the contract: bounds are enforced as documented
//! (refused, naming the field, never clamped), an over-large body gets a JSON
//! 413, and the document says what the server takes. schemathesis checks the
//! whole surface (`tests/contract`); these pin the findings it started from.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::linked;
use common::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The status, code and blamed field of an error response.
async fn refusal(res: reqwest::Response) -> (StatusCode, String, Option<String>) {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].is_string() && body["message_en"].is_string(), "{body}");
    (status, body["code"].as_str().unwrap().to_string(), body["field"].as_str().map(str::to_string))
}

fn invalid(field: &str) -> (StatusCode, String, Option<String>) {
    (StatusCode::BAD_REQUEST, "invalid_input".into(), Some(field.into()))
}

#[tokio::test]
async fn out_of_range_numbers_are_refused_naming_the_field_not_clamped() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let get = |path: String| admin.get(app.url(&path)).send();
    for (query, field) in
        [("limit=501", "limit"), ("limit=0", "limit"), ("offset=-1", "offset"), ("limit=ten", "limit")]
    {
        let res = get(format!("/api/orgs/{org}/people?{query}")).await.unwrap();
        assert_eq!(refusal(res).await, invalid(field), "people?{query}");
    }
    assert_eq!(get(format!("/api/orgs/{org}/people?limit=500")).await.unwrap().status(), StatusCode::OK);
    let res = get(format!("/api/orgs/{org}/chats/candidates?limit=501")).await.unwrap();
    assert_eq!(refusal(res).await, invalid("limit"));
    let res = get(format!("/api/orgs/{org}/chat-audit?limit=1000")).await.unwrap();
    assert_eq!(refusal(res).await, invalid("limit"));
    let long = "а".repeat(101);
    let res = get(format!("/api/orgs/{org}/people?q={long}")).await.unwrap();
    assert_eq!(refusal(res).await, invalid("q"), "a search is refused, not cut, past its length");
    let res = get(format!("/api/orgs/{org}/chats?kind=secret")).await.unwrap();
    assert_eq!(refusal(res).await, invalid("kind"));
    // The CSV has the whole log: no page size to refuse.
    assert_eq!(get(format!("/api/orgs/{org}/chat-audit.csv?lang=en")).await.unwrap().status(), StatusCode::OK);

    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let res = teacher.get(&app, &format!("/api/messenger/chats/{chat}/messages?limit=101")).await;
    assert_eq!(refusal(res).await, invalid("limit"));
    let res = teacher.get(&app, "/api/messenger/search?q=урок&limit=0").await;
    assert_eq!(refusal(res).await, invalid("limit"));
    let res = teacher.get(&app, "/api/messenger/search?chat=1").await;
    assert_eq!(refusal(res).await, invalid("q"), "a search without words");
    app.finish().await;
}

#[tokio::test]
async fn a_malformed_body_names_the_field_to_blame() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let res = app.post(&admin, &format!("/api/orgs/{org}/chats"), json!({ "name": 5 })).await;
    assert_eq!(refusal(res).await, invalid("name"), "a wrong type");
    let res = app.post(&admin, &format!("/api/orgs/{org}/chats"), json!({ "members": [1] })).await;
    assert_eq!(refusal(res).await, invalid("name"), "a missing field");
    let res =
        app.post(&admin, &format!("/api/orgs/{org}/chats"), json!({ "name": "Кружок", "members": [1, "x"] })).await;
    assert_eq!(refusal(res).await, invalid("members[1]"), "inside a list");
    let res = admin.get(app.url("/api/orgs/first/classes")).send().await.unwrap();
    assert_eq!(refusal(res).await, invalid("org"), "a path parameter");
    app.finish().await;
}

#[tokio::test]
async fn a_body_over_two_megabytes_gets_a_json_413() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let org = app.org_of(&admin).await;
    let huge = json!({ "name": "Кружок", "description": "я".repeat(1_500_000) });
    let res = app.post(&admin, &format!("/api/orgs/{org}/chats"), huge).await;
    let (status, code, _) = refusal(res).await;
    assert_eq!((status, code.as_str()), (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"));
    app.finish().await;
}

#[tokio::test]
async fn the_document_says_what_the_server_takes() {
    let app = spawn_app(false).await;
    let doc: Value = reqwest::get(app.url("/api/openapi.json")).await.unwrap().json().await.unwrap();
    let parameter = |path: &str, method: &str, name: &str| {
        doc["paths"][path][method]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone()
    };
    let limit = parameter("/api/orgs/{org}/people", "get", "limit");
    assert_eq!((limit["in"].as_str(), limit["required"].as_bool()), (Some("query"), Some(false)));
    assert_eq!((limit["schema"]["minimum"].as_i64(), limit["schema"]["maximum"].as_i64()), (Some(1), Some(500)));
    let q = parameter("/api/messenger/search", "get", "q");
    assert_eq!((q["in"].as_str(), q["required"].as_bool()), (Some("query"), Some(true)), "search needs words");
    let role = parameter("/api/orgs/{org}/people", "get", "role");
    assert_eq!(role["schema"]["enum"], json!(["administrator", "teacher", "other_staff", "student", "guardian"]));
    let edit = &doc["components"]["schemas"]["EditForm"]["properties"]["text"];
    assert_eq!((edit["minLength"].as_i64(), edit["maxLength"].as_i64()), (Some(1), Some(10_000)), "{edit}");
    let responses = &doc["paths"]["/api/messenger/chats/{chat}/messages/{message}"]["patch"]["responses"];
    for status in ["204", "400", "401", "403", "404", "409", "413"] {
        assert!(responses[status].is_object(), "an edit documents {status}: {responses}");
    }
    assert_eq!(doc["components"]["securitySchemes"]["messenger_session"]["name"], "parta_messenger");
    app.finish().await;
}

/// Routes and their documentation come from one declaration (`documented_api`);
/// this checks the result from outside: every method the document names for a
/// path is served there (never a 405).
#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app(false).await;
    let admin = app.signed_in("director").await;
    let document: Value = admin.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut operations = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path.split('/').map(|s| if s.starts_with('{') { "1" } else { s }).collect::<Vec<_>>().join("/");
        for method in ["get", "put", "post", "delete", "patch"].into_iter().filter(|m| item.get(m).is_some()) {
            operations += 1;
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = admin.request(method.clone(), app.url(&concrete)).send().await.unwrap().status();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is documented but not served");
        }
    }
    assert!(operations > 80, "the document lists the API ({operations} operations)");
    app.finish().await;
}
