//! Maps each OneRoster file onto the import batch, file by file, in an order where
//! every file refers only to files already read.

use crate::columns;
use crate::ids::{Entry, Ids, Kind};
use crate::manifest::{CLASSES, COURSES, ENROLLMENTS, Modes, ORGS, ROLES, SESSIONS, USERS};
use crate::source::{Progress, Source};
use crate::table::{Col, Fields, Spec, Table};
use crate::values::{self, EnrollmentKind};
use crate::{Problem, ReadError, Report, Version};
use chrono::NaiveDate;
use roster::import::{
    AcademicYear, Batch, Class, Enrollment, Guardianship, Mode, Org, Origin, Person, Row, Section, SourceId, Subject,
};
use roster::{ClassName, Login, NameError, NamePart, OrgKind, PersonName, Role};

const ORG_SPEC: Spec = Spec { known: columns::ORGS, required: &["sourcedId", "name", "type"] };

const SESSION_SPEC: Spec =
    Spec { known: columns::ACADEMIC_SESSIONS, required: &["sourcedId", "title", "type", "startDate", "endDate"] };

const COURSE_SPEC: Spec = Spec { known: columns::COURSES, required: &["sourcedId", "title", "orgSourcedId"] };

const CLASS_SPEC: Spec =
    Spec { known: columns::CLASSES, required: &["sourcedId", "title", "classType", "schoolSourcedId"] };

const USER_SPEC_1_1: Spec =
    Spec { known: columns::USERS_1_1, required: &["sourcedId", "givenName", "familyName", "role", "orgSourcedIds"] };

const USER_SPEC_1_2: Spec = Spec { known: columns::USERS, required: &["sourcedId", "givenName", "familyName"] };

const ROLE_SPEC: Spec =
    Spec { known: columns::ROLES, required: &["sourcedId", "userSourcedId", "role", "orgSourcedId"] };

const ENROLLMENT_SPEC: Spec =
    Spec { known: columns::ENROLLMENTS, required: &["sourcedId", "classSourcedId", "userSourcedId", "role"] };

/// A term, semester or grading period: Parta keeps only the school year it belongs to.
struct Term {
    line: u64,
    deleted: bool,
    parent: Option<SourceId>,
    year: Option<SourceId>,
}

/// One `agentSourcedIds` value, kept until every person's roles are known, which in
/// 1.2 is only after roles.csv.
struct Agent {
    person: usize,
    line: u64,
    agent: SourceId,
}

type Step<'s, 'p> = fn(&mut Importer<'s, 'p>) -> Result<(), ReadError>;

pub(crate) struct Importer<'s, 'p> {
    source: &'s mut Source,
    progress: Progress<'p>,
    report: Report,
    version: Version,
    modes: Modes,
    batch: Batch,
    orgs: Ids,
    sessions: Ids,
    terms: Vec<Term>,
    courses: Ids,
    classes: Ids,
    people: Ids,
    agents: Vec<Agent>,
}

fn origin(f: &Fields) -> Origin {
    Origin { file: f.file, line: f.line }
}

/// Records a row's `sourcedId`; a second row with it is an error naming both lines.
fn register(ids: &mut Ids, report: &mut Report, f: &Fields, col: Col, id: &str, row: Option<(Kind, usize)>) -> bool {
    match ids.insert(id, Entry::new(f.line, row)) {
        Ok(()) => true,
        Err(first) => {
            report.error(f.problem(col, format!("duplicate sourcedId \"{id}\": line {first} has it too")));
            false
        }
    }
}

/// Pushes a parsed row of a file that holds one kind of entity, or reports why not.
fn accept<T>(
    ids: &mut Ids,
    report: &mut Report,
    rows: &mut Vec<Row<T>>,
    f: &Fields,
    col: Col,
    id: &str,
    parsed: Result<(bool, T), Problem>,
) -> Option<usize> {
    match parsed {
        Ok((deleted, data)) => {
            let index = rows.len();
            register(ids, report, f, col, id, Some((Kind::Plain, index))).then(|| {
                rows.push(Row { source_id: id.into(), origin: origin(f), deleted, data });
                index
            })
        }
        Err(problem) => {
            report.error(problem);
            register(ids, report, f, col, id, None);
            None
        }
    }
}

/// Checks a reference into a file already read. When that file is bulk in this
/// package it is the complete set, so a miss is an error; otherwise the row may
/// already be in the database and the storage layer resolves it.
fn reference(ids: &Ids, file: &str, f: &Fields, col: Col, id: &str) -> Result<Option<Entry>, Problem> {
    match ids.get(id) {
        Some(entry) => Ok(Some(entry)),
        None if ids.authoritative => Err(f.problem(col, format!("no row with sourcedId \"{id}\" in {file}"))),
        None => Ok(None),
    }
}

/// The school year of a session a class names: a year is itself, a term its year.
fn year_of(sessions: &Ids, terms: &[Term], f: &Fields, col: Col, session: &str) -> Result<Option<SourceId>, Problem> {
    match reference(sessions, SESSIONS, f, col, session)? {
        None => Ok(Some(session.into())),
        Some(Entry { row: None, .. }) => Ok(None),
        Some(Entry { row: Some((Kind::Term, j)), .. }) => Ok(terms.get(j as usize).and_then(|t| t.year.clone())),
        Some(Entry { .. }) => Ok(Some(session.into())),
    }
}

/// Adds a role to a person's list, which holds one or two: a `Vec`'s first push
/// makes room for four, and a region has millions of people.
fn push_role(roles: &mut Vec<(Role, SourceId)>, role: Role, org: &str) {
    roles.reserve_exact(1);
    roles.push((role, org.into()));
}

fn status(f: &Fields, col: Col, mode: Mode) -> Result<bool, Problem> {
    values::status(f.text(col)?, mode).map_err(|m| f.problem(col, m))
}

fn title(f: &Fields, col: Col) -> Result<String, Problem> {
    let raw = f.required(col)?;
    roster::parse_title(raw).map_err(|e| f.problem(col, e.to_string()))
}

fn date(f: &Fields, col: Col) -> Result<Option<NaiveDate>, Problem> {
    f.optional(col)?.map(|raw| values::date(raw).map_err(|m| f.problem(col, m))).transpose()
}

fn required_date(f: &Fields, col: Col) -> Result<NaiveDate, Problem> {
    let raw = f.required(col)?;
    values::date(raw).map_err(|m| f.problem(col, m))
}

fn date_range(f: &Fields, begin: Col, end: Col) -> Result<(Option<NaiveDate>, Option<NaiveDate>), Problem> {
    let (b, e) = (date(f, begin)?, date(f, end)?);
    if let (Some(b), Some(e)) = (b, e)
        && e < b
    {
        return Err(f.problem(end, format!("ends on {e}, before it begins on {b}")));
    }
    Ok((b, e))
}

impl<'s, 'p> Importer<'s, 'p> {
    pub fn new(source: &'s mut Source, progress: Progress<'p>, report: Report, version: Version, modes: Modes) -> Self {
        Importer {
            source,
            progress,
            report,
            version,
            modes,
            batch: Batch::default(),
            orgs: Ids::default(),
            sessions: Ids::default(),
            terms: Vec::new(),
            courses: Ids::default(),
            classes: Ids::default(),
            people: Ids::default(),
            agents: Vec::new(),
        }
    }

    pub fn run(mut self) -> Result<(Batch, Report), ReadError> {
        let steps: [Step<'s, 'p>; 7] =
            [Self::orgs, Self::sessions, Self::courses, Self::classes, Self::users, Self::roles, Self::enrollments];
        for step in steps {
            if self.report.is_full() {
                break;
            }
            step(&mut self)?;
        }
        if !self.report.is_full() {
            self.guardianships();
        }
        self.progress.finish();
        Ok((self.batch, self.report))
    }

    fn orgs(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(ORGS);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.orgs.mode = mode;
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, ORGS, &ORG_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        self.orgs.authoritative = mode == Mode::Bulk;
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let name = cols.col("name");
        let kind = cols.col("type");
        let parta_kind = cols.col("metadata.parta.kind");
        let chats = cols.col("metadata.parta.chats");
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let name = title(&f, name)?;
                let org_type = f.required(kind)?;
                let kind = if org_type.eq_ignore_ascii_case("school") {
                    match f.text(parta_kind)? {
                        "" => OrgKind::GeneralEducation,
                        k if k.eq_ignore_ascii_case("other") => OrgKind::Other,
                        k if k.eq_ignore_ascii_case("general_education") => OrgKind::GeneralEducation,
                        k => {
                            return Err(f.problem(
                                parta_kind,
                                format!("unknown kind \"{k}\"; expected other or general_education"),
                            ));
                        }
                    }
                } else if ["district", "department", "local", "state", "national"]
                    .iter()
                    .any(|t| org_type.eq_ignore_ascii_case(t))
                    || org_type.starts_with("ext:")
                {
                    OrgKind::Other
                } else {
                    return Err(f.problem(
                        kind,
                        format!(
                            "unknown organisation type \"{org_type}\"; expected school, district, department, local, state or national"
                        ),
                    ));
                };
                let chats_enabled = match f.text(chats)? {
                    "" => true,
                    raw => values::switch(raw)
                        .ok_or_else(|| f.problem(chats, format!("\"{raw}\" is neither on nor off")))?,
                };
                Ok((deleted, Org { name, kind, chats_enabled }))
            })();
            accept(&mut self.orgs, &mut self.report, &mut self.batch.orgs.rows, &f, id, source_id, parsed);
        }
        Ok(())
    }

    fn sessions(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(SESSIONS);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.years.mode = mode;
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, SESSIONS, &SESSION_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        self.sessions.authoritative = mode == Mode::Bulk;
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let title_col = cols.col("title");
        let kind = cols.col("type");
        let start = cols.col("startDate");
        let end = cols.col("endDate");
        let parent = cols.col("parentSourcedId");
        enum Session {
            Year(AcademicYear),
            Term(Option<SourceId>),
        }
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            // Only a school year's title and dates are kept; a term just leads to its year.
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let session_type = f.required(kind)?;
                if session_type.eq_ignore_ascii_case("schoolYear") {
                    let title = title(&f, title_col)?;
                    let start = required_date(&f, start)?;
                    let end_date = required_date(&f, end)?;
                    if end_date < start {
                        return Err(f.problem(end, format!("ends on {end_date}, before it starts on {start}")));
                    }
                    let year = AcademicYear { title, start, end: end_date };
                    Ok((deleted, Session::Year(year)))
                } else if ["term", "semester", "gradingPeriod"].iter().any(|t| session_type.eq_ignore_ascii_case(t))
                    || session_type.starts_with("ext:")
                {
                    Ok((deleted, Session::Term(f.optional(parent)?.map(SourceId::from))))
                } else {
                    Err(f.problem(
                        kind,
                        format!(
                            "unknown academic session type \"{session_type}\"; expected schoolYear, term, semester or gradingPeriod"
                        ),
                    ))
                }
            })();
            match parsed {
                Ok((deleted, Session::Year(year))) => {
                    let index = self.batch.years.rows.len();
                    let row = Some((Kind::Year, index));
                    if register(&mut self.sessions, &mut self.report, &f, id, source_id, row) {
                        self.batch.years.rows.push(Row {
                            source_id: source_id.into(),
                            origin: origin(&f),
                            deleted,
                            data: year,
                        });
                    }
                }
                Ok((deleted, Session::Term(parent))) => {
                    let row = Some((Kind::Term, self.terms.len()));
                    if register(&mut self.sessions, &mut self.report, &f, id, source_id, row) {
                        self.terms.push(Term { line: f.line, deleted, parent, year: None });
                    }
                }
                Err(p) => {
                    self.report.error(p);
                    register(&mut self.sessions, &mut self.report, &f, id, source_id, None);
                }
            }
        }
        drop(table);
        self.resolve_terms();
        Ok(())
    }

    /// Follows each term's `parentSourcedId` chain up to its school year.
    fn resolve_terms(&mut self) {
        for i in 0..self.terms.len() {
            if self.terms[i].deleted {
                continue;
            }
            let mut current = i;
            let mut steps = 0;
            let resolved = loop {
                let Some(parent) = self.terms[current].parent.as_deref() else {
                    break Err(if current == i {
                        "a term needs parentSourcedId naming its school year".to_owned()
                    } else {
                        format!(
                            "the session on line {} has no parentSourcedId, so this term reaches no school year",
                            self.terms[current].line
                        )
                    });
                };
                match self.sessions.get(parent) {
                    None if self.sessions.authoritative => {
                        break Err(format!("no row with sourcedId \"{parent}\" in {SESSIONS}"));
                    }
                    None => break Ok(Some(parent.into())),
                    Some(Entry { row: None, .. }) => break Ok(None),
                    Some(Entry { row: Some((Kind::Term, j)), .. }) => {
                        current = j as usize;
                        steps += 1;
                        if steps > self.terms.len() {
                            break Err("the parentSourcedId chain goes round in a circle".to_owned());
                        }
                    }
                    Some(Entry { .. }) => break Ok(Some(parent.into())),
                }
            };
            match resolved {
                Ok(year) => self.terms[i].year = year,
                Err(message) => self.report.error(Problem::new(
                    SESSIONS,
                    Some(self.terms[i].line),
                    Some("parentSourcedId"),
                    message,
                )),
            }
        }
    }

    fn courses(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(COURSES);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.subjects.mode = mode;
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, COURSES, &COURSE_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        self.courses.authoritative = mode == Mode::Bulk;
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let title_col = cols.col("title");
        let org = cols.col("orgSourcedId");
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let name = title(&f, title_col)?;
                let org_id = f.required(org)?;
                reference(&self.orgs, ORGS, &f, org, org_id)?;
                Ok((deleted, Subject { org: org_id.into(), name }))
            })();
            accept(&mut self.courses, &mut self.report, &mut self.batch.subjects.rows, &f, id, source_id, parsed);
        }
        Ok(())
    }

    fn classes(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(CLASSES);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.classes.mode = mode;
        self.batch.sections.mode = mode;
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, CLASSES, &CLASS_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        self.classes.authoritative = mode == Mode::Bulk;
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let title_col = cols.col("title");
        let class_type = cols.col("classType");
        let school = cols.col("schoolSourcedId");
        let course = cols.col("courseSourcedId");
        let terms = cols.col("termSourcedIds");
        let homeroom = cols.col("metadata.parta.class");
        let group = cols.col("metadata.parta.group");
        enum Parsed {
            Homeroom(Class),
            Scheduled(Section),
        }
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let raw_title = f.required(title_col)?;
                let kind = f.required(class_type)?;
                let org = f.required(school)?;
                reference(&self.orgs, ORGS, &f, school, org)?;
                let mut year: Option<SourceId> = None;
                for term in values::list(f.text(terms)?) {
                    let Some(this) = year_of(&self.sessions, &self.terms, &f, terms, term)? else {
                        continue;
                    };
                    match &year {
                        None => year = Some(this),
                        Some(first) if *first == this => {}
                        Some(first) => {
                            return Err(f.problem(
                                terms,
                                format!("the terms belong to different school years: \"{first}\" and \"{this}\""),
                            ));
                        }
                    }
                }
                let org = SourceId::from(org);
                if kind.eq_ignore_ascii_case("homeroom") {
                    let name = ClassName::parse(raw_title)
                        .map_err(|e| f.problem(title_col, format!("\"{raw_title}\" is not a class name: {e}")))?;
                    Ok((deleted, Parsed::Homeroom(Class { org, year, name })))
                } else if kind.eq_ignore_ascii_case("scheduled") {
                    let subject = f.text(course)?;
                    if subject.is_empty() {
                        return Err(f.problem(course, "a scheduled class needs the course (subject) it teaches"));
                    }
                    reference(&self.courses, COURSES, &f, course, subject)?;
                    Ok((
                        deleted,
                        Parsed::Scheduled(Section {
                            org,
                            subject: subject.into(),
                            class: f.optional(homeroom)?.map(SourceId::from),
                            group: f.optional(group)?.map(str::to_owned),
                            year,
                        }),
                    ))
                } else {
                    Err(f.problem(class_type, format!("unknown classType \"{kind}\"; expected homeroom or scheduled")))
                }
            })();
            let ids = &mut self.classes;
            let report = &mut self.report;
            match parsed {
                Ok((deleted, Parsed::Homeroom(class))) => {
                    let rows = &mut self.batch.classes.rows;
                    if register(ids, report, &f, id, source_id, Some((Kind::Homeroom, rows.len()))) {
                        rows.push(Row { source_id: source_id.into(), origin: origin(&f), deleted, data: class });
                    }
                }
                Ok((deleted, Parsed::Scheduled(section))) => {
                    let rows = &mut self.batch.sections.rows;
                    if register(ids, report, &f, id, source_id, Some((Kind::Scheduled, rows.len()))) {
                        rows.push(Row { source_id: source_id.into(), origin: origin(&f), deleted, data: section });
                    }
                }
                Err(p) => {
                    report.error(p);
                    register(ids, report, &f, id, source_id, None);
                }
            }
        }
        drop(table);
        // A section may name a homeroom class further down the same file.
        for section in &self.batch.sections.rows {
            let Some(class) = section.data.class.as_deref() else {
                continue;
            };
            let message = match self.classes.get(class) {
                Some(Entry { row: Some((Kind::Scheduled, _)), .. }) => {
                    format!("\"{class}\" is a scheduled class; metadata.parta.class names a homeroom class")
                }
                None if self.classes.authoritative => format!("no row with sourcedId \"{class}\" in {CLASSES}"),
                _ => continue,
            };
            self.report.error(Problem::new(CLASSES, Some(section.origin.line), Some("metadata.parta.class"), message));
        }
        Ok(())
    }

    fn users(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(USERS);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.people.mode = mode;
        let version = self.version;
        let spec = match version {
            Version::V1_1 => &USER_SPEC_1_1,
            Version::V1_2 => &USER_SPEC_1_2,
        };
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, USERS, spec, &mut self.report)?
        else {
            return Ok(());
        };
        self.people.authoritative = mode == Mode::Bulk;
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let given = cols.col("givenName");
        let family = cols.col("familyName");
        let middle = cols.col("middleName");
        let username = cols.col("username");
        let password = cols.col("password");
        let role = cols.col("role");
        let orgs = cols.col("orgSourcedIds");
        let agents = cols.col("agentSourcedIds");
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let (last, first, middle_name) = (f.text(family)?, f.text(given)?, f.optional(middle)?);
                let name = PersonName::parse(last, first, middle_name).map_err(|e| {
                    let col = match e {
                        NameError::Markup(NamePart::Last, _) => family,
                        NameError::Markup(NamePart::First, _) => given,
                        NameError::Markup(NamePart::Middle, _) => middle,
                        _ if PersonName::parse(last, "-", None).is_err() => family,
                        _ if PersonName::parse("-", first, None).is_err() => given,
                        _ => middle,
                    };
                    f.problem(col, e.to_string())
                })?;
                let login = f
                    .optional(username)?
                    .map(|raw| {
                        Login::parse(raw).map_err(|e| f.problem(username, format!("\"{raw}\" is not a login: {e}")))
                    })
                    .transpose()?;
                // Passwords are taken exactly as written: a space may be part of one.
                let password = Some(f.raw(password)?).filter(|p| !p.trim().is_empty()).map(str::to_owned);
                let mut roles = Vec::new();
                if version == Version::V1_1 {
                    let raw = f.required(role)?;
                    let person_role =
                        values::person_role(raw).ok_or_else(|| f.problem(role, values::unknown_role(raw)))?;
                    for org in values::list(f.required(orgs)?) {
                        reference(&self.orgs, ORGS, &f, orgs, org)?;
                        if !roles.iter().any(|(_, o)| o == org) {
                            push_role(&mut roles, person_role, org);
                        }
                    }
                    if roles.is_empty() {
                        return Err(f.problem(orgs, "a value is required"));
                    }
                }
                Ok((deleted, Person { name, login, password, roles }))
            })();
            let agent_ids = f.text(agents);
            let index =
                accept(&mut self.people, &mut self.report, &mut self.batch.people.rows, &f, id, source_id, parsed);
            let Some(index) = index else { continue };
            if self.batch.people.rows[index].deleted {
                continue;
            }
            match agent_ids {
                Ok(agent_ids) => self.agents.extend(values::list(agent_ids).map(|agent| Agent {
                    person: index,
                    line: f.line,
                    agent: agent.into(),
                })),
                Err(p) => self.report.error(p),
            }
        }
        Ok(())
    }

    fn roles(&mut self) -> Result<(), ReadError> {
        if self.version != Version::V1_2 {
            return Ok(());
        }
        let mode = self.modes.of(ROLES);
        let users = self.modes.of(USERS);
        match (users, mode) {
            (Mode::Absent, Mode::Absent) => return Ok(()),
            (Mode::Absent, _) => {
                self.report.error(Problem::in_file(
                    ROLES,
                    "roles.csv gives roles to people in users.csv, and this package reads no users.csv",
                ));
                return Ok(());
            }
            (_, Mode::Absent) => {
                self.report.error(Problem::in_file(
                    ROLES,
                    "a OneRoster 1.2 package gives people's roles in roles.csv; this package has users.csv but no roles.csv",
                ));
                return Ok(());
            }
            _ => {}
        }
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, ROLES, &ROLE_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let user = cols.col("userSourcedId");
        let role = cols.col("role");
        let org = cols.col("orgSourcedId");
        let mut ids = Ids::default();
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let person = f.required(user)?;
                let raw = f.required(role)?;
                let person_role = values::person_role(raw).ok_or_else(|| f.problem(role, values::unknown_role(raw)))?;
                let org_id = f.required(org)?;
                reference(&self.orgs, ORGS, &f, org, org_id)?;
                // A person's roles travel inside the person's row of the batch.
                let index = match self.people.get(person) {
                    Some(Entry { row: Some((_, index)), .. }) => Some(index as usize),
                    Some(Entry { row: None, .. }) => None,
                    None => {
                        return Err(f.problem(
                            user,
                            format!(
                                "no row with sourcedId \"{person}\" in {USERS}; roles.csv can only give roles to people in the same package"
                            ),
                        ));
                    }
                };
                Ok((deleted, index, person_role, org_id))
            })();
            match parsed {
                Ok((deleted, index, person_role, org_id)) => {
                    if !register(&mut ids, &mut self.report, &f, id, source_id, Some((Kind::Plain, 0))) || deleted {
                        continue;
                    }
                    let Some(person) = index.and_then(|i| self.batch.people.rows.get_mut(i)) else {
                        continue;
                    };
                    let roles = &mut person.data.roles;
                    if !roles.iter().any(|(r, o)| *r == person_role && o == org_id) {
                        push_role(roles, person_role, org_id);
                    }
                }
                Err(p) => {
                    self.report.error(p);
                    register(&mut ids, &mut self.report, &f, id, source_id, None);
                }
            }
        }
        let mut without = self.batch.people.rows.iter().filter(|r| !r.deleted && r.data.roles.is_empty());
        if let Some(first) = without.next() {
            let count = 1 + without.count();
            self.report.warn(Problem::new(
                USERS,
                Some(first.origin.line),
                None,
                format!("{count} people have no role in roles.csv (the first is on this line)"),
            ));
        }
        Ok(())
    }

    fn enrollments(&mut self) -> Result<(), ReadError> {
        let mode = self.modes.of(ENROLLMENTS);
        if mode == Mode::Absent {
            return Ok(());
        }
        self.batch.enrollments.mode = mode;
        let Some((mut table, cols)) =
            Table::open(&mut *self.source, &mut self.progress, ENROLLMENTS, &ENROLLMENT_SPEC, &mut self.report)?
        else {
            return Ok(());
        };
        let id = cols.col("sourcedId");
        let status_col = cols.col("status");
        let class = cols.col("classSourcedId");
        let user = cols.col("userSourcedId");
        let role = cols.col("role");
        let primary = cols.col("primary");
        let begin = cols.col("beginDate");
        let end = cols.col("endDate");
        let mut ids = Ids::default();
        // Skipped roles are summarised per role: a region has tens of thousands of aides.
        let mut skipped: Vec<(String, u64, u64)> = Vec::new();
        while let Some(f) = table.next(&mut self.report)? {
            let source_id = match f.required(id) {
                Ok(v) => v,
                Err(p) => {
                    self.report.error(p);
                    continue;
                }
            };
            let parsed = (|| {
                let deleted = status(&f, status_col, mode)?;
                let raw = f.required(role)?;
                let enrollment_role = match values::enrollment_role(raw) {
                    Some(EnrollmentKind::Import(r)) => r,
                    Some(EnrollmentKind::Skip) => return Ok(None),
                    None => {
                        return Err(f.problem(
                            role,
                            format!("unknown role \"{raw}\"; Parta imports student and teacher enrollments"),
                        ));
                    }
                };
                let target = f.required(class)?;
                reference(&self.classes, CLASSES, &f, class, target)?;
                let person = f.required(user)?;
                reference(&self.people, USERS, &f, user, person)?;
                let is_primary = match f.text(primary)? {
                    "" => false,
                    raw => values::boolean(raw).ok_or_else(|| {
                        f.problem(primary, format!("\"{raw}\" is not a boolean; expected true or false"))
                    })?,
                };
                let (begin, end) = date_range(&f, begin, end)?;
                Ok(Some((
                    deleted,
                    Enrollment {
                        person: person.into(),
                        target: target.into(),
                        role: enrollment_role,
                        primary: is_primary,
                        begin,
                        end,
                    },
                )))
            })();
            match parsed {
                Ok(Some(row)) => {
                    accept(&mut ids, &mut self.report, &mut self.batch.enrollments.rows, &f, id, source_id, Ok(row));
                }
                Ok(None) => {
                    register(&mut ids, &mut self.report, &f, id, source_id, None);
                    let raw = f.text(role).unwrap_or_default();
                    match skipped.iter_mut().find(|(r, _, _)| r.eq_ignore_ascii_case(raw)) {
                        Some((_, count, _)) => *count += 1,
                        None => skipped.push((raw.to_owned(), 1, f.line)),
                    }
                }
                Err(p) => {
                    self.report.error(p);
                    register(&mut ids, &mut self.report, &f, id, source_id, None);
                }
            }
        }
        for (raw, count, line) in skipped {
            self.report.warn(Problem::new(
                ENROLLMENTS,
                Some(line),
                Some("role"),
                format!(
                    "{count} enrollment(s) with role \"{raw}\" are not imported (the first is on this line): Parta imports students and teachers"
                ),
            ));
        }
        Ok(())
    }

    /// Links from `agentSourcedIds`, oriented by who is the guardian and who the
    /// student, and each pair once even when both people list each other.
    fn guardianships(&mut self) {
        let rows = &self.batch.people.rows;
        let has = |roles: &[(Role, SourceId)], role: Role| roles.iter().any(|(r, _)| *r == role);
        let mut pairs: Vec<(Origin, Guardianship)> = Vec::with_capacity(self.agents.len());
        for Agent { person, line, agent } in std::mem::take(&mut self.agents) {
            let Some(row) = rows.get(person) else { continue };
            let problem = |message: String| Problem::new(USERS, Some(line), Some("agentSourcedIds"), message);
            let (student, guardian) = (has(&row.data.roles, Role::Student), has(&row.data.roles, Role::Guardian));
            let other = match self.people.get(&agent) {
                Some(Entry { row: Some((_, j)), .. }) => rows.get(j as usize).map(|r| &r.data.roles),
                Some(Entry { row: None, .. }) => continue,
                None if self.people.authoritative => {
                    self.report.error(problem(format!("no row with sourcedId \"{agent}\" in {USERS}")));
                    continue;
                }
                None => None,
            };
            let person_is_guardian = match other {
                Some(roles) if guardian && has(roles, Role::Student) => true,
                Some(roles) if student && has(roles, Role::Guardian) => false,
                None if guardian != student => guardian,
                _ => {
                    self.report.warn(problem(format!(
                        "the link to \"{agent}\" is ignored: it must join a student and a parent or guardian"
                    )));
                    continue;
                }
            };
            let id = row.source_id.clone();
            let (guardian, student) = if person_is_guardian { (id, agent) } else { (agent, id) };
            pairs.push((Origin { file: USERS, line }, Guardianship { guardian, student }));
        }
        let key = |i: usize| (&pairs[i].1.guardian, &pairs[i].1.student);
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_unstable_by(|&a, &b| key(a).cmp(&key(b)).then(a.cmp(&b)));
        let mut keep = vec![true; pairs.len()];
        for w in order.windows(2) {
            if key(w[0]) == key(w[1]) {
                keep[w[1]] = false;
            }
        }
        let mut keep = keep.into_iter();
        pairs.retain(|_| keep.next().unwrap_or(true));
        self.batch.guardianships = pairs;
    }
}
