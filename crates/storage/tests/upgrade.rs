//! Upgrades keep data: a database as the first public release left it
//! (commit 34f25d7, the first state of main with `parta demo`; schema 0001)
//! is migrated to the current schema by `Store::open`, as the next start of
//! a new Parta does, and everything it held is still there and usable.
//! The fixtures are SQL dumps made by `fixtures/make_release_fixture.sh`.
//! Runs on SQLite, and on PostgreSQL when `PARTA_TEST_POSTGRES` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster::{Login, PersonName, Role};
use storage::maintenance::{self, Schema};
use testkit::{Dumps, db_from_dumps};

const RELEASE: Dumps<'static> = Dumps {
    sqlite: include_str!("fixtures/release-34f25d7.sqlite.sql"),
    postgres: include_str!("fixtures/release-34f25d7.postgres.sql"),
};

/// 2026-12-07, after the fixture's session was made and before it expires.
const NOW: i64 = 1_796_600_000;

#[tokio::test]
async fn a_database_of_the_first_release_is_migrated_to_the_current_schema_with_its_data() {
    let db = db_from_dumps(RELEASE).await;
    let store = &db.store;
    assert!(
        matches!(
            maintenance::schema(&db.url, std::time::Duration::from_secs(5)).await.unwrap(),
            Schema::Current { .. }
        ),
        "every migration since the release is applied"
    );

    // The roster as it was.
    let orgs = store.orgs().await.unwrap();
    let mut names: Vec<(&str, &str, bool)> =
        orgs.iter().map(|o| (o.name.as_str(), o.kind.as_str(), o.chats_enabled)).collect();
    names.sort();
    assert_eq!(names, [("ДШИ «Камертон»", "other", false), ("МБОУ «Средняя школа № 1»", "general_education", true)]);
    let school = orgs.iter().find(|o| o.kind == "general_education").unwrap().id;
    let classes = store.classes(school).await.unwrap();
    let five_a = classes.iter().find(|c| c.name == "5А").expect("5А survives");
    assert_eq!((five_a.grade, five_a.students), (5, 2), "the student who left is not counted");
    assert_eq!(five_a.class_teacher_name.as_deref(), Some("Кузнецова Анна Сергеевна"));
    let students = store.class_students(school, five_a.id).await.unwrap();
    let ivanov = students.iter().find(|s| s.student.login.as_deref() == Some("ivanov.p")).unwrap();
    assert_eq!(ivanov.guardians.iter().map(|g| g.last_name.as_str()).collect::<Vec<_>>(), ["Иванова"]);
    let subjects: Vec<String> = store.subjects(school).await.unwrap().into_iter().map(|s| s.name).collect();
    assert!(subjects.contains(&"Математика".to_string()) && subjects.contains(&"Английский язык".to_string()));

    // Sign-ins made before the upgrade still work.
    let director = store.credentials("smirnova.op").await.unwrap().expect("the director's login");
    assert!(director.password_hash.as_deref().is_some_and(|h| h.starts_with("$argon2id$")));
    assert!(!director.must_change_password && director.active);
    let session = "9f2c1e7d5b3a4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6";
    assert_eq!(store.session_person(session, NOW).await.unwrap(), Some(director.person_id));

    // What came after the release works on the old rows: the automatic
    // chats are made for them, and a person added now gets a fresh id.
    let plan = store.reconcile(school, storage::Run::Apply, NOW).await.unwrap();
    let class_chat = plan.create.iter().find(|c| c.name.contains("5А")).expect("the release had no chats: 5А gets one");
    let teacher = five_a.class_teacher_id.unwrap();
    assert!(class_chat.members.iter().any(|m| m.person_id == i64::from(teacher) && m.admin), "{class_chat:?}");
    assert!(
        store.reconcile(school, storage::Run::Apply, NOW).await.unwrap().is_empty(),
        "and then the chats match the roster"
    );
    let new = storage::NewPerson {
        name: PersonName::parse("Новикова", "Вера", None).unwrap(),
        login: Login::parse("novikova.v").unwrap(),
        roles: vec![Role::Guardian],
    };
    let id = store.create_person(school, &new).await.unwrap();
    assert!(id > roster::ids::PersonId(8), "ids continue after the release's rows: {id}");
    db.finish().await;
}
