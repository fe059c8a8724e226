//! Hostile connections: N connections from one source address that send
//! nothing or trickle their headers a byte at a time (slowloris), reopened as
//! soon as the server closes them, while another user, from another address,
//! makes plain requests on fresh connections. Measures that user's latency
//! (the issue "one client must not stop a school": under 2,000 hostile
//! connections, served within 100 ms p99) and how the server treated the
//! hostile ones (how long it let them live, how many it refused at once).

use crate::client;
use crate::stats::Histogram;
use crate::{Error, Result, loopback_addr};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// What a hostile connection does once open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Behaviour {
    /// Sends nothing.
    Silent,
    /// Sends a request line and one header byte a second, never finishing.
    Slow,
    /// Half of each.
    Mixed,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub url: String,
    pub connections: usize,
    pub behaviour: Behaviour,
    pub hostile_source: IpAddr,
    pub user_source: IpAddr,
    /// What the other user asks for, and with which cookie.
    pub user_path: String,
    pub user_cookie: Option<String>,
    /// Between two of the user's requests.
    pub user_interval: Duration,
    /// Before the user starts: the hostile connections open meanwhile.
    pub ramp: Duration,
    pub seconds: Duration,
    /// Connection attempts at once while (re)opening hostile connections.
    pub connect_concurrency: usize,
    /// How soon a connection the server refused at once tries again.
    pub retry_refused: Duration,
}

#[derive(Debug, Default)]
pub struct Report {
    /// The user's requests: answered 2xx, and how fast (µs, connect included).
    pub user_ok: u64,
    pub user_failed: u64,
    pub user_first_failure: Option<String>,
    pub user_latency: Histogram,
    /// Hostile connections opened in all (reopened ones included).
    pub opened: u64,
    /// Closed by the server within 100 ms of opening: refused at once.
    pub refused: u64,
    /// Closed by the server later: how long each lived (ms).
    pub timed_out: u64,
    pub lifetime_ms: Histogram,
    pub connect_failed: u64,
    /// Hostile connections open at the end.
    pub open_at_end: u64,
}

#[derive(Default)]
struct Counters {
    opened: AtomicU64,
    refused: AtomicU64,
    timed_out: AtomicU64,
    connect_failed: AtomicU64,
    open: AtomicU64,
}

/// One hostile connection, reopened until `deadline`; returns the lifetimes
/// (ms) of the ones the server closed after the first 100 ms.
async fn hostile(
    addr: SocketAddr,
    source: IpAddr,
    slow: bool,
    deadline: Instant,
    retry_refused: Duration,
    counters: Arc<Counters>,
    gate: Arc<Semaphore>,
) -> Vec<u64> {
    let mut lifetimes = Vec::new();
    while Instant::now() < deadline {
        let stream = {
            let _permit = gate.acquire().await;
            client::tcp(addr, Some(source)).await
        };
        let Ok(mut stream) = stream else {
            counters.connect_failed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        counters.opened.fetch_add(1, Ordering::Relaxed);
        counters.open.fetch_add(1, Ordering::Relaxed);
        let opened = Instant::now();
        let closed = hold(&mut stream, slow, deadline).await;
        counters.open.fetch_sub(1, Ordering::Relaxed);
        if !closed {
            // The run ended with it still open.
            counters.open.fetch_add(1, Ordering::Relaxed);
            break;
        }
        let lived = opened.elapsed();
        if lived < Duration::from_millis(100) {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(retry_refused).await;
        } else {
            counters.timed_out.fetch_add(1, Ordering::Relaxed);
            lifetimes.push(u64::try_from(lived.as_millis()).unwrap_or(u64::MAX));
        }
    }
    lifetimes
}

/// Keeps a connection open the hostile way until the server closes it
/// (`true`) or the run ends (`false`).
async fn hold(stream: &mut TcpStream, slow: bool, deadline: Instant) -> bool {
    let (mut read, mut write) = stream.split();
    if slow && write.write_all(b"GET / HTTP/1.1\r\nHost: parta\r\nX-Slow: ").await.is_err() {
        return true;
    }
    let mut buf = [0u8; 512];
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            read = read.read(&mut buf) => match read {
                Ok(0) | Err(_) => return true,
                // A 408 or an error page: the close follows.
                Ok(_) => {}
            },
            _ = tick.tick(), if slow => {
                if write.write_all(b"a").await.is_err() {
                    return true;
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => return false,
        }
    }
}

/// One request on a fresh connection; its status.
async fn user_request(addr: SocketAddr, config: &Config) -> Result<u16> {
    let mut stream = client::tcp(addr, Some(config.user_source)).await?;
    let cookie = config.user_cookie.as_deref().map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request = format!("GET {} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n", config.user_path);
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).to_string();
    head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| Error::Protocol(format!("no status: {head:?}")))
}

pub async fn run(config: &Config) -> Result<Report> {
    let addr = loopback_addr(&config.url)?;
    for ip in [config.hostile_source, config.user_source] {
        if !ip.is_loopback() {
            return Err(Error::NotLoopback(ip.to_string()));
        }
    }
    if config.hostile_source == config.user_source {
        return Err(Error::Config("the user must come from another address than the hostile connections".into()));
    }
    let counters = Arc::new(Counters::default());
    let gate = Arc::new(Semaphore::new(config.connect_concurrency.max(1)));
    let deadline = Instant::now() + config.ramp + config.seconds;
    let hostiles: Vec<_> = (0..config.connections)
        .map(|i| {
            let slow = match config.behaviour {
                Behaviour::Silent => false,
                Behaviour::Slow => true,
                Behaviour::Mixed => i % 2 == 1,
            };
            let (counters, gate) = (counters.clone(), gate.clone());
            tokio::spawn(hostile(addr, config.hostile_source, slow, deadline, config.retry_refused, counters, gate))
        })
        .collect();
    tokio::time::sleep(config.ramp).await;

    let mut report = Report::default();
    let mut next = Instant::now();
    while next < deadline {
        let started = Instant::now();
        match tokio::time::timeout(Duration::from_secs(5), user_request(addr, config)).await {
            Ok(Ok(status)) if (200..300).contains(&status) => {
                report.user_ok += 1;
                report.user_latency.record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
            }
            other => {
                report.user_failed += 1;
                let why = match other {
                    Ok(Ok(status)) => format!("status {status}"),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer within 5 s".to_string(),
                };
                report.user_first_failure.get_or_insert(why);
            }
        }
        next += config.user_interval;
        tokio::time::sleep_until(next.into()).await;
    }
    for task in hostiles {
        if let Ok(lifetimes) = task.await {
            for ms in lifetimes {
                report.lifetime_ms.record(ms);
            }
        }
    }
    report.opened = counters.opened.load(Ordering::Relaxed);
    report.refused = counters.refused.load(Ordering::Relaxed);
    report.timed_out = counters.timed_out.load(Ordering::Relaxed);
    report.connect_failed = counters.connect_failed.load(Ordering::Relaxed);
    report.open_at_end = counters.open.load(Ordering::Relaxed);
    Ok(report)
}
