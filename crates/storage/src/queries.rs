// Compiled twice, inside `mod sqlite` and `mod postgres`, with `Db` naming the
// backend. Every statement here must mean the same thing on both.

use crate::sync::{self, Existing, Incoming, Kind, Table, Val};
use crate::{
    ClassLink, ClassView, Conflict, Credentials, ImportError, NewPerson, OrgView, PasswordSlip, PeopleFilter,
    PersonBrief, PersonCard, PersonView, RoleView, SectionView, StorageError, StudentView, SubjectView,
};
use futures_util::TryStreamExt;
use roster::import::{Batch, Counts, EnrollmentRole, Mode, Origin, Summary};
use roster::{ClassName, PersonName, Role};
use sqlx::query_builder::Separated;
use sqlx::{Pool, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};

type Tx = sqlx::Transaction<'static, Db>;

/// SQLite allows 32,766 bound values per statement, PostgreSQL 65,535.
const MAX_BINDS: usize = 30_000;

pub(crate) async fn is_empty(pool: &Pool<Db>) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs").fetch_one(pool).await?;
    Ok(n == 0)
}

// ---------------------------------------------------------------- import

fn bind_val<'a>(b: &mut Separated<'_, 'a, Db, &'static str>, v: &'a Val) {
    match v {
        Val::Int(i) => b.push_bind(*i),
        Val::Text(t) => b.push_bind(t.as_deref()),
        Val::Bool(x) => b.push_bind(*x),
    };
}

async fn load_existing(tx: &mut Tx, table: &Table) -> Result<HashMap<String, Existing>, sqlx::Error> {
    let columns: Vec<&str> = table.synced.iter().map(|(c, _)| *c).collect();
    let sql = format!(
        "SELECT id, source_id, active, {} FROM {} WHERE source_id IS NOT NULL",
        columns.join(", "),
        table.name
    );
    let mut out = HashMap::new();
    let mut rows = sqlx::query(&sql).fetch(&mut **tx);
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.synced.len());
        for (i, (_, kind)) in table.synced.iter().enumerate() {
            values.push(match kind {
                Kind::Int => Val::Int(row.try_get(i + 3)?),
                Kind::Text => Val::Text(row.try_get(i + 3)?),
                Kind::Bool => Val::Bool(row.try_get(i + 3)?),
            });
        }
        let existing = Existing { id: row.try_get(0)?, active: row.try_get(2)?, fingerprint: sync::fingerprint(&values) };
        out.insert(row.try_get(1)?, existing);
    }
    Ok(out)
}

/// Executes the plan for one table and returns every known source id (old and
/// new) with its row id, for the tables that refer to this one.
async fn sync_table(
    tx: &mut Tx,
    table: &Table,
    mut existing: HashMap<String, Existing>,
    incoming: Vec<Incoming>,
    mode: Mode,
    summary: &mut Summary,
) -> Result<HashMap<String, Existing>, sqlx::Error> {
    let plan = sync::plan(&existing, incoming, mode);
    let columns: Vec<&str> = table.synced.iter().chain(table.insert_only).map(|(c, _)| *c).collect();
    let per_statement = (MAX_BINDS / (columns.len() + 2)).min(2_000);
    for chunk in plan.inserts.chunks(per_statement) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new(format!("INSERT INTO {} (source_id, active, {}) ", table.name, columns.join(", ")));
        qb.push_values(chunk, |mut b, row| {
            b.push_bind(row.source_id.as_str());
            b.push_bind(true);
            for v in row.synced.iter().chain(&row.insert_only) {
                bind_val(&mut b, v);
            }
        });
        qb.push(" RETURNING id, source_id");
        let mut rows = qb.build().fetch(&mut **tx);
        while let Some(row) = rows.try_next().await? {
            existing.insert(row.try_get(1)?, Existing { id: row.try_get(0)?, active: true, fingerprint: 0 });
        }
    }
    for (id, values) in &plan.updates {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!("UPDATE {} SET active = TRUE", table.name));
        for ((column, _), v) in table.synced.iter().zip(values) {
            qb.push(format!(", {column} = "));
            match v {
                Val::Int(i) => qb.push_bind(*i),
                Val::Text(t) => qb.push_bind(t.as_deref()),
                Val::Bool(x) => qb.push_bind(*x),
            };
        }
        qb.push(" WHERE id = ").push_bind(*id);
        qb.build().execute(&mut **tx).await?;
    }
    set_inactive(tx, table.name, &plan.deactivations).await?;
    summary.entities.push((table.entity, plan.counts));
    Ok(existing)
}

async fn set_inactive(tx: &mut Tx, table: &str, ids: &[i64]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(MAX_BINDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!("UPDATE {table} SET active = FALSE WHERE id IN ("));
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Looks up what a row refers to: first among the package's and the database's
/// rows of that table, else records a problem at the row's origin.
struct Resolver {
    problems: Vec<(Origin, String)>,
}

impl Resolver {
    fn id(&mut self, map: &HashMap<String, Existing>, key: &str, what: &str, origin: &Origin) -> Option<i64> {
        match map.get(key) {
            Some(e) => Some(e.id),
            None => {
                self.problems.push((origin.clone(), format!("unknown {what} {key:?}")));
                None
            }
        }
    }

    fn optional(
        &mut self,
        map: &HashMap<String, Existing>,
        key: Option<&String>,
        what: &str,
        origin: &Origin,
    ) -> Option<Option<i64>> {
        match key {
            None => Some(None),
            Some(k) => self.id(map, k, what, origin).map(Some),
        }
    }
}

fn text(s: impl Into<String>) -> Val {
    Val::Text(Some(s.into()))
}

fn date(d: Option<chrono::NaiveDate>) -> Val {
    Val::Text(d.map(|d| d.to_string()))
}

pub(crate) async fn apply_import(
    pool: &Pool<Db>,
    batch: &Batch,
    dry_run: bool,
    hash_password: &(dyn Fn(&str) -> String + Sync),
) -> Result<Summary, ImportError> {
    let mut tx: Tx = pool.begin().await?;
    let mut summary = Summary::default();
    let mut resolve = Resolver { problems: Vec::new() };

    let incoming = batch
        .orgs
        .rows
        .iter()
        .map(|r| Incoming {
            source_id: r.source_id.clone(),
            deleted: r.deleted,
            synced: vec![text(r.data.name.as_str()), text(r.data.kind.as_str())],
            insert_only: vec![Val::Bool(r.data.chats_enabled)],
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::ORGS).await?;
    let orgs = sync_table(&mut tx, &sync::ORGS, existing, incoming, batch.orgs.mode, &mut summary).await?;

    let incoming = batch
        .years
        .rows
        .iter()
        .map(|r| Incoming {
            source_id: r.source_id.clone(),
            deleted: r.deleted,
            synced: vec![text(r.data.title.as_str()), date(Some(r.data.start)), date(Some(r.data.end))],
            insert_only: vec![],
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::YEARS).await?;
    let years = sync_table(&mut tx, &sync::YEARS, existing, incoming, batch.years.mode, &mut summary).await?;

    let existing = load_existing(&mut tx, &sync::PEOPLE).await?;
    let mut logins: HashMap<&str, &Origin> = HashMap::new();
    for r in batch.people.rows.iter().filter(|r| !r.deleted) {
        if let Some(login) = &r.data.login
            && let Some(first) = logins.insert(login.as_str(), &r.origin)
        {
            resolve.problems.push((r.origin.clone(), format!("login {:?} is also used at {first}", login.as_str())));
        }
    }
    let incoming = batch
        .people
        .rows
        .iter()
        .map(|r| {
            let p = &r.data;
            let login = p.login.as_ref().map(|l| l.as_str());
            let is_new = !existing.contains_key(&r.source_id);
            Incoming {
                source_id: r.source_id.clone(),
                deleted: r.deleted,
                synced: vec![
                    text(p.name.last()),
                    text(p.name.first()),
                    Val::Text(p.name.middle().map(String::from)),
                    Val::Text(login.map(String::from)),
                    text(p.name.search_key(login)),
                ],
                insert_only: vec![Val::Text(p.password.as_deref().filter(|_| is_new).map(hash_password))],
            }
        })
        .collect();
    let taken = logins_taken_by_others(&mut tx, batch, &existing).await?;
    resolve.problems.extend(taken);
    // The unique index would abort the insert with a message naming no row.
    if !resolve.problems.is_empty() {
        tx.rollback().await?;
        return Err(ImportError::Rejected(resolve.problems));
    }
    let people = sync_table(&mut tx, &sync::PEOPLE, existing, incoming, batch.people.mode, &mut summary).await?;

    if batch.people.mode != Mode::Absent {
        sync_roles(&mut tx, batch, &people, &orgs, &mut resolve, &mut summary).await?;
    }

    let incoming = batch
        .subjects
        .rows
        .iter()
        .filter_map(|r| {
            let org = resolve.id(&orgs, &r.data.org, "organisation", &r.origin)?;
            Some(Incoming {
                source_id: r.source_id.clone(),
                deleted: r.deleted,
                synced: vec![Val::Int(Some(org)), text(r.data.name.as_str())],
                insert_only: vec![],
            })
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::SUBJECTS).await?;
    let subjects =
        sync_table(&mut tx, &sync::SUBJECTS, existing, incoming, batch.subjects.mode, &mut summary).await?;

    let incoming = batch
        .classes
        .rows
        .iter()
        .filter_map(|r| {
            let c = &r.data;
            let org = resolve.id(&orgs, &c.org, "organisation", &r.origin)?;
            let year = resolve.optional(&years, c.year.as_ref(), "academic year", &r.origin)?;
            Some(Incoming {
                source_id: r.source_id.clone(),
                deleted: r.deleted,
                synced: vec![
                    Val::Int(Some(org)),
                    Val::Int(year),
                    text(c.name.to_string()),
                    Val::Int(Some(i64::from(c.name.grade()))),
                ],
                insert_only: vec![],
            })
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::CLASSES).await?;
    let classes = sync_table(&mut tx, &sync::CLASSES, existing, incoming, batch.classes.mode, &mut summary).await?;

    let incoming = batch
        .sections
        .rows
        .iter()
        .filter_map(|r| {
            let s = &r.data;
            let org = resolve.id(&orgs, &s.org, "organisation", &r.origin)?;
            let subject = resolve.id(&subjects, &s.subject, "course", &r.origin)?;
            let class = resolve.optional(&classes, s.class.as_ref(), "class", &r.origin)?;
            let year = resolve.optional(&years, s.year.as_ref(), "academic year", &r.origin)?;
            Some(Incoming {
                source_id: r.source_id.clone(),
                deleted: r.deleted,
                synced: vec![
                    Val::Int(Some(org)),
                    Val::Int(Some(subject)),
                    Val::Int(class),
                    Val::Text(s.group.clone()),
                    Val::Int(year),
                ],
                insert_only: vec![],
            })
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::SECTIONS).await?;
    let sections =
        sync_table(&mut tx, &sync::SECTIONS, existing, incoming, batch.sections.mode, &mut summary).await?;

    let incoming = batch
        .enrollments
        .rows
        .iter()
        .filter_map(|r| {
            let e = &r.data;
            let person = resolve.id(&people, &e.person, "person", &r.origin)?;
            let (class, section) = match (classes.get(&e.target), sections.get(&e.target)) {
                (Some(c), _) => (Some(c.id), None),
                (None, Some(s)) => (None, Some(s.id)),
                (None, None) => {
                    resolve.problems.push((r.origin.clone(), format!("unknown class {:?}", e.target)));
                    return None;
                }
            };
            let role = match e.role {
                EnrollmentRole::Student => "student",
                EnrollmentRole::Teacher => "teacher",
            };
            Some(Incoming {
                source_id: r.source_id.clone(),
                deleted: r.deleted,
                synced: vec![
                    Val::Int(Some(person)),
                    Val::Int(class),
                    Val::Int(section),
                    text(role),
                    Val::Bool(e.primary),
                    date(e.begin),
                    date(e.end),
                ],
                insert_only: vec![],
            })
        })
        .collect();
    let existing = load_existing(&mut tx, &sync::ENROLLMENTS).await?;
    sync_table(&mut tx, &sync::ENROLLMENTS, existing, incoming, batch.enrollments.mode, &mut summary).await?;

    if batch.people.mode != Mode::Absent {
        sync_guardianships(&mut tx, batch, &people, &mut resolve, &mut summary).await?;
    }

    if !resolve.problems.is_empty() {
        tx.rollback().await?;
        return Err(ImportError::Rejected(resolve.problems));
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(summary)
}

/// Logins in the package that the database gives to a different person: the
/// unique index would refuse them anyway, but without saying which row.
async fn logins_taken_by_others(
    tx: &mut Tx,
    batch: &Batch,
    existing: &HashMap<String, Existing>,
) -> Result<Vec<(Origin, String)>, sqlx::Error> {
    let wanted: Vec<(&str, Option<i64>, &Origin)> = batch
        .people
        .rows
        .iter()
        .filter(|r| !r.deleted)
        .filter_map(|r| Some((r.data.login.as_ref()?.as_str(), existing.get(&r.source_id).map(|e| e.id), &r.origin)))
        .collect();
    let mut problems = Vec::new();
    for chunk in wanted.chunks(MAX_BINDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT login, id FROM people WHERE login IN (");
        let mut list = qb.separated(", ");
        for (login, _, _) in chunk {
            list.push_bind(*login);
        }
        qb.push(")");
        let owners: HashMap<String, i64> =
            qb.build().fetch_all(&mut **tx).await?.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect::<Result<_, sqlx::Error>>()?;
        for (login, own_id, origin) in chunk {
            if let Some(owner) = owners.get(*login)
                && Some(*owner) != *own_id
            {
                problems.push(((*origin).clone(), format!("login {login:?} already belongs to another person")));
            }
        }
    }
    Ok(problems)
}

/// A person's roles are exactly what the package says, for every person it names.
async fn sync_roles(
    tx: &mut Tx,
    batch: &Batch,
    people: &HashMap<String, Existing>,
    orgs: &HashMap<String, Existing>,
    resolve: &mut Resolver,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut current: HashMap<i64, HashSet<(i64, String)>> = HashMap::new();
    let mut rows = sqlx::query("SELECT person_id, org_id, role FROM person_roles").fetch(&mut **tx);
    while let Some(row) = rows.try_next().await? {
        current.entry(row.try_get(0)?).or_default().insert((row.try_get(1)?, row.try_get(2)?));
    }
    drop(rows);
    let mut add: Vec<(i64, i64, &'static str)> = Vec::new();
    let mut remove: Vec<(i64, i64, String)> = Vec::new();
    for r in batch.people.rows.iter().filter(|r| !r.deleted) {
        let Some(person) = people.get(&r.source_id).map(|e| e.id) else { continue };
        let mut wanted: HashSet<(i64, String)> = HashSet::new();
        for (role, org) in &r.data.roles {
            if let Some(org) = resolve.id(orgs, org, "organisation", &r.origin) {
                if !current.get(&person).is_some_and(|c| c.contains(&(org, role.as_str().to_string()))) {
                    add.push((person, org, role.as_str()));
                }
                wanted.insert((org, role.as_str().to_string()));
            }
        }
        for (org, role) in current.remove(&person).unwrap_or_default() {
            if !wanted.contains(&(org, role.clone())) {
                remove.push((person, org, role));
            }
        }
    }
    add.sort_unstable();
    add.dedup();
    for chunk in add.chunks(MAX_BINDS / 3) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO person_roles (person_id, org_id, role) ");
        qb.push_values(chunk, |mut b, (person, org, role)| {
            b.push_bind(*person).push_bind(*org).push_bind(*role);
        });
        qb.build().execute(&mut **tx).await?;
    }
    for (person, org, role) in &remove {
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = $3")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    let counts = Counts { added: add.len() as u64, changed: 0, deactivated: remove.len() as u64 };
    summary.entities.push(("roles", counts));
    Ok(())
}

/// Guardianships follow the people file: a bulk file states them all (among
/// people that came from a package), a delta file adds the ones it names.
async fn sync_guardianships(
    tx: &mut Tx,
    batch: &Batch,
    people: &HashMap<String, Existing>,
    resolve: &mut Resolver,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut current: HashSet<(i64, i64)> = HashSet::new();
    let mut rows = sqlx::query("SELECT guardian_id, student_id FROM guardianships").fetch(&mut **tx);
    while let Some(row) = rows.try_next().await? {
        current.insert((row.try_get(0)?, row.try_get(1)?));
    }
    drop(rows);
    let mut wanted: HashSet<(i64, i64)> = HashSet::new();
    for (origin, g) in &batch.guardianships {
        let guardian = resolve.id(people, &g.guardian, "person", origin);
        let student = resolve.id(people, &g.student, "person", origin);
        if let (Some(guardian), Some(student)) = (guardian, student) {
            wanted.insert((guardian, student));
        }
    }
    let mut add: Vec<(i64, i64)> = wanted.difference(&current).copied().collect();
    add.sort_unstable();
    let mut remove: Vec<(i64, i64)> = Vec::new();
    if batch.people.mode == Mode::Bulk {
        let imported: HashSet<i64> = people.values().map(|e| e.id).collect();
        remove = current
            .difference(&wanted)
            .filter(|(g, s)| imported.contains(g) && imported.contains(s))
            .copied()
            .collect();
    }
    for chunk in add.chunks(MAX_BINDS / 2) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO guardianships (guardian_id, student_id) ");
        qb.push_values(chunk, |mut b, (g, s)| {
            b.push_bind(*g).push_bind(*s);
        });
        qb.build().execute(&mut **tx).await?;
    }
    for (g, s) in &remove {
        sqlx::query("DELETE FROM guardianships WHERE guardian_id = $1 AND student_id = $2")
            .bind(g)
            .bind(s)
            .execute(&mut **tx)
            .await?;
    }
    let counts = Counts { added: add.len() as u64, changed: 0, deactivated: remove.len() as u64 };
    summary.entities.push(("guardianships", counts));
    Ok(())
}

// ---------------------------------------------------------------- accounts and sessions

pub(crate) async fn credentials(pool: &Pool<Db>, login: &str) -> Result<Option<Credentials>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT id AS person_id, password_hash, must_change_password, active FROM people WHERE login = $1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn set_password(
    pool: &Pool<Db>,
    person: i64,
    hash: &str,
    must_change: bool,
) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE people SET password_hash = $1, must_change_password = $2 WHERE id = $3")
        .bind(hash)
        .bind(must_change)
        .bind(person)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn create_session(
    pool: &Pool<Db>,
    token_hash: &str,
    person: i64,
    now: i64,
    expires: i64,
) -> Result<(), StorageError> {
    sqlx::query("INSERT INTO portal_sessions (token_hash, person_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(person)
        .bind(now)
        .bind(expires)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn session_person(pool: &Pool<Db>, token_hash: &str, now: i64) -> Result<Option<i64>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT s.person_id FROM portal_sessions s JOIN people p ON p.id = s.person_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2 AND p.active",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?)
}

pub(crate) async fn delete_session(pool: &Pool<Db>, token_hash: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM portal_sessions WHERE token_hash = $1").bind(token_hash).execute(pool).await?;
    Ok(())
}

// ---------------------------------------------------------------- reads

fn found(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 0 { Err(StorageError::NotFound) } else { Ok(()) }
}

/// A person as listed in organisation `$1`.
const BRIEF: &str = "SELECT p.id, p.last_name, p.first_name, p.middle_name, p.login, \
     COALESCE((SELECT STRING_AGG(r.role, ',') FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1), '') AS roles, \
     (p.password_hash IS NOT NULL) AS has_password";

fn brief_sql(rest: &str) -> String {
    format!("{} {rest}", BRIEF.replace("STRING_AGG", STRING_AGG))
}

const ORDER_BY_NAME: &str = "ORDER BY p.last_name, p.first_name, p.middle_name, p.id";

pub(crate) async fn person(pool: &Pool<Db>, id: i64) -> Result<PersonView, StorageError> {
    sqlx::query_as(
        "SELECT id, last_name, first_name, middle_name, login, must_change_password FROM people WHERE id = $1 AND active",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or(StorageError::NotFound)
}

pub(crate) async fn person_roles(pool: &Pool<Db>, id: i64) -> Result<Vec<RoleView>, StorageError> {
    Ok(sqlx::query_as(
        "SELECT r.org_id, o.name AS org_name, o.kind AS org_kind, o.chats_enabled, r.role \
         FROM person_roles r JOIN orgs o ON o.id = r.org_id WHERE r.person_id = $1 AND o.active ORDER BY o.name, r.role",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn orgs(pool: &Pool<Db>) -> Result<Vec<OrgView>, StorageError> {
    Ok(sqlx::query_as("SELECT id, name, kind, chats_enabled FROM orgs WHERE active ORDER BY name")
        .fetch_all(pool)
        .await?)
}

pub(crate) async fn org(pool: &Pool<Db>, id: i64) -> Result<OrgView, StorageError> {
    sqlx::query_as("SELECT id, name, kind, chats_enabled FROM orgs WHERE id = $1 AND active")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StorageError::NotFound)
}

const CLASS_VIEW: &str = "SELECT c.id, c.name, c.grade, y.title AS year, \
     (SELECT e.person_id FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'teacher' AND e.is_primary AND e.active AND p.active ORDER BY e.id LIMIT 1) AS class_teacher_id, \
     (SELECT p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, '') FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'teacher' AND e.is_primary AND e.active AND p.active ORDER BY e.id LIMIT 1) AS class_teacher_name, \
     (SELECT COUNT(*) FROM enrollments e JOIN people p ON p.id = e.person_id \
        WHERE e.class_id = c.id AND e.role = 'student' AND e.active AND p.active) AS students \
     FROM classes c LEFT JOIN academic_years y ON y.id = c.year_id WHERE c.org_id = $1 AND c.active";

pub(crate) async fn classes(pool: &Pool<Db>, org: i64) -> Result<Vec<ClassView>, StorageError> {
    Ok(sqlx::query_as(&format!("{CLASS_VIEW} ORDER BY c.grade, c.name, c.id")).bind(org).fetch_all(pool).await?)
}

pub(crate) async fn class(pool: &Pool<Db>, org: i64, class: i64) -> Result<ClassView, StorageError> {
    sqlx::query_as(&format!("{CLASS_VIEW} AND c.id = $2"))
        .bind(org)
        .bind(class)
        .fetch_optional(pool)
        .await?
        .ok_or(StorageError::NotFound)
}

#[derive(sqlx::FromRow)]
struct Related {
    of: i64,
    #[sqlx(flatten)]
    person: PersonBrief,
}

pub(crate) async fn class_students(pool: &Pool<Db>, org: i64, class_id: i64) -> Result<Vec<StudentView>, StorageError> {
    class(pool, org, class_id).await?;
    let students: Vec<PersonBrief> = sqlx::query_as(&brief_sql(&format!(
        "FROM people p JOIN enrollments e ON e.person_id = p.id \
         WHERE e.class_id = $2 AND e.role = 'student' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let guardians: Vec<Related> = sqlx::query_as(&brief_sql(&format!(
        ", g.student_id AS of FROM people p JOIN guardianships g ON g.guardian_id = p.id \
         JOIN enrollments e ON e.person_id = g.student_id \
         WHERE e.class_id = $2 AND e.role = 'student' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let mut by_student: HashMap<i64, Vec<PersonBrief>> = HashMap::new();
    for g in guardians {
        by_student.entry(g.of).or_default().push(g.person);
    }
    Ok(students
        .into_iter()
        .map(|s| StudentView { guardians: by_student.remove(&s.id).unwrap_or_default(), student: s })
        .collect())
}

#[derive(sqlx::FromRow)]
struct SectionRow {
    id: i64,
    subject: String,
    group_name: Option<String>,
    group_students: i64,
}

pub(crate) async fn class_sections(pool: &Pool<Db>, org: i64, class_id: i64) -> Result<Vec<SectionView>, StorageError> {
    class(pool, org, class_id).await?;
    let sections: Vec<SectionRow> = sqlx::query_as(
        "SELECT s.id, sub.name AS subject, s.group_name, \
         (SELECT COUNT(*) FROM enrollments e WHERE e.section_id = s.id AND e.role = 'student' AND e.active) AS group_students \
         FROM sections s JOIN subjects sub ON sub.id = s.subject_id \
         WHERE s.org_id = $1 AND s.class_id = $2 AND s.active ORDER BY sub.name, s.group_name, s.id",
    )
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let teachers: Vec<Related> = sqlx::query_as(&brief_sql(&format!(
        ", e.section_id AS of FROM people p JOIN enrollments e ON e.person_id = p.id \
         JOIN sections s ON s.id = e.section_id \
         WHERE s.class_id = $2 AND e.role = 'teacher' AND e.active AND p.active {ORDER_BY_NAME}"
    )))
    .bind(org)
    .bind(class_id)
    .fetch_all(pool)
    .await?;
    let mut by_section: HashMap<i64, Vec<PersonBrief>> = HashMap::new();
    for t in teachers {
        by_section.entry(t.of).or_default().push(t.person);
    }
    Ok(sections
        .into_iter()
        .map(|s| SectionView {
            teachers: by_section.remove(&s.id).unwrap_or_default(),
            id: s.id,
            subject: s.subject,
            group_name: s.group_name,
            group_students: s.group_students,
        })
        .collect())
}

pub(crate) async fn people(pool: &Pool<Db>, org: i64, filter: &PeopleFilter) -> Result<Vec<PersonBrief>, StorageError> {
    let query = filter.query.as_deref().map(|q| format!("%{}%", roster::search_text(q).replace(['%', '_'], "")));
    Ok(sqlx::query_as(&brief_sql(&format!(
        "FROM people p WHERE p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1 \
                     AND (CAST($2 AS TEXT) IS NULL OR r.role = CAST($2 AS TEXT))) \
         AND (CAST($3 AS TEXT) IS NULL OR p.search_key LIKE CAST($3 AS TEXT)) \
         {ORDER_BY_NAME} LIMIT $4 OFFSET $5"
    )))
    .bind(org)
    .bind(filter.role.map(Role::as_str))
    .bind(query)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?)
}

pub(crate) async fn person_card(pool: &Pool<Db>, org: i64, person: i64) -> Result<PersonCard, StorageError> {
    let brief: PersonBrief = sqlx::query_as(&brief_sql(
        "FROM people p WHERE p.id = $2 AND p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $1)",
    ))
    .bind(org)
    .bind(person)
    .fetch_optional(pool)
    .await?
    .ok_or(StorageError::NotFound)?;
    let classes: Vec<ClassLink> = sqlx::query_as(
        "SELECT c.id AS class_id, c.name AS class_name, \
           CASE WHEN e.role = 'student' THEN 'student' ELSE 'class_teacher' END AS relation, \
           CAST(NULL AS TEXT) AS subject, CAST(NULL AS TEXT) AS group_name \
         FROM enrollments e JOIN classes c ON c.id = e.class_id \
         WHERE e.person_id = $2 AND c.org_id = $1 AND e.active AND c.active AND (e.role = 'student' OR e.is_primary) \
         UNION ALL \
         SELECT c.id, c.name, 'teacher', sub.name, s.group_name \
         FROM enrollments e JOIN sections s ON s.id = e.section_id JOIN subjects sub ON sub.id = s.subject_id \
           JOIN classes c ON c.id = s.class_id \
         WHERE e.person_id = $2 AND s.org_id = $1 AND e.role = 'teacher' AND e.active AND s.active \
         ORDER BY 2, 3, 4",
    )
    .bind(org)
    .bind(person)
    .fetch_all(pool)
    .await?;
    let guardians = related(pool, org, person, "g.guardian_id = p.id WHERE g.student_id = $2").await?;
    let children = related(pool, org, person, "g.student_id = p.id WHERE g.guardian_id = $2").await?;
    Ok(PersonCard { person: brief, classes, guardians, children })
}

async fn related(pool: &Pool<Db>, org: i64, person: i64, join: &str) -> Result<Vec<PersonBrief>, sqlx::Error> {
    let sql = brief_sql(&format!("FROM people p JOIN guardianships g ON {join} AND p.active {ORDER_BY_NAME}"));
    sqlx::query_as(&sql).bind(org).bind(person).fetch_all(pool).await
}

pub(crate) async fn subjects(pool: &Pool<Db>, org: i64) -> Result<Vec<SubjectView>, StorageError> {
    Ok(sqlx::query_as("SELECT id, name FROM subjects WHERE org_id = $1 AND active ORDER BY name")
        .bind(org)
        .fetch_all(pool)
        .await?)
}

// ---------------------------------------------------------------- edits

async fn has_role(tx: &mut Tx, org: i64, person: i64, role: Role) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_roles r JOIN people p ON p.id = r.person_id \
         WHERE r.org_id = $1 AND r.person_id = $2 AND r.role = $3 AND p.active",
    )
    .bind(org)
    .bind(person)
    .bind(role.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(n > 0)
}

async fn require_role(tx: &mut Tx, org: i64, person: i64, role: Role, otherwise: Conflict) -> Result<(), StorageError> {
    if has_role(tx, org, person, role).await? { Ok(()) } else { Err(StorageError::Conflict(otherwise)) }
}

async fn require_class(tx: &mut Tx, org: i64, class: i64) -> Result<(), StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM classes WHERE id = $1 AND org_id = $2 AND active")
        .bind(class)
        .bind(org)
        .fetch_one(&mut **tx)
        .await?;
    if n > 0 { Ok(()) } else { Err(StorageError::NotFound) }
}

fn unique_login(e: sqlx::Error) -> StorageError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StorageError::Conflict(Conflict::LoginTaken),
        _ => e.into(),
    }
}

pub(crate) async fn set_chats_enabled(pool: &Pool<Db>, org: i64, enabled: bool) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE orgs SET chats_enabled = $1 WHERE id = $2 AND active")
        .bind(enabled)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn update_person(
    pool: &Pool<Db>,
    org: i64,
    person: i64,
    name: &PersonName,
    roles: Option<&[Role]>,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    let login: Option<Option<String>> = sqlx::query_scalar(
        "SELECT p.login FROM people p WHERE p.id = $1 AND p.active \
         AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id AND r.org_id = $2)",
    )
    .bind(person)
    .bind(org)
    .fetch_optional(&mut *tx)
    .await?;
    let login = login.ok_or(StorageError::NotFound)?;
    sqlx::query("UPDATE people SET last_name = $1, first_name = $2, middle_name = $3, search_key = $4 WHERE id = $5")
        .bind(name.last())
        .bind(name.first())
        .bind(name.middle())
        .bind(name.search_key(login.as_deref()))
        .bind(person)
        .execute(&mut *tx)
        .await?;
    if let Some(roles) = roles {
        set_roles(&mut tx, org, person, roles).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn create_person(pool: &Pool<Db>, org: i64, new: &NewPerson) -> Result<i64, StorageError> {
    if new.roles.is_empty() {
        return Err(StorageError::Conflict(Conflict::LastRole));
    }
    let mut tx: Tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO people (last_name, first_name, middle_name, login, search_key) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(new.name.last())
    .bind(new.name.first())
    .bind(new.name.middle())
    .bind(new.login.as_str())
    .bind(new.name.search_key(Some(new.login.as_str())))
    .fetch_one(&mut *tx)
    .await
    .map_err(unique_login)?;
    insert_roles(&mut tx, org, id, &new.roles).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_roles(tx: &mut Tx, org: i64, person: i64, roles: &[Role]) -> Result<(), sqlx::Error> {
    for role in roles {
        sqlx::query("INSERT INTO person_roles (person_id, org_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn set_roles(tx: &mut Tx, org: i64, person: i64, roles: &[Role]) -> Result<(), StorageError> {
    if roles.is_empty() {
        return Err(StorageError::Conflict(Conflict::LastRole));
    }
    let current: Vec<String> = sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 AND org_id = $2")
        .bind(person)
        .bind(org)
        .fetch_all(&mut **tx)
        .await?;
    for role in current.iter().filter(|r| !roles.iter().any(|w| w.as_str() == r.as_str())) {
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = $3")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await?;
    }
    insert_roles(tx, org, person, roles).await?;
    Ok(())
}

pub(crate) async fn create_class(pool: &Pool<Db>, org: i64, name: &ClassName) -> Result<i64, StorageError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO classes (org_id, year_id, name, grade) VALUES \
         ($1, (SELECT id FROM academic_years WHERE active ORDER BY start_date DESC LIMIT 1), $2, $3) RETURNING id",
    )
    .bind(org)
    .bind(name.to_string())
    .bind(i64::from(name.grade()))
    .fetch_one(pool)
    .await?)
}

pub(crate) async fn rename_class(pool: &Pool<Db>, org: i64, class: i64, name: &ClassName) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE classes SET name = $1, grade = $2 WHERE id = $3 AND org_id = $4 AND active")
        .bind(name.to_string())
        .bind(i64::from(name.grade()))
        .bind(class)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn set_class_teacher(
    pool: &Pool<Db>,
    org: i64,
    class: i64,
    teacher: Option<i64>,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_class(&mut tx, org, class).await?;
    if let Some(teacher) = teacher {
        require_role(&mut tx, org, teacher, Role::Teacher, Conflict::NotATeacher).await?;
    }
    sqlx::query("UPDATE enrollments SET active = FALSE WHERE class_id = $1 AND role = 'teacher' AND is_primary AND active")
        .bind(class)
        .execute(&mut *tx)
        .await?;
    if let Some(teacher) = teacher {
        sqlx::query("INSERT INTO enrollments (person_id, class_id, role, is_primary) VALUES ($1, $2, 'teacher', TRUE)")
            .bind(teacher)
            .bind(class)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn move_student(
    pool: &Pool<Db>,
    org: i64,
    student: i64,
    class: i64,
    today: &str,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_class(&mut tx, org, class).await?;
    require_role(&mut tx, org, student, Role::Student, Conflict::NotAStudent).await?;
    // Leaving a class also means leaving its groups: the new class has its own.
    sqlx::query(
        "UPDATE enrollments SET active = FALSE, end_date = $1 WHERE person_id = $2 AND role = 'student' AND active \
         AND (class_id IN (SELECT id FROM classes WHERE org_id = $3) OR section_id IN (SELECT id FROM sections WHERE org_id = $3))",
    )
    .bind(today)
    .bind(student)
    .bind(org)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO enrollments (person_id, class_id, role, begin_date) VALUES ($1, $2, 'student', $3)")
        .bind(student)
        .bind(class)
        .bind(today)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn set_guardianship(
    pool: &Pool<Db>,
    org: i64,
    guardian: i64,
    student: i64,
    present: bool,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_role(&mut tx, org, guardian, Role::Guardian, Conflict::NotAGuardian).await?;
    require_role(&mut tx, org, student, Role::Student, Conflict::NotAStudent).await?;
    let sql = if present {
        "INSERT INTO guardianships (guardian_id, student_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM guardianships WHERE guardian_id = $1 AND student_id = $2"
    };
    sqlx::query(sql).bind(guardian).bind(student).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SlipRow {
    id: i64,
    name: String,
    login: String,
    role: String,
}

pub(crate) async fn password_candidates(
    pool: &Pool<Db>,
    org: i64,
    class: i64,
) -> Result<Vec<PasswordSlip>, StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_class(&mut tx, org, class).await?;
    let rows: Vec<SlipRow> = sqlx::query_as(
        "SELECT p.id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, '') AS name, p.login, 'student' AS role \
         FROM people p JOIN enrollments e ON e.person_id = p.id \
         WHERE e.class_id = $1 AND e.role = 'student' AND e.active AND p.active AND p.login IS NOT NULL AND p.password_hash IS NULL \
         UNION \
         SELECT p.id, p.last_name || ' ' || p.first_name || COALESCE(' ' || p.middle_name, ''), p.login, 'guardian' \
         FROM people p JOIN guardianships g ON g.guardian_id = p.id JOIN enrollments e ON e.person_id = g.student_id \
         WHERE e.class_id = $1 AND e.role = 'student' AND e.active AND p.active AND p.login IS NOT NULL AND p.password_hash IS NULL \
         ORDER BY 4 DESC, 2",
    )
    .bind(class)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| PasswordSlip { person_id: r.id, name: r.name, login: r.login, password: String::new(), role: r.role })
        .collect())
}

// ---------------------------------------------------------------- subjects and teaching

pub(crate) async fn create_subject(pool: &Pool<Db>, org: i64, name: &str) -> Result<i64, StorageError> {
    org_exists(pool, org).await?;
    Ok(sqlx::query_scalar("INSERT INTO subjects (org_id, name) VALUES ($1, $2) RETURNING id")
        .bind(org)
        .bind(name)
        .fetch_one(pool)
        .await?)
}

async fn org_exists(pool: &Pool<Db>, org: i64) -> Result<(), StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE id = $1 AND active").bind(org).fetch_one(pool).await?;
    if n > 0 { Ok(()) } else { Err(StorageError::NotFound) }
}

pub(crate) async fn rename_subject(pool: &Pool<Db>, org: i64, subject: i64, name: &str) -> Result<(), StorageError> {
    let done = sqlx::query("UPDATE subjects SET name = $1 WHERE id = $2 AND org_id = $3 AND active")
        .bind(name)
        .bind(subject)
        .bind(org)
        .execute(pool)
        .await?;
    found(done.rows_affected())
}

pub(crate) async fn create_section(
    pool: &Pool<Db>,
    org: i64,
    class: i64,
    subject: i64,
    group: Option<&str>,
) -> Result<i64, StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_class(&mut tx, org, class).await?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects WHERE id = $1 AND org_id = $2 AND active")
        .bind(subject)
        .bind(org)
        .fetch_one(&mut *tx)
        .await?;
    if n == 0 {
        return Err(StorageError::NotFound);
    }
    let id = sqlx::query_scalar(
        "INSERT INTO sections (org_id, subject_id, class_id, group_name, year_id) \
         VALUES ($1, $2, $3, $4, (SELECT year_id FROM classes WHERE id = $3)) RETURNING id",
    )
    .bind(org)
    .bind(subject)
    .bind(class)
    .bind(group)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn require_section(tx: &mut Tx, org: i64, section: i64) -> Result<Option<String>, StorageError> {
    let group: Option<Option<String>> =
        sqlx::query_scalar("SELECT group_name FROM sections WHERE id = $1 AND org_id = $2 AND active")
            .bind(section)
            .bind(org)
            .fetch_optional(&mut **tx)
            .await?;
    group.ok_or(StorageError::NotFound)
}

pub(crate) async fn close_section(pool: &Pool<Db>, org: i64, section: i64) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    require_section(&mut tx, org, section).await?;
    sqlx::query("UPDATE sections SET active = FALSE WHERE id = $1").bind(section).execute(&mut *tx).await?;
    sqlx::query("UPDATE enrollments SET active = FALSE WHERE section_id = $1 AND active")
        .bind(section)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds or removes a teacher of a section, or a student of a group section.
pub(crate) async fn set_section_member(
    pool: &Pool<Db>,
    org: i64,
    section: i64,
    person: i64,
    role: roster::import::EnrollmentRole,
    present: bool,
) -> Result<(), StorageError> {
    let mut tx: Tx = pool.begin().await?;
    let group = require_section(&mut tx, org, section).await?;
    let role = match role {
        EnrollmentRole::Teacher => {
            require_role(&mut tx, org, person, Role::Teacher, Conflict::NotATeacher).await?;
            "teacher"
        }
        EnrollmentRole::Student => {
            require_role(&mut tx, org, person, Role::Student, Conflict::NotAStudent).await?;
            if group.is_none() {
                return Err(StorageError::Conflict(Conflict::WholeClassSection));
            }
            "student"
        }
    };
    sqlx::query("UPDATE enrollments SET active = FALSE WHERE section_id = $1 AND person_id = $2 AND role = $3 AND active")
        .bind(section)
        .bind(person)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    if present {
        sqlx::query("INSERT INTO enrollments (person_id, section_id, role) VALUES ($1, $2, $3)")
            .bind(person)
            .bind(section)
            .bind(role)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
