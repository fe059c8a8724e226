use crate::{ConfigError, SendFuture, SmsError, SmsSender};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Method, StatusCode, Url, redirect};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// Everything but RFC 3986 unreserved characters: safe in a query value and in
/// a form body alike.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The first retry waits this long, each next one twice as long: short, since
/// a person is waiting for the code on the other side.
const BACKOFF: Duration = Duration::from_millis(300);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// A provider reached by one HTTP request per message. `{phone}` (E.164) and
/// `{text}` are replaced in `url` (percent-encoded) and in `body_template`
/// (JSON-escaped if `Content-Type` is JSON, percent-encoded if it is a form,
/// as they are otherwise).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSmsConfig {
    pub url: String,
    #[serde(default = "default_method")]
    pub method: String,
    /// Usually carries the provider's API key: never logged, redacted in `Debug`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body_template: String,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Further tries after the first, on network errors, timeouts, 5xx and 429.
    #[serde(default = "default_retries")]
    pub retries: u32,
}

fn default_method() -> String {
    "POST".to_owned()
}

fn default_timeout_secs() -> u64 {
    10
}

fn default_retries() -> u32 {
    2
}

impl HttpSmsConfig {
    /// A POST to `url` with no headers, an empty body and the default timeout and retries.
    pub fn new(url: impl Into<String>) -> HttpSmsConfig {
        HttpSmsConfig {
            url: url.into(),
            method: default_method(),
            headers: BTreeMap::new(),
            body_template: String::new(),
            timeout_secs: default_timeout_secs(),
            retries: default_retries(),
        }
    }
}

impl fmt::Debug for HttpSmsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: BTreeMap<&str, &str> = self.headers.keys().map(|k| (k.as_str(), "<redacted>")).collect();
        f.debug_struct("HttpSmsConfig")
            .field("url", &redacted_url(&self.url))
            .field("method", &self.method)
            .field("headers", &headers)
            .field("body_template", &self.body_template)
            .field("timeout_secs", &self.timeout_secs)
            .field("retries", &self.retries)
            .finish()
    }
}

/// A query string may carry an API key too: only the scheme, host and path are shown.
fn redacted_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.path()),
        Err(_) => "<invalid>".to_owned(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    Json,
    Form,
    Raw,
}

pub struct HttpSender {
    client: Client,
    url_template: String,
    /// For logs: the one part of the URL that is certainly not a secret.
    host: String,
    method: Method,
    headers: HeaderMap,
    body_template: String,
    body_escape: Escape,
    retries: u32,
}

impl fmt::Debug for HttpSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSender")
            .field("host", &self.host)
            .field("method", &self.method)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

impl HttpSender {
    pub fn new(config: HttpSmsConfig) -> Result<HttpSender, ConfigError> {
        // Checked with sample values, so a typo surfaces at startup rather than
        // at the first person's sign-in.
        let sample = fill(&config.url, "+70000000000", "0", |v| utf8_percent_encode(v, COMPONENT).to_string());
        let url = Url::parse(&sample).map_err(|e| ConfigError::BadUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::BadUrl(format!("scheme {}", url.scheme())));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let method = Method::from_bytes(config.method.trim().to_ascii_uppercase().as_bytes())
            .map_err(|_| ConfigError::BadMethod(config.method.clone()))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name =
                HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| ConfigError::BadHeader(name.clone()))?;
            // The error names the header, never its value: that may be the key.
            let mut value =
                HeaderValue::from_str(value.trim()).map_err(|_| ConfigError::BadHeader(name.to_string()))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let content_type =
            headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
        let body_escape = if content_type.contains("json") {
            Escape::Json
        } else if content_type.contains("application/x-www-form-urlencoded") {
            Escape::Form
        } else {
            Escape::Raw
        };
        let timeout = Duration::from_secs(config.timeout_secs.max(1));
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could carry the API key header to another host.
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Client(e.to_string()))?;
        Ok(HttpSender {
            client,
            url_template: config.url,
            host,
            method,
            headers,
            body_template: config.body_template,
            body_escape,
            retries: config.retries,
        })
    }

    async fn deliver(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        let host = self.host.as_str();
        let url = fill(&self.url_template, phone, text, |v| utf8_percent_encode(v, COMPONENT).to_string());
        let url = Url::parse(&url).map_err(|_| SmsError::Rejected(format!("{host}: the URL template gave no URL")))?;
        let body = fill(&self.body_template, phone, text, |v| match self.body_escape {
            Escape::Json => json_escape(v),
            Escape::Form => utf8_percent_encode(v, COMPONENT).to_string(),
            Escape::Raw => v.to_owned(),
        });
        let mut last_failure = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            let request =
                self.client.request(self.method.clone(), url.clone()).headers(self.headers.clone()).body(body.clone());
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(host, status = response.status().as_u16(), "SMS sent");
                    return Ok(());
                }
                Ok(response) if retryable(response.status()) => {
                    let status = response.status().as_u16();
                    tracing::warn!(host, status, attempt, "SMS provider failed");
                    last_failure = format!("{host} answered {status}");
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    tracing::warn!(host, status, "SMS provider rejected the message");
                    return Err(SmsError::Rejected(format!("{host} answered {status}")));
                }
                Err(error) => {
                    // reqwest's message includes the URL, which may hold the key or the code.
                    let error = error.without_url();
                    tracing::warn!(host, attempt, %error, "SMS provider unreachable");
                    last_failure = if error.is_timeout() {
                        format!("{host} did not answer in time")
                    } else {
                        format!("{host}: {error}")
                    };
                }
            }
        }
        Err(SmsError::Unavailable(format!("{last_failure} ({} tries)", self.retries + 1)))
    }
}

impl SmsSender for HttpSender {
    fn send<'a>(&'a self, phone: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(self.deliver(phone, text))
    }
}

fn retryable(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

fn backoff(attempt: u32) -> Duration {
    BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(8)).min(BACKOFF_MAX)
}

/// Replaces `{phone}` and `{text}` in one pass, so a text that itself contains
/// "{phone}" is sent as written.
fn fill(template: &str, phone: &str, text: &str, escape: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(template.len() + phone.len() + text.len());
    let mut rest = template;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("{phone}") {
            out.push_str(&escape(phone));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{text}") {
            out.push_str(&escape(text));
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The inside of a JSON string literal: the template supplies the quotes.
fn json_escape(value: &str) -> String {
    let quoted = serde_json::Value::from(value).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_replaced_once_and_other_braces_stay() {
        let out = fill(r#"{"to":"{phone}","text":"{text}","x":{}}"#, "+7", "{phone}", str::to_owned);
        assert_eq!(out, r#"{"to":"+7","text":"{phone}","x":{}}"#);
    }

    #[test]
    fn json_escaping_covers_quotes_backslashes_newlines_and_cyrillic() {
        assert_eq!(json_escape("Код: \"1\"\n\\"), r#"Код: \"1\"\n\\"#);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(300));
        assert_eq!(backoff(2), Duration::from_millis(600));
        assert_eq!(backoff(30), BACKOFF_MAX);
    }

    #[test]
    fn the_debug_output_hides_header_values_and_the_query() {
        let mut config = HttpSmsConfig::new("https://sms.example.ru/send?key=topsecret&to={phone}");
        config.headers.insert("Authorization".into(), "Bearer topsecret".into());
        let shown = format!("{config:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("Authorization") && shown.contains("sms.example.ru/send"), "{shown}");
    }
}
