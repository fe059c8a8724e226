//! A small school and a world that reconciles it, shared by the test suites.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use provisioning::{
    ActualChat, ActualMember, ChatState, ClassFacts, MemberStatus, NameTemplates, OrgSnapshot, PersonFacts, Plan,
    SectionFacts, Source, apply, desired, plan,
};
use roster::{OrgKind, Role};

pub const YEAR: i64 = 2024;
pub const CLASS_5A: i64 = 1;
pub const CLASS_5B: i64 = 2;

pub const ADMIN: i64 = 1;
pub const PETROV: i64 = 2;
pub const SIDOROVA: i64 = 3;
pub const ZAVHOZOV: i64 = 4;
pub const KUZNETSOVA: i64 = 5;
pub const MARIA: i64 = 10;
pub const PETR: i64 = 11;
pub const ILYA: i64 = 12;
pub const ELENA: i64 = 20;
pub const OLGA: i64 = 21;

pub const MATH_5A: i64 = 100;
pub const RUSSIAN_5A: i64 = 101;
pub const MATH_5B: i64 = 102;
pub const RUSSIAN_5B: i64 = 103;
pub const ENGLISH_5A_1: i64 = 104;
pub const ENGLISH_5A_2: i64 = 105;

/// Builds snapshots one fact at a time.
pub struct Roster {
    snapshot: OrgSnapshot,
}

impl Roster {
    pub fn new(org_id: i64) -> Self {
        Roster {
            snapshot: OrgSnapshot {
                org_id,
                kind: OrgKind::GeneralEducation,
                chats_enabled: true,
                current_year: Some(YEAR),
                people: Vec::new(),
                classes: Vec::new(),
                class_teachers: Vec::new(),
                students: Vec::new(),
                sections: Vec::new(),
                guardianships: Vec::new(),
                templates: NameTemplates::default(),
            },
        }
    }

    pub fn person(mut self, person_id: i64, name: &str, roles: &[Role]) -> Self {
        self.snapshot.people.push(PersonFacts {
            person_id,
            name: name.to_owned(),
            roles: roles.to_vec(),
            linked: true,
        });
        self
    }

    pub fn class(mut self, class_id: i64, name: &str, year: i64) -> Self {
        self.snapshot.classes.push(ClassFacts { class_id, name: name.to_owned(), year_id: Some(year) });
        self
    }

    pub fn class_teacher(mut self, class_id: i64, person: i64) -> Self {
        self.snapshot.class_teachers.push((class_id, person));
        self
    }

    pub fn student(mut self, class_id: i64, person: i64) -> Self {
        self.snapshot.students.push((class_id, person));
        self
    }

    pub fn subject(mut self, section_id: i64, class_id: i64, subject: &str, teacher: i64) -> Self {
        self.snapshot.sections.push(SectionFacts {
            section_id,
            class_id: Some(class_id),
            subject: subject.to_owned(),
            group: None,
            teachers: vec![teacher],
            group_students: Vec::new(),
        });
        self
    }

    pub fn group(
        mut self,
        section_id: i64,
        class_id: i64,
        subject: &str,
        group: &str,
        teacher: i64,
        students: &[i64],
    ) -> Self {
        self.snapshot.sections.push(SectionFacts {
            section_id,
            class_id: Some(class_id),
            subject: subject.to_owned(),
            group: Some(group.to_owned()),
            teachers: vec![teacher],
            group_students: students.to_vec(),
        });
        self
    }

    pub fn guardian(mut self, guardian: i64, student: i64) -> Self {
        self.snapshot.guardianships.push((guardian, student));
        self
    }

    pub fn build(self) -> OrgSnapshot {
        self.snapshot
    }
}

/// Two fifth grades. Кузнецова teaches English groups in 5А and is Илья's
/// (5Б) mother; Мария and Пётр are siblings in 5А.
pub fn small_school() -> OrgSnapshot {
    Roster::new(1)
        .person(ADMIN, "Директорова Анна", &[Role::Administrator])
        .person(PETROV, "Петров Иван", &[Role::Teacher])
        .person(SIDOROVA, "Сидорова Ольга", &[Role::Teacher])
        .person(ZAVHOZOV, "Завхозов Пётр", &[Role::OtherStaff])
        .person(KUZNETSOVA, "Кузнецова Нина", &[Role::Teacher, Role::Guardian])
        .person(MARIA, "Иванова Мария", &[Role::Student])
        .person(PETR, "Иванов Пётр", &[Role::Student])
        .person(ILYA, "Смирнов Илья", &[Role::Student])
        .person(ELENA, "Иванова Елена", &[Role::Guardian])
        .person(OLGA, "Смирнова Ольга", &[Role::Guardian])
        .class(CLASS_5A, "5А", YEAR)
        .class(CLASS_5B, "5Б", YEAR)
        .class_teacher(CLASS_5A, PETROV)
        .class_teacher(CLASS_5B, SIDOROVA)
        .student(CLASS_5A, MARIA)
        .student(CLASS_5A, PETR)
        .student(CLASS_5B, ILYA)
        .subject(MATH_5A, CLASS_5A, "Математика", PETROV)
        .subject(RUSSIAN_5A, CLASS_5A, "Русский язык", SIDOROVA)
        .subject(MATH_5B, CLASS_5B, "Математика", PETROV)
        .subject(RUSSIAN_5B, CLASS_5B, "Русский язык", SIDOROVA)
        .group(ENGLISH_5A_1, CLASS_5A, "Английский язык", "1", KUZNETSOVA, &[MARIA])
        .group(ENGLISH_5A_2, CLASS_5A, "Английский язык", "2", KUZNETSOVA, &[PETR])
        .guardian(ELENA, MARIA)
        .guardian(ELENA, PETR)
        .guardian(OLGA, ILYA)
        .guardian(KUZNETSOVA, ILYA)
        .build()
}

pub fn person_mut(s: &mut OrgSnapshot, person: i64) -> &mut PersonFacts {
    s.people.iter_mut().find(|p| p.person_id == person).unwrap()
}

pub fn set_linked(s: &mut OrgSnapshot, person: i64, linked: bool) {
    person_mut(s, person).linked = linked;
}

pub fn move_student(s: &mut OrgSnapshot, student: i64, to_class: i64) {
    s.students.retain(|&(_, p)| p != student);
    s.students.push((to_class, student));
    // The roster ends the student's group enrollments in the old class too.
    for section in &mut s.sections {
        section.group_students.retain(|&p| p != student);
    }
}

/// The messenger's chats of one organisation, kept in step with its roster.
pub struct World {
    pub roster: OrgSnapshot,
    pub chats: Vec<ActualChat>,
    pub next_id: i64,
}

impl World {
    /// A school whose chats have been made once.
    pub fn new(roster: OrgSnapshot) -> Self {
        let mut world = World { roster, chats: Vec::new(), next_id: 1 };
        world.reconcile();
        world
    }

    pub fn plan(&self) -> Plan {
        plan(&desired(&self.roster), &self.chats, &self.roster)
    }

    /// Plans, applies, and checks that a second run would change nothing.
    pub fn reconcile(&mut self) -> Plan {
        let changes = self.plan();
        apply(&mut self.chats, &changes, &mut self.next_id).unwrap();
        let again = self.plan();
        assert!(again.is_empty(), "a second reconciliation must change nothing, got:\n{again}");
        changes
    }

    pub fn chat(&self, name: &str) -> &ActualChat {
        let mut found = self.chats.iter().filter(|c| c.name == name && c.state == ChatState::Live);
        let chat = found.next().unwrap_or_else(|| panic!("no live chat «{name}»"));
        assert!(found.next().is_none(), "two live chats «{name}»");
        chat
    }

    pub fn chat_mut(&mut self, name: &str) -> &mut ActualChat {
        self.chats.iter_mut().find(|c| c.name == name && c.state == ChatState::Live).unwrap()
    }

    fn live_chats_where(&self, person: i64, status: MemberStatus) -> BTreeSet<String> {
        self.chats
            .iter()
            .filter(|c| c.state == ChatState::Live)
            .filter(|c| c.members.get(&person).is_some_and(|m| m.status == status))
            .map(|c| c.name.clone())
            .collect()
    }

    /// The live chats the person takes part in.
    pub fn chats_of(&self, person: i64) -> BTreeSet<String> {
        self.live_chats_where(person, MemberStatus::Active)
    }

    /// The live chats the person will join once they link.
    pub fn pending_chats_of(&self, person: i64) -> BTreeSet<String> {
        self.live_chats_where(person, MemberStatus::Pending)
    }

    pub fn add_by_hand(&mut self, chat: &str, person: i64) {
        let linked = self.roster.people.iter().any(|p| p.person_id == person && p.linked);
        let status = if linked { MemberStatus::Active } else { MemberStatus::Pending };
        self.chat_mut(chat).members.insert(
            person,
            ActualMember {
                admin: false,
                source: Source::Manual,
                status,
                reasons: vec!["добавлен вручную".to_owned()],
                admin_overridden: false,
            },
        );
    }

    pub fn remove_by_hand(&mut self, chat: &str, person: i64) {
        self.chat_mut(chat).members.get_mut(&person).unwrap().status = MemberStatus::RemovedByHand;
    }
}

pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
