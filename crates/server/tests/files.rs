//! Attachments end to end: uploads, sends that carry them, downloads checked
//! against membership, the bad input the issue lists, and the collector. The
//! fixture school (see messenger.rs): teacher1 and student1 are in «5А класс»,
//! parent1 is not (she is in «5А родители»).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use blobs::testdata;
use common::chat::{Linked, linked, upload, uploaded};
use common::{TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn send_with(
    app: &TestApp,
    who: &Linked,
    chat: i64,
    id: &str,
    text: &str,
    files: &[&Value],
) -> reqwest::Response {
    let ids: Vec<Value> = files.iter().map(|f| f["id"].clone()).collect();
    who.post(
        app,
        &format!("/api/messenger/chats/{chat}/messages"),
        json!({"client_id": id, "text": text, "attachments": ids}),
    )
    .await
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

#[tokio::test]
async fn a_teacher_attaches_a_photo_and_a_pdf_a_student_gets_both_and_a_parent_outside_gets_403() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "5А класс").await;

    let photo = uploaded(&app, &teacher, chat, "IMG_2041.jpg", testdata::jpeg_with_gps(640, 480)).await;
    assert_eq!((photo["kind"].as_str(), photo["mime"].as_str()), (Some("image"), Some("image/jpeg")));
    assert_eq!((photo["width"].as_i64(), photo["height"].as_i64()), (Some(480), Some(640)), "turned upright");
    let slip = uploaded(&app, &teacher, chat, "Разрешение на экскурсию.pdf", pdf()).await;
    assert_eq!((slip["kind"].as_str(), slip["mime"].as_str()), (Some("file"), Some("application/pdf")));
    assert_eq!(slip["name"], "Разрешение на экскурсию.pdf");

    let mut ws = student.socket(&app, json!([])).await;
    ws.until("ready").await;
    let res = send_with(&app, &teacher, chat, "m1", "Фото с урока и разрешение", &[&photo, &slip]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let event = ws.until("event").await;
    let live = &event["event"]["message"]["attachments"];
    assert_eq!((live[0]["id"].clone(), live[1]["id"].clone()), (photo["id"].clone(), slip["id"].clone()));

    let page = student.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let attachments = page["messages"][0]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 2);
    assert_eq!(attachments[0]["name"], "IMG_2041.jpg");

    // The student sees the photo inline, without its GPS tags.
    let res = student.get(&app, &format!("/api/messenger/files/{}", photo["id"])).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "image/jpeg");
    assert!(header(&res, "content-disposition").starts_with("inline;"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    let etag = header(&res, "etag").to_string();
    let bytes = res.bytes().await.unwrap();
    assert!(!bytes.windows(3).any(|w| w == b"GPS"), "no GPS in what the student downloads");
    assert_eq!(blobs::media::orientation(&bytes), Some(6), "the orientation is kept");
    let res = student.get(&app, &format!("/api/messenger/files/{}/thumbnail", photo["id"])).await;
    assert_eq!((res.status(), header(&res, "content-type")), (StatusCode::OK, "image/jpeg"));
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/messenger/files/{}", photo["id"])))
        .header("cookie", &student.cookie)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    // The PDF downloads, never renders here.
    let res = student.get(&app, &format!("/api/messenger/files/{}", slip["id"])).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "application/octet-stream");
    assert!(header(&res, "content-disposition").starts_with("attachment;"), "{}", header(&res, "content-disposition"));
    assert!(header(&res, "content-disposition").contains("filename*=UTF-8''%D0%A0"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf());

    // The chat's "Files".
    let listed = student.json(&app, &format!("/api/messenger/chats/{chat}/files")).await;
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["IMG_2041.jpg", "Разрешение на экскурсию.pdf"]);
    assert_eq!(listed[0]["author"]["name"], "Учителева Ольга");

    // A parent outside the chat: 403 for the file URLs, 404 for the list.
    for path in
        [format!("/api/messenger/files/{}", slip["id"]), format!("/api/messenger/files/{}/thumbnail", photo["id"])]
    {
        assert_eq!(error_code(parent.get(&app, &path).await).await, (StatusCode::FORBIDDEN, "file_forbidden".into()));
    }
    let res = parent.get(&app, &format!("/api/messenger/chats/{chat}/files")).await;
    assert_eq!(error_code(res).await.1, "not_found");
    let res = upload(&app, &parent, chat, "x.txt", b"hello".to_vec()).await;
    assert_eq!(error_code(res).await.1, "not_found", "nor may she upload there");
    let res =
        reqwest::Client::new().get(app.url(&format!("/api/messenger/files/{}", slip["id"]))).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "unauthenticated");
    let res = student.get(&app, "/api/messenger/files/999999").await;
    assert_eq!(error_code(res).await.1, "not_found");
    app.finish().await;
}

#[tokio::test]
async fn hostile_and_broken_uploads_get_clear_errors_or_are_stored_as_inert_files() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = teacher.chat_named(&app, "5А класс").await;

    let res = upload(&app, &teacher, chat, "empty.txt", Vec::new()).await;
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "file_empty".into()));

    let res = upload(&app, &teacher, chat, "bomb.png", testdata::png_bomb(10_000, 10_000)).await;
    assert_eq!(error_code(res).await, (StatusCode::UNPROCESSABLE_ENTITY, "image_too_large".into()));

    // A camera's TIFF: its GPS tags cannot be removed, so it is refused.
    let tiff = b"MM\0\x2a\0\0\0\x08\0\0\0\0".to_vec();
    let res = upload(&app, &teacher, chat, "IMG_0001.TIF", tiff).await;
    assert_eq!(error_code(res).await, (StatusCode::UNSUPPORTED_MEDIA_TYPE, "photo_format_unsupported".into()));
    // So is a video in a container Parta cannot clean, and one too damaged to clean.
    let avi = b"RIFF\x24\0\0\0AVI LIST\x04\0\0\0hdrl".to_vec();
    let res = upload(&app, &teacher, chat, "dashcam.avi", avi).await;
    assert_eq!(error_code(res).await, (StatusCode::UNSUPPORTED_MEDIA_TYPE, "video_format_unsupported".into()));
    let video = testdata::mp4_with_location(false);
    let res = upload(&app, &teacher, chat, "cut.mp4", video[..video.len() - 100].to_vec()).await;
    assert_eq!(error_code(res).await, (StatusCode::UNPROCESSABLE_ENTITY, "video_malformed".into()));
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free".to_vec();
    let res = upload(&app, &teacher, chat, "IMG_0001.HEIC", heic).await;
    assert_eq!(
        error_code(res).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "image_malformed".into()),
        "a HEIC without an image"
    );

    let cut = testdata::jpeg_with_gps(32, 32)[..60].to_vec();
    let res = upload(&app, &teacher, chat, "cut.jpg", cut).await;
    assert_eq!(error_code(res).await.1, "image_malformed");

    // A "PNG" that is HTML: sniffed as HTML, stored as a file, never rendered.
    let html = b"<!DOCTYPE html><html><body><script>fetch('/api/messenger/me')</script></body></html>".to_vec();
    let page = uploaded(&app, &teacher, chat, "cat.png", html).await;
    assert_eq!((page["kind"].as_str(), page["mime"].as_str()), (Some("file"), Some("text/html")));
    let res = teacher.get(&app, &format!("/api/messenger/files/{}", page["id"])).await;
    assert_eq!(header(&res, "content-type"), "application/octet-stream");
    assert!(header(&res, "content-disposition").starts_with("attachment;"));
    assert!(header(&res, "content-security-policy").contains("sandbox"));

    // A ZIP bomb named .jpg: a ZIP, stored as it is (never unpacked).
    let zip = uploaded(&app, &teacher, chat, "holiday.jpg", testdata::zip_bomb()).await;
    assert_eq!((zip["kind"].as_str(), zip["mime"].as_str()), (Some("file"), Some("application/zip")));
    let res = teacher.get(&app, &format!("/api/messenger/files/{}", zip["id"])).await;
    assert!(header(&res, "content-disposition").starts_with("attachment;"));

    // Paths and control characters leave the name.
    let named = uploaded(&app, &teacher, chat, "../../etc/pass\u{1}wd\r\n", b"root:x:0:0".to_vec()).await;
    assert_eq!(named["name"], "passwd");
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/messenger/chats/{chat}/files?name=..%2F..%2F")))
        .header("cookie", &teacher.cookie)
        .body(b"x".to_vec())
        .send()
        .await
        .unwrap();
    let nameless: Value = res.json().await.unwrap();
    assert_eq!(nameless["name"], "file.bin");
    assert_eq!(nameless["mime"], "text/plain");

    // Over the limit: refused from the declared length, and while streaming.
    app.state.files.set_default_limit(64 * 1024);
    let res = upload(&app, &teacher, chat, "big.bin", vec![7u8; 65 * 1024]).await;
    assert_eq!(error_code(res).await, (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large".into()));
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/messenger/chats/{chat}/files HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        teacher.cookie
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    // No length announced: the limit is found while streaming. The server
    // may stop reading as soon as it answers.
    for _ in 0..40 {
        let mut chunk = b"1000\r\n".to_vec();
        chunk.extend_from_slice(&[1u8; 4096]);
        chunk.extend_from_slice(b"\r\n");
        if raw.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = raw.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), raw.read(&mut answer)).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&answer[..n])
    );
    // A school's own limit wins over the server's.
    app.state.files.set_default_limit(100 * 1024 * 1024);
    app.db.store.set_upload_limit(teacher.org, Some(100)).await.unwrap();
    let res = upload(&app, &teacher, chat, "small.bin", vec![7u8; 101]).await;
    assert_eq!(error_code(res).await.1, "file_too_large");
    app.db.store.set_upload_limit(teacher.org, None).await.unwrap();

    // An upload that stops half-way leaves nothing visible or stored.
    let before = teacher.json(&app, &format!("/api/messenger/chats/{chat}/files")).await;
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/messenger/chats/{chat}/files HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nX-File-Name: half.bin\r\n\
         Content-Length: 100000\r\n\r\n",
        teacher.cookie
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    raw.write_all(&[3u8; 20_000]).await.unwrap();
    drop(raw);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = teacher.json(&app, &format!("/api/messenger/chats/{chat}/files")).await;
    assert_eq!(before, after);

    // Nothing of the refused uploads reached the store: once the pending
    // uploads expire, collecting removes exactly the ones that succeeded
    // (the HTML, the ZIP, passwd, the nameless one).
    let later = app.state.now() + 2 * 86_400;
    let collected = app.state.files.collect(&app.db.store, later, 86_400, 0).await.unwrap();
    assert_eq!(collected, 4);
    app.finish().await;
}

#[tokio::test]
async fn a_phone_video_and_an_iphone_photo_reach_the_class_without_their_location() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let mov = testdata::fixture("iphone.mov");
    let heic = testdata::fixture("iphone.heic");
    let places = |bytes: &[u8]| -> Vec<&str> {
        ["iPhone 15 Pro", "Pixel 7", "+55.7558", "Exif", "GPSLatitude"]
            .into_iter()
            .filter(|s| bytes.windows(s.len()).any(|w| w == s.as_bytes()))
            .collect()
    };
    assert!(places(&mov).len() >= 2 && places(&heic).len() >= 2, "the fixtures carry a place and a device");

    let video = uploaded(&app, &teacher, chat, "IMG_0042.MOV", mov.clone()).await;
    assert_eq!((video["kind"].as_str(), video["mime"].as_str()), (Some("file"), Some("video/quicktime")));
    assert_eq!(video["size"].as_u64(), Some(mov.len() as u64), "blanked in place: the same length");
    let photo = uploaded(&app, &teacher, chat, "IMG_0043.HEIC", heic).await;
    assert_eq!((photo["kind"].as_str(), photo["mime"].as_str()), (Some("file"), Some("image/heic")));
    let res = send_with(&app, &teacher, chat, "trip", "Экскурсия", &[&video, &photo]).await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = student.get(&app, &format!("/api/messenger/files/{}", video["id"])).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "video/quicktime");
    assert!(header(&res, "content-disposition").starts_with("inline;"), "a player may show it");
    assert_eq!(header(&res, "accept-ranges"), "bytes");
    let stored = res.bytes().await.unwrap();
    assert_eq!(places(&stored), Vec::<&str>::new(), "no location or device in what the student gets");
    let res = student.get(&app, &format!("/api/messenger/files/{}", photo["id"])).await;
    assert_eq!(header(&res, "content-type"), "image/heic");
    assert_eq!(places(&res.bytes().await.unwrap()), Vec::<&str>::new());

    // A player reads the movie header at the end by range.
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/messenger/files/{}", video["id"])))
        .header("cookie", &student.cookie)
        .header("range", "bytes=-100")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let total = stored.len();
    assert_eq!(header(&res, "content-range"), format!("bytes {}-{}/{total}", total - 100, total - 1));
    assert_eq!(res.bytes().await.unwrap(), stored[total - 100..]);
    let res = reqwest::Client::new()
        .get(app.url(&format!("/api/messenger/files/{}", video["id"])))
        .header("cookie", &student.cookie)
        .header("range", format!("bytes={total}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&res, "content-range"), format!("bytes */{total}"));
    app.finish().await;
}

#[tokio::test]
async fn a_non_member_is_refused_before_the_body_is_read() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Announces a gigabyte and sends none of it: the answer comes anyway.
    let head = format!(
        "POST /api/messenger/chats/{chat}/files HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Length: 1000000000\r\n\r\n",
        parent.cookie
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 64];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), raw.read(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 404"));
    // And a member announcing more than the limit is refused just as fast.
    let mut raw = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/messenger/chats/{chat}/files HTTP/1.1\r\nHost: {addr}\r\nCookie: {}\r\nContent-Length: 1000000000\r\n\r\n",
        teacher.cookie
    );
    raw.write_all(head.as_bytes()).await.unwrap();
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), raw.read(&mut answer)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&answer[..n]).starts_with("HTTP/1.1 413"));
    app.finish().await;
}

#[tokio::test]
async fn a_send_takes_only_the_senders_own_pending_uploads_in_that_chat() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let class = teacher.chat_named(&app, "5А класс").await;
    let staff = teacher.chat_named(&app, "Учительская").await;

    let theirs = uploaded(&app, &student, class, "моё.txt", "черновик".as_bytes().to_vec()).await;
    // Pending: the teacher can neither attach nor download the student's upload.
    let res = send_with(&app, &teacher, class, "a", "чужой файл", &[&theirs]).await;
    assert_eq!(error_code(res).await.1, "attachment_unavailable");
    let res = teacher.get(&app, &format!("/api/messenger/files/{}", theirs["id"])).await;
    assert_eq!(error_code(res).await.1, "not_found");
    assert_eq!(student.get(&app, &format!("/api/messenger/files/{}", theirs["id"])).await.status(), StatusCode::OK);

    let mine = uploaded(&app, &teacher, class, "план.txt", "план урока".as_bytes().to_vec()).await;
    let res = send_with(&app, &teacher, staff, "b", "не тот чат", &[&mine]).await;
    assert_eq!(error_code(res).await.1, "attachment_unavailable");
    let res = send_with(&app, &teacher, class, "c", "дважды", &[&mine, &mine]).await;
    assert_eq!(error_code(res).await.1, "invalid_input");
    let eleven: Vec<&Value> = std::iter::repeat_n(&mine, 11).collect();
    let res = send_with(&app, &teacher, class, "d", "много", &eleven).await;
    assert_eq!(error_code(res).await.1, "too_many_attachments");
    // Without a caption is fine when there is a file; without both is not.
    let res = send_with(&app, &teacher, class, "e", "  ", &[&mine]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send_with(&app, &teacher, class, "f", "", &[]).await;
    assert_eq!(error_code(res).await.1, "message_empty");
    // Sent once, it is no longer pending.
    let res = send_with(&app, &teacher, class, "g", "ещё раз", &[&mine]).await;
    assert_eq!(error_code(res).await.1, "attachment_unavailable");

    // Over the socket too.
    let photo = uploaded(&app, &teacher, class, "доска.jpg", testdata::jpeg_with_gps(64, 64)).await;
    let mut ws = teacher.socket(&app, json!([])).await;
    ws.until("ready").await;
    ws.send(json!({"type": "send", "chat": class, "client_id": "w", "text": "", "attachments": [photo["id"]]})).await;
    assert_eq!(ws.until("ack").await["duplicate"], false);
    let page = student.json(&app, &format!("/api/messenger/chats/{class}/messages")).await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["text"].as_str(), last["attachments"][0]["name"].as_str()), (Some(""), Some("доска.jpg")));
    app.finish().await;
}

#[tokio::test]
async fn deleting_a_message_takes_its_files_and_the_collector_removes_blobs_nothing_references() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = teacher.chat_named(&app, "5А класс").await;
    let bytes = testdata::jpeg_with_gps(100, 80);
    let first = uploaded(&app, &teacher, chat, "a.jpg", bytes.clone()).await;
    let second = uploaded(&app, &teacher, chat, "b.jpg", bytes).await;
    let m1: Value = send_with(&app, &teacher, chat, "1", "раз", &[&first]).await.json().await.unwrap();
    let m2: Value = send_with(&app, &teacher, chat, "2", "два", &[&second]).await.json().await.unwrap();
    let res = student.get(&app, &format!("/api/messenger/files/{}", first["id"])).await;
    let sha = header(&res, "etag").trim_matches('"').to_string();
    let res = student.get(&app, &format!("/api/messenger/files/{}", second["id"])).await;
    assert_eq!(header(&res, "etag").trim_matches('"'), sha, "the same bytes are one blob");
    let blobs = &app.state.files.blobs;
    let now = app.state.now();

    let res = teacher
        .request(&app, Method::DELETE, &format!("/api/messenger/chats/{chat}/messages/{}", m1["message_id"]), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = student.get(&app, &format!("/api/messenger/files/{}", first["id"])).await;
    assert_eq!(error_code(res).await.1, "not_found", "a deleted message's file goes with it");
    assert_eq!(app.state.files.collect(&app.db.store, now, 0, 0).await.unwrap(), 0, "still referenced");
    assert!(blobs.exists(&sha).await.unwrap());

    let res = teacher
        .request(&app, Method::DELETE, &format!("/api/messenger/chats/{chat}/messages/{}", m2["message_id"]), None)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // Within the grace period the blob stays (an upload of it may be in flight).
    assert_eq!(app.state.files.collect(&app.db.store, now, 0, 3600).await.unwrap(), 0);
    assert_eq!(app.state.files.collect(&app.db.store, now + 1, 0, 0).await.unwrap(), 2, "the photo and its thumbnail");
    assert!(!blobs.exists(&sha).await.unwrap());
    let listed = student.json(&app, &format!("/api/messenger/chats/{chat}/files")).await;
    assert_eq!(listed, json!([]));

    // A pending upload nobody sent expires.
    uploaded(&app, &teacher, chat, "забытый.txt", b"forgotten".to_vec()).await;
    let now = app.state.now();
    assert_eq!(app.state.files.collect(&app.db.store, now, 86_400, 0).await.unwrap(), 0);
    assert_eq!(app.state.files.collect(&app.db.store, now + 86_401, 86_400, 0).await.unwrap(), 1);
    app.finish().await;
}
