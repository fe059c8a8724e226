//! One synthetic call participant: a messenger WebSocket for signalling and a
//! `str0m` peer connection on its own loopback UDP socket for media, driven
//! by one tokio task.
//!
//! It joins the chat's call with an offer of two `sendonly` transceivers
//! (audio and video), answers every `call_offer` the server makes as other
//! participants' cameras appear and its voice slots open, and once ICE and
//! DTLS are up publishes what its [`Role`] says: 20 ms Opus-sized audio
//! frames, VP8 frames at the video plan's rate with a keyframe every two
//! seconds and on every keyframe request. Every frame carries a [`Tag`] (who,
//! which kind, which number, when it was due), so what it receives is counted
//! per publisher without any shared state — even though the SFU forwards the
//! others' audio on at most [`VOICE_SLOTS`] m-lines (msid `voices`), whoever
//! speaks taking one, and a slot carries one publisher after another: frames
//! and their RTP packets, the send → receive latency, and every RTP datagram
//! at the socket.
//!
//! What the server sends that the protocol (docs/protocol.md, "Calls") does
//! not lead to expect is noted as an observation, never an error: the report
//! lists them.

use crate::client::{self, Ws};
use crate::pacing::{self, Kind, Received, Schedule, Tag, Talk, VOICE_SLOTS, VOICES_STREAM_ID, VideoPlan};
use crate::stats::Histogram;
use crate::{Error, Result};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::config::CryptoProvider;
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};
use tokio::net::UdpSocket;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;

/// What a participant sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Role {
    pub audio: bool,
    pub video: bool,
}

impl Role {
    pub fn sends(&self, kind: Kind) -> bool {
        match kind {
            Kind::Audio => self.audio,
            Kind::Video => self.video,
        }
    }
}

/// Socket receive buffer per participant: a subscriber that falls a few
/// milliseconds behind must not lose what the SFU forwarded.
const RECV_BUFFER: usize = 1 << 20;
/// Datagrams read in one go before the task yields.
const READ_BATCH: usize = 64;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A join holds the gate at most this long (the next joins wait for it).
const JOIN_HOLD: Duration = Duration::from_secs(20);

/// What every participant of a run shares: the plan, and counters the run
/// watches to tell when everyone is in and every camera and voice slot flows.
pub struct Shared {
    pub url: String,
    pub chat: i64,
    /// `kind` of `call_join`.
    pub call_kind: &'static str,
    /// Participant i's person id (its forwarded video's msid is `p<person>`).
    pub persons: Vec<i64>,
    pub roles: Vec<Role>,
    /// The origin of every µs timestamp of the run.
    pub origin: Instant,
    pub video: VideoPlan,
    talk: Talk,
    /// Participant i's index among the microphones (for [`Talk::speaks`]).
    microphone: Vec<usize>,
    pub crypto: Arc<CryptoProvider>,
    /// When the microphones start taking turns, µs since the origin.
    talk_from_us: AtomicU64,
    window_from_us: AtomicU64,
    window_stop_us: AtomicU64,
    /// Participants whose `call_joined` came.
    pub joined: AtomicUsize,
    /// Participants whose peer connection is up.
    pub connected: AtomicUsize,
    /// What settling waits for that has flowed: (subscriber, video
    /// publisher) streams that delivered a frame, and each subscriber's audio
    /// m-lines that did, up to its share of [`Shared::settle_target`].
    pub flowing: AtomicUsize,
    /// `call_offer`s answered, all participants together.
    pub offers: AtomicU64,
    /// When the last `call_offer` arrived, µs since the origin.
    pub last_offer_us: AtomicU64,
    /// Participants that failed to join or lost their call.
    pub failed: AtomicUsize,
    /// The participants' UDP ports, and the SFU's (from its answer's candidate).
    pub ports: std::sync::Mutex<Vec<u16>>,
    pub sfu_port: std::sync::atomic::AtomicU16,
}

impl Shared {
    pub fn new(
        url: String,
        chat: i64,
        persons: Vec<i64>,
        roles: Vec<Role>,
        video: VideoPlan,
        talkers: usize,
        crypto: Arc<CryptoProvider>,
    ) -> Shared {
        let microphone: Vec<usize> =
            roles.iter().scan(0, |before, r| Some(std::mem::replace(before, *before + usize::from(r.audio)))).collect();
        let microphones = roles.iter().filter(|r| r.audio).count();
        let talk = Talk::new(talkers, microphones);
        let call_kind = if roles.iter().any(|r| r.video) { "video" } else { "audio" };
        Shared {
            url,
            chat,
            call_kind,
            persons,
            roles,
            origin: Instant::now(),
            video,
            talk,
            microphone,
            crypto,
            talk_from_us: AtomicU64::new(u64::MAX),
            window_from_us: AtomicU64::new(u64::MAX),
            window_stop_us: AtomicU64::new(u64::MAX),
            joined: AtomicUsize::new(0),
            connected: AtomicUsize::new(0),
            flowing: AtomicUsize::new(0),
            offers: AtomicU64::new(0),
            last_offer_us: AtomicU64::new(0),
            failed: AtomicUsize::new(0),
            ports: std::sync::Mutex::new(Vec::new()),
            sfu_port: std::sync::atomic::AtomicU16::new(0),
        }
    }

    pub fn now_us(&self) -> u64 {
        pacing::micros(self.origin.elapsed())
    }

    pub fn us_of(&self, at: Instant) -> u64 {
        pacing::micros(at.saturating_duration_since(self.origin))
    }

    pub fn instant_of(&self, us: u64) -> Instant {
        self.origin + Duration::from_micros(us)
    }

    /// The microphones take turns from now on.
    pub fn start_talk(&self) {
        self.talk_from_us.store(self.now_us(), Ordering::SeqCst);
    }

    /// Whether participant `index`'s microphone speaks at `at_us`.
    pub fn speaks(&self, index: usize, at_us: u64) -> bool {
        self.talk.speaks(self.microphone[index], at_us, self.talk_from_us.load(Ordering::Relaxed))
    }

    /// Whether `listener` should hear what participant `index`'s microphone
    /// says at `at_us`: it speaks, and the voice-slot rule does not let the
    /// SFU hold it back ([`Talk::waits_for_slot`]).
    pub fn heard_by(&self, index: usize, listener: usize, at_us: u64) -> bool {
        let from = self.talk_from_us.load(Ordering::Relaxed);
        let own = self.roles.get(listener).is_some_and(|r| r.audio).then(|| self.microphone[listener]);
        let mic = self.microphone[index];
        self.talk.speaks(mic, at_us, from) && !self.talk.waits_for_slot(mic, own, at_us, from)
    }

    /// Sets the measurement window (µs since the origin).
    pub fn set_window(&self, from_us: u64, stop_us: u64) {
        self.window_stop_us.store(stop_us, Ordering::SeqCst);
        self.window_from_us.store(from_us, Ordering::SeqCst);
    }

    /// The measurement window, µs since the origin.
    pub fn window(&self) -> (u64, u64) {
        (self.window_from_us.load(Ordering::SeqCst), self.window_stop_us.load(Ordering::SeqCst))
    }

    fn in_window(&self, us: u64) -> bool {
        us >= self.window_from_us.load(Ordering::Relaxed) && us < self.window_stop_us.load(Ordering::Relaxed)
    }

    /// The voice slots participant `index` should have flowing before the
    /// talk starts, when every microphone speaks: one per other microphone,
    /// at most [`VOICE_SLOTS`].
    pub fn voice_slots(&self, index: usize) -> usize {
        let own = self.roles.get(index).is_some_and(|r| r.audio);
        let others = self.roles.iter().filter(|r| r.audio).count() - usize::from(own);
        others.min(VOICE_SLOTS)
    }

    /// What settling waits for once everyone is in: every other camera
    /// reaching every participant, and each participant's voice slots
    /// ([`Shared::voice_slots`]) delivering audio. Not a stream per
    /// (subscriber, microphone): the SFU forwards at most [`VOICE_SLOTS`]
    /// voices to a participant, and with everyone speaking before the talk
    /// the same few hold them, so most microphones are never heard before the
    /// window and waiting for them would never end.
    pub fn settle_target(&self) -> usize {
        let n = self.roles.len();
        let cameras = self.roles.iter().filter(|r| r.video).count();
        (0..n).map(|i| cameras - usize::from(self.roles[i].video) + self.voice_slots(i)).sum()
    }
}

/// One forwarded stream as a subscriber saw it.
#[derive(Debug, Clone)]
pub struct StreamRx {
    pub received: Received,
    /// Frames and their RTP packets that arrived inside the window.
    pub frames_in_window: u64,
    pub packets_in_window: u64,
    pub bytes_in_window: u64,
}

/// What one participant counted.
#[derive(Debug, Clone)]
pub struct ParticipantReport {
    pub index: usize,
    /// The schedules of what it published (frame 0 due at `start_us`).
    pub published: Vec<(Kind, Schedule)>,
    pub frames_sent: BTreeMap<Kind, u64>,
    /// Keyframes sent on request (not the scheduled ones).
    pub keyframes_on_request: u64,
    pub keyframe_requests: u64,
    /// (publisher index, kind) → what came.
    pub streams: HashMap<(u16, Kind), StreamRx>,
    /// RTP datagrams (and their bytes) read from the socket inside the window.
    pub rtp_in_window: u64,
    pub rtp_bytes_in_window: u64,
    /// Due → received, per frame inside the window (µs).
    pub latency: Histogram,
    pub offers: u64,
    /// `call_speaker` frames (the loudest voice changed) received in the window.
    pub speaker_frames: u64,
    /// The most participants a `call_state` listed.
    pub max_listed: usize,
    /// The largest `call_offer` received and `call_answer` sent, as WebSocket text (bytes).
    pub max_offer_bytes: usize,
    pub max_answer_bytes: usize,
    pub joined: bool,
    pub connected: bool,
    /// Seconds from `call_join` to the peer connection being up.
    pub join_seconds: Option<f64>,
    /// Things the server did that the protocol does not say, deduplicated.
    pub observations: BTreeSet<String>,
    pub errors: Vec<String>,
}

impl ParticipantReport {
    pub(crate) fn new(index: usize) -> ParticipantReport {
        ParticipantReport {
            index,
            published: Vec::new(),
            frames_sent: BTreeMap::new(),
            keyframes_on_request: 0,
            keyframe_requests: 0,
            streams: HashMap::new(),
            rtp_in_window: 0,
            rtp_bytes_in_window: 0,
            latency: Histogram::default(),
            offers: 0,
            speaker_frames: 0,
            max_listed: 0,
            max_offer_bytes: 0,
            max_answer_bytes: 0,
            joined: false,
            connected: false,
            join_seconds: None,
            observations: BTreeSet::new(),
            errors: Vec::new(),
        }
    }

    fn error(&mut self, e: impl Into<String>) {
        if self.errors.len() < 10 {
            self.errors.push(e.into());
        }
    }
}

/// The open messenger WebSocket of a participant, `ready` received.
pub struct Signalling {
    ws: Ws,
    /// `ready` carried `ice_servers`, as the protocol says it does.
    ice_servers: bool,
}

/// Connects the WebSocket, says `hello` and waits for `ready`.
pub async fn connect(url: &str, cookie: &str) -> Result<Signalling> {
    let fut = async {
        let mut ws = client::connect(url, Some(cookie), None).await?;
        ws.send(Message::Text(client::hello(&[]).into())).await?;
        while let Some(message) = ws.next().await {
            if let Message::Text(text) = message? {
                let frame: Value = serde_json::from_str(&text).map_err(|e| Error::Protocol(e.to_string()))?;
                match frame["type"].as_str() {
                    Some("ready") => return Ok(Signalling { ws, ice_servers: frame["ice_servers"].is_array() }),
                    Some("bye") | Some("error") => return Err(Error::Protocol(format!("refused: {text}"))),
                    _ => {}
                }
            }
        }
        Err(Error::Protocol("the socket closed before ready (is the session valid?)".into()))
    };
    tokio::time::timeout(CONNECT_TIMEOUT, fut).await.map_err(|_| Error::Timeout("connecting a participant".into()))?
}

/// The SDP of the server with every candidate that is not loopback removed
/// (each noted): this tool never sends media off the machine.
fn loopback_only(sdp: &str, observations: &mut BTreeSet<String>) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.split_inclusive('\n') {
        if let Some(rest) = line.trim_end().strip_prefix("a=candidate:") {
            // foundation component transport priority address port typ …
            let address = rest.split_whitespace().nth(4).unwrap_or_default();
            let loopback = address.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                observations.insert(format!("the server's SDP offers a non-loopback candidate ({address}); ignored"));
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// The port of the first candidate of an SDP.
fn candidate_port(sdp: &str) -> Option<u16> {
    sdp.lines().find_map(|l| l.strip_prefix("a=candidate:")?.split_whitespace().nth(5)?.parse().ok())
}

/// A mid that two m-lines of an SDP share, if any.
fn duplicate_mid(sdp: &str) -> Option<String> {
    let mut seen = BTreeSet::new();
    sdp.lines().filter_map(|l| l.trim_end().strip_prefix("a=mid:")).find(|m| !seen.insert(*m)).map(str::to_string)
}

/// A call id from a frame's `call`: an id, or a `Call` object with one.
fn call_id(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v["id"].as_i64())
}

/// What is wrong with the msid stream id of an m-line on which `kind`
/// frames from `person` arrived, if anything: audio comes on a voice slot
/// (`voices`, whoever speaks), video on its publisher's own m-line
/// (`p<person>`).
fn msid_mismatch(kind: Kind, stream_id: &str, person: i64) -> Option<String> {
    match kind {
        Kind::Audio if stream_id == VOICES_STREAM_ID => None,
        Kind::Audio => {
            let per_person = stream_id.strip_prefix('p').is_some_and(|n| n.parse::<i64>().is_ok());
            let got = if per_person {
                "\"p<person>\" (a track per participant)".to_string()
            } else {
                format!("{stream_id:?}")
            };
            Some(format!(
                "a forwarded audio track's msid stream id is {got}, expected {VOICES_STREAM_ID:?} (a voice slot)"
            ))
        }
        Kind::Video if stream_id == format!("p{person}") => None,
        Kind::Video => Some(format!(
            "a forwarded video track's msid stream id is {stream_id:?}, expected \"p<person>\" (\"p{person}\")"
        )),
    }
}

/// What one subscriber has seen flow, towards [`Shared::settle_target`].
#[derive(Debug, Default)]
struct Flowing {
    /// Its voice slots ([`Shared::voice_slots`]).
    slots: usize,
    /// Cameras whose frames came.
    cameras: BTreeSet<u16>,
    /// Audio m-lines on which another participant's frames came.
    voice_mids: BTreeSet<Mid>,
}

impl Flowing {
    /// A frame of `tag` came on `mid` to participant `me`: whether it is
    /// the first of something settling counts — a camera, or a voice slot
    /// up to its slots (so that audio on extra m-lines never stands in for a
    /// camera that does not flow).
    fn saw(&mut self, mid: Mid, tag: Tag, me: usize, roles: &[Role]) -> bool {
        let publisher = usize::from(tag.publisher);
        if publisher == me || !roles.get(publisher).is_some_and(|r| r.sends(tag.kind)) {
            return false;
        }
        match tag.kind {
            Kind::Video => self.cameras.insert(tag.publisher),
            Kind::Audio => self.voice_mids.insert(mid) && self.voice_mids.len() <= self.slots,
        }
    }
}

struct Peer {
    index: usize,
    shared: Arc<Shared>,
    rtc: Rtc,
    local: SocketAddr,
    audio_mid: Mid,
    video_mid: Mid,
    audio_pt: Option<Pt>,
    video_pt: Option<Pt>,
    /// Forwarded media: mid → kind and stream id, from `MediaAdded`.
    remote: HashMap<Mid, (MediaKind, String)>,
    /// Mids whose stream id and kind were checked against the frames' tags,
    /// with the publisher last seen on each (a voice slot changes hands).
    checked: HashMap<Mid, (u16, Kind)>,
    flowing: Flowing,
    /// The SDP exchange so far (the answer to our join, each offer and our
    /// answer), kept to show what the server sent when an offer is refused.
    history: Vec<String>,
    connected: bool,
    force_key: bool,
    /// The server's answer asked for Opus DTX: silence is sent as one frame in [`pacing::DTX_EVERY`].
    dtx: bool,
    audio: Option<(Schedule, u64)>,
    video: Option<(Schedule, u64)>,
    r: ParticipantReport,
}

impl Peer {
    /// Drains `poll_output` to its timeout: sends what is to be sent, counts
    /// what came.
    fn drain(&mut self, socket: &UdpSocket) -> Result<Instant> {
        loop {
            match self.rtc.poll_output().map_err(|e| Error::Protocol(format!("str0m: {e}")))? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    if !t.destination.ip().is_loopback() {
                        self.r
                            .observations
                            .insert(format!("media towards {} (not loopback) was dropped", t.destination));
                        continue;
                    }
                    // A full socket buffer drops the datagram, as a network would.
                    let _ = socket.try_send_to(&t.contents, t.destination);
                }
                Output::Event(e) => self.on_event(e),
            }
        }
    }

    fn on_event(&mut self, e: Event) {
        match e {
            Event::Connected => {
                self.connected = true;
            }
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                self.r.error("ICE disconnected");
            }
            Event::MediaAdded(m) => {
                let stream_id = self.rtc.media(m.mid).map(|media| media.stream_id().to_string()).unwrap_or_default();
                if m.direction != Direction::RecvOnly {
                    self.r.observations.insert(format!(
                        "a forwarded m-line is {:?} at the client (expected recvonly: the server's sendonly)",
                        m.direction
                    ));
                }
                self.remote.insert(m.mid, (m.kind, stream_id));
                let cameras = self.shared.roles.iter().enumerate().filter(|&(i, r)| r.video && i != self.index).count();
                let video_lines = self.remote.values().filter(|(kind, _)| *kind == MediaKind::Video).count();
                // One line however many there are: observations are deduplicated.
                if video_lines > cameras {
                    self.r.observations.insert(format!(
                        "a camera that sends nothing was offered (more video m-lines than the call's {cameras} other cameras)"
                    ));
                }
            }
            Event::KeyframeRequest(k) if k.mid == self.video_mid => {
                self.r.keyframe_requests += 1;
                self.force_key = true;
            }
            Event::MediaData(d) => self.on_media(d.mid, &d.data, d.seq_range.clone()),
            _ => {}
        }
    }

    fn on_media(&mut self, mid: Mid, data: &[u8], seqs: std::ops::RangeInclusive<str0m::rtp::SeqNo>) {
        let now_us = self.shared.now_us();
        let Some(tag) = pacing::read_tag(data) else {
            self.r.observations.insert("a forwarded frame does not carry a participant's tag".into());
            return;
        };
        let key = (tag.publisher, tag.kind);
        if self.checked.get(&mid) != Some(&key) {
            self.check_stream(mid, tag);
            self.checked.insert(mid, key);
        }
        if self.flowing.saw(mid, tag, self.index, &self.shared.roles) {
            self.shared.flowing.fetch_add(1, Ordering::Relaxed);
        }
        if self.flowing.voice_mids.len() > VOICE_SLOTS {
            self.r.observations.insert(format!(
                "audio arrived on more than {VOICE_SLOTS} m-lines (the SFU forwards voices on at most {VOICE_SLOTS} slots)"
            ));
        }
        let stream = self.r.streams.entry(key).or_insert_with(|| StreamRx {
            received: Received::new(),
            frames_in_window: 0,
            packets_in_window: 0,
            bytes_in_window: 0,
        });
        stream.received.insert(tag.frame);
        if self.shared.in_window(now_us) {
            stream.frames_in_window += 1;
            stream.packets_in_window += (**seqs.end()).saturating_sub(**seqs.start()) + 1;
            stream.bytes_in_window += data.len() as u64;
            self.r.latency.record(now_us.saturating_sub(tag.due_us));
        }
    }

    /// The first frame on a mid, or the first from another publisher: does
    /// its m-line say what it is, as the protocol does (a voice slot for
    /// audio, the publisher's own for video)?
    fn check_stream(&mut self, mid: Mid, tag: Tag) {
        let person = self.shared.persons.get(usize::from(tag.publisher)).copied().unwrap_or_default();
        match self.remote.get(&mid) {
            None => {
                self.r.observations.insert("media arrived on a mid no MediaAdded announced".into());
            }
            Some((kind, stream_id)) => {
                if let Some(wrong) = msid_mismatch(tag.kind, stream_id, person) {
                    self.r.observations.insert(wrong);
                }
                let want = match tag.kind {
                    Kind::Audio => MediaKind::Audio,
                    Kind::Video => MediaKind::Video,
                };
                if *kind != want {
                    self.r.observations.insert(format!("{} frames arrived on a {kind:?} m-line", tag.kind.name()));
                }
            }
        }
        if usize::from(tag.publisher) == self.index {
            self.r.observations.insert("a participant received its own media back".into());
        }
    }

    /// The negotiated payload type of a codec on one of our own m-lines.
    fn pt(&mut self, mid: Mid, codec: Codec) -> Option<Pt> {
        let writer = self.rtc.writer(mid)?;
        writer.payload_params().find(|p| p.spec().codec == codec).map(|p| p.pt())
    }

    /// Starts publishing once the peer connection is up.
    fn start_publishing(&mut self) {
        let role = self.shared.roles[self.index];
        let start_us = self.shared.now_us();
        if role.audio {
            self.audio_pt = self.pt(self.audio_mid, Codec::Opus);
            match self.audio_pt {
                Some(_) => {
                    let s = Schedule { start_us, fps: pacing::AUDIO_FPS };
                    self.audio = Some((s, 0));
                    self.r.published.push((Kind::Audio, s));
                }
                None => self.r.error("no Opus payload type was negotiated for the audio m-line"),
            }
        }
        if role.video {
            self.video_pt = self.pt(self.video_mid, Codec::Vp8);
            match self.video_pt {
                Some(_) => {
                    let s = Schedule { start_us, fps: self.shared.video.fps };
                    self.video = Some((s, 0));
                    self.r.published.push((Kind::Video, s));
                }
                None => self.r.error("no VP8 payload type was negotiated for the video m-line"),
            }
        }
    }

    /// The next moment a frame is due.
    fn next_frame_at(&self) -> Option<Instant> {
        [self.audio, self.video].into_iter().flatten().map(|(s, k)| self.shared.instant_of(s.due_us(k))).min()
    }

    /// Writes every frame due by now, draining after each.
    fn write_due(&mut self, socket: &UdpSocket) -> Result<Option<Instant>> {
        let now_us = self.shared.now_us();
        let mut timeout = None;
        for kind in [Kind::Audio, Kind::Video] {
            loop {
                let (slot, pt, mid) = match kind {
                    Kind::Audio => (self.audio, self.audio_pt, self.audio_mid),
                    Kind::Video => (self.video, self.video_pt, self.video_mid),
                };
                let (Some((schedule, k)), Some(pt)) = (slot, pt) else { break };
                let due_us = schedule.due_us(k);
                if due_us > now_us {
                    break;
                }
                let tag =
                    Tag { publisher: self.index as u16, kind, frame: u32::try_from(k).unwrap_or(u32::MAX), due_us };
                let (data, clock) = match kind {
                    Kind::Audio => (pacing::audio_frame(&tag, pacing::audio_size(k)), Frequency::FORTY_EIGHT_KHZ),
                    Kind::Video => {
                        let plan = self.shared.video;
                        let key = plan.scheduled_key(k) || self.force_key;
                        if self.force_key && !plan.scheduled_key(k) {
                            self.r.keyframes_on_request += 1;
                        }
                        self.force_key = false;
                        let size = if key { plan.key_size() } else { plan.delta_size() };
                        (pacing::vp8_frame(&tag, size, key), Frequency::NINETY_KHZ)
                    }
                };
                let media_time = MediaTime::new(schedule.media_time(k, clock.get()), clock);
                let wallclock = self.shared.instant_of(due_us);
                let voice = kind == Kind::Video || self.shared.speaks(self.index, due_us);
                // Under DTX an encoder sends a frame of silence now and then, not every 20 ms.
                if voice || !self.dtx || k.is_multiple_of(pacing::DTX_EVERY) {
                    let mut writer =
                        self.rtc.writer(mid).ok_or_else(|| Error::Protocol("our own m-line is gone".into()))?;
                    if kind == Kind::Audio {
                        writer =
                            writer.audio_level(if voice { pacing::SPEECH_DBOV } else { pacing::SILENCE_DBOV }, voice);
                    }
                    writer
                        .write(pt, wallclock, media_time, data)
                        .map_err(|e| Error::Protocol(format!("write: {e}")))?;
                    timeout = Some(self.drain(socket)?);
                    *self.r.frames_sent.entry(kind).or_default() += 1;
                }
                match kind {
                    Kind::Audio => self.audio = Some((schedule, k + 1)),
                    Kind::Video => self.video = Some((schedule, k + 1)),
                }
            }
        }
        Ok(timeout)
    }
}

fn udp_socket() -> Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    // The kernel caps this at net.core.rmem_max; whatever it grants is fine.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    let _ = socket.set_send_buffer_size(RECV_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    Ok(UdpSocket::from_std(socket.into())?)
}

/// Runs one participant until `stop` turns true: joins (holding `gate`, if
/// given, until its peer connection is up), answers offers, publishes and
/// counts. Leaves the call at the end.
pub async fn run(
    index: usize,
    signalling: Signalling,
    shared: Arc<Shared>,
    gate: Option<Arc<Semaphore>>,
    stop: watch::Receiver<bool>,
) -> ParticipantReport {
    let mut report = ParticipantReport::new(index);
    if !signalling.ice_servers {
        report.observations.insert("ready carries no ice_servers".into());
    }
    let mut ws = signalling.ws;
    let outcome = drive(index, &mut ws, &shared, gate, stop, &mut report).await;
    if let Err(e) = outcome {
        shared.failed.fetch_add(1, Ordering::Relaxed);
        report.error(e.to_string());
    }
    let _ = ws.close(None).await;
    report
}

async fn drive(
    index: usize,
    ws: &mut Ws,
    shared: &Arc<Shared>,
    gate: Option<Arc<Semaphore>>,
    mut stop: watch::Receiver<bool>,
    report: &mut ParticipantReport,
) -> Result<()> {
    let mut permit: Option<OwnedSemaphorePermit> = match gate {
        Some(gate) => Some(gate.acquire_owned().await.map_err(|_| Error::Protocol("the join gate closed".into()))?),
        None => None,
    };
    if *stop.borrow() {
        return Ok(());
    }
    let socket = udp_socket()?;
    let local = socket.local_addr()?;
    if let Ok(mut ports) = shared.ports.lock() {
        ports.push(local.port());
    }
    let mut rtc = Rtc::builder().set_crypto_provider(Arc::clone(&shared.crypto)).build(Instant::now());
    let candidate = Candidate::host(local, "udp").map_err(|e| Error::Protocol(format!("candidate: {e}")))?;
    rtc.add_local_candidate(candidate);
    let stream_id = format!("lg{index}");
    let mut api = rtc.sdp_api();
    let audio_mid = api.add_media(MediaKind::Audio, Direction::SendOnly, Some(stream_id.clone()), None, None);
    let video_mid = api.add_media(MediaKind::Video, Direction::SendOnly, Some(stream_id), None, None);
    let (offer, pending) = api.apply().ok_or_else(|| Error::Protocol("str0m made no offer".into()))?;
    let mut pending: Option<SdpPendingOffer> = Some(pending);

    let mut peer = Peer {
        index,
        shared: Arc::clone(shared),
        rtc,
        local,
        audio_mid,
        video_mid,
        audio_pt: None,
        video_pt: None,
        remote: HashMap::new(),
        checked: HashMap::new(),
        flowing: Flowing { slots: shared.voice_slots(index), ..Flowing::default() },
        history: Vec::new(),
        connected: false,
        force_key: false,
        dtx: false,
        audio: None,
        video: None,
        r: std::mem::replace(report, ParticipantReport::new(index)),
    };
    let result = run_peer(&mut peer, ws, &socket, offer, &mut pending, &mut permit, &mut stop).await;
    *report = peer.r;
    result
}

async fn send_json(ws: &mut Ws, frame: Value) -> Result<()> {
    ws.send(Message::Text(frame.to_string().into())).await?;
    Ok(())
}

async fn run_peer(
    peer: &mut Peer,
    ws: &mut Ws,
    socket: &UdpSocket,
    offer: SdpOffer,
    pending: &mut Option<SdpPendingOffer>,
    permit: &mut Option<OwnedSemaphorePermit>,
    stop: &mut watch::Receiver<bool>,
) -> Result<()> {
    let shared = Arc::clone(&peer.shared);
    let join_started = Instant::now();
    send_json(
        ws,
        json!({"type": "call_join", "chat": shared.chat, "kind": shared.call_kind, "sdp": offer.to_sdp_string()}),
    )
    .await?;
    let mut call: Option<i64> = None;
    let mut queued: VecDeque<(i64, String)> = VecDeque::new();
    let mut buf = vec![0u8; 2048];
    let mut rtc_timeout = peer.drain(socket)?;

    loop {
        if permit.is_some() && join_started.elapsed() > JOIN_HOLD {
            // Let the next joins go; this one keeps trying.
            *permit = None;
            peer.r.error("not connected 20 s after call_join");
        }
        let wake = peer.next_frame_at().map_or(rtc_timeout, |f| f.min(rtc_timeout));
        let wake = tokio::time::Instant::from_std(wake.max(Instant::now()));
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
            read = socket.recv_from(&mut buf) => {
                let mut next = Some(read);
                let mut batch = 0;
                while let Some(read) = next.take() {
                    let (n, source) = match read {
                        Ok(r) => r,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        // ICMP port unreachable and the like: nothing to do with this datagram.
                        Err(_) => break,
                    };
                    let now = Instant::now();
                    let datagram = &buf[..n];
                    if pacing::is_rtp(datagram) && shared.in_window(shared.us_of(now)) {
                        peer.r.rtp_in_window += 1;
                        peer.r.rtp_bytes_in_window += n as u64;
                    }
                    if let Ok(receive) = Receive::new(Protocol::Udp, source, peer.local, datagram) {
                        let input = Input::Receive(now, receive);
                        if peer.rtc.accepts(&input) {
                            peer.rtc.handle_input(input).map_err(|e| Error::Protocol(format!("str0m input: {e}")))?;
                            rtc_timeout = peer.drain(socket)?;
                        }
                    }
                    batch += 1;
                    if batch < READ_BATCH {
                        next = Some(socket.try_recv_from(&mut buf));
                    }
                }
            }
            incoming = ws.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => return Err(Error::Protocol("the server closed the WebSocket".into())),
                    Some(Err(e)) => return Err(e.into()),
                    Some(Ok(_)) => continue,
                };
                let frame: Value = serde_json::from_str(&text).map_err(|e| Error::Protocol(e.to_string()))?;
                match frame["type"].as_str().unwrap_or_default() {
                    "call_joined" => {
                        let id = call_id(&frame["call"]);
                        if id.is_none() {
                            peer.r.observations.insert("call_joined has no call id (`call` should be a Call)".into());
                        }
                        if !frame["call"].is_object() {
                            peer.r.observations.insert("call_joined's `call` is not a Call object".into());
                        }
                        call = id.or(call);
                        let Some(sdp) = frame["sdp"].as_str() else {
                            return Err(Error::Protocol("call_joined without sdp".into()));
                        };
                        let sdp = loopback_only(sdp, &mut peer.r.observations);
                        peer.history.push(format!("--- call_joined (the answer to our offer)\n{sdp}"));
                        peer.dtx = pacing::asks_for_opus_dtx(&sdp);
                        if let Some(port) = candidate_port(&sdp) {
                            shared.sfu_port.store(port, Ordering::Relaxed);
                        }
                        let answer = SdpAnswer::from_sdp_string(&sdp).map_err(|e| Error::Protocol(format!("the server's answer: {e}")))?;
                        let Some(p) = pending.take() else {
                            peer.r.observations.insert("a second call_joined for one call_join".into());
                            continue;
                        };
                        peer.rtc.sdp_api().accept_answer(p, answer).map_err(|e| Error::Protocol(format!("accepting the answer: {e}")))?;
                        rtc_timeout = peer.drain(socket)?;
                        peer.r.joined = true;
                        shared.joined.fetch_add(1, Ordering::Relaxed);
                        let role = shared.roles[peer.index];
                        if let Some(call) = call {
                            send_json(ws, json!({"type": "call_media", "call": call, "audio": role.audio, "video": role.video, "screen": false})).await?;
                        }
                        while let Some((offer_call, sdp)) = queued.pop_front() {
                            rtc_timeout = answer_offer(peer, ws, socket, offer_call, &sdp).await?;
                        }
                    }
                    "call_offer" => {
                        peer.r.max_offer_bytes = peer.r.max_offer_bytes.max(text.len());
                        shared.last_offer_us.fetch_max(shared.now_us(), Ordering::Relaxed);
                        let offer_call = call_id(&frame["call"]).or(call);
                        let (Some(offer_call), Some(sdp)) = (offer_call, frame["sdp"].as_str()) else {
                            peer.r.observations.insert("call_offer without call or sdp".into());
                            continue;
                        };
                        if pending.is_some() {
                            peer.r.observations.insert("call_offer arrived before call_joined".into());
                            queued.push_back((offer_call, sdp.to_string()));
                        } else {
                            rtc_timeout = answer_offer(peer, ws, socket, offer_call, sdp).await?;
                        }
                    }
                    "call_state" => {
                        if let Some(list) = frame["call"]["participants"].as_array() {
                            peer.r.max_listed = peer.r.max_listed.max(list.len());
                        } else {
                            peer.r.observations.insert("call_state without call.participants".into());
                        }
                    }
                    "call_speaker" => {
                        // The loudest voice changed: nothing to do but count it.
                        if shared.in_window(shared.now_us()) {
                            peer.r.speaker_frames += 1;
                        }
                        if !matches!(frame.get("person"), Some(Value::Null | Value::Number(_))) {
                            peer.r.observations.insert("call_speaker without `person` (an id or null)".into());
                        }
                    }
                    "call_left" => {
                        let reason = frame["reason"].as_str().unwrap_or("?").to_string();
                        return Err(Error::Protocol(format!("call_left: {reason}")));
                    }
                    "call_ended" => {
                        return Err(Error::Protocol(format!("call_ended: {}", frame["reason"])));
                    }
                    "error" => {
                        peer.r.error(format!("error frame: {}", text.chars().take(300).collect::<String>()));
                        if pending.is_some() {
                            return Err(Error::Protocol(format!("call_join refused: {text}")));
                        }
                    }
                    "bye" => return Err(Error::Protocol(format!("bye: {text}"))),
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(wake) => {}
        }
        if peer.connected {
            if !peer.r.connected {
                peer.r.connected = true;
                peer.r.join_seconds = Some(join_started.elapsed().as_secs_f64());
                shared.connected.fetch_add(1, Ordering::Relaxed);
                peer.start_publishing();
            }
            *permit = None;
        }
        if peer.connected
            && let Some(t) = peer.write_due(socket)?
        {
            rtc_timeout = t;
        }
        let now = Instant::now();
        if now >= rtc_timeout {
            peer.rtc.handle_input(Input::Timeout(now)).map_err(|e| Error::Protocol(format!("str0m timeout: {e}")))?;
            rtc_timeout = peer.drain(socket)?;
        }
    }
    if let Some(call) = call {
        let _ = send_json(ws, json!({"type": "call_leave", "call": call})).await;
    }
    Ok(())
}

async fn answer_offer(peer: &mut Peer, ws: &mut Ws, socket: &UdpSocket, call: i64, sdp: &str) -> Result<Instant> {
    let sdp = loopback_only(sdp, &mut peer.r.observations);
    if peer.history.len() >= 8 {
        // The answer to our join, then the latest exchanges.
        peer.history.drain(1..3);
    }
    peer.history.push(format!("--- call_offer {}\n{sdp}", peer.r.offers + 1));
    if let Some(mid) = duplicate_mid(&sdp) {
        peer.r.observations.insert(format!(
            "a call_offer names one mid on two m-lines (a=mid:{mid}); str0m refuses it (\"Changed order for m-line\")"
        ));
    }
    let offer = SdpOffer::from_sdp_string(&sdp).map_err(|e| Error::Protocol(format!("the server's offer: {e}")))?;
    let answer = match peer.rtc.sdp_api().accept_offer(offer) {
        Ok(answer) => answer,
        Err(e) => {
            // Keep the exchange for whoever reads the error.
            let path = std::env::temp_dir().join(format!("parta-calls-refused-offer-{}.sdp", peer.index));
            let saved = std::fs::write(&path, peer.history.join("\n")).is_ok();
            let at = if saved { format!(" (the SDP exchange is in {})", path.display()) } else { String::new() };
            return Err(Error::Protocol(format!("accepting an offer: {e}{at}")));
        }
    };
    peer.history.push(format!("--- call_answer {}\n{}", peer.r.offers + 1, answer.to_sdp_string()));
    let timeout = peer.drain(socket)?;
    peer.r.offers += 1;
    peer.shared.offers.fetch_add(1, Ordering::Relaxed);
    let frame = json!({"type": "call_answer", "call": call, "sdp": answer.to_sdp_string()}).to_string();
    peer.r.max_answer_bytes = peer.r.max_answer_bytes.max(frame.len());
    ws.send(Message::Text(frame.into())).await?;
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_candidates_survive() {
        let sdp = "v=0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n\
                   a=candidate:2 1 udp 2130706431 192.168.1.5 40000 typ host\r\na=end-of-candidates\r\n";
        let mut seen = BTreeSet::new();
        let out = loopback_only(sdp, &mut seen);
        assert!(out.contains("127.0.0.1 40000"));
        assert!(!out.contains("192.168.1.5"));
        assert!(out.ends_with("a=end-of-candidates\r\n"));
        assert_eq!(seen.len(), 1);
        assert_eq!(candidate_port(&out), Some(40000));
    }

    #[test]
    fn a_mid_on_two_m_lines_is_found() {
        let sdp = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:b2\r\n";
        assert_eq!(duplicate_mid(sdp), None);
        let twice = format!("{sdp}m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:a1\r\n");
        assert_eq!(duplicate_mid(&twice).as_deref(), Some("a1"));
    }

    #[test]
    fn a_call_is_an_id_or_a_call() {
        assert_eq!(call_id(&json!(12)), Some(12));
        assert_eq!(call_id(&json!({"id": 12, "chat": 3})), Some(12));
        assert_eq!(call_id(&json!(null)), None);
    }

    fn shared(roles: Vec<Role>, talkers: usize) -> Shared {
        let crypto = Arc::new(str0m::crypto::from_feature_flags());
        let persons = (1..=roles.len() as i64).collect();
        Shared::new("http://127.0.0.1:1".into(), 1, persons, roles, VideoPlan::default(), talkers, crypto)
    }

    const CAMERA: Role = Role { audio: false, video: true };
    const MICROPHONE: Role = Role { audio: true, video: false };

    #[test]
    fn settling_waits_for_every_camera_and_each_participants_voice_slots() {
        let small = shared(vec![CAMERA, MICROPHONE, MICROPHONE, Role::default()], pacing::DEFAULT_TALKERS);
        // The camera to the three others; the camera and the listener hear
        // both microphones, each microphone the other one.
        assert_eq!((0..4).map(|i| small.voice_slots(i)).collect::<Vec<_>>(), vec![2, 1, 1, 2]);
        assert_eq!(small.settle_target(), 3 + 6);
        assert_eq!(small.call_kind, "video");
        // The class call: 30 cameras' worth of video, and 3 slots each —
        // not a stream per microphone (930), most of which no one hears before the talk.
        let class = shared([CAMERA].into_iter().chain([MICROPHONE; 30]).collect(), pacing::DEFAULT_TALKERS);
        assert_eq!(class.settle_target(), 30 + 31 * VOICE_SLOTS);
        let audio_only = shared(vec![MICROPHONE, MICROPHONE], 2);
        assert_eq!((audio_only.settle_target(), audio_only.call_kind), (2, "audio"));
    }

    #[test]
    fn a_subscriber_counts_each_camera_once_and_voice_slots_up_to_its_share() {
        let roles = [CAMERA, MICROPHONE, MICROPHONE, MICROPHONE, MICROPHONE, Role::default()];
        let tag = |publisher: u16, kind: Kind| Tag { publisher, kind, frame: 0, due_us: 0 };
        let mut f = Flowing { slots: 3, ..Flowing::default() };
        let (a, b, c, d, v) = (Mid::from("a"), Mid::from("b"), Mid::from("c"), Mid::from("d"), Mid::from("v"));
        // Participant 5, a listener with three slots.
        assert!(f.saw(v, tag(0, Kind::Video), 5, &roles));
        assert!(!f.saw(v, tag(0, Kind::Video), 5, &roles), "the same camera again");
        assert!(f.saw(a, tag(1, Kind::Audio), 5, &roles));
        assert!(!f.saw(a, tag(2, Kind::Audio), 5, &roles), "another voice on the same slot");
        assert!(f.saw(b, tag(2, Kind::Audio), 5, &roles));
        assert!(f.saw(c, tag(3, Kind::Audio), 5, &roles));
        assert!(!f.saw(d, tag(4, Kind::Audio), 5, &roles), "a fourth audio m-line counts for nothing");
        assert_eq!(f.voice_mids.len(), 4);
        // Nothing counts from oneself, nor a kind the publisher does not send.
        let mut g = Flowing { slots: 3, ..Flowing::default() };
        assert!(!g.saw(a, tag(1, Kind::Audio), 1, &roles));
        assert!(!g.saw(v, tag(1, Kind::Video), 2, &roles));
        assert!(!g.saw(v, tag(9, Kind::Video), 2, &roles));
    }

    #[test]
    fn audio_comes_on_voice_slots_and_video_on_its_publishers_m_line() {
        assert_eq!(msid_mismatch(Kind::Audio, "voices", 5), None);
        assert_eq!(msid_mismatch(Kind::Video, "p5", 5), None);
        let per_person = msid_mismatch(Kind::Audio, "p5", 5).unwrap();
        assert!(per_person.contains("\"p<person>\" (a track per participant)") && per_person.contains("\"voices\""));
        assert_eq!(msid_mismatch(Kind::Audio, "p6", 6), Some(per_person), "one observation, whoever spoke");
        assert!(msid_mismatch(Kind::Audio, "x", 5).unwrap().contains("\"x\""));
        assert!(msid_mismatch(Kind::Video, "voices", 5).unwrap().contains("\"p5\""));
        assert!(msid_mismatch(Kind::Video, "p6", 5).is_some());
    }

    #[test]
    fn a_voice_waiting_for_a_slot_is_not_expected_by_those_whose_slots_are_held() {
        // 1 camera, microphones 0–4 are participants 1–5, three talking.
        let s = shared([CAMERA].into_iter().chain([MICROPHONE; 5]).collect(), 3);
        s.start_talk();
        let from = s.talk_from_us.load(Ordering::SeqCst);
        let second = from + s.talk.turn_us;
        // Microphone 3 (participant 4) starts as microphone 0 (participant 1) stops.
        assert!(s.speaks(4, second) && !s.heard_by(4, 0, second), "the camera's slots are held by 1, 2 and 3");
        assert!(s.heard_by(4, 2, second), "participant 2's slots hold only 1 and 3");
        assert!(s.heard_by(4, 0, second + 400_000), "0's slot is free by then");
        assert!(s.heard_by(2, 0, second), "2 goes on in its slot");
        assert!(!s.heard_by(1, 0, second), "1 is silent");
    }

    #[test]
    fn the_microphones_take_turns_in_the_order_of_the_participants() {
        let roles = vec![
            Role { audio: false, video: true },
            Role { audio: true, video: false },
            Role { audio: true, video: false },
            Role { audio: true, video: false },
        ];
        let shared = shared(roles, 1);
        assert!((1..4).all(|i| shared.speaks(i, 0)), "everyone speaks until the talk starts");
        shared.start_talk();
        let from = shared.talk_from_us.load(Ordering::SeqCst);
        let turn = shared.talk.turn_us;
        let speaker = |at: u64| (1..4).filter(|i| shared.speaks(*i, at)).collect::<Vec<_>>();
        assert_eq!(speaker(from), vec![1], "the first microphone is participant 1, not the camera");
        assert_eq!(speaker(from + turn), vec![2]);
        assert_eq!(speaker(from + 2 * turn), vec![3]);
        assert_eq!(speaker(from + 3 * turn), vec![1]);
    }
}
