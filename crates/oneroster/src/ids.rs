//! The `sourcedId`s seen in one file. A region package has millions of people;
//! their identifiers already live in the batch rows, so the index keeps a 128-bit
//! hash per identifier instead of a second copy of each string.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::hash::{BuildHasherDefault, DefaultHasher, Hasher};

/// Which kind of row an identifier names, where one file holds two kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Plain,
    Homeroom,
    Scheduled,
    Year,
    Term,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub line: u32,
    /// `None` when the row had an error: references to it are not reported again.
    pub row: Option<(Kind, u32)>,
}

impl Entry {
    pub fn new(line: u64, row: Option<(Kind, usize)>) -> Self {
        Entry {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            row: row.map(|(kind, index)| (kind, u32::try_from(index).unwrap_or(u32::MAX))),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Ids {
    /// The file is bulk and was read: it is the complete set, so an identifier
    /// missing from it is a dangling reference rather than a row already stored.
    pub authoritative: bool,
    map: HashMap<u128, Entry, BuildHasherDefault<PreHashed>>,
}

impl Ids {
    /// Records `id`; if the file already had it, keeps the first and returns its line.
    pub fn insert(&mut self, id: &str, entry: Entry) -> Result<(), u64> {
        match self.map.entry(key(id)) {
            MapEntry::Occupied(first) => Err(u64::from(first.get().line)),
            MapEntry::Vacant(slot) => {
                slot.insert(entry);
                Ok(())
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<Entry> {
        self.map.get(&key(id)).copied()
    }
}

/// Two independent 64-bit SipHashes: a collision among even a few million
/// identifiers is far less likely than a disk error.
fn key(id: &str) -> u128 {
    let mut a = DefaultHasher::new();
    a.write(id.as_bytes());
    let mut b = DefaultHasher::new();
    b.write_u8(0x5a);
    b.write(id.as_bytes());
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

/// The keys are already uniformly distributed hashes; hashing them again is waste.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = (value as u64) ^ ((value >> 64) as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_insert_reports_the_first_line() {
        let mut ids = Ids::default();
        assert_eq!(ids.insert("u1", Entry::new(2, Some((Kind::Plain, 0)))), Ok(()));
        assert_eq!(ids.insert("u1", Entry::new(7, Some((Kind::Plain, 1)))), Err(2));
        assert_eq!(ids.get("u1"), Some(Entry::new(2, Some((Kind::Plain, 0)))));
        assert_eq!(ids.get("U1"), None);
    }
}
