//! `parta-bench provision`: the automatic chats of a whole region, the worst case
//! where everyone has linked a learning profile.
//!
//! Steps, each selectable: link everyone (bulk SQL straight into the SQLite
//! file), plan every organisation without writing (a dry run: reading and
//! planning alone), reconcile every organisation from scratch, reconcile again
//! (a no-op), then single changes timed end to end the way the portal makes them:
//! the change through its `Store` method, then `Store::reconcile` of the
//! organisation (what the server does after every change) or
//! `Store::reconcile_people` of the person changed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use roster::ids::{ClassId, OrgId, PersonId};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use storage::{NewLink, Run, Store};

use crate::stats::{Latencies, cpu_time, mib, ms, peak_rss_kib, reset_peak_rss, secs, thousands};
use demo::Rng;

#[derive(clap::Args)]
pub struct Args {
    /// A data directory made by `parta import oneroster … --data DIR --skip-chats`
    /// (SQLite). It is changed: keep a copy to start again from scratch.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Do not link everyone (the data directory is linked already).
    #[arg(long)]
    skip_link: bool,
    /// Also plan every organisation without writing (a dry run), before the
    /// reconciliation from scratch: the reading and planning share of it.
    #[arg(long)]
    dry_run: bool,
    /// Only the first N organisations (by name), for a quick run.
    #[arg(long, value_name = "N")]
    orgs: Option<usize>,
    /// Do not reconcile every organisation from scratch.
    #[arg(long)]
    skip_full: bool,
    /// Do not run the no-op reconciliation of every organisation.
    #[arg(long)]
    skip_noop: bool,
    /// How many of each single change to time (0: none).
    #[arg(long, default_value_t = 200)]
    changes: u32,
    /// Do not check, after each scoped reconciliation, that the whole
    /// organisation has nothing left to do (the check is untimed).
    #[arg(long)]
    no_check: bool,
    /// Seed of the people and classes the single changes pick.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// One line of the final table.
struct Row {
    step: String,
    time: String,
    figures: String,
}

pub async fn run(args: Args) -> Result<()> {
    let file = args.data.join("parta.db");
    if !file.is_file() {
        bail!("{} has no parta.db: import a region first (see BENCHMARKS.md)", args.data.display());
    }
    let raw = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&file)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(60)),
        )
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let url = format!("sqlite://{}", file.display());
    let store = Store::open(&url).await.with_context(|| format!("cannot open the store {url}"))?;
    let mut orgs: Vec<i64> = store.orgs().await?.into_iter().map(|o| o.id.into()).collect();
    if let Some(n) = args.orgs {
        orgs.truncate(n);
    }
    let mut rows = Vec::new();
    println!("{} organisations in {}", orgs.len(), args.data.display());

    if !args.skip_link {
        rows.push(link_everyone(&raw).await?);
    }
    if args.dry_run {
        rows.push(reconcile_all(&store, &orgs, Run::DryRun, "plan every organisation (dry run)").await?.0);
    }
    if !args.skip_full {
        rows.push(reconcile_all(&store, &orgs, Run::Apply, "reconcile every organisation from scratch").await?.0);
    }
    if !args.skip_noop {
        let (row, changes) =
            reconcile_all(&store, &orgs, Run::Apply, "reconcile every organisation again (no-op)").await?;
        if changes > 0 {
            eprintln!("warning: the second reconciliation changed {changes} things: it was not a no-op");
        }
        rows.push(row);
    }
    if args.changes > 0 {
        let mut rng = Rng::new(args.seed);
        rows.extend(single_changes(&store, &raw, &orgs, args.changes, !args.no_check, &mut rng).await?);
    }

    print_table(&rows);
    store.close().await;
    raw.close().await;
    Ok(())
}

/// Everyone with a role gets a Parta ID (account and learning profile, ids equal
/// to the person's, phone +79 and the id) and a link in every organisation where
/// they have a role. No domain events are written: the reconciler does not read
/// them.
async fn link_everyone(raw: &SqlitePool) -> Result<Row> {
    let started = Instant::now();
    let cpu_before = cpu_time();
    let now = chrono::Utc::now().timestamp();
    let existing: i64 =
        sqlx::query_scalar("SELECT (SELECT COUNT(*) FROM accounts) + (SELECT COUNT(*) FROM profile_links)")
            .fetch_one(raw)
            .await?;
    if existing > 0 {
        bail!("the database already has accounts or links: pass --skip-link, or start from a fresh import");
    }
    let mut tx = raw.begin().await?;
    let accounts = sqlx::query(
        "INSERT INTO accounts (id, phone, last_name, first_name, middle_name, created_at) \
         SELECT p.id, printf('+79%09d', p.id), p.last_name, p.first_name, p.middle_name, $1 FROM people p \
         WHERE p.active AND EXISTS (SELECT 1 FROM person_roles r WHERE r.person_id = p.id)",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "INSERT INTO learning_profiles (id, account_id, last_name, first_name, middle_name, created_at) \
         SELECT id, id, last_name, first_name, middle_name, created_at FROM accounts",
    )
    .execute(&mut *tx)
    .await?;
    let links = sqlx::query(
        "INSERT INTO profile_links (profile_id, person_id, org_id, linked_at) \
         SELECT DISTINCT r.person_id, r.person_id, r.org_id, $1 FROM person_roles r JOIN accounts a ON a.id = r.person_id \
         ORDER BY r.org_id, r.person_id",
    )
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    let took = started.elapsed();
    let cpu = cpu_used(cpu_before);
    println!("linked: {} accounts, {} links in {} ({cpu})", thousands(accounts), thousands(links), secs(took));
    Ok(Row {
        step: "link everyone (bulk SQL)".into(),
        time: format!("{} ({cpu})", secs(took)),
        figures: format!("{} accounts and profiles, {} links", thousands(accounts), thousands(links)),
    })
}

/// "cpu 41.2 s": the CPU time used since `before`, by this process (the bench
/// and, on SQLite, the database); the wall time beside it also counts waiting
/// for the cores other programs use.
fn cpu_used(before: Option<Duration>) -> String {
    match (before, cpu_time()) {
        (Some(before), Some(now)) => format!("cpu {}", secs(now.saturating_sub(before))),
        _ => "cpu unknown".to_owned(),
    }
}

/// Reconciles (or plans, with [`Run::DryRun`]) every organisation one after the
/// other, as `parta provision` does; returns the table line and the number of
/// changes.
async fn reconcile_all(store: &Store, orgs: &[i64], run: Run, step: &str) -> Result<(Row, u64)> {
    let peak_reset = reset_peak_rss();
    let now = chrono::Utc::now().timestamp();
    let cpu_before = cpu_time();
    let started = Instant::now();
    let (mut chats, mut members, mut changes) = (0u64, 0u64, 0u64);
    let mut slowest = Duration::ZERO;
    for (i, &org) in orgs.iter().enumerate() {
        let one = Instant::now();
        let plan = store.reconcile(OrgId(org), run, now).await.with_context(|| format!("organisation {org}"))?;
        slowest = slowest.max(one.elapsed());
        chats += plan.create.len() as u64;
        members += plan.create.iter().map(|c| c.members.len() as u64).sum::<u64>() + plan.add.len() as u64;
        changes += plan.change_count() as u64;
        if (i + 1) % 100 == 0 {
            eprintln!("  {step}: {}/{} organisations, {}", i + 1, orgs.len(), secs(started.elapsed()));
        }
    }
    let took = started.elapsed();
    let cpu = cpu_used(cpu_before);
    let peak = mib(peak_rss_kib());
    let peak_of = if peak_reset { "peak RSS of this step" } else { "peak RSS of the run" };
    let verb = if run == Run::DryRun { "planned" } else { "made" };
    let figures = format!(
        "{} changes: {} chats, {} memberships {verb}; slowest organisation {}; {peak_of} {peak}",
        thousands(changes),
        thousands(chats),
        thousands(members),
        ms(slowest),
    );
    println!("{step}: {} ({cpu}) — {figures}", secs(took));
    Ok((Row { step: step.to_owned(), time: format!("{} ({cpu})", secs(took)), figures }, changes))
}

/// How a single change is followed by its reconciliation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// `Store::reconcile(org)`: the whole organisation, as the server does.
    Org,
    /// `Store::reconcile_people(org, [person])`: the chats of the person changed.
    People,
}

impl Follow {
    fn label(self) -> &'static str {
        match self {
            Follow::Org => "reconcile(org)",
            Follow::People => "reconcile_people",
        }
    }
}

/// The latencies of one kind of change, end to end and of its reconciliation.
#[derive(Default)]
struct Timings {
    total: Latencies,
    reconcile: Latencies,
    changes: u64,
}

impl Timings {
    fn rows(&self, what: &str, follow: Follow) -> [Row; 2] {
        let average = self.changes as f64 / self.total.len().max(1) as f64;
        [
            Row {
                step: format!("{what} + {} (n={})", follow.label(), self.total.len()),
                time: self.total.summary(),
                figures: format!("{average:.1} changes each"),
            },
            Row {
                step: "  of which the reconciliation".into(),
                time: self.reconcile.summary(),
                figures: String::new(),
            },
        ]
    }
}

/// Times `n` class moves, `n` unlinks and `n` links, each followed by the
/// reconciliation of the whole organisation and, with other people, by the
/// scoped one. After a scoped one, unless `check` is off, a dry run of the whole
/// organisation must find nothing left to do (untimed).
async fn single_changes(
    store: &Store,
    raw: &SqlitePool,
    orgs: &[i64],
    n: u32,
    check: bool,
    rng: &mut Rng,
) -> Result<Vec<Row>> {
    if orgs.is_empty() {
        bail!("no organisations");
    }
    let today = chrono::Local::now().date_naive();
    let follows = [Follow::Org, Follow::People];
    let mut moves: [Timings; 2] = Default::default();
    let mut unlinks: [Timings; 2] = Default::default();
    let mut links: [Timings; 2] = Default::default();
    for _ in 0..n {
        for (i, &follow) in follows.iter().enumerate() {
            let org = orgs[rng.below(orgs.len())];
            if let Some((student, class)) = pick_move(raw, org, rng).await? {
                let started = Instant::now();
                // The picks are raw rows: typed here, where they meet the store.
                store
                    .move_student(OrgId(org), PersonId(student), ClassId(class), today)
                    .await
                    .context("moving a student")?;
                let plan = reconcile_after(store, org, student, follow, &mut moves[i]).await?;
                moves[i].total.push(started.elapsed());
                if plan.is_empty() {
                    bail!("moving student {student} to class {class} changed no chat");
                }
                if check && follow == Follow::People {
                    nothing_left(store, org, "a class move").await?;
                }
            }

            let person = pick_person(raw, org, rng).await?;
            let Some(link) = store.link_of(org, person).await? else {
                bail!("person {person} of organisation {org} is not linked: link everyone first");
            };
            let started = Instant::now();
            store.unlink_profile(org, person, chrono::Utc::now().timestamp()).await.context("unlinking")?;
            reconcile_after(store, org, person, follow, &mut unlinks[i]).await?;
            unlinks[i].total.push(started.elapsed());
            if check && follow == Follow::People {
                nothing_left(store, org, "an unlink").await?;
            }

            let phone = link.phone.context("a linked account without a phone")?;
            let about = roster::PersonName::parse(&link.last_name, &link.first_name, link.middle_name.as_deref())
                .map_err(|e| anyhow::anyhow!("the profile's name: {e}"))?;
            let now = chrono::Utc::now().timestamp();
            let proof = format!("bench-proof-{org}-{person}-{now}-{}", rng.next_u64());
            let started = Instant::now();
            // A proof is what the code check yields; the link consumes it.
            store.create_proof(&proof, &phone, now + 900).await?;
            store
                .link_profile(
                    &NewLink { org_id: org, person_id: person, proof_hash: proof, target: storage::LinkAs::New(about) },
                    now,
                )
                .await?;
            reconcile_after(store, org, person, follow, &mut links[i]).await?;
            links[i].total.push(started.elapsed());
            if check && follow == Follow::People {
                nothing_left(store, org, "a link").await?;
            }
        }
    }
    let mut rows = Vec::new();
    for (i, &follow) in follows.iter().enumerate() {
        rows.extend(moves[i].rows("student moves class", follow));
        rows.extend(unlinks[i].rows("person unlinks", follow));
        rows.extend(links[i].rows("person links", follow));
    }
    Ok(rows)
}

async fn reconcile_after(
    store: &Store,
    org: i64,
    person: i64,
    follow: Follow,
    timings: &mut Timings,
) -> Result<provisioning::Plan> {
    let started = Instant::now();
    let now = chrono::Utc::now().timestamp();
    let plan = match follow {
        Follow::Org => store.reconcile(OrgId(org), Run::Apply, now).await?,
        Follow::People => store.reconcile_people(OrgId(org), &[PersonId(person)], Run::Apply, now).await?,
    };
    timings.reconcile.push(started.elapsed());
    timings.changes += plan.change_count() as u64;
    Ok(plan)
}

/// The scoped reconciliation left nothing for the whole organisation to do.
async fn nothing_left(store: &Store, org: i64, after: &str) -> Result<()> {
    let rest = store.reconcile(OrgId(org), Run::DryRun, chrono::Utc::now().timestamp()).await?;
    if !rest.is_empty() {
        bail!("after {after} and reconcile_people, organisation {org} still has changes to make:\n{rest}");
    }
    Ok(())
}

/// A student of `org` and another current class of the same school for them,
/// of the same grade when there is one.
async fn pick_move(raw: &SqlitePool, org: i64, rng: &mut Rng) -> Result<Option<(i64, i64)>> {
    let students: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_roles WHERE org_id = $1 AND role = 'student'")
        .bind(org)
        .fetch_one(raw)
        .await?;
    if students == 0 {
        return Ok(None);
    }
    let student: i64 = sqlx::query_scalar(
        "SELECT person_id FROM person_roles WHERE org_id = $1 AND role = 'student' ORDER BY person_id LIMIT 1 OFFSET $2",
    )
    .bind(org)
    .bind(rng.below(students as usize) as i64)
    .fetch_one(raw)
    .await?;
    let current: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT c.id, c.grade, c.year_id FROM enrollments e JOIN classes c ON c.id = e.class_id \
         WHERE e.person_id = $1 AND e.role = 'student' AND e.active AND c.org_id = $2 AND c.active LIMIT 1",
    )
    .bind(student)
    .bind(org)
    .fetch_optional(raw)
    .await?;
    let Some((class, grade, year)) = current else { return Ok(None) };
    let others: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, grade FROM classes WHERE org_id = $1 AND active AND id <> $2 AND year_id IS $3 ORDER BY id",
    )
    .bind(org)
    .bind(class)
    .bind(year)
    .fetch_all(raw)
    .await?;
    let same_grade: Vec<i64> = others.iter().filter(|(_, g)| *g == grade).map(|(id, _)| *id).collect();
    let pool: Vec<i64> = if same_grade.is_empty() { others.iter().map(|(id, _)| *id).collect() } else { same_grade };
    if pool.is_empty() {
        return Ok(None);
    }
    Ok(Some((student, pool[rng.below(pool.len())])))
}

/// Anyone with a role in `org`.
async fn pick_person(raw: &SqlitePool, org: i64, rng: &mut Rng) -> Result<i64> {
    let people: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT person_id FROM person_roles WHERE org_id = $1 ORDER BY 1")
            .bind(org)
            .fetch_all(raw)
            .await?;
    if people.is_empty() {
        bail!("organisation {org} has nobody");
    }
    Ok(people[rng.below(people.len())])
}

fn print_table(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.step.chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.time.chars().count()).max().unwrap_or(0);
    println!();
    for r in rows {
        let line = format!("{:<w0$}  {:<w1$}  {}", r.step, r.time, r.figures);
        println!("{}", line.trim_end());
    }
}
