//! A school's quiet hours (issue 19): the times of the week, in the school's
//! time zone, when new messages in some kinds of chat notify nobody; what
//! they held is summed up in one notification when they end. The school's
//! administrators choose the periods and the kinds of chat; by default
//! weekday evenings 19:00–08:00 and the whole weekend, in parents' and class
//! chats. A period is a span of the week (`пт 19:00–пн 08:00`); one that ends
//! before it starts wraps over Sunday midnight.

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Timelike, Utc, Weekday};
pub use chrono_tz::Tz;
use std::fmt;

/// Minutes in a week: a moment of the week is `0..WEEK` from Monday 00:00.
const WEEK: u32 = 7 * 24 * 60;
const DAYS: [(&str, &str, Weekday); 7] = [
    ("mon", "пн", Weekday::Mon),
    ("tue", "вт", Weekday::Tue),
    ("wed", "ср", Weekday::Wed),
    ("thu", "чт", Weekday::Thu),
    ("fri", "пт", Weekday::Fri),
    ("sat", "сб", Weekday::Sat),
    ("sun", "вс", Weekday::Sun),
];
/// The chat kinds quiet hours may cover.
pub const CHAT_KINDS: [&str; 6] = ["parents", "class", "staff_room", "subject", "custom", "direct"];
/// The zone of a school that has not chosen one, unless configured.
pub const DEFAULT_ZONE: Tz = chrono_tz::Europe::Moscow;
/// More periods than this is not a timetable but a mistake.
pub const MAX_PERIODS: usize = 28;

/// A moment of the week: minutes since Monday 00:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeekTime(u32);

impl WeekTime {
    /// `day` as `mon`…`sun`, `time` as `HH:MM` (24:00 is not a time: use
    /// the next day's 00:00).
    pub fn parse(day: &str, time: &str) -> Result<WeekTime, QuietError> {
        let index =
            DAYS.iter().position(|(name, _, _)| *name == day).ok_or_else(|| QuietError::BadDay(day.to_owned()))?;
        let bad = || QuietError::BadTime(time.to_owned());
        let (h, m) = time.split_once(':').ok_or_else(bad)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 23 || m > 59 {
            return Err(bad());
        }
        Ok(WeekTime(index as u32 * 1440 + h * 60 + m))
    }

    fn of(local: &NaiveDateTime) -> WeekTime {
        WeekTime(local.weekday().num_days_from_monday() * 1440 + local.hour() * 60 + local.minute())
    }

    /// `mon`…`sun`.
    pub fn day(self) -> &'static str {
        DAYS[(self.0 / 1440) as usize].0
    }

    /// `HH:MM`.
    pub fn time(self) -> String {
        format!("{:02}:{:02}", self.0 % 1440 / 60, self.0 % 60)
    }

    fn day_ru(self) -> &'static str {
        DAYS[(self.0 / 1440) as usize].1
    }

    /// Minutes from `self` forward to `later`, around the week's end if need be.
    fn until(self, later: WeekTime) -> u32 {
        (later.0 + WEEK - self.0) % WEEK
    }
}

/// Quiet from `from` until `to` (not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: WeekTime,
    pub to: WeekTime,
}

impl Period {
    fn length(self) -> u32 {
        self.from.until(self.to)
    }

    fn contains(self, at: WeekTime) -> bool {
        self.from.until(at) < self.length()
    }

    fn overlaps(self, other: Period) -> bool {
        self.contains(other.from) || other.contains(self.from)
    }
}

impl fmt::Display for Period {
    /// `пн 19:00–08:00` within a day and the next, `пт 19:00–пн 08:00` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.from.0 / 1440 != self.to.0 / 1440;
        let next_morning = (self.from.0 / 1440 + 1) % 7 == self.to.0 / 1440 && self.to.0 % 1440 < self.from.0 % 1440;
        if days && !next_morning {
            write!(f, "{} {}–{} {}", self.from.day_ru(), self.from.time(), self.to.day_ru(), self.to.time())
        } else {
            write!(f, "{} {}–{}", self.from.day_ru(), self.from.time(), self.to.time())
        }
    }
}

/// An IANA zone name (`Europe/Moscow`).
pub fn parse_zone(name: &str) -> Result<Tz, QuietError> {
    name.parse().map_err(|_| QuietError::BadZone(name.to_owned()))
}

/// Why quiet hours were refused; the message names the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuietError {
    #[error("неизвестный день недели «{0}» (mon…sun)")]
    BadDay(String),
    #[error("время «{0}» не в виде ЧЧ:ММ от 00:00 до 23:59")]
    BadTime(String),
    #[error("период {0} пуст: начало совпадает с концом")]
    Empty(Period),
    #[error("периоды тихих часов пересекаются: {0} и {1}")]
    Overlap(Period, Period),
    #[error("не больше {} периодов", MAX_PERIODS)]
    TooMany,
    #[error("неизвестный часовой пояс «{0}»")]
    BadZone(String),
    #[error("неизвестный вид чата «{0}»")]
    BadKind(String),
}

impl QuietError {
    /// The same in English.
    pub fn english(&self) -> String {
        match self {
            QuietError::BadDay(d) => format!("unknown day of the week «{d}» (mon…sun)"),
            QuietError::BadTime(t) => format!("time «{t}» is not HH:MM from 00:00 to 23:59"),
            QuietError::Empty(p) => format!("period {p} is empty: it starts where it ends"),
            QuietError::Overlap(a, b) => format!("quiet hours periods overlap: {a} and {b}"),
            QuietError::TooMany => format!("at most {MAX_PERIODS} periods"),
            QuietError::BadZone(z) => format!("unknown time zone «{z}»"),
            QuietError::BadKind(k) => format!("unknown chat kind «{k}»"),
        }
    }
}

/// A school's quiet hours, valid by construction: periods neither empty
/// nor overlapping, a known zone, known chat kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    zone: Tz,
    periods: Vec<Period>,
    kinds: Vec<String>,
}

/// Whether a chat is quiet now, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    /// Unix seconds when notifications resume.
    pub until: i64,
    /// The same as the school's clock shows it, `HH:MM`.
    pub until_hour: u32,
    pub until_minute: u32,
}

impl QuietHours {
    pub fn new(zone: &str, periods: Vec<Period>, kinds: Vec<String>) -> Result<QuietHours, QuietError> {
        let zone = parse_zone(zone)?;
        if periods.len() > MAX_PERIODS {
            return Err(QuietError::TooMany);
        }
        for (i, p) in periods.iter().enumerate() {
            if p.length() == 0 {
                return Err(QuietError::Empty(*p));
            }
            if let Some(other) = periods[..i].iter().find(|o| o.overlaps(*p)) {
                return Err(QuietError::Overlap(*other, *p));
            }
        }
        let mut chosen = Vec::new();
        for kind in kinds {
            if !CHAT_KINDS.contains(&kind.as_str()) {
                return Err(QuietError::BadKind(kind));
            }
            if !chosen.contains(&kind) {
                chosen.push(kind);
            }
        }
        let mut periods = periods;
        periods.sort_by_key(|p| p.from);
        Ok(QuietHours { zone, periods, kinds: chosen })
    }

    /// Weekdays 19:00–08:00 and the whole weekend, in parents' and class chats.
    pub fn school_default(zone: Tz) -> QuietHours {
        const DAY: u32 = 1440;
        // Monday to Thursday evenings to the next morning, Friday evening to Monday.
        let periods = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 7)]
            .into_iter()
            .map(|(evening, morning)| Period {
                from: WeekTime(evening * DAY + 19 * 60),
                to: WeekTime(morning % 7 * DAY + 8 * 60),
            })
            .collect();
        QuietHours { zone, periods, kinds: vec!["parents".into(), "class".into()] }
    }

    pub fn zone(&self) -> &str {
        self.zone.name()
    }

    pub fn periods(&self) -> &[Period] {
        &self.periods
    }

    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    pub fn covers(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }

    /// Whether the school is quiet at `now` (unix seconds) for a chat of
    /// `kind`; `None` when it is not.
    pub fn quiet(&self, kind: &str, now: i64) -> Option<Quiet> {
        if self.covers(kind) { self.quiet_at(now) } else { None }
    }

    /// When the quiet hours `now` falls in end, periods that meet run on as
    /// one; `None` when `now` is not quiet.
    pub fn quiet_at(&self, now: i64) -> Option<Quiet> {
        let utc = DateTime::<Utc>::from_timestamp(now, 0)?;
        let local = utc.with_timezone(&self.zone).naive_local();
        let mut at = WeekTime::of(&local);
        let mut minutes: u32 = 0;
        while let Some(p) = self.periods.iter().find(|p| p.contains(at)) {
            minutes += at.until(p.to);
            at = p.to;
            if minutes >= WEEK {
                break; // quiet all week: the end is a week away
            }
        }
        if minutes == 0 {
            return None;
        }
        // The end on the wall clock, from the current minute's start.
        let start = local.with_second(0)?;
        let end = start + Duration::minutes(i64::from(minutes));
        let until = self.utc_of(end);
        Some(Quiet { until, until_hour: end.hour(), until_minute: end.minute() })
    }

    /// The instant a wall-clock time names; in a spring-forward gap, the
    /// first instant after it, in an autumn repeat, the first of the two.
    fn utc_of(&self, local: NaiveDateTime) -> i64 {
        let mut probe = local;
        for _ in 0..4 {
            if let Some(at) = self.zone.from_local_datetime(&probe).earliest() {
                return at.timestamp();
            }
            probe += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&local).timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(from_day: &str, from: &str, to_day: &str, to: &str) -> Period {
        Period { from: WeekTime::parse(from_day, from).unwrap(), to: WeekTime::parse(to_day, to).unwrap() }
    }

    /// Unix seconds of a UTC wall time.
    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp()
    }

    #[test]
    fn by_default_weekday_evenings_and_the_weekend_are_quiet_in_parents_and_class_chats() {
        let q = QuietHours::school_default(DEFAULT_ZONE);
        // Monday 7 December 2026, Moscow is UTC+3 all year.
        let monday_22 = utc(2026, 12, 7, 19, 0);
        let quiet = q.quiet("parents", monday_22).unwrap();
        assert_eq!(quiet.until, utc(2026, 12, 8, 5, 0), "Tuesday 08:00 in Moscow");
        assert_eq!((quiet.until_hour, quiet.until_minute), (8, 0));
        assert!(q.quiet("class", monday_22).is_some());
        assert_eq!(q.quiet("staff_room", monday_22), None, "the staff room is not covered by default");
        assert_eq!(q.quiet("direct", monday_22), None);
        assert_eq!(q.quiet("parents", utc(2026, 12, 7, 12, 0)), None, "Monday 15:00 is a school day");
        assert_eq!(q.quiet("parents", utc(2026, 12, 7, 15, 59)), None, "18:59");
        assert!(q.quiet("parents", utc(2026, 12, 7, 16, 0)).is_some(), "19:00 sharp");
        assert_eq!(q.quiet("parents", utc(2026, 12, 8, 5, 0)), None, "08:00 sharp is over");
    }

    #[test]
    fn the_default_is_valid_quiet_hours() {
        let q = QuietHours::school_default(DEFAULT_ZONE);
        assert_eq!(QuietHours::new(q.zone(), q.periods().to_vec(), q.kinds().to_vec()), Ok(q.clone()));
        assert_eq!(q.periods().len(), 5);
        assert_eq!(q.periods()[4].to_string(), "пт 19:00–пн 08:00");
    }

    #[test]
    fn a_friday_evening_is_quiet_until_monday_morning() {
        let q = QuietHours::school_default(DEFAULT_ZONE);
        let saturday_noon = utc(2026, 12, 12, 9, 0);
        assert_eq!(q.quiet_at(saturday_noon).unwrap().until, utc(2026, 12, 14, 5, 0));
    }

    #[test]
    fn a_period_wraps_over_sunday_midnight_and_meeting_periods_run_on() {
        let periods = vec![p("sun", "20:00", "mon", "07:00"), p("mon", "07:00", "mon", "08:30")];
        let q = QuietHours::new("UTC", periods, vec!["parents".into()]).unwrap();
        let sunday_23 = utc(2026, 12, 13, 23, 0);
        let quiet = q.quiet_at(sunday_23).unwrap();
        assert_eq!(quiet.until, utc(2026, 12, 14, 8, 30));
        assert_eq!((quiet.until_hour, quiet.until_minute), (8, 30));
        assert!(q.quiet_at(utc(2026, 12, 14, 0, 30)).is_some(), "Monday after midnight");
        assert_eq!(q.quiet_at(utc(2026, 12, 13, 19, 59)), None);
    }

    #[test]
    fn a_zone_without_daylight_saving_keeps_its_offset() {
        let q = QuietHours::new("Asia/Yekaterinburg", vec![p("mon", "19:00", "tue", "08:00")], vec!["class".into()])
            .unwrap();
        // UTC+5 in winter and in summer.
        for (month, day) in [(1, 5), (7, 6)] {
            let monday_20 = utc(2026, month, day, 15, 0);
            assert_eq!(q.quiet("class", monday_20).unwrap().until, utc(2026, month, day + 1, 3, 0), "{month}");
        }
    }

    #[test]
    fn the_end_follows_the_wall_clock_across_a_change_of_offset() {
        // Berlin moves from UTC+1 to UTC+2 at 02:00 on Sunday 29 March 2026.
        let q =
            QuietHours::new("Europe/Berlin", vec![p("sat", "20:00", "sun", "08:00")], vec!["class".into()]).unwrap();
        let saturday_21 = utc(2026, 3, 28, 20, 0);
        assert_eq!(q.quiet_at(saturday_21).unwrap().until, utc(2026, 3, 29, 6, 0), "08:00 summer time");
    }

    #[test]
    fn overlapping_empty_and_malformed_periods_are_refused_naming_the_problem() {
        let kinds = || vec!["parents".to_string()];
        let overlap =
            QuietHours::new("UTC", vec![p("mon", "19:00", "tue", "08:00"), p("tue", "07:00", "tue", "09:00")], kinds());
        let message = overlap.unwrap_err().to_string();
        assert_eq!(message, "периоды тихих часов пересекаются: пн 19:00–08:00 и вт 07:00–09:00");
        let wrapping =
            QuietHours::new("UTC", vec![p("fri", "19:00", "mon", "08:00"), p("sun", "10:00", "sun", "12:00")], kinds());
        assert!(matches!(wrapping, Err(QuietError::Overlap(..))), "a period inside one over the weekend");
        let empty = QuietHours::new("UTC", vec![p("wed", "19:00", "wed", "19:00")], kinds());
        assert_eq!(empty.unwrap_err().to_string(), "период ср 19:00–19:00 пуст: начало совпадает с концом");
        for (day, time) in
            [("mon", "7:00"), ("mon", "24:00"), ("mon", "12:60"), ("mon", "ab:cd"), ("понедельник", "07:00")]
        {
            assert!(WeekTime::parse(day, time).is_err(), "{day} {time}");
        }
        assert_eq!(QuietHours::new("Mars/Olympus", vec![], kinds()), Err(QuietError::BadZone("Mars/Olympus".into())));
        assert_eq!(QuietHours::new("UTC", vec![], vec!["lounge".into()]), Err(QuietError::BadKind("lounge".into())));
    }

    #[test]
    fn touching_periods_do_not_overlap_and_read_back_in_order() {
        let q =
            QuietHours::new("UTC", vec![p("tue", "08:00", "tue", "09:00"), p("mon", "19:00", "tue", "08:00")], vec![])
                .unwrap();
        assert_eq!(q.periods()[0].from.day(), "mon");
        assert_eq!(q.periods()[1].from.time(), "08:00");
        let monday_20 = utc(2026, 12, 7, 20, 0);
        assert_eq!(q.quiet_at(monday_20).unwrap().until, utc(2026, 12, 8, 9, 0));
        assert_eq!(q.quiet("parents", monday_20), None, "no chat kind is covered");
    }
}
