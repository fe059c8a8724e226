// Compiled twice, into the backend module itself (imports in common_queries.rs).
// Roster import: a package's tables planned and written chunk by chunk, in one
// transaction. People, roles and guardianships: roster_import_people_queries.rs.

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
