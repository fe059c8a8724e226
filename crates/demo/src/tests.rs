//! The tests read the written CSV files back, so they prove what a package says,
//! not merely what the generator meant to say.

use super::*;
use crate::names;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;

type Rows = Vec<HashMap<String, String>>;

fn read(dir: &Path, file: &str) -> Rows {
    let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers.iter().zip(rec.iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()
        })
        .collect()
}

struct Written {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
}

fn demo_package() -> Written {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    write_demo_package(&dir).unwrap();
    Written { _tmp: tmp, dir }
}

fn by_id(rows: &Rows) -> HashMap<&str, &HashMap<String, String>> {
    rows.iter().map(|r| (r["sourcedId"].as_str(), r)).collect()
}

fn agents(user: &HashMap<String, String>) -> Vec<&str> {
    user["agentSourcedIds"].split(',').filter(|s| !s.is_empty()).collect()
}

fn homeroom<'a>(classes: &'a Rows, org: &str, title: &str) -> &'a str {
    classes
        .iter()
        .find(|c| c["classType"] == "homeroom" && c["schoolSourcedId"] == org && c["title"] == title)
        .map(|c| c["sourcedId"].as_str())
        .unwrap()
}

fn students_of<'a>(enrollments: &'a Rows, class: &str) -> Vec<&'a str> {
    enrollments
        .iter()
        .filter(|e| e["classSourcedId"] == class && e["role"] == "student")
        .map(|e| e["userSourcedId"].as_str())
        .collect()
}

#[test]
fn the_demo_package_is_byte_identical_across_runs() {
    let (a, b) = (demo_package(), demo_package());
    let mut files: Vec<_> = fs::read_dir(&a.dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    files.sort();
    assert_eq!(files.len(), 8);
    for f in files {
        assert_eq!(fs::read(a.dir.join(&f)).unwrap(), fs::read(b.dir.join(&f)).unwrap(), "{f:?} differs");
    }
    assert_eq!(demo_accounts(), demo_accounts());
}

#[test]
fn every_demo_account_logs_in_with_its_password_and_nobody_else_has_one() {
    let w = demo_package();
    let users = read(&w.dir, "users.csv");
    let mut logins = HashSet::new();
    for u in &users {
        let login = &u["username"];
        assert!(logins.insert(login.clone()), "login {login} is used twice");
        assert!(
            login.len() >= 3 && login.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.'),
            "{login}"
        );
    }
    let accounts = demo_accounts();
    assert_eq!(accounts.len(), 11);
    let roles: HashSet<_> = accounts.iter().map(|a| a.role).collect();
    assert_eq!(roles.len(), 5, "every role has a demo account: {roles:?}");
    for a in &accounts {
        let u = users.iter().find(|u| u["username"] == a.login).unwrap();
        assert_eq!(u["password"], a.password);
        assert_eq!(a.password, DEMO_PASSWORD);
        assert_eq!(format!("{} {} {}", u["familyName"], u["givenName"], u["middleName"]), a.name);
        assert!(!a.note.is_empty());
    }
    let with_password = users.iter().filter(|u| !u["password"].is_empty()).count();
    assert_eq!(with_password, accounts.len());
}

#[test]
fn every_student_of_5a_has_one_or_two_guardians_who_exist() {
    let w = demo_package();
    let (users, classes, enrollments) =
        (read(&w.dir, "users.csv"), read(&w.dir, "classes.csv"), read(&w.dir, "enrollments.csv"));
    let users = by_id(&users);
    let students = students_of(&enrollments, homeroom(&classes, "s17", "5А"));
    assert!((22..=28).contains(&students.len()), "{}", students.len());
    for s in students {
        let guardians = agents(users[s]);
        assert!((1..=2).contains(&guardians.len()), "{s} has {guardians:?}");
        assert!(guardians.iter().all(|g| users.contains_key(g)));
    }
}

#[test]
fn children_carry_the_family_surname_and_the_fathers_patronymic() {
    let w = demo_package();
    let (users, roles) = (read(&w.dir, "users.csv"), read(&w.dir, "roles.csv"));
    let by = by_id(&users);
    let students: HashSet<&str> =
        roles.iter().filter(|r| r["role"] == "student").map(|r| r["userSourcedId"].as_str()).collect();
    let mut fathers = 0;
    for s in students.iter().map(|s| by[s]) {
        let female = s["middleName"].ends_with("на");
        for g in agents(s).into_iter().map(|g| by[g]) {
            if g["middleName"].ends_with("ич") {
                fathers += 1;
                assert_eq!(s["middleName"], names::patronymic(&g["givenName"], female));
                assert_eq!(s["familyName"], names::surname_form(&g["familyName"], female));
            }
        }
    }
    assert!(fathers > 500, "{fathers}");
}

#[test]
fn a_guardian_has_children_in_two_different_classes() {
    let w = demo_package();
    let (users, classes, enrollments) =
        (read(&w.dir, "users.csv"), read(&w.dir, "classes.csv"), read(&w.dir, "enrollments.csv"));
    let homerooms: HashSet<&str> =
        classes.iter().filter(|c| c["classType"] == "homeroom").map(|c| c["sourcedId"].as_str()).collect();
    let class_of: HashMap<&str, &str> = enrollments
        .iter()
        .filter(|e| e["role"] == "student" && homerooms.contains(e["classSourcedId"].as_str()))
        .map(|e| (e["userSourcedId"].as_str(), e["classSourcedId"].as_str()))
        .collect();
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for u in &users {
        for g in agents(u) {
            children.entry(g).or_default().push(&u["sourcedId"]);
        }
    }
    let siblings = children
        .values()
        .filter(|kids| {
            let classes: HashSet<_> = kids.iter().filter_map(|k| class_of.get(k)).collect();
            classes.len() >= 2
        })
        .count();
    assert!(siblings >= 10, "{siblings}");

    let parent = demo_accounts().into_iter().find(|a| a.note.contains("5А и")).unwrap();
    let id = &users.iter().find(|u| u["username"] == parent.login).unwrap()["sourcedId"];
    assert_eq!(children[id.as_str()].len(), 2);
}

#[test]
fn the_teacher_who_is_a_parent_holds_both_roles() {
    let w = demo_package();
    let (users, roles) = (read(&w.dir, "users.csv"), read(&w.dir, "roles.csv"));
    let account = demo_accounts().into_iter().find(|a| a.note.starts_with("учитель и родитель")).unwrap();
    let id = &users.iter().find(|u| u["username"] == account.login).unwrap()["sourcedId"];
    let mut held: Vec<(&str, &str, &str)> = roles
        .iter()
        .filter(|r| &r["userSourcedId"] == id)
        .map(|r| (r["role"].as_str(), r["roleType"].as_str(), r["orgSourcedId"].as_str()))
        .collect();
    held.sort();
    assert_eq!(held, [("parent", "secondary", "s17"), ("teacher", "primary", "s17")]);
    assert!(users.iter().any(|u| agents(u).contains(&id.as_str())));
}

#[test]
fn some_people_hold_roles_in_two_organisations() {
    let w = demo_package();
    let roles = read(&w.dir, "roles.csv");
    let mut orgs: HashMap<(&str, &str), HashSet<&str>> = HashMap::new();
    for r in &roles {
        orgs.entry((r["userSourcedId"].as_str(), r["role"].as_str())).or_default().insert(&r["orgSourcedId"]);
    }
    let two = |role: &str| orgs.iter().filter(|((_, r), o)| *r == role && o.len() == 2).count();
    assert!(two("student") >= 10, "students in s17 and m3: {}", two("student"));
    assert!(two("parent") >= 10, "parents in s17 and m3: {}", two("parent"));
}

#[test]
fn each_homeroom_class_has_exactly_one_primary_teacher() {
    let w = demo_package();
    let (classes, enrollments) = (read(&w.dir, "classes.csv"), read(&w.dir, "enrollments.csv"));
    let mut teachers = HashSet::new();
    for c in classes.iter().filter(|c| c["classType"] == "homeroom" && c["schoolSourcedId"] != "m3") {
        let primary: Vec<_> = enrollments
            .iter()
            .filter(|e| e["classSourcedId"] == c["sourcedId"] && e["role"] == "teacher" && e["primary"] == "true")
            .collect();
        assert_eq!(primary.len(), 1, "{}", c["title"]);
        assert!(teachers.insert(primary[0]["userSourcedId"].clone()), "one teacher leads two classes");
    }
    assert_eq!(teachers.len(), 33 + 2);
}

#[test]
fn english_is_taught_in_groups_and_every_other_subject_to_the_whole_class() {
    let w = demo_package();
    let (classes, enrollments) = (read(&w.dir, "classes.csv"), read(&w.dir, "enrollments.csv"));
    let c5a = homeroom(&classes, "s17", "5А");
    let class_size = students_of(&enrollments, c5a).len();
    let sections: Vec<_> =
        classes.iter().filter(|c| c["classType"] == "scheduled" && c["metadata.parta.class"] == c5a).collect();
    let mut grouped = 0;
    for s in &sections {
        let students = students_of(&enrollments, &s["sourcedId"]).len();
        let teachers =
            enrollments.iter().filter(|e| e["classSourcedId"] == s["sourcedId"] && e["role"] == "teacher").count();
        assert_eq!(teachers, 1, "{}", s["title"]);
        if s["title"].starts_with("Английский язык") {
            grouped += students;
            assert!(!s["metadata.parta.group"].is_empty());
        } else {
            assert_eq!(students, 0, "{}", s["title"]);
            assert!(s["metadata.parta.group"].is_empty());
        }
    }
    assert_eq!(grouped, class_size);
    assert_eq!(sections.len(), 11 + 1, "grade 5 has 11 subjects, English twice");
}

#[test]
fn region_logins_are_unique_across_schools_and_the_stats_match_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    let stats = write_region_package(tmp.path(), 3, &mut |n| seen.push(n)).unwrap();
    assert_eq!(seen, [1, 2, 3]);
    let users = read(tmp.path(), "users.csv");
    let logins: HashSet<_> = users.iter().map(|u| u["username"].as_str()).collect();
    assert_eq!(logins.len(), users.len());
    assert!(users.iter().all(|u| u["password"].is_empty()));
    assert_eq!(users.len() as u64, stats.students + stats.guardians + stats.staff);
    assert!((900..=1100).contains(&(stats.students / 3)), "{stats:?}");
    assert!((70..=90).contains(&(stats.staff / 3)), "{stats:?}");
    assert!(stats.guardians > stats.students * 17 / 10, "{stats:?}");
    let classes = read(tmp.path(), "classes.csv");
    assert_eq!(classes.len() as u64, stats.classes + stats.sections);
    assert_eq!(stats.classes, 99);
    assert_eq!(read(tmp.path(), "enrollments.csv").len() as u64, stats.enrollments);
    assert_eq!(read(tmp.path(), "orgs.csv").len(), 3);

    let again = tempfile::tempdir().unwrap();
    write_region_package(again.path(), 3, &mut |_| {}).unwrap();
    for f in ["users.csv", "enrollments.csv", "classes.csv", "roles.csv"] {
        assert_eq!(fs::read(tmp.path().join(f)).unwrap(), fs::read(again.path().join(f)).unwrap(), "{f}");
    }
}

/// The demo and the region are written from docs/oneroster.md, and so is the
/// reader: reading one with the other proves the two halves agree.
#[test]
fn the_oneroster_reader_accepts_the_demo_and_a_region_with_every_row() {
    let w = demo_package();
    let package = oneroster::read_package(&w.dir, &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(package.warnings.is_empty(), "{:?}", package.warnings);
    let b = &package.batch;
    let users = read(&w.dir, "users.csv");
    let classes = read(&w.dir, "classes.csv");
    let homerooms = classes.iter().filter(|c| c["classType"] == "homeroom").count();
    assert_eq!(b.orgs.rows.len(), 3);
    assert_eq!(b.years.rows.len(), 1);
    assert_eq!(b.people.rows.len(), users.len());
    assert_eq!(b.classes.rows.len(), homerooms);
    assert_eq!(b.sections.rows.len(), classes.len() - homerooms);
    assert_eq!(b.enrollments.rows.len(), read(&w.dir, "enrollments.csv").len());
    assert_eq!(b.guardianships.len(), users.iter().map(|u| agents(u).len()).sum::<usize>());
    assert_eq!(b.people.rows.iter().map(|p| p.data.roles.len()).sum::<usize>(), read(&w.dir, "roles.csv").len());

    let music = b.orgs.rows.iter().find(|o| o.source_id == "m3").unwrap();
    assert_eq!(music.data.kind, roster::OrgKind::Other);
    let gymnasium = b.orgs.rows.iter().find(|o| o.source_id == "g5").unwrap();
    assert!(!gymnasium.data.chats_enabled);
    for a in demo_accounts() {
        let p = b.people.rows.iter().find(|p| p.data.login.as_ref().map(|l| l.as_str()) == Some(&a.login)).unwrap();
        assert_eq!(p.data.password.as_deref(), Some(DEMO_PASSWORD));
        assert_eq!(p.data.name.to_string(), a.name);
        assert!(p.data.roles.iter().any(|(r, _)| r.as_str() == a.role), "{}: {:?}", a.login, p.data.roles);
    }

    let tmp = tempfile::tempdir().unwrap();
    let stats = write_region_package(tmp.path(), 2, &mut |_| {}).unwrap();
    let package = oneroster::read_package(tmp.path(), &mut |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(package.warnings.is_empty(), "{:?}", package.warnings);
    let b = &package.batch;
    assert_eq!(b.orgs.rows.len(), 2);
    assert_eq!(b.people.rows.len() as u64, stats.students + stats.guardians + stats.staff);
    assert_eq!(b.classes.rows.len() as u64, stats.classes);
    assert_eq!(b.sections.rows.len() as u64, stats.sections);
    assert_eq!(b.enrollments.rows.len() as u64, stats.enrollments);
}
