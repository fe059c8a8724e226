//! Which voices a subscriber hears, on which of its audio m-lines, and who
//! in a call is speaking.
//!
//! A class call is thirty microphones of which one or two speak at a time.
//! Forwarding each microphone on an m-line of its own gave every subscriber
//! thirty audio m-lines, and str0m walks every m-line of a peer on each call
//! into it: the SFU's cost grew with the square of the class, for voices that
//! were silent. Instead a subscriber has at most [`VOICE_SLOTS`] audio
//! m-lines and the SFU puts whoever speaks into one, as large meeting
//! services do. A voice keeps its slot while it speaks and yields it once it
//! has paused for [`YIELD_AFTER`]; a fourth voice at once is not heard until
//! one of the three pauses.

use crate::Generation;
use crate::peer::OutState;
use std::time::{Duration, Instant};
use str0m::media::Mid;

/// The MediaStream id of the voice slots' m-lines (`msid`): clients play
/// them all, whoever is in them.
pub(crate) const VOICES_STREAM: &str = "voices";
/// Voices a subscriber hears at once.
pub(crate) const VOICE_SLOTS: usize = 3;
/// A voice that has not been loud for this long gives its slot to one that is.
const YIELD_AFTER: Duration = Duration::from_millis(300);
/// Someone not loud for this long is not speaking any more.
const SPEAKING_WITHIN: Duration = Duration::from_millis(500);
/// A new speaker must be this much louder (dB) to take over from one still
/// speaking: two voices of about the same level do not flicker.
const SPEAKER_MARGIN_DB: f32 = 6.0;

/// A subscriber's voice slots.
#[derive(Debug, Default)]
pub(crate) struct Voices {
    pub slots: Vec<VoiceSlot>,
}

#[derive(Debug)]
pub(crate) struct VoiceSlot {
    pub state: OutState,
    holder: Option<Holder>,
    /// The RTP time of the slot's last frame out, and when it went.
    last: Option<(u64, Instant)>,
    /// The sequence number of the slot's last packet out.
    seq: u64,
}

#[derive(Debug, Clone, Copy)]
struct Holder {
    source: Generation,
    loud_at: Instant,
    /// Added to the holder's RTP times: the slot's timeline runs on from its
    /// previous voice, as the receiver's jitter buffer expects of one stream.
    offset: i64,
}

/// Where a frame goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Routed {
    pub mid: Mid,
    /// The frame's RTP time on the slot's timeline.
    pub time: u64,
    /// Its sequence number there: a slot numbers its own packets, whoever speaks.
    pub seq: u64,
    /// The slot has just changed voice: the frame starts a talkspurt.
    pub switched: bool,
}

/// One audio frame of a publisher, as the voice gate passed it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct VoiceFrame {
    pub source: Generation,
    /// Louder than silence (a pause inside the gate's hangover is not).
    pub loud: bool,
    /// RTP time, in `hz` ticks a second.
    pub time: u64,
    pub hz: u32,
    pub at: Instant,
}

impl Voices {
    /// Opens slots up to `others` (the call's other microphones), at most
    /// [`VOICE_SLOTS`]; slots are never closed before the peer leaves.
    pub fn want(&mut self, others: usize) {
        while self.slots.len() < others.min(VOICE_SLOTS) {
            self.slots.push(VoiceSlot { state: OutState::ToOpen, holder: None, last: None, seq: 0 });
        }
    }

    /// The slot `frame` is forwarded on, if any.
    pub fn route(&mut self, frame: VoiceFrame) -> Option<Routed> {
        let open = |s: &VoiceSlot| matches!(s.state, OutState::Open(_));
        let held = self.slots.iter().position(|s| open(s) && s.holder.is_some_and(|h| h.source == frame.source));
        let index = match held {
            Some(i) => i,
            // Only a voice takes a slot; the tail of a pause does not.
            None if !frame.loud => return None,
            None => {
                let free = self.slots.iter().position(|s| open(s) && s.holder.is_none());
                let paused = || {
                    self.slots
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| open(s))
                        .filter_map(|(i, s)| s.holder.map(|h| (i, h.loud_at)))
                        .filter(|(_, loud_at)| frame.at.saturating_duration_since(*loud_at) >= YIELD_AFTER)
                        .min_by_key(|(_, loud_at)| *loud_at)
                        .map(|(i, _)| i)
                };
                free.or_else(paused)?
            }
        };
        let slot = &mut self.slots[index];
        let OutState::Open(mid) = slot.state else { return None };
        let switched = held.is_none();
        if switched {
            slot.holder = Some(Holder { source: frame.source, loud_at: frame.at, offset: slot.continuing(frame) });
        }
        let holder = slot.holder.as_mut()?;
        if frame.loud {
            holder.loud_at = frame.at;
        }
        let time = frame.time.saturating_add_signed(holder.offset);
        slot.last = Some((time, frame.at));
        slot.seq += 1;
        Some(Routed { mid, time, seq: slot.seq, switched })
    }

    /// Whether `source` holds one of the slots.
    pub fn holds(&self, source: Generation) -> bool {
        self.slots.iter().any(|s| s.holder.is_some_and(|h| h.source == source))
    }

    /// The publisher left: its slot is free.
    pub fn release(&mut self, source: Generation) {
        for slot in &mut self.slots {
            if slot.holder.is_some_and(|h| h.source == source) {
                slot.holder = None;
            }
        }
    }
}

impl VoiceSlot {
    /// The offset that puts `frame` on this slot's timeline where the time
    /// passed since its last frame says, a frame later at least.
    fn continuing(&self, frame: VoiceFrame) -> i64 {
        let Some((last_time, last_at)) = self.last else { return 0 };
        let elapsed = frame.at.saturating_duration_since(last_at);
        let ticks = u64::try_from(elapsed.as_micros() * u128::from(frame.hz) / 1_000_000).unwrap_or(u64::MAX);
        let frame_ticks = u64::from(frame.hz / 50);
        let next = last_time.saturating_add(ticks.max(frame_ticks));
        i64::try_from(i128::from(next) - i128::from(frame.time)).unwrap_or(0)
    }
}

/// How loud one microphone has been lately.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Loudness {
    pub person: i64,
    /// Its recent level, dBov (0 is the loudest).
    pub level: f32,
    pub loud_at: Instant,
}

/// Who is speaking in a call now: the loudest microphone loud within
/// [`SPEAKING_WITHIN`], with `current` kept against one barely louder.
pub(crate) fn speaker(current: Option<i64>, voices: &[Loudness], now: Instant) -> Option<i64> {
    let speaking = |v: &&Loudness| now.saturating_duration_since(v.loud_at) < SPEAKING_WITHIN;
    let loudest = voices.iter().filter(speaking).max_by(|a, b| a.level.total_cmp(&b.level))?;
    let kept = current.and_then(|p| voices.iter().filter(speaking).find(|v| v.person == p));
    match kept {
        Some(kept) if loudest.level - kept.level < SPEAKER_MARGIN_DB => Some(kept.person),
        _ => Some(loudest.person),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HZ: u32 = 48_000;

    fn open_voices(n: usize) -> Voices {
        let mut voices = Voices::default();
        voices.want(n);
        for (i, slot) in voices.slots.iter_mut().enumerate() {
            slot.state = OutState::Open(Mid::from(format!("v{i}").as_str()));
        }
        voices
    }

    struct Clock(Instant);

    impl Clock {
        fn at(&self, ms: u64) -> Instant {
            self.0 + Duration::from_millis(ms)
        }
        /// Publisher `source`'s frame at `ms`, its RTP clock starting at `base`.
        fn frame(&self, source: Generation, base: u64, ms: u64, loud: bool) -> VoiceFrame {
            VoiceFrame { source, loud, time: base + ms * 48, hz: HZ, at: self.at(ms) }
        }
    }

    #[test]
    fn slots_grow_with_the_other_microphones_up_to_three() {
        let mut voices = Voices::default();
        voices.want(1);
        assert_eq!(voices.slots.len(), 1);
        voices.want(29);
        assert_eq!(voices.slots.len(), VOICE_SLOTS);
        voices.want(0);
        assert_eq!(voices.slots.len(), VOICE_SLOTS, "slots are never closed");
    }

    #[test]
    fn a_voice_keeps_its_slot_while_it_speaks() {
        let c = Clock(Instant::now());
        let mut v = open_voices(3);
        let first = v.route(c.frame(7, 1000, 0, true)).unwrap();
        assert!(first.switched);
        assert_eq!(first.time, 1000, "a fresh slot keeps the voice's own timeline");
        let next = v.route(c.frame(7, 1000, 20, true)).unwrap();
        assert_eq!((next.mid, next.time, next.switched), (first.mid, 1000 + 960, false));
        let other = v.route(c.frame(8, 5, 20, true)).unwrap();
        assert_ne!(other.mid, first.mid, "a second voice gets a slot of its own");
    }

    #[test]
    fn silence_takes_no_slot_but_a_pause_keeps_one() {
        let c = Clock(Instant::now());
        let mut v = open_voices(3);
        assert_eq!(v.route(c.frame(7, 0, 0, false)), None);
        v.route(c.frame(7, 0, 20, true)).unwrap();
        assert!(v.route(c.frame(7, 0, 40, false)).is_some(), "the holder's pause is forwarded");
    }

    #[test]
    fn a_fourth_voice_waits_until_one_of_three_pauses() {
        let c = Clock(Instant::now());
        let mut v = open_voices(3);
        for source in 1..=3 {
            v.route(c.frame(source, 0, 0, true)).unwrap();
        }
        assert_eq!(v.route(c.frame(4, 0, 100, true)), None, "three are speaking");
        assert!(!v.holds(4), "not heard, so not named as the speaker either");
        // Voice 2 keeps talking; 1 and 3 go on only with the tails of a pause.
        v.route(c.frame(2, 0, 250, true)).unwrap();
        assert_eq!(v.route(c.frame(4, 0, 250, true)), None, "nobody has paused for long enough yet");
        let took = v.route(c.frame(4, 0, 320, true)).unwrap();
        assert!(took.switched);
        assert_eq!(v.route(c.frame(1, 0, 340, false)), None, "voice 1 lost its slot to voice 4");
        assert!(v.holds(4) && !v.holds(1));
    }

    #[test]
    fn a_slot_s_timeline_runs_on_across_voices() {
        let c = Clock(Instant::now());
        let mut v = open_voices(1);
        let a = v.route(c.frame(1, 90_000, 0, true)).unwrap();
        assert_eq!(a.time, 90_000);
        // Voice 2's RTP clock started elsewhere; it takes the slot 1 s later.
        let b = v.route(c.frame(2, 7, 1000, true)).unwrap();
        assert!(b.switched);
        assert_eq!(b.time, 90_000 + 48_000, "one second later on the slot's timeline");
        let b2 = v.route(c.frame(2, 7, 1020, true)).unwrap();
        assert_eq!(b2.time, b.time + 960);
    }

    #[test]
    fn a_publisher_leaving_frees_its_slot() {
        let c = Clock(Instant::now());
        let mut v = open_voices(1);
        v.route(c.frame(1, 0, 0, true)).unwrap();
        assert_eq!(v.route(c.frame(2, 0, 20, true)), None);
        v.release(1);
        assert!(v.route(c.frame(2, 0, 40, true)).unwrap().switched);
    }

    #[test]
    fn slots_not_yet_negotiated_carry_nothing() {
        let c = Clock(Instant::now());
        let mut v = Voices::default();
        v.want(2);
        assert_eq!(v.route(c.frame(1, 0, 0, true)), None);
    }

    #[test]
    fn the_speaker_is_the_loudest_recent_voice_and_does_not_flicker() {
        let c = Clock(Instant::now());
        let now = c.at(1000);
        let voice = |person, level, ms| Loudness { person, level, loud_at: c.at(ms) };
        assert_eq!(speaker(None, &[], now), None);
        assert_eq!(speaker(None, &[voice(1, -30.0, 990), voice(2, -20.0, 990)], now), Some(2));
        // 3 dB louder is not enough to take over from someone still speaking...
        assert_eq!(speaker(Some(1), &[voice(1, -30.0, 990), voice(2, -27.0, 990)], now), Some(1));
        // ...10 dB is.
        assert_eq!(speaker(Some(1), &[voice(1, -30.0, 990), voice(2, -20.0, 990)], now), Some(2));
        // Someone quiet for 600 ms is not speaking.
        assert_eq!(speaker(Some(1), &[voice(1, -10.0, 400), voice(2, -40.0, 990)], now), Some(2));
        assert_eq!(speaker(Some(1), &[voice(1, -10.0, 400)], now), None);
    }
}
