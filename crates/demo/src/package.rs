//! Writing a roster as a OneRoster 1.2 CSV package, following docs/oneroster.md.
//!
//! Every file is opened once and rosters are appended to it one after another, so a
//! region of a thousand schools is written school by school and never held whole.
//! `status` and `dateLastModified` stay blank: OneRoster 1.2 leaves them empty in
//! bulk files, and a fixed date would only pretend to know when the demo changed.

use crate::school::{Roster, Target, YEAR_END, YEAR_ID, YEAR_ONEROSTER, YEAR_START, YEAR_TITLE};
use oneroster::columns;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

type Csv = csv::Writer<BufWriter<File>>;

const GRADE_CODES: [&str; 12] = ["", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11"];

/// The files this package holds; the rest of OneRoster 1.2 is declared absent.
const PRESENT: [&str; 7] = ["academicSessions", "classes", "courses", "enrollments", "orgs", "roles", "users"];
const ABSENT: [&str; 14] = [
    "categories",
    "classResources",
    "courseResources",
    "demographics",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "scoreScales",
    "userProfiles",
    "userResources",
];

pub struct PackageWriter {
    orgs: Csv,
    courses: Csv,
    classes: Csv,
    users: Csv,
    roles: Csv,
    enrollments: Csv,
    agents: String,
}

fn open(dir: &Path, name: &str, header: &[&str]) -> io::Result<Csv> {
    let file = File::create(dir.join(name))?;
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, file));
    w.write_record(header)?;
    Ok(w)
}

impl PackageWriter {
    /// Creates the folder and writes the manifest and the academic year, which are
    /// the same for every package; the rest follows roster by roster.
    pub fn create(dir: &Path, system: &str) -> io::Result<Self> {
        fs::create_dir_all(dir)?;

        let mut manifest = open(dir, "manifest.csv", &["propertyName", "value"])?;
        manifest.write_record(["manifest.version", "1.0"])?;
        manifest.write_record(["oneroster.version", "1.2"])?;
        let mut files: Vec<(&str, &str)> =
            PRESENT.iter().map(|f| (*f, "bulk")).chain(ABSENT.iter().map(|f| (*f, "absent"))).collect();
        files.sort_by_key(|(f, _)| f.to_lowercase());
        for (file, mode) in files {
            manifest.write_record([format!("file.{file}").as_str(), mode])?;
        }
        manifest.write_record(["source.systemName", system])?;
        manifest.write_record(["source.systemCode", "parta"])?;
        manifest.flush()?;

        let mut sessions = open(dir, "academicSessions.csv", columns::ACADEMIC_SESSIONS)?;
        sessions.write_record([YEAR_ID, "", "", YEAR_TITLE, "schoolYear", YEAR_START, YEAR_END, "", YEAR_ONEROSTER])?;
        sessions.flush()?;

        Ok(PackageWriter {
            orgs: open(dir, "orgs.csv", columns::ORGS)?,
            courses: open(dir, "courses.csv", columns::COURSES)?,
            classes: open(dir, "classes.csv", columns::CLASSES)?,
            users: open(dir, "users.csv", columns::USERS)?,
            roles: open(dir, "roles.csv", columns::ROLES)?,
            enrollments: open(dir, "enrollments.csv", columns::ENROLLMENTS)?,
            agents: String::new(),
        })
    }

    pub fn write(&mut self, r: &Roster) -> io::Result<()> {
        for o in &r.orgs {
            let kind = if o.other { "other" } else { "" };
            let chats = match o.chats {
                Some(true) => "on",
                Some(false) => "off",
                None => "",
            };
            self.orgs.write_record([o.id.as_str(), "", "", &o.name, "school", "", "", kind, chats])?;
        }
        for c in &r.courses {
            let org = &r.orgs[c.org].id;
            self.courses.write_record([c.id.as_str(), "", "", YEAR_ID, c.title, c.code, "", org, "", ""])?;
        }
        for c in &r.classes {
            let grade = GRADE_CODES.get(usize::from(c.grade)).copied().unwrap_or("");
            let org = &r.orgs[c.org].id;
            self.classes.write_record([
                c.id.as_str(),
                "",
                "",
                &c.title,
                grade,
                "",
                "",
                "homeroom",
                "",
                org,
                YEAR_ID,
                "",
                "",
                "",
                "",
                "",
            ])?;
        }
        for s in &r.sections {
            let class = &r.classes[s.class];
            let grade = GRADE_CODES.get(usize::from(class.grade)).copied().unwrap_or("");
            self.classes.write_record([
                s.id.as_str(),
                "",
                "",
                &s.title,
                grade,
                &r.courses[s.course].id,
                "",
                "scheduled",
                "",
                &r.orgs[s.org].id,
                YEAR_ID,
                "",
                "",
                "",
                &class.id,
                s.group.unwrap_or(""),
            ])?;
        }
        for p in &r.people {
            self.agents.clear();
            for (i, &g) in p.guardians.iter().enumerate() {
                if i > 0 {
                    self.agents.push(',');
                }
                self.agents.push_str(&r.people[g].id);
            }
            let grade = p.grade.and_then(|g| GRADE_CODES.get(usize::from(g)).copied()).unwrap_or("");
            self.users.write_record([
                p.id.as_str(),
                "",
                "",
                "true",
                &p.login,
                "",
                p.first,
                &p.last,
                &p.middle,
                "",
                "",
                "",
                "",
                &self.agents,
                grade,
                p.password.unwrap_or(""),
                "",
                "",
                "",
                "",
                "",
                &r.orgs[p.org].id,
                "",
            ])?;
        }
        for (i, g) in r.roles.iter().enumerate() {
            let org = &r.orgs[g.org].id;
            let id = format!("{org}-r{}", i + 1);
            let role_type = if g.primary { "primary" } else { "secondary" };
            self.roles.write_record([
                id.as_str(),
                "",
                "",
                &r.people[g.person].id,
                role_type,
                g.role,
                "",
                "",
                org,
                "",
            ])?;
        }
        for (i, e) in r.enrollments.iter().enumerate() {
            let (target, org) = match e.target {
                Target::Class(c) => (&r.classes[c].id, r.classes[c].org),
                Target::Section(s) => (&r.sections[s].id, r.sections[s].org),
            };
            let org = &r.orgs[org].id;
            let id = format!("{org}-e{}", i + 1);
            let role = if e.teacher { "teacher" } else { "student" };
            let primary = if e.primary { "true" } else { "false" };
            self.enrollments.write_record([
                id.as_str(),
                "",
                "",
                target,
                org,
                &r.people[e.person].id,
                role,
                primary,
                "",
                "",
            ])?;
        }
        Ok(())
    }

    /// Flushes every file; an error here is a disk error the caller must see, which
    /// dropping the writers would swallow.
    pub fn finish(mut self) -> io::Result<()> {
        for w in [
            &mut self.orgs,
            &mut self.courses,
            &mut self.classes,
            &mut self.users,
            &mut self.roles,
            &mut self.enrollments,
        ] {
            w.flush()?;
        }
        Ok(())
    }
}
