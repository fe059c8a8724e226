//! `parta import oneroster` end to end: the real binary, real packages, a fresh
//! database (SQLite, or PostgreSQL with `PARTA_TEST_POSTGRES`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use testkit::{TestDb, fresh_db};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../oneroster/tests/fixtures").join(name)
}

fn parta(db: &TestDb, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parta"))
        .args(args)
        .env("PARTA_DATABASE_URL", &db.url)
        .env("PARTA_LOG", "warn")
        .output()
        .unwrap()
}

fn import(db: &TestDb, path: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["import", "oneroster", path.to_str().unwrap()];
    args.extend(extra);
    let out = parta(db, &args);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// The row of the summary table for one entity: (added, changed, deactivated).
fn counts(summary: &str, entity: &str) -> (u64, u64, u64) {
    let line = summary.lines().find(|l| l.starts_with(entity)).unwrap_or_else(|| panic!("no {entity} in\n{summary}"));
    let n: Vec<u64> = line[entity.len()..].split_whitespace().map(|v| v.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

fn write_package(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

const DELTA_MANIFEST: &str = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\n\
    file.users,delta\nfile.enrollments,delta\nfile.orgs,absent\nfile.classes,absent\nfile.courses,absent\n\
    file.academicSessions,absent\n";
const USERS_HEADER: &str = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n";
const ENROLLMENTS_HEADER: &str =
    "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n";

#[tokio::test]
async fn a_bulk_package_then_a_delta_package_apply_and_a_repeat_changes_nothing() {
    let db = fresh_db().await;
    let (ok, out) = import(&db, &fixture("v1_1"), &[]);
    assert!(ok, "{out}");
    assert_eq!(counts(&out, "people"), (5, 0, 0));
    assert_eq!(counts(&out, "classes"), (1, 0, 0));
    assert!(out.contains("rows/s"), "{out}");

    let (ok, again) = import(&db, &fixture("v1_1"), &[]);
    assert!(ok, "{again}");
    assert_eq!(counts(&again, "people"), (0, 0, 0));
    assert_eq!(counts(&again, "enrollments"), (0, 0, 0));

    let delta = tempfile::tempdir().unwrap();
    let users = format!(
        "{USERS_HEADER}u-student,active,2026-11-01,true,org-s1,student,ivanov.m,,Михаил,Иванов-Петров,,,,,,u-parent,05,\n\
         u-aide,tobedeleted,2026-11-01,true,org-s1,aide,,,Вера,Кузнецова,,,,,,,,\n\
         u-new,active,2026-11-01,true,org-s1,student,sidorova.e,,Елена,Сидорова,,,,,,,05,\n"
    );
    let enrollments = format!("{ENROLLMENTS_HEADER}e9,active,2026-11-01,k-5a,org-s1,u-new,student,false,2026-11-02,\n");
    write_package(
        delta.path(),
        &[("manifest.csv", DELTA_MANIFEST), ("users.csv", &users), ("enrollments.csv", &enrollments)],
    );
    let (ok, out) = import(&db, delta.path(), &[]);
    assert!(ok, "{out}");
    assert_eq!(counts(&out, "people"), (1, 1, 1));
    assert_eq!(counts(&out, "enrollments"), (1, 0, 0));
    assert_eq!(counts(&out, "classes"), (0, 0, 0));

    let org = db.store.orgs().await.unwrap().into_iter().find(|o| o.name == "Школа № 5").unwrap();
    let class = &db.store.classes(org.id).await.unwrap()[0];
    assert_eq!((class.name.as_str(), class.students), ("5А", 2));
    db.finish().await;
}

#[tokio::test]
async fn a_refused_package_names_the_line_and_changes_nothing() {
    let db = fresh_db().await;
    assert!(import(&db, &fixture("v1_1"), &[]).0);
    let delta = tempfile::tempdir().unwrap();
    let users =
        format!("{USERS_HEADER}u-new,active,2026-11-01,true,org-s1,student,sidorova.e,,Елена,Сидорова,,,,,,,05,\n");
    let enrollments = format!("{ENROLLMENTS_HEADER}e9,active,2026-11-01,k-9z,org-s1,u-new,student,false,,\n");
    write_package(
        delta.path(),
        &[("manifest.csv", DELTA_MANIFEST), ("users.csv", &users), ("enrollments.csv", &enrollments)],
    );
    let (ok, out) = import(&db, delta.path(), &[]);
    assert!(!ok);
    assert!(out.contains("enrollments.csv, line 2: unknown class \"k-9z\""), "{out}");
    assert!(out.contains("nothing was imported"), "{out}");
    let org = db.store.orgs().await.unwrap().into_iter().find(|o| o.name == "Школа № 5").unwrap();
    let people = db.store.people(org.id, &storage::PeopleFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert!(people.iter().all(|p| p.last_name != "Сидорова"), "the new person must not have been stored");
    db.finish().await;
}

#[tokio::test]
async fn a_malformed_package_is_reported_with_file_line_and_column() {
    let db = fresh_db().await;
    let broken = tempfile::tempdir().unwrap();
    let users = format!("{USERS_HEADER}u1,,,true,org-s1,wizard,merlin,,Мерлин,Волшебников,,,,,,,,\n");
    write_package(broken.path(), &[("users.csv", &users)]);
    let (ok, out) = import(&db, broken.path(), &[]);
    assert!(!ok);
    assert!(out.contains("users.csv, line 2, column role"), "{out}");
    assert!(db.store.is_empty().await.unwrap());
    db.finish().await;
}

#[tokio::test]
async fn a_dry_run_prints_the_plan_and_writes_nothing() {
    let db = fresh_db().await;
    let (ok, out) = import(&db, &fixture("v1_2"), &["--dry-run"]);
    assert!(ok, "{out}");
    assert!(counts(&out, "people").0 > 0);
    assert!(out.contains("dry run: nothing was changed"));
    assert!(db.store.is_empty().await.unwrap());
    db.finish().await;
}

#[tokio::test]
async fn a_generated_region_imports_cleanly() {
    let db = fresh_db().await;
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("region");
    let generated = parta(&db, &["demo", "generate-oneroster", "--schools", "2", out_dir.to_str().unwrap()]);
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    let (ok, out) = import(&db, &out_dir, &[]);
    assert!(ok, "{out}");
    assert_eq!(counts(&out, "organisations").0, 2);
    assert!(counts(&out, "people").0 > 5_000, "{out}");
    db.finish().await;
}

#[tokio::test]
async fn an_import_provisions_the_chats_and_a_dry_run_afterwards_has_nothing_to_do() {
    let db = fresh_db().await;
    let package = tempfile::tempdir().unwrap();
    demo::write_demo_package(package.path()).unwrap();
    let (ok, out) = import(&db, package.path(), &[]);
    assert!(ok, "{out}");
    let changes: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("chats: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no chats line in\n{out}"));
    assert!(changes > 400, "{out}");

    let out = parta(&db, &["provision", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert_eq!(text.trim(), "nothing to do: the chats match the roster");
    db.finish().await;
}

#[tokio::test]
async fn a_bulk_load_can_leave_the_chats_for_later_and_provision_shows_the_plan() {
    let db = fresh_db().await;
    let (ok, out) = import(&db, &fixture("v1_1"), &["--skip-chats"]);
    assert!(ok, "{out}");
    assert!(out.contains("run `parta provision`"), "{out}");
    let out = parta(&db, &["provision", "--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Учительская"), "the plan names the chats it would create:\n{text}");
    assert!(text.contains("dry run:"), "{text}");
    let out = parta(&db, &["provision"]);
    assert!(out.status.success());
    let out = parta(&db, &["provision", "--dry-run"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "nothing to do: the chats match the roster");
    db.finish().await;
}
