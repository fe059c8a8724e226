//! The reconciler against a real database (SQLite, or PostgreSQL with
//! `PARTA_TEST_POSTGRES`): the rules themselves are proven in the
//! `provisioning` crate; these tests prove that loading, planning and applying
//! round-trip through storage.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use roster::PersonName;
use storage::{NewLink, PeopleFilter, Store};
use testkit::fixture::school;
use testkit::fresh_db;

const NOW: i64 = 1_800_000_000;

async fn setup(store: &Store) -> i64 {
    store.apply_import(&school(), false, &|p: &str| p.to_string()).await.unwrap();
    store.orgs().await.unwrap()[0].id
}

async fn person(store: &Store, org: i64, q: &str) -> i64 {
    let filter = PeopleFilter { query: Some(q.into()), limit: 5, ..PeopleFilter::default() };
    store.people(org, &filter).await.unwrap()[0].id
}

async fn link(store: &Store, org: i64, person: i64, phone: &str) {
    let proof = format!("proof-{phone}");
    store.create_proof(&proof, phone, NOW + 900).await.unwrap();
    let about = PersonName::parse("Тестова", "Анна", None).unwrap();
    store.link_profile(&NewLink { org_id: org, person_id: person, proof_hash: proof, about }, NOW).await.unwrap();
}

async fn chat_names(store: &Store, org: i64, person: i64) -> Vec<String> {
    store.person_chats(org, person).await.unwrap().into_iter().map(|c| c.name).collect()
}

#[tokio::test]
async fn the_first_reconciliation_makes_every_chat_and_the_second_changes_nothing() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let plan = db.store.reconcile(org, false, NOW).await.unwrap();
    let mut names: Vec<_> = plan.create.iter().map(|c| c.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["5А класс", "5Б класс", "Математика 5А", "Родители 5А", "Родители 5Б", "Учительская"]);
    assert!(db.store.reconcile(org, false, NOW).await.unwrap().is_empty());
    let dry = db.store.reconcile(org, true, NOW).await.unwrap();
    assert!(dry.is_empty(), "a dry run of a reconciled school has nothing to do:\n{dry}");
    db.finish().await;
}

#[tokio::test]
async fn a_dry_run_plans_but_writes_nothing() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let dry = db.store.reconcile(org, true, NOW).await.unwrap();
    assert_eq!(dry.create.len(), 6);
    assert_eq!(db.store.reconcile(org, true, NOW).await.unwrap().create.len(), 6, "nothing was created");
    db.finish().await;
}

#[tokio::test]
async fn a_linked_student_sees_their_chats_and_moves_with_their_class() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    db.store.reconcile(org, false, NOW).await.unwrap();
    let alena = person(&db.store, org, "алёна").await;
    assert!(chat_names(&db.store, org, alena).await.is_empty(), "pending until linked");

    link(&db.store, org, alena, "+79120000001").await;
    db.store.reconcile(org, false, NOW).await.unwrap();
    assert_eq!(chat_names(&db.store, org, alena).await, ["5А класс", "Математика 5А"]);

    let c5b = db.store.classes(org).await.unwrap().into_iter().find(|c| c.name == "5Б").unwrap().id;
    db.store.move_student(org, alena, c5b, "2026-11-29").await.unwrap();
    let plan = db.store.reconcile(org, false, NOW).await.unwrap();
    assert!(plan.to_string().contains("5Б"), "{plan}");
    assert_eq!(chat_names(&db.store, org, alena).await, ["5Б класс"]);

    db.store.unlink_profile(org, alena, NOW).await.unwrap();
    db.store.reconcile(org, false, NOW).await.unwrap();
    assert!(chat_names(&db.store, org, alena).await.is_empty());
    db.finish().await;
}

#[tokio::test]
async fn switching_the_module_off_hides_the_chats_and_on_brings_them_back() {
    let db = fresh_db().await;
    let org = setup(&db.store).await;
    let teacher = person(&db.store, org, "учителева").await;
    link(&db.store, org, teacher, "+79120000002").await;
    db.store.reconcile(org, false, NOW).await.unwrap();
    let before = chat_names(&db.store, org, teacher).await;
    assert_eq!(before, ["Учительская", "5А класс", "Родители 5А", "Родители 5Б"], "teacher and parent: the union");

    db.store.set_chats_enabled(org, false).await.unwrap();
    let plan = db.store.reconcile(org, false, NOW).await.unwrap();
    assert_eq!(plan.set_state.len(), 6);
    assert!(chat_names(&db.store, org, teacher).await.is_empty());
    db.store.set_chats_enabled(org, true).await.unwrap();
    db.store.reconcile(org, false, NOW).await.unwrap();
    assert_eq!(chat_names(&db.store, org, teacher).await, before);
    db.finish().await;
}
