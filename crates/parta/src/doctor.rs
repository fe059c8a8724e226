//! `parta doctor`: checks the configuration `parta serve` would run with and
//! says, for each problem, what is wrong and how to fix it. Nothing is
//! changed, except probe files written and removed again to prove a folder
//! (or a bucket) is writable. Problems make the exit status non-zero;
//! warnings do not.

use crate::config::Config;
use std::fmt;
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;
use storage::maintenance::{self, Schema};

/// Below this much free space Parta soon fails to commit or to store uploads.
const DISK_PROBLEM_BYTES: u64 = 1 << 30;
const DISK_WARNING_BYTES: u64 = 5 << 30;
const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Skipped,
    Warning,
    Problem,
}

/// One line of the report: what was checked, what was found, and the fix.
#[derive(Debug)]
pub struct Finding {
    pub level: Level,
    pub area: &'static str,
    pub what: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(area: &'static str, what: impl Into<String>) -> Finding {
        Finding { level: Level::Ok, area, what: what.into(), fix: None }
    }
    fn skipped(area: &'static str, what: impl Into<String>) -> Finding {
        Finding { level: Level::Skipped, area, what: what.into(), fix: None }
    }
    fn warning(area: &'static str, what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Warning, area, what: what.into(), fix: Some(fix.into()) }
    }
    fn problem(area: &'static str, what: impl Into<String>, fix: impl Into<String>) -> Finding {
        Finding { level: Level::Problem, area, what: what.into(), fix: Some(fix.into()) }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.level {
            Level::Ok => "ok",
            Level::Skipped => "skip",
            Level::Warning => "WARNING",
            Level::Problem => "PROBLEM",
        };
        write!(f, "{tag:<8} {:<9} {}", self.area, self.what)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n{:<18} fix: {fix}", "")?;
        }
        Ok(())
    }
}

/// Runs every check of `cfg`.
pub async fn check(cfg: &Config) -> Vec<Finding> {
    let mut findings = vec![check_data_dir(&cfg.data_dir)];
    findings.push(check_database(cfg).await);
    findings.extend(check_disk(cfg));
    findings.push(check_files(cfg).await);
    findings.push(check_sms(cfg));
    findings.push(check_tcp("listen", cfg.listen, "listen (PARTA_LISTEN)"));
    match cfg.metrics_listen {
        Some(addr) => {
            findings.push(check_tcp("metrics", addr, "metrics_listen (PARTA_METRICS_LISTEN)"));
            if !addr.ip().is_loopback() {
                findings.push(Finding::warning(
                    "metrics",
                    format!("metrics are served on {addr}, reachable from the network"),
                    "let only your monitoring reach this port (a firewall rule), or listen on 127.0.0.1",
                ));
            }
        }
        None => findings.push(Finding::skipped("metrics", "metrics_listen is not set: no /metrics")),
    }
    findings.extend(check_calls(cfg));
    findings.push(check_public_url(cfg));
    findings.extend(check_cluster(cfg).await);
    findings
}

/// NATS reachable, and what several nodes need besides: one database and one
/// files store they all reach.
async fn check_cluster(cfg: &Config) -> Vec<Finding> {
    let Some(servers) = &cfg.nats_urls else {
        return vec![Finding::skipped("nats", "nats_url is not set: one node, messages fan out in process")];
    };
    let mut findings = vec![match tokio::time::timeout(TIMEOUT * 2, cluster::probe(servers)).await {
        Ok(Ok(())) => Finding::ok("nats", format!("{servers:?} takes this node")),
        Ok(Err(e)) => Finding::problem(
            "nats",
            format!("{servers:?}: {e}"),
            "check nats_url (PARTA_NATS_URL): the addresses, the user and password, and that this machine reaches them",
        ),
        Err(_) => Finding::problem(
            "nats",
            format!("{servers:?} did not answer in {} s", (TIMEOUT * 2).as_secs()),
            "check nats_url (PARTA_NATS_URL) and that this machine reaches it",
        ),
    }];
    if cfg.database_url.starts_with("sqlite:") {
        findings.push(Finding::warning(
            "nats",
            "several nodes on an SQLite database: only nodes on this one machine can share it",
            "give every node the same PostgreSQL database_url (docs/deployment.md)",
        ));
    }
    if cfg.local_files_dir().is_some() {
        findings.push(Finding::warning(
            "nats",
            "several nodes with a local files store: a file uploaded through one node is missing on the others",
            "use [files] backend = \"s3\" on every node (docs/configuration.md, File storage)",
        ));
    }
    findings
}

/// Prints the report; true when nothing would fail.
pub fn report(findings: &[Finding]) -> bool {
    for finding in findings {
        println!("{finding}");
    }
    let problems = findings.iter().filter(|f| f.level == Level::Problem).count();
    let warnings = findings.iter().filter(|f| f.level == Level::Warning).count();
    match (problems, warnings) {
        (0, 0) => println!("\nall checks passed"),
        (0, w) => println!("\nno problems, {w} warning{}", plural(w)),
        (p, w) => println!(
            "\n{p} problem{} and {w} warning{}: Parta would not start or not work as configured",
            plural(p),
            plural(w)
        ),
    }
    problems == 0
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn check_data_dir(dir: &Path) -> Finding {
    match probe_dir(dir) {
        Ok(()) => Finding::ok("data", format!("{} is writable", dir.display())),
        Err(e) => Finding::problem(
            "data",
            format!("cannot write in the data directory {}: {e}", dir.display()),
            format!(
                "create it and give it to the user Parta runs as (`install -d -o parta -g parta {}`), \
                 or set data_dir (PARTA_DATA_DIR)",
                dir.display()
            ),
        ),
    }
}

/// Creates `dir` if needed, then writes and removes a file in it.
fn probe_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = tempfile::Builder::new().prefix(".parta-doctor-").tempfile_in(dir)?;
    probe.close()
}

async fn check_database(cfg: &Config) -> Finding {
    let url = crate::redact(&cfg.database_url);
    match maintenance::schema(&cfg.database_url, TIMEOUT).await {
        Ok(Schema::Missing) => Finding::ok("database", format!("{url} does not exist yet: the first start creates it")),
        Ok(Schema::Current { version }) => {
            Finding::ok("database", format!("{url} is reachable and migrated (migration {version})"))
        }
        Ok(Schema::Behind { version: None, pending }) => Finding::ok(
            "database",
            format!("{url} is reachable and empty: the first start creates the schema ({} migrations)", pending.len()),
        ),
        Ok(Schema::Behind { version: Some(version), pending }) => Finding::warning(
            "database",
            format!("{url} is at migration {version}; this version applies {pending:?} at its next start"),
            "back up first (`parta backup --to FILE`, or pg_dump): an upgrade cannot be undone",
        ),
        Ok(Schema::Ahead { unknown }) => Finding::problem(
            "database",
            format!("{url} was migrated by a newer Parta (migrations {unknown:?} are unknown to this one)"),
            "install the newer Parta again, or restore a backup made before the upgrade",
        ),
        Ok(Schema::Dirty { version }) => Finding::problem(
            "database",
            format!("{url}: migration {version} started and failed"),
            "restore the backup made before the upgrade, then report the failure with the log of that start",
        ),
        Err(e) => Finding::problem(
            "database",
            format!("cannot reach the database {url}: {e}"),
            if cfg.database_url.starts_with("sqlite:") {
                "check database_url (PARTA_DATABASE_URL) and that the user Parta runs as may read the file".into()
            } else {
                format!(
                    "check database_url (PARTA_DATABASE_URL): host, port, user, password and database name; \
                     try `psql '{url}' -c 'select 1'`"
                )
            },
        ),
    }
}

fn check_disk(cfg: &Config) -> Vec<Finding> {
    let mut places = vec![cfg.data_dir.clone()];
    places.extend(cfg.local_files_dir());
    let mut file_systems = Vec::new();
    let mut findings = Vec::new();
    for place in places {
        let free = match free_space(&place) {
            // A files store inside the data directory shares its disk: one line.
            Ok((fsid, _)) if file_systems.contains(&fsid) => continue,
            Ok((fsid, free)) => {
                file_systems.push(fsid);
                free
            }
            Err(e) => {
                findings.push(Finding::warning(
                    "disk",
                    format!("cannot tell the free space for {}: {e}", place.display()),
                    "check the folder exists",
                ));
                continue;
            }
        };
        let what = format!("{:.1} GB free for {}", free as f64 / 1e9, place.display());
        findings.push(if free < DISK_PROBLEM_BYTES {
            Finding::problem(
                "disk",
                what,
                "free some space or move data_dir (or [files] path) to a larger disk: commits and uploads fail \
                 when the disk is full",
            )
        } else if free < DISK_WARNING_BYTES {
            Finding::warning("disk", what, "plan more space: attachments grow the files store by every upload")
        } else {
            Finding::ok("disk", what)
        });
    }
    findings
}

/// The file system that holds `place` (or would, once created) and the
/// space free on it for an unprivileged user.
fn free_space(place: &Path) -> std::io::Result<(u64, u64)> {
    let existing: PathBuf =
        place.ancestors().find(|p| p.exists()).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
    let stats = rustix::fs::statvfs(&existing)?;
    Ok((stats.f_fsid, stats.f_bavail.saturating_mul(stats.f_frsize)))
}

async fn check_files(cfg: &Config) -> Finding {
    match (&cfg.files, cfg.local_files_dir()) {
        (_, Some(dir)) => match probe_dir(&dir) {
            Ok(()) => Finding::ok("files", format!("{} is writable", dir.display())),
            Err(e) => Finding::problem(
                "files",
                format!("cannot write in the files store {}: {e}", dir.display()),
                "give the folder to the user Parta runs as, or set [files] path (PARTA_FILES_DIR)",
            ),
        },
        (blobs::BlobConfig::S3 { bucket, .. }, None) => {
            match tokio::time::timeout(Duration::from_secs(15), probe_bucket(cfg)).await {
                Ok(Ok(())) => Finding::ok("files", format!("S3 bucket {bucket:?} takes and deletes an object")),
                Ok(Err(e)) => Finding::problem(
                    "files",
                    format!("S3 bucket {bucket:?}: {e:#}"),
                    "check [files] endpoint, region, bucket and keys; the keys need put, get and delete",
                ),
                Err(_) => Finding::problem(
                    "files",
                    format!("S3 bucket {bucket:?} did not answer in 15 s"),
                    "check [files] endpoint and that this machine reaches it",
                ),
            }
        }
        (blobs::BlobConfig::Local { .. }, None) => Finding::skipped("files", "no local folder"),
    }
}

async fn probe_bucket(cfg: &Config) -> anyhow::Result<()> {
    let blobs = blobs::Blobs::open(&cfg.files, &cfg.data_dir)?;
    let probe = format!("parta doctor {}", chrono::Utc::now().to_rfc3339());
    let sha = blobs.put_bytes(probe.into()).await?;
    blobs.delete(&sha).await?;
    Ok(())
}

fn check_sms(cfg: &Config) -> Finding {
    match &cfg.sms {
        sms::SmsConfig::Log => Finding::warning(
            "sms",
            "SMS codes are only written to the log: nobody can confirm a phone number",
            "configure your SMS provider in [sms] (docs/configuration.md, \"SMS provider\")",
        ),
        _ => match cfg.sms.build(false) {
            Ok(_) => Finding::ok("sms", "the [sms] provider settings are complete"),
            Err(e) => Finding::problem("sms", format!("the [sms] settings are not valid: {e}"), "correct [sms]"),
        },
    }
}

fn check_tcp(area: &'static str, addr: SocketAddr, key: &str) -> Finding {
    match TcpListener::bind(addr) {
        Ok(_) => Finding::ok(area, format!("{addr} is free to listen on")),
        Err(e) => Finding::problem(
            area,
            format!("cannot listen on {addr}: {e}"),
            format!(
                "if Parta is already running there this is expected; otherwise another program holds the port \
                 (`ss -ltnp 'sport = :{}'`): stop it or change {key}",
                addr.port()
            ),
        ),
    }
}

fn check_calls(cfg: &Config) -> Vec<Finding> {
    let calls = &cfg.calls;
    if !calls.enabled {
        return vec![Finding::skipped("calls", "calls are switched off ([calls] enabled = false)")];
    }
    let mut findings = Vec::new();
    if calls.udp_bind.ip().is_unspecified() && calls.advertise.is_none() {
        findings.push(Finding::problem(
            "calls",
            format!("[calls] udp_bind is {} but no address is advertised to browsers", calls.udp_bind),
            "set [calls] advertise (PARTA_CALLS_ADVERTISE) to the address phones and PCs reach this server at",
        ));
    } else if calls.udp_bind.ip().is_loopback() {
        findings.push(Finding::warning(
            "calls",
            format!("the SFU listens on {}: calls work only between browsers on this machine", calls.udp_bind),
            "set [calls] udp_bind = \"0.0.0.0:3479\" and advertise (docs/configuration.md, \"Calls\")",
        ));
    }
    let ports: Vec<SocketAddr> = if calls.udp_bind.port() == 0 {
        vec![calls.udp_bind]
    } else {
        (0..calls.media_threads)
            .map(|i| SocketAddr::new(calls.udp_bind.ip(), calls.udp_bind.port().saturating_add(i as u16)))
            .collect()
    };
    for addr in ports {
        findings.push(match UdpSocket::bind(addr) {
            Ok(_) => Finding::ok("calls", format!("UDP {addr} is free for the SFU")),
            Err(e) => Finding::problem(
                "calls",
                format!("cannot bind UDP {addr} for calls: {e}"),
                format!(
                    "if Parta is already running this is expected; otherwise free the port (`ss -lunp 'sport = :{}'`) \
                     or change [calls] udp_bind (PARTA_CALLS_UDP_BIND)",
                    addr.port()
                ),
            ),
        });
    }
    findings
}

fn check_public_url(cfg: &Config) -> Finding {
    match cfg.public_url.as_deref() {
        Some(url) if url.starts_with("https://") && !cfg.secure_cookies => Finding::problem(
            "cookies",
            format!("people open {url} over HTTPS but cookies are not marked Secure"),
            "set secure_cookies = true (PARTA_SECURE_COOKIES=true)",
        ),
        Some(url) if url.starts_with("https://") => {
            Finding::ok("cookies", format!("{url} is HTTPS and cookies are Secure"))
        }
        Some(url) if url.starts_with("http://") && cfg.secure_cookies => Finding::problem(
            "cookies",
            format!("secure_cookies is on but people open {url} over plain HTTP: browsers would drop the cookies"),
            "serve Parta behind HTTPS and set public_url to the https:// address, or set secure_cookies = false",
        ),
        Some(url) if url.starts_with("http://") => Finding::warning(
            "cookies",
            format!("people open {url} over plain HTTP: passwords and messages cross the network readable"),
            "put Parta behind an HTTPS reverse proxy, then set public_url to https://… and secure_cookies = true",
        ),
        Some(url) => Finding::problem(
            "cookies",
            format!("public_url {url:?} is not an http:// or https:// address"),
            "set public_url to the address people open, e.g. https://parta.school.ru",
        ),
        None if cfg.listen.ip().is_loopback() => {
            Finding::ok("cookies", "Parta listens on loopback only; public_url is not needed")
        }
        None => Finding::warning(
            "cookies",
            format!("Parta listens on {} and public_url is not set", cfg.listen),
            "set public_url (PARTA_PUBLIC_URL) to the address people open, so this check can tell whether \
             cookies must be Secure",
        ),
    }
}
