//! The backend-independent half of a roster import: turning batch rows into
//! column values, and deciding per row whether to insert, update, deactivate or
//! leave alone. The SQL half (`roster_import_queries.rs`) only executes these
//! plans, so the rules are written once and tested without a database.
//!
//! A region package has millions of rows, so a table is planned a chunk of rows
//! at a time against a [`Planner`] that knows every stored row by a 128-bit key
//! of its source id (not the id itself: the batch already holds that string), in
//! 32 bytes a row. Only the bulk deactivation waits for the last chunk.

use roster::import::{Counts, Mode};
use std::borrow::Cow;
use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher, RandomState};

/// A column value, normalised so that a value read back from either database
/// hashes the same as the value about to be written. Text borrows from the batch
/// (or from a database row) where it can.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Val<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
}

/// A table that a roster package fills: its synced columns (compared and
/// updated) and columns written only when a row is first inserted (a password
/// from the package must not overwrite one the person has changed since).
pub struct Table {
    pub name: &'static str,
    pub entity: &'static str,
    pub synced: &'static [(&'static str, Kind)],
    pub insert_only: &'static [(&'static str, Kind)],
    /// Rows of later tables refer to this one's, so the import needs the ids of
    /// the rows it inserts (and of those already stored).
    pub referenced: bool,
}

pub const ORGS: Table = Table {
    name: "orgs",
    entity: "organisations",
    synced: &[("name", Kind::Text), ("kind", Kind::Text)],
    // Administrators switch the module in the portal; a re-import must not undo it.
    insert_only: &[("chats_enabled", Kind::Bool)],
    referenced: true,
};
pub const YEARS: Table = Table {
    name: "academic_years",
    entity: "academic years",
    synced: &[("title", Kind::Text), ("start_date", Kind::Text), ("end_date", Kind::Text)],
    insert_only: &[],
    referenced: true,
};
pub const PEOPLE: Table = Table {
    name: "people",
    entity: "people",
    synced: &[
        ("last_name", Kind::Text),
        ("first_name", Kind::Text),
        ("middle_name", Kind::Text),
        ("login", Kind::Text),
        ("search_key", Kind::Text),
    ],
    insert_only: &[("password_hash", Kind::Text)],
    referenced: true,
};
pub const SUBJECTS: Table = Table {
    name: "subjects",
    entity: "subjects",
    synced: &[("org_id", Kind::Int), ("name", Kind::Text)],
    insert_only: &[],
    referenced: true,
};
pub const CLASSES: Table = Table {
    name: "classes",
    entity: "classes",
    synced: &[("org_id", Kind::Int), ("year_id", Kind::Int), ("name", Kind::Text), ("grade", Kind::Int)],
    insert_only: &[],
    referenced: true,
};
pub const SECTIONS: Table = Table {
    name: "sections",
    entity: "sections",
    synced: &[
        ("org_id", Kind::Int),
        ("subject_id", Kind::Int),
        ("class_id", Kind::Int),
        ("group_name", Kind::Text),
        ("year_id", Kind::Int),
    ],
    insert_only: &[],
    referenced: true,
};
pub const ENROLLMENTS: Table = Table {
    name: "enrollments",
    entity: "enrollments",
    synced: &[
        ("person_id", Kind::Int),
        ("class_id", Kind::Int),
        ("section_id", Kind::Int),
        ("role", Kind::Text),
        ("is_primary", Kind::Bool),
        ("begin_date", Kind::Text),
        ("end_date", Kind::Text),
    ],
    insert_only: &[],
    referenced: false,
};

pub fn fingerprint(values: &[Val]) -> u64 {
    let mut h = DefaultHasher::new();
    values.hash(&mut h);
    h.finish()
}

/// A source id reduced to 128 bits: two independent SipHashes with keys drawn
/// for each import. Among a region's few million ids a collision is far less
/// likely than a disk error, and a package cannot be crafted to aim one at a
/// stored row. Keys are spread uniformly, which [`Planner`]'s index relies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(u64, u64);

/// Makes the [`Key`]s of one import.
pub struct Keys {
    a: RandomState,
    b: RandomState,
}

impl Keys {
    pub fn new() -> Self {
        // Two states made one after the other get different keys.
        Keys { a: RandomState::new(), b: RandomState::new() }
    }

    pub fn of(&self, source_id: &str) -> Key {
        Key(self.a.hash_one(source_id), self.b.hash_one(source_id))
    }
}

/// A row already in the database: its id, whether it is active, and a
/// fingerprint of its synced columns (a hash keeps a region's millions of rows
/// small in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub id: i64,
    pub active: bool,
    pub fingerprint: u64,
}

/// A known row in 16 bytes: its id, and its fingerprint with the two lowest bits
/// standing for "active" and "seen" (named by a bulk file, or inserted by this
/// import). 62 bits of fingerprint still tell a changed row from an unchanged one.
#[derive(Debug, Clone, Copy)]
struct Slot {
    id: i64,
    bits: u64,
}

const ACTIVE: u64 = 1;
const SEEN: u64 = 2;

impl Slot {
    fn new(id: i64, fingerprint: u64, active: bool, seen: bool) -> Self {
        let flags = if active { ACTIVE } else { 0 } | if seen { SEEN } else { 0 };
        Slot { id, bits: (fingerprint & !(ACTIVE | SEEN)) | flags }
    }

    fn active(self) -> bool {
        self.bits & ACTIVE != 0
    }

    fn seen(self) -> bool {
        self.bits & SEEN != 0
    }

    fn see(&mut self) {
        self.bits |= SEEN;
    }

    fn same_values(self, fingerprint: u64) -> bool {
        (self.bits ^ fingerprint) & !(ACTIVE | SEEN) == 0
    }
}

/// Rows by key: an array sorted by key, and the start of each run of keys with the
/// same leading bits. Keys are uniform, so a run holds about two rows: a lookup
/// reads the index and one run, and unlike a hash table no space stays empty.
/// Rows added after [`Rows::seal`] wait unsorted at the end, found by nobody (a
/// package names a row once) until the next one.
struct Rows {
    rows: Vec<(Key, Slot)>,
    /// `rows[..sealed]` is sorted and indexed.
    sealed: usize,
    starts: Vec<u32>,
    shift: u32,
}

impl Rows {
    fn with_capacity(capacity: usize) -> Self {
        Rows { rows: Vec::with_capacity(capacity), sealed: 0, starts: Vec::new(), shift: 63 }
    }

    fn find(&self, key: Key) -> Option<usize> {
        let run = (key.0 >> self.shift) as usize;
        let (Some(&start), Some(&end)) = (self.starts.get(run), self.starts.get(run + 1)) else {
            return None;
        };
        let (start, end) = (start as usize, end as usize);
        self.rows[start..end].iter().position(|(k, _)| *k == key).map(|i| start + i)
    }

    fn push(&mut self, key: Key, slot: Slot) {
        self.rows.push((key, slot));
    }

    /// Sorts in the rows pushed since the last call and indexes them all.
    fn seal(&mut self) {
        self.rows.sort_unstable_by_key(|(k, _)| *k);
        self.sealed = self.rows.len();
        let bits = (usize::BITS - (self.rows.len() / 2).leading_zeros()).clamp(1, 28);
        self.shift = 64 - bits;
        let mut starts = vec![0u32; (1 << bits) + 1];
        for (key, _) in &self.rows {
            starts[(key.0 >> self.shift) as usize + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        self.starts = starts;
    }
}

/// One batch row, reduced to what the planner needs.
#[derive(Debug)]
pub struct Incoming<'a> {
    pub key: Key,
    pub source_id: &'a str,
    pub deleted: bool,
    pub synced: Vec<Val<'a>>,
    pub insert_only: Vec<Val<'a>>,
}

/// What to do with one chunk of rows.
#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub inserts: Vec<Incoming<'a>>,
    /// The ids the inserted rows get, when the import gives them ([`Planner::number`]).
    pub ids: Vec<i64>,
    pub updates: Vec<(i64, Vec<Val<'a>>)>,
    pub deactivations: Vec<i64>,
}

/// Plans one table chunk by chunk. A changed row and a reactivated row both
/// count as changed; in a bulk file, every active row with a source id the file
/// does not name is deactivated ([`Planner::finish`]).
pub struct Planner {
    rows: Rows,
    mode: Mode,
    counts: Counts,
}

impl Planner {
    /// `capacity`: the rows expected, stored and inserted, so that the array is
    /// allocated once rather than grown.
    pub fn new(mode: Mode, capacity: usize) -> Self {
        Planner { rows: Rows::with_capacity(capacity), mode, counts: Counts::default() }
    }

    /// Records a row read from the database; [`Planner::loaded`] follows the last.
    pub fn existing(&mut self, key: Key, row: Existing) {
        self.rows.push(key, Slot::new(row.id, row.fingerprint, row.active, false));
    }

    /// Every stored row is recorded: planning can begin.
    pub fn loaded(&mut self) {
        self.rows.seal();
    }

    /// Whether the row with this key is stored.
    pub fn contains(&self, key: Key) -> bool {
        self.rows.find(key).is_some()
    }

    /// The id of a stored row, or, after [`Planner::finish`], of one the import inserted.
    pub fn id(&self, key: Key) -> Option<i64> {
        self.rows.find(key).map(|i| self.rows.rows[i].1.id)
    }

    /// Every known row id: stored before the import or inserted by it.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.rows.rows.iter().map(|(_, s)| s.id)
    }

    /// Whether a stored row is active and has these synced values.
    pub fn is_unchanged(&self, key: Key, synced: &[Val]) -> bool {
        self.rows.find(key).is_some_and(|i| {
            let slot = self.rows.rows[i].1;
            slot.active() && slot.same_values(fingerprint(synced))
        })
    }

    /// Decides what to do with the next chunk of rows.
    pub fn plan<'a>(&mut self, incoming: Vec<Incoming<'a>>) -> Plan<'a> {
        let mut plan = Plan::default();
        let bulk = self.mode == Mode::Bulk;
        for row in incoming {
            let Some(i) = self.rows.find(row.key) else {
                if !row.deleted {
                    self.counts.added += 1;
                    plan.inserts.push(row);
                }
                continue;
            };
            let cur = &mut self.rows.rows[i].1;
            if bulk {
                cur.see();
            }
            if row.deleted {
                if cur.active() {
                    plan.deactivations.push(cur.id);
                    self.counts.deactivated += 1;
                }
            } else if !cur.active() || !cur.same_values(fingerprint(&row.synced)) {
                plan.updates.push((cur.id, row.synced));
                self.counts.changed += 1;
            }
        }
        plan
    }

    /// Records a row this import inserted, so that later tables find its id
    /// (after [`Planner::finish`]). It counts as named by the package.
    pub fn inserted(&mut self, key: Key, id: i64) {
        self.rows.push(key, Slot::new(id, 0, true, true));
    }

    /// Gives the plan's inserts the ids from `next` on, and records them.
    pub fn number(&mut self, plan: &mut Plan, next: &mut i64) {
        plan.ids.clear();
        for row in &plan.inserts {
            plan.ids.push(*next);
            self.inserted(row.key, *next);
            *next += 1;
        }
    }

    /// After the last chunk: in a bulk file, the active rows it did not name, to
    /// deactivate (sorted). From now on inserted rows are found too.
    pub fn finish(&mut self) -> Vec<i64> {
        let mut out = Vec::new();
        if self.mode == Mode::Bulk {
            for (_, slot) in &mut self.rows.rows[..self.rows.sealed] {
                if slot.active() && !slot.seen() {
                    out.push(slot.id);
                    slot.see();
                }
            }
            self.counts.deactivated += out.len() as u64;
            out.sort_unstable();
        }
        if self.rows.sealed < self.rows.rows.len() {
            self.rows.seal();
        }
        out
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn row<'a>(keys: &Keys, id: &'a str, name: &str, deleted: bool) -> Incoming<'a> {
        Incoming {
            key: keys.of(id),
            source_id: id,
            deleted,
            synced: vec![Val::Text(Some(name.to_owned().into()))],
            insert_only: vec![],
        }
    }

    fn planner(keys: &Keys, mode: Mode, rows: &[(&str, i64, bool, &str)]) -> Planner {
        let mut p = Planner::new(mode, rows.len());
        for (sid, id, active, name) in rows {
            let fp = fingerprint(&[Val::Text(Some((*name).into()))]);
            p.existing(keys.of(sid), Existing { id: *id, active: *active, fingerprint: fp });
        }
        p.loaded();
        p
    }

    /// Plans all rows as one chunk and executes the plan the way
    /// `roster_import_queries.rs` does: inserted rows get ids from 1000 on.
    fn run(p: &mut Planner, incoming: Vec<Incoming>) -> (Vec<String>, Vec<i64>, Vec<i64>) {
        let plan = p.plan(incoming);
        let inserts: Vec<String> = plan.inserts.iter().map(|r| r.source_id.to_owned()).collect();
        for (i, r) in plan.inserts.iter().enumerate() {
            p.inserted(r.key, 1000 + i as i64);
        }
        let mut deactivations = plan.deactivations;
        deactivations.extend(p.finish());
        (inserts, plan.updates.iter().map(|u| u.0).collect(), deactivations)
    }

    #[test]
    fn a_bulk_file_adds_new_rows_updates_changed_ones_and_deactivates_missing_ones() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Bulk, &[("a", 1, true, "A"), ("b", 2, true, "B"), ("c", 3, true, "C")]);
        let incoming = vec![row(&keys, "a", "A", false), row(&keys, "b", "B2", false), row(&keys, "d", "D", false)];
        let (inserts, updates, deactivations) = run(&mut p, incoming);
        assert_eq!(inserts, ["d"]);
        assert_eq!(updates, [2]);
        assert_eq!(deactivations, [3]);
        assert_eq!(p.counts(), Counts { added: 1, changed: 1, deactivated: 1 });
        assert_eq!(p.id(keys.of("d")), Some(1000), "an inserted row is known to later tables");
    }

    #[test]
    fn numbered_inserts_are_known_by_their_ids_and_stay_active() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Bulk, &[("a", 1, true, "A")]);
        let mut plan = p.plan(vec![row(&keys, "b", "B", false), row(&keys, "c", "C", false)]);
        let mut next = 2;
        p.number(&mut plan, &mut next);
        assert_eq!((plan.ids.as_slice(), next), ([2, 3].as_slice(), 4));
        assert_eq!(p.finish(), [1], "only the row the file left out");
        assert_eq!((p.id(keys.of("b")), p.id(keys.of("c"))), (Some(2), Some(3)));
        assert_eq!(p.id(keys.of("a")), Some(1));
    }

    #[test]
    fn every_row_is_found_by_its_key_and_no_other() {
        let keys = Keys::new();
        for n in [0, 1, 2, 3, 1_000, 50_000] {
            let mut p = Planner::new(Mode::Bulk, n);
            for i in 0..n {
                p.existing(keys.of(&format!("s{i}")), Existing { id: i as i64, active: true, fingerprint: 0 });
            }
            p.loaded();
            for i in 0..n {
                p.inserted(keys.of(&format!("new{i}")), (n + i) as i64);
            }
            assert_eq!(p.id(keys.of("new0")), None, "n = {n}: inserted rows are found after finish");
            p.finish();
            for i in 0..n {
                assert_eq!(p.id(keys.of(&format!("s{i}"))), Some(i as i64), "n = {n}");
                assert_eq!(p.id(keys.of(&format!("new{i}"))), Some((n + i) as i64), "n = {n}");
            }
            assert_eq!(p.id(keys.of("nobody")), None);
            assert_eq!(p.ids().count(), 2 * n);
        }
    }

    #[test]
    fn a_delta_file_touches_only_the_rows_it_names() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Delta, &[("a", 1, true, "A"), ("b", 2, true, "B")]);
        let (_, _, deactivations) = run(&mut p, vec![row(&keys, "a", "A", true)]);
        assert_eq!(deactivations, [1]);
        assert_eq!(p.counts(), Counts { added: 0, changed: 0, deactivated: 1 });
    }

    #[test]
    fn an_unchanged_package_plans_nothing() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Bulk, &[("a", 1, true, "A")]);
        assert!(p.is_unchanged(keys.of("a"), &[Val::Text(Some("A".into()))]));
        let (inserts, updates, deactivations) = run(&mut p, vec![row(&keys, "a", "A", false)]);
        assert!(inserts.is_empty() && updates.is_empty() && deactivations.is_empty());
    }

    #[test]
    fn a_deactivated_row_named_again_is_reactivated() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Delta, &[("a", 1, false, "A")]);
        assert!(!p.is_unchanged(keys.of("a"), &[Val::Text(Some("A".into()))]));
        let (_, updates, _) = run(&mut p, vec![row(&keys, "a", "A", false)]);
        assert_eq!(updates, [1]);
        assert_eq!(p.counts().changed, 1);
    }

    #[test]
    fn deleting_an_unknown_or_inactive_row_is_a_no_op() {
        let keys = Keys::new();
        let mut p = planner(&keys, Mode::Delta, &[("a", 1, false, "A")]);
        run(&mut p, vec![row(&keys, "a", "A", true), row(&keys, "zz", "Z", true)]);
        assert_eq!(p.counts(), Counts::default());
    }

    #[test]
    fn keys_tell_ids_apart_and_are_stable_within_an_import() {
        let keys = Keys::new();
        assert_eq!(keys.of("s1-u1"), keys.of("s1-u1"));
        let all: HashSet<Key> = (0..100_000).map(|i| keys.of(&format!("s{}-u{}", i % 1000, i))).collect();
        assert_eq!(all.len(), 100_000);
    }

    /// The planner as it was before chunking: the whole file at once, against a
    /// map of source ids. The chunked planner must agree with it exactly.
    fn whole(
        existing: &HashMap<String, Existing>,
        incoming: &[(String, bool, String)],
        mode: Mode,
    ) -> (Vec<String>, Vec<i64>, Vec<i64>, Counts) {
        let mut counts = Counts::default();
        let (mut inserts, mut updates, mut deactivations) = (Vec::new(), Vec::new(), Vec::new());
        let mut seen: HashSet<&str> = HashSet::new();
        for (sid, deleted, name) in incoming {
            let current = existing.get(sid);
            if mode == Mode::Bulk && current.is_some() {
                seen.insert(sid);
            }
            match (current, deleted) {
                (None, true) => {}
                (Some(cur), true) => {
                    if cur.active {
                        deactivations.push(cur.id);
                        counts.deactivated += 1;
                    }
                }
                (Some(cur), false) => {
                    if !cur.active || cur.fingerprint != fingerprint(&[Val::Text(Some(name.into()))]) {
                        updates.push(cur.id);
                        counts.changed += 1;
                    }
                }
                (None, false) => {
                    counts.added += 1;
                    inserts.push(sid.clone());
                }
            }
        }
        if mode == Mode::Bulk {
            for (sid, cur) in existing {
                if cur.active && !seen.contains(sid.as_str()) {
                    deactivations.push(cur.id);
                    counts.deactivated += 1;
                }
            }
        }
        (inserts, updates, deactivations, counts)
    }

    /// A small deterministic generator (xorshift), so that a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn chunked_planning_agrees_with_planning_the_whole_file() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..2_000 {
            let keys = Keys::new();
            let mode = [Mode::Bulk, Mode::Delta, Mode::Absent][rng.below(3) as usize];
            let universe = 1 + rng.below(40);
            let mut existing = HashMap::new();
            for i in 0..universe {
                if rng.below(2) == 0 {
                    let fp = fingerprint(&[Val::Text(Some(format!("n{}", rng.below(3)).into()))]);
                    existing.insert(
                        format!("r{i}"),
                        Existing { id: i as i64 + 1, active: rng.below(4) != 0, fingerprint: fp },
                    );
                }
            }
            let mut incoming: Vec<(String, bool, String)> = Vec::new();
            for i in 0..universe {
                if rng.below(3) != 0 {
                    incoming.push((format!("r{i}"), rng.below(5) == 0, format!("n{}", rng.below(3))));
                }
            }
            // Rows come in file order, not in id order.
            for i in (1..incoming.len()).rev() {
                incoming.swap(i, rng.below(i as u64 + 1) as usize);
            }
            let (inserts, updates, mut deactivations, counts) = whole(&existing, &incoming, mode);

            let mut p = Planner::new(mode, 0);
            for (sid, e) in &existing {
                p.existing(keys.of(sid), *e);
            }
            p.loaded();
            let chunk = 1 + rng.below(incoming.len() as u64 + 1) as usize;
            let (mut got_inserts, mut got_updates, mut got_deactivations) = (Vec::new(), Vec::new(), Vec::new());
            let mut next_id = 10_000;
            for rows in incoming.chunks(chunk) {
                let rows = rows.iter().map(|(sid, deleted, name)| row(&keys, sid, name, *deleted)).collect();
                let plan = p.plan(rows);
                for r in &plan.inserts {
                    got_inserts.push(r.source_id.to_owned());
                    p.inserted(r.key, next_id);
                    next_id += 1;
                }
                got_updates.extend(plan.updates.iter().map(|u| u.0));
                got_deactivations.extend(plan.deactivations);
            }
            got_deactivations.extend(p.finish());
            deactivations.sort_unstable();
            got_deactivations.sort_unstable();
            assert_eq!(got_inserts, inserts, "case {case}");
            assert_eq!(got_updates, updates, "case {case}");
            assert_eq!(got_deactivations, deactivations, "case {case}");
            assert_eq!(p.counts(), counts, "case {case}");
            for sid in &inserts {
                assert!(p.id(keys.of(sid)).is_some_and(|id| id >= 10_000), "case {case}");
            }
        }
    }
}
