//! Who has read a message, as a chat's admins see it (issue 20): «Прочитали
//! 18 семей из 27». A parents' chat counts families — a student of the class
//! and their guardians in the chat, read as soon as any of them has read —
//! because a teacher asks whether every family saw it, not every guardian;
//! any other chat counts people. The author never counts as a reader to wait
//! for, and a family one of whose guardians wrote the message has seen it.
//!
//! ✓✓ («read by someone») means something only in a direct chat, where the
//! someone is the one other person; group chats show these counts instead.

use std::collections::HashMap;

use crate::Refusal;

/// A reminder to those who have not read goes at most this often per message.
pub const REMIND_EVERY: i64 = 12 * 3600;

/// What a chat counts its readers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Family,
    Person,
}

impl Unit {
    /// By the chat's kind (`parents`, `class`, `direct`, …).
    pub fn of_chat(kind: &str) -> Unit {
        if kind == "parents" { Unit::Family } else { Unit::Person }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Family => "family",
            Unit::Person => "person",
        }
    }
}

/// One reader to wait for: a family (keyed by the student) or a person (keyed
/// by themself), and the chat members who read for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub key: i64,
    pub people: Vec<i64>,
}

/// The readers a message of `author` is counted over. `members` are the chat's
/// active members; `families` each student of the class with their guardians
/// among them (a family without a guardian in the chat cannot read it and is
/// left out).
pub fn readers(unit: Unit, author: i64, members: &[i64], families: &[Reader]) -> Vec<Reader> {
    match unit {
        Unit::Family => families.iter().filter(|f| !f.people.is_empty()).cloned().collect(),
        Unit::Person => {
            members.iter().filter(|p| **p != author).map(|p| Reader { key: *p, people: vec![*p] }).collect()
        }
    }
}

/// Whether a reader has read the message: some member of it read up to `seq`
/// (`read_seq` by person), or wrote it.
pub fn has_read(reader: &Reader, author: i64, seq: i64, read_seq: &HashMap<i64, i64>) -> bool {
    reader.people.iter().any(|p| *p == author || read_seq.get(p).is_some_and(|r| *r >= seq))
}

/// «Прочитали N из M».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub read: usize,
    pub total: usize,
}

pub fn tally(readers: &[Reader], author: i64, seq: i64, read_seq: &HashMap<i64, i64>) -> Tally {
    let read = readers.iter().filter(|r| has_read(r, author, seq, read_seq)).count();
    Tally { read, total: readers.len() }
}

/// Only a chat's admins see who has read and remind the others: for anyone
/// else it would be watching the other members.
pub fn may_see(chat_admin: bool) -> Result<(), Refusal> {
    if chat_admin { Ok(()) } else { Err(Refusal::NotAdmin) }
}

/// A reminder may go now, or in this many seconds.
pub fn may_remind(last: Option<i64>, now: i64) -> Result<(), i64> {
    match last {
        Some(at) if now < at + REMIND_EVERY => Err(at + REMIND_EVERY - now),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn family(student: i64, guardians: &[i64]) -> Reader {
        Reader { key: student, people: guardians.to_vec() }
    }

    #[test]
    fn a_family_has_read_when_any_guardian_has() {
        let families = [family(10, &[1, 2]), family(11, &[3])];
        let readers = readers(Unit::Family, 9, &[1, 2, 3, 9], &families);
        let reads = HashMap::from([(2, 5)]);
        assert_eq!(tally(&readers, 9, 5, &reads), Tally { read: 1, total: 2 });
        assert_eq!(tally(&readers, 9, 6, &reads), Tally { read: 0, total: 2 });
    }

    #[test]
    fn one_guardian_reads_for_each_of_their_children() {
        let families = [family(10, &[1]), family(11, &[1]), family(12, &[2])];
        let readers = readers(Unit::Family, 9, &[1, 2, 9], &families);
        assert_eq!(tally(&readers, 9, 3, &HashMap::from([(1, 3)])), Tally { read: 2, total: 3 });
    }

    #[test]
    fn the_authors_own_family_has_seen_the_message() {
        // The teacher (9) is also the guardian of student 11.
        let families = [family(10, &[1]), family(11, &[9])];
        let readers = readers(Unit::Family, 9, &[1, 9], &families);
        assert_eq!(tally(&readers, 9, 4, &HashMap::new()), Tally { read: 1, total: 2 });
        // Someone else's message: the teacher's family reads like any other.
        assert_eq!(tally(&readers, 1, 4, &HashMap::new()), Tally { read: 1, total: 2 });
    }

    #[test]
    fn families_without_a_guardian_in_the_chat_are_not_counted() {
        let families = [family(10, &[1]), family(11, &[])];
        assert_eq!(readers(Unit::Family, 9, &[1, 9], &families).len(), 1);
    }

    #[test]
    fn other_chats_count_people_but_not_the_author() {
        let readers = readers(Unit::Person, 1, &[1, 2, 3], &[]);
        assert_eq!(tally(&readers, 1, 7, &HashMap::from([(2, 9), (3, 6)])), Tally { read: 1, total: 2 });
        assert_eq!(Unit::of_chat("class"), Unit::Person);
        assert_eq!(Unit::of_chat("parents"), Unit::Family);
    }

    #[test]
    fn only_admins_see_receipts() {
        assert!(may_see(true).is_ok());
        assert_eq!(may_see(false), Err(Refusal::NotAdmin));
    }

    #[test]
    fn a_reminder_goes_at_most_once_in_twelve_hours() {
        assert_eq!(may_remind(None, 100), Ok(()));
        assert_eq!(may_remind(Some(100), 100 + REMIND_EVERY - 1), Err(1));
        assert_eq!(may_remind(Some(100), 100 + REMIND_EVERY), Ok(()));
    }
}
