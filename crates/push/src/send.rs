use crate::{ClientError, Subscription, VapidKey};
use reqwest::header::{HeaderValue, RETRY_AFTER};
use reqwest::{Client, StatusCode, redirect};
use std::time::Duration;
use web_push_native::WebPushBuilder;

/// Push services accept at most 4,096 encrypted bytes; the record's header,
/// padding delimiter and tag take 103 of them.
pub const MAX_PAYLOAD: usize = 3_993;

/// A `Retry-After` longer than this is not waited for: the push is given up
/// (a notification an hour late is worse than none).
const RETRY_AFTER_MAX: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct PusherConfig {
    /// The `sub` claim of the VAPID token: how a push service reaches the
    /// operator (`mailto:` or `https:`).
    pub contact: String,
    pub timeout: Duration,
    /// Further tries after the first, on network errors, 429 and 5xx.
    pub retries: u32,
    /// The first retry waits this long (or what `Retry-After` says), each
    /// next one twice as long.
    pub backoff: Duration,
}

impl Default for PusherConfig {
    fn default() -> PusherConfig {
        PusherConfig {
            contact: "mailto:admin@localhost".into(),
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_secs(1),
        }
    }
}

/// How soon a device should wake for it (RFC 8030 §5.3): `High` rings a
/// phone in power saving, for calls and «Срочно».
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

/// One notification for one device.
#[derive(Debug, Clone)]
pub struct Notice {
    /// What the service worker receives (JSON), at most [`MAX_PAYLOAD`] bytes.
    pub payload: Vec<u8>,
    /// How long the push service keeps it for a device that is off.
    pub ttl: Duration,
    pub urgency: Urgency,
    /// A newer push with the same topic replaces an undelivered older one
    /// (at most 32 base64url characters), e.g. one per chat.
    pub topic: Option<String>,
}

/// What became of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Delivered,
    /// The push service no longer knows the subscription (404, 410), or it
    /// cannot be used: remove it.
    Gone,
    /// Refused or still failing after the retries; the subscription stays.
    Failed(String),
}

/// Delivers notices, one HTTP request per device.
pub struct Pusher {
    client: Client,
    key: VapidKey,
    config: PusherConfig,
}

impl Pusher {
    pub fn new(key: VapidKey, config: PusherConfig) -> Result<Pusher, ClientError> {
        // A push service never redirects; following one could lead anywhere.
        let client = Client::builder()
            .timeout(config.timeout)
            .redirect(redirect::Policy::none())
            .build()
            .map_err(|e| ClientError(e.to_string()))?;
        Ok(Pusher { client, key, config })
    }

    /// The `applicationServerKey` browsers subscribe with.
    pub fn public_key(&self) -> String {
        self.key.public_base64()
    }

    pub async fn send(&self, to: &Subscription, notice: &Notice) -> Delivery {
        if notice.payload.len() > MAX_PAYLOAD {
            return Delivery::Failed(format!("a payload of {} bytes is too large to push", notice.payload.len()));
        }
        let (Some((public, auth)), Ok(endpoint)) = (to.keys(), to.endpoint.parse()) else {
            return Delivery::Gone;
        };
        let builder = WebPushBuilder::new(endpoint, public, auth)
            .with_valid_duration(notice.ttl)
            .with_vapid(self.key.pair(), &self.config.contact);
        let mut wait = self.config.backoff;
        let mut attempt = 0;
        loop {
            let retry_after = match self.attempt(&builder, notice).await {
                Attempt::Done(delivery) => return delivery,
                Attempt::Retry(after) => after,
            };
            if attempt >= self.config.retries {
                return Delivery::Failed(format!("still failing after {} tries", attempt + 1));
            }
            let pause = match retry_after {
                Some(after) if after > RETRY_AFTER_MAX => {
                    return Delivery::Failed(format!("the push service asked to wait {} s", after.as_secs()));
                }
                Some(after) => after,
                None => wait,
            };
            tokio::time::sleep(pause).await;
            wait *= 2;
            attempt += 1;
        }
    }

    async fn attempt(
        &self,
        builder: &WebPushBuilder<web_push_native::vapid::VapidAuthorization<'_>>,
        notice: &Notice,
    ) -> Attempt {
        // Each try is encrypted afresh: a new salt and sender key per request.
        let request = match builder.build(notice.payload.clone()) {
            Ok(request) => request,
            Err(e) => return Attempt::Done(Delivery::Failed(format!("cannot encrypt the push: {e}"))),
        };
        let mut request = match reqwest::Request::try_from(request) {
            Ok(request) => request,
            Err(e) => return Attempt::Done(Delivery::Failed(format!("cannot make the request: {e}"))),
        };
        let headers = request.headers_mut();
        headers.insert(
            "urgency",
            HeaderValue::from_static(match notice.urgency {
                Urgency::Normal => "normal",
                Urgency::High => "high",
            }),
        );
        if let Some(topic) = notice.topic.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
            headers.insert("topic", topic);
        }
        let response = match self.client.execute(request).await {
            Ok(response) => response,
            Err(e) => {
                tracing::debug!(error = %e, "a push service did not answer");
                return Attempt::Retry(None);
            }
        };
        let status = response.status();
        if status.is_success() {
            return Attempt::Done(Delivery::Delivered);
        }
        match status {
            StatusCode::NOT_FOUND | StatusCode::GONE => Attempt::Done(Delivery::Gone),
            StatusCode::TOO_MANY_REQUESTS => Attempt::Retry(retry_after(&response)),
            s if s.is_server_error() => Attempt::Retry(retry_after(&response)),
            s => Attempt::Done(Delivery::Failed(format!("the push service refused it: {s}"))),
        }
    }
}

enum Attempt {
    Done(Delivery),
    Retry(Option<Duration>),
}

/// `Retry-After` in seconds (the date form is not used by push services).
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let seconds = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AllowList;
    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode as Status};
    use axum::routing::post;
    use base64ct::{Base64UrlUnpadded, Encoding};
    use std::sync::{Arc, Mutex};
    use web_push_native::p256::SecretKey;
    use web_push_native::p256::elliptic_curve::rand_core::OsRng;
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

    /// A scripted answer: the status and a `Retry-After`.
    type Answer = (Status, Option<&'static str>);

    /// A push service on loopback that answers from a script and keeps what it got.
    #[derive(Clone, Default)]
    struct Service {
        answers: Arc<Mutex<Vec<Answer>>>,
        got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    }

    async fn receive(State(service): State<Service>, headers: HeaderMap, body: Bytes) -> (Status, HeaderMap) {
        service.got.lock().unwrap().push((headers, body));
        let (status, retry) = service.answers.lock().unwrap().pop().unwrap_or((Status::CREATED, None));
        let mut answer = HeaderMap::new();
        if let Some(retry) = retry {
            answer.insert("retry-after", retry.parse().unwrap());
        }
        (status, answer)
    }

    /// The service's base URL, and a subscription on it with its browser's private key.
    async fn start_service(answers: Vec<Answer>) -> (Service, Subscription, SecretKey) {
        let service =
            Service { answers: Arc::new(Mutex::new(answers.into_iter().rev().collect())), ..Service::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().route("/push/{id}", post(receive)).with_state(service.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let browser = SecretKey::random(&mut OsRng);
        let p256dh = Base64UrlUnpadded::encode_string(browser.public_key().to_encoded_point(false).as_bytes());
        let auth = Base64UrlUnpadded::encode_string(&[9u8; 16]);
        let endpoint = format!("http://127.0.0.1:{port}/push/1");
        let subscription = AllowList::new(vec![], true).check(&endpoint, &p256dh, &auth).unwrap();
        (service, subscription, browser)
    }

    fn pusher() -> Pusher {
        let config = PusherConfig { backoff: Duration::from_millis(10), ..PusherConfig::default() };
        Pusher::new(VapidKey::generate(), config).unwrap()
    }

    fn notice(text: &str) -> Notice {
        Notice {
            payload: text.as_bytes().to_vec(),
            ttl: Duration::from_secs(60),
            urgency: Urgency::High,
            topic: Some("chat-7".into()),
        }
    }

    #[tokio::test]
    async fn the_browser_decrypts_what_was_pushed_and_the_service_sees_a_vapid_signature() {
        let (service, subscription, browser) = start_service(vec![]).await;
        let pusher = pusher();
        assert_eq!(pusher.send(&subscription, &notice(r#"{"chat":7}"#)).await, Delivery::Delivered);
        let got = service.got.lock().unwrap();
        let (headers, body) = &got[0];
        let auth = web_push_native::Auth::clone_from_slice(&[9u8; 16]);
        let plain = web_push_native::decrypt(body.to_vec(), &browser, &auth).unwrap();
        assert_eq!(plain, br#"{"chat":7}"#);
        assert_eq!(headers["content-encoding"], "aes128gcm");
        assert_eq!(
            (&headers["urgency"], &headers["topic"], &headers["ttl"]),
            (&"high".parse().unwrap(), &"chat-7".parse().unwrap(), &"60".parse().unwrap())
        );
        let authorization = headers["authorization"].to_str().unwrap();
        assert!(authorization.starts_with("vapid t="), "{authorization}");
        assert!(authorization.ends_with(&format!("k={}", pusher.public_key())), "{authorization}");
    }

    #[tokio::test]
    async fn a_gone_subscription_is_reported_so_it_can_be_removed() {
        for status in [Status::GONE, Status::NOT_FOUND] {
            let (_service, subscription, _) = start_service(vec![(status, None)]).await;
            assert_eq!(pusher().send(&subscription, &notice("x")).await, Delivery::Gone);
        }
    }

    #[tokio::test]
    async fn busy_and_failing_services_are_retried_and_a_refusal_is_not() {
        let (service, subscription, _) =
            start_service(vec![(Status::TOO_MANY_REQUESTS, Some("0")), (Status::SERVICE_UNAVAILABLE, None)]).await;
        assert_eq!(pusher().send(&subscription, &notice("x")).await, Delivery::Delivered);
        assert_eq!(service.got.lock().unwrap().len(), 3);

        let (service, subscription, _) = start_service(vec![(Status::BAD_REQUEST, None)]).await;
        assert!(matches!(pusher().send(&subscription, &notice("x")).await, Delivery::Failed(_)));
        assert_eq!(service.got.lock().unwrap().len(), 1);

        let failing = vec![(Status::BAD_GATEWAY, None); 4];
        let (service, subscription, _) = start_service(failing).await;
        assert!(matches!(pusher().send(&subscription, &notice("x")).await, Delivery::Failed(_)));
        assert_eq!(service.got.lock().unwrap().len(), 4, "the first try and three retries");
    }

    #[tokio::test]
    async fn a_long_retry_after_gives_up_instead_of_waiting() {
        let (_service, subscription, _) = start_service(vec![(Status::TOO_MANY_REQUESTS, Some("3600"))]).await;
        assert!(matches!(pusher().send(&subscription, &notice("x")).await, Delivery::Failed(_)));
    }

    #[tokio::test]
    async fn a_payload_too_large_to_push_is_not_sent() {
        let (service, subscription, _) = start_service(vec![]).await;
        let big = "я".repeat(MAX_PAYLOAD);
        assert!(matches!(pusher().send(&subscription, &notice(&big)).await, Delivery::Failed(_)));
        assert!(service.got.lock().unwrap().is_empty());
    }
}
