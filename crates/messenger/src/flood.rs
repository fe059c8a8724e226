//! Flood control: how fast one person may act, and the arithmetic that says
//! whether an act conforms.
//!
//! Each kind of act ([`Action`]) has a [`Rate`]: a burst taken at once, then a
//! steady number per second. The defaults never bother a person typing fast
//! (twenty messages at once, then three a second, is far beyond any hand) and
//! stop a script: one student's socket sent 3,000 messages to a class in
//! 0.12 s before these limits existed. A chat admin is not exempt — a teacher's
//! account can be stolen too — but may act [`Limits::admin_factor`] times as
//! fast in the chats they admin (announcements come from admins only).
//!
//! The arithmetic is GCRA (the generic cell rate algorithm): one number per
//! person and action, the *theoretical arrival time* `tat` — the moment the
//! allowance would be whole again. An act at `now` conforms when
//! `tat - (burst - 1) × interval <= now`, and then moves `tat` on by one
//! interval. Time is passed in (milliseconds on any monotonic clock), so the
//! caller's clock decides and tests move it.

use serde::Deserialize;

/// What a person does that has its own allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Sending, editing or deleting a message.
    Message,
    /// Adding or removing a reaction; pinning.
    Reaction,
    /// Saying "is typing".
    Typing,
    /// A call's frames that the client starts (join, media, leave, decline,
    /// mute, remove, end). Answers to the server's offers are not counted:
    /// the server decides how many offers there are.
    Call,
    /// Other writes: uploads, chat settings, opening a direct chat. (Read
    /// marks are not counted: each only moves a position forward, so there
    /// are no more of them than messages.)
    Write,
}

/// A burst, then `per_second` more each second.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub burst: u32,
    pub per_second: f64,
}

impl Rate {
    pub const fn new(burst: u32, per_second: f64) -> Rate {
        Rate { burst, per_second }
    }

    /// Milliseconds between two acts at the steady pace (at least 1).
    fn interval(self) -> u64 {
        if self.per_second > 0.0 { ((1000.0 / self.per_second).ceil() as u64).max(1) } else { u64::MAX / 4 }
    }

    /// How far ahead of `now` the allowance may be spent.
    fn tolerance(self) -> u64 {
        self.interval().saturating_mul(u64::from(self.burst.max(1) - 1))
    }

    /// This rate `factor` times as fast, with a burst `factor` times as large.
    pub fn times(self, factor: u32) -> Rate {
        Rate { burst: self.burst.saturating_mul(factor), per_second: self.per_second * f64::from(factor) }
    }

    /// True when the rate allows anything at all.
    pub fn is_valid(self) -> bool {
        self.burst >= 1 && self.per_second.is_finite() && self.per_second > 0.0
    }
}

/// The allowance of every action, and how much more a chat admin gets.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub messages: Rate,
    pub reactions: Rate,
    pub typing: Rate,
    pub calls: Rate,
    pub writes: Rate,
    /// Frames one socket may send, whatever they are: beyond it the server
    /// stops reading the socket for a while (TCP slows the client down)
    /// rather than refusing anything.
    pub socket: Rate,
    /// A chat admin's allowance for messages and reactions in the chats they
    /// admin, as a multiple of everyone's.
    pub admin_factor: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            messages: Rate::new(20, 3.0),
            reactions: Rate::new(30, 5.0),
            // The web client says "typing" at most every 2 s per chat, and
            // again after each message: never faster than messages.
            typing: Rate::new(30, 5.0),
            calls: Rate::new(30, 3.0),
            writes: Rate::new(30, 5.0),
            // A client reconnecting sends a hello and a read mark per chat at once.
            socket: Rate::new(200, 50.0),
            admin_factor: 3,
        }
    }
}

impl Limits {
    pub fn rate(&self, action: Action) -> Rate {
        match action {
            Action::Message => self.messages,
            Action::Reaction => self.reactions,
            Action::Typing => self.typing,
            Action::Call => self.calls,
            Action::Write => self.writes,
        }
    }

    /// What a chat admin gets on top of everyone's allowance, for the actions
    /// that concern one chat; `None` for the others.
    pub fn admin_extra(&self, action: Action) -> Option<Rate> {
        match action {
            Action::Message | Action::Reaction if self.admin_factor > 1 => {
                Some(self.rate(action).times(self.admin_factor - 1))
            }
            _ => None,
        }
    }

    /// The first rate that allows nothing, by name, to refuse a configuration.
    pub fn invalid(&self) -> Option<&'static str> {
        let rates = [
            ("messages", self.messages),
            ("reactions", self.reactions),
            ("typing", self.typing),
            ("calls", self.calls),
            ("writes", self.writes),
            ("socket", self.socket),
        ];
        rates.into_iter().find(|(_, r)| !r.is_valid()).map(|(name, _)| name)
    }
}

/// Milliseconds to wait before the act would conform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait(pub u64);

/// One act at `now`: the new `tat` when it conforms, otherwise how long to
/// wait. `tat` is `None` for someone who has not acted yet.
pub fn admit(tat: Option<u64>, now: u64, rate: Rate) -> Result<u64, Wait> {
    let ready = conforms_at(tat, rate);
    if now < ready { Err(Wait(ready - now)) } else { Ok(charge(tat, now, rate)) }
}

/// When the next act will conform.
pub fn conforms_at(tat: Option<u64>, rate: Rate) -> u64 {
    tat.unwrap_or(0).saturating_sub(rate.tolerance())
}

/// Counts an act at `now` whether or not it conformed (for pacing: the act
/// has already happened, and the next one waits for it).
pub fn charge(tat: Option<u64>, now: u64, rate: Rate) -> u64 {
    tat.unwrap_or(now).max(now).saturating_add(rate.interval())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Acts at the given times; which of them were admitted.
    fn run(rate: Rate, times: &[u64]) -> Vec<bool> {
        let mut tat = None;
        times
            .iter()
            .map(|&now| match admit(tat, now, rate) {
                Ok(t) => {
                    tat = Some(t);
                    true
                }
                Err(_) => false,
            })
            .collect()
    }

    #[test]
    fn a_burst_is_admitted_at_once_and_the_next_act_waits_one_interval() {
        let rate = Rate::new(20, 3.0);
        let mut tat = None;
        for _ in 0..20 {
            tat = Some(admit(tat, 1_000, rate).unwrap());
        }
        assert_eq!(admit(tat, 1_000, rate), Err(Wait(334)));
        assert!(admit(tat, 1_334, rate).is_ok());
    }

    #[test]
    fn after_a_pause_the_whole_burst_is_back() {
        let rate = Rate::new(3, 1.0);
        assert_eq!(run(rate, &[0, 0, 0, 0]), [true, true, true, false]);
        assert_eq!(run(rate, &[0, 0, 0, 3_000, 3_000, 3_000, 3_000]), [true, true, true, true, true, true, false]);
    }

    #[test]
    fn a_fast_typist_is_never_limited() {
        // A message every 700 ms for ten minutes: quicker than anyone types.
        let times: Vec<u64> = (0..850).map(|i| 5_000 + i * 700).collect();
        assert!(run(Limits::default().messages, &times).into_iter().all(|admitted| admitted));
    }

    #[test]
    fn a_flood_gets_the_burst_then_the_steady_rate() {
        // 3,000 sends in 0.12 s, the attack the limits were made for.
        let times: Vec<u64> = (0..3_000).map(|i| 10_000 + i * 120 / 3_000).collect();
        let admitted = run(Limits::default().messages, &times).into_iter().filter(|a| *a).count();
        assert_eq!(admitted, 20);
    }

    #[test]
    fn chat_admins_get_more_of_messages_and_reactions_only() {
        let limits = Limits::default();
        assert_eq!(limits.admin_extra(Action::Message), Some(Rate::new(40, 6.0)));
        assert_eq!(limits.admin_extra(Action::Typing), None);
        assert_eq!(Limits { admin_factor: 1, ..limits }.admin_extra(Action::Message), None);
    }

    #[test]
    fn a_rate_that_allows_nothing_is_named() {
        let limits = Limits { typing: Rate::new(0, 1.0), ..Limits::default() };
        assert_eq!(limits.invalid(), Some("typing"));
        assert_eq!(Limits { calls: Rate::new(5, 0.0), ..Limits::default() }.invalid(), Some("calls"));
        assert_eq!(Limits::default().invalid(), None);
    }

    #[test]
    fn pacing_charges_every_act_and_says_when_the_next_conforms() {
        let rate = Rate::new(2, 10.0);
        let tat = charge(None, 0, rate);
        let tat = charge(Some(tat), 0, rate);
        let tat = charge(Some(tat), 0, rate);
        assert_eq!(conforms_at(Some(tat), rate), 200);
    }

    proptest! {
        #[test]
        fn no_window_admits_more_than_the_burst_plus_the_rate(
            burst in 1u32..50,
            per_second in 1u32..20,
            gaps in proptest::collection::vec(0u64..400, 1..150),
        ) {
            let rate = Rate::new(burst, f64::from(per_second));
            let mut now = 0;
            let times: Vec<u64> = gaps.iter().map(|g| { now += g; now }).collect();
            let admitted: Vec<u64> =
                times.iter().zip(run(rate, &times)).filter(|(_, a)| *a).map(|(t, _)| *t).collect();
            let interval = rate.interval();
            for (i, start) in admitted.iter().enumerate() {
                for (j, end) in admitted.iter().enumerate().skip(i) {
                    let allowed = u64::from(burst) + (end - start) / interval;
                    prop_assert!((j - i + 1) as u64 <= allowed);
                }
            }
        }
    }
}
