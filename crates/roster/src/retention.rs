//! How long a school keeps the archived chats of past academic years (issue
//! 21, item 6). A year's archives go once its last day is the chosen number of
//! years behind: with three years, the chats of a year that ended on
//! 31 May 2023 go on 31 May 2026. A school may also keep them for ever.

use chrono::{Months, NaiveDate};

/// A school's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Archives are never deleted.
    Off,
    /// Archives of a year go this many years after it ended.
    Years(u8),
}

impl Retention {
    /// What a school has until it chooses.
    pub const DEFAULT: Retention = Retention::Years(3);
    /// The longest a school may choose: a school career and then some.
    pub const MAX_YEARS: u8 = 25;

    /// From a number of years; `None` or 0 is "off".
    pub fn from_years(years: Option<i64>) -> Result<Retention, RetentionError> {
        match years {
            None | Some(0) => Ok(Retention::Off),
            Some(n) => u8::try_from(n)
                .ok()
                .filter(|n| (1..=Self::MAX_YEARS).contains(n))
                .map(Retention::Years)
                .ok_or(RetentionError::OutOfRange),
        }
    }

    /// As the storage column keeps it: 0 is "off".
    pub fn stored(self) -> i64 {
        match self {
            Retention::Off => 0,
            Retention::Years(n) => i64::from(n),
        }
    }

    /// The years, or `None` when off.
    pub fn years(self) -> Option<i64> {
        match self {
            Retention::Off => None,
            Retention::Years(n) => Some(i64::from(n)),
        }
    }

    /// Archives of years that ended on or before this date go `today`;
    /// `None` when nothing ever goes. (29 February counts back to 28 February.)
    pub fn cutoff(self, today: NaiveDate) -> Option<NaiveDate> {
        match self {
            Retention::Off => None,
            Retention::Years(n) => today.checked_sub_months(Months::new(12 * u32::from(n))),
        }
    }

    /// Does the archive of a year that ended on `year_end` go `today`?
    pub fn is_due(self, year_end: NaiveDate, today: NaiveDate) -> bool {
        self.cutoff(today).is_some_and(|cutoff| year_end <= cutoff)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RetentionError {
    #[error("the number of years must be between 1 and 25 (or off)")]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_else(|| panic!("{y}-{m}-{d}"))
    }

    #[test]
    fn a_years_archives_go_on_the_anniversary_of_its_end_not_a_day_earlier() {
        let three = Retention::DEFAULT;
        assert!(!three.is_due(day(2023, 5, 31), day(2026, 5, 30)));
        assert!(three.is_due(day(2023, 5, 31), day(2026, 5, 31)));
        assert!(three.is_due(day(2022, 5, 31), day(2026, 5, 30)));
    }

    #[test]
    fn the_current_year_never_goes() {
        assert!(!Retention::Years(1).is_due(day(2027, 5, 31), day(2026, 12, 7)));
    }

    #[test]
    fn off_keeps_everything_for_ever() {
        assert_eq!(Retention::Off.cutoff(day(2126, 1, 1)), None);
        assert!(!Retention::Off.is_due(day(1990, 5, 31), day(2126, 1, 1)));
    }

    #[test]
    fn a_leap_day_counts_back_to_the_last_day_of_february() {
        assert_eq!(Retention::Years(1).cutoff(day(2028, 2, 29)), Some(day(2027, 2, 28)));
    }

    #[test]
    fn zero_or_nothing_is_off_and_the_stored_form_round_trips() {
        assert_eq!(Retention::from_years(None), Ok(Retention::Off));
        assert_eq!(Retention::from_years(Some(0)), Ok(Retention::Off));
        for r in [Retention::Off, Retention::Years(1), Retention::Years(25)] {
            assert_eq!(Retention::from_years(Some(r.stored())), Ok(r));
        }
    }

    #[test]
    fn years_outside_one_to_twenty_five_are_refused_not_clamped() {
        for n in [-1, 26, 300, i64::MAX] {
            assert_eq!(Retention::from_years(Some(n)), Err(RetentionError::OutOfRange));
        }
    }
}
