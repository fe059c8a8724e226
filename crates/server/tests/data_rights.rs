//! A person's rights over their data (issue 21, items 5–6), end to end: a
//! person's own copy, an administrator's copy for a person of the school, the
//! erasure of a former member, and the retention of past years' archives —
//! with the refusals the issue names leaving nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::{Linked, linked};
use common::{TestApp, error_code, spawn_app};
use reqwest::StatusCode;
use roster::ClassName;
use roster::ids::{ChatId, OrgId, PersonId};
use roster::import::{AcademicYear, Batch, Class, EnrollmentRole, Mode, Part};
use serde_json::{Value, json};
use std::io::Read;
use testkit::fixture::{enrollment, row, school};

const DAY: i64 = 24 * 3600;

async fn sent(who: &Linked, app: &TestApp, chat: i64, id: &str, text: &str) -> i64 {
    let res = who.send(app, chat, id, text).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["message_id"].as_i64().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Sends a message carrying a small PDF; the file's id.
async fn sent_file(who: &Linked, app: &TestApp, chat: i64, name: &str) -> i64 {
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/messenger/chats/{chat}/files")))
        .header("cookie", &who.cookie)
        .header("x-file-name", urlencode(name))
        .body(pdf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let file: Value = res.json().await.unwrap();
    let body = json!({"client_id": format!("file-{}", file["id"]), "text": "Файл", "attachments": [file["id"]]});
    let res = who.post(app, &format!("/api/messenger/chats/{chat}/messages"), body).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    file["id"].as_i64().unwrap()
}

/// Waits for a copy to be made: its final state.
async fn made(app: &TestApp, get: impl AsyncFn() -> reqwest::Response) -> Value {
    for _ in 0..200 {
        let res = get().await;
        assert_eq!(res.status(), StatusCode::OK);
        let job: Value = res.json().await.unwrap();
        if job["status"] != "pending" {
            return job;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let _ = app;
    panic!("the copy was never made");
}

/// The zip's entries and their text.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut entry = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            (entry.name().to_string(), content)
        })
        .collect()
}

fn entry<'a>(zip: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &zip.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name} in the zip")).1
}

fn json_entry(zip: &[(String, Vec<u8>)], name: &str) -> Value {
    serde_json::from_slice(entry(zip, name)).unwrap()
}

async fn rights_audit(app: &TestApp, admin: &reqwest::Client, org: i64) -> Vec<Value> {
    let res = admin.get(app.url(&format!("/api/orgs/{org}/data-rights-audit"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap().as_array().unwrap().clone()
}

async fn export_count(app: &TestApp) -> usize {
    let mut n = 0;
    for org in app.db.store.orgs().await.unwrap() {
        n += app.db.store.org_exports(org.id.into()).await.unwrap().len();
    }
    n
}

#[tokio::test]
async fn a_person_downloads_one_zip_of_their_profile_chats_messages_and_files_made_in_the_background() {
    let app = spawn_app(false).await;
    let parent = linked(&app, "parent1", "+79120000005").await;
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let chat = parent.chat_named(&app, "Родители 5А").await;
    sent(&parent, &app, chat, "a", "Когда родительское собрание?").await;
    sent(&teacher, &app, chat, "b", "В четверг в 18:00").await;
    let file = sent_file(&parent, &app, chat, "справка.pdf").await;

    let res = parent.post(&app, "/api/messenger/exports", json!({})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let job = made(&app, async || parent.get(&app, &format!("/api/messenger/exports/{id}")).await).await;
    assert_eq!((job["status"].as_str(), job["progress"].as_i64()), (Some("ready"), Some(100)));
    assert_eq!(job["expires_at"].as_i64().unwrap() - job["ready_at"].as_i64().unwrap(), DAY);
    let listed = parent.json(&app, "/api/messenger/exports").await;
    assert_eq!(listed[0]["id"], id);

    let res = parent.get(&app, &format!("/api/messenger/exports/{id}/download")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let zip = entries(&res.bytes().await.unwrap());
    assert_eq!(json_entry(&zip, "profile.json")["phone"], "+79120000005");
    let accounts = json_entry(&zip, "school_accounts.json");
    let schools: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["org_name"].as_str().unwrap()).collect();
    assert!(schools.contains(&"Школа № 1"), "{accounts}");
    assert!(json_entry(&zip, "chats.json").as_array().unwrap().iter().any(|c| c["name"] == "Родители 5А"));
    let messages = json_entry(&zip, "messages.json");
    let texts: Vec<&str> = messages.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Когда родительское собрание?", "Файл"], "their own messages only");
    assert!(messages[0]["date"].as_str().unwrap().starts_with("20"), "with dates");
    assert!(String::from_utf8_lossy(entry(&zip, "messages.txt")).contains("Когда родительское собрание?"));
    assert!(entry(&zip, &format!("files/{file}-справка.pdf")).starts_with(b"%PDF"));

    // Nobody else reaches the copy.
    let res = teacher.get(&app, &format!("/api/messenger/exports/{id}/download")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = reqwest::Client::new().get(app.url(&format!("/api/messenger/exports/{id}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}

#[tokio::test]
async fn the_link_lasts_24_hours_then_answers_410_and_the_zip_is_deleted() {
    let app = spawn_app(false).await;
    let parent = linked(&app, "parent1", "+79120000005").await;
    let id = parent.post(&app, "/api/messenger/exports", json!({})).await.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    made(&app, async || parent.get(&app, &format!("/api/messenger/exports/{id}")).await).await;
    let sha = app.db.store.export_job(id).await.unwrap().sha256.unwrap();
    assert!(app.state.files.blobs.exists(&sha).await.unwrap());

    app.advance(DAY - 1);
    let res = parent.get(&app, &format!("/api/messenger/exports/{id}/download")).await;
    assert_eq!(res.status(), StatusCode::OK, "still valid a second before its day ends");
    app.advance(1);
    let res = parent.get(&app, &format!("/api/messenger/exports/{id}/download")).await;
    assert_eq!(error_code(res).await, (StatusCode::GONE, "export_expired".into()));

    server::data_rights_api::run_retention(&app.state).await;
    assert!(!app.state.files.blobs.exists(&sha).await.unwrap(), "the expired zip is deleted");
    assert_eq!(app.db.store.export_job(id).await.unwrap().status, "expired");
    let res = parent.get(&app, &format!("/api/messenger/exports/{id}/download")).await;
    assert_eq!(error_code(res).await, (StatusCode::GONE, "export_expired".into()));
    app.finish().await;
}

#[tokio::test]
async fn a_copy_a_restart_interrupted_is_made_when_the_server_starts_again() {
    let app = spawn_app(false).await;
    let parent = linked(&app, "parent1", "+79120000005").await;
    let account = app.db.store.link_of(parent.org, parent.person).await.unwrap().unwrap().account_id;
    // As a crash leaves it: asked for, never made.
    let job = app.db.store.create_self_export(account, app.state.now()).await.unwrap();
    assert_eq!(job.status, "pending");
    // The node that leads the background jobs remakes it.
    let _jobs = server::jobs::spawn(app.state.clone());
    let done = made(&app, async || parent.get(&app, &format!("/api/messenger/exports/{}", job.id)).await).await;
    assert_eq!(done["status"], "ready");
    app.finish().await;
}

#[tokio::test]
async fn an_administrator_copies_a_person_of_the_school_with_a_reason_and_it_is_audited() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let chat = student.chat_named(&app, "5А класс").await;
    sent(&student, &app, chat, "a", "Я забыла дневник").await;
    let director = app.signed_in("director").await;
    let org = student.org;
    let path = format!("/api/orgs/{org}/people/{}/exports", student.person);

    for bad in [json!({}), json!({"reason": "   "}), json!({"reason": "x".repeat(501)})] {
        let res = director.post(app.url(&path)).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    assert_eq!(export_count(&app).await, 0, "refused requests leave no copy");

    let res = director.post(app.url(&path)).json(&json!({"reason": "Заявление матери от 7 декабря"})).send().await;
    let res = res.unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let job_path = format!("/api/orgs/{org}/exports/{id}");
    let job = made(&app, async || director.get(app.url(&job_path)).send().await.unwrap()).await;
    assert_eq!(job["status"], "ready");
    assert_eq!(job["person_id"], student.person);
    let res = director.get(app.url(&format!("{job_path}/download"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let zip = entries(&res.bytes().await.unwrap());
    assert_eq!(json_entry(&zip, "messages.json")[0]["text"], "Я забыла дневник");

    let lines = rights_audit(&app, &director, org).await;
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["action"], "export");
    assert_eq!(lines[0]["person_id"], student.person);
    assert_eq!(lines[0]["actor_name"], "Директорова Анна");
    assert_eq!(lines[0]["reason"], "Заявление матери от 7 декабря");

    // The person's own messenger does not see the school's copy, nor the reverse.
    assert_eq!(student.get(&app, &format!("/api/messenger/exports/{id}")).await.status(), StatusCode::NOT_FOUND);
    app.finish().await;
}

#[tokio::test]
async fn an_export_for_a_person_of_another_school_is_refused_and_leaves_no_trace() {
    let app = spawn_app(false).await;
    let director = app.signed_in("director").await;
    let org = app.org_of(&director).await;
    let other_admin = app.signed_in("other.admin").await;
    let other_org = app.org_of(&other_admin).await;
    let student = app.person_id("student1").await;
    let reason = json!({"reason": "Просто интересно"});

    // Through their own school: the person is not one of theirs.
    let res = other_admin
        .post(app.url(&format!("/api/orgs/{other_org}/people/{student}/exports")))
        .json(&reason)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (StatusCode::NOT_FOUND, "not_in_school".into()));
    // Through the person's school: they are not its administrator.
    let res =
        other_admin.post(app.url(&format!("/api/orgs/{org}/people/{student}/exports"))).json(&reason).send().await;
    assert_eq!(error_code(res.unwrap()).await, (StatusCode::FORBIDDEN, "forbidden".into()));
    // Nor is a teacher, a parent, or someone signed out.
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let res = teacher.portal.post(app.url(&format!("/api/orgs/{org}/people/{student}/exports"))).json(&reason).send();
    assert_eq!(error_code(res.await.unwrap()).await, (StatusCode::FORBIDDEN, "forbidden".into()));
    let res = app.client().post(app.url(&format!("/api/orgs/{org}/people/{student}/exports"))).json(&reason).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // And another school's copies are not reachable by id.
    let own = director
        .post(app.url(&format!("/api/orgs/{org}/people/{student}/exports")))
        .json(&json!({"reason": "Запрос ученицы"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let res = other_admin.get(app.url(&format!("/api/orgs/{other_org}/exports/{}", own["id"]))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    assert_eq!(export_count(&app).await, 1, "only the director's own request made a copy");
    assert!(rights_audit(&app, &other_admin, other_org).await.is_empty());
    assert_eq!(rights_audit(&app, &director, org).await.len(), 1);
    app.finish().await;
}

/// `login` leaves the school: the roster package no longer lists them, nor
/// their enrollment (`enrollment` is its sourcedId in the fixture).
async fn leaves(app: &TestApp, source_id: &str, enrollment_id: &str) {
    let fixture = school();
    let mut gone = fixture.people.rows.iter().find(|p| p.source_id == source_id).unwrap().clone();
    gone.deleted = true;
    let mut ended = fixture.enrollments.rows.iter().find(|e| e.source_id == enrollment_id).unwrap().clone();
    ended.deleted = true;
    let batch = Batch {
        people: Part { mode: Mode::Delta, rows: vec![gone] },
        enrollments: Part { mode: Mode::Delta, rows: vec![ended] },
        ..Batch::default()
    };
    app.db.store.apply_import(&batch, storage::Run::Apply, &server::auth::hash_password).await.unwrap();
}

#[tokio::test]
async fn erasing_someone_still_enrolled_is_refused_with_the_reason_and_nothing_changes() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student2", "+79120000003").await;
    let chat = student.chat_named(&app, "5А класс").await;
    sent(&student, &app, chat, "a", "Всем привет").await;
    let director = app.signed_in("director").await;
    let org = student.org;
    let path = format!("/api/orgs/{org}/people/{}/erasure", student.person);

    let res = director.get(app.url(&path)).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "still_enrolled".into()));
    let body = json!({"reason": "Ошибка", "confirm": true});
    let res = director.post(app.url(&path)).json(&body).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "still_enrolled".into()));

    let page = student.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    assert_eq!(page["messages"][0]["author"]["name"], "Королёв Иван");
    assert_eq!(page["messages"][0]["text"], "Всем привет");
    assert!(rights_audit(&app, &director, org).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_former_members_erasure_shows_what_goes_then_leaves_their_messages_to_a_deleted_user() {
    let app = spawn_app(false).await;
    let leaver = linked(&app, "student2", "+79120000003").await;
    let classmate = linked(&app, "student1", "+79120000002").await;
    let chat = leaver.chat_named(&app, "5А класс").await;
    sent(&leaver, &app, chat, "a", "Я перехожу в другую школу").await;
    let file = sent_file(&leaver, &app, chat, "дз.pdf").await;
    sent(&classmate, &app, chat, "b", "Удачи!").await;
    let director = app.signed_in("director").await;
    let org = leaver.org;
    leaves(&app, "st2", "e2").await;
    app.state.reconcile(OrgId(org)).await;
    let path = format!("/api/orgs/{org}/people/{}/erasure", leaver.person);
    let former: Value =
        director.get(app.url(&format!("/api/orgs/{org}/former-members"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        former,
        json!([{"person_id": leaver.person, "last_name": "Королёв", "first_name": "Иван", "middle_name": null}])
    );

    let plan: Value = director.get(app.url(&path)).send().await.unwrap().json().await.unwrap();
    assert_eq!((plan["messages"].as_i64(), plan["files"].as_i64()), (Some(2), Some(1)), "{plan}");
    assert_eq!((plan["link"].as_bool(), plan["parta_id"].as_bool()), (Some(true), Some(true)));
    assert!(rights_audit(&app, &director, org).await.is_empty(), "a dry-run changes nothing");

    let res = director.post(app.url(&path)).json(&json!({"reason": "Выбыл 1 декабря"})).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::BAD_REQUEST, "confirmation_required".into()));
    let res = director.post(app.url(&path)).json(&json!({"reason": "Выбыл 1 декабря", "confirm": true})).send();
    let res = res.await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["messages"], 2);

    let page = classmate.json(&app, &format!("/api/messenger/chats/{chat}/messages")).await;
    let messages = page["messages"].as_array().unwrap();
    let names: Vec<&str> = messages.iter().map(|m| m["author"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Удалённый пользователь", "Удалённый пользователь", "Королёва Алёна"]);
    assert_eq!(messages[0]["text"], "Я перехожу в другую школу");
    assert!(messages[1]["attachments"].as_array().unwrap().is_empty(), "their files are removed");
    assert_eq!(classmate.get(&app, &format!("/api/messenger/files/{file}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(leaver.get(&app, "/api/messenger/me").await.status(), StatusCode::UNAUTHORIZED, "sessions end");

    let lines = rights_audit(&app, &director, org).await;
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["action"].as_str(), lines[0]["reason"].as_str()), (Some("erasure"), Some("Выбыл 1 декабря")));
    assert_eq!(lines[0]["details"]["messages"], 2);
    let res = director.get(app.url(&path)).send().await.unwrap();
    assert_eq!(error_code(res).await, (StatusCode::CONFLICT, "already_erased".into()));
    let former: Value =
        director.get(app.url(&format!("/api/orgs/{org}/former-members"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(former, json!([]), "an erased person is no longer listed");

    // A teacher cannot erase anyone.
    let teacher = linked(&app, "teacher1", "+79120000001").await;
    let res = teacher.portal.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.finish().await;
}

/// The school moves on to 2027/2028: 5А's chats of 2026/2027 become archives.
async fn next_year(app: &TestApp, org: i64) {
    let batch = Batch {
        years: Part {
            mode: Mode::Delta,
            rows: vec![row(
                "y2",
                "academicSessions.csv",
                3,
                AcademicYear {
                    title: "2027/2028".into(),
                    start: "2027-09-01".parse().unwrap(),
                    end: "2028-08-31".parse().unwrap(),
                },
            )],
        },
        classes: Part {
            mode: Mode::Delta,
            rows: vec![row(
                "c6a",
                "classes.csv",
                5,
                Class { org: "s1".into(), year: Some("y2".into()), name: ClassName::parse("6А").unwrap() },
            )],
        },
        enrollments: Part {
            mode: Mode::Delta,
            rows: vec![enrollment("e9", "st1", "c6a", EnrollmentRole::Student, false)],
        },
        ..Batch::default()
    };
    app.db.store.apply_import(&batch, storage::Run::Apply, &server::auth::hash_password).await.unwrap();
    app.state.reconcile(OrgId(org)).await;
}

#[tokio::test]
async fn retention_deletes_past_years_archives_after_a_preview_and_off_keeps_them() {
    let app = spawn_app(false).await;
    let student = linked(&app, "student1", "+79120000002").await;
    let org = student.org;
    let chat = student.chat_named(&app, "5А класс").await;
    sent(&student, &app, chat, "a", "Последний день четверти").await;
    next_year(&app, org).await;
    // A year and a day after 2026/2027 ended.
    let now = app.state.now();
    let target = chrono::NaiveDate::from_ymd_opt(2028, 9, 1).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc();
    app.advance(target.timestamp() - now);
    let director = app.signed_in("director").await;

    let setting: Value =
        director.get(app.url(&format!("/api/orgs/{org}/retention"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(setting["years"], 3, "three years unless the school chooses");
    let preview = |years: &str| {
        let url = app.url(&format!("/api/orgs/{org}/retention/preview{years}"));
        let director = director.clone();
        async move { director.get(url).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(preview("").await, json!([]), "not yet due at three years");
    let one = preview("?years=1").await;
    let names: Vec<&str> = one.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"5А класс"), "{one}");
    assert!(!names.iter().any(|n| n.contains("6А")), "the current year's chats never go");
    let class = one.as_array().unwrap().iter().find(|c| c["chat_id"] == chat).unwrap();
    assert_eq!((class["messages"].as_i64(), class["year_end"].as_str()), (Some(1), Some("2027-08-31")));

    let bad = director.get(app.url(&format!("/api/orgs/{org}/retention/preview?years=26"))).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    for bad in [json!({"years": 26}), json!({"years": -1}), json!({"years": "три"})] {
        let res = director.put(app.url(&format!("/api/orgs/{org}/retention"))).json(&bad).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let teacher = app.signed_in_anyone("teacher2").await;
    let res = teacher.put(app.url(&format!("/api/orgs/{org}/retention"))).json(&json!({"years": 1})).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::FORBIDDEN);

    // Off: nothing goes, however old.
    let res = director.put(app.url(&format!("/api/orgs/{org}/retention"))).json(&json!({"years": null})).send();
    assert_eq!(res.await.unwrap().json::<Value>().await.unwrap()["years"], Value::Null);
    server::data_rights_api::run_retention(&app.state).await;
    let detail =
        app.db.store.managed_chat(OrgId(org), PersonId(app.person_id("director").await), ChatId(chat)).await.unwrap();
    assert!(!detail.chat.purged, "off keeps the archive");

    let res = director.put(app.url(&format!("/api/orgs/{org}/retention"))).json(&json!({"years": 1})).send();
    assert_eq!(res.await.unwrap().json::<Value>().await.unwrap()["years"], 1);
    server::data_rights_api::run_retention(&app.state).await;
    let detail =
        app.db.store.managed_chat(OrgId(org), PersonId(app.person_id("director").await), ChatId(chat)).await.unwrap();
    assert!(detail.chat.purged, "the archive of 2026/2027 is deleted");
    assert_eq!(preview("").await, json!([]), "nothing is left to go");

    let lines = rights_audit(&app, &director, org).await;
    let actions: Vec<&str> = lines.iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["retention", "retention_setting", "retention_setting"]);
    assert!(lines[0]["details"]["chats"].as_array().unwrap().contains(&json!(chat)));
    assert_eq!(lines[0]["details"]["messages"].as_i64(), Some(1));
    assert_eq!(lines[1]["details"], json!({"before": 0, "after": 1}));
    app.finish().await;
}

/// Every administrators' endpoint of data rights × every role: only the
/// school's own administrator gets through (the safeguarding staff included
/// among the refused: data rights are the administration's), and the refused
/// attempts leave no copy, no audit line, no setting changed, nobody erased.
#[tokio::test]
async fn only_the_schools_administrator_reaches_data_rights_and_refusals_leave_no_trace() {
    let app = spawn_app(false).await;
    let director = app.signed_in("director").await;
    let org = app.org_of(&director).await;
    let officer_id = app.person_id("teacher2").await;
    let res = director.put(app.url(&format!("/api/orgs/{org}/safeguarding-staff/{officer_id}"))).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::NO_CONTENT);
    let student = app.person_id("student1").await;
    // A copy of the director's own making, for the by-id endpoints.
    let own = director
        .post(app.url(&format!("/api/orgs/{org}/people/{student}/exports")))
        .json(&json!({"reason": "Запрос"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let roles = [
        ("safeguarding staff", app.signed_in_anyone("teacher2").await, StatusCode::FORBIDDEN),
        ("teacher", app.signed_in_anyone("teacher1").await, StatusCode::FORBIDDEN),
        ("parent", app.signed_in("parent1").await, StatusCode::FORBIDDEN),
        ("student", app.signed_in_anyone("student1").await, StatusCode::FORBIDDEN),
        ("another school's administrator", app.signed_in("other.admin").await, StatusCode::FORBIDDEN),
        ("signed out", app.client(), StatusCode::UNAUTHORIZED),
    ];
    let reason = json!({"reason": "Проверка", "confirm": true});
    let endpoints: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::POST, format!("/api/orgs/{org}/people/{student}/exports"), Some(reason.clone())),
        (reqwest::Method::GET, format!("/api/orgs/{org}/exports"), None),
        (reqwest::Method::GET, format!("/api/orgs/{org}/exports/{own}"), None),
        (reqwest::Method::GET, format!("/api/orgs/{org}/exports/{own}/download"), None),
        (reqwest::Method::GET, format!("/api/orgs/{org}/former-members"), None),
        (reqwest::Method::GET, format!("/api/orgs/{org}/people/{student}/erasure"), None),
        (reqwest::Method::POST, format!("/api/orgs/{org}/people/{student}/erasure"), Some(reason.clone())),
        (reqwest::Method::GET, format!("/api/orgs/{org}/retention"), None),
        (reqwest::Method::PUT, format!("/api/orgs/{org}/retention"), Some(json!({"years": 1}))),
        (reqwest::Method::GET, format!("/api/orgs/{org}/retention/preview"), None),
        (reqwest::Method::GET, format!("/api/orgs/{org}/data-rights-audit"), None),
    ];
    for (role, client, expected) in &roles {
        for (method, path, body) in &endpoints {
            let mut request = client.request(method.clone(), app.url(path));
            if let Some(body) = body {
                request = request.json(body);
            }
            let status = request.send().await.unwrap().status();
            assert_eq!(status, *expected, "{role}: {method} {path}");
        }
    }
    assert_eq!(export_count(&app).await, 1, "only the director's copy exists");
    let lines = rights_audit(&app, &director, org).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let setting: Value =
        director.get(app.url(&format!("/api/orgs/{org}/retention"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(setting["years"], 3);

    // The director reaches each of them (an erasure of a current student is
    // refused on its merits, not for who asks).
    for (method, path, body) in &endpoints {
        let mut request = director.request(method.clone(), app.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        let status = request.send().await.unwrap().status();
        let expected: &[StatusCode] = if path.ends_with("/erasure") {
            &[StatusCode::CONFLICT]
        } else if path.ends_with("/download") {
            &[StatusCode::OK, StatusCode::CONFLICT]
        } else {
            &[StatusCode::OK, StatusCode::ACCEPTED]
        };
        assert!(expected.contains(&status), "director: {method} {path} → {status}");
    }
    // A messenger's own copies need a messenger session.
    let res = app.client().post(app.url("/api/messenger/exports")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    app.finish().await;
}
