//! Connection hygiene: the accept loop and what it refuses, so one client
//! cannot stop a school. Before this, a connection that sent nothing (or its
//! headers a byte at a time) was never closed, and 1,100 of them from one
//! address made `/healthz` time out for as long as they stayed.
//!
//! - A request's head must arrive whole within `header_timeout`, and a
//!   keep-alive connection waiting for its next request closes after the same
//!   time (hyper's header-read timer, which `axum::serve` does not expose).
//! - A connection that is not a WebSocket closes when no byte has moved either
//!   way for `idle_timeout` (a stalled body, a client that stops reading).
//! - A WebSocket's `hello` must come within `hello_timeout` (`messenger::ws`).
//! - One address holds at most `per_address` connections at once. Trusted
//!   proxies (loopback by default) are exempt; the requests they forward are
//!   counted against the address in `X-Forwarded-For`, believed only from them.
//! - Accept errors (out of file descriptors) back off instead of spinning.

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use serde::Deserialize;
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;

/// How the server treats connections (`[connections]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Seconds for a request's head to arrive whole; also how long a
    /// keep-alive connection waits for its next request.
    pub header_timeout_secs: u64,
    /// Seconds without a byte either way after which a connection that is not
    /// a WebSocket closes.
    pub idle_timeout_secs: u64,
    /// Seconds for a WebSocket's first frame, the `hello`.
    pub hello_timeout_secs: u64,
    /// Connections one address may hold at once (a school behind one NAT
    /// address is many people: keep it generous).
    pub max_per_address: usize,
    /// Addresses or networks of reverse proxies: exempt from the cap, and the
    /// only peers whose `X-Forwarded-For` is believed. A list, or one string
    /// of them separated by commas (as an environment variable gives it); a
    /// bare address is a network of one.
    #[serde(deserialize_with = "networks")]
    pub trusted_proxies: Vec<IpNet>,
}

fn networks<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        List(Vec<String>),
        Joined(String),
    }
    let given = match Given::deserialize(deserializer)? {
        Given::List(list) => list,
        Given::Joined(joined) => joined.split(',').map(str::to_string).collect(),
    };
    given
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an address or network")))
        })
        .collect()
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            // A browser sends its headers in one packet; a slow mobile network
            // takes a second or two.
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            hello_timeout_secs: 10,
            max_per_address: 1000,
            trusted_proxies: vec![
                IpNet::new(IpAddr::from([127, 0, 0, 0]), 8).unwrap_or_default(),
                IpNet::new(IpAddr::from(Ipv6Addr::LOCALHOST), 128).unwrap_or_default(),
            ],
        }
    }
}

impl ConnectionLimits {
    /// The first setting that would make the server unusable, described.
    pub fn check(&self) -> Result<(), String> {
        for (name, secs) in [
            ("header_timeout_secs", self.header_timeout_secs),
            ("idle_timeout_secs", self.idle_timeout_secs),
            ("hello_timeout_secs", self.hello_timeout_secs),
        ] {
            if secs == 0 {
                return Err(format!("{name} must be 1 second or more"));
            }
        }
        if self.max_per_address == 0 {
            return Err("max_per_address must be 1 or more".into());
        }
        Ok(())
    }

    pub fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_secs)
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn hello_timeout(&self) -> Duration {
        Duration::from_secs(self.hello_timeout_secs)
    }

    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client a trusted proxy forwarded for: the right-most address of
    /// `X-Forwarded-For` that is not itself a trusted proxy (the ones to its
    /// left were written by the client and prove nothing).
    fn forwarded_client(&self, headers: &axum::http::HeaderMap) -> Option<IpAddr> {
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = None;
        for hop in hops.iter().rev() {
            // Only the client writes garbage: the hop to its right is the client.
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = Some(ip.to_canonical());
            if !self.is_trusted(ip) {
                break;
            }
        }
        client
    }
}

/// The connection limits and the count of connections per address, shared by
/// the accept loop and the middleware that counts proxied requests.
pub struct Connections {
    pub limits: ConnectionLimits,
    slots: Mutex<HashMap<IpAddr, usize>>,
}

impl Default for Connections {
    fn default() -> Self {
        Connections::new(ConnectionLimits::default())
    }
}

/// One connection (or proxied request) of an address; the count goes down
/// when it drops.
pub struct Slot {
    owner: Arc<Connections>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut slots = self.owner.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = slots.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                slots.remove(&self.key);
            }
        }
    }
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Self {
        Connections { limits, slots: Mutex::default() }
    }

    /// A slot for `ip`, unless it already holds `max_per_address`.
    pub fn take(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let key = address_key(ip);
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let n = slots.entry(key).or_default();
        if *n >= self.limits.max_per_address {
            return None;
        }
        *n += 1;
        Some(Slot { owner: Arc::clone(self), key })
    }

    /// Connections `ip` holds now.
    pub fn held_by(&self, ip: IpAddr) -> usize {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner).get(&address_key(ip)).copied().unwrap_or(0)
    }
}

/// Whom a connection is counted against: an IPv4 address, or an IPv6 /64
/// (the smallest network one subscriber is given, so rotating addresses
/// inside it gains nothing).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The address of the person behind a request: the peer, or for a trusted
/// proxy the client it forwarded for. Handlers use it for per-address limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let found = parts.extensions.get::<ClientAddr>().copied();
        Ok(found.or(peer.map(ClientAddr)).unwrap_or(ClientAddr(IpAddr::from([0, 0, 0, 0]))))
    }
}

/// A proxied request's slot. A WebSocket keeps it for the socket's life.
#[derive(Clone)]
pub struct ProxiedSlot {
    _slot: Arc<Slot>,
}

/// Finds the client behind each request, and counts a trusted proxy's
/// requests against the address it forwarded for.
pub async fn client_address(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(request).await;
    };
    let connections = &state.connections;
    let forwarded = if connections.limits.is_trusted(peer.ip()) {
        connections.limits.forwarded_client(request.headers()).filter(|ip| !connections.limits.is_trusted(*ip))
    } else {
        None
    };
    request.extensions_mut().insert(ClientAddr(forwarded.unwrap_or(peer.ip())));
    let Some(client) = forwarded else {
        return next.run(request).await;
    };
    let Some(slot) = connections.take(client) else {
        return crate::error::TOO_MANY_CONNECTIONS.retry_after(5).into_response();
    };
    // Held here until the handler answers (an extractor may drop the
    // request's extensions before it reads the body), and by a WebSocket
    // through its copy in the extensions.
    let slot = ProxiedSlot { _slot: Arc::new(slot) };
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    drop(slot);
    response
}

/// Accept errors that are about one connection (it went before we took it):
/// the next accept can follow at once.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// How long to wait after failed accepts: out of file descriptors (or
/// memory), retrying at once only spins; waiting long refuses everyone even
/// after the descriptors come back. Doubles from 5 ms to 1 s.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    failures: u32,
}

impl AcceptBackoff {
    const FIRST: Duration = Duration::from_millis(5);
    const MAX: Duration = Duration::from_secs(1);

    /// The wait after one more failure.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        Self::FIRST.saturating_mul(1 << (self.failures - 1).min(16)).min(Self::MAX)
    }

    /// An accept succeeded; returns how many failed before it.
    pub fn succeeded(&mut self) -> u32 {
        std::mem::take(&mut self.failures)
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the
/// requests in flight finish.
pub(crate) async fn serve_app(
    listener: TcpListener,
    app: axum::Router,
    connections: Arc<Connections>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // Every connection task holds a receiver: all have ended when it closes.
    let (open_tx, open_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    let mut backoff = AcceptBackoff::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => {
                let failed = backoff.succeeded();
                if failed > 0 {
                    tracing::info!(failed, "accepting connections again");
                }
                accepted
            }
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                let wait = backoff.failed();
                // Logged once per episode, not once per try.
                if wait == AcceptBackoff::FIRST {
                    tracing::error!(error = %e, "accept error: backing off");
                }
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        let slot = if connections.limits.is_trusted(peer.ip()) {
            None
        } else {
            match connections.take(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    tracing::debug!(%peer, "connection refused: too many from this address");
                    continue;
                }
            }
        };
        // Without TCP_NODELAY an ack written right after a frame waits for the
        // client's delayed ACK (~40 ms): Nagle's algorithm capped a chat at a
        // few hundred messages a second.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        // The peer address feeds per-address limits (`ClientAddr`, the SMS limit).
        let service = tower::Layer::layer(&axum::Extension(ConnectInfo(peer)), app.clone());
        let limits = connections.limits.clone();
        let (stop, open) = (stop_rx.clone(), open_rx.clone());
        tokio::spawn(async move {
            serve_connection(tcp, slot, service, &limits, stop).await;
            drop(open);
        });
    }
    drop(listener);
    stop_tx.send_replace(true);
    drop(open_rx);
    open_tx.closed().await;
    Ok(())
}

async fn serve_connection<S>(
    tcp: TcpStream,
    slot: Option<Slot>,
    service: S,
    limits: &ConnectionLimits,
    mut stop: watch::Receiver<bool>,
) where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let io = Tracked { inner: tcp, activity: Arc::clone(&activity), _slot: slot };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout());
    let service = hyper_util::service::TowerToHyperService::new(service);
    // An upgraded connection (a WebSocket) leaves this future with its IO,
    // slot included; from then on the socket's own timers watch it.
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service).with_upgrades());
    let idle = limits.idle_timeout();
    let mut stopping = false;
    loop {
        let quiet_until = activity.last() + idle;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            () = tokio::time::sleep_until(quiet_until) => {
                if activity.last() + idle <= Instant::now() {
                    tracing::debug!("idle connection closed");
                    return;
                }
            }
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When a connection last moved a byte, as milliseconds since it opened (on
/// tokio's clock, which tests can pause).
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity { opened: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// A TCP stream that notes when bytes move and holds its address's slot.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    _slot: Option<Slot>,
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    fn limits(trusted: &[&str], max: usize) -> Arc<Connections> {
        Arc::new(Connections::new(ConnectionLimits {
            max_per_address: max,
            trusted_proxies: trusted.iter().map(|n| n.parse().unwrap()).collect(),
            ..ConnectionLimits::default()
        }))
    }

    #[test]
    fn an_address_holds_at_most_its_cap_and_a_closed_connection_frees_its_slot() {
        let connections = limits(&[], 2);
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let first = connections.take(ip).unwrap();
        let _second = connections.take(ip).unwrap();
        assert!(connections.take(ip).is_none());
        assert!(connections.take("203.0.113.8".parse().unwrap()).is_some(), "another address is not affected");
        drop(first);
        assert!(connections.take(ip).is_some());
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let connections = limits(&[], 1);
        let _held = connections.take("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(connections.take("2001:db8:1:2:ffff::9".parse().unwrap()).is_none());
        assert!(connections.take("2001:db8:1:3::1".parse().unwrap()).is_some());
        let _v4 = connections.take("198.51.100.1".parse().unwrap()).unwrap();
        assert!(connections.take("::ffff:198.51.100.1".parse().unwrap()).is_none());
    }

    #[test]
    fn loopback_is_trusted_unless_the_list_says_otherwise() {
        let default = ConnectionLimits::default();
        assert!(default.is_trusted("127.0.0.1".parse().unwrap()));
        assert!(default.is_trusted("::1".parse().unwrap()));
        assert!(!default.is_trusted("192.0.2.1".parse().unwrap()));
        assert!(!limits(&["10.0.0.0/8"], 1).limits.is_trusted("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_forwarded_client_is_the_rightmost_address_no_trusted_proxy_wrote() {
        let limits = &limits(&["10.0.0.0/8"], 1).limits;
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.0.0.2".parse().unwrap());
        assert_eq!(limits.forwarded_client(&headers), Some("198.51.100.4".parse().unwrap()));
        headers.insert("x-forwarded-for", "garbage, 198.51.100.4".parse().unwrap());
        assert_eq!(limits.forwarded_client(&headers), Some("198.51.100.4".parse().unwrap()));
        headers.insert("x-forwarded-for", "garbage, 10.0.0.3, 10.0.0.2".parse().unwrap());
        assert_eq!(limits.forwarded_client(&headers), Some("10.0.0.3".parse().unwrap()));
        headers.insert("x-forwarded-for", "10.0.0.9".parse().unwrap());
        assert_eq!(limits.forwarded_client(&headers), Some("10.0.0.9".parse().unwrap()));
        assert_eq!(limits.forwarded_client(&HeaderMap::new()), None);
    }

    #[test]
    fn accept_failures_back_off_doubling_to_a_second_and_start_again_after_success() {
        let mut backoff = AcceptBackoff::default();
        let waits: Vec<u128> = (0..10).map(|_| backoff.failed().as_millis()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        assert_eq!(backoff.succeeded(), 10);
        assert_eq!(backoff.failed(), Duration::from_millis(5));
    }
}
