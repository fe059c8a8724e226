//! Safeguarding (issue 21), end to end: every change a chat admin makes is
//! audited wherever it is made; reports, moderation, blocks and oversight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::linked;
use common::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn audit(app: &TestApp, admin: &reqwest::Client, org: i64, query: &str) -> Vec<Value> {
    let res = admin.get(app.url(&format!("/api/orgs/{org}/chat-audit{query}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

#[tokio::test]
async fn a_chat_admins_settings_change_in_the_messenger_is_audited_like_the_portals() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let director = app.signed_in("director").await;
    let org = teacher.org;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let path = format!("/api/messenger/chats/{chat}");
    let change = json!({"announcement_only": true, "description": "Только объявления"});
    assert_eq!(teacher.request(&app, Method::PATCH, &path, Some(change.clone())).await.status(), StatusCode::OK);
    // Sending the same settings again changes nothing and writes nothing.
    assert_eq!(teacher.request(&app, Method::PATCH, &path, Some(change)).await.status(), StatusCode::OK);

    let lines = audit(&app, &director, org, &format!("?chat={chat}&action=edit")).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert_eq!(line["actor_id"], teacher.person);
    assert_eq!(line["before"], json!({"announcement_only": false, "description": ""}));
    assert_eq!(line["after"], json!({"announcement_only": true, "description": "Только объявления"}));

    // The portal's edit of the same setting writes the same kind of line.
    let detail: Value =
        director.get(app.url(&format!("/api/orgs/{org}/chats/{chat}"))).send().await.unwrap().json().await.unwrap();
    let body = json!({"version": detail["version"], "announcement_only": false});
    let res = director.patch(app.url(&format!("/api/orgs/{org}/chats/{chat}"))).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the messenger's change moved the version the portal sees");
    let lines = audit(&app, &director, org, &format!("?chat={chat}&action=edit")).await;
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (&lines[0]["before"], &lines[0]["after"]),
        (&json!({"announcement_only": true}), &json!({"announcement_only": false}))
    );
    app.finish().await;
}
