//! A roster import batch: what a roster package (OneRoster today) says about the
//! school, already parsed and validated row by row, still keyed by the package's
//! own identifiers (`sourcedId`). The storage adapter resolves those identifiers
//! against the database and applies the batch all-or-nothing.

use crate::{ClassName, Login, OrgKind, PersonName, Role};
use chrono::NaiveDate;
use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// A package's identifier (OneRoster's `sourcedId`), of a row or in a reference
/// to one. A region package holds tens of millions of them, nearly all short: one
/// of up to 22 bytes lives inside the value itself, as large as a `String`,
/// without an allocation of its own. It reads as a `&str`.
#[derive(Clone)]
pub struct SourceId(Repr);

const INLINE: usize = 22;

#[derive(Clone)]
enum Repr {
    Inline(u8, [u8; INLINE]),
    Heap(Box<str>),
}

impl SourceId {
    pub fn new(id: &str) -> Self {
        let bytes = id.as_bytes();
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                SourceId(Repr::Inline(len, inline))
            }
            _ => SourceId(Repr::Heap(id.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always the UTF-8 of a whole `&str`: it was copied from one.
            Repr::Inline(len, bytes) => std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default(),
            Repr::Heap(id) => id,
        }
    }
}

impl Default for SourceId {
    fn default() -> Self {
        SourceId::new("")
    }
}

impl Deref for SourceId {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SourceId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SourceId {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SourceId {
    fn from(id: &str) -> Self {
        SourceId::new(id)
    }
}

impl From<&String> for SourceId {
    fn from(id: &String) -> Self {
        SourceId::new(id)
    }
}

impl From<String> for SourceId {
    fn from(id: String) -> Self {
        SourceId::new(&id)
    }
}

impl From<SourceId> for String {
    fn from(id: SourceId) -> Self {
        id.as_str().to_owned()
    }
}

impl PartialEq for SourceId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SourceId {}

impl PartialOrd for SourceId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SourceId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as the `&str` it reads as, so maps keyed by it can be searched by `&str`.
impl Hash for SourceId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl PartialEq<str> for SourceId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SourceId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SourceId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<SourceId> for str {
    fn eq(&self, other: &SourceId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SourceId> for &str {
    fn eq(&self, other: &SourceId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SourceId> for String {
    fn eq(&self, other: &SourceId) -> bool {
        self == other.as_str()
    }
}

impl fmt::Debug for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    pub source_id: SourceId,
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
    pub roles: Vec<(Role, SourceId)>,
}

/// A class in the Russian sense ("5А"): the students who learn together all year.
/// OneRoster calls this a `homeroom` class.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub org: SourceId,
    pub year: Option<SourceId>,
    pub name: ClassName,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub org: SourceId,
    pub name: String,
}

/// A subject taught to a class, or to a group of it ("Английский язык 5А, группа 1").
/// OneRoster calls this a `scheduled` class. Without explicit student enrollments
/// it is taught to the whole class.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub org: SourceId,
    pub subject: SourceId,
    pub class: Option<SourceId>,
    pub group: Option<String>,
    pub year: Option<SourceId>,
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
    pub person: SourceId,
    /// The package identifier of a class or of a section.
    pub target: SourceId,
    pub role: EnrollmentRole,
    pub primary: bool,
    pub begin: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guardianship {
    pub guardian: SourceId,
    pub student: SourceId,
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn a_source_id_is_no_larger_than_a_string() {
        assert_eq!(std::mem::size_of::<SourceId>(), std::mem::size_of::<String>());
        assert_eq!(std::mem::size_of::<Option<SourceId>>(), std::mem::size_of::<String>());
    }

    #[test]
    fn short_and_long_ids_read_back_and_look_up_as_str() {
        let long = "x".repeat(INLINE + 1);
        for id in ["", "s1-u17", "абвгдеёжзий", &long[..INLINE], &long] {
            let source_id = SourceId::from(id);
            assert_eq!(source_id.as_str(), id);
            assert_eq!(source_id, id);
            assert_eq!(format!("{source_id:?}"), format!("{id:?}"));
            let map: HashMap<SourceId, u8> = [(source_id, 1)].into();
            assert_eq!(map.get(id), Some(&1));
        }
    }

    proptest! {
        #[test]
        fn any_string_round_trips_and_orders_as_str(a in ".{0,40}", b in ".{0,40}") {
            let (x, y) = (SourceId::from(a.as_str()), SourceId::from(b.as_str()));
            prop_assert_eq!(x.as_str(), a.as_str());
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(x == y, a == b);
        }
    }
}
