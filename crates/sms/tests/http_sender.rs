//! `HttpSender` against receivers started on 127.0.0.1 by each test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use sms::{HttpSender, HttpSmsConfig, SmsError, SmsSender};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    requests: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, in order; 200 once they run out.
    script: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    async fn start(statuses: &[u16]) -> (Receiver, String) {
        let receiver =
            Receiver { requests: Arc::default(), script: Arc::new(Mutex::new(statuses.iter().copied().collect())) };
        let state = receiver.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let body = String::from_utf8(body.to_vec()).unwrap();
                state.requests.lock().unwrap().push(Received { method, uri, headers, body });
                let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
                StatusCode::from_u16(status).unwrap()
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, base)
    }

    fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

fn config(url: String) -> HttpSmsConfig {
    let mut config = HttpSmsConfig::new(url);
    config.timeout_secs = 1;
    config
}

#[tokio::test]
async fn method_headers_and_a_json_body_arrive_as_configured_with_the_text_escaped() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut config = config(format!("{base}/v1/send"));
    config.method = "put".into();
    config.headers.insert("Content-Type".into(), "application/json".into());
    config.headers.insert("Authorization".into(), "Bearer k3y".into());
    config.body_template = r#"{"to": "{phone}", "message": "{text}"}"#.into();
    let sender = HttpSender::new(config).unwrap();

    let text = "Код \"Парта ID\": 012345\nНикому не сообщайте";
    sender.send("+79123456789", text).await.unwrap();

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.uri.path(), "/v1/send");
    assert_eq!(request.headers["authorization"], "Bearer k3y");
    assert_eq!(request.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&request.body).expect("the body is valid JSON");
    assert_eq!(body["to"], "+79123456789");
    assert_eq!(body["message"], text);
}

#[tokio::test]
async fn placeholders_in_the_url_and_a_form_body_are_percent_encoded() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut config = config(format!("{base}/send?to={{phone}}&msg={{text}}"));
    config.headers.insert("Content-Type".into(), "application/x-www-form-urlencoded".into());
    config.body_template = "phone={phone}&text={text}".into();
    let sender = HttpSender::new(config).unwrap();

    let text = "Код: 1&2=3 +";
    sender.send("+79123456789", text).await.unwrap();

    let request = &receiver.requests()[0];
    let query: Vec<(String, String)> = form_pairs(request.uri.query().unwrap());
    assert_eq!(query, [("to".into(), "+79123456789".into()), ("msg".into(), text.into())]);
    let form = form_pairs(&request.body);
    assert_eq!(form, [("phone".into(), "+79123456789".into()), ("text".into(), text.into())]);
}

#[tokio::test]
async fn without_a_known_content_type_the_body_is_sent_raw() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut config = config(format!("{base}/send"));
    config.headers.insert("Content-Type".into(), "text/plain; charset=utf-8".into());
    config.body_template = "{phone}: {text}".into();
    HttpSender::new(config).unwrap().send("+79123456789", "a \"b\"\nc").await.unwrap();
    assert_eq!(receiver.requests()[0].body, "+79123456789: a \"b\"\nc");
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_next_success_counts() {
    let (receiver, base) = Receiver::start(&[500]).await;
    let sender = HttpSender::new(config(format!("{base}/send"))).unwrap();
    sender.send("+79123456789", "code").await.unwrap();
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let (receiver, base) = Receiver::start(&[429, 503]).await;
    let sender = HttpSender::new(config(format!("{base}/send"))).unwrap();
    sender.send("+79123456789", "code").await.unwrap();
    assert_eq!(receiver.requests().len(), 3);
}

#[tokio::test]
async fn a_bad_request_is_not_retried_and_is_rejected() {
    let (receiver, base) = Receiver::start(&[400]).await;
    let sender = HttpSender::new(config(format!("{base}/send"))).unwrap();
    let error = sender.send("+79123456789", "code").await.unwrap_err();
    assert!(matches!(error, SmsError::Rejected(_)), "{error:?}");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_is_rejected() {
    let (receiver, base) = Receiver::start(&[307]).await;
    let sender = HttpSender::new(config(format!("{base}/send"))).unwrap();
    let error = sender.send("+79123456789", "code").await.unwrap_err();
    assert!(matches!(error, SmsError::Rejected(_)), "{error:?}");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn the_retry_count_is_respected_and_then_the_provider_is_unavailable() {
    let (receiver, base) = Receiver::start(&[500, 500, 500, 500, 500]).await;
    let mut config = config(format!("{base}/send"));
    config.retries = 2;
    let error = HttpSender::new(config).unwrap().send("+79123456789", "code").await.unwrap_err();
    assert!(matches!(error, SmsError::Unavailable(_)), "{error:?}");
    assert_eq!(receiver.requests().len(), 3);

    let (receiver, base) = Receiver::start(&[500, 500]).await;
    let mut config = self::config(format!("{base}/send"));
    config.retries = 0;
    let error = HttpSender::new(config).unwrap().send("+79123456789", "code").await.unwrap_err();
    assert!(matches!(error, SmsError::Unavailable(_)), "{error:?}");
    assert_eq!(receiver.requests().len(), 1);
}

#[tokio::test]
async fn a_receiver_that_never_answers_makes_the_provider_unavailable_after_the_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let mut config = config(format!("http://{addr}/send"));
    config.retries = 1;
    let sender = HttpSender::new(config).unwrap();

    let started = Instant::now();
    let error = sender.send("+79123456789", "code").await.unwrap_err();
    let elapsed = started.elapsed();

    assert!(matches!(&error, SmsError::Unavailable(m) if m.contains("in time")), "{error:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    assert!(elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(6), "{elapsed:?}");
}

#[tokio::test]
async fn a_closed_port_makes_the_provider_unavailable() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut config = config(format!("http://{addr}/send"));
    config.retries = 0;
    let error = HttpSender::new(config).unwrap().send("+79123456789", "code").await.unwrap_err();
    assert!(matches!(error, SmsError::Unavailable(_)), "{error:?}");
}

fn form_pairs(encoded: &str) -> Vec<(String, String)> {
    encoded
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8().unwrap().into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}
