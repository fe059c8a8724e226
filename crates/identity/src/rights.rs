//! A person's rights over their data (152-ФЗ; DESIGN §6 "each person can
//! download their data"): who may take a copy of whose data, how long a copy
//! stays downloadable, and whose Parta ID data a school may erase.
//!
//! A person always takes their own data. A school's administrator takes a
//! copy for a person of that school only (a request the person made to the
//! school), and erases a person's Parta ID data only once the person has left
//! the school: someone the roster still lists as active, or still enrolled in
//! a class or group, is a member whose chats still need their name.

/// A copy of someone's data is downloadable for this long after it is made.
pub const EXPORT_VALID_SECS: i64 = 24 * 3600;

/// When a copy made at `ready_at` stops being downloadable.
pub fn export_expires_at(ready_at: i64) -> i64 {
    ready_at + EXPORT_VALID_SECS
}

/// Whether a copy that expires at `expires_at` is gone at `now`.
pub fn export_expired(expires_at: i64, now: i64) -> bool {
    now >= expires_at
}

/// What the school knows of the person an administrator acts on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subject {
    /// The person has (or had) a role in the administrator's school.
    pub in_school: bool,
    /// The roster lists the person as active.
    pub active: bool,
    /// The person has an active enrollment in a class or group of the school.
    pub enrolled: bool,
    /// Their data was erased already.
    pub erased: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RightsRefusal {
    /// The person is not (and was never) a member of this school.
    #[error("the person is not a member of this school")]
    NotInSchool,
    /// Erasure asked for a person who is still a member of the school.
    #[error("the person is still enrolled in the school")]
    StillEnrolled,
    #[error("the person's data was already erased")]
    AlreadyErased,
}

/// May an administrator of the school take a copy of this person's data?
pub fn may_export_for(subject: Subject) -> Result<(), RightsRefusal> {
    if !subject.in_school {
        return Err(RightsRefusal::NotInSchool);
    }
    Ok(())
}

/// May an administrator of the school erase this person's Parta ID data?
pub fn may_erase(subject: Subject) -> Result<(), RightsRefusal> {
    may_export_for(subject)?;
    if subject.active || subject.enrolled {
        return Err(RightsRefusal::StillEnrolled);
    }
    if subject.erased {
        return Err(RightsRefusal::AlreadyErased);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn former() -> Subject {
        Subject { in_school: true, active: false, enrolled: false, erased: false }
    }

    #[test]
    fn a_copy_is_downloadable_for_a_day_and_not_a_second_longer() {
        let expires = export_expires_at(1_000);
        assert!(!export_expired(expires, 1_000 + EXPORT_VALID_SECS - 1));
        assert!(export_expired(expires, 1_000 + EXPORT_VALID_SECS));
    }

    #[test]
    fn an_administrator_exports_only_people_of_their_school() {
        assert_eq!(may_export_for(Subject { in_school: true, active: true, ..Subject::default() }), Ok(()));
        assert_eq!(may_export_for(Subject::default()), Err(RightsRefusal::NotInSchool));
    }

    #[test]
    fn a_former_member_may_be_erased() {
        assert_eq!(may_erase(former()), Ok(()));
    }

    #[test]
    fn someone_the_roster_lists_as_active_is_still_enrolled() {
        assert_eq!(may_erase(Subject { active: true, ..former() }), Err(RightsRefusal::StillEnrolled));
    }

    #[test]
    fn an_active_enrollment_keeps_a_person_in_the_school() {
        assert_eq!(may_erase(Subject { enrolled: true, ..former() }), Err(RightsRefusal::StillEnrolled));
    }

    #[test]
    fn a_person_of_another_school_is_refused_before_anything_else() {
        let stranger = Subject { in_school: false, active: true, ..former() };
        assert_eq!(may_erase(stranger), Err(RightsRefusal::NotInSchool));
    }

    #[test]
    fn erasing_twice_is_refused() {
        assert_eq!(may_erase(Subject { erased: true, ..former() }), Err(RightsRefusal::AlreadyErased));
    }
}
