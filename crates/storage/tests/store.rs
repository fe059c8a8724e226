//! The storage suite. Runs on SQLite, and on PostgreSQL when
//! `PARTA_TEST_POSTGRES` is set (see the `testkit` crate).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster::ids::{ClassId, OrgId, PersonId};
use roster::import::*;
use roster::{ClassName, Login, PersonName, Role};
use storage::{Conflict, ImportError, LinkChange, PeopleFilter, StorageError, Store};
use testkit::fixture::{enrollment, origin, person, school};
use testkit::fresh_db;

fn day(iso: &str) -> chrono::NaiveDate {
    iso.parse().unwrap()
}

fn plain(p: &str) -> String {
    format!("hash:{p}")
}

async fn import(store: &Store, batch: &Batch) -> Summary {
    store.apply_import(batch, storage::Run::Apply, &plain).await.unwrap()
}

fn counts(summary: &Summary, entity: &str) -> Counts {
    summary.entities.iter().find(|(e, _)| *e == entity).map(|(_, c)| *c).unwrap()
}

async fn org_id(store: &Store) -> OrgId {
    store.orgs().await.unwrap()[0].id
}

async fn class_id(store: &Store, org: OrgId, name: &str) -> ClassId {
    store.classes(org).await.unwrap().into_iter().find(|c| c.name == name).unwrap().id
}

async fn person_id(store: &Store, org: OrgId, q: &str) -> PersonId {
    let filter = PeopleFilter { query: Some(q.into()), limit: 10, ..PeopleFilter::default() };
    let found = store.people(org, &filter).await.unwrap();
    assert_eq!(found.len(), 1, "{q}: {found:?}");
    found[0].id
}

#[tokio::test]
async fn a_package_builds_the_roster_and_importing_it_again_changes_nothing() {
    let db = fresh_db().await;
    let first = import(&db.store, &school()).await;
    assert_eq!(counts(&first, "people").added, 7);
    assert_eq!(counts(&first, "roles").added, 8);
    assert_eq!(counts(&first, "guardianships").added, 3);

    let org = org_id(&db.store).await;
    let classes = db.store.classes(org).await.unwrap();
    assert_eq!(classes.iter().map(|c| (c.name.as_str(), c.students)).collect::<Vec<_>>(), [("5А", 2), ("5Б", 1)]);
    assert_eq!(classes[0].class_teacher_name.as_deref(), Some("Учителева Ольга"));
    assert_eq!(classes[0].year.as_deref(), Some("2026/2027"));

    let c5a = classes[0].id;
    let students = db.store.class_students(org, c5a).await.unwrap();
    assert_eq!(students.len(), 2);
    assert!(students.iter().all(|s| s.guardians.iter().any(|g| g.first_name == "Мария")));
    let sections = db.store.class_sections(org, c5a).await.unwrap();
    assert_eq!(sections[0].subject, "Математика");
    assert_eq!(sections[0].teachers[0].last_name, "Математиков");

    let second = import(&db.store, &school()).await;
    for (entity, c) in &second.entities {
        assert_eq!(*c, Counts::default(), "{entity} changed on a repeated import");
    }
    db.finish().await;
}

#[tokio::test]
async fn a_bulk_file_deactivates_what_it_no_longer_lists() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let mut next = school();
    next.people.rows.retain(|p| p.source_id != "st3");
    next.enrollments.rows.retain(|e| e.data.person != "st3");
    next.guardianships.retain(|(_, g)| g.student != "st3");
    let summary = import(&db.store, &next).await;
    assert_eq!(counts(&summary, "people").deactivated, 1);
    assert_eq!(counts(&summary, "enrollments").deactivated, 1);
    assert_eq!(counts(&summary, "guardianships").deactivated, 1);
    let org = org_id(&db.store).await;
    let c5b = class_id(&db.store, org, "5Б").await;
    assert!(db.store.class_students(org, c5b).await.unwrap().is_empty());
    db.finish().await;
}

#[tokio::test]
async fn a_delta_package_changes_only_the_rows_it_names() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let mut renamed = person("st1", "Королёва", "Алёна", "student1", &[Role::Student]);
    renamed.data.name = PersonName::parse("Иванова", "Алёна", None).unwrap();
    let mut gone = enrollment("e3", "st3", "c5b", EnrollmentRole::Student, false);
    gone.deleted = true;
    let delta = Batch {
        people: Part { mode: Mode::Delta, rows: vec![renamed] },
        enrollments: Part {
            mode: Mode::Delta,
            rows: vec![gone, enrollment("e6", "st3", "c5a", EnrollmentRole::Student, false)],
        },
        ..Batch::default()
    };
    let summary = import(&db.store, &delta).await;
    assert_eq!(counts(&summary, "people"), Counts { added: 0, changed: 1, deactivated: 0 });
    assert_eq!(counts(&summary, "enrollments"), Counts { added: 1, changed: 0, deactivated: 1 });
    let org = org_id(&db.store).await;
    let classes = db.store.classes(org).await.unwrap();
    assert_eq!(classes.iter().map(|c| c.students).collect::<Vec<_>>(), [3, 0]);
    person_id(&db.store, org, "иванова").await;
    // The delta named no guardianships, so the existing ones stay.
    let c5a = class_id(&db.store, org, "5А").await;
    let with_guardians =
        db.store.class_students(org, c5a).await.unwrap().iter().filter(|s| !s.guardians.is_empty()).count();
    assert_eq!(with_guardians, 3);
    db.finish().await;
}

#[tokio::test]
async fn a_dangling_reference_refuses_the_whole_package_and_names_its_line() {
    let db = fresh_db().await;
    let mut batch = school();
    batch.enrollments.rows.push(Row {
        origin: origin("enrollments.csv", 41),
        ..enrollment("e9", "st1", "no-such-class", EnrollmentRole::Student, false)
    });
    let Err(ImportError::Rejected(problems)) = db.store.apply_import(&batch, storage::Run::Apply, &plain).await else {
        panic!("the package must be refused");
    };
    assert_eq!(problems, [(origin("enrollments.csv", 41), "unknown class \"no-such-class\"".to_string())]);
    assert!(db.store.is_empty().await.unwrap(), "nothing may be written");
    db.finish().await;
}

#[tokio::test]
async fn a_login_used_twice_is_refused_with_both_places() {
    let db = fresh_db().await;
    let mut batch = school();
    let mut twin = person("x1", "Двойников", "Олег", "student1", &[Role::Student]);
    twin.origin = origin("users.csv", 30);
    batch.people.rows.push(twin);
    let Err(ImportError::Rejected(problems)) = db.store.apply_import(&batch, storage::Run::Apply, &plain).await else {
        panic!("the package must be refused");
    };
    assert_eq!(problems[0].0, origin("users.csv", 30));
    assert!(problems[0].1.contains("student1"), "{}", problems[0].1);
    db.finish().await;
}

/// A region's people are planned and written a chunk of rows at a time; a login
/// that another person holds when the import begins is refused wherever in the
/// file either of them is, even when the holder gives it up in the same package.
#[tokio::test]
async fn a_login_moving_to_another_person_is_refused_anywhere_in_a_large_file() {
    let db = fresh_db().await;
    let mut batch = school();
    let first = batch.people.rows.len();
    for i in 0..5_000 {
        let mut p = person(&format!("many{i}"), "Многоликов", "Иван", &format!("many{i}"), &[Role::Student]);
        p.origin = origin("users.csv", 100 + i);
        batch.people.rows.push(p);
    }
    assert_eq!(counts(&import(&db.store, &batch).await, "people").added, 5_007);
    let again = import(&db.store, &batch).await;
    assert!(again.entities.iter().all(|(_, c)| *c == Counts::default()), "{again:?}");

    let login = |l: &str| Some(Login::parse(l).unwrap());
    let taken = |login: &str| format!("login \"{login}\" already belongs to another person");
    // Given up near the top, taken far below.
    let mut next = batch.clone();
    next.people.rows[first + 1].data.login = login("renamed1");
    next.people.rows[first + 4_500].data.login = login("many1");
    let Err(ImportError::Rejected(problems)) = db.store.apply_import(&next, storage::Run::Apply, &plain).await else {
        panic!("the package must be refused");
    };
    assert_eq!(problems, [(origin("users.csv", 4_600), taken("many1"))]);
    // Taken near the top, given up far below.
    let mut next = batch.clone();
    next.people.rows[first + 2].data.login = login("many4600");
    next.people.rows[first + 4_600].data.login = login("renamed2");
    let Err(ImportError::Rejected(problems)) = db.store.apply_import(&next, storage::Run::Apply, &plain).await else {
        panic!("the package must be refused");
    };
    assert_eq!(problems, [(origin("users.csv", 102), taken("many4600"))]);
    assert!(db.store.credentials("renamed1").await.unwrap().is_none(), "nothing may be written");
    assert!(db.store.credentials("renamed2").await.unwrap().is_none(), "nothing may be written");
    db.finish().await;
}

#[tokio::test]
async fn a_dry_run_counts_the_changes_and_writes_nothing() {
    let db = fresh_db().await;
    let summary = db.store.apply_import(&school(), storage::Run::DryRun, &plain).await.unwrap();
    assert_eq!(counts(&summary, "people").added, 7);
    assert!(db.store.is_empty().await.unwrap());
    db.finish().await;
}

#[tokio::test]
async fn a_reimport_keeps_the_chats_switch_an_administrator_set() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    db.store.set_chats_enabled(org, false).await.unwrap();
    import(&db.store, &school()).await;
    assert!(!db.store.org(org).await.unwrap().chats_enabled);
    db.finish().await;
}

#[tokio::test]
async fn package_passwords_are_hashed_and_set_only_on_first_import() {
    let db = fresh_db().await;
    let mut batch = school();
    batch.people.rows[0].data.password = Some("first".into());
    import(&db.store, &batch).await;
    let creds = db.store.credentials("director").await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("hash:first"));
    db.store.set_password(creds.person_id, "hash:changed", false).await.unwrap();
    import(&db.store, &batch).await;
    let creds = db.store.credentials("director").await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("hash:changed"));
    db.finish().await;
}

#[tokio::test]
async fn people_search_ignores_case_and_yo() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    let search = |q: &str, role: Option<Role>| PeopleFilter { query: Some(q.into()), role, limit: 50, offset: 0 };
    let found = db.store.people(org, &search("КОРОЛЕВ", None)).await.unwrap();
    assert_eq!(found.len(), 3);
    let found = db.store.people(org, &search("королев", Some(Role::Student))).await.unwrap();
    assert_eq!(found.len(), 2);
    let teacher_parent = db.store.people(org, &search("учителева", None)).await.unwrap();
    assert_eq!(teacher_parent[0].roles.split(',').count(), 2);
    db.finish().await;
}

#[tokio::test]
async fn moving_a_student_closes_the_old_class_and_keeps_its_history() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    let c5b = class_id(&db.store, org, "5Б").await;
    let alena = person_id(&db.store, org, "алёна").await;
    db.store.move_student(org, alena, c5b, day("2026-11-29")).await.unwrap();
    let card = db.store.person_card(org, alena).await.unwrap();
    assert_eq!(card.classes.iter().map(|c| c.class_name.as_str()).collect::<Vec<_>>(), ["5Б"]);
    let classes = db.store.classes(org).await.unwrap();
    assert_eq!(classes.iter().map(|c| c.students).collect::<Vec<_>>(), [1, 2]);
    db.finish().await;
}

#[tokio::test]
async fn edits_are_refused_for_the_wrong_role_or_another_organisation() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    let c5a = class_id(&db.store, org, "5А").await;
    let student = person_id(&db.store, org, "алёна").await;
    let parent = person_id(&db.store, org, "мария").await;
    let teacher = person_id(&db.store, org, "математиков").await;

    let not_teacher = db.store.set_class_teacher(org, c5a, Some(student)).await;
    assert!(matches!(not_teacher, Err(StorageError::Conflict(Conflict::NotATeacher))));
    let reversed = db.store.set_guardianship(org, student, parent, LinkChange::Add).await;
    assert!(matches!(reversed, Err(StorageError::Conflict(Conflict::NotAGuardian))));
    let renamed = PersonName::parse("Другой", "Человек", None).unwrap();
    let no_roles = db.store.update_person(org, teacher, &renamed, Some(&[])).await;
    assert!(matches!(no_roles, Err(StorageError::Conflict(Conflict::LastRole))));
    let card = db.store.person_card(org, teacher).await.unwrap();
    assert_eq!(card.person.last_name, "Математиков", "a refused edit changes nothing");

    let other_org = OrgId(org.0 + 1000);
    assert!(matches!(db.store.class_students(other_org, c5a).await, Err(StorageError::NotFound)));
    assert!(matches!(
        db.store.rename_class(other_org, c5a, &ClassName::parse("6А").unwrap()).await,
        Err(StorageError::NotFound)
    ));
    assert!(matches!(db.store.person_card(other_org, student).await, Err(StorageError::NotFound)));

    db.store.set_class_teacher(org, c5a, Some(teacher)).await.unwrap();
    let class = db.store.class(org, c5a).await.unwrap();
    assert_eq!(class.class_teacher_id, Some(teacher));
    db.finish().await;
}

#[tokio::test]
async fn a_new_person_needs_a_free_login() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    let new = storage::NewPerson {
        name: PersonName::parse("Новикова", "Вера", Some("Ильинична")).unwrap(),
        login: Login::parse("Student1").unwrap(),
        roles: vec![Role::Guardian],
    };
    assert!(matches!(db.store.create_person(org, &new).await, Err(StorageError::Conflict(Conflict::LoginTaken))));
    let new = storage::NewPerson { login: Login::parse("novikova.v").unwrap(), ..new };
    let id = db.store.create_person(org, &new).await.unwrap();
    let card = db.store.person_card(org, id).await.unwrap();
    assert_eq!(card.person.roles, "guardian");
    assert!(!card.person.has_password);
    db.finish().await;
}

#[tokio::test]
async fn a_session_ends_at_its_expiry_or_when_deleted() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let who = db.store.credentials("director").await.unwrap().unwrap().person_id;
    db.store.create_session("h1", who, 100, 200).await.unwrap();
    assert_eq!(db.store.session_person("h1", 150).await.unwrap(), Some(who));
    assert_eq!(db.store.session_person("h1", 200).await.unwrap(), None);
    db.store.delete_session("h1").await.unwrap();
    assert_eq!(db.store.session_person("h1", 150).await.unwrap(), None);
    db.finish().await;
}

#[tokio::test]
async fn the_password_slip_lists_students_and_parents_without_passwords() {
    let db = fresh_db().await;
    import(&db.store, &school()).await;
    let org = org_id(&db.store).await;
    let c5a = class_id(&db.store, org, "5А").await;
    let slips = db.store.password_candidates(org, c5a).await.unwrap();
    let mut logins: Vec<_> = slips.iter().map(|s| (s.role.as_str(), s.login.as_str())).collect();
    logins.sort();
    assert_eq!(logins, [("guardian", "parent1"), ("student", "student1"), ("student", "student2")]);
    db.finish().await;
}
