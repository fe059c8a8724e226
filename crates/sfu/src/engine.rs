//! The SFU's thread: it owns the socket and every peer, reads packets and
//! commands, and forwards each received frame to the other peers of its call.
//!
//! Each peer is driven inside `catch_unwind`: a peer whose state panics is
//! dropped (its client is told to rejoin) and every other peer carries on.

use crate::peer::{Peer, Voice, new_rtc};
use crate::udp::{Inbox, MediaSocket};
use crate::voices::{self, VoiceFrame};
use crate::{Command, Generation, GoneReason, Joined, PeerKey, SfuError, SfuEvent};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};
use str0m::format::Codec;
use str0m::media::{KeyframeRequestKind, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{ExtensionValues, RtpPacket, RtpWrite};
use str0m::{Event, IceConnectionState, Input, Output};
use tokio::sync::mpsc::UnboundedSender;

/// Batches of datagrams (`quinn_udp::BATCH_SIZE` each) taken in at most
/// before the peers are polled.
const RECEIVE_BATCHES: usize = 8;
/// Timeouts already due handled inside one poll before the peer waits for
/// the loop's next turn (a bound, so a peer cannot hold the thread).
const TIMEOUTS_IN_A_POLL: usize = 8;
/// How often each call's speaker is looked at (and announced, if it changed).
const SPEAKER_EVERY: Duration = Duration::from_millis(250);

/// What polling one peer asks of the others.
enum Action {
    /// The peer publishes a new track: everyone else in its call subscribes.
    Publish { from: Generation, mid: Mid, kind: MediaKind },
    Forward {
        from: Generation,
        /// The publisher's track.
        mid: Mid,
        kind: MediaKind,
        codec: Codec,
        packet: Box<RtpPacket>,
        /// The first audio frame after silence that was not forwarded.
        talkspurt: bool,
        /// An audio frame louder than silence.
        loud: bool,
    },
    /// A subscriber lost the picture: ask the publisher for a keyframe.
    Keyframe { source: (Generation, Mid), kind: KeyframeRequestKind },
}

pub(crate) struct Engine {
    socket: MediaSocket,
    inbox: Inbox,
    advertised: SocketAddr,
    waker: SocketAddr,
    commands: Receiver<Command>,
    events: UnboundedSender<SfuEvent>,
    peers: HashMap<Generation, Peer>,
    by_key: HashMap<PeerKey, Generation>,
    calls: HashMap<i64, Vec<Generation>>,
    by_addr: HashMap<SocketAddr, Generation>,
    next_generation: Generation,
    /// Peers to poll: they got input, or media to send.
    dirty: Vec<Generation>,
    /// What polled peers asked of the others, not done yet.
    asked: Vec<Action>,
    /// Who each call's clients were last told is speaking.
    speakers: HashMap<i64, Option<i64>>,
    speakers_at: Instant,
    meters: Meters,
}

/// This engine's share of the SFU's metrics (`crate::metrics`). Handles are
/// taken once: counting a forwarded packet is then one atomic add.
struct Meters {
    calls: metrics::Gauge,
    participants: metrics::Gauge,
    forwarded: metrics::Counter,
    lost: metrics::Counter,
    dropped: metrics::Counter,
}

impl Meters {
    fn new() -> Meters {
        Meters {
            calls: metrics::gauge!(crate::metrics::CALLS),
            participants: metrics::gauge!(crate::metrics::PARTICIPANTS),
            forwarded: metrics::counter!(crate::metrics::PACKETS_FORWARDED),
            lost: metrics::counter!(crate::metrics::PACKETS_LOST),
            dropped: metrics::counter!(crate::metrics::PACKETS_DROPPED),
        }
    }
}

impl Engine {
    pub fn new(
        socket: MediaSocket,
        advertised: SocketAddr,
        waker: SocketAddr,
        commands: Receiver<Command>,
        events: UnboundedSender<SfuEvent>,
    ) -> Engine {
        Engine {
            inbox: socket.inbox(),
            socket,
            advertised,
            waker,
            commands,
            events,
            peers: HashMap::new(),
            by_key: HashMap::new(),
            calls: HashMap::new(),
            by_addr: HashMap::new(),
            next_generation: 1,
            dirty: Vec::new(),
            asked: Vec::new(),
            speakers: HashMap::new(),
            speakers_at: Instant::now(),
            meters: Meters::new(),
        }
    }

    pub fn run(mut self) {
        // A full batch leaves datagrams waiting: the next turn reads them
        // without waiting.
        let mut more_waiting = false;
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Stop) | Err(TryRecvError::Disconnected) => return,
                    Ok(command) => self.command(command),
                    Err(TryRecvError::Empty) => break,
                }
            }
            let now = Instant::now();
            let due: Vec<Generation> =
                self.peers.values().filter(|p| p.deadline <= now).map(|p| p.generation).collect();
            for g in due {
                self.drive(g, Input::Timeout(now));
            }
            self.flush();
            if now >= self.speakers_at {
                self.speakers_at = now + SPEAKER_EVERY;
                self.announce_speakers(now);
            }

            if !more_waiting {
                // With no peers the thread sleeps until a command's wake-up datagram.
                let wait =
                    self.peers.values().map(|p| p.deadline).min().map(|deadline| {
                        deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
                    });
                self.socket.wait(wait);
            }
            more_waiting = self.receive_waiting();
        }
    }

    /// Takes in the datagrams already waiting before any peer is polled:
    /// a subscriber then packetises the frames of many publishers in one
    /// poll. Polling a peer walks all its tracks, so one poll per received
    /// packet made a call's cost grow with the cube of its size. Returns
    /// whether more are waiting.
    fn receive_waiting(&mut self) -> bool {
        let mut inbox = std::mem::take(&mut self.inbox);
        let mut more = true;
        for _ in 0..RECEIVE_BATCHES {
            more = self.socket.receive(&mut inbox);
            for (source, datagram) in inbox.datagrams() {
                if !datagram.is_empty() && source != self.waker {
                    self.receive(source, datagram);
                }
            }
            if !more {
                break;
            }
        }
        self.inbox = inbox;
        more
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Join { peer, offer, reply } => {
                let _ = reply.send(self.join(peer, offer));
            }
            Command::Answer { peer, generation, answer, reply } => {
                let result = match self.by_key.get(&peer) {
                    Some(&g) if g == generation => self.answer(g, answer),
                    _ => Err(SfuError::NoSuchPeer),
                };
                let _ = reply.send(result);
            }
            Command::Leave { peer } => {
                if let Some(&g) = self.by_key.get(&peer) {
                    self.remove(g, None);
                }
            }
            Command::ForwardAudio { peer, on } => {
                if let Some(p) = self.by_key.get(&peer).and_then(|g| self.peers.get_mut(g)) {
                    p.forward_audio = on;
                }
            }
            Command::CloseCall { call } => {
                for g in self.calls.get(&call).cloned().unwrap_or_default() {
                    self.remove(g, None);
                }
            }
            #[cfg(test)]
            Command::Crash { peer } => {
                if let Some(&g) = self.by_key.get(&peer) {
                    let _ = self.guarded(g, |_| panic!("a bug in a peer's state"));
                }
            }
            Command::Stop => {}
        }
    }

    fn join(&mut self, key: PeerKey, offer: str0m::change::SdpOffer) -> Result<Joined, SfuError> {
        let now = Instant::now();
        let mut rtc = new_rtc(now, self.advertised).map_err(|e| SfuError::Refused(e.to_string()))?;
        let answer = rtc.sdp_api().accept_offer(offer).map_err(|e| SfuError::Refused(e.to_string()))?;
        if let Some(&old) = self.by_key.get(&key) {
            self.remove(old, None);
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let mut peer = Peer::new(key, generation, rtc, now);
        for other in self.calls.get(&key.call).into_iter().flatten().filter_map(|g| self.peers.get(g)) {
            for track in other.inputs.iter().filter(|t| t.kind == MediaKind::Video && t.flowing) {
                peer.subscribe((other.generation, track.mid), other.key.person);
            }
        }
        peer.voices.want(self.microphones(key.call));
        self.peers.insert(generation, peer);
        self.by_key.insert(key, generation);
        let members = self.calls.entry(key.call).or_default();
        if members.is_empty() {
            self.meters.calls.increment(1.0);
        }
        members.push(generation);
        self.meters.participants.increment(1.0);
        // Announced afresh at the next look, for the newcomer.
        self.speakers.remove(&key.call);
        self.dirty.push(generation);
        tracing::debug!(call = key.call, person = key.person, generation, "SFU peer joined");
        Ok(Joined { generation, answer: answer.to_sdp_string() })
    }

    fn answer(&mut self, g: Generation, answer: str0m::change::SdpAnswer) -> Result<(), SfuError> {
        let peer = self.peers.get_mut(&g).ok_or(SfuError::NoSuchPeer)?;
        let opened = match catch_unwind(AssertUnwindSafe(|| peer.accept_answer(answer))) {
            Ok(result) => result.map_err(SfuError::Refused)?,
            Err(_) => {
                self.remove(g, Some(GoneReason::Failed));
                return Err(SfuError::NoSuchPeer);
            }
        };
        self.dirty.push(g);
        let now = Instant::now();
        for source in opened {
            self.keyframe(source, KeyframeRequestKind::Pli, now);
        }
        Ok(())
    }

    fn receive(&mut self, source: SocketAddr, packet: &[u8]) {
        let Ok(contents) = packet.try_into() else { return };
        let input = Input::Receive(
            Instant::now(),
            Receive { proto: Protocol::Udp, source, destination: self.advertised, contents },
        );
        let owner = match self.by_addr.get(&source) {
            Some(&g) => Some(g),
            // A new address (the first STUN check, or a client whose network
            // changed): the peer whose ICE credentials it carries.
            None => self.peers.values().find(|p| p.rtc.accepts(&input)).map(|p| p.generation),
        };
        let Some(g) = owner else { return };
        if let Some(peer) = self.peers.get_mut(&g)
            && peer.remote != Some(source)
        {
            if let Some(old) = peer.remote.replace(source) {
                self.by_addr.remove(&old);
            }
            self.by_addr.insert(source, g);
        }
        // In RTP mode str0m holds only the latest packet until the next
        // poll: a publisher is polled before its next packet goes in (and
        // so is not polled again with the dirty ones).
        if self.guarded(g, |peer| peer.rtc.handle_input(input)) {
            self.poll_into_asked(g);
        }
    }

    /// Feeds one input to a peer and marks it for polling.
    fn drive(&mut self, g: Generation, input: Input) {
        if self.guarded(g, |peer| peer.rtc.handle_input(input)) {
            self.dirty.push(g);
        }
    }

    /// Runs `f` on a peer, and drops the peer alone when it fails or panics;
    /// false when the peer is gone.
    fn guarded(&mut self, g: Generation, f: impl FnOnce(&mut Peer) -> Result<(), str0m::RtcError>) -> bool {
        let Some(peer) = self.peers.get_mut(&g) else { return false };
        match catch_unwind(AssertUnwindSafe(|| f(peer))) {
            Ok(Ok(())) => true,
            Ok(Err(e)) => {
                tracing::info!(generation = g, error = %e, "SFU peer input failed");
                self.remove(g, Some(GoneReason::Failed));
                false
            }
            Err(_) => {
                self.remove(g, Some(GoneReason::Failed));
                false
            }
        }
    }

    /// Polls every dirty peer until it only waits, acting on what each asks.
    /// In rounds: every dirty peer is polled once, then what they asked of
    /// the others is done, so a subscriber that got frames from many
    /// publishers is polled once for all of them.
    fn flush(&mut self) {
        loop {
            for action in std::mem::take(&mut self.asked) {
                self.act(action);
            }
            if self.dirty.is_empty() {
                let sent = self.socket.send_queued();
                self.meters.dropped.increment(sent.dropped as u64);
                return;
            }
            let mut round = std::mem::take(&mut self.dirty);
            round.sort_unstable();
            round.dedup();
            for g in round {
                self.poll_into_asked(g);
            }
        }
    }

    /// Polls a peer and keeps what it asks of the others for the next
    /// [`Engine::flush`].
    fn poll_into_asked(&mut self, g: Generation) {
        match self.poll(g) {
            Ok(mut asked) => self.asked.append(&mut asked),
            Err(reason) => self.remove(g, Some(reason)),
        }
    }

    fn poll(&mut self, g: Generation) -> Result<Vec<Action>, GoneReason> {
        let Some(peer) = self.peers.get_mut(&g) else { return Ok(Vec::new()) };
        let (socket, events, lost) = (&mut self.socket, &self.events, &self.meters.lost);
        let polled = catch_unwind(AssertUnwindSafe(|| {
            let mut actions = Vec::new();
            let mut timeouts_now = 0;
            offer(peer, events);
            loop {
                if !peer.rtc.is_alive() {
                    return Err(GoneReason::Disconnected);
                }
                let output = peer.rtc.poll_output().and_then(|output| match output {
                    // str0m moves a written frame to the packetiser and then
                    // the pacer on timeouts due at once: handled here, a frame
                    // is sent in this poll instead of two turns of the loop later.
                    Output::Timeout(t) if timeouts_now < TIMEOUTS_IN_A_POLL && t <= Instant::now() => {
                        timeouts_now += 1;
                        peer.rtc.handle_input(Input::Timeout(Instant::now())).map(|()| None)
                    }
                    other => Ok(Some(other)),
                });
                match output {
                    Ok(None) => {}
                    Ok(Some(Output::Timeout(t))) => {
                        peer.deadline = t;
                        return Ok(actions);
                    }
                    Ok(Some(Output::Transmit(t))) => socket.queue(t.destination, &t.contents),
                    Ok(Some(Output::Event(event))) => on_event(peer, event, &mut actions, events, lost),
                    Err(e) => {
                        tracing::info!(generation = peer.generation, error = %e, "SFU peer failed");
                        return Err(GoneReason::Failed);
                    }
                }
            }
        }));
        polled.unwrap_or(Err(GoneReason::Failed))
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Publish { from, mid, kind } => {
                let Some((person, call)) = self.peers.get(&from).map(|p| (p.key.person, p.key.call)) else { return };
                let microphones = self.microphones(call);
                for g in self.call_mates(from) {
                    let Some(peer) = self.peers.get_mut(&g) else { continue };
                    match kind {
                        MediaKind::Audio => {
                            let own = peer.inputs.iter().any(|t| t.kind == MediaKind::Audio);
                            peer.voices.want(microphones - usize::from(own));
                        }
                        MediaKind::Video => peer.subscribe((from, mid), person),
                    }
                    self.dirty.push(g);
                }
            }
            Action::Forward { from, mid: source_mid, kind, codec, packet, talkspurt, loud } => {
                let mut failed = Vec::new();
                let mut forwarded = 0;
                let frame = VoiceFrame {
                    source: from,
                    loud,
                    time: packet.time.numer(),
                    hz: packet.time.frequency().get(),
                    at: packet.timestamp,
                };
                let header = &packet.header;
                // Only what the receiver uses is passed on; str0m writes the
                // transport's own extensions (transport-wide sequence numbers).
                let ext_vals = ExtensionValues {
                    audio_level: header.ext_vals.audio_level,
                    voice_activity: header.ext_vals.voice_activity,
                    video_orientation: header.ext_vals.video_orientation,
                    ..ExtensionValues::default()
                };
                for g in self.call_mates(from) {
                    let Some(peer) = self.peers.get_mut(&g) else { continue };
                    let (mid, seq, time, marker) = match kind {
                        MediaKind::Video => {
                            let Some((mid, seq)) = peer.video_out((from, source_mid), *packet.seq_no) else { continue };
                            (mid, seq, header.timestamp, header.marker)
                        }
                        MediaKind::Audio => {
                            let Some(to) = peer.voices.route(frame) else { continue };
                            // RTP times are 32 bits on the wire: it wraps.
                            (to.mid, to.seq, to.time as u32, talkspurt || to.switched)
                        }
                    };
                    let written = catch_unwind(AssertUnwindSafe(|| {
                        let Some(pt) = peer.rtc.codec_config().find(|p| p.spec().codec == codec).map(|p| p.pt()) else {
                            return;
                        };
                        let mut api = peer.rtc.direct_api();
                        let Some(stream) = api.stream_tx_by_mid(mid, None) else { return };
                        let rtp = RtpWrite::new(pt, seq.into(), time, packet.timestamp, packet.payload.clone())
                            .marker(marker)
                            .ext_vals(ext_vals.clone())
                            // A lost video packet is sent again; a late voice is not worth it.
                            .nackable(kind == MediaKind::Video);
                        stream.write_rtp(rtp);
                    }));
                    match written {
                        Ok(()) => {
                            forwarded += 1;
                            self.dirty.push(g);
                        }
                        Err(_) => failed.push(g),
                    }
                }
                self.meters.forwarded.increment(forwarded);
                for g in failed {
                    self.remove(g, Some(GoneReason::Failed));
                }
            }
            Action::Keyframe { source, kind } => self.keyframe(source, kind, Instant::now()),
        }
    }

    fn keyframe(&mut self, (g, mid): (Generation, Mid), kind: KeyframeRequestKind, now: Instant) {
        if let Some(publisher) = self.peers.get_mut(&g) {
            publisher.request_keyframe(mid, kind, now);
            self.dirty.push(g);
        }
    }

    /// The call's peers that publish a microphone.
    fn microphones(&self, call: i64) -> usize {
        let peers = self.calls.get(&call).into_iter().flatten().filter_map(|g| self.peers.get(g));
        peers.filter(|p| p.inputs.iter().any(|t| t.kind == MediaKind::Audio)).count()
    }

    /// Tells each call's clients who is speaking, when that changed.
    fn announce_speakers(&mut self, now: Instant) {
        self.speakers.retain(|call, _| self.calls.contains_key(call));
        for (&call, members) in &self.calls {
            // Only a voice the others hear: a fourth one while three hold
            // the slots is not named before it is heard.
            let heard = |g: &Generation| members.iter().filter_map(|m| self.peers.get(m)).any(|p| p.voices.holds(*g));
            let loudness: Vec<_> =
                members.iter().filter(|g| heard(g)).filter_map(|g| self.peers.get(g)?.loudness()).collect();
            let announced = self.speakers.get(&call).copied().flatten();
            let person = voices::speaker(announced, &loudness, now);
            if self.speakers.insert(call, person).flatten() != person {
                let _ = self.events.send(SfuEvent::Speaker { call, person });
            }
        }
    }

    /// The other peers in `g`'s call.
    fn call_mates(&self, g: Generation) -> Vec<Generation> {
        let Some(call) = self.peers.get(&g).map(|p| p.key.call) else { return Vec::new() };
        self.calls.get(&call).into_iter().flatten().copied().filter(|x| *x != g).collect()
    }

    /// Drops a peer; `reason` tells the server when it did not ask for it.
    fn remove(&mut self, g: Generation, reason: Option<GoneReason>) {
        let Some(peer) = self.peers.remove(&g) else { return };
        self.meters.participants.decrement(1.0);
        let key = peer.key;
        if self.by_key.get(&key) == Some(&g) {
            self.by_key.remove(&key);
        }
        if let Some(remote) = peer.remote {
            self.by_addr.remove(&remote);
        }
        if let Some(list) = self.calls.get_mut(&key.call) {
            list.retain(|x| *x != g);
            if list.is_empty() {
                self.calls.remove(&key.call);
                self.meters.calls.decrement(1.0);
            }
        }
        for other in self.calls.get(&key.call).into_iter().flatten() {
            if let Some(p) = self.peers.get_mut(other) {
                p.unsubscribe_generation(g);
                p.voices.release(g);
                self.dirty.push(*other);
            }
        }
        if let Some(reason) = reason {
            tracing::info!(call = key.call, person = key.person, generation = g, ?reason, "SFU peer gone");
            let _ = self.events.send(SfuEvent::Gone { peer: key, generation: g, reason });
        }
    }
}

fn offer(peer: &mut Peer, events: &UnboundedSender<SfuEvent>) {
    if let Some(sdp) = peer.offer_if_needed() {
        let _ = events.send(SfuEvent::Offer { peer: peer.key, generation: peer.generation, sdp });
    }
}

fn on_event(
    peer: &mut Peer,
    event: Event,
    actions: &mut Vec<Action>,
    events: &UnboundedSender<SfuEvent>,
    lost: &metrics::Counter,
) {
    match event {
        Event::Connected => {
            peer.connected = true;
            offer(peer, events);
        }
        Event::IceConnectionStateChange(IceConnectionState::Disconnected) => peer.rtc.disconnect(),
        Event::MediaAdded(added) if added.direction.is_receiving() => {
            peer.add_input(added.mid, added.kind);
            // A camera is published with its first packet (`TrackIn::flowing`).
            if added.kind == MediaKind::Audio {
                actions.push(Action::Publish { from: peer.generation, mid: added.mid, kind: added.kind });
            }
        }
        Event::RtpPacket(packet) => {
            let Some(mid) = peer.rtc.direct_api().stream_rx(&packet.header.ssrc).map(|s| s.mid()) else { return };
            let pt = packet.header.payload_type;
            let Some(codec) = peer.rtc.codec_config().find(|p| p.pt() == pt).map(|p| p.spec().codec) else { return };
            let forward_audio = peer.forward_audio;
            let Some(track) = peer.inputs.iter_mut().find(|t| t.mid == mid) else { return };
            // Padding (bandwidth probes) is not a picture.
            if track.kind == MediaKind::Video && !track.flowing && !packet.payload.is_empty() {
                track.flowing = true;
                actions.push(Action::Publish { from: peer.generation, mid, kind: MediaKind::Video });
            }
            let skipped = track.received(*packet.seq_no);
            if skipped > 0 {
                lost.increment(skipped);
            }
            let (talkspurt, loud) = match track.kind {
                MediaKind::Video => (false, false),
                MediaKind::Audio if !forward_audio => return,
                MediaKind::Audio => match track.voice.admit(packet.header.ext_vals.audio_level, packet.timestamp) {
                    Voice::Drop => return,
                    Voice::Forward { talkspurt, loud } => (talkspurt, loud),
                },
            };
            let (from, kind) = (peer.generation, track.kind);
            actions.push(Action::Forward { from, mid, kind, codec, packet: Box::new(packet), talkspurt, loud });
        }
        Event::KeyframeRequest(request) => {
            if let Some(source) = peer.output_source(request.mid) {
                actions.push(Action::Keyframe { source, kind: request.kind });
            }
        }
        _ => {}
    }
}
