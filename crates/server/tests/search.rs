//! Full-text search end to end, on SQLite (FTS5, stems from the `search`
//! crate) or PostgreSQL (`russian`) with `PARTA_TEST_POSTGRES`. The fixture
//! school: teacher1 and student1 share «5А класс»; only staff are in
//! «Учительская»; parent1 is in neither.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::{TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn enc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn search(app: &TestApp, who: &Linked, q: &str, extra: &str) -> Vec<Value> {
    let res = who.get(app, &format!("/api/messenger/search?q={}{extra}", enc(q))).await;
    assert_eq!(res.status(), StatusCode::OK, "search {q}");
    res.json::<Vec<Value>>().await.unwrap()
}

async fn texts(app: &TestApp, who: &Linked, q: &str, extra: &str) -> Vec<String> {
    search(app, who, q, extra).await.iter().map(|h| h["snippet"].as_str().unwrap().to_string()).collect()
}

async fn post(app: &TestApp, who: &Linked, chat: i64, id: &str, text: &str) -> i64 {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

#[tokio::test]
async fn another_word_form_finds_a_message_in_the_viewers_chats_and_never_in_others() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let parent = linked(&app, "parent1", "+79120000003").await;
    let class = teacher.chat_named(&app, "5А класс").await;
    let staff = teacher.chat_named(&app, "Учительская").await;
    let id = post(&app, &teacher, class, "a", "После урока — экскурсия в музей, возьмите сменку").await;
    post(&app, &teacher, class, "b", "Ёлка в пятницу, приходите все").await;
    post(&app, &teacher, staff, "c", "Уроки в субботу отменены: совещание").await;

    let hits = search(&app, &student, "уроки", "").await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    assert_eq!((hit["chat"].as_i64(), hit["message_id"].as_i64()), (Some(class), Some(id)));
    assert_eq!(hit["chat_name"], "5А класс");
    assert_eq!(hit["author"]["name"], "Учителева Ольга");
    assert!(hit["seq"].as_i64().is_some() && hit["at"].as_i64().is_some());
    assert_eq!(hit["snippet_html"], "После <mark>урока</mark> — экскурсия в музей, возьмите сменку");
    assert_eq!(texts(&app, &teacher, "урок", "").await.len(), 2, "the teacher is in both chats");
    assert!(search(&app, &parent, "урок", "").await.is_empty(), "a parent outside both finds nothing");

    // «ё» is «е», both ways, and case does not matter.
    assert_eq!(texts(&app, &student, "ЕЛКА", "").await.len(), 1);
    assert_eq!(texts(&app, &student, "ёлки", "").await.len(), 1);
    assert_eq!(texts(&app, &student, "экскурсии сменки", "").await.len(), 1, "every word, each in any form");
    assert!(texts(&app, &student, "экскурсия совещание", "").await.is_empty());
    // A chat the viewer is not in, named explicitly: not found, not empty.
    let res = student.get(&app, &format!("/api/messenger/search?q=x&chat={staff}")).await;
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    app.finish().await;
}

#[tokio::test]
async fn filters_narrow_by_chat_sender_dates_and_attachments() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let class = teacher.chat_named(&app, "5А класс").await;
    let staff = teacher.chat_named(&app, "Учительская").await;
    post(&app, &teacher, class, "t1", "Домашнее задание: параграф 5").await;
    post(&app, &teacher, staff, "t2", "Домашнее задание проверено").await;
    app.advance(3 * 86_400);
    let late = app.state.now();
    post(&app, &student, class, "s1", "Я не понял домашнее задание").await;
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/messenger/chats/{class}/files")))
        .header("cookie", &teacher.cookie)
        .header("x-file-name", enc("Разрешение на экскурсию.pdf"))
        .body(b"%PDF-1.4\n%%EOF\n".to_vec())
        .send()
        .await
        .unwrap();
    let file: Value = res.json().await.unwrap();
    let res = teacher
        .post(
            &app,
            &format!("/api/messenger/chats/{class}/messages"),
            json!({"client_id": "t3", "text": "Задание на лето — в файле", "attachments": [file["id"]]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(texts(&app, &teacher, "задание", "").await.len(), 4);
    assert_eq!(texts(&app, &teacher, "задание", &format!("&chat={class}")).await.len(), 3);
    assert_eq!(
        texts(&app, &teacher, "задание", &format!("&sender={}", student.person)).await,
        ["Я не понял домашнее задание"]
    );
    assert_eq!(texts(&app, &teacher, "задание", &format!("&from={late}")).await.len(), 2);
    assert_eq!(texts(&app, &teacher, "задание", &format!("&to={late}")).await.len(), 2);
    let with = search(&app, &teacher, "задание", "&has_file=true").await;
    assert_eq!((with.len(), with[0]["has_files"].as_bool()), (1, Some(true)));
    assert_eq!(texts(&app, &teacher, "задание", "&has_file=false").await.len(), 3);
    // A file's name is searchable too.
    assert_eq!(texts(&app, &student, "разрешения", "").await, ["Задание на лето — в файле"]);
    // Newest first, and a page continues from the last id.
    let all = search(&app, &teacher, "задание", "").await;
    let ids: Vec<i64> = all.iter().map(|h| h["message_id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let next = search(&app, &teacher, "задание", &format!("&limit=2&before={}", ids[1])).await;
    let next: Vec<i64> = next.iter().map(|h| h["message_id"].as_i64().unwrap()).collect();
    assert_eq!(next, ids[2..4]);
    let today = chrono::DateTime::from_timestamp(late, 0).unwrap().format("%Y-%m-%d").to_string();
    assert_eq!(texts(&app, &teacher, "задание", &format!("&from={today}&to={today}")).await.len(), 2);
    app.finish().await;
}

#[tokio::test]
async fn edits_update_the_index_and_deleted_messages_leave_it() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let class = teacher.chat_named(&app, "5А класс").await;
    let id = post(&app, &teacher, class, "e", "Собрание в четверг").await;
    assert_eq!(texts(&app, &student, "собрания", "").await.len(), 1);
    let path = format!("/api/messenger/chats/{class}/messages/{id}");
    let res = teacher.request(&app, Method::PATCH, &path, Some(json!({"text": "Экскурсия в четверг"}))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(texts(&app, &student, "собрание", "").await.is_empty(), "the old words are gone");
    assert_eq!(texts(&app, &student, "экскурсию", "").await, ["Экскурсия в четверг"]);
    let res = teacher.request(&app, Method::DELETE, &path, None).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(texts(&app, &student, "экскурсия", "").await.is_empty());
    assert!(texts(&app, &student, "четверг", "").await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn odd_queries_get_a_clear_error_or_a_sane_result() {
    let app = spawn_app(false).await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let class = teacher.chat_named(&app, "5А класс").await;
    post(&app, &teacher, class, "h", "<script>alert('урок')</script> & \"кавычки\"").await;
    let hits = search(&app, &teacher, "урок", "").await;
    assert_eq!(
        hits[0]["snippet_html"],
        "&lt;script&gt;alert(&#39;<mark>урок</mark>&#39;)&lt;/script&gt; &amp; &quot;кавычки&quot;"
    );
    // FTS5 syntax in a query is just words.
    assert_eq!(search(&app, &teacher, "урок\" * ( ) ^ : -", "").await.len(), 1);
    assert!(search(&app, &teacher, "урок AND кавычки", "").await.len() <= 1);
    for (q, code) in
        [("?!… — ,,,", "search_no_words"), ("", "search_no_words"), (&"я".repeat(10_000)[..], "search_too_long")]
    {
        let res = teacher.get(&app, &format!("/api/messenger/search?q={}", enc(q))).await;
        assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, code.to_string()), "{}", q.len());
    }
    for bad in ["&limit=1000", "&from=вчера", "&has_file=maybe"] {
        let res = teacher.get(&app, &format!("/api/messenger/search?q=x{bad}")).await;
        assert_eq!(error_code(res).await.1, "invalid_input", "{bad}");
    }
    let res = teacher.get(&app, "/api/messenger/search").await;
    assert_eq!(error_code(res).await.1, "invalid_input", "q is required");
    let res = reqwest::Client::new().get(app.url("/api/messenger/search?q=x")).send().await.unwrap();
    assert_eq!(error_code(res).await.1, "unauthenticated");
    app.finish().await;
}
