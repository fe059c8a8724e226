//! Connection hygiene: hostile connections are closed on time and capped per
//! address while everyone else is served. Timeouts are configured short (one
//! or two seconds) so the suite stays quick; the margins allow a busy machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::chat::linked;
use common::{Options, TestApp, spawn_with};
use futures_util::StreamExt;
use serde_json::Value;
use server::connections::ConnectionLimits;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn short(max_per_address: usize, trusted_proxies: &[&str]) -> ConnectionLimits {
    ConnectionLimits {
        header_timeout_secs: 1,
        idle_timeout_secs: 2,
        hello_timeout_secs: 1,
        max_per_address,
        trusted_proxies: trusted_proxies.iter().map(|n| n.parse().unwrap()).collect(),
    }
}

async fn spawn(limits: ConnectionLimits) -> TestApp {
    spawn_with(Options { connections: Some(limits), ..Options::default() }).await
}

fn addr(app: &TestApp) -> SocketAddr {
    app.base.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to the server from `source` (any port).
async fn connect_from(app: &TestApp, source: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((source, 0))).unwrap();
    socket.connect(addr(app)).await.unwrap()
}

/// Waits until the server closes the connection (end of stream or reset);
/// how long that took, or `None` if it stayed open for `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((start + within).into(), stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            // A response (hyper may answer 408): keep reading until it closes.
            Ok(Ok(_)) => continue,
        }
    }
}

/// One plain request on a fresh connection from `source`; its status.
async fn get_from(app: &TestApp, source: [u8; 4], path: &str) -> Option<u16> {
    let mut stream = connect_from(app, source).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: parta\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response)).await.ok()?.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1)?.parse().ok()
}

#[tokio::test]
async fn idle_and_slow_header_connections_are_closed_on_time_while_another_client_is_served() {
    let app = spawn(short(10_000, &["127.0.0.1/32"])).await;
    let mut silent = Vec::new();
    for _ in 0..200 {
        silent.push(connect_from(&app, [127, 0, 0, 2]).await);
    }
    // Slowloris: a header line, then a byte every 200 ms, never finishing.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = connect_from(&app, [127, 0, 0, 2]).await;
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: parta\r\nX-Slow: ").await.unwrap();
        slow.push(stream);
    }
    let trickle = tokio::spawn(async move {
        for _ in 0..25 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            for stream in &mut slow {
                let _ = stream.write_all(b"a").await;
            }
        }
        slow
    });
    // Meanwhile another user is served, every time, quickly.
    let client = reqwest::Client::new();
    for _ in 0..10 {
        let started = Instant::now();
        let res = client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(started.elapsed() < Duration::from_millis(500), "served in {:?}", started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for stream in &mut silent {
        let closed = closed_within(stream, Duration::from_secs(3)).await;
        assert!(closed.is_some(), "a silent connection must be closed after the 1 s header timeout");
    }
    let mut slow = trickle.await.unwrap();
    for stream in &mut slow {
        assert!(
            closed_within(stream, Duration::from_secs(1)).await.is_some(),
            "headers trickling past the 1 s timeout must be cut off, however busy the trickle"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn a_connection_is_not_closed_before_its_header_timeout() {
    let app = spawn(short(10_000, &[])).await;
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    let closed = closed_within(&mut stream, Duration::from_secs(4)).await.expect("closed");
    assert!(closed >= Duration::from_millis(900), "closed after {closed:?}, before the timeout");
    app.finish().await;
}

#[tokio::test]
async fn a_kept_alive_connection_waiting_for_its_next_request_is_closed_after_the_header_timeout() {
    let app = spawn(short(10_000, &[])).await;
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: parta\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 512];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(closed_within(&mut stream, Duration::from_secs(3)).await.is_some());
    app.finish().await;
}

#[tokio::test]
async fn a_request_whose_body_stalls_is_closed_after_the_idle_timeout() {
    let app = spawn(short(10_000, &[])).await;
    let mut stream = connect_from(&app, [127, 0, 0, 1]).await;
    let head =
        "POST /api/session HTTP/1.1\r\nHost: parta\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"{\"login\":").await.unwrap();
    let closed = closed_within(&mut stream, Duration::from_secs(5)).await.expect("a stalled body must be cut off");
    assert!(closed >= Duration::from_millis(1_800), "closed after {closed:?}, before the 2 s idle timeout");
    app.finish().await;
}

#[tokio::test]
async fn one_address_holds_at_most_its_cap_and_other_addresses_are_served() {
    let app = spawn(short(20, &[])).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(connect_from(&app, [127, 0, 0, 5]).await);
    }
    // Let the server take them all before the one over the cap.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut over = connect_from(&app, [127, 0, 0, 5]).await;
    let refused = closed_within(&mut over, Duration::from_millis(500)).await;
    assert!(refused.is_some(), "the 21st connection from one address is closed at once");
    assert_eq!(get_from(&app, [127, 0, 0, 6], "/healthz").await, Some(200), "another address is served");
    held.truncate(10);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(get_from(&app, [127, 0, 0, 5], "/healthz").await, Some(200), "closing connections frees slots");
    app.finish().await;
}

/// A request through a trusted proxy that stays in flight: its body never ends.
async fn proxied_request_in_flight(app: &TestApp, source: [u8; 4], client: &str) -> TcpStream {
    let mut stream = connect_from(app, source).await;
    let head = format!(
        "POST /api/session HTTP/1.1\r\nHost: parta\r\nX-Forwarded-For: {client}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

async fn proxied_status(app: &TestApp, source: [u8; 4], client: &str) -> Value {
    let mut stream = connect_from(app, source).await;
    let request = format!(
        "GET /api/me HTTP/1.1\r\nHost: parta\r\nX-Forwarded-For: 6.6.6.6, {client}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.split(' ').nth(1).unwrap().to_string();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::json!({ "status": status, "body": serde_json::from_str::<Value>(body).unwrap_or_default() })
}

#[tokio::test]
async fn a_trusted_proxy_is_exempt_and_its_clients_are_counted_by_x_forwarded_for() {
    let app = spawn(short(2, &["127.0.0.1/32"])).await;
    // Two requests in flight for one client, each on its own proxy connection.
    let _a = proxied_request_in_flight(&app, [127, 0, 0, 1], "198.51.100.9").await;
    let _b = proxied_request_in_flight(&app, [127, 0, 0, 1], "198.51.100.9").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let third = proxied_status(&app, [127, 0, 0, 1], "198.51.100.9").await;
    assert_eq!(third["status"], "429", "{third}");
    assert_eq!(third["body"]["code"], "too_many_connections");
    // Another client of the same proxy is served: the proxy itself is exempt.
    let other = proxied_status(&app, [127, 0, 0, 1], "198.51.100.10").await;
    assert_eq!(other["status"], "401", "{other}");
    // From a peer that is not a trusted proxy, X-Forwarded-For proves nothing:
    // the peer's own address is counted (and has room).
    let spoofed = proxied_status(&app, [127, 0, 0, 7], "198.51.100.9").await;
    assert_eq!(spoofed["status"], "401", "{spoofed}");
    app.finish().await;
}

#[tokio::test]
async fn a_websocket_that_never_says_hello_is_closed_after_the_hello_timeout() {
    // Keep-alive connections of the sign-in steps stay open meanwhile.
    let app = spawn(ConnectionLimits { header_timeout_secs: 10, idle_timeout_secs: 10, ..short(10_000, &[]) }).await;
    let person = linked(&app, "teacher1", "+79120000001").await;
    let url = app.url("/api/ws").replacen("http", "ws", 1);
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("cookie", person.cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let started = Instant::now();
    let bye = tokio::time::timeout(Duration::from_secs(4), ws.next()).await.expect("closed in time");
    let text = bye.unwrap().unwrap().into_text().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["reason"], "protocol");
    assert!(started.elapsed() >= Duration::from_millis(900), "not before the timeout: {:?}", started.elapsed());
    app.finish().await;
}
