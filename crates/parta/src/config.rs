//! Configuration: built-in defaults, then a TOML file, then `PARTA_*`
//! environment variables, then command-line flags — each layer overriding the
//! one before. The defaults run a single school on SQLite out of the box.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What a config file may set. Every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on, e.g. "0.0.0.0:8080".
    pub listen: Option<SocketAddr>,
    /// `sqlite://path/to/parta.db` or `postgres://user@host/db`.
    pub database_url: Option<String>,
    /// Where Parta keeps its files (the SQLite database by default).
    pub data_dir: Option<PathBuf>,
    /// Mark cookies `Secure`: set when Parta is behind HTTPS.
    pub secure_cookies: Option<bool>,
    /// A tracing filter, e.g. "info" or "info,parta=debug".
    pub log: Option<String>,
    /// `text` (the default) or `json`: one JSON object per line, for a log collector.
    pub log_format: Option<LogFormat>,
    /// Where Prometheus scrapes `/metrics`, e.g. "127.0.0.1:9464". Off when absent.
    pub metrics_listen: Option<SocketAddr>,
    /// The address people open, e.g. "https://parta.school.ru": `parta doctor`
    /// checks that cookies are `Secure` behind HTTPS.
    pub public_url: Option<String>,
    /// How SMS codes are delivered (`[sms]`, see docs/configuration.md).
    pub sms: Option<sms::SmsConfig>,
    /// The largest upload in megabytes, for schools that set no limit of their own.
    pub max_upload_mb: Option<u64>,
    /// Where attachments are stored (`[files]`: `backend = "local"` with an
    /// optional `path`, or `backend = "s3"`, see docs/configuration.md).
    pub files: Option<blobs::BlobConfig>,
    /// Audio and video calls (`[calls]`: the SFU's UDP address, the address
    /// to advertise, ICE servers; see docs/configuration.md).
    pub calls: Option<server::messenger::calls::CallsConfig>,
    /// Timeouts and the per-address cap on connections (`[connections]`).
    pub connections: Option<server::connections::ConnectionLimits>,
    /// How fast one person may post, react, type and call (`[flood]`).
    pub flood: Option<messenger::flood::Limits>,
}

/// The configuration in force.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub secure_cookies: bool,
    pub log: String,
    pub log_format: LogFormat,
    pub metrics_listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub sms: sms::SmsConfig,
    pub max_upload_bytes: u64,
    pub files: blobs::BlobConfig,
    pub calls: server::messenger::calls::CallsConfig,
    pub connections: server::connections::ConnectionLimits,
    pub flood: messenger::flood::Limits,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Lines for a person reading a terminal or `journalctl`.
    #[default]
    Text,
    /// One JSON object per line, for Loki, Elasticsearch and the like.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => anyhow::bail!("{s:?} is not a log format: use text or json"),
        }
    }
}

/// Values given on the command line, which win over everything else.
#[derive(Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub metrics_listen: Option<SocketAddr>,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 100;

impl Config {
    /// `default_data_dir` differs per command: `demo` keeps its own database.
    pub fn load(overrides: Overrides, default_data_dir: &str) -> Result<Config> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let config_file = overrides.config_file.or_else(|| env("PARTA_CONFIG").map(PathBuf::from));
        let file = match &config_file {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = overrides
            .data_dir
            .or_else(|| env("PARTA_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(default_data_dir));
        let listen = match (overrides.listen, env("PARTA_LISTEN")) {
            (Some(addr), _) => addr,
            (None, Some(v)) => {
                v.parse().with_context(|| format!("PARTA_LISTEN={v:?} is not an address like 127.0.0.1:8080"))?
            }
            (None, None) => match file.listen {
                Some(addr) => addr,
                None => DEFAULT_LISTEN.parse()?,
            },
        };
        let database_url =
            env("PARTA_DATABASE_URL").or(file.database_url).unwrap_or_else(|| sqlite_url(&data_dir.join("parta.db")));
        let secure_cookies = match env("PARTA_SECURE_COOKIES") {
            Some(v) => parse_bool(&v).with_context(|| format!("PARTA_SECURE_COOKIES={v:?} is not true or false"))?,
            None => file.secure_cookies.unwrap_or(false),
        };
        let log = env("PARTA_LOG").or(file.log).unwrap_or_else(|| "info".to_string());
        let log_format = match env("PARTA_LOG_FORMAT") {
            Some(v) => v.parse().context("PARTA_LOG_FORMAT")?,
            None => file.log_format.unwrap_or_default(),
        };
        let metrics_listen = match (overrides.metrics_listen, env("PARTA_METRICS_LISTEN")) {
            (Some(addr), _) => Some(addr),
            (None, Some(v)) => Some(
                v.parse()
                    .with_context(|| format!("PARTA_METRICS_LISTEN={v:?} is not an address like 127.0.0.1:9464"))?,
            ),
            (None, None) => file.metrics_listen,
        };
        if metrics_listen.is_some_and(|m| m.port() != 0 && m.port() == listen.port() && same_host(m, listen)) {
            anyhow::bail!(
                "metrics_listen must not be the public address {listen}: metrics are for your monitoring only"
            );
        }
        let public_url = env("PARTA_PUBLIC_URL").or(file.public_url);
        let max_upload_mb = match env("PARTA_MAX_UPLOAD_MB") {
            Some(v) => v.parse().with_context(|| format!("PARTA_MAX_UPLOAD_MB={v:?} is not a number of megabytes"))?,
            None => file.max_upload_mb.unwrap_or(DEFAULT_MAX_UPLOAD_MB),
        };
        let files = match env("PARTA_FILES_DIR") {
            Some(dir) => blobs::BlobConfig::Local { path: Some(PathBuf::from(dir)) },
            None => file.files.unwrap_or_default(),
        };
        let mut calls = file.calls.unwrap_or_default();
        if let Some(v) = env("PARTA_CALLS_UDP_BIND") {
            calls.udp_bind =
                v.parse().with_context(|| format!("PARTA_CALLS_UDP_BIND={v:?} is not an address like 0.0.0.0:3479"))?;
        }
        if let Some(v) = env("PARTA_CALLS_ADVERTISE") {
            calls.advertise =
                Some(v.parse().with_context(|| format!("PARTA_CALLS_ADVERTISE={v:?} is not an IP address"))?);
        }
        if let Some(v) = env("PARTA_CALLS_MEDIA_THREADS") {
            calls.media_threads =
                v.parse().ok().filter(|n| *n >= 1).with_context(|| {
                    format!("PARTA_CALLS_MEDIA_THREADS={v:?} is not a number of threads (1 or more)")
                })?;
        }
        let connections = connection_limits(file.connections.unwrap_or_default(), env)?;
        let flood = file.flood.unwrap_or_default();
        if let Some(name) = flood.invalid() {
            anyhow::bail!("[flood] {name} must allow something: a burst of 1 or more and a rate above 0 per second");
        }
        Ok(Config {
            listen,
            database_url,
            data_dir,
            secure_cookies,
            log,
            log_format,
            metrics_listen,
            public_url,
            sms: file.sms.unwrap_or_default(),
            max_upload_bytes: max_upload_mb.saturating_mul(1024 * 1024),
            files,
            calls,
            connections,
            flood,
        })
    }

    /// The folder of a local files store; `None` when files are in S3.
    pub fn local_files_dir(&self) -> Option<PathBuf> {
        self.files.local_dir(&self.data_dir)
    }

    /// Creates the data directory when the database lives in it.
    pub fn prepare_data_dir(&self) -> Result<()> {
        if self.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&self.data_dir)
                .with_context(|| format!("cannot create the data directory {}", self.data_dir.display()))?;
        }
        Ok(())
    }
}

/// `[connections]`, each key overridden by its `PARTA_CONNECTIONS_*` variable.
fn connection_limits(
    mut limits: server::connections::ConnectionLimits,
    env: impl Fn(&str) -> Option<String>,
) -> Result<server::connections::ConnectionLimits> {
    let number = |name: &str, what: &str| -> Result<Option<u64>> {
        env(name).map(|v| v.parse().with_context(|| format!("{name}={v:?} is not {what}"))).transpose()
    };
    let seconds = "a number of seconds";
    if let Some(v) = number("PARTA_CONNECTIONS_HEADER_TIMEOUT_SECS", seconds)? {
        limits.header_timeout_secs = v;
    }
    if let Some(v) = number("PARTA_CONNECTIONS_IDLE_TIMEOUT_SECS", seconds)? {
        limits.idle_timeout_secs = v;
    }
    if let Some(v) = number("PARTA_CONNECTIONS_HELLO_TIMEOUT_SECS", seconds)? {
        limits.hello_timeout_secs = v;
    }
    if let Some(v) = number("PARTA_CONNECTIONS_MAX_PER_ADDRESS", "a number of connections")? {
        limits.max_per_address = usize::try_from(v)?;
    }
    if let Some(v) = env("PARTA_CONNECTIONS_TRUSTED_PROXIES") {
        limits.trusted_proxies = v
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .with_context(|| format!("PARTA_CONNECTIONS_TRUSTED_PROXIES: {s:?} is not an address or network"))
            })
            .collect::<Result<_>>()?;
    }
    for (name, secs) in [
        ("header_timeout_secs", limits.header_timeout_secs),
        ("idle_timeout_secs", limits.idle_timeout_secs),
        ("hello_timeout_secs", limits.hello_timeout_secs),
    ] {
        if secs == 0 {
            anyhow::bail!("[connections] {name} must be 1 second or more");
        }
    }
    if limits.max_per_address == 0 {
        anyhow::bail!("[connections] max_per_address must be 1 or more");
    }
    Ok(limits)
}

fn read_file(path: &Path) -> Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("the config file {} is not valid", path.display()))
}

/// Two addresses that would share a port: the same IP, or either unspecified.
fn same_host(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_put_an_sqlite_database_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { data_dir: Some(dir.path().into()), ..Overrides::default() }, "unused")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.database_url, format!("sqlite://{}/parta.db", dir.path().display()));
        assert!(!cfg.secure_cookies);
    }

    #[test]
    fn a_config_file_sets_values_and_flags_override_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndatabase_url = \"postgres://db/parta\"\nsecure_cookies = true\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(
            Overrides {
                config_file: Some(path.clone()),
                listen: Some(([127, 0, 0, 1], 1).into()),
                ..Overrides::default()
            },
            "d",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.database_url, "postgres://db/parta");
        assert_eq!(cfg.listen.port(), 1);
        assert!(cfg.secure_cookies);
    }

    #[test]
    fn an_sms_provider_is_configured_in_its_own_section() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        let text =
            "[sms]\nprovider = \"http\"\nurl = \"https://sms.example.ru/send\"\nbody_template = \"{phone} {text}\"\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(cfg.sms, sms::SmsConfig::Http(_)));
        let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.sms, sms::SmsConfig::Log);
    }

    #[test]
    fn files_default_to_the_data_dir_and_s3_is_a_section() {
        let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.files, blobs::BlobConfig::Local { path: None });
        assert_eq!(default.max_upload_bytes, 100 * 1024 * 1024);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        let text = "max_upload_mb = 20\n[files]\nbackend = \"s3\"\nbucket = \"parta\"\n\
                    endpoint = \"http://127.0.0.1:9000\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.max_upload_bytes, 20 * 1024 * 1024);
        assert!(matches!(cfg.files, blobs::BlobConfig::S3 { ref bucket, .. } if bucket == "parta"));
    }

    #[test]
    fn calls_take_one_media_thread_unless_told_more() {
        let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.calls.media_threads, 1);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(&path, "[calls]\nudp_bind = \"0.0.0.0:3479\"\nmedia_threads = 4\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((cfg.calls.media_threads, cfg.calls.udp_bind.port()), (4, 3479));
    }

    #[test]
    fn metrics_are_off_by_default_and_never_share_the_public_port() {
        let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((default.metrics_listen, default.log_format), (None, LogFormat::Text));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:8080\"\nmetrics_listen = \"127.0.0.1:9464\"\nlog_format = \"json\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { config_file: Some(path.clone()), ..Overrides::default() }, "d")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cfg.metrics_listen, Some(([127, 0, 0, 1], 9464).into()));
        assert_eq!(cfg.log_format, LogFormat::Json);
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\nmetrics_listen = \"127.0.0.1:8080\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d");
        assert!(format!("{:#}", err.err().unwrap_or_else(|| panic!("must fail"))).contains("metrics_listen"));
    }

    #[test]
    fn connections_and_flood_limits_come_from_their_sections() {
        let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.connections, server::connections::ConnectionLimits::default());
        assert_eq!(default.flood, messenger::flood::Limits::default());
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        let text = "[connections]\nheader_timeout_secs = 3\nmax_per_address = 50\n\
                    trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1/32\"]\n\
                    [flood]\nmessages = { burst = 5, per_second = 0.5 }\nadmin_factor = 2\n";
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let cfg = Config::load(Overrides { config_file: Some(path.clone()), ..Overrides::default() }, "d")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((cfg.connections.header_timeout_secs, cfg.connections.max_per_address), (3, 50));
        assert_eq!(cfg.connections.idle_timeout_secs, 60, "keys not given keep their defaults");
        assert_eq!(cfg.connections.trusted_proxies.len(), 2);
        assert_eq!(cfg.flood.messages, messenger::flood::Rate::new(5, 0.5));
        assert_eq!(cfg.flood.typing, messenger::flood::Limits::default().typing);
        std::fs::write(&path, "[flood]\nmessages = { burst = 0, per_second = 1 }\n").unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d");
        assert!(format!("{:#}", err.err().unwrap_or_else(|| panic!("must fail"))).contains("messages"));
    }

    #[test]
    fn connection_limits_take_their_environment_variables() {
        let env = |name: &str| match name {
            "PARTA_CONNECTIONS_MAX_PER_ADDRESS" => Some("7".to_string()),
            "PARTA_CONNECTIONS_TRUSTED_PROXIES" => Some("127.0.0.1, 10.1.0.0/16".to_string()),
            _ => None,
        };
        let limits =
            connection_limits(server::connections::ConnectionLimits::default(), env).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(limits.max_per_address, 7);
        let nets: Vec<String> = limits.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(nets, ["127.0.0.1/32", "10.1.0.0/16"]);
        let zero = |name: &str| (name == "PARTA_CONNECTIONS_HEADER_TIMEOUT_SECS").then(|| "0".to_string());
        assert!(connection_limits(server::connections::ConnectionLimits::default(), zero).is_err());
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_an_error_not_silence() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(&path, "databse_url = \"x\"\n").unwrap_or_else(|e| panic!("{e}"));
        let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d");
        assert!(format!("{:#}", err.err().unwrap_or_else(|| panic!("must fail"))).contains("databse_url"));
    }
}
