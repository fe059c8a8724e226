//! `parta-load calls`: the SFU's capacity with synthetic WebRTC participants.
//!
//! A run seeds one chat whose members all have messenger sessions, connects
//! one [`rtc_client`](crate::rtc_client) participant per member, and has them
//! join the chat's call: the first alone (it starts the call), the rest a few
//! at a time, each holding its turn until its peer connection is up. The
//! server renegotiates every participant as tracks appear. The run waits
//! until it has *settled* — every participant connected, every camera and
//! every participant's voice slots delivering frames, no `call_offer` for a
//! while — then the microphones take turns ([`crate::pacing::Talk`]), and
//! after a warm-up a window is measured: RTP packets and frames received by
//! every participant, how many streams the SFU forwards at once, the
//! server's CPU (the whole process and its SFU thread) and the load
//! generator's own, UDP receive-buffer drops on the machine, and
//! per-publisher loss: of the frames each publisher had due inside the
//! window (of a microphone, those it spoke and the SFU's voice slots let
//! through), how many each other participant received by the end of the drain.
//!
//! Roles: participant i publishes video if i < V, audio if V ≤ i < V + A,
//! nothing otherwise; every participant receives every other's camera and,
//! on at most [`VOICE_SLOTS`] audio m-lines, whoever of the others speaks
//! (the protocol's model: one peer connection each). The class call is V = 1
//! (the teacher's camera), A = 30 (the students' microphones), 2 of them
//! talking at a time: 31 participants.

use crate::pacing::{AUDIO_FPS, Kind, Tally, VOICE_SLOTS, VideoPlan};
use crate::procstat::{self, CpuMark};
use crate::rtc_client::{self, ParticipantReport, Role, Shared};
use crate::stats::Histogram;
use crate::{Error, Result, seed};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

#[derive(Debug, Clone)]
pub struct Config {
    pub audio_publishers: usize,
    pub video_publishers: usize,
    /// Participants in the call, at least the publishers (the leavers come on top).
    pub participants: usize,
    /// Between the talk's start and the window: longer than the voice-slot
    /// handover ([`crate::pacing::SLOT_HANDOVER_US`]), which the talk's first turn may cost.
    pub warmup: Duration,
    pub seconds: Duration,
    /// After the window, for the window's last frames to arrive.
    pub drain: Duration,
    /// Give up waiting for the call to settle after this long (the run goes
    /// on, and what never flowed counts as lost).
    pub settle_timeout: Duration,
    /// Settled means, among others, no `call_offer` for this long.
    pub quiet: Duration,
    /// Joins in progress at once (after the first).
    pub join_concurrency: usize,
    pub video: VideoPlan,
    /// Microphones speaking at once during the window ([`crate::pacing::Talk`]),
    /// at most [`VOICE_SLOTS`] ([`Config::check`]); a call with no more
    /// microphones than this has them all speak throughout.
    pub talkers: usize,
}

impl Config {
    /// Refuses what this tool cannot measure: more talkers than voice slots
    /// (the SFU forwards at most [`VOICE_SLOTS`] voices to a participant, so
    /// the others' frames are dropped by design and loss would mean nothing).
    pub fn check(&self) -> Result<()> {
        if self.talkers > VOICE_SLOTS {
            return Err(Error::Config(format!(
                "--talkers {}: the SFU forwards at most {VOICE_SLOTS} voices to a participant at once (its voice \
                 slots), so more talkers would be dropped by design and their loss would mean nothing; use 0–{VOICE_SLOTS}",
                self.talkers
            )));
        }
        Ok(())
    }

    pub fn roles(&self) -> Vec<Role> {
        self.roles_with_leavers(0)
    }

    /// [`Config::roles`] and then `leavers` more audio publishers.
    pub fn roles_with_leavers(&self, leavers: usize) -> Vec<Role> {
        let v = self.video_publishers;
        let a = self.audio_publishers;
        let stay = (0..self.participants.max(v + a)).map(|i| Role { video: i < v, audio: i >= v && i < v + a });
        // The leavers talk: their tracks are what the others must stop.
        stay.chain((0..leavers).map(|_| Role { audio: true, video: false })).collect()
    }
}

/// The server under test.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    /// Its data directory (the chat is seeded into its database).
    pub data: PathBuf,
    pub pid: Option<u32>,
}

/// What one run measured.
#[derive(Debug, Clone)]
pub struct Report {
    /// The participants that stayed (and were measured).
    pub participants: usize,
    /// Those that hung up before the window (`leavers`).
    pub left: usize,
    pub audio_publishers: usize,
    pub video_publishers: usize,
    pub seconds: f64,
    pub connected: usize,
    pub failed: usize,
    /// Seconds from the first `call_join` until settled, and whether it did.
    pub settle_seconds: f64,
    pub settled: bool,
    pub join_p50_s: f64,
    pub join_max_s: f64,
    pub offers: u64,
    /// `call_speaker` frames (the loudest voice changed) all participants received in the window.
    pub speaker_frames: u64,
    /// The largest `call_offer` received and `call_answer` sent (bytes of WebSocket text).
    pub max_offer_bytes: usize,
    pub max_answer_bytes: usize,
    /// (subscriber, publisher, kind) that had frames due in the window (a
    /// microphone silent all window long has none), and those that delivered
    /// some: what loss is counted over. Not how many streams the SFU forwards
    /// at once: talkers take turns, and a voice slot carries one after another.
    pub streams_expected: usize,
    pub streams_live: usize,
    /// Streams forwarded at once, measured: per kind, the frames all
    /// participants received in the window over one stream's frames in it
    /// (fps × seconds). Audio counts the silence the SFU forwards (a voice's
    /// pauses) at a voice's rate, so a DTX frame is a fiftieth of a stream.
    pub audio_at_once: f64,
    pub video_at_once: f64,
    pub packets_per_s: f64,
    pub frames_per_s: f64,
    pub mbit_per_s: f64,
    pub audio: Tally,
    pub video: Tally,
    /// Audio frames sent as silence that reached a subscriber in the window
    /// (the SFU forwards a voice's pauses shorter than its hangover).
    pub silent_frames_forwarded: u64,
    /// The worst stream's loss, % (and whose: subscriber, publisher, kind).
    pub worst_stream: Option<(f64, usize, usize, Kind)>,
    pub duplicates: u64,
    /// Frames that came after a later frame of their stream.
    pub out_of_order: u64,
    pub latency: Histogram,
    pub keyframe_requests: u64,
    pub keyframes_on_request: u64,
    pub server_cpu: Option<f64>,
    /// The SFU's own thread (`parta-sfu`), or else the server's busiest.
    pub sfu_thread: Option<(String, f64)>,
    pub generator_cpu: Option<f64>,
    /// UDP datagrams the kernel dropped for full receive buffers, on the whole machine, in the window.
    pub udp_drops: Option<u64>,
    /// Of those, at the SFU's socket and at the participants' sockets.
    pub sfu_socket_drops: Option<u64>,
    pub participant_socket_drops: Option<u64>,
    pub load_average: Option<String>,
    /// The machine's CPU over the window, % of one core: busy (not idle, not
    /// waiting for disk), and of that softirq (where loopback delivery runs,
    /// accounted to no process).
    pub machine_busy: Option<f64>,
    pub machine_softirq: Option<f64>,
    /// The fullest the SFU socket's receive queue was, sampled every 100 ms (KiB).
    pub sfu_queue_max_kib: Option<u64>,
    /// Observation → participants that made it.
    pub observations: BTreeMap<String, usize>,
    /// Error → participants that had it.
    pub errors: BTreeMap<String, usize>,
}

impl Report {
    pub fn loss_percent(&self) -> f64 {
        let mut all = self.audio;
        all.add(self.video.expected, self.video.received);
        all.loss_percent()
    }

    /// Streams forwarded at once, audio and video together.
    pub fn streams_at_once(&self) -> f64 {
        self.audio_at_once + self.video_at_once
    }

    /// Streams forwarded at once per core of server CPU.
    pub fn streams_per_core(&self) -> Option<f64> {
        self.server_cpu.filter(|c| *c > 0.0).map(|c| self.streams_at_once() / (c / 100.0))
    }
}

/// Seeds the chat, runs the call, counts.
pub async fn run(target: &Target, config: &Config) -> Result<Report> {
    run_with_leavers(target, config, 0).await
}

/// As [`run`], with `leavers` more participants (audio publishers) that hang
/// up once the call has settled, before the warm-up: the others must take the
/// server's offers that stop their tracks. The window counts those who stay.
pub async fn run_with_leavers(target: &Target, config: &Config, leavers: usize) -> Result<Report> {
    config.check()?;
    let roles = config.roles_with_leavers(leavers);
    let n = roles.len();
    if n - leavers < 2 {
        return Err(Error::Protocol("a call needs at least two participants".into()));
    }
    let seeded = seed::seed(&target.data, n).await?;
    let persons = seeded.members.iter().map(|m| m.person).collect();
    let crypto = Arc::new(str0m::crypto::from_feature_flags());
    let shared =
        Arc::new(Shared::new(target.url.clone(), seeded.chat(), persons, roles, config.video, config.talkers, crypto));

    // Every WebSocket first (a member's socket being open is not the load).
    let mut sockets = Vec::with_capacity(n);
    {
        use futures_util::StreamExt;
        let connected: Vec<Result<rtc_client::Signalling>> =
            futures_util::stream::iter(seeded.members.iter().map(seed::Member::cookie))
                .map(|cookie| {
                    let url = target.url.clone();
                    async move { rtc_client::connect(&url, &cookie).await }
                })
                .buffered(16)
                .collect()
                .await;
        for c in connected {
            sockets.push(c?);
        }
    }

    let gate = Arc::new(Semaphore::new(0));
    let (stop_tx, stop_rx) = watch::channel(false);
    let (leave_tx, leave_rx) = watch::channel(false);
    let stays = n - leavers;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (i, signalling) in sockets.into_iter().enumerate() {
        let gate = (i > 0).then(|| Arc::clone(&gate));
        let stop = if i < stays { stop_rx.clone() } else { leave_rx.clone() };
        tasks.push(tokio::spawn(rtc_client::run(i, signalling, Arc::clone(&shared), gate, stop)));
    }
    // The first participant starts the call; then the others join.
    let first_deadline = Instant::now() + Duration::from_secs(30);
    while shared.connected.load(Ordering::Relaxed) == 0
        && shared.failed.load(Ordering::Relaxed) == 0
        && Instant::now() < first_deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gate.add_permits(config.join_concurrency.max(1));

    // Until the talk starts every microphone speaks, so that the SFU opens
    // and fills every voice slot it will before anything is measured (a slot
    // opened in the window would cost a renegotiation there). Settled is then
    // every camera reaching every participant and each participant's slots
    // delivering audio, not a stream per microphone: at most VOICE_SLOTS
    // voices reach a participant, the same few while all speak at once, so
    // most microphones are heard only once they take their turn, and waiting
    // for them would never end. Their loss still counts in the window.
    let expected = shared.settle_target();
    let settle_deadline = Instant::now() + config.settle_timeout;
    let settled = loop {
        let done = shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed) >= n;
        let live = shared.flowing.load(Ordering::Relaxed) >= expected;
        let quiet = shared.now_us().saturating_sub(shared.last_offer_us.load(Ordering::Relaxed))
            >= crate::pacing::micros(config.quiet);
        if done && live && quiet {
            break true;
        }
        if Instant::now() >= settle_deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if stays < n {
        // The leavers hang up; the others renegotiate until quiet again.
        let _ = leave_tx.send(true);
        let left_at = shared.now_us();
        let deadline = Instant::now() + config.settle_timeout;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let last = shared.last_offer_us.load(Ordering::Relaxed);
            if last > left_at && shared.now_us().saturating_sub(last) >= crate::pacing::micros(config.quiet) {
                break;
            }
        }
    }
    let settle_seconds = started.elapsed().as_secs_f64();
    shared.start_talk();

    let from = Instant::now() + config.warmup;
    let stop = from + config.seconds;
    shared.set_window(shared.us_of(from), shared.us_of(stop));
    tokio::time::sleep_until(from.into()).await;
    let pid = target.pid.map(|p| p.to_string());
    let server_start = pid.as_deref().and_then(CpuMark::now);
    let threads_start = pid.as_deref().map(thread_cpu).unwrap_or_default();
    let self_start = CpuMark::now("self");
    let drops_start = udp_rcvbuf_errors();
    let sockets_start = udp_drops_by_port();
    let load_start = load_average();
    let stat_start = machine_cpu();
    let mut queue_max: Option<u64> = None;
    while Instant::now() < stop {
        let port = shared.sfu_port.load(Ordering::Relaxed);
        if let Some(q) = udp_rx_queue(port) {
            queue_max = Some(queue_max.unwrap_or(0).max(q));
        }
        tokio::time::sleep(Duration::from_millis(100).min(stop.saturating_duration_since(Instant::now()))).await;
    }
    let stat_end = machine_cpu();
    let server_cpu = pid.as_deref().and_then(CpuMark::now).zip(server_start).map(|(e, s)| s.percent_until(&e));
    let generator_cpu = CpuMark::now("self").zip(self_start).map(|(e, s)| s.percent_until(&e));
    let threads_end = pid.as_deref().map(thread_cpu).unwrap_or_default();
    let drops = udp_rcvbuf_errors().zip(drops_start).map(|(e, s)| e.saturating_sub(s));
    let sockets_end = udp_drops_by_port();
    let load_end = load_average();
    let sfu_thread = busiest_thread(&threads_start, &threads_end, config.seconds.as_secs_f64());

    tokio::time::sleep(config.drain).await;
    let _ = stop_tx.send(true);
    let mut reports = Vec::with_capacity(n);
    for t in tasks {
        reports.push(t.await.map_err(|e| Error::Protocol(format!("a participant task failed: {e}")))?);
    }

    let mut report = tally(&shared, config, &reports[..stays]);
    report.settled = settled;
    report.settle_seconds = settle_seconds;
    report.server_cpu = server_cpu;
    report.generator_cpu = generator_cpu;
    report.sfu_thread = sfu_thread;
    report.udp_drops = drops;
    report.sfu_queue_max_kib = queue_max.map(|q| q / 1024);
    if let (Some(a), Some(b)) = (stat_start, stat_end) {
        let ticks = (b.total - a.total).max(1) as f64;
        let cores = b.cores.max(1) as f64;
        report.machine_busy = Some((b.busy - a.busy) as f64 / ticks * cores * 100.0);
        report.machine_softirq = Some((b.softirq - a.softirq) as f64 / ticks * cores * 100.0);
    }
    if let (Some(start), Some(end)) = (sockets_start, sockets_end) {
        let delta = |port: u16| end.get(&port).unwrap_or(&0).saturating_sub(*start.get(&port).unwrap_or(&0));
        let sfu_port = shared.sfu_port.load(Ordering::Relaxed);
        if sfu_port != 0 {
            report.sfu_socket_drops = Some(delta(sfu_port));
        }
        let ports = shared.ports.lock().map(|p| p.clone()).unwrap_or_default();
        report.participant_socket_drops = Some(ports.into_iter().map(delta).sum());
    }
    report.load_average = match (load_start, load_end) {
        (Some(a), Some(b)) => Some(format!("{a} → {b}")),
        _ => None,
    };
    Ok(report)
}

/// Adds up what every participant counted.
fn tally(shared: &Shared, config: &Config, reports: &[ParticipantReport]) -> Report {
    let n = reports.len();
    let window_s = config.seconds.as_secs_f64();
    let (from_us, stop_us) = shared.window();
    let mut r = Report {
        participants: n,
        audio_publishers: shared.roles[..n].iter().filter(|r| r.audio).count(),
        video_publishers: shared.roles[..n].iter().filter(|r| r.video).count(),
        left: shared.roles.len() - n,
        seconds: window_s,
        connected: reports.iter().filter(|p| p.connected).count(),
        failed: shared.failed.load(Ordering::Relaxed),
        settle_seconds: 0.0,
        settled: false,
        join_p50_s: 0.0,
        join_max_s: 0.0,
        offers: reports.iter().map(|p| p.offers).sum(),
        speaker_frames: reports.iter().map(|p| p.speaker_frames).sum(),
        max_offer_bytes: reports.iter().map(|p| p.max_offer_bytes).max().unwrap_or(0),
        max_answer_bytes: reports.iter().map(|p| p.max_answer_bytes).max().unwrap_or(0),
        streams_expected: 0,
        streams_live: 0,
        audio_at_once: 0.0,
        video_at_once: 0.0,
        packets_per_s: reports.iter().map(|p| p.rtp_in_window).sum::<u64>() as f64 / window_s,
        frames_per_s: 0.0,
        mbit_per_s: reports.iter().map(|p| p.rtp_bytes_in_window).sum::<u64>() as f64 * 8.0 / window_s / 1e6,
        audio: Tally::default(),
        video: Tally::default(),
        silent_frames_forwarded: 0,
        worst_stream: None,
        duplicates: 0,
        out_of_order: 0,
        latency: Histogram::default(),
        keyframe_requests: reports.iter().map(|p| p.keyframe_requests).sum(),
        keyframes_on_request: reports.iter().map(|p| p.keyframes_on_request).sum(),
        server_cpu: None,
        sfu_thread: None,
        generator_cpu: None,
        udp_drops: None,
        sfu_socket_drops: None,
        participant_socket_drops: None,
        load_average: None,
        machine_busy: None,
        machine_softirq: None,
        sfu_queue_max_kib: None,
        observations: BTreeMap::new(),
        errors: BTreeMap::new(),
    };
    let mut joins: Vec<f64> = reports.iter().filter_map(|p| p.join_seconds).collect();
    joins.sort_by(f64::total_cmp);
    r.join_p50_s = joins.get(joins.len() / 2).copied().unwrap_or_default();
    r.join_max_s = joins.last().copied().unwrap_or_default();

    let mut frames = 0u64;
    let mut frames_of = BTreeMap::<Kind, u64>::new();
    for sub in reports {
        r.latency.merge(&sub.latency);
        for o in &sub.observations {
            *r.observations.entry(o.clone()).or_default() += 1;
        }
        for e in &sub.errors {
            *r.errors.entry(e.clone()).or_default() += 1;
        }
        for (&(_, kind), s) in &sub.streams {
            frames += s.frames_in_window;
            *frames_of.entry(kind).or_default() += s.frames_in_window;
            r.duplicates += s.received.duplicates;
            r.out_of_order += s.received.out_of_order;
        }
        for publisher in reports.iter().filter(|p| p.index != sub.index) {
            let role = shared.roles[publisher.index];
            for kind in [Kind::Audio, Kind::Video].into_iter().filter(|k| role.sends(*k)) {
                let fps = fps_of(kind, shared);
                let schedule = publisher.published.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s);
                // A publisher that never published: its window's worth of frames is all lost.
                let range = match schedule {
                    Some(s) => s.frames_in(from_us, stop_us),
                    None => 0..(window_s * f64::from(fps)) as u64,
                };
                // Silent audio frames are not expected to be forwarded, nor
                // a new voice's while the subscriber's voice slots are held.
                let voiced = |k: u64| match (kind, schedule) {
                    (Kind::Audio, Some(s)) => shared.speaks(publisher.index, s.due_us(k)),
                    _ => true,
                };
                let wanted = |k: u64| match (kind, schedule) {
                    (Kind::Audio, Some(s)) => shared.heard_by(publisher.index, sub.index, s.due_us(k)),
                    _ => true,
                };
                let expected = range.clone().filter(|k| wanted(*k)).count() as u64;
                let stream = sub.streams.get(&(publisher.index as u16, kind)).filter(|_| schedule.is_some());
                let received = stream.map_or(0, |s| s.received.count_in(&range, wanted));
                r.silent_frames_forwarded += stream.map_or(0, |s| s.received.count_in(&range, |k| !voiced(k)));
                if expected > 0 {
                    r.streams_expected += 1;
                }
                if received > 0 {
                    r.streams_live += 1;
                }
                match kind {
                    Kind::Audio => r.audio.add(expected, received),
                    Kind::Video => r.video.add(expected, received),
                }
                if expected > 0 {
                    let loss = (expected - received.min(expected)) as f64 / expected as f64 * 100.0;
                    if r.worst_stream.is_none_or(|(w, ..)| loss > w) {
                        r.worst_stream = Some((loss, sub.index, publisher.index, kind));
                    }
                }
            }
        }
    }
    r.frames_per_s = frames as f64 / window_s;
    let at_once =
        |kind: Kind| streams_at_once(frames_of.get(&kind).copied().unwrap_or(0), fps_of(kind, shared), window_s);
    r.audio_at_once = at_once(Kind::Audio);
    r.video_at_once = at_once(Kind::Video);
    let listed = reports.iter().filter(|p| p.connected && p.max_listed < n).count();
    if listed > 0 && r.failed == 0 {
        r.observations.insert(format!("no call_state listed all {n} participants"), listed);
    }
    r
}

/// A stream's frames per second.
fn fps_of(kind: Kind, shared: &Shared) -> u32 {
    match kind {
        Kind::Audio => AUDIO_FPS,
        Kind::Video => shared.video.fps,
    }
}

/// How many streams of `fps` deliver `frames` in `seconds`: the streams
/// forwarded at once, whichever publishers they carried.
fn streams_at_once(frames: u64, fps: u32, seconds: f64) -> f64 {
    let per_stream = f64::from(fps) * seconds;
    if per_stream > 0.0 { frames as f64 / per_stream } else { 0.0 }
}

/// CPU seconds of each thread of `pid`: (tid, name) → seconds.
fn thread_cpu(pid: &str) -> BTreeMap<(String, String), f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for entry in dir.flatten() {
        let tid = entry.file_name().to_string_lossy().to_string();
        let task = format!("{pid}/task/{tid}");
        let name = std::fs::read_to_string(format!("/proc/{task}/comm")).unwrap_or_default().trim().to_string();
        if let Some(cpu) = procstat::cpu_seconds(&task) {
            out.insert((tid, name), cpu);
        }
    }
    out
}

/// The `parta-sfu` thread's CPU % over the window, or else the busiest thread's.
fn busiest_thread(
    start: &BTreeMap<(String, String), f64>,
    end: &BTreeMap<(String, String), f64>,
    seconds: f64,
) -> Option<(String, f64)> {
    let used: Vec<(String, f64)> = end
        .iter()
        .map(|(k, e)| (k.1.clone(), (e - start.get(k).copied().unwrap_or(0.0)) / seconds.max(0.001) * 100.0))
        .collect();
    used.iter()
        .find(|(name, _)| name == "parta-sfu")
        .or_else(|| used.iter().max_by(|a, b| a.1.total_cmp(&b.1)))
        .cloned()
}

/// `RcvbufErrors` of `/proc/net/snmp`'s `Udp:` lines: datagrams dropped for
/// a full socket buffer, every socket of this network namespace together.
pub fn udp_rcvbuf_errors() -> Option<u64> {
    parse_rcvbuf_errors(&std::fs::read_to_string("/proc/net/snmp").ok()?)
}

fn parse_rcvbuf_errors(snmp: &str) -> Option<u64> {
    let mut lines = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let names = lines.next()?;
    let values = lines.next()?;
    let at = names.split_whitespace().position(|n| n == "RcvbufErrors")?;
    values.split_whitespace().nth(at)?.parse().ok()
}

/// The machine's CPU time so far, in ticks, from `/proc/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineCpu {
    pub total: u64,
    pub busy: u64,
    pub softirq: u64,
    pub cores: usize,
}

pub fn machine_cpu() -> Option<MachineCpu> {
    parse_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn parse_stat(stat: &str) -> Option<MachineCpu> {
    let mut lines = stat.lines();
    let first = lines.next()?.strip_prefix("cpu ")?;
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let v: Vec<u64> = first.split_whitespace().take(8).filter_map(|f| f.parse().ok()).collect();
    if v.len() < 8 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let cores = lines.filter(|l| l.starts_with("cpu")).count();
    Some(MachineCpu { total, busy: total - v[3] - v[4], softirq: v[6], cores })
}

/// The receive queue of the IPv4 UDP socket bound to `port`, in bytes.
fn udp_rx_queue(port: u16) -> Option<u64> {
    if port == 0 {
        return None;
    }
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let p = u16::from_str_radix(fields.get(1)?.rsplit(':').next()?, 16).ok()?;
        if p != port {
            return None;
        }
        u64::from_str_radix(fields.get(4)?.split(':').nth(1)?, 16).ok()
    })
}

/// Receive-buffer drops per local port of every IPv4 UDP socket (`/proc/net/udp`).
pub fn udp_drops_by_port() -> Option<BTreeMap<u16, u64>> {
    Some(parse_udp_drops(&std::fs::read_to_string("/proc/net/udp").ok()?))
}

fn parse_udp_drops(table: &str) -> BTreeMap<u16, u64> {
    let mut out = BTreeMap::new();
    for line in table.lines().skip(1) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
        let port = fields.get(1).and_then(|a| a.rsplit(':').next()).and_then(|p| u16::from_str_radix(p, 16).ok());
        let drops = fields.last().and_then(|d| d.parse::<u64>().ok());
        if let (Some(port), Some(drops), true) = (port, drops, fields.len() >= 13) {
            *out.entry(port).or_default() += drops;
        }
    }
    out
}

/// The 1-minute load average.
pub fn load_average() -> Option<String> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next().map(str::to_string)
}

/// A `parta serve` this tool started, on loopback, in its own data directory.
/// Killed when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    pub pid: u32,
    pub data: PathBuf,
    pub log: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts `binary serve` in `data` (a fresh temporary directory if
    /// `None`), listening on a free loopback port, with `config` (a TOML
    /// file) if given. Waits for "Parta is running at …".
    /// `cpus` (a `taskset -c` list, e.g. "1") pins the server to those CPUs.
    pub fn start(binary: &Path, data: Option<PathBuf>, config: Option<&Path>, cpus: Option<&str>) -> Result<Server> {
        let (temp, data) = match data {
            Some(d) => {
                std::fs::create_dir_all(&d)?;
                (None, d)
            }
            None => {
                let t = tempfile::Builder::new().prefix("parta-calls-").tempdir()?;
                let d = t.path().to_path_buf();
                (Some(t), d)
            }
        };
        let log = data.join("parta-serve.log");
        // The SFU binds loopback by default; say so anyway, so that a changed
        // default never puts this benchmark's media on the network.
        let config = match config {
            Some(c) => c.to_path_buf(),
            None => {
                let c = data.join("parta-calls.toml");
                std::fs::write(&c, "[calls]\nudp_bind = \"127.0.0.1:0\"\n")?;
                c
            }
        };
        let mut command = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus]).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        command.arg("serve").arg("--data").arg(&data).args(["--listen", "127.0.0.1:0"]).arg("--config").arg(&config);
        let mut child = command
            .env("PARTA_LOG", std::env::var("PARTA_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .map_err(|e| Error::Protocol(format!("cannot start {}: {e}", binary.display())))?;
        let pid = child.id();
        let stdout = child.stdout.take().ok_or_else(|| Error::Protocol("no stdout".into()))?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !sent && let Some(url) = line.strip_prefix("Parta is running at ") {
                    sent = tx.send(url.trim().to_string()).is_ok();
                }
            }
        });
        let mut server = Server { child, url: String::new(), pid, data, log, _temp: temp };
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => {
                crate::loopback_addr(&url)?;
                server.url = url;
                Ok(server)
            }
            Err(_) => {
                let log = std::fs::read_to_string(&server.log).unwrap_or_default();
                let tail: String =
                    log.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n");
                Err(Error::Protocol(format!("{} serve did not start:\n{tail}", binary.display())))
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The sweep's sizes: participants per step.
pub const SWEEP: &[usize] = &[10, 20, 30, 40, 60, 80, 100, 120, 160, 200, 250, 300];

/// Why a sweep stops after a step, if it does. `cores`: the machine's;
/// `generator_cores`: those this tool may run on (fewer under `taskset`).
pub fn sweep_stop(r: &Report, cores: usize, generator_cores: usize) -> Option<String> {
    let cores = cores.max(1) as f64;
    if r.loss_percent() > 1.0 {
        return Some(format!("loss {:.2} % > 1 %", r.loss_percent()));
    }
    if let Some((name, cpu)) = &r.sfu_thread
        && *cpu >= 90.0
    {
        return Some(format!("the server's {name} thread is saturated ({cpu:.0} % of a core)"));
    }
    if r.server_cpu.is_some_and(|c| c >= 90.0 * cores) {
        return Some("the server uses every core".into());
    }
    if r.generator_cpu.is_some_and(|c| c >= 90.0 * generator_cores.max(1) as f64) {
        return Some("the load generator uses every core".into());
    }
    if r.failed > 0 {
        return Some(format!("{} participants failed", r.failed));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_call_is_one_camera_and_thirty_microphones() {
        let c = Config {
            audio_publishers: 30,
            video_publishers: 1,
            participants: 30,
            warmup: Duration::ZERO,
            seconds: Duration::ZERO,
            drain: Duration::ZERO,
            settle_timeout: Duration::ZERO,
            quiet: Duration::ZERO,
            join_concurrency: 1,
            video: VideoPlan::default(),
            talkers: crate::pacing::DEFAULT_TALKERS,
        };
        let roles = c.roles();
        assert_eq!(roles.len(), 31);
        assert_eq!(roles[0], Role { audio: false, video: true });
        assert!(roles[1..].iter().all(|r| *r == Role { audio: true, video: false }));
        // A webinar: one camera, 99 listeners.
        let w = Config { audio_publishers: 0, participants: 100, ..c };
        let roles = w.roles();
        assert_eq!(roles.len(), 100);
        assert_eq!(roles.iter().filter(|r| r.video).count(), 1);
        assert!(roles.iter().all(|r| !r.audio));
        let roles = c.roles_with_leavers(2);
        assert_eq!(roles.len(), 33);
        assert!(roles[31..].iter().all(|r| *r == Role { audio: true, video: false }));
    }

    fn config(talkers: usize) -> Config {
        Config {
            audio_publishers: 2,
            video_publishers: 1,
            participants: 4,
            warmup: Duration::ZERO,
            seconds: Duration::from_secs(1),
            drain: Duration::ZERO,
            settle_timeout: Duration::ZERO,
            quiet: Duration::ZERO,
            join_concurrency: 1,
            video: VideoPlan::default(),
            talkers,
        }
    }

    #[test]
    fn no_more_talkers_than_voice_slots() {
        assert!((0..=VOICE_SLOTS).all(|t| config(t).check().is_ok()));
        let refused = config(VOICE_SLOTS + 1).check().unwrap_err().to_string();
        assert!(refused.contains("--talkers 4") && refused.contains("at most 3 voices"), "{refused}");
    }

    #[test]
    fn streams_at_once_are_frames_over_one_streams_frames() {
        // 20 s of two voices and a camera to 30 subscribers, plus a few DTX frames.
        assert!((streams_at_once(2 * 30 * 1_000 + 50, AUDIO_FPS, 20.0) - 60.05).abs() < 1e-9);
        assert_eq!(streams_at_once(30 * 600, 30, 20.0), 30.0);
        assert_eq!(streams_at_once(10, 30, 0.0), 0.0);
    }

    /// One participant's report: it published `published` from `start_us`
    /// and, of each (publisher, kind) in `got`, received the frame numbers
    /// of the range, that many of them inside the window.
    fn received(
        index: usize,
        published: &[(Kind, u32)],
        start_us: u64,
        got: &[((u16, Kind), std::ops::Range<u32>, u64)],
    ) -> ParticipantReport {
        let mut r = ParticipantReport::new(index);
        r.connected = true;
        r.max_listed = 4;
        r.published = published.iter().map(|(k, fps)| (*k, crate::pacing::Schedule { start_us, fps: *fps })).collect();
        for (key, frames, in_window) in got {
            let mut received = crate::pacing::Received::new();
            frames.clone().for_each(|k| received.insert(k));
            let s = rtc_client::StreamRx {
                received,
                frames_in_window: *in_window,
                packets_in_window: 0,
                bytes_in_window: 0,
            };
            r.streams.insert(*key, s);
        }
        r
    }

    #[test]
    fn the_tally_counts_loss_per_publisher_and_streams_at_once_per_kind() {
        // A camera (0), two microphones (1, 2) both talking, a listener (3);
        // a 1 s window from 1 s: 30 video frames, 50 audio frames per stream.
        let c = config(2);
        let roles = c.roles();
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let shared = Shared::new("http://127.0.0.1:1".into(), 1, vec![1, 2, 3, 4], roles, c.video, c.talkers, crypto);
        shared.start_talk();
        shared.set_window(1_000_000, 2_000_000);
        let (v, a) = (Kind::Video, Kind::Audio);
        // Everyone published from 0: the window holds video frames 30..60, audio 50..100.
        let reports = vec![
            received(0, &[(v, 30)], 0, &[((1, a), 0..100, 50), ((2, a), 0..100, 50)]),
            received(1, &[(a, AUDIO_FPS)], 0, &[((0, v), 0..60, 30), ((2, a), 0..100, 50)]),
            // Participant 2 lost 10 of the camera's frames in the window.
            received(2, &[(a, AUDIO_FPS)], 0, &[((0, v), 0..50, 20), ((1, a), 0..100, 50)]),
            received(3, &[], 0, &[((0, v), 0..60, 30), ((1, a), 0..100, 50), ((2, a), 0..100, 50)]),
        ];
        let r = tally(&shared, &c, &reports);
        assert_eq!((r.streams_expected, r.streams_live), (9, 9), "3 video + 6 audio (subscriber, publisher)");
        assert_eq!(r.video, Tally { expected: 90, received: 80 });
        assert_eq!(r.audio, Tally { expected: 300, received: 300 });
        assert_eq!(r.worst_stream.map(|(l, s, p, k)| (l.round(), s, p, k)), Some((33.0, 2, 0, Kind::Video)));
        // 80 video frames are 2.67 streams of 30 fps; 300 audio frames 6 of 50 fps.
        assert!((r.video_at_once - 80.0 / 30.0).abs() < 1e-9, "{}", r.video_at_once);
        assert!((r.audio_at_once - 6.0).abs() < 1e-9, "{}", r.audio_at_once);
        assert!((r.streams_at_once() - (6.0 + 80.0 / 30.0)).abs() < 1e-9);
        let r = Report { server_cpu: Some(50.0), ..r };
        assert!((r.streams_per_core().unwrap() - 2.0 * r.streams_at_once()).abs() < 1e-9);
        assert!(r.observations.is_empty(), "{:?}", r.observations);
    }

    #[test]
    fn udp_drops_are_read_from_snmp() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\n\
                    Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\n\
                    Udp: 53 0 7 54 5 0\nUdpLite: InDatagrams\nUdpLite: 0\n";
        assert_eq!(parse_rcvbuf_errors(snmp), Some(5));
        assert_eq!(parse_rcvbuf_errors("Ip: x\nIp: 1\n"), None);
        assert!(udp_rcvbuf_errors().is_some());
    }

    #[test]
    fn drops_are_read_per_port() {
        let table = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
             1: 0100007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 17\n\
             2: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1235 2 0000000000000000 0\n";
        let drops = parse_udp_drops(table);
        assert_eq!(drops.get(&0x9c41), Some(&17));
        assert_eq!(drops.get(&53), Some(&0));
        assert!(udp_drops_by_port().is_some());
    }

    #[test]
    fn machine_cpu_is_read_from_proc_stat() {
        let stat =
            "cpu  100 5 50 800 20 1 24 0 0 0\ncpu0 50 2 25 400 10 0 12 0 0 0\ncpu1 50 3 25 400 10 1 12 0 0 0\nintr 1\n";
        assert_eq!(parse_stat(stat), Some(MachineCpu { total: 1000, busy: 180, softirq: 24, cores: 2 }));
        assert!(machine_cpu().is_some());
    }

    #[test]
    fn the_sfu_thread_is_found_by_name() {
        let key = |t: &str, n: &str| (t.to_string(), n.to_string());
        let start = BTreeMap::from([(key("1", "parta"), 1.0), (key("2", "parta-sfu"), 2.0), (key("3", "tokio"), 0.0)]);
        let end = BTreeMap::from([(key("1", "parta"), 1.5), (key("2", "parta-sfu"), 7.0), (key("3", "tokio"), 9.0)]);
        assert_eq!(busiest_thread(&start, &end, 10.0), Some(("parta-sfu".into(), 50.0)));
        let end = BTreeMap::from([(key("1", "parta"), 1.5), (key("3", "tokio"), 9.0)]);
        assert_eq!(busiest_thread(&start, &end, 10.0), Some(("tokio".into(), 90.0)));
    }
}
