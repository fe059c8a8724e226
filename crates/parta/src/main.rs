//! `parta`: the one binary. Parses the command line and configuration, wires the
//! adapters together, and reports failures to a human. The only place that uses
//! `anyhow`.

mod backup;
mod config;
mod doctor;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use config::{Config, LogFormat, Overrides};
use indicatif::{ProgressBar, ProgressStyle};
use roster::ids::OrgId;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use storage::{ImportError, Run, Store};

/// Parta — school chats and calls for general-education schools.
///
/// Configuration comes from built-in defaults, then a TOML file (--config or
/// PARTA_CONFIG), then environment variables, then flags. Every key has its
/// variable: PARTA_<KEY> at the top level (PARTA_LISTEN, PARTA_DATABASE_URL,
/// PARTA_DATA_DIR, PARTA_LOG, PARTA_LOG_FORMAT, PARTA_METRICS_LISTEN, ...),
/// PARTA_<SECTION>_<KEY> in a section
/// (PARTA_SMS_URL, PARTA_CALLS_UDP_BIND, PARTA_FILES_SECRET_ACCESS_KEY, ...).
/// docs/configuration.md lists every key.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a demo school you can sign in to, on an embedded SQLite database.
    ///
    /// The demo data is made on the first start (when the data directory holds
    /// none) and kept afterwards. The address and the demo logins are printed.
    Demo(DemoCommand),
    /// Run Parta in production.
    ///
    /// Settings come from the config file and PARTA_* environment variables
    /// (docs/configuration.md). One node on SQLite by default; several nodes
    /// sharing a PostgreSQL database (database_url) become one cluster with
    /// nats_url (PARTA_NATS_URL, e.g. nats://10.0.0.5:4222, several separated
    /// by commas) and S3 file storage ([files] backend = "s3"): see
    /// docs/deployment.md. Health: GET /healthz (alive), GET /readyz (can serve).
    #[command(verbatim_doc_comment)]
    Serve {
        #[command(flatten)]
        place: Place,
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Serve Prometheus metrics at http://ADDR/metrics, a port of its own
        /// [default: off; key metrics_listen, PARTA_METRICS_LISTEN].
        #[arg(long, value_name = "ADDR")]
        metrics_listen: Option<SocketAddr>,
    },
    /// Check the configuration `serve` would run with, and say how to fix what is wrong.
    ///
    /// Checks the database (reachable, migrated), the data directory and the
    /// files store (writable), free disk, the SMS provider settings, the TCP
    /// and UDP ports, the calls' public address and the cookies behind HTTPS.
    /// Exits non-zero when something would fail. Run it as the user Parta runs as.
    Doctor {
        #[command(flatten)]
        place: Place,
    },
    /// Write a consistent copy of the data to one archive, while Parta runs.
    ///
    /// SQLite is copied with VACUUM INTO; the local files store is included.
    /// On PostgreSQL the archive holds the files and the command prints the
    /// pg_dump to run; S3 files are left to the storage's own tools.
    Backup {
        /// The archive to write (a tar file; must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        place: Place,
    },
    /// Restore an archive made by `parta backup` into an empty data directory.
    ///
    /// Refuses a data directory (or files folder) that is not empty. Start
    /// Parta afterwards: the migrations of a newer version apply at start.
    Restore {
        /// The archive made by `parta backup`.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        place: Place,
    },
    /// Import a school roster.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Bring the automatic chats in line with the roster and the linked profiles.
    ///
    /// Prints the plan (chats to create, rename, hide or archive; people to add
    /// or remove, with reasons) and applies it unless --dry-run. Parta does this
    /// by itself after every change and at start; this command shows it or
    /// forces it.
    Provision {
        /// Only this organisation (its id, as the portal shows it).
        #[arg(long)]
        org: Option<i64>,
        /// Print the plan without changing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        place: Place,
    },
    /// Look for what in the data needs a person's attention.
    #[command(subcommand)]
    Check(CheckCommand),
}

#[derive(Subcommand)]
enum CheckCommand {
    /// List Parta IDs that hold a student's school account together with
    /// somebody else's.
    ///
    /// One Parta ID is one human: a student's school account never shares it.
    /// Databases from before that rule may hold such mixes (a child registered
    /// on a parent's phone, siblings on one phone), and the child then sees the
    /// adult's chats. Nothing is changed: each mix is listed with what to do.
    /// Exits with status 1 when there is any.
    Identities {
        #[command(flatten)]
        place: Place,
    },
}

/// Where the data lives: every command that touches data takes these.
#[derive(Args)]
struct Place {
    /// The data directory (holds the SQLite database unless database_url says otherwise).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl Place {
    /// The configuration of a command that runs beside (or instead of) `serve`.
    fn config(self) -> Result<Config> {
        Config::load(
            Overrides { config_file: self.config, data_dir: self.data, ..Overrides::default() },
            "./parta-data",
        )
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct DemoCommand {
    #[command(subcommand)]
    action: Option<DemoAction>,
    /// Data directory of the demo [default: ./parta-demo].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free one.
    #[arg(long)]
    listen: Option<SocketAddr>,
}

#[derive(Subcommand)]
enum DemoAction {
    /// Write a synthetic region (N schools) as a OneRoster 1.2 CSV package, for load tests.
    GenerateOneroster {
        /// Number of schools (each ~1,000 students, ~2,000 guardians, ~80 staff).
        #[arg(long, default_value_t = 10)]
        schools: u32,
        /// Output folder (created; must be empty or absent).
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import a OneRoster 1.1 or 1.2 CSV package (a folder or a .zip).
    ///
    /// All or nothing: a package with any error changes nothing. See docs/oneroster.md.
    Oneroster {
        path: PathBuf,
        /// Check the package and print what would change, without changing anything.
        #[arg(long)]
        dry_run: bool,
        /// Do not update the automatic chats afterwards (for a first bulk load
        /// of a region: run `parta provision` when it is done).
        #[arg(long)]
        skip_chats: bool,
        #[command(flatten)]
        place: Place,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo(DemoCommand { action: Some(DemoAction::GenerateOneroster { schools, out }), .. }) => {
            generate(schools, &out)
        }
        Command::Demo(DemoCommand { action: None, data, config, listen }) => {
            let cfg = Config::load(
                Overrides { config_file: config, data_dir: data, listen, ..Overrides::default() },
                "./parta-demo",
            )?;
            demo(cfg).await
        }
        Command::Serve { place, listen, metrics_listen } => {
            let cfg = Config::load(
                Overrides { config_file: place.config, data_dir: place.data, listen, metrics_listen },
                "./parta-data",
            )?;
            init_logging(&cfg);
            let metrics = start_metrics(&cfg).await?;
            let sms = cfg.sms.build(false).context("the [sms] configuration is not valid")?;
            let store = open_store(&cfg).await?;
            let state = server::AppState::new(store, sms);
            serve(cfg, state, metrics).await
        }
        Command::Doctor { place } => {
            let cfg = place.config()?;
            if doctor::report(&doctor::check(&cfg).await) { Ok(()) } else { std::process::exit(1) }
        }
        Command::Backup { to, place } => backup::backup(&place.config()?, &to).await,
        Command::Restore { from, place } => backup::restore(&place.config()?, &from).await,
        Command::Provision { org, dry_run, place } => {
            let cfg = place.config()?;
            init_logging(&cfg);
            let store = open_store(&cfg).await?;
            let orgs = match org {
                Some(id) => vec![OrgId(id)],
                None => store.orgs().await?.into_iter().map(|o| o.id).collect(),
            };
            let run = if dry_run { Run::DryRun } else { Run::Apply };
            let changes = provision(&store, &orgs, run, true).await?;
            if !dry_run {
                let purged = store.purge_deleted_chats(chrono::Utc::now().timestamp()).await?;
                if !purged.is_empty() {
                    println!("{} deleted chats purged (deleted more than 30 days ago)", purged.len());
                }
            }
            if changes == 0 {
                println!("nothing to do: the chats match the roster");
            } else if dry_run {
                println!("dry run: {changes} changes planned, nothing was changed");
            }
            Ok(())
        }
        Command::Check(CheckCommand::Identities { place }) => {
            let cfg = place.config()?;
            init_logging(&cfg);
            check_identities(&open_store(&cfg).await?).await
        }
        Command::Import(ImportCommand::Oneroster { path, dry_run, skip_chats, place }) => {
            let cfg = place.config()?;
            init_logging(&cfg);
            import(&cfg, &path, dry_run, skip_chats).await
        }
    }
}

async fn check_identities(store: &Store) -> Result<()> {
    let mixed = store.mixed_parta_ids().await?;
    if mixed.is_empty() {
        println!("no Parta ID mixes a student with other people");
        return Ok(());
    }
    println!("{} Parta IDs hold a student's school account together with somebody else's:", mixed.len());
    for id in &mixed {
        let phone = id.phone.as_deref().and_then(|p| identity::Phone::parse(p).ok()).map(|p| p.masked());
        let holders: Vec<String> = id
            .holders
            .iter()
            .map(|h| {
                let role = if h.student { "student, " } else { "" };
                format!("{} {} ({role}{})", h.last_name, h.first_name, h.org_name)
            })
            .collect();
        println!("  Parta ID {} ({}): {}", id.account_id, phone.as_deref().unwrap_or("no phone"), holders.join("; "));
    }
    println!(
        "What to do: a guardian of each student listed opens «Дети» (the messenger's settings, or the portal's \
         «Чаты» window) and creates a child profile; the child's chats and history move to it. A student with a \
         phone of their own links it instead. School administrators see the same list in the portal."
    );
    bail!("{} Parta IDs need attention (listed above)", mixed.len())
}

fn init_logging(cfg: &Config) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cfg.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // journald and log files get no colour codes.
        .with_ansi(console_is_interactive());
    match cfg.log_format {
        LogFormat::Text => logs.init(),
        // The spans carry the request id: every line of a request names it.
        LogFormat::Json => logs.json().with_span_list(true).with_current_span(false).init(),
    }
}

async fn open_store(cfg: &Config) -> Result<Store> {
    cfg.prepare_data_dir()?;
    Store::open(&cfg.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&cfg.database_url)))
}

/// Hides a password in a database URL before it reaches a terminal or a log.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The metrics listener, bound and with its recorder installed.
struct Metrics {
    listener: tokio::net::TcpListener,
    handle: server::metrics::PrometheusHandle,
}

/// Binds `metrics_listen`, when set, and installs the recorder: before the
/// server state is built, since its writer and SFU take their handles then.
async fn start_metrics(cfg: &Config) -> Result<Option<Metrics>> {
    let Some(addr) = cfg.metrics_listen else { return Ok(None) };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for metrics (metrics_listen)"))?;
    let handle = server::metrics::install().context("cannot start the metrics recorder")?;
    Ok(Some(Metrics { listener, handle }))
}

async fn serve(cfg: Config, mut state: server::AppState, metrics: Option<Metrics>) -> Result<()> {
    raise_open_files_limit();
    state.secure_cookies = cfg.secure_cookies;
    state.connections = std::sync::Arc::new(server::connections::Connections::new(cfg.connections.clone()));
    state.flood = std::sync::Arc::new(server::flood::Flood::in_memory(cfg.flood));
    let blobs = blobs::Blobs::open(&cfg.files, &cfg.data_dir).context("cannot open the file storage ([files])")?;
    state.files = server::messenger::files::Files::new(blobs, cfg.max_upload_bytes);
    if let Some(servers) = &cfg.nats_urls {
        let node = node_name(cfg.listen);
        let (link, streams) =
            cluster::Link::connect(servers, &node).await.context("cannot start the NATS client (nats_url)")?;
        if state.store.backend() == "sqlite" {
            tracing::warn!("nats_url is set with an SQLite database: only nodes on this machine can share it");
        }
        tracing::info!(%node, ?servers, "cluster mode: one node of several");
        state.join_cluster(link, streams);
    }
    state.default_quiet = messenger::quiet::QuietHours::school_default(cfg.time_zone);
    state.start_push(&cfg.push).await.context("cannot start Web Push ([push])")?;
    state.start_calls(cfg.calls.clone()).await.context("cannot start calls ([calls])")?;
    // Reconciliation at start, purges, the file collector: on one node of the cluster.
    let _jobs = server::jobs::spawn(state.clone());
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("cannot listen on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    if let Some(Metrics { listener, handle }) = metrics {
        let metrics_addr = listener.local_addr()?;
        tracing::info!(%metrics_addr, "metrics at /metrics");
        println!("Metrics at http://{metrics_addr}/metrics");
        // Ends with the process: a scrape during shutdown may still see the last figures.
        tokio::spawn(async move {
            if let Err(e) = server::metrics::serve(listener, handle, std::future::pending()).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        });
    }
    // Browser tests and scripts wait for exactly this line.
    println!("Parta is running at http://{addr}");
    tracing::info!(%addr, backend = state.store.backend(), "listening");
    server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// This process's name among the nodes: the machine, the port, the process
/// and its start (a node restarted is a new node: the others forget the old).
fn node_name(listen: std::net::SocketAddr) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "parta".into());
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let name = format!("{}:{}-{}-{:x}", host.trim(), listen.port(), std::process::id(), started.as_millis() % 0x10000);
    cluster::subject_safe(&name)
}

/// Every connection is a file descriptor, and systemd's usual soft limit of
/// 1,024 let 1,100 idle connections stop the service: the soft limit goes up
/// to the hard one, which the administrator controls.
fn raise_open_files_limit() {
    let before = rlimit::Resource::NOFILE.get();
    match (before, rlimit::increase_nofile_limit(u64::MAX)) {
        (Ok((soft, hard)), Ok(now)) if now > soft => {
            tracing::info!(from = soft, to = now, hard, "open-files limit raised");
        }
        (_, Ok(now)) => tracing::info!(limit = now, "open-files limit"),
        (_, Err(e)) => tracing::warn!(error = %e, "cannot raise the open-files limit"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
}

async fn demo(cfg: Config) -> Result<()> {
    init_logging(&cfg);
    let metrics = start_metrics(&cfg).await?;
    let store = open_store(&cfg).await?;
    if store.is_empty().await? {
        let seed = tempfile::tempdir().context("cannot create a temporary folder for the demo package")?;
        demo::write_demo_package(seed.path()).context("cannot write the demo package")?;
        let package = oneroster::read_package(seed.path(), &mut |_, _| {})
            .map_err(|e| anyhow::anyhow!("the demo package is invalid: {e}"))?;
        let summary =
            store.apply_import(&package.batch, Run::Apply, &server::auth::hash_password).await.map_err(import_error)?;
        tracing::info!("demo school created:\n{summary}");
    }
    let accounts: Vec<server::DemoAccount> = demo::demo_accounts()
        .into_iter()
        .map(|a| server::DemoAccount {
            role: a.role.to_string(),
            name: a.name,
            login: a.login,
            password: a.password,
            org: a.org,
            note: a.note,
        })
        .collect();
    let orgs: Vec<OrgId> = store.orgs().await?.into_iter().map(|o| o.id).collect();
    provision(&store, &orgs, Run::Apply, false).await?;
    println!("Parta demo — data in {}", cfg.data_dir.display());
    println!("{}", accounts_table(&accounts));
    // With the development sender, codes appear on the page instead of a phone.
    let sms = cfg.sms.build(true).context("the [sms] configuration is not valid")?;
    let state = server::AppState::demo(store, accounts, sms);
    serve(cfg, state, metrics).await
}

fn accounts_table(accounts: &[server::DemoAccount]) -> String {
    let header = ["role", "name", "login", "password", "organisation"];
    let rows: Vec<[&str; 5]> =
        accounts.iter().map(|a| [a.role.as_str(), &a.name, &a.login, &a.password, &a.org]).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    std::iter::once(header)
        .chain(rows)
        .map(|cells| {
            let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
            padded.join("  ").trim_end().to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn import_error(e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Rejected(problems) => {
            let mut text = format!("the package was refused, nothing was imported ({} problems):", problems.len());
            for (origin, message) in problems.iter().take(50) {
                text.push_str(&format!("\n  {origin}: {message}"));
            }
            if problems.len() > 50 {
                text.push_str(&format!("\n  … and {} more", problems.len() - 50));
            }
            anyhow::anyhow!(text)
        }
        ImportError::Storage(e) => anyhow::Error::new(e).context("the import failed, nothing was imported"),
    }
}

/// Reconciles the organisations' chats; prints each non-empty plan when `print`.
/// Returns the number of changes.
async fn provision(store: &Store, orgs: &[OrgId], run: Run, print: bool) -> Result<usize> {
    let progress = bar(orgs.len() as u64, "chats    [{bar:40}] {pos}/{len} organisations ({eta})");
    let now = chrono::Utc::now().timestamp();
    let mut changes = 0;
    for org in orgs {
        let plan = store.reconcile(*org, run, now).await.with_context(|| format!("organisation {org}"))?;
        changes += plan.change_count();
        if print && !plan.is_empty() {
            progress.suspend(|| println!("{plan}"));
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    Ok(changes)
}

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = if console_is_interactive() { ProgressBar::new(len) } else { ProgressBar::hidden() };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn console_is_interactive() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

async fn import(cfg: &Config, path: &Path, dry_run: bool, skip_chats: bool) -> Result<()> {
    let started = Instant::now();
    let store = open_store(cfg).await?;
    let reading = bar(0, "reading  [{bar:40}] {bytes}/{total_bytes} ({eta})");
    let package = oneroster::read_package(path, &mut |done, total| {
        reading.set_length(total);
        reading.set_position(done);
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    reading.finish_and_clear();
    for warning in &package.warnings {
        eprintln!("warning: {warning}");
    }
    let read_secs = started.elapsed().as_secs_f64();
    let applying = bar(0, "{spinner} applying to the database… {elapsed}");
    applying.enable_steady_tick(std::time::Duration::from_millis(200));
    let run = if dry_run { Run::DryRun } else { Run::Apply };
    let summary = store.apply_import(&package.batch, run, &server::auth::hash_password).await.map_err(import_error)?;
    applying.finish_and_clear();
    drop(package);
    let secs = started.elapsed().as_secs_f64();
    let rows: u64 = summary.entities.iter().map(|(_, c)| c.added + c.changed + c.deactivated).sum();
    println!("{summary}");
    println!(
        "{rows} rows in {secs:.1} s (reading {read_secs:.1} s) — {:.0} rows/s, peak memory {}",
        rows as f64 / secs.max(1e-9),
        peak_rss().unwrap_or_else(|| "unknown".into())
    );
    if dry_run {
        println!("dry run: nothing was changed");
    } else if skip_chats {
        println!("chats not updated: run `parta provision` to bring them in line with the roster");
    } else {
        let chats_started = Instant::now();
        let orgs: Vec<OrgId> = store.orgs().await?.into_iter().map(|o| o.id).collect();
        let changes = provision(&store, &orgs, Run::Apply, false).await?;
        println!("chats: {changes} changes in {:.1} s", chats_started.elapsed().as_secs_f64());
    }
    store.close().await;
    Ok(())
}

/// The process's peak resident memory, from Linux's /proc.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(format!("{:.0} MiB", kib as f64 / 1024.0))
}

fn generate(schools: u32, out: &Path) -> Result<()> {
    if out.exists() && out.read_dir().map(|mut d| d.next().is_some()).unwrap_or(true) {
        bail!("{} exists and is not an empty folder", out.display());
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let started = Instant::now();
    let progress = bar(u64::from(schools), "writing  [{bar:40}] {pos}/{len} schools ({eta})");
    let stats = demo::write_region_package(out, schools, &mut |n| progress.set_position(u64::from(n)))
        .with_context(|| format!("cannot write the package to {}", out.display()))?;
    progress.finish_and_clear();
    println!("{stats:?}");
    println!("written to {} in {:.1} s", out.display(), started.elapsed().as_secs_f64());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_never_reach_the_terminal() {
        assert_eq!(redact("postgres://parta:s3cret@db:5432/parta"), "postgres://parta:***@db:5432/parta");
        assert_eq!(redact("postgres://parta@db/parta"), "postgres://parta@db/parta");
        assert_eq!(redact("sqlite://./parta.db"), "sqlite://./parta.db");
    }

    #[test]
    fn the_help_text_explains_every_command() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        for word in [
            "demo",
            "serve",
            "import",
            "doctor",
            "backup",
            "restore",
            "PARTA_DATABASE_URL",
            "PARTA_METRICS_LISTEN",
            "PARTA_LOG_FORMAT",
        ] {
            assert!(help.contains(word), "--help must mention {word}");
        }
    }
}
