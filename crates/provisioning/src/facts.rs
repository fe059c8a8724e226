//! The snapshot indexed for the rules. A relation counts only when the person
//! holds the matching role in this organisation: an enrollment without the
//! student role, a teaching assignment without an employee role or a
//! guardianship without the guardian role here grants no chat. That way an
//! employee who leaves (roles revoked) leaves every chat that came from the job
//! even if a stale assignment lingers, and a parent of a child in another school
//! gets nothing here.

use std::collections::{BTreeMap, BTreeSet};

use roster::Role;

use crate::{ClassFacts, OrgSnapshot, SectionFacts};

pub(crate) struct Facts<'a> {
    pub(crate) snapshot: &'a OrgSnapshot,
    roles: BTreeMap<i64, BTreeSet<Role>>,
    linked: BTreeMap<i64, bool>,
    names: BTreeMap<i64, &'a str>,
    classes: BTreeMap<i64, &'a ClassFacts>,
    sections: BTreeMap<i64, &'a SectionFacts>,
    class_students: BTreeMap<i64, BTreeSet<i64>>,
    class_teachers: BTreeMap<i64, BTreeSet<i64>>,
    guardians_of: BTreeMap<i64, BTreeSet<i64>>,
}

impl<'a> Facts<'a> {
    pub(crate) fn new(snapshot: &'a OrgSnapshot) -> Self {
        let mut roles: BTreeMap<i64, BTreeSet<Role>> = BTreeMap::new();
        let mut linked: BTreeMap<i64, bool> = BTreeMap::new();
        let mut names = BTreeMap::new();
        for person in &snapshot.people {
            roles.entry(person.person_id).or_default().extend(person.roles.iter().copied());
            *linked.entry(person.person_id).or_default() |= person.linked;
            names.entry(person.person_id).or_insert(person.name.as_str());
        }
        let has =
            |person: i64, wanted: fn(Role) -> bool| roles.get(&person).is_some_and(|r| r.iter().any(|&x| wanted(x)));

        let mut class_students: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for &(class, person) in &snapshot.students {
            if has(person, |r| r == Role::Student) {
                class_students.entry(class).or_default().insert(person);
            }
        }
        let mut class_teachers: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for &(class, person) in &snapshot.class_teachers {
            if has(person, Role::is_employee) {
                class_teachers.entry(class).or_default().insert(person);
            }
        }
        let mut guardians_of: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
        for &(guardian, student) in &snapshot.guardianships {
            if has(guardian, |r| r == Role::Guardian) {
                guardians_of.entry(student).or_default().insert(guardian);
            }
        }

        Facts {
            snapshot,
            classes: snapshot.classes.iter().map(|c| (c.class_id, c)).collect(),
            sections: snapshot.sections.iter().map(|s| (s.section_id, s)).collect(),
            roles,
            linked,
            names,
            class_students,
            class_teachers,
            guardians_of,
        }
    }

    pub(crate) fn roles(&self, person: i64) -> impl Iterator<Item = Role> + '_ {
        self.roles.get(&person).into_iter().flatten().copied()
    }

    pub(crate) fn has_role(&self, person: i64, role: Role) -> bool {
        self.roles.get(&person).is_some_and(|r| r.contains(&role))
    }

    pub(crate) fn is_employee(&self, person: i64) -> bool {
        self.roles(person).any(Role::is_employee)
    }

    pub(crate) fn employees(&self) -> impl Iterator<Item = i64> + '_ {
        self.roles.keys().copied().filter(|&p| self.is_employee(p))
    }

    /// `None` when the person is not in the snapshot at all.
    pub(crate) fn linked(&self, person: i64) -> Option<bool> {
        self.linked.get(&person).copied()
    }

    pub(crate) fn name(&self, person: i64) -> Option<&'a str> {
        self.names.get(&person).copied()
    }

    pub(crate) fn class(&self, class_id: i64) -> Option<&'a ClassFacts> {
        self.classes.get(&class_id).copied()
    }

    /// A class without a year belongs to every year: a roster that never states
    /// years must still get its chats once some other class has one.
    pub(crate) fn is_current(&self, class: &ClassFacts) -> bool {
        match (self.snapshot.current_year, class.year_id) {
            (Some(current), Some(year)) => current == year,
            _ => true,
        }
    }

    pub(crate) fn current_classes(&self) -> impl Iterator<Item = &'a ClassFacts> + '_ {
        self.classes.values().copied().filter(|c| self.is_current(c))
    }

    pub(crate) fn section(&self, section_id: i64) -> Option<&'a SectionFacts> {
        self.sections.get(&section_id).copied()
    }

    pub(crate) fn sections(&self) -> impl Iterator<Item = &'a SectionFacts> + '_ {
        self.sections.values().copied()
    }

    /// A section is current when its class is (a section without a class always is).
    pub(crate) fn section_is_current(&self, section: &SectionFacts) -> bool {
        match section.class_id {
            None => true,
            Some(class_id) => self.class(class_id).is_some_and(|c| self.is_current(c)),
        }
    }

    pub(crate) fn students_of(&self, class_id: i64) -> impl Iterator<Item = i64> + '_ {
        self.class_students.get(&class_id).into_iter().flatten().copied()
    }

    pub(crate) fn teachers_of(&self, class_id: i64) -> impl Iterator<Item = i64> + '_ {
        self.class_teachers.get(&class_id).into_iter().flatten().copied()
    }

    pub(crate) fn guardians_of(&self, student: i64) -> impl Iterator<Item = i64> + '_ {
        self.guardians_of.get(&student).into_iter().flatten().copied()
    }

    pub(crate) fn section_teachers(&self, section: &'a SectionFacts) -> impl Iterator<Item = i64> + '_ {
        let unique: BTreeSet<i64> = section.teachers.iter().copied().filter(|&p| self.is_employee(p)).collect();
        unique.into_iter()
    }

    /// A section without a group is the whole class. A group is its own list
    /// even when empty: a group whose last student left must not become the
    /// whole class.
    pub(crate) fn section_students(&self, section: &SectionFacts) -> BTreeSet<i64> {
        if section.group.is_none() && section.group_students.is_empty() {
            section.class_id.map(|c| self.students_of(c).collect()).unwrap_or_default()
        } else {
            section.group_students.iter().copied().filter(|&p| self.has_role(p, Role::Student)).collect()
        }
    }

    /// «Английский язык 5А, группа 1», independent of the organisation's
    /// templates so that reasons read the same in every school.
    pub(crate) fn section_label(&self, section: &SectionFacts) -> String {
        let class = section.class_id.and_then(|c| self.class(c)).map(|c| c.name.as_str());
        crate::NameTemplates::default().subject_chat_name(&section.subject, class, section.group.as_deref())
    }

    /// The current class a student is in now, other than `except`: where a
    /// student who left a chat went.
    pub(crate) fn other_current_class_of(&self, student: i64, except: Option<i64>) -> Option<&'a ClassFacts> {
        self.class_students
            .iter()
            .filter(|(class_id, students)| Some(**class_id) != except && students.contains(&student))
            .filter_map(|(class_id, _)| self.class(*class_id))
            .find(|c| self.is_current(c))
    }
}
