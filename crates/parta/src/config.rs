//! Configuration: built-in defaults, then a TOML file, then `PARTA_*`
//! environment variables, then command-line flags — each layer overriding the
//! one before. The defaults run a single school on SQLite out of the box.

use anyhow::{Context, Result};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
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
    /// NATS servers, e.g. "nats://10.0.0.5:4222" (several separated by
    /// commas): this node is then one of several sharing the database.
    pub nats_url: Option<String>,
    /// Web Push to closed tabs (`[push]`: on by default; the push services
    /// allowed, the VAPID key, the operator's contact).
    pub push: Option<server::notify::PushConfig>,
    /// The IANA time zone of schools that have not chosen their own, e.g.
    /// "Europe/Moscow" (the default): their quiet hours are on its clock.
    pub time_zone: Option<String>,
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
    /// Cluster mode when set: the NATS servers (`nats_url`).
    pub nats_urls: Option<cluster::Servers>,
    pub push: server::notify::PushConfig,
    pub time_zone: messenger::quiet::Tz,
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

/// Keys of the top level, each set by `PARTA_<KEY>` (`PARTA_DATABASE_URL`).
const TOP_LEVEL_KEYS: &[&str] = &[
    "listen",
    "database_url",
    "data_dir",
    "secure_cookies",
    "log",
    "log_format",
    "metrics_listen",
    "public_url",
    "max_upload_mb",
    "nats_url",
    "time_zone",
];

/// Sections, whose keys are set by `PARTA_<SECTION>_<KEY>`
/// (`PARTA_CALLS_UDP_BIND`, `PARTA_SMS_URL`); a value may be a TOML inline
/// table for a nested key (`PARTA_FLOOD_MESSAGES={burst=5,per_second=0.5}`).
const SECTIONS: &[&str] = &["sms", "files", "calls", "connections", "flood", "push"];

/// `PARTA_FILES_DIR` predates the `[files]` section: it means "local files, in
/// this folder" whatever the file says, so it is applied after the layers.
const FILES_DIR_VARIABLE: &str = "PARTA_FILES_DIR";

/// The config key an environment variable sets, given its name without the
/// `PARTA_` prefix, in lowercase; `None` for the variables that are
/// not configuration (`PARTA_CONFIG`, the tests' `PARTA_TEST_POSTGRES`).
fn env_key(name: &str) -> Option<String> {
    if name == "files_dir" {
        return None;
    }
    if TOP_LEVEL_KEYS.contains(&name) {
        return Some(name.to_string());
    }
    SECTIONS.iter().find_map(|section| {
        let key = name.strip_prefix(section)?.strip_prefix('_')?;
        (!key.is_empty()).then(|| format!("{section}.{key}"))
    })
}

/// The layers in order: the file (when there is one), then the environment.
/// `lossy` extraction reads `PARTA_SECURE_COOKIES=yes` as true and numbers
/// written as strings as numbers, as a person writing a unit file expects.
fn layers(config_file: Option<&Path>, env: Env) -> Result<FileConfig> {
    let mut figment = Figment::new();
    if let Some(path) = config_file {
        if !path.is_file() {
            anyhow::bail!("cannot read the config file {}: there is no such file", path.display());
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let env = env.filter_map(|name| env_key(&name.as_str().to_ascii_lowercase()).map(Into::into));
    figment.merge(env).extract_lossy().map_err(|e| anyhow::anyhow!(describe(e)))
}

/// figment's errors name the key and the layer; one line per problem.
fn describe(error: figment::Error) -> String {
    error.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

impl Config {
    /// `default_data_dir` differs per command: `demo` keeps its own database.
    pub fn load(overrides: Overrides, default_data_dir: &str) -> Result<Config> {
        let variable = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let config_file = overrides.config_file.or_else(|| variable("PARTA_CONFIG").map(PathBuf::from));
        let file = layers(config_file.as_deref(), Env::prefixed("PARTA_"))?;
        let data_dir = overrides.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from(default_data_dir));
        let listen = match overrides.listen.or(file.listen) {
            Some(addr) => addr,
            None => DEFAULT_LISTEN.parse()?,
        };
        let database_url = file.database_url.unwrap_or_else(|| sqlite_url(&data_dir.join("parta.db")));
        let metrics_listen = overrides.metrics_listen.or(file.metrics_listen);
        if metrics_listen.is_some_and(|m| m.port() != 0 && m.port() == listen.port() && same_host(m, listen)) {
            anyhow::bail!(
                "metrics_listen must not be the public address {listen}: metrics are for your monitoring only"
            );
        }
        let files = match variable(FILES_DIR_VARIABLE) {
            Some(dir) => blobs::BlobConfig::Local { path: Some(PathBuf::from(dir)) },
            None => file.files.unwrap_or_default(),
        };
        let calls = file.calls.unwrap_or_default();
        if calls.media_threads == 0 {
            anyhow::bail!("[calls] media_threads (PARTA_CALLS_MEDIA_THREADS) must be 1 or more");
        }
        let connections = file.connections.unwrap_or_default();
        connections.check().map_err(|name| anyhow::anyhow!("[connections] {name}"))?;
        let flood = file.flood.unwrap_or_default();
        if let Some(name) = flood.invalid() {
            anyhow::bail!("[flood] {name} must allow something: a burst of 1 or more and a rate above 0 per second");
        }
        let time_zone = match file.time_zone.as_deref().map(str::trim) {
            Some(name) => messenger::quiet::parse_zone(name).map_err(|_| {
                anyhow::anyhow!("time_zone (PARTA_TIME_ZONE): {name:?} is not an IANA zone such as \"Europe/Moscow\"")
            })?,
            None => messenger::quiet::DEFAULT_ZONE,
        };
        let nats_urls = match file.nats_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(text) => Some(cluster::parse_urls(text).context("nats_url (PARTA_NATS_URL)")?),
            None => None,
        };
        Ok(Config {
            listen,
            database_url,
            data_dir,
            secure_cookies: file.secure_cookies.unwrap_or(false),
            log: file.log.unwrap_or_else(|| "info".to_string()),
            log_format: file.log_format.unwrap_or_default(),
            metrics_listen,
            public_url: file.public_url,
            sms: file.sms.unwrap_or_default(),
            max_upload_bytes: file.max_upload_mb.unwrap_or(DEFAULT_MAX_UPLOAD_MB).saturating_mul(1024 * 1024),
            files,
            calls,
            connections,
            flood,
            nats_urls,
            push: file.push.unwrap_or_default(),
            time_zone,
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

/// Two addresses that would share a port: the same IP, or either unspecified.
fn same_host(a: SocketAddr, b: SocketAddr) -> bool {
    a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified()
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    /// Runs a test with the given `PARTA_*` variables and no others that it
    /// set; jails are serialised, so no test sees another's environment.
    // figment's own signature: its error type is large, and only ever `Ok` here.
    #[allow(clippy::result_large_err)]
    fn with_env(vars: &[(&str, &str)], test: impl FnOnce()) {
        Jail::expect_with(|jail| {
            for (name, value) in vars {
                jail.set_env(name, value);
            }
            test();
            Ok(())
        });
    }

    fn isolated(test: impl FnOnce()) {
        with_env(&[], test);
    }

    #[test]
    fn defaults_put_an_sqlite_database_in_the_data_dir() {
        isolated(|| {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let cfg = Config::load(Overrides { data_dir: Some(dir.path().into()), ..Overrides::default() }, "unused")
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(cfg.database_url, format!("sqlite://{}/parta.db", dir.path().display()));
            assert!(!cfg.secure_cookies);
        });
    }

    #[test]
    fn a_config_file_sets_values_and_flags_override_it() {
        isolated(|| {
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
        });
    }

    #[test]
    fn schools_keep_moscow_time_unless_another_zone_is_configured() {
        isolated(|| {
            let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(default.time_zone, messenger::quiet::DEFAULT_ZONE);
        });
        with_env(&[("PARTA_TIME_ZONE", "Asia/Yekaterinburg")], || {
            let cfg = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(cfg.time_zone.name(), "Asia/Yekaterinburg");
        });
        with_env(&[("PARTA_TIME_ZONE", "Moscow")], || {
            let Err(refused) = Config::load(Overrides::default(), "d") else { panic!("a city is not a zone") };
            let refused = refused.to_string();
            assert!(refused.contains("time_zone (PARTA_TIME_ZONE)"), "{refused}");
        });
    }

    #[test]
    fn an_sms_provider_is_configured_in_its_own_section() {
        isolated(|| {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join("parta.toml");
            let text = "[sms]\nprovider = \"http\"\nurl = \"https://sms.example.ru/send\"\nbody_template = \"{phone} {text}\"\n";
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
            let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d")
                .unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(cfg.sms, sms::SmsConfig::Http(_)));
            let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(default.sms, sms::SmsConfig::Log);
        });
    }

    #[test]
    fn files_default_to_the_data_dir_and_s3_is_a_section() {
        isolated(|| {
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
        });
    }

    #[test]
    fn calls_take_one_media_thread_unless_told_more() {
        isolated(|| {
            let default = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(default.calls.media_threads, 1);
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join("parta.toml");
            std::fs::write(&path, "[calls]\nudp_bind = \"0.0.0.0:3479\"\nmedia_threads = 4\n")
                .unwrap_or_else(|e| panic!("{e}"));
            let cfg = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d")
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((cfg.calls.media_threads, cfg.calls.udp_bind.port()), (4, 3479));
        });
    }

    #[test]
    fn metrics_are_off_by_default_and_never_share_the_public_port() {
        isolated(|| {
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
        });
    }

    #[test]
    fn connections_and_flood_limits_come_from_their_sections() {
        isolated(|| {
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
            std::fs::write(&path, "[flood]\nmessages = { burst = 0, per_second = 1 }\n")
                .unwrap_or_else(|e| panic!("{e}"));
            let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d");
            assert!(format!("{:#}", err.err().unwrap_or_else(|| panic!("must fail"))).contains("messages"));
        });
    }

    #[test]
    fn an_unknown_key_in_the_config_file_is_an_error_not_silence() {
        isolated(|| {
            let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
            let path = dir.path().join("parta.toml");
            std::fs::write(&path, "databse_url = \"x\"\n").unwrap_or_else(|e| panic!("{e}"));
            let err = Config::load(Overrides { config_file: Some(path), ..Overrides::default() }, "d");
            assert!(format!("{:#}", err.err().unwrap_or_else(|| panic!("must fail"))).contains("databse_url"));
        });
    }

    #[test]
    fn environment_variables_name_the_keys_of_the_top_level_and_of_sections() {
        assert_eq!(env_key("database_url").as_deref(), Some("database_url"));
        assert_eq!(env_key("log_format").as_deref(), Some("log_format"));
        assert_eq!(env_key("calls_udp_bind").as_deref(), Some("calls.udp_bind"));
        assert_eq!(env_key("connections_max_per_address").as_deref(), Some("connections.max_per_address"));
        assert_eq!(env_key("sms_body_template").as_deref(), Some("sms.body_template"));
        for not_configuration in ["config", "files_dir", "test_postgres", "bin", "calls_", "callsx"] {
            assert_eq!(env_key(not_configuration), None, "{not_configuration}");
        }
    }

    #[test]
    fn every_key_is_set_by_its_environment_variable_over_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\n[connections]\nheader_timeout_secs = 3\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let vars = [
            ("PARTA_CONFIG", path.to_str().unwrap_or_default()),
            ("PARTA_LISTEN", "127.0.0.1:9100"),
            ("PARTA_SECURE_COOKIES", "yes"),
            ("PARTA_MAX_UPLOAD_MB", "7"),
            ("PARTA_CALLS_UDP_BIND", "0.0.0.0:3479"),
            ("PARTA_CALLS_MEDIA_THREADS", "2"),
            ("PARTA_CALLS_PUBLIC_IP", "203.0.113.11"),
            ("PARTA_CONNECTIONS_MAX_PER_ADDRESS", "7"),
            ("PARTA_CONNECTIONS_TRUSTED_PROXIES", "127.0.0.1, 10.1.0.0/16"),
            ("PARTA_FLOOD_MESSAGES", "{burst=5,per_second=0.5}"),
            ("PARTA_SMS_PROVIDER", "http"),
            ("PARTA_SMS_URL", "https://sms.example.ru/send"),
            ("PARTA_SMS_BODY_TEMPLATE", "{phone} {text}"),
            ("PARTA_FILES_BACKEND", "s3"),
            ("PARTA_FILES_BUCKET", "parta"),
            ("PARTA_FILES_ACCESS_KEY_ID", "k"),
            ("PARTA_FILES_SECRET_ACCESS_KEY", "very-secret"),
            ("PARTA_NATS_URL", "nats://parta:very-secret@10.0.0.5:4222, nats://10.0.0.6:4222"),
        ];
        with_env(&vars, || {
            let cfg = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e:#}"));
            assert_eq!(cfg.listen, ([127, 0, 0, 1], 9100).into(), "the environment overrides the file");
            assert!(cfg.secure_cookies);
            assert_eq!(cfg.max_upload_bytes, 7 * 1024 * 1024);
            assert_eq!((cfg.calls.udp_bind.port(), cfg.calls.media_threads), (3479, 2));
            assert_eq!(cfg.calls.advertise, Some([203, 0, 113, 11].into()), "public_ip names advertise");
            assert_eq!((cfg.connections.header_timeout_secs, cfg.connections.max_per_address), (3, 7));
            let nets: Vec<String> = cfg.connections.trusted_proxies.iter().map(ToString::to_string).collect();
            assert_eq!(nets, ["127.0.0.1/32", "10.1.0.0/16"]);
            assert_eq!(cfg.flood.messages, messenger::flood::Rate::new(5, 0.5));
            assert!(matches!(cfg.sms, sms::SmsConfig::Http(ref http) if http.url == "https://sms.example.ru/send"));
            assert!(matches!(cfg.files, blobs::BlobConfig::S3 { ref bucket, .. } if bucket == "parta"));
            assert!(cfg.nats_urls.is_some(), "cluster mode");
            let shown = format!("{cfg:?}");
            assert!(!shown.contains("very-secret"), "a secret never prints: {shown}");
        });
    }

    #[test]
    fn files_dir_means_local_files_in_that_folder_whatever_the_file_says() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("parta.toml");
        std::fs::write(
            &path,
            "[files]\nbackend = \"s3\"\nbucket = \"b\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let config = path.to_str().unwrap_or_default();
        with_env(&[("PARTA_CONFIG", config), ("PARTA_FILES_DIR", "/srv/files")], || {
            let cfg = Config::load(Overrides::default(), "d").unwrap_or_else(|e| panic!("{e:#}"));
            assert_eq!(cfg.files, blobs::BlobConfig::Local { path: Some("/srv/files".into()) });
        });
    }

    #[test]
    fn a_bad_environment_value_names_its_variable() {
        with_env(&[("PARTA_CONNECTIONS_HEADER_TIMEOUT_SECS", "0")], || {
            let err = Config::load(Overrides::default(), "d").err().unwrap_or_else(|| panic!("must fail"));
            assert!(format!("{err:#}").contains("header_timeout_secs"), "{err:#}");
        });
        with_env(&[("PARTA_LISTEN", "not an address")], || {
            let err = Config::load(Overrides::default(), "d").err().unwrap_or_else(|| panic!("must fail"));
            assert!(format!("{err:#}").contains("LISTEN"), "{err:#}");
        });
        with_env(&[("PARTA_CALLS_MEDIA_THREADS", "0")], || {
            let err = Config::load(Overrides::default(), "d").err().unwrap_or_else(|| panic!("must fail"));
            assert!(format!("{err:#}").contains("media_threads"), "{err:#}");
        });
    }
}
