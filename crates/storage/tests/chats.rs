//! The reconciler against a real database (SQLite, or PostgreSQL with
//! `PARTA_TEST_POSTGRES`): the rules themselves are proven in the
//! `provisioning` crate; these tests prove that loading, planning and applying
//! round-trip through storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster::PersonName;
use roster::ids::{OrgId, PersonId};
use storage::{LinkChange, NewLink, PeopleFilter, Run, Store};
use testkit::fixture::school;
use testkit::fresh_db;

const NOW: i64 = 1_800_000_000;

fn day(iso: &str) -> chrono::NaiveDate {
    iso.parse().unwrap()
}

// The ids here are bare: the chats and links these tests are about take bare
// ids still, so the roster's typed ones are converted where they meet.
async fn setup(store: &Store) -> i64 {
    store.apply_import(&school(), storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    store.orgs().await.unwrap()[0].id.into()
}

async fn person(store: &Store, org: i64, q: &str) -> i64 {
    let filter = PeopleFilter { query: Some(q.into()), limit: 5, ..PeopleFilter::default() };
    store.people(OrgId(org), &filter).await.unwrap()[0].id.into()
}

async fn link(store: &Store, org: i64, person: i64, phone: &str) {
    let proof = format!("proof-{phone}");
    store.create_proof(&proof, phone, NOW + 900).await.unwrap();
    let about = PersonName::parse("Тестова", "Анна", None).unwrap();
    store
        .link_profile(
            &NewLink { org_id: org, person_id: person, proof_hash: proof, target: storage::LinkAs::New(about) },
            NOW,
        )
        .await
        .unwrap();
}

async fn chat_names(store: &Store, org: i64, person: i64) -> Vec<String> {
    store.person_chats(org, person).await.unwrap().into_iter().map(|c| c.name).collect()
}

#[tokio::test]
async fn the_first_reconciliation_makes_every_chat_and_the_second_changes_nothing() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let plan = db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    let mut names: Vec<_> = plan.create.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["5А класс", "5Б класс", "Математика 5А", "Родители 5А", "Родители 5Б", "Учительская"]);
    assert!(db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap().is_empty());
    let dry = db.store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert!(dry.is_empty(), "a dry run of a reconciled school has nothing to do:\n{dry}");
    db.finish().await;
}

#[tokio::test]
async fn a_dry_run_plans_but_writes_nothing() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let dry = db.store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert_eq!(dry.create.len(), 6);
    assert_eq!(db.store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap().create.len(), 6, "nothing was created");
    db.finish().await;
}

#[tokio::test]
async fn a_linked_student_sees_their_chats_and_moves_with_their_class() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    let alena = person(&db.store, org, "алёна").await;
    assert!(chat_names(&db.store, org, alena).await.is_empty(), "pending until linked");

    link(&db.store, org, alena, "+79120000001").await;
    db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert_eq!(chat_names(&db.store, org, alena).await, ["5А класс", "Математика 5А"]);

    let c5b = db.store.classes(OrgId(org)).await.unwrap().into_iter().find(|c| c.name == "5Б").unwrap().id;
    db.store.move_student(OrgId(org), PersonId(alena), c5b, day("2026-11-29")).await.unwrap();
    let plan = db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert!(plan.to_string().contains("5Б"), "{plan}");
    assert_eq!(chat_names(&db.store, org, alena).await, ["5Б класс"]);

    db.store.unlink_profile(org, alena, NOW).await.unwrap();
    db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert!(chat_names(&db.store, org, alena).await.is_empty());
    db.finish().await;
}

#[tokio::test]
async fn switching_the_module_off_hides_the_chats_and_on_brings_them_back() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let teacher = person(&db.store, org, "учителева").await;
    link(&db.store, org, teacher, "+79120000002").await;
    db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    let before = chat_names(&db.store, org, teacher).await;
    assert_eq!(before, ["Учительская", "5А класс", "Родители 5А", "Родители 5Б"], "teacher and parent: the union");

    db.store.set_chats_enabled(OrgId(org), false).await.unwrap();
    let plan = db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert_eq!(plan.set_state.len(), 6);
    assert!(chat_names(&db.store, org, teacher).await.is_empty());
    db.store.set_chats_enabled(OrgId(org), true).await.unwrap();
    db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert_eq!(chat_names(&db.store, org, teacher).await, before);
    db.finish().await;
}

/// Rows of a table, counted straight in the database.
async fn rows(url: &str, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n = sqlx::query_scalar(&sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// The fixture school with `n` more students in `class`, each with a guardian.
fn big_school(n: usize, class: &str) -> roster::import::Batch {
    use roster::Role;
    use roster::import::{EnrollmentRole, Guardianship};
    use testkit::fixture::{enrollment, origin, person};
    let mut batch = school();
    for i in 0..n {
        batch.people.rows.push(person(
            &format!("bs{i}"),
            "Многоученикова",
            &format!("Ученица{i}"),
            &format!("bs{i}"),
            &[Role::Student],
        ));
        batch.people.rows.push(person(
            &format!("bg{i}"),
            "Многоученикова",
            &format!("Мама{i}"),
            &format!("bg{i}"),
            &[Role::Guardian],
        ));
        batch.enrollments.rows.push(enrollment(
            &format!("be{i}"),
            &format!("bs{i}"),
            class,
            EnrollmentRole::Student,
            false,
        ));
        batch.guardianships.push((
            origin("users.csv", 2),
            Guardianship { guardian: format!("bg{i}").as_str().into(), student: format!("bs{i}").as_str().into() },
        ));
    }
    batch
}

#[tokio::test]
async fn plans_larger_than_one_statement_are_written_in_full() {
    // 15,100 students and as many guardians: a class chat and a parents chat
    // each larger than the rows one statement takes (the adds bind 5 values a
    // row, the removals 2, the log 6; SQLite allows 32,766 values).
    const N: usize = 15_100;
    let db = fresh_db().await;
    db.store.apply_import(&big_school(N, "c5a"), storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    let org: i64 = db.store.orgs().await.unwrap()[0].id.into();

    let plan = db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    let memberships: usize = plan.create.iter().map(|c| c.members.len()).sum();
    let size = |name: &str| plan.create.iter().find(|c| c.name == name).map(|c| c.members.len());
    assert_eq!(plan.create.len(), 6);
    assert_eq!(size("5А класс"), Some(N + 3), "two students, the class teacher and the big class");
    assert_eq!(size("Родители 5А"), Some(N + 2), "a guardian each, the mother of two and the class teacher");
    assert_eq!(size("Математика 5А"), Some(N + 3), "the whole class and its teacher");
    assert_eq!(rows(&db.url, "chat_members").await, memberships as i64);
    assert_eq!(rows(&db.url, "provisioning_log").await, (6 + memberships) as i64, "a line per chat and member");
    let again = db.store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert!(again.is_empty(), "every membership was written as planned: {} changes left", again.change_count());

    // Everyone moves to 5Б: as many removals and additions in one plan.
    db.store.apply_import(&big_school(N, "c5b"), storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    let plan = db.store.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();
    assert_eq!(plan.remove.len(), 3 * N, "the students leave 5А and its subject, their guardians «Родители 5А»");
    assert_eq!(plan.add.len(), 2 * N);
    assert!(plan.remove.iter().any(|r| r.reason == "переведён(а) в 5Б"), "a move says where to");
    let log = rows(&db.url, "provisioning_log").await;
    assert_eq!(log, (6 + memberships + plan.remove.len() + plan.add.len()) as i64, "a line per change");
    assert_eq!(rows(&db.url, "chat_members").await, (memberships - N) as i64, "5Б has no subject chat");
    let again = db.store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert!(again.is_empty(), "{} changes left", again.change_count());
    db.finish().await;
}

/// Makes `change`, then checks that reconciling only `people`'s chats plans
/// exactly what reconciling the whole organisation would, and leaves nothing.
async fn scoped_equals_whole(store: &Store, org: i64, people: &[i64], what: &str) {
    let whole = store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert!(!whole.is_empty(), "{what}: the change must change chats");
    let people: Vec<PersonId> = people.iter().copied().map(PersonId).collect();
    let scoped = store.reconcile_people(OrgId(org), &people, Run::Apply, NOW).await.unwrap();
    assert_eq!(scoped, whole, "{what}:\nscoped:\n{scoped}\nwhole organisation:\n{whole}");
    let rest = store.reconcile(OrgId(org), Run::DryRun, NOW).await.unwrap();
    assert!(rest.is_empty(), "{what}: left\n{rest}");
}

#[tokio::test]
async fn reconciling_the_chats_of_the_people_a_change_concerns_is_the_whole_plan() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let s = &db.store;
    let (alena, ivan, misha) =
        (person(s, org, "алёна").await, person(s, org, "иван").await, person(s, org, "миша").await);
    let (mother, teacher) = (person(s, org, "мария").await, person(s, org, "учителева").await);
    let math = person(s, org, "математиков").await;
    // Chats created while nobody has linked: a first link activates.
    s.reconcile(OrgId(org), Run::Apply, NOW).await.unwrap();

    link(s, org, alena, "+79120000011").await;
    scoped_equals_whole(s, org, &[alena], "a student links").await;
    link(s, org, mother, "+79120000012").await;
    scoped_equals_whole(s, org, &[mother], "a guardian links").await;
    link(s, org, teacher, "+79120000013").await;
    scoped_equals_whole(s, org, &[teacher], "a class teacher who is also a parent links").await;
    link(s, org, math, "+79120000014").await;
    scoped_equals_whole(s, org, &[math], "a subject teacher links").await;

    let c5b = s.classes(OrgId(org)).await.unwrap().into_iter().find(|c| c.name == "5Б").unwrap().id;
    let c5a = s.classes(OrgId(org)).await.unwrap().into_iter().find(|c| c.name == "5А").unwrap().id;
    s.move_student(OrgId(org), PersonId(alena), c5b, day("2026-11-29")).await.unwrap();
    scoped_equals_whole(s, org, &[alena], "a student moves to 5Б").await;
    s.move_student(OrgId(org), PersonId(ivan), c5b, day("2026-11-29")).await.unwrap();
    scoped_equals_whole(s, org, &[ivan], "their brother follows: the mother leaves «Родители 5А»").await;
    s.move_student(OrgId(org), PersonId(alena), c5a, day("2026-11-30")).await.unwrap();
    scoped_equals_whole(s, org, &[alena], "and she moves back").await;

    s.set_guardianship(OrgId(org), PersonId(mother), PersonId(ivan), LinkChange::Remove).await.unwrap();
    scoped_equals_whole(s, org, &[mother], "a guardianship ends: the mother leaves «Родители 5Б»").await;
    s.set_guardianship(OrgId(org), PersonId(mother), PersonId(ivan), LinkChange::Add).await.unwrap();
    scoped_equals_whole(s, org, &[mother], "and is back").await;

    s.unlink_profile(org, teacher, NOW).await.unwrap();
    scoped_equals_whole(s, org, &[teacher], "the class teacher unlinks").await;
    s.unlink_profile(org, alena, NOW).await.unwrap();
    scoped_equals_whole(s, org, &[alena], "a student unlinks").await;
    assert!(
        s.reconcile_people(OrgId(org), &[PersonId(ivan), PersonId(misha)], Run::Apply, NOW).await.unwrap().is_empty(),
        "nothing to do is nothing"
    );
    db.finish().await;
}
