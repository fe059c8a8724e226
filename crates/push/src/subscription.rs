use base64ct::{Base64UrlUnpadded, Encoding};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use web_push_native::Auth;
use web_push_native::p256::PublicKey;

/// The push services of the browsers people use: Chrome, Edge on Android and
/// most Chromium browsers (FCM), Firefox (Mozilla autopush), Edge on Windows
/// (WNS), Safari (Apple). A `*.` entry allows every subdomain.
pub const BROWSER_PUSH_SERVICES: &[&str] = &[
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
];

/// Longest endpoint kept: real ones are under 600 characters.
const MAX_ENDPOINT: usize = 1_000;

/// A browser's push subscription as stored: where to send and the keys to
/// encrypt to. Made only through [`AllowList::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub endpoint: String,
    /// The browser's P-256 public key, uncompressed, base64url.
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, base64url.
    pub auth: String,
}

impl Subscription {
    /// The decoded keys; `None` only for a row written by something other
    /// than [`AllowList::check`].
    pub(crate) fn keys(&self) -> Option<(PublicKey, Auth)> {
        let public = PublicKey::from_sec1_bytes(&decode(&self.p256dh)?).ok()?;
        let auth = decode(&self.auth)?;
        (auth.len() == 16).then(|| (public, Auth::clone_from_slice(&auth)))
    }
}

fn decode(text: &str) -> Option<Vec<u8>> {
    // Browsers send base64url without padding; some libraries add it.
    Base64UrlUnpadded::decode_vec(text.trim_end_matches('=')).ok()
}

/// Why a subscription was refused. Each names the problem for the person
/// setting it up (the server maps them to stable error codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    #[error("the endpoint is not a URL")]
    NotAUrl,
    #[error("the endpoint must use https")]
    NotHttps,
    #[error("{0} is not a push service this server sends to")]
    NotAllowed(String),
    #[error("keys.p256dh is not a P-256 public key in base64url")]
    BadPublicKey,
    #[error("keys.auth is not a 16-byte secret in base64url")]
    BadAuth,
}

/// Which endpoints subscriptions may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowList {
    hosts: Vec<String>,
    /// Demo mode and tests: `http://127.0.0.1:…` too, for a local receiver.
    loopback_http: bool,
}

impl Default for AllowList {
    fn default() -> AllowList {
        AllowList::new(BROWSER_PUSH_SERVICES.iter().map(|h| (*h).to_owned()).collect(), false)
    }
}

impl AllowList {
    pub fn new(hosts: Vec<String>, loopback_http: bool) -> AllowList {
        let hosts = hosts.into_iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        AllowList { hosts, loopback_http }
    }

    /// A browser's subscription, if its endpoint is allowed and its keys are
    /// well-formed.
    pub fn check(&self, endpoint: &str, p256dh: &str, auth: &str) -> Result<Subscription, SubscriptionError> {
        if endpoint.len() > MAX_ENDPOINT {
            return Err(SubscriptionError::NotAUrl);
        }
        let url = Url::parse(endpoint).map_err(|_| SubscriptionError::NotAUrl)?;
        let host = url.host_str().ok_or(SubscriptionError::NotAUrl)?.to_ascii_lowercase();
        // Credentials in the URL would be sent along: no service needs them.
        if !url.username().is_empty() || url.password().is_some() {
            return Err(SubscriptionError::NotAllowed(host));
        }
        let local_receiver =
            self.loopback_http && host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match url.scheme() {
            "https" => {}
            "http" if local_receiver => {}
            _ => return Err(SubscriptionError::NotHttps),
        }
        if !local_receiver && !self.hosts.iter().any(|allowed| matches(allowed, &host)) {
            return Err(SubscriptionError::NotAllowed(host));
        }
        // Kept as the browser wrote it: that is what it names on unsubscribing.
        let subscription = Subscription {
            endpoint: endpoint.to_owned(),
            p256dh: p256dh.trim().to_owned(),
            auth: auth.trim().to_owned(),
        };
        let key = decode(&subscription.p256dh).ok_or(SubscriptionError::BadPublicKey)?;
        PublicKey::from_sec1_bytes(&key).map_err(|_| SubscriptionError::BadPublicKey)?;
        if decode(&subscription.auth).is_none_or(|a| a.len() != 16) {
            return Err(SubscriptionError::BadAuth);
        }
        Ok(subscription)
    }
}

fn matches(allowed: &str, host: &str) -> bool {
    match allowed.strip_prefix("*.") {
        Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
        None => allowed == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use web_push_native::p256::SecretKey;
    use web_push_native::p256::elliptic_curve::rand_core::OsRng;
    use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;

    fn keys() -> (String, String) {
        let public = SecretKey::random(&mut OsRng).public_key().to_encoded_point(false);
        (Base64UrlUnpadded::encode_string(public.as_bytes()), Base64UrlUnpadded::encode_string(&[7u8; 16]))
    }

    #[test]
    fn a_browser_push_service_endpoint_with_good_keys_is_accepted() {
        let (p256dh, auth) = keys();
        for endpoint in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAA",
            "https://wns2-par02p.notify.windows.com/w/?token=BQYA",
            "https://web.push.apple.com/QGuQ",
        ] {
            let sub = AllowList::default().check(endpoint, &p256dh, &auth).unwrap();
            assert!(sub.keys().is_some(), "{endpoint}");
        }
    }

    #[test]
    fn endpoints_into_the_schools_network_are_refused() {
        let (p256dh, auth) = keys();
        let list = AllowList::default();
        let refused = |endpoint: &str| list.check(endpoint, &p256dh, &auth).unwrap_err();
        assert_eq!(refused("http://fcm.googleapis.com/fcm/send/x"), SubscriptionError::NotHttps);
        assert_eq!(refused("https://10.0.0.5/push"), SubscriptionError::NotAllowed("10.0.0.5".into()));
        assert_eq!(refused("http://127.0.0.1:9000/push"), SubscriptionError::NotHttps, "only in demo mode");
        assert_eq!(
            refused("https://fcm.googleapis.com.evil.example/x"),
            SubscriptionError::NotAllowed("fcm.googleapis.com.evil.example".into())
        );
        assert_eq!(refused("https://notify.windows.com/x"), SubscriptionError::NotAllowed("notify.windows.com".into()));
        assert_eq!(
            refused("https://user:pw@fcm.googleapis.com/x"),
            SubscriptionError::NotAllowed("fcm.googleapis.com".into())
        );
        assert_eq!(refused("file:///etc/passwd"), SubscriptionError::NotAUrl);
        assert_eq!(refused("not a url"), SubscriptionError::NotAUrl);
    }

    #[test]
    fn demo_mode_also_allows_a_receiver_on_loopback() {
        let (p256dh, auth) = keys();
        let list = AllowList::new(vec![], true);
        assert!(list.check("http://127.0.0.1:9000/push/1", &p256dh, &auth).is_ok());
        assert!(list.check("http://[::1]:9000/push/1", &p256dh, &auth).is_ok());
        assert_eq!(list.check("http://192.168.1.10/push", &p256dh, &auth).unwrap_err(), SubscriptionError::NotHttps);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let (p256dh, auth) = keys();
        let list = AllowList::default();
        let endpoint = "https://fcm.googleapis.com/fcm/send/x";
        assert_eq!(list.check(endpoint, "AAAA", &auth).unwrap_err(), SubscriptionError::BadPublicKey);
        assert_eq!(list.check(endpoint, "!!", &auth).unwrap_err(), SubscriptionError::BadPublicKey);
        assert_eq!(list.check(endpoint, &p256dh, "AAAA").unwrap_err(), SubscriptionError::BadAuth);
        assert_eq!(list.check(endpoint, &p256dh, "").unwrap_err(), SubscriptionError::BadAuth);
    }
}
