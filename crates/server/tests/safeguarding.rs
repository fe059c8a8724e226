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

fn enc(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn sent(who: &common::chat::Linked, app: &TestApp, chat: i64, id: &str, text: &str) -> i64 {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

async fn file_report(
    who: &common::chat::Linked,
    app: &TestApp,
    chat: i64,
    message: i64,
    reason: &str,
) -> reqwest::Response {
    let body = json!({"reason": reason, "comment": "Обзывается"});
    who.post(app, &format!("/api/messenger/chats/{chat}/messages/{message}/reports"), body).await
}

async fn reported(who: &common::chat::Linked, app: &TestApp, chat: i64, message: i64) -> i64 {
    let res = file_report(who, app, chat, message, "bullying").await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn portal_json(app: &TestApp, client: &reqwest::Client, path: &str) -> Value {
    let res = client.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.unwrap()
}

async fn decide(app: &TestApp, client: &reqwest::Client, org: i64, report: i64, body: Value) -> reqwest::Response {
    client.post(app.url(&format!("/api/orgs/{org}/reports/{report}/decision"))).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_moderators_hide_takes_the_words_from_history_search_and_replay_but_the_report_keeps_them() {
    let app = spawn_app(false).await;
    let _teacher = linked(&app, "teacher1", "+79120000001").await;
    let victim = linked(&app, "student1", "+79120000002").await;
    let bully = linked(&app, "student2", "+79120000003").await;
    let director = app.signed_in("director").await;
    let org = victim.org;
    let chat = victim.chat_named(&app, "5А класс").await;
    sent(&victim, &app, chat, "a", "Кто решил задачу?").await;
    let bad = sent(&bully, &app, chat, "b", "Ты неудачник и никто с тобой не дружит").await;
    sent(&victim, &app, chat, "c", "Перестань").await;
    let report = reported(&victim, &app, chat, bad).await;
    assert_eq!(reported(&victim, &app, chat, bad).await, report, "a second report of the same message is the first");

    let queue = portal_json(&app, &director, &format!("/api/orgs/{org}/reports")).await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    let texts: Vec<&str> =
        queue[0]["context"].as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Кто решил задачу?", "Ты неудачник и никто с тобой не дружит", "Перестань"]);
    assert_eq!((queue[0]["reason"].as_str(), queue[0]["comment"].as_str()), (Some("bullying"), Some("Обзывается")));

    let res =
        decide(&app, &director, org, report, json!({"hide": true, "mute_minutes": 60, "note": "Так нельзя"})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let res = decide(&app, &director, org, report, json!({})).await;
    assert_eq!(common::error_code(res).await, (StatusCode::CONFLICT, "report_closed".into()));

    // Every member's history shows the tombstone; only the author learns why.
    let page = victim.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let hidden = page["messages"].as_array().unwrap().iter().find(|m| m["id"] == bad).unwrap().clone();
    assert_eq!((hidden["text"].as_str(), hidden["deleted"].as_bool()), (Some(""), Some(true)));
    assert_eq!(hidden["hidden"], json!({}));
    let page = bully.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let own = page["messages"].as_array().unwrap().iter().find(|m| m["id"] == bad).unwrap().clone();
    assert_eq!(own["hidden"], json!({"reason": "bullying"}));
    let hits = victim.json(&app, &format!("/api/messenger/search?q={}", enc("неудачник"))).await;
    assert_eq!(hits, json!([]), "search forgets a hidden message");
    let mut replay = victim.socket(&app, json!([{"chat": chat, "seq": 0}])).await;
    let mut everything = String::new();
    while let Some(frame) = replay.next().await {
        everything.push_str(&frame.to_string());
    }
    assert!(everything.contains("Перестань") && everything.contains(r#""kind":"hidden""#), "{everything}");
    assert!(!everything.contains("неудачник"), "replay forgets a hidden message: {everything}");
    // …while the report keeps the evidence as it was.
    let detail = portal_json(&app, &director, &format!("/api/orgs/{org}/reports/{report}")).await;
    assert_eq!(detail["context"][1]["text"], "Ты неудачник и никто с тобой не дружит");
    assert_eq!((detail["status"].as_str(), detail["hid"].as_bool()), (Some("actioned"), Some(true)));

    // The author is muted in the chat for an hour.
    let res = bully.send(&app, chat, "d", "Ещё скажу").await;
    assert_eq!(common::error_code(res).await, (StatusCode::FORBIDDEN, "muted".into()));
    app.advance(3601);
    sent(&bully, &app, chat, "e", "Извини").await;

    // The reporter is told the outcome.
    let mine = victim.json(&app, "/api/messenger/reports").await;
    assert_eq!((mine[0]["status"].as_str(), mine[0]["hid"].as_bool()), (Some("actioned"), Some(true)));
    assert_eq!(mine[0]["note"], "Так нельзя");
    assert!(mine[0]["muted_until"].is_i64());

    let lines = audit(&app, &director, org, &format!("?chat={chat}")).await;
    let actions: Vec<&str> = lines.iter().map(|l| l["action"].as_str().unwrap()).rev().collect();
    assert_eq!(actions, ["report", "hide_message", "mute_member"]);
    app.finish().await;
}

#[tokio::test]
async fn reporting_what_you_cannot_see_is_not_found_and_floods_of_reports_are_refused() {
    let app = spawn_app(false).await;
    let reporter = linked(&app, "student1", "+79120000002").await;
    let author = linked(&app, "student2", "+79120000003").await;
    let outsider = linked(&app, "student3", "+79120000004").await;
    let chat = reporter.chat_named(&app, "5А класс").await;
    let mut messages = Vec::new();
    for i in 0..11 {
        messages.push(sent(&author, &app, chat, &format!("m{i}"), &format!("Сообщение {i}")).await);
    }
    let res = file_report(&outsider, &app, chat, messages[0], "spam").await;
    assert_eq!(common::error_code(res).await, (StatusCode::NOT_FOUND, "not_found".into()));
    let res = file_report(&reporter, &app, chat, 999_999, "spam").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = file_report(&reporter, &app, chat, messages[0], "boring").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/messenger/chats/{chat}/messages/{}/reports", messages[0])))
        .json(&json!({"reason": "spam"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    for m in &messages[..10] {
        reported(&reporter, &app, chat, *m).await;
    }
    let res = file_report(&reporter, &app, chat, messages[10], "spam").await;
    assert_eq!(common::error_code(res).await, (StatusCode::TOO_MANY_REQUESTS, "too_many_reports".into()));
    assert_eq!(reporter.json(&app, "/api/messenger/reports").await.as_array().unwrap().len(), 10, "nothing filed");
    app.advance(3601);
    reported(&reporter, &app, chat, messages[10]).await;
    app.finish().await;
}

#[tokio::test]
async fn named_safeguarding_staff_moderate_removing_an_author_or_dismissing() {
    let app = spawn_app(false).await;
    let reporter = linked(&app, "student1", "+79120000002").await;
    let author = linked(&app, "student2", "+79120000003").await;
    let officer = linked(&app, "teacher2", "+79120000005").await.portal;
    let director = app.signed_in("director").await;
    let org = reporter.org;
    let teacher2 = app.person_id("teacher2").await;
    let student3 = app.person_id("student3").await;
    let staff_path = format!("/api/orgs/{org}/safeguarding-staff");
    let res = officer.get(app.url(&format!("/api/orgs/{org}/reports"))).send().await.unwrap();
    assert_eq!(common::error_code(res).await, (StatusCode::FORBIDDEN, "not_moderator".into()));
    let res = director.put(app.url(&format!("{staff_path}/{student3}"))).send().await.unwrap();
    assert_eq!(common::error_code(res).await, (StatusCode::CONFLICT, "not_staff".into()));
    let res = director.put(app.url(&format!("{staff_path}/{teacher2}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let staff = portal_json(&app, &officer, &staff_path).await;
    assert_eq!(staff[0]["person_id"], teacher2);

    let chat = reporter.chat_named(&app, "5А класс").await;
    let first = sent(&author, &app, chat, "a", "Первое").await;
    let second = sent(&author, &app, chat, "b", "Второе").await;
    let dismissed = reported(&reporter, &app, chat, first).await;
    let removed = reported(&reporter, &app, chat, second).await;
    let res = decide(&app, &officer, org, dismissed, json!({"note": "Нарушений нет"})).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "dismissed");
    let res = decide(&app, &officer, org, removed, json!({"remove": true})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let chats = author.json(&app, "/api/messenger/chats").await;
    assert!(!chats.as_array().unwrap().iter().any(|c| c["id"] == chat), "the author is out of the chat");
    let decided = portal_json(&app, &director, &format!("/api/orgs/{org}/reports?decided=true")).await;
    assert_eq!(decided.as_array().unwrap().len(), 2);
    let mine = reporter.json(&app, "/api/messenger/reports").await;
    let statuses: Vec<&str> = mine.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["actioned", "dismissed"]);

    let res = director.delete(app.url(&format!("{staff_path}/{teacher2}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = officer.get(app.url(&format!("/api/orgs/{org}/reports"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "un-named, the teacher moderates no more");
    app.finish().await;
}

#[tokio::test]
async fn nobody_is_removed_from_a_direct_chat_but_its_author_can_be_muted() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let director = app.signed_in("director").await;
    let org = student.org;
    let res = teacher.post(&app, "/api/messenger/direct", json!({"org": org, "person": student.person})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let chat = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let message = sent(&teacher, &app, chat, "a", "Приходи одна после уроков").await;
    let report = reported(&student, &app, chat, message).await;
    let res = decide(&app, &director, org, report, json!({"remove": true})).await;
    assert_eq!(common::error_code(res).await, (StatusCode::CONFLICT, "remove_from_direct".into()));
    let res = decide(&app, &director, org, report, json!({"hide": true, "mute_minutes": 1440})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = teacher.send(&app, chat, "b", "Ответь").await;
    assert_eq!(common::error_code(res).await.1, "muted");
    app.finish().await;
}

/// Who asks, in the order of the matrix's columns.
const ROLES: [&str; 7] =
    ["administrator", "safeguarding staff", "teacher", "parent", "student", "other school's admin", "signed out"];

#[tokio::test]
async fn the_authorization_matrix_every_safeguarding_endpoint_as_every_role() {
    let app = spawn_app(false).await;
    let reporter = linked(&app, "student1", "+79120000002").await;
    let author = linked(&app, "student2", "+79120000003").await;
    let admin = app.signed_in("director").await;
    let org = reporter.org;
    let officer = linked(&app, "teacher2", "+79120000005").await.portal;
    let teacher = linked(&app, "teacher1", "+79120000001").await.portal;
    let parent = app.signed_in("parent1").await;
    let student = reporter.portal.clone();
    let stranger = app.signed_in("other.admin").await;
    let signed_out = app.client();
    let clients = [&admin, &officer, &teacher, &parent, &student, &stranger, &signed_out];
    let teacher2 = app.person_id("teacher2").await;
    let teacher1 = app.person_id("teacher1").await;
    let res = admin.put(app.url(&format!("/api/orgs/{org}/safeguarding-staff/{teacher2}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    let chat = reporter.chat_named(&app, "5А класс").await;
    let for_admin = reported(&reporter, &app, chat, sent(&author, &app, chat, "a", "Раз").await).await;
    let for_officer = reported(&reporter, &app, chat, sent(&author, &app, chat, "b", "Два").await).await;
    let o = format!("/api/orgs/{org}");

    use StatusCode as S;
    const OK: S = S::OK;
    const NONE: S = S::NO_CONTENT;
    const NO: S = S::FORBIDDEN;
    const OUT: S = S::UNAUTHORIZED;
    let moderators = [OK, OK, NO, NO, NO, NO, OUT];
    let admin_only = [NONE, NO, NO, NO, NO, NO, OUT];
    // (endpoint, method, path per role, body, expected per role); the
    // administrator goes last, so every refusal meets what the allowed call then changes.
    type PathFor = Box<dyn Fn(usize) -> String>;
    let same = |p: String| -> PathFor { Box::new(move |_| p.clone()) };
    let decision: PathFor = Box::new({
        let o = o.clone();
        move |i| format!("{o}/reports/{}/decision", if i == 1 { for_officer } else { for_admin })
    });
    type Row = (&'static str, Method, PathFor, Option<Value>, [S; 7]);
    let table: Vec<Row> = vec![
        ("queue", Method::GET, same(format!("{o}/reports")), None, moderators),
        ("detail", Method::GET, same(format!("{o}/reports/{for_admin}")), None, moderators),
        ("staff list", Method::GET, same(format!("{o}/safeguarding-staff")), None, moderators),
        ("decision", Method::POST, decision, Some(json!({"hide": true, "mute_minutes": 5})), moderators),
        ("name", Method::PUT, same(format!("{o}/safeguarding-staff/{teacher1}")), None, admin_only),
        ("un-name", Method::DELETE, same(format!("{o}/safeguarding-staff/{teacher1}")), None, admin_only),
    ];
    let mut failures = Vec::new();
    for (endpoint, method, path, body, expected) in &table {
        for i in (0..ROLES.len()).rev() {
            let mut req = clients[i].request(method.clone(), app.url(&path(i)));
            if let Some(body) = body {
                req = req.json(body);
            }
            let status = req.send().await.unwrap().status();
            if status != expected[i] {
                failures.push(format!("{endpoint} as {}: expected {}, got {status}", ROLES[i], expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix:\n{}", failures.join("\n"));

    // Refused attempts left no trace: only the two moderators acted, once each.
    let director = app.person_id("director").await;
    let lines = audit(&app, &admin, org, "?limit=500").await;
    let actors: Vec<(i64, &str)> = lines
        .iter()
        .filter(|l| l["action"] != "report")
        .map(|l| (l["actor_id"].as_i64().unwrap(), l["action"].as_str().unwrap()))
        .rev()
        .collect();
    assert_eq!(
        actors,
        [(teacher2, "hide_message"), (teacher2, "mute_member"), (director, "hide_message"), (director, "mute_member")]
    );
    let staff = portal_json(&app, &admin, &format!("{o}/safeguarding-staff")).await;
    let named: Vec<i64> = staff.as_array().unwrap().iter().map(|s| s["person_id"].as_i64().unwrap()).collect();
    assert_eq!(named, [teacher2]);
    app.finish().await;
}

async fn direct_between(app: &TestApp, from: &common::chat::Linked, to: &common::chat::Linked) -> i64 {
    let res = from.post(app, "/api/messenger/direct", json!({"org": from.org, "person": to.person})).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_blocked_person_cannot_write_directly_and_group_chats_are_untouched() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let direct = direct_between(&app, &teacher, &student).await;
    let class = student.chat_named(&app, "5А класс").await;
    let block = format!("/api/messenger/chats/{direct}/block");
    assert_eq!(student.json(&app, &block).await, json!({"blocked": false}));
    assert_eq!(student.request(&app, Method::PUT, &block, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(student.json(&app, &block).await, json!({"blocked": true}));
    assert_eq!(teacher.json(&app, &block).await, json!({"blocked": false}), "a block is one-way");

    let res = teacher.send(&app, direct, "a", "Почему не отвечаешь?").await;
    assert_eq!(common::error_code(res).await, (StatusCode::FORBIDDEN, "blocked".into()));
    sent(&teacher, &app, class, "b", "Завтра контрольная").await;
    sent(&student, &app, direct, "c", "Я вас заблокировала").await;
    let res = student.request(&app, Method::PUT, &format!("/api/messenger/chats/{class}/block"), None).await;
    assert_eq!(common::error_code(res).await, (StatusCode::CONFLICT, "not_direct".into()));

    assert_eq!(student.request(&app, Method::DELETE, &block, None).await.status(), StatusCode::NO_CONTENT);
    sent(&teacher, &app, direct, "d", "Спасибо").await;
    app.finish().await;
}

#[tokio::test]
async fn blocking_answers_only_the_two_people_of_the_direct_chat() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let director = linked(&app, "director", "+79120000006").await;
    let officer = linked(&app, "teacher2", "+79120000005").await;
    let parent = linked(&app, "parent1", "+79120000007").await;
    let stranger = linked(&app, "other.admin", "+79120000008").await;
    let direct = direct_between(&app, &teacher, &student).await;
    let block = format!("/api/messenger/chats/{direct}/block");
    use StatusCode as S;
    // (who, expected for GET, PUT, DELETE); each refused PUT is checked to leave no block.
    let outsiders = [
        ("administrator", &director),
        ("other teacher", &officer),
        ("parent", &parent),
        ("other school's admin", &stranger),
    ];
    for (who, client) in outsiders {
        for method in [Method::GET, Method::PUT, Method::DELETE] {
            let res = client.request(&app, method.clone(), &block, None).await;
            assert_eq!(res.status(), S::NOT_FOUND, "{method} as {who}");
        }
    }
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let res = reqwest::Client::new().request(method.clone(), app.url(&block)).send().await.unwrap();
        assert_eq!(res.status(), S::UNAUTHORIZED, "{method} signed out");
    }
    assert_eq!(student.json(&app, &block).await, json!({"blocked": false}), "refusals left no block");
    assert_eq!(teacher.json(&app, &block).await, json!({"blocked": false}));
    sent(&teacher, &app, direct, "a", "Всё в порядке").await;
    app.finish().await;
}

async fn oversee(app: &TestApp, client: &reqwest::Client, org: i64, chat: i64, reason: &str) -> reqwest::Response {
    let path = format!("/api/orgs/{org}/chats/{chat}/oversight");
    client.post(app.url(&path)).json(&json!({"reason": reason})).send().await.unwrap()
}

#[tokio::test]
async fn an_opening_needs_a_reason_is_logged_and_members_see_when_but_not_who_or_why() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let director = app.signed_in("director").await;
    let org = student.org;
    let chat = student.chat_named(&app, "5А класс").await;
    sent(&student, &app, chat, "a", "Всем привет").await;
    let notice = format!("/api/messenger/chats/{chat}/oversight");
    assert_eq!(student.json(&app, &notice).await, json!({"dates": []}));

    let res = oversee(&app, &director, org, chat, "   ").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "no opening without a reason");
    let res = oversee(&app, &director, org, chat, "Родители сообщили о травле").await;
    assert_eq!(res.status(), StatusCode::OK);
    let opened: Value = res.json().await.unwrap();
    assert_eq!(opened["messages"][0]["text"], "Всем привет");

    let seen = student.json(&app, &notice).await;
    assert_eq!(seen["dates"].as_array().unwrap().len(), 1);
    assert!(!seen.to_string().contains("травле") && !seen.to_string().contains("Директорова"), "{seen}");
    let log = portal_json(&app, &director, &format!("/api/orgs/{org}/oversight")).await;
    assert_eq!(
        (log[0]["reason"].as_str(), log[0]["chat_id"].as_i64()),
        (Some("Родители сообщили о травле"), Some(chat))
    );
    assert_eq!(log[0]["person_name"], "Директорова Анна");
    let lines = audit(&app, &director, org, &format!("?chat={chat}&action=open_chat")).await;
    assert_eq!(lines.len(), 1);

    // The notice counts the last 30 days; the director's log keeps everything.
    // (A messenger session lasts 30 days too: the class teacher, signed in
    // later, looks at the end.)
    app.advance(20 * 86_400);
    assert_eq!(student.json(&app, &notice).await["dates"].as_array().unwrap().len(), 1, "still within 30 days");
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    app.advance(10 * 86_400 + 1);
    assert_eq!(teacher.json(&app, &notice).await, json!({"dates": []}), "past 30 days the notice is gone");
    let director = app.signed_in("director").await;
    assert_eq!(portal_json(&app, &director, &format!("/api/orgs/{org}/oversight")).await.as_array().unwrap().len(), 1);
    app.finish().await;
}

#[tokio::test]
async fn adults_direct_chats_are_opened_only_after_a_report() {
    let app = spawn_app(false).await;
    let math = linked(&app, "teacher2", "+79120000005").await;
    let class_teacher = linked(&app, "teacher1", "+79120000001").await;
    let student = linked(&app, "student1", "+79120000002").await;
    let director = app.signed_in("director").await;
    let org = math.org;
    let adults = direct_between(&app, &math, &class_teacher).await;
    let with_child = direct_between(&app, &class_teacher, &student).await;
    let message = sent(&math, &app, adults, "a", "Коллега, есть минутка?").await;
    let res = oversee(&app, &director, org, adults, "Проверка").await;
    assert_eq!(common::error_code(res).await, (StatusCode::FORBIDDEN, "adults_only_direct".into()));
    assert_eq!(class_teacher.json(&app, &format!("/api/messenger/chats/{adults}/oversight")).await["dates"], json!([]));
    assert_eq!(oversee(&app, &director, org, with_child, "Жалоба родителя").await.status(), StatusCode::OK);
    reported(&class_teacher, &app, adults, message).await;
    assert_eq!(oversee(&app, &director, org, adults, "По жалобе").await.status(), StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn the_oversight_authorization_matrix_and_refusals_leave_no_trace() {
    let app = spawn_app(false).await;
    let member = linked(&app, "student1", "+79120000002").await;
    let outsider = linked(&app, "student3", "+79120000004").await;
    let admin = app.signed_in("director").await;
    let org = member.org;
    let officer = linked(&app, "teacher2", "+79120000005").await.portal;
    let teacher = linked(&app, "teacher1", "+79120000001").await.portal;
    let parent = app.signed_in("parent1").await;
    let student = member.portal.clone();
    let stranger = app.signed_in("other.admin").await;
    let signed_out = app.client();
    let clients = [&admin, &officer, &teacher, &parent, &student, &stranger, &signed_out];
    let teacher2 = app.person_id("teacher2").await;
    let res = admin.put(app.url(&format!("/api/orgs/{org}/safeguarding-staff/{teacher2}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let chat = member.chat_named(&app, "5А класс").await;
    use StatusCode as S;
    let expected = [S::OK, S::OK, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN, S::FORBIDDEN, S::UNAUTHORIZED];
    let mut failures = Vec::new();
    for i in (0..ROLES.len()).rev() {
        let opened = oversee(&app, clients[i], org, chat, "Проверка").await.status();
        let log = clients[i].get(app.url(&format!("/api/orgs/{org}/oversight"))).send().await.unwrap().status();
        for (what, got) in [("open", opened), ("log", log)] {
            if got != expected[i] {
                failures.push(format!("{what} as {}: expected {}, got {got}", ROLES[i], expected[i]));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix:\n{}", failures.join("\n"));
    let notice = format!("/api/messenger/chats/{chat}/oversight");
    assert_eq!(outsider.get(&app, &notice).await.status(), S::NOT_FOUND);
    assert_eq!(reqwest::Client::new().get(app.url(&notice)).send().await.unwrap().status(), S::UNAUTHORIZED);
    // Only the two allowed openings were logged, and members see exactly those.
    let log = portal_json(&app, &admin, &format!("/api/orgs/{org}/oversight")).await;
    let who: Vec<i64> = log.as_array().unwrap().iter().map(|e| e["person_id"].as_i64().unwrap()).collect();
    assert_eq!(who, [app.person_id("director").await, teacher2]);
    assert_eq!(member.json(&app, &notice).await["dates"].as_array().unwrap().len(), 2);
    app.finish().await;
}
