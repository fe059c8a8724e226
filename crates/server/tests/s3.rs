//! Files on an S3-compatible server (moto, started by each test on loopback;
//! see `testkit::s3`) shared by two nodes on one database, each with its own
//! S3 client and staging folder: what one node stored the other serves, to
//! members only, and what the collector deletes leaves the bucket. The
//! fixture school: teacher1 and student1 are in «5А класс», parent1 is not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use blobs::testdata;
use common::chat::{Linked, linked, on_node, uploaded};
use common::{Node, NodeOptions, Options, TestApp, error_code, spawn_node, spawn_with};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::s3::S3Server;

/// The fixture school on node A, and node B, both keeping files in one bucket.
async fn two_nodes_on_s3(test: &str) -> Option<(S3Server, TestApp, Node)> {
    let s3 = S3Server::start(test).await?;
    let app = spawn_with(Options { files: Some(s3.config()), ..Options::default() }).await;
    let node = spawn_node(&app, NodeOptions::default()).await;
    Some((s3, app, node))
}

async fn send_with(app: &TestApp, who: &Linked, chat: i64, id: &str, files: &[&Value]) -> Value {
    let ids: Vec<Value> = files.iter().map(|f| f["id"].clone()).collect();
    let path = format!("/api/messenger/chats/{chat}/messages");
    let res = who.post(app, &path, json!({"client_id": id, "text": "", "attachments": ids})).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

async fn download(node: &Node, who: &Linked, path: &str) -> Vec<u8> {
    let res = on_node(node, who, Method::GET, path, None).await;
    assert_eq!(res.status(), StatusCode::OK, "GET {path} on node B");
    res.bytes().await.unwrap().to_vec()
}

/// A PDF of 6 MiB: more than one part of a multipart upload.
fn report() -> Vec<u8> {
    b"%PDF-1.4\n".iter().copied().chain((0..6u32 << 20).map(|i| (i % 251) as u8)).collect()
}

#[tokio::test]
async fn a_file_uploaded_through_node_a_is_downloaded_through_node_b_by_members_only() {
    let Some((_s3, app, node)) = two_nodes_on_s3("s3 across nodes").await else { return };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let photo = uploaded(&app, &teacher, chat, "IMG_2041.jpg", testdata::jpeg_with_gps(640, 480)).await;
    let pdf = uploaded(&app, &teacher, chat, "Отчёт.pdf", report()).await;
    send_with(&app, &teacher, chat, "m1", &[&photo, &pdf]).await;

    let file = format!("/api/messenger/files/{}", pdf["id"]);
    let image = format!("/api/messenger/files/{}", photo["id"]);
    let thumbnail = format!("/api/messenger/files/{}/thumbnail", photo["id"]);
    assert!(download(&node, &student, &file).await == report(), "the whole PDF, byte for byte");
    let cleaned = teacher.get(&app, &image).await.bytes().await.unwrap();
    assert_eq!(download(&node, &student, &image).await, cleaned, "the photo node A stored");
    assert_eq!(blobs::media::sniff(&download(&node, &student, &thumbnail).await).mime, "image/jpeg");
    let res = reqwest::Client::new()
        .get(format!("{}{file}", node.base))
        .header("cookie", &student.cookie)
        .header("range", "bytes=0-8")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&res.bytes().await.unwrap()[..], b"%PDF-1.4\n");

    for path in [&file, &image, &thumbnail] {
        let res = on_node(&node, &parent, Method::GET, path, None).await;
        assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "file_forbidden".into()), "parent1 is no member");
    }

    // Taken out of the chat on node A, the student gets nothing more on node B.
    let director = app.signed_in("director").await;
    let member = format!("/api/orgs/{}/chats/{chat}/members/{}", student.org, student.person);
    assert!(director.delete(app.url(&member)).send().await.unwrap().status().is_success());
    let res = on_node(&node, &student, Method::GET, &file, None).await;
    assert_eq!(error_code(res).await, (StatusCode::FORBIDDEN, "file_forbidden".into()), "checked on every download");
    app.finish().await;
}

#[tokio::test]
async fn a_deleted_messages_file_leaves_the_bucket_once_collected() {
    let Some((s3, app, node)) = two_nodes_on_s3("s3 deletes").await else { return };
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let photo = uploaded(&app, &teacher, chat, "доска.jpg", testdata::jpeg_with_gps(100, 80)).await;
    let message = send_with(&app, &teacher, chat, "m1", &[&photo]).await;
    let path = format!("/api/messenger/files/{}", photo["id"]);
    let res = on_node(&node, &student, Method::GET, &path, None).await;
    let sha = res.headers()["etag"].to_str().unwrap().trim_matches('"').to_string();
    // A client sharing nothing with either node but the bucket.
    let dir = tempfile::tempdir().unwrap();
    let bucket = blobs::Blobs::open(&s3.config(), dir.path()).unwrap();
    assert!(bucket.exists(&sha).await.unwrap());

    let delete = format!("/api/messenger/chats/{chat}/messages/{}", message["message_id"]);
    assert_eq!(on_node(&node, &teacher, Method::DELETE, &delete, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(error_code(student.get(&app, &path).await).await.1, "not_found", "gone on node A too");
    let now = app.state.now();
    let collected = node.state.files.collect(&node.state.store, now + 1, 0, 0).await.unwrap();
    assert_eq!(collected, 2, "the photo and its thumbnail");
    assert!(!bucket.exists(&sha).await.unwrap(), "the object is gone from the bucket");
    app.finish().await;
}
