//! The pure parts of `parta-load calls`: when a synthetic publisher's frames
//! are due, how big they are, what they carry so a subscriber can tell whose
//! frame it is and which one, and how received frames add up to loss.
//!
//! Every frame a publisher writes carries a [`Tag`]: the publisher, the kind,
//! its frame number and the moment it was due. Frame `k` of a stream is due
//! at `start + k × period` (never drifting, never skipped: a publisher that
//! falls behind writes the late frames at once), so the frames due inside a
//! measurement window are a range of numbers ([`Schedule::frames_in`]) and a
//! subscriber's loss on that stream is how many of them it never received.

use crate::stats::SeqSet;
use std::ops::Range;
use std::time::Duration;

/// What a forwarded stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Audio,
    Video,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::Audio => b'a',
            Kind::Video => b'v',
        }
    }

    fn from_byte(b: u8) -> Option<Kind> {
        match b {
            b'a' => Some(Kind::Audio),
            b'v' => Some(Kind::Video),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Audio => "audio",
            Kind::Video => "video",
        }
    }
}

/// Frames at a fixed period from a start, in microseconds since an origin
/// shared by the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// When frame 0 is due.
    pub start_us: u64,
    /// Frames per second (50 for 20 ms audio, 30 for video).
    pub fps: u32,
}

impl Schedule {
    /// When frame `k` is due. Exact: `k × 1 s / fps` is computed from `k`,
    /// never accumulated.
    pub fn due_us(&self, k: u64) -> u64 {
        self.start_us + k * 1_000_000 / u64::from(self.fps.max(1))
    }

    /// How many frames are due at or before `now_us` (the next frame to
    /// write is number `due_by(now)` once the earlier ones are written).
    pub fn due_by(&self, now_us: u64) -> u64 {
        if now_us < self.start_us {
            return 0;
        }
        // Frame k is due when k × 1e6 / fps ≤ elapsed, i.e. k ≤ elapsed × fps / 1e6
        // (rounding the same way `due_us` does).
        let elapsed = now_us - self.start_us;
        let fps = u64::from(self.fps.max(1));
        let mut k = elapsed * fps / 1_000_000 + 1;
        while k > 0 && self.due_us(k - 1) > now_us {
            k -= 1;
        }
        while self.due_us(k) <= now_us {
            k += 1;
        }
        k
    }

    /// The frames due in `[from_us, stop_us)`.
    pub fn frames_in(&self, from_us: u64, stop_us: u64) -> Range<u64> {
        // Frames due before x: those due at or before x - 1.
        let before = |x: u64| if x == 0 { 0 } else { self.due_by(x - 1) };
        let first = before(from_us);
        first..before(stop_us).max(first)
    }

    /// The RTP media time of frame `k` at `clock_rate` Hz.
    pub fn media_time(&self, k: u64, clock_rate: u32) -> u64 {
        k * u64::from(clock_rate) / u64::from(self.fps.max(1))
    }
}

/// Audio: one 20 ms Opus-sized frame, 80–120 bytes (as a voice at ~32 kbit/s).
pub const AUDIO_FPS: u32 = 50;

/// The size of audio frame `k`: varies over 80..=120 bytes, 100 on average.
pub fn audio_size(k: u64) -> usize {
    // A fixed pseudo-random walk, the same for every run.
    80 + ((k.wrapping_mul(2_654_435_761) >> 7) % 41) as usize
}

/// Who speaks when. The microphones take turns: at any moment `talkers` of
/// them speak (audio level −30 dBov), the others send silence (−127, what
/// a muted or quiet microphone's audio-level header extension says), the
/// speakers moving on by one microphone every `turn_us`. Before the talk
/// starts (`from_us`: the run sets it when the call has settled) everyone
/// speaks, so that the SFU fills every voice slot it will ever open before
/// anything is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Talk {
    /// Speakers at once; every microphone when at least `microphones`.
    pub talkers: usize,
    pub microphones: usize,
    pub turn_us: u64,
}

/// The SFU forwards the other participants' audio to a participant on at
/// most this many audio m-lines, its *voice slots* (msid stream id
/// [`VOICES_STREAM_ID`]), whoever speaks taking one: its own, else an empty
/// one, else one whose holder has not been loud for [`SLOT_HANDOVER_US`]. A
/// fourth voice at once is not forwarded. Mirrors `VOICE_SLOTS` of
/// `crates/sfu` (this tool speaks the protocol, it does not link the SFU).
pub const VOICE_SLOTS: usize = 3;

/// The msid stream id of every voice slot (video m-lines keep `p<person>`).
pub const VOICES_STREAM_ID: &str = "voices";

/// A slot whose holder has been quiet this long may go to another voice.
pub const SLOT_HANDOVER_US: u64 = 300_000;

/// How late after [`SLOT_HANDOVER_US`] the SFU may still hand a slot over:
/// the outgoing voice's last frame arrives a little after it was due, and
/// the SFU notices the quiet on the next packet (two audio frames).
const HANDOVER_SLACK_US: u64 = 40_000;

/// Microphones speaking at once unless told otherwise: a class, where the
/// teacher and one student speak at a time.
pub const DEFAULT_TALKERS: usize = 2;

/// A voice's level in dBov, and silence's.
pub const SPEECH_DBOV: i8 = -30;
pub const SILENCE_DBOV: i8 = -127;

/// Under Opus DTX a silent microphone sends one frame in this many (400 ms).
pub const DTX_EVERY: u64 = 20;

/// Whether an SDP's Opus format asks the sender for DTX (`usedtx=1`).
pub fn asks_for_opus_dtx(sdp: &str) -> bool {
    let opus_pts: Vec<&str> = sdp
        .lines()
        .filter_map(|l| l.strip_prefix("a=rtpmap:"))
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, codec)| codec.to_ascii_lowercase().starts_with("opus/"))
        .map(|(pt, _)| pt)
        .collect();
    sdp.lines()
        .filter_map(|l| l.strip_prefix("a=fmtp:"))
        .filter_map(|l| l.split_once(' '))
        .any(|(pt, params)| opus_pts.contains(&pt) && params.split(';').any(|p| p.trim() == "usedtx=1"))
}

impl Talk {
    /// `talkers` of `microphones` at a time, in 2 s turns.
    pub fn new(talkers: usize, microphones: usize) -> Talk {
        Talk { talkers, microphones, turn_us: 2_000_000 }
    }

    /// Whether `microphone` (its index among the microphones) speaks at `at_us`.
    pub fn speaks(&self, microphone: usize, at_us: u64, from_us: u64) -> bool {
        if self.talkers >= self.microphones || at_us < from_us {
            return true;
        }
        let turn = ((at_us - from_us) / self.turn_us.max(1)) as usize % self.microphones;
        (microphone + self.microphones - turn) % self.microphones < self.talkers
    }

    /// Whether the SFU may, by its voice-slot rule, hold back what
    /// `microphone` says at `at_us` from `listener` (the listener's own
    /// microphone index, if it has one: its voice takes none of its slots).
    ///
    /// A voice that starts while [`VOICE_SLOTS`] other voices were loud up to
    /// that moment finds every slot held, and waits until one holder has been
    /// quiet for [`SLOT_HANDOVER_US`]: with turns, the one whose turn just
    /// ended. That happens at a turn's start only when `talkers` ≥ the
    /// slots, so never with fewer talkers. The first turn (from the everyone
    /// speaking before the talk, whose slot holders this model does not
    /// know) is not modelled: the warm-up covers it.
    pub fn waits_for_slot(&self, microphone: usize, listener: Option<usize>, at_us: u64, from_us: u64) -> bool {
        if self.talkers < VOICE_SLOTS || at_us < from_us || !self.speaks(microphone, at_us, from_us) {
            return false;
        }
        let turn_us = self.turn_us.max(1);
        let turn_start = from_us + (at_us - from_us) / turn_us * turn_us;
        if turn_start == from_us || at_us - turn_start >= SLOT_HANDOVER_US + HANDOVER_SLACK_US {
            return false;
        }
        let before = turn_start - 1;
        if self.speaks(microphone, before, from_us) {
            // Still talking from the turn before: it keeps its slot.
            return false;
        }
        let loud = (0..self.microphones)
            .filter(|q| *q != microphone && Some(*q) != listener && self.speaks(*q, before, from_us))
            .count();
        loud >= VOICE_SLOTS
    }
}

/// A video publisher's bitrate and rhythm.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoPlan {
    /// Bits per second, keyframes included.
    pub bitrate: u32,
    pub fps: u32,
    /// A keyframe every this many frames (60 = every 2 s at 30 fps), and on
    /// every keyframe request.
    pub keyframe_every: u32,
    /// A keyframe is this many times the size of a delta frame.
    pub keyframe_ratio: u32,
}

impl Default for VideoPlan {
    fn default() -> Self {
        VideoPlan { bitrate: 1_500_000, fps: 30, keyframe_every: 60, keyframe_ratio: 4 }
    }
}

impl VideoPlan {
    /// Bytes of a delta frame so that one keyframe and `keyframe_every - 1`
    /// delta frames add up to the bitrate.
    pub fn delta_size(&self) -> usize {
        let gop = u64::from(self.keyframe_every.max(1));
        let bytes_per_gop = u64::from(self.bitrate) / 8 * gop / u64::from(self.fps.max(1));
        let units = gop - 1 + u64::from(self.keyframe_ratio.max(1));
        (bytes_per_gop / units).max(TAG_OFFSET_VIDEO as u64 + TAG_LEN as u64) as usize
    }

    pub fn key_size(&self) -> usize {
        self.delta_size() * self.keyframe_ratio.max(1) as usize
    }

    /// Whether frame `k` is a scheduled keyframe.
    pub fn scheduled_key(&self, k: u64) -> bool {
        k.is_multiple_of(u64::from(self.keyframe_every.max(1)))
    }
}

/// What identifies a frame, written into its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    /// The publisher's index among the run's participants.
    pub publisher: u16,
    pub kind: Kind,
    /// The frame number in its stream.
    pub frame: u32,
    /// When it was due, µs since the run's origin.
    pub due_us: u64,
}

const MAGIC: &[u8; 3] = b"PLG";
const TAG_LEN: usize = 3 + 1 + 2 + 4 + 8;
/// Audio: after a one-byte Opus TOC (config 15: hybrid fullband 20 ms, one frame).
const TAG_OFFSET_AUDIO: usize = 1;
/// Video: after the 10-byte VP8 keyframe header (a delta frame's header is 3
/// bytes; the tag sits at the same place in both).
const TAG_OFFSET_VIDEO: usize = 10;
const OPUS_TOC: u8 = 15 << 3;

/// An audio frame of `size` bytes (at least the tag's) carrying `tag`.
pub fn audio_frame(tag: &Tag, size: usize) -> Vec<u8> {
    let mut data = vec![0u8; size.max(TAG_OFFSET_AUDIO + TAG_LEN)];
    data[0] = OPUS_TOC;
    write_tag(&mut data[TAG_OFFSET_AUDIO..], tag);
    fill(&mut data[TAG_OFFSET_AUDIO + TAG_LEN..], tag.frame);
    data
}

/// A VP8 frame of `size` bytes carrying `tag`. A keyframe starts with a
/// frame tag whose bit 0 is clear, the start code `9d 01 2a` and a 640 × 480
/// size, as an encoder's would; a delta frame's first byte has bit 0 set.
pub fn vp8_frame(tag: &Tag, size: usize, key: bool) -> Vec<u8> {
    let mut data = vec![0u8; size.max(TAG_OFFSET_VIDEO + TAG_LEN)];
    // The 3-byte frame tag: bit 0 key (0) / delta (1), bits 1–3 version 0,
    // bit 4 show_frame, bits 5–23 the first partition's size.
    let first_partition = (data.len() as u32 / 2).min(0x7_ffff);
    let frame_tag = u32::from(!key) | 1 << 4 | first_partition << 5;
    data[..3].copy_from_slice(&frame_tag.to_le_bytes()[..3]);
    if key {
        data[3..6].copy_from_slice(&[0x9d, 0x01, 0x2a]);
        data[6..8].copy_from_slice(&640u16.to_le_bytes());
        data[8..10].copy_from_slice(&480u16.to_le_bytes());
    }
    write_tag(&mut data[TAG_OFFSET_VIDEO..], tag);
    fill(&mut data[TAG_OFFSET_VIDEO + TAG_LEN..], tag.frame);
    data
}

/// Whether a VP8 frame is a keyframe (bit 0 of its first byte clear).
pub fn vp8_is_key(data: &[u8]) -> bool {
    data.first().is_some_and(|b| b & 1 == 0)
}

/// The tag of a frame made by [`audio_frame`] or [`vp8_frame`].
pub fn read_tag(data: &[u8]) -> Option<Tag> {
    [TAG_OFFSET_AUDIO, TAG_OFFSET_VIDEO].into_iter().find_map(|at| parse_tag(data.get(at..at + TAG_LEN)?))
}

fn write_tag(out: &mut [u8], tag: &Tag) {
    out[..3].copy_from_slice(MAGIC);
    out[3] = tag.kind.byte();
    out[4..6].copy_from_slice(&tag.publisher.to_be_bytes());
    out[6..10].copy_from_slice(&tag.frame.to_be_bytes());
    out[10..18].copy_from_slice(&tag.due_us.to_be_bytes());
}

fn parse_tag(b: &[u8]) -> Option<Tag> {
    if &b[..3] != MAGIC {
        return None;
    }
    Some(Tag {
        kind: Kind::from_byte(b[3])?,
        publisher: u16::from_be_bytes(b[4..6].try_into().ok()?),
        frame: u32::from_be_bytes(b[6..10].try_into().ok()?),
        due_us: u64::from_be_bytes(b[10..18].try_into().ok()?),
    })
}

/// Bytes that do not compress and differ from frame to frame.
fn fill(out: &mut [u8], seed: u32) {
    let mut x = u64::from(seed).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for b in out {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
}

/// One subscriber's view of one forwarded stream: which frame numbers came.
#[derive(Debug, Clone, Default)]
pub struct Received {
    frames: SeqSet,
    /// Frames that came more than once (a retransmission the SFU forwarded
    /// twice, or a forwarding bug).
    pub duplicates: u64,
    /// Frames that came after a later frame of their stream: the SFU (or
    /// its batched sends) reordered them.
    pub out_of_order: u64,
    highest: Option<u32>,
}

impl Received {
    pub fn new() -> Received {
        // SeqSet holds numbers above its base: frame k is stored as k.
        Received { frames: SeqSet::above(-1), duplicates: 0, out_of_order: 0, highest: None }
    }

    pub fn insert(&mut self, frame: u32) {
        if !self.frames.insert(i64::from(frame)) {
            self.duplicates += 1;
            return;
        }
        if self.highest.is_some_and(|highest| frame < highest) {
            self.out_of_order += 1;
        }
        self.highest = self.highest.max(Some(frame));
    }

    /// How many of the frames in `range` that `wanted` picks came.
    pub fn count_in(&self, range: &Range<u64>, wanted: impl Fn(u64) -> bool) -> u64 {
        range.clone().filter(|k| wanted(*k) && self.frames.contains(*k as i64)).count() as u64
    }

    pub fn total(&self) -> u64 {
        self.frames.len()
    }
}

/// Frames expected and received, summed over streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub expected: u64,
    pub received: u64,
}

impl Tally {
    pub fn add(&mut self, expected: u64, received: u64) {
        self.expected += expected;
        self.received += received.min(expected);
    }

    /// Lost frames as a percentage of the expected ones (0 when none were expected).
    pub fn loss_percent(&self) -> f64 {
        if self.expected == 0 {
            return 0.0;
        }
        (self.expected - self.received) as f64 / self.expected as f64 * 100.0
    }
}

/// RFC 7983 demultiplexing with RFC 5761: is this datagram RTP (not STUN,
/// DTLS or RTCP)? Works on SRTP too: the header is in the clear.
pub fn is_rtp(datagram: &[u8]) -> bool {
    match datagram {
        [first, second, ..] => (128..=191).contains(first) && !(192..=223).contains(second),
        _ => false,
    }
}

/// `Duration` in whole microseconds.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_due_on_a_fixed_grid_without_drift() {
        let s = Schedule { start_us: 1_000, fps: 30 };
        assert_eq!(s.due_us(0), 1_000);
        assert_eq!(s.due_us(1), 1_000 + 33_333);
        assert_eq!(s.due_us(30), 1_000 + 1_000_000);
        assert_eq!(s.due_us(30 * 3600), 1_000 + 3_600_000_000);
        assert_eq!(s.due_by(999), 0);
        assert_eq!(s.due_by(1_000), 1);
        assert_eq!(s.due_by(1_000 + 33_332), 1);
        assert_eq!(s.due_by(1_000 + 33_333), 2);
        assert_eq!(s.due_by(1_000 + 1_000_000), 31);
        let a = Schedule { start_us: 0, fps: AUDIO_FPS };
        for now in [0, 1, 19_999, 20_000, 20_001, 999_999, 1_000_000, 7_654_321] {
            let k = a.due_by(now);
            assert!(a.due_us(k - 1) <= now && a.due_us(k) > now, "{now}: {k}");
        }
    }

    #[test]
    fn a_window_holds_the_frames_due_inside_it() {
        let a = Schedule { start_us: 500, fps: AUDIO_FPS };
        // Frames due at 500, 20_500, 40_500, …: [20_500, 1_020_500) holds frames 1..51.
        assert_eq!(a.frames_in(20_500, 1_020_500), 1..51);
        assert_eq!(a.frames_in(20_501, 1_020_501), 2..52);
        assert_eq!(a.frames_in(0, 500), 0..0);
        assert_eq!(a.frames_in(0, 501), 0..1);
        assert!(a.frames_in(10_000_000, 10_000_000).is_empty());
        // Twenty seconds of audio are a thousand frames, of video six hundred.
        assert_eq!(a.frames_in(5_000_000, 25_000_000).count(), 1_000);
        let v = Schedule { start_us: 123, fps: 30 };
        assert_eq!(v.frames_in(5_000_000, 25_000_000).count(), 600);
    }

    #[test]
    fn media_time_follows_the_frame_number() {
        let a = Schedule { start_us: 0, fps: AUDIO_FPS };
        assert_eq!(a.media_time(1, 48_000), 960);
        let v = Schedule { start_us: 0, fps: 30 };
        assert_eq!(v.media_time(1, 90_000), 3_000);
        assert_eq!(v.media_time(30, 90_000), 90_000);
    }

    #[test]
    fn audio_frames_are_opus_sized() {
        let sizes: Vec<usize> = (0..1_000).map(audio_size).collect();
        assert!(sizes.iter().all(|s| (80..=120).contains(s)));
        let mean = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        assert!((95.0..=105.0).contains(&mean), "{mean}");
        assert!(sizes.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn video_adds_up_to_its_bitrate_with_a_keyframe_every_two_seconds() {
        let v = VideoPlan::default();
        assert!(v.scheduled_key(0) && v.scheduled_key(60) && !v.scheduled_key(59));
        // Two seconds: one keyframe and 59 delta frames.
        let bytes = v.key_size() + 59 * v.delta_size();
        let bitrate = bytes as f64 * 8.0 / 2.0;
        assert!((bitrate - 1_500_000.0).abs() / 1_500_000.0 < 0.01, "{bitrate}");
        assert_eq!(v.key_size(), 4 * v.delta_size());
    }

    #[test]
    fn a_frame_carries_its_tag_and_a_vp8_keyframe_has_bit_0_clear() {
        let tag = Tag { publisher: 7, kind: Kind::Video, frame: 1_234, due_us: 9_876_543_210 };
        let key = vp8_frame(&tag, 20_000, true);
        assert_eq!(key.len(), 20_000);
        assert!(vp8_is_key(&key));
        assert_eq!(&key[3..6], &[0x9d, 0x01, 0x2a]);
        assert_eq!(read_tag(&key), Some(tag));
        let delta = vp8_frame(&tag, 5_000, false);
        assert!(!vp8_is_key(&delta));
        assert_eq!(read_tag(&delta), Some(tag));
        let tag = Tag { kind: Kind::Audio, ..tag };
        let audio = audio_frame(&tag, 90);
        assert_eq!((audio.len(), audio[0]), (90, OPUS_TOC));
        assert_eq!(read_tag(&audio), Some(tag));
        assert_eq!(read_tag(&[0u8; 40]), None);
        assert_eq!(read_tag(b"short"), None);
        assert_ne!(audio_frame(&Tag { frame: 1, ..tag }, 90), audio_frame(&Tag { frame: 2, ..tag }, 90));
    }

    #[test]
    fn microphones_take_turns_and_everyone_speaks_before_the_talk() {
        let talk = Talk { talkers: 2, microphones: 5, turn_us: 1_000 };
        let from = 10_000;
        let speaking = |at: u64| (0..5).filter(|m| talk.speaks(*m, at, from)).collect::<Vec<_>>();
        assert_eq!(speaking(from - 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(speaking(from), vec![0, 1]);
        assert_eq!(speaking(from + 999), vec![0, 1]);
        assert_eq!(speaking(from + 1_000), vec![1, 2]);
        assert_eq!(speaking(from + 4_000), vec![0, 4]);
        assert_eq!(speaking(from + 5_000), vec![0, 1], "round again");
        let all = Talk::new(5, 5);
        assert!((0..5).all(|m| all.speaks(m, from + 3_000, from)));
        assert_eq!(Talk::new(DEFAULT_TALKERS, 30).turn_us, 2_000_000);
    }

    #[test]
    fn a_voice_waits_for_a_slot_only_when_every_slot_is_held() {
        let from = 1_000_000;
        let turn = 2_000_000;
        // Two talkers leave a slot free: a new voice never waits.
        let two = Talk::new(2, 30);
        assert!((0..30).all(|m| (0..20).all(|t| !two.waits_for_slot(m, None, from + t * turn + 20_000, from))));
        // Three: at the second turn microphone 3 starts as 0 stops, 1 and 2 go on.
        let three = Talk::new(3, 30);
        let second = from + turn;
        assert!(three.speaks(3, second, from) && !three.speaks(0, second, from));
        assert!(three.waits_for_slot(3, None, second, from), "0, 1 and 2 hold the slots");
        assert!(three.waits_for_slot(3, None, second + SLOT_HANDOVER_US, from), "0 quiet for only 300 ms");
        assert!(!three.waits_for_slot(3, None, second + SLOT_HANDOVER_US + HANDOVER_SLACK_US, from));
        assert!(!three.waits_for_slot(1, None, second, from), "1 keeps its slot");
        assert!(!three.waits_for_slot(4, None, second, from), "4 does not speak yet");
        // A listener that was one of the three has a slot free for 3.
        assert!(!three.waits_for_slot(3, Some(1), second, from));
        assert!(three.waits_for_slot(3, Some(7), second, from));
        // The first turn, out of everyone speaking, is left to the warm-up.
        assert!(!three.waits_for_slot(0, None, from, from));
        assert!(!three.waits_for_slot(3, None, second - 1, from));
        // Everyone speaking is not turns at all.
        assert!(!Talk::new(3, 3).waits_for_slot(0, None, second, from));
    }

    #[test]
    fn opus_dtx_is_read_from_the_opus_fmtp_only() {
        let answer = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
                      a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1\r\n";
        assert!(asks_for_opus_dtx(answer));
        assert!(!asks_for_opus_dtx(&answer.replace("usedtx=1", "usedtx=0")));
        let other = "a=rtpmap:96 VP8/90000\r\na=fmtp:96 usedtx=1\r\na=rtpmap:111 opus/48000/2\r\n";
        assert!(!asks_for_opus_dtx(other));
    }

    #[test]
    fn loss_counts_the_expected_frames_that_never_came() {
        let mut r = Received::new();
        for k in (0..100).filter(|k| k % 10 != 3) {
            r.insert(k);
        }
        r.insert(5);
        assert_eq!(r.duplicates, 1);
        assert_eq!(r.out_of_order, 0, "a repeat is a duplicate, not a reordering");
        r.insert(103);
        r.insert(93);
        assert_eq!(r.out_of_order, 1, "93 came after 103");
        assert_eq!(r.total(), 92);
        // Frames 10..60 expected: 13, 23, 33, 43, 53 missing.
        assert_eq!(r.count_in(&(10..60), |_| true), 45);
        let mut t = Tally::default();
        t.add(50, r.count_in(&(10..60), |_| true));
        // A stream the subscriber never got counts as all lost.
        t.add(50, 0);
        assert_eq!(t, Tally { expected: 100, received: 45 });
        assert!((t.loss_percent() - 55.0).abs() < 1e-9);
        // Frames from outside the window never make received exceed expected.
        t.add(10, 20);
        assert_eq!(t.received, 55);
        assert_eq!(Tally::default().loss_percent(), 0.0);
    }

    #[test]
    fn rtp_is_told_from_stun_dtls_and_rtcp() {
        assert!(is_rtp(&[0x80, 111, 0, 1]));
        assert!(is_rtp(&[0x90, 0x80 | 96]));
        assert!(!is_rtp(&[0x80, 200])); // RTCP sender report
        assert!(!is_rtp(&[0x81, 205])); // RTCP transport feedback
        assert!(!is_rtp(&[0x00, 0x01])); // STUN binding request
        assert!(!is_rtp(&[22, 0xfe])); // DTLS handshake
        assert!(!is_rtp(&[0x80]));
    }
}
