//! Whether another SMS may go out now (DESIGN §3). The storage layer counts
//! sends in the database; this decides from its counts.

use crate::code::{IP_SENDS_PER_HOUR, PHONE_SENDS_PER_HOUR, RESEND_COOLDOWN};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendHistory {
    /// Unix seconds of the last code sent to this phone.
    pub last_sent_to_phone: Option<i64>,
    pub sends_to_phone_last_hour: u32,
    pub sends_from_ip_last_hour: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendRefusal {
    #[error("a code was sent a moment ago; a new one can be requested in {retry_after_secs} s")]
    CoolDown { retry_after_secs: u64 },
    #[error("too many codes were sent to this number in the last hour")]
    PhoneHourly,
    #[error("too many codes were requested from this network in the last hour")]
    IpHourly,
}

pub fn may_send(history: &SendHistory, now: i64) -> Result<(), SendRefusal> {
    let cooldown = RESEND_COOLDOWN.as_secs();
    if let Some(last) = history.last_sent_to_phone {
        // A clock that went backwards (last > now) still waits one full cool-down, no more.
        let elapsed = u64::try_from(now.saturating_sub(last)).unwrap_or(0);
        if elapsed < cooldown {
            return Err(SendRefusal::CoolDown { retry_after_secs: cooldown - elapsed });
        }
    }
    if history.sends_to_phone_last_hour >= PHONE_SENDS_PER_HOUR {
        return Err(SendRefusal::PhoneHourly);
    }
    if history.sends_from_ip_last_hour >= IP_SENDS_PER_HOUR {
        return Err(SendRefusal::IpHourly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;

    #[test]
    fn a_first_send_is_allowed() {
        assert_eq!(may_send(&SendHistory::default(), NOW), Ok(()));
    }

    #[test]
    fn resend_is_refused_within_sixty_seconds_with_the_time_left() {
        let history = SendHistory { last_sent_to_phone: Some(NOW - 15), ..Default::default() };
        assert_eq!(may_send(&history, NOW), Err(SendRefusal::CoolDown { retry_after_secs: 45 }));
        let history = SendHistory { last_sent_to_phone: Some(NOW), ..Default::default() };
        assert_eq!(may_send(&history, NOW), Err(SendRefusal::CoolDown { retry_after_secs: 60 }));
    }

    #[test]
    fn resend_is_allowed_after_sixty_seconds() {
        let history =
            SendHistory { last_sent_to_phone: Some(NOW - 60), sends_to_phone_last_hour: 1, ..Default::default() };
        assert_eq!(may_send(&history, NOW), Ok(()));
    }

    #[test]
    fn a_clock_that_went_backwards_waits_one_cool_down() {
        let history = SendHistory { last_sent_to_phone: Some(NOW + 1000), ..Default::default() };
        assert_eq!(may_send(&history, NOW), Err(SendRefusal::CoolDown { retry_after_secs: 60 }));
    }

    #[test]
    fn the_sixth_send_to_a_phone_within_an_hour_is_refused() {
        let history =
            SendHistory { last_sent_to_phone: Some(NOW - 600), sends_to_phone_last_hour: 4, ..Default::default() };
        assert_eq!(may_send(&history, NOW), Ok(()));
        let history = SendHistory { sends_to_phone_last_hour: 5, ..history };
        assert_eq!(may_send(&history, NOW), Err(SendRefusal::PhoneHourly));
    }

    #[test]
    fn the_twenty_first_send_from_an_address_within_an_hour_is_refused() {
        let history = SendHistory { sends_from_ip_last_hour: 19, ..Default::default() };
        assert_eq!(may_send(&history, NOW), Ok(()));
        let history = SendHistory { sends_from_ip_last_hour: 20, ..Default::default() };
        assert_eq!(may_send(&history, NOW), Err(SendRefusal::IpHourly));
    }
}
