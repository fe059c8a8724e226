//! One participant's WebRTC state and the tracks it sends and receives.

use crate::voices::{Loudness, VOICES_STREAM, Voices};
use crate::{Generation, PeerKey};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use str0m::change::SdpPendingOffer;
use str0m::format::{Codec, FormatParams};
use str0m::media::{Direction, Frequency, KeyframeRequestKind, MediaKind, Mid};
use str0m::{Candidate, Rtc};

/// Keyframe requests to one publisher's track, at most this often: a burst
/// of new subscribers or lost packets must not make it send nothing else.
const KEYFRAME_EVERY: Duration = Duration::from_millis(500);
/// Opus's payload type in browsers' offers (any other is matched too).
const OPUS_PT: u8 = 111;
/// Audio quieter than this (dBov, as the RFC 6464 audio-level header
/// extension gives it) is the hiss of a quiet room or a muted microphone's
/// digital silence (−127), not a voice.
const SILENCE_DBOV: i8 = -60;
/// The quietest level the extension says: a muted microphone.
const DIGITAL_SILENCE_DBOV: i8 = -127;
/// How long a microphone stays forwarded after its last louder frame: the
/// tail of a word and the pauses between words are heard, not cut.
const VOICE_HANGOVER: Duration = Duration::from_millis(800);

/// A track this peer publishes.
#[derive(Debug)]
pub(crate) struct TrackIn {
    pub mid: Mid,
    pub kind: MediaKind,
    last_keyframe_request: Option<Instant>,
    pub voice: VoiceGate,
    /// The highest RTP sequence number received, to count the packets that
    /// never arrived.
    highest_seq: Option<u64>,
    /// Media has come on it. A camera is offered to the others from its
    /// first packet on, not when its m-line is negotiated: every browser
    /// offers a video m-line at joining, camera on or off, and a class of
    /// thirty with their cameras off would otherwise give each subscriber
    /// thirty silent m-lines, which every poll of it walks.
    pub flowing: bool,
}

impl TrackIn {
    /// Notes a received packet; returns how many before it were skipped
    /// (lost on the way in). A late, reordered packet skips none.
    pub fn received(&mut self, seq: u64) -> u64 {
        let skipped = match self.highest_seq {
            Some(highest) if seq > highest => seq - highest - 1,
            Some(_) => return 0,
            None => 0,
        };
        self.highest_seq = Some(seq);
        skipped
    }
}

/// Decides which frames of a microphone are forwarded. A class call is
/// thirty open microphones of which one or two speak at a time: forwarding
/// the silence of the others would be most of the SFU's work and of every
/// subscriber's bandwidth. Receivers take the gaps as Opus DTX does.
#[derive(Debug)]
pub(crate) struct VoiceGate {
    open_until: Option<Instant>,
    /// The last frame louder than silence, and the recent level (dBov).
    loud_at: Option<Instant>,
    level: f32,
}

impl Default for VoiceGate {
    /// A microphone not heard yet is silent, not at the loudest level (0 dBov)
    /// its first frames would otherwise climb down from.
    fn default() -> VoiceGate {
        VoiceGate { open_until: None, loud_at: None, level: f32::from(DIGITAL_SILENCE_DBOV) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Voice {
    Drop,
    Forward {
        /// The first frame after a dropped stretch.
        talkspurt: bool,
        /// Louder than silence: a voice, not a pause inside the hangover.
        loud: bool,
    },
}

/// Weight of a new frame's level in the recent level: about the last
/// quarter second of 20 ms frames.
const LEVEL_WEIGHT: f32 = 0.08;

impl VoiceGate {
    /// `level` is the frame's audio level; a client that does not send the
    /// extension has every frame forwarded.
    pub fn admit(&mut self, level: Option<i8>, at: Instant) -> Voice {
        let Some(level) = level else { return Voice::Forward { talkspurt: false, loud: true } };
        self.level += (f32::from(level) - self.level) * LEVEL_WEIGHT;
        let was_open = self.open_until.is_some_and(|until| at < until);
        if level > SILENCE_DBOV {
            self.open_until = Some(at + VOICE_HANGOVER);
            self.loud_at = Some(at);
            return Voice::Forward { talkspurt: !was_open, loud: true };
        }
        if was_open { Voice::Forward { talkspurt: false, loud: false } } else { Voice::Drop }
    }
}

/// Another peer's camera or screen, forwarded to this one (microphones come
/// through [`Voices`]).
#[derive(Debug)]
pub(crate) struct TrackOut {
    /// The publishing peer's generation and its track's mid there.
    pub source: (Generation, Mid),
    pub source_person: i64,
    pub state: OutState,
    /// The publisher's sequence number this subscriber's numbering starts
    /// from: numbers must start low, or SRTP's rollover counters of the two
    /// ends disagree (a subscriber may join hours into a stream).
    first_seq: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutState {
    /// Waiting for the next offer to add it.
    ToOpen,
    Negotiating(Mid),
    Open(Mid),
    /// Its publisher left: the next offer stops it.
    ToStop(Mid),
    NegotiatingStop(Mid),
}

impl OutState {
    /// Waiting for an offer to add or stop it.
    fn waiting(self) -> bool {
        matches!(self, OutState::ToOpen | OutState::ToStop(_))
    }
}

pub(crate) struct Peer {
    pub key: PeerKey,
    pub generation: Generation,
    pub rtc: Rtc,
    /// DTLS is up: media flows and offers may be made.
    pub connected: bool,
    pub deadline: Instant,
    pub forward_audio: bool,
    pub inputs: Vec<TrackIn>,
    /// The other participants' cameras and screens, a track each.
    pub outputs: Vec<TrackOut>,
    /// The other participants' microphones, through a few slots.
    pub voices: Voices,
    pub pending: Option<SdpPendingOffer>,
    /// Where its packets come from, once known.
    pub remote: Option<SocketAddr>,
}

/// The codecs every browser has: forwarding never transcodes, so every peer
/// of a call must speak the same ones.
pub(crate) fn new_rtc(now: Instant, advertised: SocketAddr) -> Result<Rtc, str0m::RtcError> {
    // RTP mode: packets are forwarded as they came, not reassembled into
    // frames and cut up again for every subscriber.
    let mut config = Rtc::builder().set_ice_lite(true).set_rtp_mode(true).clear_codecs().enable_vp8(true);
    // `usedtx=1` in the answer asks the browser to send almost nothing
    // while its microphone is silent (Opus DTX, RFC 7587 §3.1.3): a class
    // of open microphones then costs the SFU what its speakers do.
    let opus =
        FormatParams { min_p_time: Some(10), use_inband_fec: Some(true), use_dtx: Some(true), ..Default::default() };
    config.codec_config().add_config(OPUS_PT.into(), None, Codec::Opus, Frequency::FORTY_EIGHT_KHZ, Some(2), opus);
    let mut rtc = config.build(now);
    let candidate = Candidate::host(advertised, "udp")?;
    rtc.add_local_candidate(candidate);
    Ok(rtc)
}

impl Peer {
    pub fn new(key: PeerKey, generation: Generation, rtc: Rtc, now: Instant) -> Peer {
        Peer {
            key,
            generation,
            rtc,
            connected: false,
            deadline: now,
            forward_audio: true,
            inputs: Vec::new(),
            outputs: Vec::new(),
            voices: Voices::default(),
            pending: None,
            remote: None,
        }
    }

    pub fn add_input(&mut self, mid: Mid, kind: MediaKind) {
        if !self.inputs.iter().any(|t| t.mid == mid) {
            self.inputs.push(TrackIn {
                mid,
                kind,
                last_keyframe_request: None,
                voice: VoiceGate::default(),
                highest_seq: None,
                flowing: false,
            });
        }
    }

    /// Adds another peer's camera (or screen) to those it receives.
    pub fn subscribe(&mut self, source: (Generation, Mid), source_person: i64) {
        if !self.outputs.iter().any(|t| t.source == source) {
            self.outputs.push(TrackOut { source, source_person, state: OutState::ToOpen, first_seq: None });
        }
    }

    /// The publisher of these tracks left.
    pub fn unsubscribe_generation(&mut self, generation: Generation) {
        self.outputs.retain_mut(|t| {
            if t.source.0 != generation {
                return true;
            }
            match t.state {
                // Never offered: forget it.
                OutState::ToOpen => false,
                OutState::Negotiating(m) | OutState::Open(m) => {
                    t.state = OutState::ToStop(m);
                    true
                }
                OutState::ToStop(_) | OutState::NegotiatingStop(_) => true,
            }
        });
    }

    /// The mid this peer receives `source` on, when it is open, and the
    /// sequence number there of the publisher's packet `seq`.
    pub fn video_out(&mut self, source: (Generation, Mid), seq: u64) -> Option<(Mid, u64)> {
        let track = self.outputs.iter_mut().find(|t| t.source == source)?;
        let OutState::Open(mid) = track.state else { return None };
        let first = *track.first_seq.get_or_insert(seq);
        // Older than the first packet forwarded: the subscriber never needs it.
        let offset = seq.checked_sub(first)?;
        Some((mid, offset + 1))
    }

    pub fn output_source(&self, mid: Mid) -> Option<(Generation, Mid)> {
        self.outputs.iter().find(|t| matches!(t.state, OutState::Open(m) if m == mid)).map(|t| t.source)
    }

    /// An offer when tracks wait to be added or stopped and none is pending.
    pub fn offer_if_needed(&mut self) -> Option<String> {
        // Checked before drafting: every poll asks, and a draft costs a
        // walk over all the peer's m-lines.
        let mut states = self.outputs.iter().map(|t| t.state).chain(self.voices.slots.iter().map(|s| s.state));
        let waiting = states.any(OutState::waiting);
        if !self.connected || self.pending.is_some() || !waiting {
            return None;
        }
        let (sdp, pending) = self.draft_offer()?;
        self.pending = Some(pending);
        Some(sdp)
    }

    fn draft_offer(&mut self) -> Option<(String, SdpPendingOffer)> {
        let mut change = self.rtc.sdp_api();
        for track in &mut self.outputs {
            match track.state {
                OutState::ToOpen => {
                    // The stream id names the publisher, so the client knows whose track it is.
                    let stream = format!("p{}", track.source_person);
                    let mid = change.add_media(MediaKind::Video, Direction::SendOnly, Some(stream), None, None);
                    track.state = OutState::Negotiating(mid);
                }
                OutState::ToStop(mid) => {
                    change.stop_media(mid);
                    track.state = OutState::NegotiatingStop(mid);
                }
                _ => {}
            }
        }
        for slot in self.voices.slots.iter_mut().filter(|s| s.state == OutState::ToOpen) {
            let mid = change.add_media(MediaKind::Audio, Direction::SendOnly, Some(VOICES_STREAM.into()), None, None);
            slot.state = OutState::Negotiating(mid);
        }
        if !change.has_changes() {
            return None;
        }
        let (offer, pending) = change.apply()?;
        Some((offer.to_sdp_string(), pending))
    }

    /// Applies the client's answer; returns the sources of the tracks it
    /// opened (they need a keyframe to show anything).
    pub fn accept_answer(&mut self, answer: str0m::change::SdpAnswer) -> Result<Vec<(Generation, Mid)>, String> {
        let pending = self.pending.take().ok_or("no offer is pending")?;
        self.rtc.sdp_api().accept_answer(pending, answer).map_err(|e| e.to_string())?;
        let mut opened = Vec::new();
        for track in &mut self.outputs {
            if let OutState::Negotiating(m) = track.state {
                track.state = OutState::Open(m);
                opened.push(track.source);
            }
        }
        self.outputs.retain(|t| !matches!(t.state, OutState::NegotiatingStop(_)));
        for slot in &mut self.voices.slots {
            if let OutState::Negotiating(m) = slot.state {
                slot.state = OutState::Open(m);
            }
        }
        Ok(opened)
    }

    /// How loud its microphone has been, while its audio is forwarded.
    pub fn loudness(&self) -> Option<Loudness> {
        if !self.forward_audio {
            return None;
        }
        let gate = self.inputs.iter().find(|t| t.kind == MediaKind::Audio).map(|t| &t.voice)?;
        Some(Loudness { person: self.key.person, level: gate.level, loud_at: gate.loud_at? })
    }

    /// Asks this peer's client for a keyframe of its track `mid`, unless one
    /// was asked for just now.
    pub fn request_keyframe(&mut self, mid: Mid, kind: KeyframeRequestKind, now: Instant) {
        let Some(track) = self.inputs.iter_mut().find(|t| t.mid == mid && t.kind == MediaKind::Video) else {
            return;
        };
        if track.last_keyframe_request.is_some_and(|t| now.duration_since(t) < KEYFRAME_EVERY) {
            return;
        }
        track.last_keyframe_request = Some(now);
        // No stream before the track's first packet; the next loss or
        // subscriber asks again.
        if let Some(stream) = self.rtc.direct_api().stream_rx_by_mid(mid, None) {
            stream.request_keyframe(kind);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn peer() -> Peer {
        let now = Instant::now();
        let rtc = new_rtc(now, SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5000)).unwrap();
        Peer::new(PeerKey { call: 1, person: 1 }, 1, rtc, now)
    }

    #[test]
    fn no_offer_is_made_before_the_peer_is_connected() {
        str0m::crypto::from_feature_flags().install_process_default();
        let mut p = peer();
        p.subscribe((2, Mid::from("0")), 2);
        assert_eq!(p.offer_if_needed(), None);
        p.connected = true;
        let offer = p.offer_if_needed().unwrap();
        assert!(offer.contains("a=msid:p2 "), "the stream id names the publisher:\n{offer}");
        // One offer at a time.
        p.subscribe((3, Mid::from("0")), 3);
        assert_eq!(p.offer_if_needed(), None);
    }

    #[test]
    fn voice_slots_are_offered_as_one_voices_stream_and_open_with_the_answer() {
        str0m::crypto::from_feature_flags().install_process_default();
        let mut p = peer();
        p.connected = true;
        p.voices.want(30);
        let offer = p.offer_if_needed().unwrap();
        assert_eq!(offer.matches("m=audio").count(), crate::voices::VOICE_SLOTS, "{offer}");
        assert_eq!(offer.matches("a=msid:voices ").count(), crate::voices::VOICE_SLOTS, "{offer}");
        assert!(p.voices.slots.iter().all(|s| matches!(s.state, OutState::Negotiating(_))));
        assert_eq!(p.offer_if_needed(), None, "nothing waits for an offer any more");
    }

    #[test]
    fn a_publisher_leaving_stops_open_tracks_and_forgets_unoffered_ones() {
        str0m::crypto::from_feature_flags().install_process_default();
        let mut p = peer();
        p.subscribe((2, Mid::from("a")), 2);
        p.outputs[0].state = OutState::Open(Mid::from("5"));
        p.subscribe((2, Mid::from("v")), 2);
        p.subscribe((3, Mid::from("a")), 3);
        p.unsubscribe_generation(2);
        assert_eq!(p.outputs.len(), 2);
        assert_eq!(p.outputs[0].state, OutState::ToStop(Mid::from("5")));
        assert_eq!(p.outputs[1].source.0, 3);
        assert_eq!(p.video_out((2, Mid::from("a")), 7), None);
    }

    #[test]
    fn packets_missing_from_a_publishers_sequence_count_as_lost_and_late_ones_do_not() {
        let mut p = peer();
        p.add_input(Mid::from("0"), MediaKind::Audio);
        let track = &mut p.inputs[0];
        assert_eq!(track.received(100), 0);
        assert_eq!(track.received(101), 0);
        assert_eq!(track.received(105), 3, "102, 103 and 104 never came");
        assert_eq!(track.received(103), 0, "a late packet is not a second loss");
        assert_eq!(track.received(106), 0);
    }

    #[test]
    fn a_camera_is_numbered_from_where_the_subscriber_joined_and_keeps_its_gaps() {
        str0m::crypto::from_feature_flags().install_process_default();
        let mut p = peer();
        let source = (2, Mid::from("v"));
        p.subscribe(source, 2);
        assert_eq!(p.video_out(source, 70_000), None, "not open yet");
        p.outputs[0].state = OutState::Open(Mid::from("9"));
        // Hours into the publisher's stream: past 65,535, a rollover in.
        assert_eq!(p.video_out(source, 70_000), Some((Mid::from("9"), 1)));
        assert_eq!(p.video_out(source, 70_001), Some((Mid::from("9"), 2)));
        assert_eq!(p.video_out(source, 70_004), Some((Mid::from("9"), 5)), "a lost packet stays a gap");
        assert_eq!(p.video_out(source, 69_999), None, "from before the subscriber's first");
    }

    #[test]
    fn a_voice_is_forwarded_with_its_pauses_and_silence_is_not() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut gate = VoiceGate::default();
        assert_eq!(gate.admit(Some(-127), at(0)), Voice::Drop, "a muted microphone");
        assert_eq!(gate.admit(Some(-70), at(20)), Voice::Drop, "a quiet room");
        assert_eq!(gate.admit(Some(-30), at(40)), Voice::Forward { talkspurt: true, loud: true });
        assert_eq!(gate.admit(Some(-25), at(60)), Voice::Forward { talkspurt: false, loud: true });
        // A pause between words is heard...
        assert_eq!(gate.admit(Some(-127), at(60 + 700)), Voice::Forward { talkspurt: false, loud: false });
        // ...a silence longer than the hangover is not.
        assert_eq!(gate.admit(Some(-127), at(60 + 800)), Voice::Drop);
        assert_eq!(gate.admit(Some(-40), at(2000)), Voice::Forward { talkspurt: true, loud: true });
    }

    #[test]
    fn a_voice_just_heard_is_not_taken_for_louder_than_it_is() {
        let mut gate = VoiceGate::default();
        gate.admit(Some(-30), Instant::now());
        assert!(gate.level < -30.0, "recent level {} after one frame at -30 dBov", gate.level);
    }

    #[test]
    fn audio_without_a_level_is_always_forwarded() {
        let mut gate = VoiceGate::default();
        assert_eq!(gate.admit(None, Instant::now()), Voice::Forward { talkspurt: false, loud: true });
    }

    /// A real offer of one microphone, as another peer (a browser) makes it.
    fn microphone_offer() -> str0m::change::SdpOffer {
        let mut offerer = Rtc::builder().build(Instant::now());
        let mut change = offerer.sdp_api();
        change.add_media(MediaKind::Audio, Direction::SendOnly, None, None, None);
        change.apply().unwrap().0
    }

    #[test]
    fn the_answer_asks_for_opus_dtx() {
        str0m::crypto::from_feature_flags().install_process_default();
        let offer = microphone_offer();
        assert!(!offer.to_sdp_string().contains("usedtx"));
        let answer = peer().rtc.sdp_api().accept_offer(offer).unwrap().to_sdp_string();
        let fmtp = answer.lines().find(|l| l.starts_with("a=fmtp:111")).unwrap_or_default();
        assert!(fmtp.contains("usedtx=1"), "{answer}");
    }

    #[test]
    fn many_tracks_added_at_once_get_distinct_mids() {
        str0m::crypto::from_feature_flags().install_process_default();
        let mut p = peer();
        p.connected = true;
        for person in 2..60 {
            p.subscribe((person as u64, Mid::from("a")), person);
        }
        let offer = p.offer_if_needed().unwrap();
        // str0m 0.24 could draw one new mid twice in a change: browsers refuse such an offer.
        let mids: std::collections::HashSet<&str> = offer.lines().filter_map(|l| l.strip_prefix("a=mid:")).collect();
        assert_eq!(mids.len(), 58, "{offer}");
    }

    #[test]
    fn an_answer_without_an_offer_is_refused() {
        str0m::crypto::from_feature_flags().install_process_default();
        // A real answer, to an offer another peer made.
        let answer = peer().rtc.sdp_api().accept_offer(microphone_offer()).unwrap();
        let mut p = peer();
        assert_eq!(p.accept_answer(answer), Err("no offer is pending".to_string()));
        assert!(p.pending.is_none());
    }
}
