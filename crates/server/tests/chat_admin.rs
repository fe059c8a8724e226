//! "Управление чатами", end to end: every management endpoint as every kind of
//! person, the rules for automatic chats, pending members who join on linking,
//! bad input that changes nothing, the 30-day purge and the audit log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::linked;
use common::{PASSWORD, TestApp, error_code, spawn_app};
use reqwest::{Method, StatusCode};
use roster::ids::OrgId;
use roster::{Login, PersonName, Role};
use serde_json::{Value, json};
use server::auth::hash_password;

/// Gives `login` a password and signs in to the portal.
async fn portal(app: &TestApp, login: &str) -> reqwest::Client {
    let credentials = app.db.store.credentials(login).await.unwrap().unwrap();
    app.db.store.set_password(credentials.person_id, &hash_password(PASSWORD), false).await.unwrap();
    app.signed_in(login).await
}

async fn person_id(app: &TestApp, login: &str) -> i64 {
    app.db.store.credentials(login).await.unwrap().unwrap().person_id.into()
}

/// A librarian: an employee who is neither an administrator nor a teacher.
async fn add_librarian(app: &TestApp, org: i64) -> i64 {
    let new = storage::NewPerson {
        name: PersonName::parse("Книжкина", "Вера", None).unwrap(),
        login: Login::parse("librarian").unwrap(),
        roles: vec![Role::OtherStaff],
    };
    app.db.store.create_person(OrgId(org), &new).await.unwrap().into()
}

async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = client.request(method, app.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn ok(app: &TestApp, client: &reqwest::Client, method: Method, path: &str, body: Option<Value>) -> Value {
    let res = call(app, client, method.clone(), path, body).await;
    let status = res.status();
    let text = res.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn refused(
    app: &TestApp,
    client: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, String) {
    error_code(call(app, client, method, path, body).await).await
}

async fn create(app: &TestApp, client: &reqwest::Client, org: i64, name: &str, members: &[i64]) -> Value {
    let res = call(
        app,
        client,
        Method::POST,
        &format!("/api/orgs/{org}/chats"),
        Some(json!({
            "name": name, "description": "", "members": members,
        })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "create {name}");
    res.json().await.unwrap()
}

fn member(chat: &Value, person: i64) -> Option<&Value> {
    chat["members"].as_array().unwrap().iter().find(|m| m["person"] == person)
}

async fn audit(app: &TestApp, admin: &reqwest::Client, org: i64, query: &str) -> Vec<Value> {
    ok(app, admin, Method::GET, &format!("/api/orgs/{org}/chat-audit{query}"), None).await.as_array().unwrap().clone()
}

async fn automatic_chat(app: &TestApp, admin: &reqwest::Client, org: i64, name: &str) -> Value {
    let chats = ok(app, admin, Method::GET, &format!("/api/orgs/{org}/chats"), None).await;
    let id = chats.as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no {name}"))["id"]
        .as_i64()
        .unwrap();
    ok(app, admin, Method::GET, &format!("/api/orgs/{org}/chats/{id}"), None).await
}

/// Who asks, in the order of the matrix's columns.
const ROLES: [&str; 8] = [
    "administrator",
    "teacher",
    "other staff",
    "student",
    "parent",
    "unlinked teacher",
    "signed out",
    "other school's admin",
];

#[tokio::test]
async fn the_authorization_matrix_every_endpoint_as_every_role() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let librarian_id = add_librarian(&app, org).await;
    // Linked people, and one employee who never linked: managing needs no link.
    let teacher = linked(&app, "teacher2", "+79120001001").await.portal;
    let staff = linked(&app, "librarian", "+79120001002").await.portal;
    let student = linked(&app, "student1", "+79120001003").await.portal;
    let parent = linked(&app, "parent1", "+79120001004").await.portal;
    let unlinked = portal(&app, "teacher1").await;
    let signed_out = app.client();
    let stranger = app.signed_in("other.admin").await;
    let clients = [&admin, &teacher, &staff, &student, &parent, &unlinked, &signed_out, &stranger];

    let student2 = person_id(&app, "student2").await;
    let student3 = person_id(&app, "student3").await;
    let teacher2 = person_id(&app, "teacher2").await;
    // The chat the matrix acts on: the administrator's, with a student and the
    // math teacher as plain members; nobody but the administrator admins it.
    let chat = create(&app, &admin, org, "Совет школы", &[student2, teacher2]).await["id"].as_i64().unwrap();
    let c = format!("/api/orgs/{org}/chats/{chat}");
    let o = format!("/api/orgs/{org}");

    use StatusCode as S;
    const OK: S = S::OK;
    const CREATED: S = S::CREATED;
    const FORBIDDEN: S = S::FORBIDDEN;
    const UNAUTHORIZED: S = S::UNAUTHORIZED;
    // Staff read the page and create; only the administrator touches a chat
    // they do not admin; students, parents and other schools get nothing.
    let staff_only = [OK, OK, OK, FORBIDDEN, FORBIDDEN, OK, UNAUTHORIZED, FORBIDDEN];
    let staff_create = [CREATED, CREATED, CREATED, FORBIDDEN, FORBIDDEN, CREATED, UNAUTHORIZED, FORBIDDEN];
    let admin_only = [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, UNAUTHORIZED, FORBIDDEN];

    type Body = fn(i64, i64) -> Option<Value>;
    let none: Body = |_, _| None;
    // (endpoint, method, path, body from (version, person), expected per role)
    let table: Vec<(&str, Method, String, Body, [S; 8])> = vec![
        ("page options", Method::GET, format!("{o}/chats/options"), none, staff_only),
        ("chat list", Method::GET, format!("{o}/chats"), none, staff_only),
        ("candidates", Method::GET, format!("{o}/chats/candidates?q=кор"), none, staff_only),
        ("create", Method::POST, format!("{o}/chats"), |_, _| Some(json!({ "name": "Кружок" })), staff_create),
        ("detail", Method::GET, c.clone(), none, admin_only),
        ("edit", Method::PATCH, c.clone(), |v, _| Some(json!({ "version": v, "description": "Повестка" })), admin_only),
        ("add members", Method::POST, format!("{c}/members"), |_, p| Some(json!({ "people": [p] })), admin_only),
        ("appoint admin", Method::PUT, format!("{c}/admins/{student3}"), none, admin_only),
        ("revoke admin", Method::DELETE, format!("{c}/admins/{student3}"), none, admin_only),
        ("remove member", Method::DELETE, format!("{c}/members/{student3}"), none, admin_only),
        ("archive", Method::PUT, format!("{c}/archive"), none, admin_only),
        ("unarchive", Method::DELETE, format!("{c}/archive"), none, admin_only),
        ("delete", Method::DELETE, c.clone(), none, admin_only),
        ("restore", Method::POST, format!("{c}/restore"), none, admin_only),
        ("audit log", Method::GET, format!("{o}/chat-audit"), none, admin_only),
        ("audit CSV", Method::GET, format!("{o}/chat-audit.csv"), none, admin_only),
    ];
    let mut failures = Vec::new();
    for (endpoint, method, path, body, expected) in &table {
        // The administrator goes last: nobody else changes anything, so every
        // refusal is tried against the same chat the administrator then changes.
        for i in (0..ROLES.len()).rev() {
            let version = ok(&app, &admin, Method::GET, &c, None).await["version"].as_i64().unwrap();
            let res = call(&app, clients[i], method.clone(), path, body(version, student3)).await;
            if res.status() != expected[i] {
                failures.push(format!("{endpoint} as {}: expected {}, got {}", ROLES[i], expected[i], res.status()));
            }
        }
    }
    assert!(failures.is_empty(), "authorization matrix:\n{}", failures.join("\n"));

    // Refusals left no trace: the audit holds only what was allowed.
    let entries = audit(&app, &admin, org, "?limit=500").await;
    let director = person_id(&app, "director").await;
    let creators = [teacher2, librarian_id, person_id(&app, "teacher1").await];
    for entry in &entries {
        let actor = entry["actor_id"].as_i64().unwrap();
        let creation = ["create", "add_member"].contains(&entry["action"].as_str().unwrap());
        assert!(actor == director || (creators.contains(&actor) && creation), "unexpected audit entry {entry}");
    }
    let actions: Vec<&str> =
        entries.iter().filter(|e| e["chat_id"] == chat).map(|e| e["action"].as_str().unwrap()).rev().collect();
    assert_eq!(
        actions,
        [
            "create",
            "add_member",
            "add_member",
            "add_member",
            "edit",
            "add_member",
            "appoint_admin",
            "revoke_admin",
            "remove_member",
            "archive",
            "unarchive",
            "delete",
            "restore"
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn a_chat_with_a_pending_student_who_joins_on_linking_and_an_appointed_teacher_admin() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let alena = linked(&app, "student1", "+79120002001").await;
    let ivan = person_id(&app, "student2").await;
    let teacher2 = person_id(&app, "teacher2").await;

    let chat = create(&app, &admin, org, "Олимпиада по физике", &[alena.person, ivan]).await;
    let id = chat["id"].as_i64().unwrap();
    assert_eq!(chat["kind"], "custom");
    // Alena is active; Ivan and the director, who never linked, are pending.
    assert_eq!((chat["member_count"].as_i64(), chat["pending_count"].as_i64()), (Some(1), Some(2)), "{chat}");
    assert_eq!(member(&chat, alena.person).unwrap()["status"], "active");
    assert_eq!(member(&chat, ivan).unwrap()["status"], "pending");
    let director = member(&chat, person_id(&app, "director").await).unwrap();
    assert_eq!((director["admin"].as_bool(), director["source"].as_str()), (Some(true), Some("manual")));

    // The teacher is added and made an admin: then she manages it herself.
    ok(
        &app,
        &admin,
        Method::POST,
        &format!("/api/orgs/{org}/chats/{id}/members"),
        Some(json!({ "people": [teacher2] })),
    )
    .await;
    let chat = ok(&app, &admin, Method::PUT, &format!("/api/orgs/{org}/chats/{id}/admins/{teacher2}"), None).await;
    assert_eq!(member(&chat, teacher2).unwrap()["admin"], true);
    let teacher = portal(&app, "teacher2").await;
    let theirs = ok(&app, &teacher, Method::GET, &format!("/api/orgs/{org}/chats"), None).await;
    let names: Vec<&str> = theirs.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"Олимпиада по физике"), "{names:?}");
    assert!(!names.contains(&"Учительская"), "a teacher lists only the chats they admin: {names:?}");

    // The linked student sees it in the messenger right away.
    alena.chat_named(&app, "Олимпиада по физике").await;
    // The pending one sees it once he links.
    let ivan = linked(&app, "student2", "+79120002002").await;
    let ivans = ivan.chat_named(&app, "Олимпиада по физике").await;
    assert_eq!(ivans, id);
    let chat = ok(&app, &admin, Method::GET, &format!("/api/orgs/{org}/chats/{id}"), None).await;
    assert_eq!(member(&chat, ivan.person).unwrap()["status"], "active");
    assert_eq!(chat["pending_count"], 2, "the director and the teacher, who never linked");

    let steps: Vec<(String, Option<i64>)> = audit(&app, &admin, org, &format!("?chat={id}"))
        .await
        .iter()
        .rev()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["person_id"].as_i64()))
        .collect();
    let director = person_id(&app, "director").await;
    assert_eq!(
        steps,
        [
            ("create".into(), None),
            ("add_member".into(), Some(director)),
            ("add_member".into(), Some(alena.person)),
            ("add_member".into(), Some(ivan.person)),
            ("add_member".into(), Some(teacher2)),
            ("appoint_admin".into(), Some(teacher2)),
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_changes_nothing() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let chats = format!("/api/orgs/{org}/chats");
    let student1 = person_id(&app, "student1").await;
    let other_org_admin = person_id(&app, "other.admin").await;

    for (name, code) in [
        ("", "chat_name_empty"),
        ("   ", "chat_name_empty"),
        ("ж".repeat(1000).as_str(), "chat_name_too_long"),
        ("две\nстроки", "chat_name_invalid"),
    ] {
        let (status, got) = refused(&app, &admin, Method::POST, &chats, Some(json!({ "name": name }))).await;
        assert_eq!((status, got.as_str()), (StatusCode::BAD_REQUEST, code), "name {name:?}");
    }
    let (status, code) =
        refused(&app, &admin, Method::POST, &chats, Some(json!({ "name": "Кружок", "description": "а".repeat(501) })))
            .await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "chat_description_too_long"));
    // A person of another school, even next to a good one: nothing is made.
    let (status, code) = refused(
        &app,
        &admin,
        Method::POST,
        &chats,
        Some(json!({ "name": "Кружок", "members": [student1, other_org_admin] })),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "person_not_in_org"));
    assert!(audit(&app, &admin, org, "").await.is_empty(), "nothing was created");

    // Duplicate names are allowed, and said.
    let first = create(&app, &admin, org, "Кружок", &[student1]).await;
    assert_eq!(first["same_name"], 0);
    let second = create(&app, &admin, org, "кружок ", &[]).await;
    assert_eq!((second["name"].as_str(), second["same_name"].as_i64()), (Some("кружок"), Some(1)));

    let id = first["id"].as_i64().unwrap();
    let c = format!("{chats}/{id}");
    let director = person_id(&app, "director").await;
    let student2 = person_id(&app, "student2").await;
    // Adding someone twice, even with a newcomer: nobody is added.
    let (status, code) =
        refused(&app, &admin, Method::POST, &format!("{c}/members"), Some(json!({ "people": [student2, student1] })))
            .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "already_member"));
    let (status, code) =
        refused(&app, &admin, Method::POST, &format!("{c}/members"), Some(json!({ "people": [other_org_admin] })))
            .await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "person_not_in_org"));
    let (status, code) =
        refused(&app, &admin, Method::POST, &format!("{c}/members"), Some(json!({ "people": [] }))).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "no_people"));
    let chat = ok(&app, &admin, Method::GET, &c, None).await;
    assert!(member(&chat, student2).is_none(), "the newcomer of a refused request was not added");

    // The last admin stays.
    let (status, code) = refused(&app, &admin, Method::DELETE, &format!("{c}/admins/{director}"), None).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "last_admin"));
    let (status, code) = refused(&app, &admin, Method::DELETE, &format!("{c}/members/{director}"), None).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "last_admin"));
    let (status, code) = refused(&app, &admin, Method::PUT, &format!("{c}/admins/{student2}"), None).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "not_a_member"));

    // Two administrators edit at once from the same version: one wins, the
    // other is told, and the chat holds exactly the winner's edit.
    let deputy = storage::NewPerson {
        name: PersonName::parse("Завучева", "Ирина", None).unwrap(),
        login: Login::parse("deputy").unwrap(),
        roles: vec![Role::Administrator],
    };
    app.db.store.create_person(OrgId(org), &deputy).await.unwrap();
    let deputy = portal(&app, "deputy").await;
    let version = chat["version"].as_i64().unwrap();
    let (first, second) = tokio::join!(
        call(&app, &admin, Method::PATCH, &c, Some(json!({ "version": version, "name": "Кружок робототехники" }))),
        call(
            &app,
            &deputy,
            Method::PATCH,
            &c,
            Some(json!({ "version": version, "name": "Кружок шахмат", "description": "По средам" }))
        ),
    );
    let won = if first.status() == StatusCode::OK {
        "Кружок робототехники"
    } else {
        "Кружок шахмат"
    };
    let (lost_status, lost) =
        if first.status() == StatusCode::OK { (second.status(), second) } else { (first.status(), first) };
    assert_eq!(lost_status, StatusCode::CONFLICT);
    assert_eq!(error_code(lost).await.1, "chat_changed");
    let chat = ok(&app, &admin, Method::GET, &c, None).await;
    assert_eq!(chat["name"], won);
    assert_eq!(
        chat["description"],
        if won == "Кружок шахмат" { "По средам" } else { "" },
        "no half of the losing edit"
    );
    let (status, code) =
        refused(&app, &admin, Method::PATCH, &c, Some(json!({ "version": chat["version"], "name": "" }))).await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "chat_name_empty"));

    // Another school's chat does not exist here, nor a direct chat.
    let stranger = app.signed_in("other.admin").await;
    let their_org = app.org_of(&stranger).await;
    let (status, _) = refused(&app, &stranger, Method::GET, &format!("/api/orgs/{their_org}/chats/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A deleted chat is restored before it is changed; a purged one is gone.
    ok(&app, &admin, Method::DELETE, &c, None).await;
    let body = json!({ "version": chat["version"].as_i64().unwrap() + 1, "name": "После удаления" });
    let (status, code) = refused(&app, &admin, Method::PATCH, &c, Some(body.clone())).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "chat_deleted"));
    app.advance(31 * 24 * 3600);
    app.state.purge_deleted_chats().await;
    // A portal session lasts hours, not a month.
    let admin = portal(&app, "director").await;
    let (status, code) = refused(&app, &admin, Method::PATCH, &c, Some(body)).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "chat_purged"));
    let (status, code) = refused(&app, &admin, Method::POST, &format!("{c}/restore"), None).await;
    assert_eq!((status, code.as_str()), (StatusCode::GONE, "chat_purged"));
    app.finish().await;
}

#[tokio::test]
async fn teachers_reach_the_people_they_teach_and_other_staff_reach_employees() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    add_librarian(&app, org).await;
    // teacher2 teaches mathematics in 5А; teacher1 is 5А's class teacher and the
    // mother of student3 in 5Б.
    let math = portal(&app, "teacher2").await;
    let class_teacher = portal(&app, "teacher1").await;
    let librarian = portal(&app, "librarian").await;
    let [alena, ivan, misha, maria, director] = [
        person_id(&app, "student1").await,
        person_id(&app, "student2").await,
        person_id(&app, "student3").await,
        person_id(&app, "parent1").await,
        person_id(&app, "director").await,
    ];
    let chats = format!("/api/orgs/{org}/chats");

    // Students of 5А, their mother and the director: yes. Misha of 5Б: no.
    create(&app, &math, org, "Математический кружок", &[alena, ivan, maria, director]).await;
    let (status, code) =
        refused(&app, &math, Method::POST, &chats, Some(json!({ "name": "Кружок", "members": [alena, misha] }))).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "person_out_of_reach"));
    // Being Misha's mother gives his class teacher of 5А no reach into 5Б.
    let (status, code) =
        refused(&app, &class_teacher, Method::POST, &chats, Some(json!({ "name": "Кружок", "members": [misha] })))
            .await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "person_out_of_reach"));
    // The librarian reaches employees only.
    create(&app, &librarian, org, "Библиотечный совет", &[director, person_id(&app, "teacher2").await]).await;
    let (status, code) =
        refused(&app, &librarian, Method::POST, &chats, Some(json!({ "name": "Читатели", "members": [alena] }))).await;
    assert_eq!((status, code.as_str()), (StatusCode::FORBIDDEN, "person_out_of_reach"));

    // The candidates each sees are exactly those they may add.
    let names = |v: Value| -> Vec<String> {
        v["people"].as_array().unwrap().iter().map(|p| p["last_name"].as_str().unwrap().to_string()).collect()
    };
    let theirs = names(ok(&app, &math, Method::GET, &format!("{chats}/candidates?role=student"), None).await);
    assert_eq!(theirs, ["Королёв", "Королёва"], "the math teacher's students");
    let everyone = names(ok(&app, &admin, Method::GET, &format!("{chats}/candidates?role=student"), None).await);
    assert_eq!(everyone.len(), 3);
    let staff = names(ok(&app, &librarian, Method::GET, &format!("{chats}/candidates"), None).await);
    assert_eq!(staff, ["Директорова", "Книжкина", "Математиков", "Учителева"]);

    // Bulk choices: "all parents of 5А", "all teachers of 5А".
    let classes = ok(&app, &admin, Method::GET, &format!("{chats}/options"), None).await;
    let c5a =
        classes["classes"].as_array().unwrap().iter().find(|c| c["name"] == "5А").unwrap()["id"].as_i64().unwrap();
    let parents =
        names(ok(&app, &admin, Method::GET, &format!("{chats}/candidates?class={c5a}&role=guardian"), None).await);
    assert_eq!(parents, ["Королёва"]);
    let teachers =
        names(ok(&app, &admin, Method::GET, &format!("{chats}/candidates?class={c5a}&role=teacher"), None).await);
    assert_eq!(teachers, ["Математиков", "Учителева"]);
    let math_id = classes["subjects"].as_array().unwrap()[0]["id"].as_i64().unwrap();
    let takers =
        names(ok(&app, &admin, Method::GET, &format!("{chats}/candidates?subject={math_id}&role=student"), None).await);
    assert_eq!(takers, ["Королёв", "Королёва"]);

    // The class teacher manages the 5А class chat (she admins it) but not the staff room.
    let list = ok(&app, &class_teacher, Method::GET, &chats, None).await;
    let mut names: Vec<&str> = list.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["5А класс", "Родители 5А"]);
    app.finish().await;
}

#[tokio::test]
async fn automatic_chats_keep_what_staff_change_and_explain_every_member() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let alena = linked(&app, "student1", "+79120003001").await;
    let misha = person_id(&app, "student3").await;
    let class = automatic_chat(&app, &admin, org, "5А класс").await;
    let id = class["id"].as_i64().unwrap();
    let c = format!("/api/orgs/{org}/chats/{id}");
    let roster_member = member(&class, alena.person).unwrap();
    assert_eq!(
        (roster_member["source"].as_str(), roster_member["reasons"].as_str()),
        (Some("roster"), Some("ученик 5А"))
    );
    let teacher1 = person_id(&app, "teacher1").await;
    assert_eq!(member(&class, teacher1).unwrap()["admin"], true);

    // Renamed, a student taken out, a 5Б student put in, a student made admin.
    ok(&app, &admin, Method::PATCH, &c, Some(json!({ "version": class["version"], "name": "Наш 5А" }))).await;
    ok(&app, &admin, Method::DELETE, &format!("{c}/members/{}", alena.person), None).await;
    ok(&app, &admin, Method::POST, &format!("{c}/members"), Some(json!({ "people": [misha] }))).await;
    let student2 = person_id(&app, "student2").await;
    ok(&app, &admin, Method::PUT, &format!("{c}/admins/{student2}"), None).await;
    ok(&app, &admin, Method::DELETE, &format!("{c}/admins/{teacher1}"), None).await;

    // The roster moves on and the reconciler runs: staff's changes hold.
    app.state.reconcile(OrgId(org)).await;
    let (status, code) = refused(&app, &admin, Method::DELETE, &c, None).await;
    assert_eq!((status, code.as_str()), (StatusCode::CONFLICT, "automatic_chat"));
    app.state.reconcile(OrgId(org)).await;
    let class = ok(&app, &admin, Method::GET, &c, None).await;
    assert_eq!((class["name"].as_str(), class["name_overridden"].as_bool()), (Some("Наш 5А"), Some(true)));
    let removed = member(&class, alena.person).unwrap();
    assert_eq!((removed["status"].as_str(), removed["source"].as_str()), (Some("removed_by_hand"), Some("roster")));
    let added = member(&class, misha).unwrap();
    assert_eq!((added["status"].as_str(), added["source"].as_str()), (Some("pending"), Some("manual")));
    let promoted = member(&class, student2).unwrap();
    assert_eq!((promoted["admin"].as_bool(), promoted["admin_overridden"].as_bool()), (Some(true), Some(true)));
    assert_eq!(member(&class, teacher1).unwrap()["admin"], false);
    let chats = alena.json(&app, "/api/messenger/chats").await;
    assert!(chats.as_array().unwrap().iter().all(|c| c["id"] != id), "the removed student no longer sees it");

    // Archived by hand, it stays an archive; brought back, it is live again.
    ok(&app, &admin, Method::PUT, &format!("{c}/archive"), None).await;
    app.state.reconcile(OrgId(org)).await;
    assert_eq!(ok(&app, &admin, Method::GET, &c, None).await["state"], "archived");
    let archived = ok(&app, &admin, Method::GET, &format!("/api/orgs/{org}/chats?state=archived"), None).await;
    assert_eq!(archived.as_array().unwrap().len(), 1);
    ok(&app, &admin, Method::DELETE, &format!("{c}/archive"), None).await;
    app.state.reconcile(OrgId(org)).await;
    assert_eq!(ok(&app, &admin, Method::GET, &c, None).await["state"], "live");

    // Added back by hand, the student returns as a manual member.
    let class =
        ok(&app, &admin, Method::POST, &format!("{c}/members"), Some(json!({ "people": [alena.person] }))).await;
    let back = member(&class, alena.person).unwrap();
    assert_eq!((back["status"].as_str(), back["source"].as_str()), (Some("active"), Some("manual")));
    alena.chat_named(&app, "Наш 5А").await;
    app.finish().await;
}

#[tokio::test]
async fn a_deleted_chat_is_restorable_for_30_days_then_purged_with_its_messages() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let alena = linked(&app, "student1", "+79120004001").await;
    let chat = create(&app, &admin, org, "Поездка в Казань", &[alena.person]).await;
    let id = chat["id"].as_i64().unwrap();
    let c = format!("/api/orgs/{org}/chats/{id}");
    assert_eq!(alena.send(&app, id, "c1", "Когда сбор?").await.status(), StatusCode::OK);

    let deleted = ok(&app, &admin, Method::DELETE, &c, None).await;
    assert!(deleted["deleted_at"].is_i64());
    assert_eq!(deleted["purge_at"].as_i64().unwrap() - deleted["deleted_at"].as_i64().unwrap(), 30 * 24 * 3600);
    assert_eq!(alena.get(&app, &format!("/api/messenger/chats/{id}")).await.status(), StatusCode::NOT_FOUND);
    let listed = ok(&app, &admin, Method::GET, &format!("/api/orgs/{org}/chats?state=deleted"), None).await;
    assert_eq!(listed[0]["id"], id);
    let current = ok(&app, &admin, Method::GET, &format!("/api/orgs/{org}/chats"), None).await;
    assert!(current.as_array().unwrap().iter().all(|c| c["id"] != id));

    // Restored on day 29, it comes back with its history.
    app.advance(29 * 24 * 3600);
    app.state.purge_deleted_chats().await;
    // A portal session lasts hours, not a month.
    let admin = portal(&app, "director").await;
    let restored = ok(&app, &admin, Method::POST, &format!("{c}/restore"), None).await;
    assert_eq!((restored["state"].as_str(), restored["deleted_at"].as_i64()), (Some("live"), None));
    let history = alena.json(&app, &format!("/api/messenger/chats/{id}/messages")).await;
    assert_eq!(history["messages"][0]["text"], "Когда сбор?");

    // Deleted again and left for 30 days, it is purged: members and messages gone.
    ok(&app, &admin, Method::DELETE, &c, None).await;
    app.advance(30 * 24 * 3600 - 1);
    app.state.purge_deleted_chats().await;
    let admin = portal(&app, "director").await;
    assert_eq!(ok(&app, &admin, Method::GET, &c, None).await["purged"], false, "not a second early");
    app.advance(1);
    app.state.purge_deleted_chats().await;
    let admin = portal(&app, "director").await;
    let purged = ok(&app, &admin, Method::GET, &c, None).await;
    assert_eq!(purged["purged"], true);
    assert!(purged["members"].as_array().unwrap().is_empty());
    assert!(app.db.store.chat_events_after(id, 0, 10).await.unwrap().is_empty(), "the chat's log is erased");
    let last = &audit(&app, &admin, org, &format!("?chat={id}&limit=1")).await[0];
    assert_eq!((last["action"].as_str(), last["actor_id"].as_i64()), (Some("purge"), None));
    let all = ok(&app, &admin, Method::GET, &format!("/api/orgs/{org}/chats?state=all"), None).await;
    assert!(all.as_array().unwrap().iter().all(|c| c["id"] != id), "a purged chat leaves the list");
    app.finish().await;
}

#[tokio::test]
async fn the_audit_log_filters_and_exports_csv_for_administrators() {
    let app = spawn_app(false).await;
    let admin = portal(&app, "director").await;
    let org = app.org_of(&admin).await;
    let student1 = person_id(&app, "student1").await;
    let a = create(&app, &admin, org, "Олимпиада", &[student1]).await["id"].as_i64().unwrap();
    let b = create(&app, &admin, org, "Родительский комитет, 5А", &[]).await;
    ok(
        &app,
        &admin,
        Method::PATCH,
        &format!("/api/orgs/{org}/chats/{a}"),
        Some(json!({ "version": 0, "name": "Олимпиада по физике" })),
    )
    .await;

    let edits = audit(&app, &admin, org, "?action=edit").await;
    assert_eq!(edits.len(), 1);
    assert_eq!(
        (edits[0]["before"]["name"].as_str(), edits[0]["after"]["name"].as_str()),
        (Some("Олимпиада"), Some("Олимпиада по физике"))
    );
    assert_eq!(edits[0]["actor_name"], "Директорова Анна");
    assert_eq!(audit(&app, &admin, org, &format!("?chat={}", b["id"])).await.len(), 2, "create and its creator");
    let now = app.state.now();
    assert!(audit(&app, &admin, org, &format!("?from={}", now + 1)).await.is_empty());
    assert_eq!(audit(&app, &admin, org, &format!("?to={}", now + 1)).await.len(), 6);

    let res = admin.get(app.url(&format!("/api/orgs/{org}/chat-audit.csv?chat={a}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_string();
    assert_eq!(disposition, format!("attachment; filename=\"chat-audit-{org}.csv\""));
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM, for spreadsheets");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("время (UTC),id чата,чат,кто,действие,участник,было,стало"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4, "{text}");
    assert!(rows[0].contains(",edit,") && rows[0].contains("\"{\"\"name\"\":\"\"Олимпиада\"\"}\""), "{}", rows[0]);
    assert!(rows[3].contains("Директорова Анна,create,"), "{}", rows[3]);
    app.finish().await;
}
