//! Scheduled messages («Отправить позже», issue 19): a message kept by the
//! server and sent at a chosen time as if its author sent it then. The rules
//! here are about the schedule only; whether the author may post at all is
//! asked of [`crate::permissions`] twice — when it is scheduled, and again at
//! the moment it is sent, because a person may leave a chat, or a chat become
//! read-only, in between.
//!
//! - The time is not in the past and at most a year ahead.
//! - A person has at most [`MAX_PENDING`] messages waiting, in all chats.
//! - Only a pending message is edited or cancelled; once the server has taken
//!   it to send (`sending`), it goes out or fails, and then it is history.

/// The furthest ahead a message may be scheduled: a school year's plans, not
/// a mailbox for the years after.
pub const MAX_AHEAD_SECS: i64 = 365 * 24 * 3600;
/// How many messages one person may have waiting: plenty for a teacher's
/// week of announcements, and a bound on what one account can pile up.
pub const MAX_PENDING: i64 = 100;

/// Where a scheduled message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledState {
    /// Waiting for its time; its author may still edit or cancel it.
    Pending,
    /// Taken by the server to be sent now (after a crash, sent again with
    /// the same client id, so at most once).
    Sending,
    Sent,
    /// Its author could no longer post there when its time came.
    Failed,
    Cancelled,
}

impl ScheduledState {
    pub fn parse(raw: &str) -> Option<ScheduledState> {
        Some(match raw {
            "pending" => ScheduledState::Pending,
            "sending" => ScheduledState::Sending,
            "sent" => ScheduledState::Sent,
            "failed" => ScheduledState::Failed,
            "cancelled" => ScheduledState::Cancelled,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ScheduledState::Pending => "pending",
            ScheduledState::Sending => "sending",
            ScheduledState::Sent => "sent",
            ScheduledState::Failed => "failed",
            ScheduledState::Cancelled => "cancelled",
        }
    }
}

/// Why a schedule, or a change of one, was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleRefusal {
    #[error("the time to send is in the past")]
    InPast,
    #[error("the time to send is more than a year ahead")]
    TooFar,
    #[error("too many messages are waiting to be sent")]
    TooMany,
    #[error("the message is no longer waiting: it was sent, failed or cancelled")]
    NotPending,
}

/// A time to send at, as of `now`: not before it, at most a year after.
pub fn check_send_at(send_at: i64, now: i64) -> Result<(), ScheduleRefusal> {
    if send_at < now {
        return Err(ScheduleRefusal::InPast);
    }
    if send_at - now > MAX_AHEAD_SECS {
        return Err(ScheduleRefusal::TooFar);
    }
    Ok(())
}

/// One more waiting message for a person who has `pending` already.
pub fn may_schedule(pending: i64) -> Result<(), ScheduleRefusal> {
    if pending >= MAX_PENDING { Err(ScheduleRefusal::TooMany) } else { Ok(()) }
}

/// An edit or a cancellation of a message in `state`.
pub fn may_change(state: ScheduledState) -> Result<(), ScheduleRefusal> {
    match state {
        ScheduledState::Pending => Ok(()),
        _ => Err(ScheduleRefusal::NotPending),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_time_from_now_to_a_year_ahead_is_accepted() {
        assert_eq!(check_send_at(NOW, NOW), Ok(()));
        assert_eq!(check_send_at(NOW + 60, NOW), Ok(()));
        assert_eq!(check_send_at(NOW + MAX_AHEAD_SECS, NOW), Ok(()));
    }

    #[test]
    fn a_time_in_the_past_is_refused() {
        assert_eq!(check_send_at(NOW - 1, NOW), Err(ScheduleRefusal::InPast));
        assert_eq!(check_send_at(0, NOW), Err(ScheduleRefusal::InPast));
    }

    #[test]
    fn a_time_over_a_year_ahead_is_refused() {
        assert_eq!(check_send_at(NOW + MAX_AHEAD_SECS + 1, NOW), Err(ScheduleRefusal::TooFar));
        assert_eq!(check_send_at(i64::MAX, NOW), Err(ScheduleRefusal::TooFar));
    }

    #[test]
    fn a_person_has_at_most_a_hundred_waiting() {
        assert_eq!(may_schedule(0), Ok(()));
        assert_eq!(may_schedule(MAX_PENDING - 1), Ok(()));
        assert_eq!(may_schedule(MAX_PENDING), Err(ScheduleRefusal::TooMany));
    }

    #[test]
    fn only_a_pending_message_is_edited_or_cancelled() {
        assert_eq!(may_change(ScheduledState::Pending), Ok(()));
        for state in [ScheduledState::Sending, ScheduledState::Sent, ScheduledState::Failed, ScheduledState::Cancelled]
        {
            assert_eq!(may_change(state), Err(ScheduleRefusal::NotPending), "{state:?}");
        }
    }

    #[test]
    fn states_read_back_what_they_write() {
        for state in [
            ScheduledState::Pending,
            ScheduledState::Sending,
            ScheduledState::Sent,
            ScheduledState::Failed,
            ScheduledState::Cancelled,
        ] {
            assert_eq!(ScheduledState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ScheduledState::parse("later"), None);
    }
}
