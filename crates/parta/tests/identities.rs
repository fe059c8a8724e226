//! `parta check identities`: Parta IDs that mix a student with other people
//! (made before the family rules) are listed, nothing is changed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use testkit::fresh_db;

fn check(url: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_parta"))
        .args(["check", "identities"])
        .env("PARTA_DATABASE_URL", url)
        .env("PARTA_LOG", "warn")
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn a_student_on_a_parents_parta_id_is_reported_and_left_as_it_is() {
    let db = fresh_db().await;
    let now = 1_780_000_000;
    let (org, teacher, _) = testkit::fixture::school_with_linked_class_teacher(&db.store, now).await;
    let (ok, out) = check(&db.url);
    assert!(ok, "{out}");
    assert!(out.contains("no Parta ID mixes"), "{out}");

    let student = db.store.credentials("student1").await.unwrap().unwrap().person_id;
    db.execute(&format!(
        "INSERT INTO profile_links (profile_id, person_id, org_id, linked_at) \
         SELECT profile_id, {student}, org_id, 0 FROM profile_links WHERE person_id = {teacher} AND org_id = {org}"
    ))
    .await;
    let (ok, out) = check(&db.url);
    assert!(!ok, "a mix fails the check: {out}");
    assert!(out.contains("Королёва Алёна (student, Школа № 1)"), "{out}");
    assert!(out.contains("Учителева Ольга (Школа № 1)"), "{out}");
    assert!(out.contains("+7 912 ***-**-01"), "{out}");
    assert!(out.contains("child profile"), "says what to do: {out}");
    assert_eq!(db.store.mixed_parta_ids().await.unwrap().len(), 1, "nothing was changed");
    db.finish().await;
}
