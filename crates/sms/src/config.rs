use crate::{HttpSender, HttpSmsConfig, LogSender, SmsSender};
use serde::Deserialize;
use std::sync::Arc;

/// How many messages demo mode keeps for `/api/dev/sms-outbox`.
pub const DEMO_OUTBOX_CAPACITY: usize = 50;

/// The `[sms]` section of the configuration file:
///
/// ```toml
/// [sms]
/// provider = "http"
/// url = "https://sms.example.ru/send"
/// headers = { "Content-Type" = "application/json", Authorization = "Bearer …" }
/// body_template = '{"to": "{phone}", "text": "{text}"}'
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "provider", rename_all = "snake_case")]
pub enum SmsConfig {
    /// Writes messages to the server log: development and demo only.
    #[default]
    Log,
    Http(HttpSmsConfig),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("sms.url is not an http(s) URL: {0}")]
    BadUrl(String),
    #[error("sms.method is not an HTTP method: {0}")]
    BadMethod(String),
    #[error("sms.headers has an invalid header: {0}")]
    BadHeader(String),
    #[error("the HTTP client could not be set up: {0}")]
    Client(String),
}

impl SmsConfig {
    /// `demo_outbox` keeps the log sender's messages in memory for the demo
    /// page; it has no effect on a real provider, whose messages reach phones.
    pub fn build(&self, demo_outbox: bool) -> Result<Arc<dyn SmsSender>, ConfigError> {
        Ok(match self {
            SmsConfig::Log if demo_outbox => Arc::new(LogSender::with_outbox(DEMO_OUTBOX_CAPACITY)),
            SmsConfig::Log => Arc::new(LogSender::new()),
            SmsConfig::Http(config) => Arc::new(HttpSender::new(config.clone())?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        #[serde(default)]
        sms: SmsConfig,
    }

    #[test]
    fn without_an_sms_section_messages_go_to_the_log() {
        let file: File = toml::from_str("").unwrap();
        assert_eq!(file.sms, SmsConfig::Log);
        let file: File = toml::from_str("[sms]\nprovider = \"log\"").unwrap();
        assert_eq!(file.sms, SmsConfig::Log);
    }

    #[test]
    fn an_http_provider_reads_from_toml_with_defaults() {
        let file: File = toml::from_str(
            r#"
            [sms]
            provider = "http"
            url = "https://sms.example.ru/send"
            body_template = '{"to": "{phone}", "text": "{text}"}'
            [sms.headers]
            Content-Type = "application/json"
            Authorization = "Bearer secret"
            "#,
        )
        .unwrap();
        let SmsConfig::Http(http) = file.sms else { panic!("not http") };
        assert_eq!(http.url, "https://sms.example.ru/send");
        assert_eq!(http.method, "POST");
        assert_eq!(http.timeout_secs, 10);
        assert_eq!(http.retries, 2);
        assert_eq!(http.headers["Authorization"], "Bearer secret");
    }

    #[test]
    fn an_unknown_provider_or_field_is_a_configuration_error() {
        assert!(toml::from_str::<File>("[sms]\nprovider = \"pigeon\"").is_err());
        assert!(toml::from_str::<File>("[sms]\nprovider = \"http\"\nurl = \"http://x\"\nbody = \"\"").is_err());
    }

    #[test]
    fn demo_mode_keeps_an_outbox_only_for_the_log_sender() {
        assert_eq!(SmsConfig::Log.build(true).unwrap().dev_outbox(), Some(vec![]));
        assert_eq!(SmsConfig::Log.build(false).unwrap().dev_outbox(), None);
        let http = SmsConfig::Http(HttpSmsConfig::new("http://127.0.0.1:9/send"));
        assert_eq!(http.build(true).unwrap().dev_outbox(), None);
    }

    #[test]
    fn a_bad_url_method_or_header_is_refused_when_building() {
        let build = |config: HttpSmsConfig| SmsConfig::Http(config).build(false).err();
        assert!(matches!(build(HttpSmsConfig::new("ftp://example.ru")), Some(ConfigError::BadUrl(_))));
        assert!(matches!(build(HttpSmsConfig::new("not a url")), Some(ConfigError::BadUrl(_))));
        let mut config = HttpSmsConfig::new("http://127.0.0.1:9/");
        config.method = "SE ND".into();
        assert!(matches!(build(config), Some(ConfigError::BadMethod(_))));
        let mut config = HttpSmsConfig::new("http://127.0.0.1:9/");
        config.headers.insert("Bad Header".into(), "x".into());
        assert!(matches!(build(config), Some(ConfigError::BadHeader(_))));
    }
}
