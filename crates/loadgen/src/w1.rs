//! W1: one chat, M members connected, some of them sending.
//!
//! Every member is one WebSocket. A sender keeps up to `window` sends
//! unacknowledged (closed loop: the next goes when an ack comes back), or
//! sends at a fixed rate (open loop, each send stamped with the moment it was
//! due, so a stalled server shows as latency rather than as fewer sends).
//! Each message carries its send time; every member that receives it records
//! the latency. After warm-up, the measurement window counts acks (accepted
//! messages), event frames (deliveries) and latencies; then senders stop and a
//! drain period lets the last deliveries arrive. Lost = acknowledged but not
//! delivered to some member by the end; duplicated = the same seq twice to one
//! member. A member the server drops (`bye`, a closed socket) reconnects and
//! resumes from its position, and a sender re-sends what was in flight with the
//! same client ids, as the protocol says a client does.

use crate::client::{self, Dialect, Ws};
use crate::frames::{self, Incoming};
use crate::procstat::{self, CpuMark};
use crate::stats::{Histogram, SeqSet};
use crate::{Error, Result};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior, sleep_until};
use tokio_tungstenite::tungstenite::Message;

/// Where to send: a server, one chat on it, and one cookie per member
/// (`None` for bare-ws, which has no sessions).
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub dialect: Dialect,
    /// The server, or the nodes of a cluster: member `i` connects to
    /// `urls[i % urls.len()]`.
    pub urls: Vec<String>,
    pub chat: i64,
    pub cookies: Vec<Option<String>>,
    /// The chat's last seq before the run (a fresh bare-ws room: 0).
    pub base_seq: i64,
    /// The server's processes (one per node), for their CPU and memory.
    pub pids: Vec<u32>,
}

impl Target {
    fn url_of(&self, member: usize) -> String {
        self.urls[member % self.urls.len().max(1)].clone()
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub senders: usize,
    /// Closed loop: unacknowledged sends per sender.
    pub window: usize,
    /// Open loop: messages per second, all senders together.
    pub rate: Option<f64>,
    pub warmup: Duration,
    pub seconds: Duration,
    pub drain: Duration,
    pub text_bytes: usize,
    pub connect_concurrency: usize,
}

/// Open loop: a sender with more sends in flight than this skips its turn
/// (counted), so a stalled server cannot make the generator grow without end.
const OPEN_LOOP_IN_FLIGHT: usize = 5_000;
/// Reconnections one member may make in a run.
const MAX_RECONNECTS: u32 = 50;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Report {
    pub label: String,
    pub members: usize,
    pub senders: usize,
    pub window: usize,
    pub rate: Option<f64>,
    pub seconds: f64,
    /// Acks per second in the window.
    pub accepted_per_s: f64,
    /// Event frames per second in the window, all members together.
    pub deliveries_per_s: f64,
    pub latency: Histogram,
    /// Send → ack, per acknowledged send in the window.
    pub ack_latency: Histogram,
    /// Messages acknowledged over the whole run (warm-up and drain too).
    pub acked: u64,
    /// Acknowledged messages that some member never received.
    pub lost_messages: u64,
    /// (member, message) pairs missing.
    pub lost_deliveries: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Sends never acknowledged by the end of the drain.
    pub unacked_at_end: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub reconnects: u64,
    pub resyncs: u64,
    pub byes: BTreeMap<String, u64>,
    /// Open loop: sends skipped because too many were in flight.
    pub skipped: u64,
    pub server_cpu_percent: Option<f64>,
    pub server_rss_kib: Option<u64>,
    pub server_hwm_kib: Option<u64>,
    pub generator_cpu_percent: Option<f64>,
    pub connect_seconds: f64,
}

/// Connects every member, runs the workload, and counts.
pub async fn run(target: &Target, config: &Config) -> Result<Report> {
    let members = target.cookies.len();
    if members == 0 || config.senders == 0 || config.senders > members || target.urls.is_empty() {
        return Err(Error::Protocol(format!("{} senders among {members} members", config.senders)));
    }
    let connect_start = Instant::now();
    let base = target.base_seq;
    let connected: Vec<Result<Ws>> = futures_util::stream::iter(target.cookies.iter().cloned().enumerate())
        .map(|(i, cookie)| {
            let url = target.url_of(i);
            let hello = target.dialect.hello(i, target.chat, base);
            async move { tokio::time::timeout(CONNECT_TIMEOUT, join(&url, cookie.as_deref(), hello)).await }
        })
        .buffered(config.connect_concurrency.max(1))
        .map(|r| r.unwrap_or_else(|_| Err(Error::Timeout("connecting a member".into()))))
        .collect()
        .await;
    let sockets = connected.into_iter().collect::<Result<Vec<Ws>>>()?;
    let connect_seconds = connect_start.elapsed().as_secs_f64();

    let t0 = Instant::now() + Duration::from_millis(200);
    let from = t0 + config.warmup;
    let stop = from + config.seconds;
    let plan = Arc::new(Plan {
        dialect: target.dialect.clone(),
        chat: target.chat,
        base,
        run: format!("lg{:08x}", rand::thread_rng().r#gen::<u32>()),
        t0,
        from,
        stop,
        end: stop + config.drain,
        window: config.window.max(1),
        period: config.rate.map(|r| Duration::from_secs_f64(config.senders as f64 / r.max(0.001))),
        senders: config.senders,
        text_bytes: config.text_bytes,
    });

    let mut tasks = Vec::with_capacity(members);
    for (i, ws) in sockets.into_iter().enumerate() {
        let sender = (i < config.senders).then_some(i);
        let cookie = target.cookies[i].clone();
        tasks.push(tokio::spawn(member(ws, i, sender, target.url_of(i), cookie, Arc::clone(&plan))));
    }

    let pids: Vec<String> = target.pids.iter().map(u32::to_string).collect();
    let cpu_marks = || pids.iter().map(|p| CpuMark::now(p)).collect::<Option<Vec<_>>>().filter(|m| !m.is_empty());
    sleep_until(from).await;
    let server_start = cpu_marks();
    let self_start = CpuMark::now("self");
    sleep_until(stop).await;
    // All the nodes together: 100 % is one core.
    let server_cpu_percent = cpu_marks()
        .zip(server_start)
        .map(|(end, start)| start.iter().zip(&end).map(|(s, e)| s.percent_until(e)).sum::<f64>());
    let generator_cpu_percent = CpuMark::now("self").zip(self_start).map(|(e, s)| s.percent_until(&e));

    let mut results = Vec::with_capacity(members);
    for t in tasks {
        results.push(t.await.map_err(|e| Error::Protocol(format!("a member task failed: {e}")))?);
    }
    let server_rss_kib = procstat::status_kib_sum(&pids, "VmRSS");
    let server_hwm_kib = procstat::status_kib_sum(&pids, "VmHWM");

    let mut report = Report {
        label: target.label.clone(),
        members,
        senders: config.senders,
        window: config.window,
        rate: config.rate,
        seconds: config.seconds.as_secs_f64(),
        accepted_per_s: 0.0,
        deliveries_per_s: 0.0,
        latency: Histogram::default(),
        ack_latency: Histogram::default(),
        acked: 0,
        lost_messages: 0,
        lost_deliveries: 0,
        duplicated: 0,
        out_of_order: 0,
        unacked_at_end: 0,
        errors: 0,
        first_error: None,
        reconnects: 0,
        resyncs: 0,
        byes: BTreeMap::new(),
        skipped: 0,
        server_cpu_percent,
        server_rss_kib,
        server_hwm_kib,
        generator_cpu_percent,
        connect_seconds,
    };
    let mut acked = SeqSet::above(base);
    let (mut accepted, mut delivered) = (0u64, 0u64);
    for r in &results {
        for seq in &r.acked {
            acked.insert(*seq);
        }
        accepted += r.accepted_in_window;
        delivered += r.delivered_in_window;
        report.latency.merge(&r.latency);
        report.ack_latency.merge(&r.ack_latency);
        report.duplicated += r.duplicated;
        report.out_of_order += r.out_of_order;
        report.unacked_at_end += r.unacked;
        report.errors += r.errors;
        report.first_error = report.first_error.take().or_else(|| r.first_error.clone());
        report.reconnects += u64::from(r.reconnects);
        report.resyncs += r.resyncs;
        report.skipped += r.skipped;
        for (reason, n) in &r.byes {
            *report.byes.entry(reason.clone()).or_default() += n;
        }
    }
    let mut lost = SeqSet::above(base);
    for r in &results {
        for seq in acked.iter() {
            if !r.seen.contains(seq) {
                report.lost_deliveries += 1;
                lost.insert(seq);
            }
        }
    }
    report.acked = acked.len();
    report.lost_messages = lost.len();
    report.accepted_per_s = accepted as f64 / report.seconds;
    report.deliveries_per_s = delivered as f64 / report.seconds;
    Ok(report)
}

/// Connects, says `hello`, and waits until the server takes the connection in.
async fn join(url: &str, cookie: Option<&str>, hello: String) -> Result<Ws> {
    let mut ws = client::connect(url, cookie, None).await?;
    ws.send(Message::Text(hello.into())).await?;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            match Incoming::parse(&text) {
                Some(f) if f.is_ready() => return Ok(ws),
                Some(f) if f.kind == "bye" || f.kind == "error" => {
                    return Err(Error::Protocol(format!("the server refused the connection: {text}")));
                }
                _ => {}
            }
        }
    }
    Err(Error::Protocol("the socket closed before ready (is the session valid?)".into()))
}

struct Plan {
    dialect: Dialect,
    chat: i64,
    base: i64,
    run: String,
    t0: Instant,
    from: Instant,
    stop: Instant,
    end: Instant,
    window: usize,
    period: Option<Duration>,
    senders: usize,
    text_bytes: usize,
}

impl Plan {
    fn in_window(&self, at: Instant) -> bool {
        at >= self.from && at < self.stop
    }

    fn micros(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.t0).as_micros()).unwrap_or(u64::MAX)
    }
}

struct MemberResult {
    seen: SeqSet,
    acked: Vec<i64>,
    accepted_in_window: u64,
    delivered_in_window: u64,
    latency: Histogram,
    ack_latency: Histogram,
    duplicated: u64,
    out_of_order: u64,
    unacked: u64,
    errors: u64,
    first_error: Option<String>,
    reconnects: u32,
    resyncs: u64,
    byes: BTreeMap<String, u64>,
    skipped: u64,
}

struct Member {
    plan: Arc<Plan>,
    /// This member's place among the members (bare-ws's user name).
    index: usize,
    sender: Option<usize>,
    /// The node this member connects (and reconnects) to.
    url: String,
    cookie: Option<String>,
    next_n: u64,
    /// Sends awaiting their ack: n → (text, when it was due).
    in_flight: HashMap<u64, (String, Instant)>,
    last_seq: i64,
    r: MemberResult,
}

impl Member {
    fn client_id(&self, n: u64) -> String {
        format!("{}-{}-{n}", self.plan.run, self.sender.unwrap_or_default())
    }

    async fn send_new(&mut self, ws: &mut Ws, due: Instant) -> Result<()> {
        let n = self.next_n;
        self.next_n += 1;
        let text =
            frames::message_text(self.plan.micros(due), self.sender.unwrap_or_default(), n, self.plan.text_bytes);
        let frame = self.plan.dialect.send(self.plan.chat, &self.client_id(n), n, &text);
        self.in_flight.insert(n, (text, due));
        ws.send(Message::Text(frame.into())).await?;
        Ok(())
    }

    fn sending(&self, now: Instant) -> bool {
        self.sender.is_some() && now >= self.plan.t0 && now < self.plan.stop
    }

    /// Handles a text frame; true when a closed-loop sender may send the next.
    fn on_frame(&mut self, text: &str, now: Instant) -> bool {
        let Some(f) = Incoming::parse(text) else { return false };
        if f.is_delivery() {
            return self.on_delivery(&f, now);
        }
        // Parta's ack names the client id (whose last part is n), bare-ws's the txn.
        let n = f.txn.or_else(|| f.client_id.as_deref().and_then(|c| c.rsplit('-').next()?.parse::<u64>().ok()));
        match f.kind.as_ref() {
            "ack" => {
                let Some((_, due)) = n.and_then(|n| self.in_flight.remove(&n)) else { return false };
                self.r.acked.push(f.seq);
                if self.plan.in_window(now) {
                    self.r.accepted_in_window += 1;
                    self.r.ack_latency.record(self.plan.micros(now).saturating_sub(self.plan.micros(due)));
                }
                true
            }
            "error" => {
                self.r.errors += 1;
                if self.r.first_error.is_none() {
                    self.r.first_error = Some(text.chars().take(300).collect());
                }
                n.and_then(|n| self.in_flight.remove(&n)).is_some()
            }
            "bye" => {
                *self.r.byes.entry(f.reason.as_deref().unwrap_or("?").to_string()).or_default() += 1;
                false
            }
            "resync" => {
                self.r.resyncs += 1;
                false
            }
            _ => false,
        }
    }

    /// Counts a message delivered to this member; never frees a send.
    fn on_delivery(&mut self, f: &Incoming<'_>, now: Instant) -> bool {
        if f.seq <= self.plan.base {
            return false;
        }
        if !self.r.seen.insert(f.seq) {
            self.r.duplicated += 1;
        }
        if f.seq < self.last_seq {
            self.r.out_of_order += 1;
        }
        self.last_seq = self.last_seq.max(f.seq);
        if self.plan.in_window(now) {
            self.r.delivered_in_window += 1;
            if let Some(sent) = f.delivered_text().and_then(frames::sent_us) {
                self.r.latency.record(self.plan.micros(now).saturating_sub(sent));
            }
        }
        false
    }

    /// Reconnects and resumes from the last seq seen; re-sends what was in
    /// flight with the same client ids. `None` when it is time to stop.
    async fn reconnect(&mut self) -> Option<Ws> {
        while Instant::now() < self.plan.end && self.r.reconnects < MAX_RECONNECTS {
            self.r.reconnects += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let hello = self.plan.dialect.hello(self.index, self.plan.chat, self.last_seq);
            let Ok(Ok(mut ws)) =
                tokio::time::timeout(Duration::from_secs(10), join(&self.url, self.cookie.as_deref(), hello)).await
            else {
                continue;
            };
            let mut pending: Vec<(u64, String)> = self.in_flight.iter().map(|(n, (t, _))| (*n, t.clone())).collect();
            pending.sort_unstable();
            let mut ok = true;
            for (n, text) in pending {
                let frame = self.plan.dialect.send(self.plan.chat, &self.client_id(n), n, &text);
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    ok = false;
                    break;
                }
            }
            if ok {
                return Some(ws);
            }
        }
        None
    }
}

async fn member(
    ws: Ws,
    index: usize,
    sender: Option<usize>,
    url: String,
    cookie: Option<String>,
    plan: Arc<Plan>,
) -> MemberResult {
    let mut m = Member {
        index,
        sender,
        url,
        cookie,
        next_n: 0,
        in_flight: HashMap::new(),
        last_seq: plan.base,
        r: MemberResult {
            seen: SeqSet::above(plan.base),
            acked: Vec::new(),
            accepted_in_window: 0,
            delivered_in_window: 0,
            latency: Histogram::default(),
            ack_latency: Histogram::default(),
            duplicated: 0,
            out_of_order: 0,
            unacked: 0,
            errors: 0,
            first_error: None,
            reconnects: 0,
            resyncs: 0,
            byes: BTreeMap::new(),
            skipped: 0,
        },
        plan: Arc::clone(&plan),
    };
    let mut ws = Some(ws);
    let open_loop = plan.period.is_some();
    let period = plan.period.unwrap_or(Duration::from_secs(3600));
    // Senders take turns within a period rather than all at once.
    let offset = period.mul_f64(sender.unwrap_or_default() as f64 / plan.senders.max(1) as f64);
    let mut ticker = tokio::time::interval_at(plan.t0 + offset, period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let end = sleep_until(plan.end);
    tokio::pin!(end);
    let mut started = false;

    while let Some(socket) = ws.as_mut() {
        let now = Instant::now();
        // Closed loop: fill the window once the run starts.
        if !started && m.sending(now) {
            started = true;
            let mut failed = false;
            while !open_loop && m.in_flight.len() < plan.window {
                if m.send_new(socket, Instant::now()).await.is_err() {
                    failed = true;
                    break;
                }
            }
            if failed {
                ws = m.reconnect().await;
                continue;
            }
        }
        let start_at = sleep_until(plan.t0);
        let mut lost_socket = false;
        tokio::select! {
            _ = &mut end => break,
            _ = start_at, if !started && m.sender.is_some() => {}
            incoming = socket.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let now = Instant::now();
                    if m.on_frame(&text, now) && !open_loop && m.sending(now) && m.send_new(socket, now).await.is_err() {
                        lost_socket = true;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => lost_socket = true,
                Some(Ok(_)) => {}
            },
            due = ticker.tick(), if open_loop && m.sending(now) => {
                if m.in_flight.len() >= OPEN_LOOP_IN_FLIGHT {
                    m.r.skipped += 1;
                } else if m.send_new(socket, due).await.is_err() {
                    lost_socket = true;
                }
            }
        }
        if lost_socket {
            ws = m.reconnect().await;
        }
    }
    if let Some(mut socket) = ws {
        let _ = socket.close(None).await;
    }
    m.r.unacked = m.in_flight.len() as u64;
    m.r
}
