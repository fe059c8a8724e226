//! Reports and moderation (DESIGN §6, "oversight is possible but never
//! hidden"): any member reports a message with a [`ReportReason`]; the
//! school's moderators — its administrators and the staff the director names
//! responsible for safeguarding — decide once what happens.
//!
//! The rules:
//!
//! - **Moderating** ([`may_moderate`]): an administrator of the school, or a
//!   person the school named responsible for safeguarding; anyone else gets
//!   [`ModerationRefusal::NotModerator`].
//! - **Naming safeguarding staff** ([`may_name_safeguarding`]): only an
//!   administrator, and only an employee can be named
//!   ([`ModerationRefusal::NotStaff`]): a parent or a student never moderates.
//! - **Reporting** ([`may_report`]): at most [`REPORTS_PER_HOUR`] reports per
//!   person per hour ([`ModerationRefusal::TooManyReports`]): a flood of
//!   reports would bury the real ones.
//! - **Deciding** ([`decide`]): once per report ([`ModerationRefusal::Closed`]);
//!   hide the message, mute its author for a while, remove the author from the
//!   chat — or nothing of these, which dismisses the report. Nobody is removed
//!   from a direct chat ([`ModerationRefusal::DirectChat`]): it has only two
//!   people; muting is how a direct chat is quietened.
//! - **Oversight** ([`may_oversee`]): a moderator opens a chat of the school
//!   read-only, with a reason (the caller logs it and tells the members how
//!   often it happened); a direct chat only when it involves a student or was
//!   reported — adults' direct chats are otherwise never opened
//!   ([`ModerationRefusal::AdultsOnly`]).

use roster::Role;

/// Why a message is reported; the same strings as the storage column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportReason {
    Bullying,
    Inappropriate,
    Danger,
    Spam,
    Other,
}

impl ReportReason {
    pub const ALL: [ReportReason; 5] = [
        ReportReason::Bullying,
        ReportReason::Inappropriate,
        ReportReason::Danger,
        ReportReason::Spam,
        ReportReason::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportReason::Bullying => "bullying",
            ReportReason::Inappropriate => "inappropriate",
            ReportReason::Danger => "danger",
            ReportReason::Spam => "spam",
            ReportReason::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ReportReason::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Reports one person may file in an hour.
pub const REPORTS_PER_HOUR: i64 = 10;
/// The longest mute: thirty days, in minutes.
pub const MAX_MUTE_MINUTES: i64 = 30 * 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ModerationRefusal {
    #[error("only the school's administrators and safeguarding staff moderate")]
    NotModerator,
    #[error("only an employee can be responsible for safeguarding")]
    NotStaff,
    #[error("too many reports in an hour")]
    TooManyReports,
    #[error("the report is already decided")]
    Closed,
    #[error("nobody is removed from a direct chat")]
    DirectChat,
    #[error("a direct chat between adults is opened only after a report")]
    AdultsOnly,
}

/// Who acts, in the school the report belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModeratorFacts {
    pub roles: Vec<Role>,
    /// Named responsible for safeguarding by the director.
    pub safeguarding: bool,
}

pub fn may_moderate(who: &ModeratorFacts) -> Result<(), ModerationRefusal> {
    if who.safeguarding || who.roles.contains(&Role::Administrator) {
        Ok(())
    } else {
        Err(ModerationRefusal::NotModerator)
    }
}

/// `actor` names (or un-names) `person`, whose roles are `person_roles`.
pub fn may_name_safeguarding(actor: &[Role], person_roles: &[Role]) -> Result<(), ModerationRefusal> {
    if !actor.contains(&Role::Administrator) {
        return Err(ModerationRefusal::NotModerator);
    }
    if !person_roles.iter().any(|r| r.is_employee()) {
        return Err(ModerationRefusal::NotStaff);
    }
    Ok(())
}

/// `recent`: the reports the person filed in the last hour.
pub fn may_report(recent: i64) -> Result<(), ModerationRefusal> {
    if recent >= REPORTS_PER_HOUR { Err(ModerationRefusal::TooManyReports) } else { Ok(()) }
}

/// What a moderator chose; none of it dismisses the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decision {
    pub hide: bool,
    /// Minutes, 1..=[`MAX_MUTE_MINUTES`] (clamped).
    pub mute_minutes: Option<i64>,
    pub remove: bool,
}

/// The report's state when the decision comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportFacts {
    pub open: bool,
    pub direct_chat: bool,
}

/// What becomes of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Dismissed,
    Actioned(Decision),
}

pub fn decide(report: ReportFacts, decision: Decision) -> Result<Outcome, ModerationRefusal> {
    if !report.open {
        return Err(ModerationRefusal::Closed);
    }
    if decision.remove && report.direct_chat {
        return Err(ModerationRefusal::DirectChat);
    }
    let mute_minutes = decision.mute_minutes.map(|m| m.clamp(1, MAX_MUTE_MINUTES));
    let decision = Decision { mute_minutes, ..decision };
    if decision == Decision::default() { Ok(Outcome::Dismissed) } else { Ok(Outcome::Actioned(decision)) }
}

/// The chat a moderator asks to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OversightFacts {
    pub direct: bool,
    /// One of its members is a student of the school.
    pub involves_student: bool,
    /// A message of it was reported.
    pub reported: bool,
}

pub fn may_oversee(who: &ModeratorFacts, chat: OversightFacts) -> Result<(), ModerationRefusal> {
    may_moderate(who)?;
    if chat.direct && !chat.involves_student && !chat.reported {
        return Err(ModerationRefusal::AdultsOnly);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ModerationRefusal::*;

    #[test]
    fn reason_names_round_trip() {
        for r in ReportReason::ALL {
            assert_eq!(ReportReason::parse(r.as_str()), Some(r));
        }
        assert_eq!(ReportReason::parse("boring"), None);
    }

    #[test]
    fn administrators_and_safeguarding_staff_moderate_nobody_else() {
        let admin = ModeratorFacts { roles: vec![Role::Administrator], safeguarding: false };
        let officer = ModeratorFacts { roles: vec![Role::Teacher], safeguarding: true };
        let teacher = ModeratorFacts { roles: vec![Role::Teacher], safeguarding: false };
        let stranger = ModeratorFacts::default();
        assert_eq!(may_moderate(&admin), Ok(()));
        assert_eq!(may_moderate(&officer), Ok(()));
        assert_eq!(may_moderate(&teacher), Err(NotModerator));
        assert_eq!(may_moderate(&stranger), Err(NotModerator));
    }

    #[test]
    fn only_an_administrator_names_and_only_staff_are_named() {
        let admin = [Role::Administrator];
        assert_eq!(may_name_safeguarding(&admin, &[Role::Teacher]), Ok(()));
        assert_eq!(may_name_safeguarding(&admin, &[Role::OtherStaff, Role::Guardian]), Ok(()));
        assert_eq!(may_name_safeguarding(&admin, &[Role::Guardian]), Err(NotStaff));
        assert_eq!(may_name_safeguarding(&admin, &[Role::Student]), Err(NotStaff));
        assert_eq!(may_name_safeguarding(&[Role::Teacher], &[Role::Teacher]), Err(NotModerator));
    }

    #[test]
    fn the_eleventh_report_in_an_hour_is_refused() {
        assert_eq!(may_report(REPORTS_PER_HOUR - 1), Ok(()));
        assert_eq!(may_report(REPORTS_PER_HOUR), Err(TooManyReports));
    }

    #[test]
    fn a_decision_is_taken_once_and_nothing_chosen_dismisses() {
        let open = ReportFacts { open: true, direct_chat: false };
        let hide = Decision { hide: true, ..Decision::default() };
        assert_eq!(decide(open, Decision::default()), Ok(Outcome::Dismissed));
        assert_eq!(decide(open, hide), Ok(Outcome::Actioned(hide)));
        assert_eq!(decide(ReportFacts { open: false, ..open }, hide), Err(Closed));
        let long = Decision { mute_minutes: Some(i64::MAX), ..Decision::default() };
        let clamped = Decision { mute_minutes: Some(MAX_MUTE_MINUTES), ..Decision::default() };
        assert_eq!(decide(open, long), Ok(Outcome::Actioned(clamped)));
    }

    #[test]
    fn nobody_is_removed_from_a_direct_chat_but_may_be_muted() {
        let direct = ReportFacts { open: true, direct_chat: true };
        let remove = Decision { remove: true, ..Decision::default() };
        let mute = Decision { mute_minutes: Some(60), ..Decision::default() };
        assert_eq!(decide(direct, remove), Err(DirectChat));
        assert_eq!(decide(direct, mute), Ok(Outcome::Actioned(mute)));
    }

    #[test]
    fn adults_direct_chats_are_opened_only_after_a_report() {
        let admin = ModeratorFacts { roles: vec![Role::Administrator], safeguarding: false };
        let group = OversightFacts { direct: false, involves_student: false, reported: false };
        let adults = OversightFacts { direct: true, ..group };
        assert_eq!(may_oversee(&admin, group), Ok(()));
        assert_eq!(may_oversee(&admin, adults), Err(AdultsOnly));
        assert_eq!(may_oversee(&admin, OversightFacts { reported: true, ..adults }), Ok(()));
        assert_eq!(may_oversee(&admin, OversightFacts { involves_student: true, ..adults }), Ok(()));
        assert_eq!(may_oversee(&ModeratorFacts::default(), group), Err(NotModerator));
    }
}
