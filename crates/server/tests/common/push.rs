//! A push service on loopback standing in for the browsers' (FCM, Mozilla,
//! Apple): it decrypts what it receives with the subscription's private key
//! and auth secret, as a browser does (RFC 8291), and answers as scripted.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64ct::{Base64UrlUnpadded, Encoding};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use web_push_native::p256::SecretKey;
use web_push_native::p256::elliptic_curve::rand_core::OsRng;
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
    pub payload: Value,
    pub urgency: Option<String>,
}

#[derive(Clone, Default)]
struct Shared {
    devices: Arc<Mutex<HashMap<String, Device>>>,
    received: Arc<Mutex<Vec<Received>>>,
    /// Requests for each device, answered or not.
    requests: Arc<Mutex<HashMap<String, usize>>>,
}

pub struct PushReceiver {
    base: String,
    shared: Shared,
}

async fn receive(
    State(shared): State<Shared>,
    Path(device): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    *shared.requests.lock().unwrap().entry(device.clone()).or_default() += 1;
    let devices = shared.devices.lock().unwrap();
    let Some(d) = devices.get(&device) else { return StatusCode::NOT_FOUND };
    if !d.answer.is_success() {
        return d.answer;
    }
    assert!(headers["authorization"].to_str().unwrap().starts_with("vapid t="), "pushes are VAPID-signed");
    let auth = web_push_native::Auth::clone_from_slice(&d.auth);
    let plain = web_push_native::decrypt(body.to_vec(), &d.secret, &auth).expect("encrypted to this device");
    let payload = serde_json::from_slice(&plain).unwrap();
    let urgency = headers.get("urgency").map(|u| u.to_str().unwrap().to_string());
    shared.received.lock().unwrap().push(Received { device, payload, urgency });
    StatusCode::CREATED
}

impl PushReceiver {
    pub async fn start() -> PushReceiver {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().route("/push/{device}", post(receive)).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        PushReceiver { base, shared }
    }

    /// A new device's `PushSubscription.toJSON()`, as a browser gives it.
    pub fn subscribe(&self, device: &str) -> Value {
        let secret = SecretKey::random(&mut OsRng);
        let auth: [u8; 16] = rand::random();
        let subscription = json!({
            "endpoint": self.endpoint(device),
            "expirationTime": null,
            "keys": {
                "p256dh": Base64UrlUnpadded::encode_string(secret.public_key().to_encoded_point(false).as_bytes()),
                "auth": Base64UrlUnpadded::encode_string(&auth),
            },
        });
        let device_keys = Device { secret, auth, answer: StatusCode::CREATED };
        self.shared.devices.lock().unwrap().insert(device.to_string(), device_keys);
        subscription
    }

    pub fn endpoint(&self, device: &str) -> String {
        format!("{}/push/{device}", self.base)
    }

    /// From now on the service answers `status` for this device (410: the
    /// person unsubscribed in the browser).
    pub fn answer(&self, device: &str, status: StatusCode) {
        self.shared.devices.lock().unwrap().get_mut(device).unwrap().answer = status;
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    pub fn requests(&self, device: &str) -> usize {
        self.shared.requests.lock().unwrap().get(device).copied().unwrap_or(0)
    }

    /// Waits until `count` pushes have arrived in all (or five seconds).
    pub async fn until(&self, count: usize) -> Vec<Received> {
        for _ in 0..500 {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{count} pushes expected, got {:?}", self.received());
    }
}
