//! A roster import batch: what a roster package (OneRoster today) says about the
//! school, already parsed and validated row by row, still keyed by the package's
//! own identifiers (`sourcedId`). The storage adapter resolves those identifiers
//! against the database and applies the batch all-or-nothing.

use crate::{ClassName, Login, OrgKind, PersonName, Role};
use chrono::NaiveDate;
use std::fmt;

/// Where a record came from, so that an error found later (a dangling reference
/// only the database can detect) still names the file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: &'static str,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}", self.file, self.line)
    }
}

/// How a package treats one kind of entity (OneRoster's `manifest.csv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// The package says nothing about this entity: leave it untouched.
    #[default]
    Absent,
    /// The file is the complete set: anything not in it is deactivated.
    Bulk,
    /// The file holds changes only; `deleted` rows deactivate.
    Delta,
}

/// One entity's rows and the mode they come with.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<T> {
    pub mode: Mode,
    pub rows: Vec<T>,
}

impl<T> Default for Part<T> {
    fn default() -> Self {
        Part { mode: Mode::Absent, rows: Vec::new() }
    }
}

/// Every row carries its package identifier, where it came from, and whether a
/// delta package marks it deleted (OneRoster's `status = tobedeleted`).
#[derive(Debug, Clone, PartialEq)]
pub struct Row<T> {
    pub source_id: String,
    pub origin: Origin,
    pub deleted: bool,
    pub data: T,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub name: String,
    pub kind: OrgKind,
    pub chats_enabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AcademicYear {
    pub title: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A person and the roles they hold, each in one organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub name: PersonName,
    pub login: Option<Login>,
    /// An initial password the package supplies. Most packages have none; then
    /// the person has no password until an administrator issues one.
    pub password: Option<String>,
    pub roles: Vec<(Role, String)>,
}

/// A class in the Russian sense ("5А"): the students who learn together all year.
/// OneRoster calls this a `homeroom` class.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub org: String,
    pub year: Option<String>,
    pub name: ClassName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub org: String,
    pub name: String,
}

/// A subject taught to a class, or to a group of it ("Английский язык 5А, группа 1").
/// OneRoster calls this a `scheduled` class. Without explicit student enrollments
/// it is taught to the whole class.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub org: String,
    pub subject: String,
    pub class: Option<String>,
    pub group: Option<String>,
    pub year: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentRole {
    Student,
    Teacher,
}

/// A person in a class or a section. A teacher enrolled as primary in a class is
/// its class teacher; a teacher in a section teaches it; a student in a section
/// belongs to that group.
#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub person: String,
    /// The package identifier of a class or of a section.
    pub target: String,
    pub role: EnrollmentRole,
    pub primary: bool,
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guardianship {
    pub guardian: String,
    pub student: String,
}

/// Everything a package says, entity by entity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    pub orgs: Part<Row<Org>>,
    pub years: Part<Row<AcademicYear>>,
    pub people: Part<Row<Person>>,
    pub classes: Part<Row<Class>>,
    pub subjects: Part<Row<Subject>>,
    pub sections: Part<Row<Section>>,
    pub enrollments: Part<Row<Enrollment>>,
    /// Guardianships come from the people file, so they follow its mode.
    pub guardianships: Vec<(Origin, Guardianship)>,
}

/// What an applied (or dry-run) import changed, per entity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub added: u64,
    pub changed: u64,
    pub deactivated: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub entities: Vec<(&'static str, Counts)>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{:<14} {:>10} {:>10} {:>12}", "entity", "added", "changed", "deactivated")?;
        for (name, c) in &self.entities {
            writeln!(f, "{:<14} {:>10} {:>10} {:>12}", name, c.added, c.changed, c.deactivated)?;
        }
        Ok(())
    }
}
