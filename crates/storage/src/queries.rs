// Compiled twice, inside `mod sqlite` and `mod postgres`, with `Db` naming the
// backend. Every statement here must mean the same thing on both.

use crate::sync::{self, Existing, Incoming, Key, Keys, Kind, Plan, Planner, Table, Val};
use crate::{
    ClassLink, ClassView, Conflict, Credentials, ImportError, NewPerson, OrgView, PasswordSlip, PeopleFilter,
    PersonBrief, PersonCard, PersonView, RoleView, SectionView, StorageError, StudentView, SubjectView,
};
use futures_util::TryStreamExt;
use futures_util::future::join;
use roster::import::{Batch, Counts, EnrollmentRole, Mode, Origin, Part, Person, Row as BatchRow, Summary};
use roster::{ClassName, PersonName, Role};
use sqlx::query_builder::Separated;
use sqlx::{Pool, QueryBuilder, Row};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

type Tx = sqlx::Transaction<'static, Db>;
type Conn = <Db as sqlx::Database>::Connection;

/// SQLite allows 32,766 bound values per statement, PostgreSQL 65,535.
const MAX_BINDS: usize = 30_000;

pub(crate) async fn is_empty(pool: &Pool<Db>) -> Result<bool, StorageError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orgs").fetch_one(pool).await?;
    Ok(n == 0)
}

// ---------------------------------------------------------------- import

/// Batch rows planned and written at a time (and the most rows one INSERT
/// writes). Besides the batch itself, an import holds the column values of one
/// chunk, and a key and an id for each row of the tables later tables refer to.
const CHUNK: usize = 2_000;

fn bind_val<'q>(b: &mut Separated<'_, 'q, Db, &'static str>, v: &'q Val<'_>) {
    match v {
        Val::Int(i) => b.push_bind(*i),
        Val::Text(t) => b.push_bind(t.as_deref()),
        Val::Bool(x) => b.push_bind(*x),
    };
}

fn text(s: &str) -> Val<'_> {
    Val::Text(Some(Cow::Borrowed(s)))
}

fn owned(s: String) -> Val<'static> {
    Val::Text(Some(Cow::Owned(s)))
}

fn date(d: Option<chrono::NaiveDate>) -> Val<'static> {
    Val::Text(d.map(|d| Cow::Owned(d.to_string())))
}

/// Reads every stored row of `table` that came from a package into `planner`.
async fn load_existing(conn: &mut Conn, table: &Table, keys: &Keys, planner: &mut Planner) -> Result<(), sqlx::Error> {
    let columns: Vec<&str> = table.synced.iter().map(|(c, _)| *c).collect();
    let sql =
        format!("SELECT id, source_id, active, {} FROM {} WHERE source_id IS NOT NULL", columns.join(", "), table.name);
    let mut rows = sqlx::query(&sql).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.synced.len());
        for (i, (_, kind)) in table.synced.iter().enumerate() {
            values.push(match kind {
                Kind::Int => Val::Int(row.try_get(i + 3)?),
                Kind::Text => Val::Text(row.try_get::<Option<&str>, _>(i + 3)?.map(Cow::Borrowed)),
                Kind::Bool => Val::Bool(row.try_get(i + 3)?),
            });
        }
        let existing =
            Existing { id: row.try_get(0)?, active: row.try_get(2)?, fingerprint: sync::fingerprint(&values) };
        planner.existing(keys.of(row.try_get(1)?), existing);
    }
    drop(rows);
    planner.loaded();
    Ok(())
}

/// The synced and the insert-only values of one batch row, or `None` when a
/// reference in it is unknown (the problem is recorded).
type Values<'b> = Option<(Vec<Val<'b>>, Vec<Val<'b>>)>;

/// Turns one chunk of batch rows into what the planner reads. `values` is told
/// whether the row is already stored.
fn incoming<'b, T>(
    keys: &Keys,
    planner: &Planner,
    chunk: &'b [BatchRow<T>],
    values: &mut impl FnMut(&'b BatchRow<T>, bool) -> Values<'b>,
) -> Vec<Incoming<'b>> {
    let mut out = Vec::with_capacity(chunk.len());
    for row in chunk {
        let key = keys.of(&row.source_id);
        if let Some((synced, insert_only)) = values(row, planner.contains(key)) {
            out.push(Incoming { key, source_id: &row.source_id, deleted: row.deleted, synced, insert_only });
        }
    }
    out
}

/// On SQLite the import numbers the rows it inserts itself, one past the largest
/// id as SQLite would: its transaction holds the write lock from its first
/// statement (`BEGIN IMMEDIATE`), so it is the only writer, and reading inserted
/// rows back would cross the driver's thread one row at a time. PostgreSQL hands
/// out ids from a sequence that other sessions share, so there rows come back
/// with `RETURNING`, which streams.
fn numbers_rows() -> bool {
    <Db as sqlx::Database>::NAME == "SQLite"
}

/// Where a table's ids go on: the first id the import may give, when it gives them.
async fn first_free_id(conn: &mut Conn, table: &Table) -> Result<Option<i64>, sqlx::Error> {
    if !(table.referenced && numbers_rows()) {
        return Ok(None);
    }
    let sql = format!("SELECT COALESCE(MAX(id), 0) + 1 FROM {}", table.name);
    Ok(Some(sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?))
}

/// Plans the next chunk; numbers its inserts when the import gives ids.
fn plan_chunk<'b>(planner: &mut Planner, rows: Vec<Incoming<'b>>, next_id: &mut Option<i64>) -> Plan<'b> {
    let mut plan = planner.plan(rows);
    if let Some(next) = next_id {
        planner.number(&mut plan, next);
    }
    plan
}

/// Executes one chunk's plan. Returns the keys and ids of inserted rows that
/// came back with `RETURNING` (a table others refer to, on PostgreSQL).
async fn write(conn: &mut Conn, table: &Table, keys: &Keys, plan: &Plan<'_>) -> Result<Vec<(Key, i64)>, sqlx::Error> {
    let numbered = !plan.ids.is_empty();
    let columns: Vec<&str> = table.synced.iter().chain(table.insert_only).map(|(c, _)| *c).collect();
    let per_statement = (MAX_BINDS / (columns.len() + 3)).min(CHUNK);
    let mut returned = Vec::new();
    for (n, rows) in plan.inserts.chunks(per_statement).enumerate() {
        let id_column = if numbered { "id, " } else { "" };
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "INSERT INTO {} ({id_column}source_id, active, {}) ",
            table.name,
            columns.join(", ")
        ));
        let ids = if numbered { plan.ids.chunks(per_statement).nth(n).unwrap_or_default() } else { &[] };
        qb.push_values(rows.iter().enumerate(), |mut b, (i, row)| {
            if let Some(id) = ids.get(i) {
                b.push_bind(*id);
            }
            b.push_bind(row.source_id);
            b.push_bind(true);
            for v in row.synced.iter().chain(&row.insert_only) {
                bind_val(&mut b, v);
            }
        });
        // A full statement recurs chunk after chunk; one of any other length is
        // prepared once and would only crowd the statement cache.
        let recurs = rows.len() == per_statement;
        if table.referenced && !numbered {
            qb.push(" RETURNING id, source_id");
            let mut rows = qb.build().persistent(recurs).fetch(&mut *conn);
            while let Some(row) = rows.try_next().await? {
                returned.push((keys.of(row.try_get(1)?), row.try_get(0)?));
            }
        } else {
            qb.build().persistent(recurs).execute(&mut *conn).await?;
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
        qb.build().execute(&mut *conn).await?;
    }
    set_inactive(conn, table.name, &plan.deactivations).await?;
    Ok(returned)
}

/// After the last chunk: deactivates what a bulk file left out, and counts.
async fn finish(
    conn: &mut Conn,
    table: &Table,
    planner: &mut Planner,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    let unnamed = planner.finish();
    set_inactive(conn, table.name, &unnamed).await?;
    summary.entities.push((table.entity, planner.counts()));
    Ok(())
}

/// Plans and writes one table chunk by chunk. Returns its planner, which knows
/// the id of every row (stored before or inserted now) for the tables that refer
/// to this one.
///
/// The two halves overlap: while the database writes one chunk, this thread
/// turns the next one into a plan (references resolved, values made). Planning
/// a chunk never needs the ids of the chunk before it: rows refer only to rows
/// of earlier tables.
async fn sync_table<'b, T>(
    conn: &mut Conn,
    keys: &Keys,
    table: &Table,
    part: &'b Part<BatchRow<T>>,
    mut values: impl FnMut(&'b BatchRow<T>, bool) -> Values<'b>,
    summary: &mut Summary,
) -> Result<Planner, sqlx::Error> {
    let mut planner = Planner::new(part.mode, part.rows.len());
    // Nothing refers to enrollments: when the package has none, no need to read them.
    if table.referenced || part.mode != Mode::Absent {
        load_existing(conn, table, keys, &mut planner).await?;
    }
    let mut next_id = first_free_id(conn, table).await?;
    let mut chunks = part.rows.chunks(CHUNK);
    let mut next = chunks.next().map(|c| {
        let rows = incoming(keys, &planner, c, &mut values);
        plan_chunk(&mut planner, rows, &mut next_id)
    });
    while let Some(plan) = next {
        let prepare = async {
            chunks.next().map(|c| {
                let rows = incoming(keys, &planner, c, &mut values);
                plan_chunk(&mut planner, rows, &mut next_id)
            })
        };
        let (written, prepared) = join(write(conn, table, keys, &plan), prepare).await;
        for (key, id) in written? {
            planner.inserted(key, id);
        }
        next = prepared;
    }
    finish(conn, table, &mut planner, summary).await?;
    Ok(planner)
}

async fn set_inactive(conn: &mut Conn, table: &str, ids: &[i64]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(MAX_BINDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!("UPDATE {table} SET active = FALSE WHERE id IN ("));
        let mut list = qb.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        qb.build().persistent(false).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Looks up what a row refers to: first among the package's and the database's
/// rows of that table, else records a problem at the row's origin.
struct Resolver<'k> {
    keys: &'k Keys,
    problems: Vec<(Origin, String)>,
}

impl Resolver<'_> {
    fn id(&mut self, table: &Planner, key: &str, what: &str, origin: &Origin) -> Option<i64> {
        match table.id(self.keys.of(key)) {
            Some(id) => Some(id),
            None => {
                self.problems.push((origin.clone(), format!("unknown {what} {key:?}")));
                None
            }
        }
    }

    fn optional(&mut self, table: &Planner, key: Option<&str>, what: &str, origin: &Origin) -> Option<Option<i64>> {
        match key {
            None => Some(None),
            Some(k) => self.id(table, k, what, origin).map(Some),
        }
    }
}

pub(crate) async fn apply_import(
    pool: &Pool<Db>,
    batch: &Batch,
    dry_run: bool,
    hash_password: &(dyn Fn(&str) -> String + Sync),
) -> Result<Summary, ImportError> {
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    match apply(&mut tx, batch, hash_password).await? {
        Err(problems) => {
            tx.rollback().await?;
            Err(ImportError::Rejected(problems))
        }
        Ok(summary) => {
            if dry_run {
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            Ok(summary)
        }
    }
}

/// Applies the batch inside the caller's transaction. The inner `Err` holds the
/// problems that refuse the package; the caller then rolls back.
async fn apply(
    conn: &mut Conn,
    batch: &Batch,
    hash_password: &(dyn Fn(&str) -> String + Sync),
) -> Result<Result<Summary, Vec<(Origin, String)>>, sqlx::Error> {
    let keys = Keys::new();
    let mut summary = Summary::default();
    let mut resolve = Resolver { keys: &keys, problems: Vec::new() };

    let orgs = sync_table(
        conn,
        &keys,
        &sync::ORGS,
        &batch.orgs,
        |r, _| Some((vec![text(&r.data.name), text(r.data.kind.as_str())], vec![Val::Bool(r.data.chats_enabled)])),
        &mut summary,
    )
    .await?;
    let years = sync_table(
        conn,
        &keys,
        &sync::YEARS,
        &batch.years,
        |r, _| Some((vec![text(&r.data.title), date(Some(r.data.start)), date(Some(r.data.end))], vec![])),
        &mut summary,
    )
    .await?;

    let people = sync_people(conn, &keys, &batch.people, hash_password, &mut resolve, &mut summary).await?;
    // The unique index would abort the import with a message naming no row.
    if !resolve.problems.is_empty() {
        return Ok(Err(resolve.problems));
    }

    if batch.people.mode != Mode::Absent {
        sync_roles(conn, batch, &people, &orgs, &mut resolve, &mut summary).await?;
    }

    let subjects = sync_table(
        conn,
        &keys,
        &sync::SUBJECTS,
        &batch.subjects,
        |r, _| {
            let org = resolve.id(&orgs, &r.data.org, "organisation", &r.origin)?;
            Some((vec![Val::Int(Some(org)), text(&r.data.name)], vec![]))
        },
        &mut summary,
    )
    .await?;

    let classes = sync_table(
        conn,
        &keys,
        &sync::CLASSES,
        &batch.classes,
        |r, _| {
            let c = &r.data;
            let org = resolve.id(&orgs, &c.org, "organisation", &r.origin)?;
            let year = resolve.optional(&years, c.year.as_deref(), "academic year", &r.origin)?;
            let synced = vec![
                Val::Int(Some(org)),
                Val::Int(year),
                owned(c.name.to_string()),
                Val::Int(Some(i64::from(c.name.grade()))),
            ];
            Some((synced, vec![]))
        },
        &mut summary,
    )
    .await?;

    let sections = sync_table(
        conn,
        &keys,
        &sync::SECTIONS,
        &batch.sections,
        |r, _| {
            let s = &r.data;
            let org = resolve.id(&orgs, &s.org, "organisation", &r.origin)?;
            let subject = resolve.id(&subjects, &s.subject, "course", &r.origin)?;
            let class = resolve.optional(&classes, s.class.as_deref(), "class", &r.origin)?;
            let year = resolve.optional(&years, s.year.as_deref(), "academic year", &r.origin)?;
            let synced = vec![
                Val::Int(Some(org)),
                Val::Int(Some(subject)),
                Val::Int(class),
                Val::Text(s.group.as_deref().map(Cow::Borrowed)),
                Val::Int(year),
            ];
            Some((synced, vec![]))
        },
        &mut summary,
    )
    .await?;
    drop(subjects);

    sync_table(
        conn,
        &keys,
        &sync::ENROLLMENTS,
        &batch.enrollments,
        |r, _| {
            let e = &r.data;
            let person = resolve.id(&people, &e.person, "person", &r.origin)?;
            let target = keys.of(&e.target);
            let (class, section) = match (classes.id(target), sections.id(target)) {
                (Some(c), _) => (Some(c), None),
                (None, Some(s)) => (None, Some(s)),
                (None, None) => {
                    resolve.problems.push((r.origin.clone(), format!("unknown class {:?}", e.target)));
                    return None;
                }
            };
            let role = match e.role {
                EnrollmentRole::Student => "student",
                EnrollmentRole::Teacher => "teacher",
            };
            let synced = vec![
                Val::Int(Some(person)),
                Val::Int(class),
                Val::Int(section),
                text(role),
                Val::Bool(e.primary),
                date(e.begin),
                date(e.end),
            ];
            Some((synced, vec![]))
        },
        &mut summary,
    )
    .await?;
    drop((classes, sections));

    if batch.people.mode != Mode::Absent {
        sync_guardianships(conn, batch, &people, &mut resolve, &mut summary).await?;
    }

    if !resolve.problems.is_empty() {
        return Ok(Err(resolve.problems));
    }
    Ok(Ok(summary))
}

/// People are planned like any table, with two checks first: a login given twice
/// in the package, and a login the database gives to somebody else (the unique
/// index would refuse both, naming no row). On either problem nothing more is
/// written; the caller refuses the package.
async fn sync_people<'b>(
    conn: &mut Conn,
    keys: &Keys,
    part: &'b Part<BatchRow<Person>>,
    hash_password: &(dyn Fn(&str) -> String + Sync),
    resolve: &mut Resolver<'_>,
    summary: &mut Summary,
) -> Result<Planner, sqlx::Error> {
    let table = &sync::PEOPLE;
    {
        let mut logins: HashMap<&str, &Origin> = HashMap::with_capacity(part.rows.len());
        for r in part.rows.iter().filter(|r| !r.deleted) {
            if let Some(login) = &r.data.login
                && let Some(first) = logins.insert(login.as_str(), &r.origin)
            {
                resolve
                    .problems
                    .push((r.origin.clone(), format!("login {:?} is also used at {first}", login.as_str())));
            }
        }
    }
    // Nobody else can hold a login in a database that had none (a first import).
    let logins_stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT 1 FROM people WHERE login IS NOT NULL LIMIT 1) AS any_login")
            .fetch_one(&mut *conn)
            .await?;
    let mut planner = Planner::new(part.mode, part.rows.len());
    load_existing(conn, table, keys, &mut planner).await?;
    let mut next_id = first_free_id(conn, table).await?;
    let mut values = |r: &'b BatchRow<Person>, stored: bool| {
        let p = &r.data;
        let login = p.login.as_ref().map(|l| l.as_str());
        let synced = vec![
            text(p.name.last()),
            text(p.name.first()),
            Val::Text(p.name.middle().map(Cow::Borrowed)),
            Val::Text(login.map(Cow::Borrowed)),
            owned(p.name.search_key(login)),
        ];
        let password = p.password.as_deref().filter(|_| !stored).map(|pw| Cow::Owned(hash_password(pw)));
        Some((synced, vec![Val::Text(password)]))
    };
    // Only a new or changed row can take a login it does not hold already. (Every
    // person row becomes an incoming row: `values` never refuses one.)
    let logins_to_check = |planner: &Planner, rows: &[Incoming<'b>], chunk: &'b [BatchRow<Person>]| {
        let mut wanted: Vec<(&'b str, Option<i64>, &'b Origin)> = Vec::new();
        if logins_stored > 0 {
            for (row, r) in rows.iter().zip(chunk) {
                if let Some(login) = &r.data.login
                    && !row.deleted
                    && !planner.is_unchanged(row.key, &row.synced)
                {
                    wanted.push((login.as_str(), planner.id(row.key), &r.origin));
                }
            }
        }
        wanted
    };
    // Logins that people of this package gave up in chunks already written: the
    // database no longer shows their owner, but they were taken when the import began.
    let mut released: HashSet<String> = HashSet::new();
    let mut chunks = part.rows.chunks(CHUNK);
    let mut next = chunks.next().map(|c| {
        let rows = incoming(keys, &planner, c, &mut values);
        let wanted = logins_to_check(&planner, &rows, c);
        (plan_chunk(&mut planner, rows, &mut next_id), wanted)
    });
    while let Some((plan, wanted)) = next {
        logins_taken_by_others(conn, &wanted, &released, resolve).await?;
        let prepare = async {
            chunks.next().map(|c| {
                let rows = incoming(keys, &planner, c, &mut values);
                let wanted = logins_to_check(&planner, &rows, c);
                (plan_chunk(&mut planner, rows, &mut next_id), wanted)
            })
        };
        if !resolve.problems.is_empty() {
            // Keep checking the rest, but write nothing more.
            next = prepare.await;
            continue;
        }
        if !plan.updates.is_empty() && logins_stored > 0 {
            released.extend(logins_given_up(conn, &plan).await?);
        }
        let (written, prepared) = join(write(conn, table, keys, &plan), prepare).await;
        for (key, id) in written? {
            planner.inserted(key, id);
        }
        next = prepared;
    }
    if resolve.problems.is_empty() {
        finish(conn, table, &mut planner, summary).await?;
    }
    Ok(planner)
}

/// Logins in the package that the database gives to a different person (or gave,
/// when the import began).
async fn logins_taken_by_others(
    conn: &mut Conn,
    wanted: &[(&str, Option<i64>, &Origin)],
    released: &HashSet<String>,
    resolve: &mut Resolver<'_>,
) -> Result<(), sqlx::Error> {
    for chunk in wanted.chunks(MAX_BINDS) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("SELECT login, id FROM people WHERE login IN (");
        let mut list = qb.separated(", ");
        for (login, _, _) in chunk {
            list.push_bind(*login);
        }
        qb.push(")");
        let owners: HashMap<String, i64> = qb
            .build()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for (login, own_id, origin) in chunk {
            let taken = match owners.get(*login) {
                Some(owner) => Some(*owner) != *own_id,
                None => released.contains(*login),
            };
            if taken {
                resolve
                    .problems
                    .push(((*origin).clone(), format!("login {login:?} already belongs to another person")));
            }
        }
    }
    Ok(())
}

/// The logins that the plan's updates take away from the people who hold them.
async fn logins_given_up(conn: &mut Conn, plan: &Plan<'_>) -> Result<Vec<String>, sqlx::Error> {
    let login_column = sync::PEOPLE.synced.iter().position(|(c, _)| *c == "login").unwrap_or_default();
    let mut given_up = Vec::new();
    for chunk in plan.updates.chunks(MAX_BINDS) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("SELECT id, login FROM people WHERE login IS NOT NULL AND id IN (");
        let mut list = qb.separated(", ");
        for (id, _) in chunk {
            list.push_bind(*id);
        }
        qb.push(")");
        let old: HashMap<i64, String> = qb
            .build()
            .persistent(false)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?;
        for (id, values) in chunk {
            let new = match values.get(login_column) {
                Some(Val::Text(login)) => login.as_deref(),
                _ => None,
            };
            if let Some(old) = old.get(id)
                && new != Some(old.as_str())
            {
                given_up.push(old.clone());
            }
        }
    }
    Ok(given_up)
}

/// A person's roles are exactly what the package says, for every person it names.
async fn sync_roles(
    conn: &mut Conn,
    batch: &Batch,
    people: &Planner,
    orgs: &Planner,
    resolve: &mut Resolver<'_>,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut current: Vec<(i64, i64, Role)> = Vec::new();
    let mut rows = sqlx::query("SELECT person_id, org_id, role FROM person_roles").fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let role: &str = row.try_get(2)?;
        let role = Role::parse(role).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role:?}").into()))?;
        current.push((row.try_get(0)?, row.try_get(1)?, role));
    }
    drop(rows);
    current.sort_unstable();
    let mut counts = Counts::default();
    let mut remove: Vec<(i64, i64, Role)> = Vec::new();
    // The roles to add for a chunk of people: worked out while the database
    // inserts those of the chunk before.
    let mut roles_to_add = |chunk: &[BatchRow<Person>]| {
        let mut add: Vec<(i64, i64, Role)> = Vec::new();
        let mut wanted: Vec<(i64, Role)> = Vec::new();
        for r in chunk.iter().filter(|r| !r.deleted) {
            let Some(person) = people.id(resolve.keys.of(&r.source_id)) else { continue };
            let from = current.partition_point(|c| c.0 < person);
            let to = from + current[from..].partition_point(|c| c.0 == person);
            let held = &current[from..to];
            wanted.clear();
            for (role, org) in &r.data.roles {
                if let Some(org) = resolve.id(orgs, org, "organisation", &r.origin) {
                    // The same role twice in a row is added once.
                    if !held.iter().any(|&(_, o, h)| (o, h) == (org, *role)) && !wanted.contains(&(org, *role)) {
                        add.push((person, org, *role));
                        counts.added += 1;
                    }
                    wanted.push((org, *role));
                }
            }
            for &(_, org, role) in held {
                if !wanted.contains(&(org, role)) {
                    remove.push((person, org, role));
                }
            }
        }
        add
    };
    let mut chunks = batch.people.rows.chunks(MAX_BINDS / 3);
    let mut next = chunks.next().map(&mut roles_to_add);
    while let Some(add) = next {
        let (inserted, prepared) =
            join(insert_roles_of_people(conn, &add), async { chunks.next().map(&mut roles_to_add) }).await;
        inserted?;
        next = prepared;
    }
    for (person, org, role) in &remove {
        sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND org_id = $2 AND role = $3")
            .bind(person)
            .bind(org)
            .bind(role.as_str())
            .execute(&mut *conn)
            .await?;
    }
    counts.deactivated = remove.len() as u64;
    summary.entities.push(("roles", counts));
    Ok(())
}

async fn insert_roles_of_people(conn: &mut Conn, add: &[(i64, i64, Role)]) -> Result<(), sqlx::Error> {
    let per_statement = MAX_BINDS / 3;
    for chunk in add.chunks(per_statement) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO person_roles (person_id, org_id, role) ");
        qb.push_values(chunk, |mut b, (person, org, role)| {
            b.push_bind(*person).push_bind(*org).push_bind(role.as_str());
        });
        qb.build().persistent(chunk.len() == per_statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Guardianships follow the people file: a bulk file states them all (among
/// people that came from a package), a delta file adds the ones it names.
async fn sync_guardianships(
    conn: &mut Conn,
    batch: &Batch,
    people: &Planner,
    resolve: &mut Resolver<'_>,
    summary: &mut Summary,
) -> Result<(), sqlx::Error> {
    let mut current: Vec<(i64, i64)> = Vec::new();
    let mut rows = sqlx::query("SELECT guardian_id, student_id FROM guardianships").fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        current.push((row.try_get(0)?, row.try_get(1)?));
    }
    drop(rows);
    current.sort_unstable();
    let mut wanted: Vec<(i64, i64)> = Vec::with_capacity(batch.guardianships.len());
    for (origin, g) in &batch.guardianships {
        let guardian = resolve.id(people, &g.guardian, "person", origin);
        let student = resolve.id(people, &g.student, "person", origin);
        if let (Some(guardian), Some(student)) = (guardian, student) {
            wanted.push((guardian, student));
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    let mut remove: Vec<(i64, i64)> = Vec::new();
    if batch.people.mode == Mode::Bulk {
        let unwanted: Vec<(i64, i64)> = current.iter().filter(|p| wanted.binary_search(p).is_err()).copied().collect();
        if !unwanted.is_empty() {
            let mut imported: Vec<i64> = people.ids().collect();
            imported.sort_unstable();
            let known = |id: &i64| imported.binary_search(id).is_ok();
            remove = unwanted.into_iter().filter(|(g, s)| known(g) && known(s)).collect();
        }
    }
    let mut add = wanted;
    add.retain(|p| current.binary_search(p).is_err());
    drop(current);
    let per_statement = MAX_BINDS / 2;
    for chunk in add.chunks(per_statement) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new("INSERT INTO guardianships (guardian_id, student_id) ");
        qb.push_values(chunk, |mut b, (g, s)| {
            b.push_bind(*g).push_bind(*s);
        });
        qb.build().persistent(chunk.len() == per_statement).execute(&mut *conn).await?;
    }
    for (g, s) in &remove {
        sqlx::query("DELETE FROM guardianships WHERE guardian_id = $1 AND student_id = $2")
            .bind(g)
            .bind(s)
            .execute(&mut *conn)
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_class(&mut tx, org, class).await?;
    if let Some(teacher) = teacher {
        require_role(&mut tx, org, teacher, Role::Teacher, Conflict::NotATeacher).await?;
    }
    sqlx::query(
        "UPDATE enrollments SET active = FALSE WHERE class_id = $1 AND role = 'teacher' AND is_primary AND active",
    )
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
    require_class(&mut tx, org, class).await?;
    require_role(&mut tx, org, student, Role::Student, Conflict::NotAStudent).await?;
    // Leaving a class also means leaving its groups: the new class has its own.
    // Checked row by row (the student's few enrollments), not by listing the
    // organisation's sections: sections are not indexed by organisation.
    sqlx::query(
        "UPDATE enrollments SET active = FALSE, end_date = $1 WHERE person_id = $2 AND role = 'student' AND active \
         AND (EXISTS (SELECT 1 FROM classes c WHERE c.id = enrollments.class_id AND c.org_id = $3) \
           OR EXISTS (SELECT 1 FROM sections s WHERE s.id = enrollments.section_id AND s.org_id = $3))",
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM orgs WHERE id = $1 AND active").bind(org).fetch_one(pool).await?;
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    let mut tx: Tx = pool.begin_with(BEGIN_WRITE).await?;
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
    sqlx::query(
        "UPDATE enrollments SET active = FALSE WHERE section_id = $1 AND person_id = $2 AND role = $3 AND active",
    )
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
