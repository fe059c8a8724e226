//! `manifest.csv`: the version and, per file, whether it is bulk, delta or absent.

use crate::source::{Progress, Source};
use crate::table::{Spec, Table};
use crate::{Problem, ReadError, Report, Version};
use roster::import::Mode;

pub(crate) const MANIFEST: &str = "manifest.csv";
pub(crate) const ORGS: &str = "orgs.csv";
pub(crate) const SESSIONS: &str = "academicSessions.csv";
pub(crate) const COURSES: &str = "courses.csv";
pub(crate) const CLASSES: &str = "classes.csv";
pub(crate) const USERS: &str = "users.csv";
pub(crate) const ROLES: &str = "roles.csv";
pub(crate) const ENROLLMENTS: &str = "enrollments.csv";

/// The files Parta reads, in the order it reads them: each refers only to those before it.
pub(crate) const READ: [&str; 7] = [ORGS, SESSIONS, COURSES, CLASSES, USERS, ROLES, ENROLLMENTS];

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Modes([Mode; READ.len()]);

impl Modes {
    pub fn of(&self, file: &str) -> Mode {
        READ.iter().position(|f| *f == file).map_or(Mode::Absent, |i| self.0[i])
    }

    fn set(&mut self, file: &str, mode: Mode) {
        if let Some(i) = READ.iter().position(|f| *f == file) {
            self.0[i] = mode;
        }
    }

    /// The files to read, with their modes.
    pub fn present(&self) -> impl Iterator<Item = (&'static str, Mode)> + '_ {
        READ.iter().zip(self.0).filter(|(_, m)| *m != Mode::Absent).map(|(f, m)| (*f, m))
    }
}

pub(crate) struct Plan {
    pub version: Version,
    pub modes: Modes,
}

const SPEC: Spec = Spec { known: &["propertyName", "value"], required: &["propertyName", "value"] };

fn mode(raw: &str) -> Option<Mode> {
    [("bulk", Mode::Bulk), ("delta", Mode::Delta), ("absent", Mode::Absent)]
        .into_iter()
        .find(|(name, _)| raw.eq_ignore_ascii_case(name))
        .map(|(_, m)| m)
}

fn version(raw: &str) -> Option<Version> {
    match raw.split('.').take(2).collect::<Vec<_>>().as_slice() {
        ["1", "1"] => Some(Version::V1_1),
        ["1", "2"] => Some(Version::V1_2),
        _ => None,
    }
}

/// Reads the manifest if there is one; without it every present file counts as bulk
/// and `roles.csv` marks a 1.2 package.
pub(crate) fn plan(source: &mut Source, report: &mut Report) -> Result<Plan, ReadError> {
    let fallback_version = if source.contains(ROLES) { Version::V1_2 } else { Version::V1_1 };
    if !source.contains(MANIFEST) {
        let mut modes = Modes::default();
        for file in READ {
            if source.contains(file) {
                modes.set(file, Mode::Bulk);
            }
        }
        if modes.present().next().is_none() {
            report.error(Problem::in_file(
                MANIFEST,
                format!("the package has none of the OneRoster files {MANIFEST}, {}", READ.join(", ")),
            ));
        }
        let mut plan = Plan { version: fallback_version, modes };
        drop_roles_from_1_1(&mut plan, report);
        return Ok(plan);
    }

    let mut noop = |_: u64, _: u64| {};
    let mut progress = Progress::new(&mut noop, 0);
    let mut modes = Modes::default();
    let mut listed: Vec<&'static str> = Vec::new();
    let mut declared_version = None;
    let mut wanted: Vec<(String, u64)> = Vec::new();
    {
        let Some((mut table, cols)) = Table::open(source, &mut progress, MANIFEST, &SPEC, report)? else {
            return Ok(Plan { version: fallback_version, modes });
        };
        let (property, value) = (cols.col("propertyName"), cols.col("value"));
        while let Some(f) = table.next(report)? {
            let (name, raw) = match (f.text(property), f.text(value)) {
                (Ok(n), Ok(v)) => (n, v),
                (Err(p), _) | (_, Err(p)) => {
                    report.error(p);
                    continue;
                }
            };
            if name.eq_ignore_ascii_case("oneroster.version") {
                match version(raw) {
                    Some(v) => declared_version = Some(v),
                    None => report.error(
                        f.problem(value, format!("unknown OneRoster version \"{raw}\"; Parta reads 1.1 and 1.2")),
                    ),
                }
                continue;
            }
            let Some(entity) = name.get(..5).filter(|p| p.eq_ignore_ascii_case("file.")).map(|_| &name[5..]) else {
                continue;
            };
            let Some(m) = mode(raw) else {
                report.error(f.problem(value, format!("unknown mode \"{raw}\"; expected bulk, delta or absent")));
                continue;
            };
            if m != Mode::Absent {
                wanted.push((format!("{entity}.csv"), f.line));
            }
            if let Some(file) = READ.iter().find(|r| r[..r.len() - 4].eq_ignore_ascii_case(entity)) {
                modes.set(file, m);
                listed.push(file);
            }
        }
    }
    for (file, line) in wanted {
        if !source.contains(&file) {
            report.error(Problem::new(
                MANIFEST,
                Some(line),
                Some("value"),
                format!("the manifest lists {file}, but the package has no such file"),
            ));
            // Reported once here rather than again by every file that refers to it.
            if let Some(known) = READ.iter().find(|r| r.eq_ignore_ascii_case(&file)) {
                modes.set(known, Mode::Absent);
            }
        }
    }
    for file in READ {
        if source.contains(file) && modes.of(file) == Mode::Absent {
            let why =
                if listed.contains(&file) { "manifest.csv marks it absent" } else { "manifest.csv does not list it" };
            report.warn(Problem::in_file(file, format!("the file is not read: {why}")));
        }
    }
    let version = declared_version.unwrap_or_else(|| {
        report.warn(Problem::in_file(
            MANIFEST,
            format!(
                "no oneroster.version; reading the package as OneRoster {}",
                if fallback_version == Version::V1_2 { "1.2" } else { "1.1" }
            ),
        ));
        fallback_version
    });
    let mut plan = Plan { version, modes };
    drop_roles_from_1_1(&mut plan, report);
    Ok(plan)
}

fn drop_roles_from_1_1(plan: &mut Plan, report: &mut Report) {
    if plan.version == Version::V1_1 && plan.modes.of(ROLES) != Mode::Absent {
        report.warn(Problem::in_file(ROLES, "roles.csv belongs to OneRoster 1.2 and is not read in a 1.1 package"));
        plan.modes.set(ROLES, Mode::Absent);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_accept_patch_numbers() {
        assert_eq!(version("1.1"), Some(Version::V1_1));
        assert_eq!(version("1.2.0"), Some(Version::V1_2));
        assert_eq!(version("2.0"), None);
        assert_eq!(mode("BULK"), Some(Mode::Bulk));
    }
}
