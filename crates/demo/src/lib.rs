//! The deterministic demo school, and the synthetic region for benchmarks. Both
//! are written as OneRoster 1.2 CSV packages (docs/oneroster.md), so they enter
//! Parta through the same importer as a real school's data.
//!
//! Both are drawn from an in-crate SplitMix64 with fixed seeds: the same bytes on
//! every run and every machine, whatever `rand` does in its next version.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod demo;
mod names;
mod package;
mod school;

/// The deterministic generator behind the demo school and the region, also
/// used by the benchmarks to pick their samples.
pub use school::Rng;

use package::PackageWriter;
use school::{Post, Roster, SchoolSpec, build_school};
use std::io;
use std::path::Path;

/// The password every demo account has; nobody else in the demo has one.
pub const DEMO_PASSWORD: &str = demo::PASSWORD;

/// An account of the demo that has a password, to be listed for a visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// `administrator`, `teacher`, `other_staff`, `student` or `guardian`.
    pub role: &'static str,
    /// "Фамилия Имя Отчество".
    pub name: String,
    pub login: String,
    pub password: String,
    /// The organisation's name.
    pub org: String,
    /// Who this is, in Russian: "классный руководитель 5А", "мама ученицы 5А".
    pub note: String,
}

/// The demo accounts, in the order to list them.
pub fn demo_accounts() -> Vec<DemoAccount> {
    let d = demo::build();
    d.accounts
        .iter()
        .map(|a| {
            let p = &d.roster.people[a.person];
            DemoAccount {
                role: a.role,
                name: d.roster.full_name(a.person),
                login: p.login.clone(),
                password: p.password.unwrap_or_default().to_string(),
                org: d.roster.orgs[a.org].name.clone(),
                note: a.note.clone(),
            }
        })
        .collect()
}

/// Writes the demo package (manifest, orgs, academicSessions, courses, classes,
/// users, roles, enrollments) into `dir`, creating it if needed.
pub fn write_demo_package(dir: &Path) -> io::Result<()> {
    let d = demo::build();
    let mut w = PackageWriter::create(dir, "Parta demo")?;
    w.write(&d.roster)?;
    w.finish()
}

/// What a region package holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegionStats {
    pub schools: u32,
    pub students: u64,
    pub guardians: u64,
    pub staff: u64,
    /// Homeroom classes ("5А").
    pub classes: u64,
    /// Scheduled classes: a subject taught to a class or a group.
    pub sections: u64,
    pub enrollments: u64,
}

const REGION_SEED: u64 = 0x5245_4749_4f4e_0001;

static REGION_ADMINS: [Post; 4] = [
    Post { title: "директор", role: "principal", female_percent: 70 },
    Post {
        title: "заместитель директора по УВР", role: "siteAdministrator", female_percent: 85
    },
    Post {
        title: "заместитель директора по ВР", role: "siteAdministrator", female_percent: 85
    },
    Post {
        title: "заместитель директора по АХЧ", role: "siteAdministrator", female_percent: 40
    },
];
static REGION_STAFF: [Post; 8] = [
    Post { title: "педагог-психолог", role: "counselor", female_percent: 90 },
    Post { title: "социальный педагог", role: "counselor", female_percent: 90 },
    Post { title: "учитель-логопед", role: "aide", female_percent: 95 },
    Post { title: "библиотекарь", role: "aide", female_percent: 95 },
    Post { title: "педагог-организатор", role: "aide", female_percent: 80 },
    Post { title: "советник директора по воспитанию", role: "aide", female_percent: 75 },
    Post { title: "тьютор", role: "aide", female_percent: 85 },
    Post { title: "тьютор", role: "aide", female_percent: 85 },
];
const LETTERS: &[&str] = &["А", "Б", "В"];

/// Writes a synthetic region of `schools` general-education schools into `dir`:
/// about 1,000 students, 1,900 guardians and 77 staff each. Schools are generated
/// and written one at a time, each from its own seed, so memory stays that of one
/// school; `progress` is told after each.
pub fn write_region_package(dir: &Path, schools: u32, progress: &mut dyn FnMut(u32)) -> io::Result<RegionStats> {
    let mut w = PackageWriter::create(dir, "Parta region generator")?;
    let mut stats = RegionStats { schools, ..RegionStats::default() };
    for n in 1..=schools {
        let id = format!("s{n}");
        let mut roster = Roster::new(&format!("{id}."));
        let mut rng = Rng::new(REGION_SEED ^ u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        build_school(
            &mut roster,
            &SchoolSpec {
                name: format!("Школа № {n}"),
                id,
                chats: Some(true),
                grades: 1..=11,
                letters: LETTERS,
                class_size: (28, 32),
                load: 14,
                admins: &REGION_ADMINS,
                other_staff: &REGION_STAFF,
                two_guardians_percent: 97,
                sibling_percent: 2,
                forced_siblings: Vec::new(),
                teacher_parent: None,
            },
            &mut rng,
        );
        count(&roster, &mut stats);
        w.write(&roster)?;
        progress(n);
    }
    w.finish()?;
    Ok(stats)
}

fn count(r: &Roster, stats: &mut RegionStats) {
    for g in r.roles.iter().filter(|g| g.primary) {
        match g.role {
            "student" => stats.students += 1,
            "parent" => stats.guardians += 1,
            _ => stats.staff += 1,
        }
    }
    stats.classes += r.classes.len() as u64;
    stats.sections += r.sections.len() as u64;
    stats.enrollments += r.enrollments.len() as u64;
}

#[cfg(test)]
mod tests;
