//! A small school as an import batch, shared by the storage and server suites.
#![allow(clippy::unwrap_used)]

use roster::import::*;
use roster::{ClassName, Login, OrgKind, PersonName, Role};

pub fn origin(file: &'static str, line: u64) -> Origin {
    Origin { file, line }
}

pub fn row<T>(id: &str, file: &'static str, line: u64, data: T) -> Row<T> {
    Row { source_id: id.into(), origin: origin(file, line), deleted: false, data }
}

pub fn person(id: &str, last: &str, first: &str, login: &str, roles: &[Role]) -> Row<Person> {
    row(
        id,
        "users.csv",
        2,
        Person {
            name: PersonName::parse(last, first, None).unwrap(),
            login: Some(Login::parse(login).unwrap()),
            password: None,
            roles: roles.iter().map(|r| (*r, "s1".into())).collect(),
        },
    )
}

pub fn enrollment(id: &str, person: &str, target: &str, role: EnrollmentRole, primary: bool) -> Row<Enrollment> {
    row(
        id,
        "enrollments.csv",
        2,
        Enrollment { person: person.into(), target: target.into(), role, primary, begin: None, end: None },
    )
}

pub fn bulk<T>(rows: Vec<T>) -> Part<T> {
    Part { mode: Mode::Bulk, rows }
}

/// A small school: an administrator, two teachers (one of them also a parent),
/// two students in 5А, one in 5Б, and a mother of two.
pub fn school() -> Batch {
    use EnrollmentRole::*;
    Batch {
        orgs: bulk(vec![row(
            "s1",
            "orgs.csv",
            2,
            Org { name: "Школа № 1".into(), kind: OrgKind::GeneralEducation, chats_enabled: true },
        )]),
        years: bulk(vec![row(
            "y1",
            "academicSessions.csv",
            2,
            AcademicYear {
                title: "2026/2027".into(),
                start: "2026-09-01".parse().unwrap(),
                end: "2027-08-31".parse().unwrap(),
            },
        )]),
        people: bulk(vec![
            person("a1", "Директорова", "Анна", "director", &[Role::Administrator]),
            person("t1", "Учителева", "Ольга", "teacher1", &[Role::Teacher, Role::Guardian]),
            person("t2", "Математиков", "Пётр", "teacher2", &[Role::Teacher]),
            person("st1", "Королёва", "Алёна", "student1", &[Role::Student]),
            person("st2", "Королёв", "Иван", "student2", &[Role::Student]),
            person("st3", "Учителев", "Миша", "student3", &[Role::Student]),
            person("g1", "Королёва", "Мария", "parent1", &[Role::Guardian]),
        ]),
        classes: bulk(vec![
            row(
                "c5a",
                "classes.csv",
                2,
                Class { org: "s1".into(), year: Some("y1".into()), name: ClassName::parse("5А").unwrap() },
            ),
            row(
                "c5b",
                "classes.csv",
                3,
                Class { org: "s1".into(), year: Some("y1".into()), name: ClassName::parse("5Б").unwrap() },
            ),
        ]),
        subjects: bulk(vec![row("math", "courses.csv", 2, Subject { org: "s1".into(), name: "Математика".into() })]),
        sections: bulk(vec![row(
            "m5a",
            "classes.csv",
            4,
            Section {
                org: "s1".into(),
                subject: "math".into(),
                class: Some("c5a".into()),
                group: None,
                year: Some("y1".into()),
            },
        )]),
        enrollments: bulk(vec![
            enrollment("e1", "st1", "c5a", Student, false),
            enrollment("e2", "st2", "c5a", Student, false),
            enrollment("e3", "st3", "c5b", Student, false),
            enrollment("e4", "t1", "c5a", Teacher, true),
            enrollment("e5", "t2", "m5a", Teacher, false),
        ]),
        guardianships: vec![
            (origin("users.csv", 8), Guardianship { guardian: "g1".into(), student: "st1".into() }),
            (origin("users.csv", 8), Guardianship { guardian: "g1".into(), student: "st2".into() }),
            (origin("users.csv", 3), Guardianship { guardian: "t1".into(), student: "st3".into() }),
        ],
    }
}

/// The fixture school imported into `store`, with its 5А class teacher
/// (Учителева Ольга) linked to a learning profile: (org, her person, her
/// Parta ID account). Chats are not reconciled yet. The ids are bare because
/// the chats, links and messages the tests go on to use are not typed yet.
#[allow(clippy::unwrap_used)]
pub async fn school_with_linked_class_teacher(store: &storage::Store, now: i64) -> (i64, i64, i64) {
    store.apply_import(&school(), storage::Run::Apply, &|p: &str| p.to_string()).await.unwrap();
    let school = store.orgs().await.unwrap()[0].id;
    let filter = storage::PeopleFilter { query: Some("Учителева".into()), limit: 5, ..Default::default() };
    let teacher = store.people(school, &filter).await.unwrap()[0].id;
    let (org, teacher) = (school.into(), teacher.into());
    store.create_proof("proof", "+79120000001", now + 900).await.unwrap();
    let about = PersonName::parse("Учителева", "Ольга", None).unwrap();
    let link = storage::NewLink {
        org_id: org,
        person_id: teacher,
        proof_hash: "proof".into(),
        target: storage::LinkAs::New(about),
    };
    store.link_profile(&link, now).await.unwrap();
    let account = store.link_of(org, teacher).await.unwrap().unwrap().account_id;
    (org, teacher, account)
}
