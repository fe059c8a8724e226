//! A push service on loopback standing in for the browsers' (FCM, Mozilla,
//! Apple), for tests and the push benchmark: it holds each device's private
//! key and auth secret, decrypts what it receives as a browser does (RFC
//! 8291), and answers as scripted. Only with the `receiver` feature.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::rand_core::{OsRng, RngCore};
use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

/// One browser's subscription: the keys only it holds.
struct Device {
    secret: SecretKey,
    auth: [u8; 16],
    /// What the service answers for this device (201 until set).
    answer: StatusCode,
}

/// A push as the device's service worker would see it.
#[derive(Debug, Clone)]
pub struct Received {
    pub device: String,
    /// The decrypted payload; `Value::Null` for one that did not decrypt or
    /// was not JSON (a test asserts on it; the benchmark counts them).
    pub payload: Value,
    pub urgency: Option<String>,
    /// Signed with a VAPID JWT (`Authorization: vapid t=…`).
    pub vapid: bool,
    pub at: Instant,
}

#[derive(Clone, Default)]
struct Shared {
    devices: Arc<Mutex<HashMap<String, Device>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests for each device, answered or not.
    requests: Arc<Mutex<HashMap<String, usize>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn receive(
    State(shared): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    *lock(&shared.requests).entry(device.clone()).or_default() += 1;
    let payload = {
        let devices = lock(&shared.devices);
        let Some(d) = devices.get(&device) else { return StatusCode::NOT_FOUND };
        if !d.answer.is_success() {
            return d.answer;
        }
        let auth = web_push_native::Auth::clone_from_slice(&d.auth);
        web_push_native::decrypt(body.to_vec(), &d.secret, &auth)
            .ok()
            .and_then(|plain| serde_json::from_slice(&plain).ok())
            .unwrap_or(Value::Null)
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let vapid = header("authorization").is_some_and(|a| a.starts_with("vapid t="));
    let urgency = header("urgency");
    lock(&shared.received).push(Received { device, payload, urgency, vapid, at: Instant::now() });
    StatusCode::CREATED
}

pub struct PushReceiver {
    base: String,
    shared: Shared,
}

impl PushReceiver {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<PushReceiver> {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let app = Router::new().route("/push/{device}", post(receive)).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(PushReceiver { base, shared })
    }

    /// A new device's `PushSubscription.toJSON()`, as a browser gives it.
    pub fn subscribe(&self, device: &str) -> Value {
        let secret = SecretKey::random(&mut OsRng);
        let mut auth = [0u8; 16];
        OsRng.fill_bytes(&mut auth);
        let subscription = json!({
            "endpoint": self.endpoint(device),
            "expirationTime": null,
            "keys": {
                "p256dh": Base64UrlUnpadded::encode_string(secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": Base64UrlUnpadded::encode_string(&auth),
            },
        });
        lock(&self.shared.devices).insert(device.to_owned(), Device { secret, auth, answer: StatusCode::CREATED });
        subscription
    }

    pub fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.base)
    }

    /// From now on the service answers `status` for this device (410: the
    /// person unsubscribed in the browser).
    pub fn answer(&self, device: &str, status: StatusCode) {
        if let Some(d) = lock(&self.shared.devices).get_mut(device) {
            d.answer = status;
        }
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared.received).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.shared.received).len()
    }

    pub fn requests(&self, device: &str) -> usize {
        lock(&self.shared.requests).get(device).copied().unwrap_or(0)
    }

    /// Waits until `count` pushes have arrived in all: `Err` with what came
    /// if they do not within `within`.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Result<Vec<Received>, Vec<Received>> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if self.count() >= count {
                return Ok(self.received());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(self.received());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
