//! Random small schools under random sequences of roster changes and staff
//! edits: after every reconciliation the chats match the roster (modulo manual
//! overrides), nothing is deleted, and reconciling again changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use provisioning::{
    ActualChat, ActualMember, ChatKey, ChatState, ClassFacts, DesiredChat, MemberStatus, NameTemplates, OrgSnapshot,
    PersonFacts, SectionFacts, Source, apply, desired, plan,
};
use roster::{OrgKind, Role, chats_availability};

const ADMIN: i64 = 1;
const OTHER_STAFF: i64 = 2;
const FIRST_TEACHER: i64 = 10;
const FIRST_STUDENT: i64 = 100;
const FIRST_GUARDIAN: i64 = 300;
const CLASS_NAMES: [&str; 5] = ["5А", "5Б", "6А", "7В", "10 Физмат"];
const SUBJECTS: [&str; 3] = ["Математика", "Русский язык", "Английский язык"];

#[derive(Debug, Clone)]
struct SectionSeed {
    class: Option<usize>,
    subject: usize,
    group: Option<u8>,
    teacher: usize,
    group_students: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Seed {
    classes: usize,
    students: Vec<(usize, bool)>,
    teachers: Vec<bool>,
    class_teachers: Vec<usize>,
    guardians: Vec<(bool, Vec<usize>)>,
    sections: Vec<SectionSeed>,
    teacher_is_parent_of: Option<(usize, usize)>,
    staff_linked: (bool, bool),
}

fn seed() -> impl Strategy<Value = Seed> {
    let section = (
        prop::option::weighted(0.85, 0..3usize),
        0..SUBJECTS.len(),
        prop::option::weighted(0.4, 1..3u8),
        0..4usize,
        prop::collection::vec(0..8usize, 0..3),
    )
        .prop_map(|(class, subject, group, teacher, group_students)| SectionSeed {
            class,
            subject,
            group,
            teacher,
            group_students,
        });
    (
        1..=3usize,
        prop::collection::vec((0..3usize, any::<bool>()), 1..=8),
        prop::collection::vec(any::<bool>(), 1..=4),
        prop::collection::vec(0..4usize, 3),
        prop::collection::vec((any::<bool>(), prop::collection::vec(0..8usize, 1..=2)), 0..=4),
        prop::collection::vec(section, 0..=5),
        prop::option::of((0..4usize, 0..8usize)),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(classes, students, teachers, class_teachers, guardians, sections, teacher_is_parent_of, staff_linked)| {
                Seed {
                    classes,
                    students,
                    teachers,
                    class_teachers,
                    guardians,
                    sections,
                    teacher_is_parent_of,
                    staff_linked,
                }
            },
        )
}

fn person(person_id: i64, roles: &[Role], linked: bool) -> PersonFacts {
    PersonFacts { person_id, name: format!("Участник {person_id}"), roles: roles.to_vec(), linked }
}

fn build(seed: &Seed) -> OrgSnapshot {
    let class_id = |i: usize| (i % seed.classes) as i64 + 1;
    let teacher_id = |i: usize| FIRST_TEACHER + (i % seed.teachers.len()) as i64;
    let student_id = |i: usize| FIRST_STUDENT + (i % seed.students.len()) as i64;

    let mut people = vec![
        person(ADMIN, &[Role::Administrator], seed.staff_linked.0),
        person(OTHER_STAFF, &[Role::OtherStaff], seed.staff_linked.1),
    ];
    for (i, &linked) in seed.teachers.iter().enumerate() {
        people.push(person(FIRST_TEACHER + i as i64, &[Role::Teacher], linked));
    }
    for (i, &(_, linked)) in seed.students.iter().enumerate() {
        people.push(person(FIRST_STUDENT + i as i64, &[Role::Student], linked));
    }
    let mut guardianships = Vec::new();
    for (i, (linked, children)) in seed.guardians.iter().enumerate() {
        let guardian = FIRST_GUARDIAN + i as i64;
        people.push(person(guardian, &[Role::Guardian], *linked));
        guardianships.extend(children.iter().map(|&c| (guardian, student_id(c))));
    }
    if let Some((teacher, child)) = seed.teacher_is_parent_of {
        let teacher = teacher_id(teacher);
        people.iter_mut().find(|p| p.person_id == teacher).unwrap().roles.push(Role::Guardian);
        guardianships.push((teacher, student_id(child)));
    }
    guardianships.sort();
    guardianships.dedup();

    OrgSnapshot {
        org_id: 7,
        kind: OrgKind::GeneralEducation,
        chats_enabled: true,
        current_year: Some(1),
        people,
        classes: (0..seed.classes)
            .map(|i| ClassFacts { class_id: i as i64 + 1, name: CLASS_NAMES[i].to_owned(), year_id: Some(1) })
            .collect(),
        class_teachers: (0..seed.classes).map(|i| (class_id(i), teacher_id(seed.class_teachers[i]))).collect(),
        students: seed.students.iter().enumerate().map(|(i, &(class, _))| (class_id(class), student_id(i))).collect(),
        sections: seed
            .sections
            .iter()
            .enumerate()
            .map(|(i, sec)| SectionFacts {
                section_id: 1000 + i as i64,
                class_id: sec.class.map(class_id),
                subject: SUBJECTS[sec.subject].to_owned(),
                group: sec.group.map(|g| g.to_string()),
                teachers: vec![teacher_id(sec.teacher)],
                group_students: if sec.group.is_some() {
                    sec.group_students.iter().map(|&s| student_id(s)).collect()
                } else {
                    Vec::new()
                },
            })
            .collect(),
        guardianships,
        templates: NameTemplates::default(),
    }
}

#[derive(Debug, Clone)]
enum Op {
    MoveStudent(usize, usize),
    ReplaceClassTeacher(usize, usize),
    ToggleLink(usize),
    ToggleModule,
    ToggleKind,
    RollYear { keep_old_classes: bool },
    ToggleGuardianship(usize, usize),
    ToggleSectionTeacher(usize, usize),
    RenameClass(usize, usize),
    ToggleRole(usize, usize),
    AddByHand(usize, usize),
    RemoveByHand(usize, usize),
    RenameChatByHand(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = || 0..1000usize;
    prop_oneof![
        4 => (i(), i()).prop_map(|(a, b)| Op::MoveStudent(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Op::ReplaceClassTeacher(a, b)),
        5 => i().prop_map(Op::ToggleLink),
        1 => Just(Op::ToggleModule),
        1 => Just(Op::ToggleKind),
        1 => any::<bool>().prop_map(|keep_old_classes| Op::RollYear { keep_old_classes }),
        3 => (i(), i()).prop_map(|(a, b)| Op::ToggleGuardianship(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Op::ToggleSectionTeacher(a, b)),
        1 => (i(), i()).prop_map(|(a, b)| Op::RenameClass(a, b)),
        2 => (i(), i()).prop_map(|(a, b)| Op::ToggleRole(a, b)),
        3 => (i(), i()).prop_map(|(a, b)| Op::AddByHand(a, b)),
        3 => (i(), i()).prop_map(|(a, b)| Op::RemoveByHand(a, b)),
        1 => i().prop_map(Op::RenameChatByHand),
    ]
}

struct Sim {
    s: OrgSnapshot,
    chats: Vec<ActualChat>,
    next_id: i64,
    next_class_id: i64,
    next_section_id: i64,
}

fn pick<T: Copy>(items: &[T], i: usize) -> Option<T> {
    if items.is_empty() { None } else { Some(items[i % items.len()]) }
}

impl Sim {
    fn ids_with(&self, range: std::ops::Range<i64>) -> Vec<i64> {
        self.s.people.iter().map(|p| p.person_id).filter(|id| range.contains(id)).collect()
    }

    fn current_classes(&self) -> Vec<i64> {
        self.s.classes.iter().filter(|c| c.year_id == self.s.current_year).map(|c| c.class_id).collect()
    }

    fn live_chats(&self) -> Vec<usize> {
        (0..self.chats.len()).filter(|&i| self.chats[i].state == ChatState::Live).collect()
    }

    fn linked(&self, person: i64) -> bool {
        self.s.people.iter().any(|p| p.person_id == person && p.linked)
    }

    fn run(&mut self, op: &Op) {
        let students = self.ids_with(FIRST_STUDENT..FIRST_GUARDIAN);
        let teachers = self.ids_with(FIRST_TEACHER..FIRST_STUDENT);
        let everyone: Vec<i64> = self.s.people.iter().map(|p| p.person_id).collect();
        let classes = self.current_classes();
        match *op {
            Op::MoveStudent(student, class) => {
                if let (Some(student), Some(class)) = (pick(&students, student), pick(&classes, class)) {
                    self.s.students.retain(|&(_, p)| p != student);
                    self.s.students.push((class, student));
                }
            }
            Op::ReplaceClassTeacher(class, teacher) => {
                if let (Some(class), Some(teacher)) = (pick(&classes, class), pick(&teachers, teacher)) {
                    self.s.class_teachers.retain(|&(c, _)| c != class);
                    self.s.class_teachers.push((class, teacher));
                }
            }
            Op::ToggleLink(person) => {
                let i = person % self.s.people.len();
                self.s.people[i].linked = !self.s.people[i].linked;
            }
            Op::ToggleModule => self.s.chats_enabled = !self.s.chats_enabled,
            Op::ToggleKind => {
                self.s.kind = match self.s.kind {
                    OrgKind::GeneralEducation => OrgKind::Other,
                    OrgKind::Other => OrgKind::GeneralEducation,
                }
            }
            Op::RollYear { keep_old_classes } => self.roll_year(keep_old_classes),
            Op::ToggleGuardianship(guardian, student) => {
                let guardians = self.ids_with(FIRST_GUARDIAN..i64::MAX);
                if let (Some(guardian), Some(student)) = (pick(&guardians, guardian), pick(&students, student)) {
                    let pair = (guardian, student);
                    if self.s.guardianships.contains(&pair) {
                        self.s.guardianships.retain(|&p| p != pair);
                    } else {
                        self.s.guardianships.push(pair);
                    }
                }
            }
            Op::ToggleSectionTeacher(section, teacher) => {
                if let (false, Some(teacher)) = (self.s.sections.is_empty(), pick(&teachers, teacher)) {
                    let n = self.s.sections.len();
                    let teachers = &mut self.s.sections[section % n].teachers;
                    if teachers.contains(&teacher) {
                        teachers.retain(|&t| t != teacher);
                    } else {
                        teachers.push(teacher);
                    }
                }
            }
            Op::RenameClass(class, name) => {
                if let Some(class) = pick(&classes, class) {
                    let class = self.s.classes.iter_mut().find(|c| c.class_id == class).unwrap();
                    class.name = CLASS_NAMES[name % CLASS_NAMES.len()].to_owned();
                }
            }
            Op::ToggleRole(person, role) => {
                let i = person % self.s.people.len();
                let role = Role::ALL[role % Role::ALL.len()];
                let roles = &mut self.s.people[i].roles;
                if roles.contains(&role) {
                    roles.retain(|&r| r != role);
                } else {
                    roles.push(role);
                }
            }
            Op::AddByHand(chat, person) => {
                if let (Some(chat), Some(person)) = (pick(&self.live_chats(), chat), pick(&everyone, person)) {
                    let status = MemberStatus::for_link(self.linked(person));
                    self.chats[chat].members.entry(person).or_insert(ActualMember {
                        admin: false,
                        source: Source::Manual,
                        status,
                        reasons: vec!["добавлен вручную".to_owned()],
                        admin_overridden: false,
                    });
                }
            }
            Op::RemoveByHand(chat, member) => {
                if let Some(chat) = pick(&self.live_chats(), chat) {
                    let members: Vec<i64> = self.chats[chat].members.keys().copied().collect();
                    if let Some(person) = pick(&members, member) {
                        let members = &mut self.chats[chat].members;
                        match members.get(&person).map(|m| m.source) {
                            Some(Source::Roster) => {
                                if let Some(m) = members.get_mut(&person) {
                                    m.status = MemberStatus::RemovedByHand;
                                }
                            }
                            _ => {
                                members.remove(&person);
                            }
                        }
                    }
                }
            }
            Op::RenameChatByHand(chat) => {
                if let Some(chat) = pick(&self.live_chats(), chat) {
                    let chat = &mut self.chats[chat];
                    chat.name = format!("Свой чат {}", chat.chat_id);
                    chat.name_overridden = true;
                }
            }
        }
    }

    /// Last year's classes get successors with new ids; students, class
    /// teachers and sections move with them.
    fn roll_year(&mut self, keep_old_classes: bool) {
        let old_year = self.s.current_year;
        let new_year = old_year.map_or(1, |y| y + 1);
        let mut successor: BTreeMap<i64, i64> = BTreeMap::new();
        for class in self.current_classes() {
            successor.insert(class, self.next_class_id);
            self.next_class_id += 1;
        }
        let old_classes: Vec<ClassFacts> =
            self.s.classes.iter().filter(|c| successor.contains_key(&c.class_id)).cloned().collect();
        for class in old_classes {
            self.s.classes.push(ClassFacts { class_id: successor[&class.class_id], year_id: Some(new_year), ..class });
        }
        for enrollment in &mut self.s.students {
            if let Some(&new) = successor.get(&enrollment.0) {
                enrollment.0 = new;
            }
        }
        let new_teachers: Vec<(i64, i64)> =
            self.s.class_teachers.iter().filter_map(|&(c, t)| successor.get(&c).map(|&new| (new, t))).collect();
        self.s.class_teachers.extend(new_teachers);
        let new_sections: Vec<SectionFacts> = self
            .s
            .sections
            .iter()
            .filter_map(|sec| {
                let new_class = successor.get(&sec.class_id?)?;
                Some(SectionFacts { section_id: 0, class_id: Some(*new_class), ..sec.clone() })
            })
            .collect();
        for mut section in new_sections {
            section.section_id = self.next_section_id;
            self.next_section_id += 1;
            self.s.sections.push(section);
        }
        if !keep_old_classes {
            self.s.classes.retain(|c| !successor.contains_key(&c.class_id));
            self.s.sections.retain(|sec| sec.class_id.is_none_or(|c| !successor.contains_key(&c)));
            self.s.class_teachers.retain(|(c, _)| !successor.contains_key(c));
        }
        self.s.current_year = Some(new_year);
    }

    fn reconcile(&mut self) -> Result<(), TestCaseError> {
        let ids_before: BTreeSet<i64> = self.chats.iter().map(|c| c.chat_id).collect();
        let changes = plan(&desired(&self.s), &self.chats, &self.s);
        let _ = changes.to_string();
        apply(&mut self.chats, &changes, &mut self.next_id).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ids_after: BTreeSet<i64> = self.chats.iter().map(|c| c.chat_id).collect();
        prop_assert!(ids_after.is_superset(&ids_before), "a chat was deleted");
        self.check_converged()?;
        let again = plan(&desired(&self.s), &self.chats, &self.s);
        prop_assert!(again.is_empty(), "second plan not empty:\n{}", again);
        Ok(())
    }

    fn check_converged(&self) -> Result<(), TestCaseError> {
        let keys: BTreeSet<ChatKey> = self.chats.iter().map(|c| c.key).collect();
        prop_assert_eq!(keys.len(), self.chats.len(), "two chats share a key");
        if chats_availability(self.s.kind, self.s.chats_enabled).is_err() {
            prop_assert!(self.chats.iter().all(|c| c.state != ChatState::Live), "a live chat without chats");
            return Ok(());
        }
        let want = desired(&self.s);
        check_table(&self.s, &want)?;
        let wanted: BTreeMap<ChatKey, &DesiredChat> = want.iter().map(|d| (d.key, d)).collect();
        for d in &want {
            prop_assert!(keys.contains(&d.key), "missing chat {:?}", d.key);
        }
        for chat in &self.chats {
            let Some(d) = wanted.get(&chat.key) else {
                prop_assert!(chat.state != ChatState::Live, "undesired live chat {}", chat.name);
                continue;
            };
            prop_assert_eq!(chat.state, ChatState::Live);
            if !chat.name_overridden {
                prop_assert_eq!(&chat.name, &d.name);
            }
            for (&person, member) in &chat.members {
                let linked = self.linked(person);
                match (member.source, member.status, d.members.get(&person)) {
                    (_, MemberStatus::RemovedByHand, _) => {}
                    (Source::Manual, status, _) => prop_assert_eq!(status, MemberStatus::for_link(linked)),
                    (Source::Roster, _, None) => prop_assert!(false, "{} in {} without a reason", person, chat.name),
                    (Source::Roster, status, Some(dm)) => {
                        prop_assert_eq!(status, MemberStatus::for_link(linked));
                        prop_assert_eq!(member.admin, dm.admin);
                        prop_assert_eq!(&member.reasons, &dm.reasons);
                    }
                }
            }
            for person in d.members.keys() {
                prop_assert!(chat.members.contains_key(person), "{} missing from {}", person, chat.name);
            }
        }
        Ok(())
    }
}

/// A few rules of the table checked straight against the raw snapshot.
fn check_table(s: &OrgSnapshot, want: &[DesiredChat]) -> Result<(), TestCaseError> {
    let has = |p: i64, role: Role| s.people.iter().any(|x| x.person_id == p && x.roles.contains(&role));
    let employee = |p: i64| Role::ALL.iter().any(|r| r.is_employee() && has(p, *r));
    for chat in want {
        match chat.key {
            ChatKey::StaffRoom { .. } => {
                for (p, m) in &chat.members {
                    prop_assert!(employee(*p));
                    prop_assert_eq!(m.admin, has(*p, Role::Administrator));
                }
            }
            ChatKey::Parents { class_id } => {
                let teachers: BTreeSet<i64> =
                    s.class_teachers.iter().filter(|&&(c, t)| c == class_id && employee(t)).map(|&(_, t)| t).collect();
                let children: BTreeSet<i64> = s
                    .students
                    .iter()
                    .filter(|&&(c, p)| c == class_id && has(p, Role::Student))
                    .map(|&(_, p)| p)
                    .collect();
                let guardians: BTreeSet<i64> = s
                    .guardianships
                    .iter()
                    .filter(|&&(g, child)| children.contains(&child) && has(g, Role::Guardian))
                    .map(|&(g, _)| g)
                    .collect();
                let expected: BTreeSet<i64> = teachers.union(&guardians).copied().collect();
                prop_assert_eq!(chat.members.keys().copied().collect::<BTreeSet<_>>(), expected);
            }
            ChatKey::Subject { section_id } => {
                let section = s.sections.iter().find(|x| x.section_id == section_id).unwrap();
                for (p, m) in &chat.members {
                    let teaches = section.teachers.contains(p) && employee(*p);
                    prop_assert!(teaches || has(*p, Role::Student), "a non-student non-teacher in a subject chat");
                    prop_assert_eq!(m.admin, teaches);
                }
            }
            ChatKey::Class { .. } => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn chats_follow_the_roster_through_any_sequence_of_changes(
        seed in seed(),
        ops in prop::collection::vec(op(), 1..30),
    ) {
        let mut sim = Sim { s: build(&seed), chats: Vec::new(), next_id: 1, next_class_id: 50, next_section_id: 5000 };
        sim.reconcile()?;
        for op in &ops {
            sim.run(op);
            sim.reconcile()?;
        }
    }

    #[test]
    fn desired_and_plan_are_deterministic(seed in seed()) {
        let s = build(&seed);
        prop_assert_eq!(desired(&s), desired(&s));
        let mut shuffled = s.clone();
        shuffled.people.reverse();
        shuffled.students.reverse();
        shuffled.guardianships.reverse();
        shuffled.sections.reverse();
        shuffled.classes.reverse();
        prop_assert_eq!(desired(&s), desired(&shuffled));
        let first = plan(&desired(&s), &[], &s);
        prop_assert_eq!(first.to_string(), plan(&desired(&shuffled), &[], &shuffled).to_string());
    }
}
