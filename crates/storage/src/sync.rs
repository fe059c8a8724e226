//! The backend-independent half of a roster import: turning batch rows into
//! column values, and deciding per row whether to insert, update, deactivate or
//! leave alone. The SQL half (`queries.rs`) only executes these plans, so the
//! rules are written once and tested without a database.

use roster::import::{Counts, Mode};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// A column value, normalised so that a value read back from either database
/// hashes the same as the value about to be written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
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
}

pub const ORGS: Table = Table {
    name: "orgs",
    entity: "organisations",
    synced: &[("name", Kind::Text), ("kind", Kind::Text)],
    // Administrators switch the module in the portal; a re-import must not undo it.
    insert_only: &[("chats_enabled", Kind::Bool)],
};
pub const YEARS: Table = Table {
    name: "academic_years",
    entity: "academic years",
    synced: &[("title", Kind::Text), ("start_date", Kind::Text), ("end_date", Kind::Text)],
    insert_only: &[],
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
};
pub const SUBJECTS: Table = Table {
    name: "subjects",
    entity: "subjects",
    synced: &[("org_id", Kind::Int), ("name", Kind::Text)],
    insert_only: &[],
};
pub const CLASSES: Table = Table {
    name: "classes",
    entity: "classes",
    synced: &[("org_id", Kind::Int), ("year_id", Kind::Int), ("name", Kind::Text), ("grade", Kind::Int)],
    insert_only: &[],
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
};

pub fn fingerprint(values: &[Val]) -> u64 {
    let mut h = DefaultHasher::new();
    values.hash(&mut h);
    h.finish()
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

/// One batch row, reduced to what the planner needs.
#[derive(Debug)]
pub struct Incoming {
    pub source_id: String,
    pub deleted: bool,
    pub synced: Vec<Val>,
    pub insert_only: Vec<Val>,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub inserts: Vec<Incoming>,
    pub updates: Vec<(i64, Vec<Val>)>,
    pub deactivations: Vec<i64>,
    pub counts: Counts,
}

/// Decides what to do with each incoming row. A changed row and a reactivated
/// row both count as changed; in a bulk file, every active row with a source id
/// the file does not name is deactivated.
pub fn plan(existing: &HashMap<String, Existing>, incoming: Vec<Incoming>, mode: Mode) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut inserts = Vec::new();
    for row in incoming {
        let current = existing.get(&row.source_id);
        if mode == Mode::Bulk
            && let Some((key, _)) = existing.get_key_value(&row.source_id)
        {
            seen.insert(key.as_str());
        }
        match (current, row.deleted) {
            (None, true) => {}
            (Some(cur), true) => {
                if cur.active {
                    plan.deactivations.push(cur.id);
                    plan.counts.deactivated += 1;
                }
            }
            (Some(cur), false) => {
                if !cur.active || cur.fingerprint != fingerprint(&row.synced) {
                    plan.updates.push((cur.id, row.synced));
                    plan.counts.changed += 1;
                }
            }
            (None, false) => {
                plan.counts.added += 1;
                inserts.push(row);
            }
        }
    }
    if mode == Mode::Bulk {
        for (source_id, cur) in existing {
            if cur.active && !seen.contains(source_id.as_str()) {
                plan.deactivations.push(cur.id);
                plan.counts.deactivated += 1;
            }
        }
        plan.deactivations.sort_unstable();
    }
    plan.inserts = inserts;
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, name: &str, deleted: bool) -> Incoming {
        Incoming { source_id: id.into(), deleted, synced: vec![Val::Text(Some(name.into()))], insert_only: vec![] }
    }

    fn existing(rows: &[(&str, i64, bool, &str)]) -> HashMap<String, Existing> {
        rows.iter()
            .map(|(sid, id, active, name)| {
                let fp = fingerprint(&[Val::Text(Some((*name).into()))]);
                ((*sid).to_string(), Existing { id: *id, active: *active, fingerprint: fp })
            })
            .collect()
    }

    #[test]
    fn a_bulk_file_adds_new_rows_updates_changed_ones_and_deactivates_missing_ones() {
        let db = existing(&[("a", 1, true, "A"), ("b", 2, true, "B"), ("c", 3, true, "C")]);
        let p = plan(&db, vec![row("a", "A", false), row("b", "B2", false), row("d", "D", false)], Mode::Bulk);
        assert_eq!(p.inserts.iter().map(|r| r.source_id.as_str()).collect::<Vec<_>>(), ["d"]);
        assert_eq!(p.updates.iter().map(|u| u.0).collect::<Vec<_>>(), [2]);
        assert_eq!(p.deactivations, [3]);
        assert_eq!(p.counts, Counts { added: 1, changed: 1, deactivated: 1 });
    }

    #[test]
    fn a_delta_file_touches_only_the_rows_it_names() {
        let db = existing(&[("a", 1, true, "A"), ("b", 2, true, "B")]);
        let p = plan(&db, vec![row("a", "A", true)], Mode::Delta);
        assert_eq!(p.deactivations, [1]);
        assert_eq!(p.counts, Counts { added: 0, changed: 0, deactivated: 1 });
    }

    #[test]
    fn an_unchanged_package_plans_nothing() {
        let db = existing(&[("a", 1, true, "A")]);
        let p = plan(&db, vec![row("a", "A", false)], Mode::Bulk);
        assert!(p.inserts.is_empty() && p.updates.is_empty() && p.deactivations.is_empty());
    }

    #[test]
    fn a_deactivated_row_named_again_is_reactivated() {
        let db = existing(&[("a", 1, false, "A")]);
        let p = plan(&db, vec![row("a", "A", false)], Mode::Delta);
        assert_eq!(p.updates.len(), 1);
        assert_eq!(p.counts.changed, 1);
    }

    #[test]
    fn deleting_an_unknown_or_inactive_row_is_a_no_op() {
        let db = existing(&[("a", 1, false, "A")]);
        let p = plan(&db, vec![row("a", "A", true), row("zz", "Z", true)], Mode::Delta);
        assert_eq!(p.counts, Counts::default());
    }
}
