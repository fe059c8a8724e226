// Compiled twice, into the backend module itself (imports in common_queries.rs).
// Roster import, continued: people (with their logins), roles and guardianships.

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
