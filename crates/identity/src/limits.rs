//! Whether another SMS may go out now (DESIGN §3), and whether a password
//! may be tried. The storage layer counts sends and failed tries in the
//! database (so limits hold across restarts and nodes); this decides from its
//! counts.

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

/// Failed sign-ins are counted over this window.
pub const FAILURE_WINDOW_SECS: i64 = 15 * 60;
/// Wrong passwords for one login from one network address.
pub const LOGIN_FROM_ADDRESS_MAX: u32 = 10;
/// Wrong passwords from one address, whatever the logins: a spray.
pub const ADDRESS_MAX: u32 = 30;
/// Wrong passwords for one login from everywhere: a guess spread over many
/// addresses. Only then is the password closed for its owner too — who can
/// still sign in by a code sent to their phone.
pub const LOGIN_ANYWHERE_MAX: u32 = 50;

/// Failed password tries in the last [`FAILURE_WINDOW_SECS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    pub login_from_address: u32,
    pub from_address: u32,
    pub login_anywhere: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Lockout {
    #[error("too many wrong passwords for this login from this network")]
    LoginFromAddress,
    #[error("too many wrong passwords from this network")]
    Address,
    #[error("too many wrong passwords for this login; a code by SMS still signs in")]
    Login,
}

/// Counting per login *and* per address keeps a lock from becoming a weapon:
/// someone guessing a known login from their own network locks only
/// themselves out of it, and the owner, elsewhere, still signs in.
pub fn may_try_password(failures: &Failures) -> Result<(), Lockout> {
    if failures.login_from_address >= LOGIN_FROM_ADDRESS_MAX {
        Err(Lockout::LoginFromAddress)
    } else if failures.from_address >= ADDRESS_MAX {
        Err(Lockout::Address)
    } else if failures.login_anywhere >= LOGIN_ANYWHERE_MAX {
        Err(Lockout::Login)
    } else {
        Ok(())
    }
}

/// The failure that closes the password for everyone: the moment to tell its
/// owner that somebody is guessing (once, not at every later try).
pub fn closes_login(failures_before: &Failures) -> bool {
    failures_before.login_anywhere + 1 == LOGIN_ANYWHERE_MAX
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

    #[test]
    fn a_login_guessed_from_one_network_is_locked_only_there() {
        let guessed = Failures { login_from_address: 10, from_address: 10, login_anywhere: 10 };
        assert_eq!(may_try_password(&guessed), Err(Lockout::LoginFromAddress));
        let owner_elsewhere = Failures { login_from_address: 0, from_address: 0, login_anywhere: 10 };
        assert_eq!(may_try_password(&owner_elsewhere), Ok(()));
    }

    #[test]
    fn a_network_spraying_many_logins_is_locked() {
        let spray = Failures { login_from_address: 1, from_address: 30, login_anywhere: 1 };
        assert_eq!(may_try_password(&spray), Err(Lockout::Address));
    }

    #[test]
    fn a_guess_spread_over_many_networks_closes_the_password_and_tells_the_owner_once() {
        let spread = Failures { login_from_address: 0, from_address: 0, login_anywhere: 50 };
        assert_eq!(may_try_password(&spread), Err(Lockout::Login));
        assert!(closes_login(&Failures { login_anywhere: 49, ..Failures::default() }));
        assert!(!closes_login(&Failures { login_anywhere: 48, ..Failures::default() }));
        assert!(!closes_login(&Failures { login_anywhere: 50, ..Failures::default() }));
    }
}
