//! W2: N authenticated, idle WebSocket connections. Measures the server's
//! resident memory before and after, per connection.
//!
//! One source address has about 28,000 ephemeral ports towards one server
//! address (`net.ipv4.ip_local_port_range`), so connections are spread over
//! several loopback source addresses (127.0.0.2, 127.0.0.3, …: all of
//! 127.0.0.0/8 is this machine), `per_source` each. Connecting is bounded:
//! at most `concurrency` handshakes at once, since every one costs the server
//! two queries on its pool of eight SQLite connections.

use crate::client;
use crate::frames::Incoming;
use crate::procstat;
use crate::{Error, Result};
use futures_util::{SinkExt, StreamExt};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone)]
pub struct Config {
    /// The server, or a cluster's nodes: connection `i` goes to `urls[i % len]`.
    pub urls: Vec<String>,
    pub cookies: Vec<String>,
    pub concurrency: usize,
    /// Source addresses, in order; each takes `per_source` connections.
    pub sources: Vec<Ipv4Addr>,
    pub per_source: usize,
    /// How long the connections stay open, idle, before the "after" reading.
    pub settle: Duration,
    /// The server's processes (one per node): their memory is summed.
    pub pids: Vec<u32>,
    /// Give up connecting after this long.
    pub connect_deadline: Duration,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub wanted: usize,
    pub connected: usize,
    pub failed: usize,
    pub first_failure: Option<String>,
    pub connect_seconds: f64,
    /// Connections still open at the "after" reading.
    pub alive: u64,
    pub rss_before_kib: Option<u64>,
    pub rss_after_kib: Option<u64>,
    pub hwm_after_kib: Option<u64>,
    /// Once the connections closed again.
    pub rss_closed_kib: Option<u64>,
    pub generator_rss_kib: Option<u64>,
}

impl Report {
    /// (after − before) / connected, in bytes.
    pub fn bytes_per_connection(&self) -> Option<f64> {
        let (before, after) = (self.rss_before_kib?, self.rss_after_kib?);
        (self.connected > 0).then(|| (after as f64 - before as f64) * 1024.0 / self.connected as f64)
    }
}

pub async fn run(config: &Config) -> Result<Report> {
    let need_sources = config.cookies.len().div_ceil(config.per_source.max(1));
    if need_sources > config.sources.len() {
        return Err(Error::Protocol(format!(
            "{} connections at {} per source address need {need_sources} source addresses, {} given",
            config.cookies.len(),
            config.per_source,
            config.sources.len()
        )));
    }
    if config.urls.is_empty() {
        return Err(Error::Protocol("no server to connect to".into()));
    }
    let pids: Vec<String> = config.pids.iter().map(u32::to_string).collect();
    let rss = || procstat::status_kib_sum(&pids, "VmRSS");
    let rss_before_kib = rss();

    let (stop_tx, stop_rx) = watch::channel(false);
    let alive = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + config.connect_deadline;
    let results: Vec<Result<()>> = futures_util::stream::iter(config.cookies.iter().enumerate())
        .map(|(i, cookie)| {
            let source = IpAddr::V4(config.sources[i / config.per_source.max(1)]);
            let url = config.urls[i % config.urls.len()].clone();
            let (cookie, stop, alive) = (cookie.clone(), stop_rx.clone(), Arc::clone(&alive));
            async move {
                if Instant::now() > deadline {
                    return Err(Error::Timeout("the connect deadline passed".into()));
                }
                let ws = tokio::time::timeout(Duration::from_secs(60), open(&url, &cookie, source))
                    .await
                    .map_err(|_| Error::Timeout("a handshake took over 60 s".into()))??;
                alive.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(hold(ws, stop, alive));
                Ok(())
            }
        })
        .buffer_unordered(config.concurrency.max(1))
        .collect()
        .await;
    let connect_seconds = start.elapsed().as_secs_f64();
    let connected = results.iter().filter(|r| r.is_ok()).count();
    let first_failure = results.iter().find_map(|r| r.as_ref().err().map(|e| e.to_string()));

    tokio::time::sleep(config.settle).await;
    let rss_after_kib = rss();
    let hwm_after_kib = procstat::status_kib_sum(&pids, "VmHWM");
    let alive_now = alive.load(Ordering::Relaxed);
    let generator_rss_kib = procstat::status_kib("self", "VmRSS");

    let _ = stop_tx.send(true);
    // Let the server see the closes and free what it held.
    let closing = Instant::now();
    while alive.load(Ordering::Relaxed) > 0 && closing.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_closed_kib = rss();

    Ok(Report {
        wanted: config.cookies.len(),
        connected,
        failed: config.cookies.len() - connected,
        first_failure,
        connect_seconds,
        alive: alive_now,
        rss_before_kib,
        rss_after_kib,
        hwm_after_kib,
        rss_closed_kib,
        generator_rss_kib,
    })
}

async fn open(url: &str, cookie: &str, source: IpAddr) -> Result<client::Ws> {
    let mut ws = client::connect(url, Some(cookie), Some(source)).await?;
    ws.send(Message::Text(client::hello(&[]).into())).await?;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message?
            && Incoming::parse(&text).is_some_and(|f| f.kind == "ready")
        {
            return Ok(ws);
        }
    }
    Err(Error::Protocol("the socket closed before ready".into()))
}

/// Keeps a connection open and read (so the server's pings get their pongs)
/// until told to stop.
async fn hold(mut ws: client::Ws, mut stop: watch::Receiver<bool>, alive: Arc<AtomicU64>) {
    loop {
        tokio::select! {
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                break;
            }
            m = ws.next() => match m {
                Some(Ok(_)) => {}
                _ => break,
            },
        }
    }
    alive.fetch_sub(1, Ordering::Relaxed);
}
