//! Parsing of single field values, with the tolerances docs/oneroster.md promises.

use chrono::NaiveDate;
use roster::Role;
use roster::import::{EnrollmentRole, Mode};

/// `true`/`false` in any case, `1`/`0`, `yes`/`no`.
pub(crate) fn boolean(raw: &str) -> Option<bool> {
    const TRUE: [&str; 3] = ["true", "1", "yes"];
    const FALSE: [&str; 3] = ["false", "0", "no"];
    if TRUE.iter().any(|t| raw.eq_ignore_ascii_case(t)) {
        Some(true)
    } else if FALSE.iter().any(|t| raw.eq_ignore_ascii_case(t)) {
        Some(false)
    } else {
        None
    }
}

/// A module switch: `on`/`off`, or any boolean spelling.
pub(crate) fn switch(raw: &str) -> Option<bool> {
    if raw.eq_ignore_ascii_case("on") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("off") {
        Some(false)
    } else {
        boolean(raw)
    }
}

/// `2023-09-01` or `01.09.2023`. Slashes are refused: `1/05/2023` is January in one
/// country and May in another, and guessing wrong silently moves a whole term.
pub(crate) fn date(raw: &str) -> Result<NaiveDate, String> {
    if raw.contains('/') {
        return Err(format!(
            "the date \"{raw}\" is ambiguous (is it January or May?); write it as 2023-09-01 or 01.09.2023"
        ));
    }
    let malformed = || format!("\"{raw}\" is not a date; write it as 2023-09-01 or 01.09.2023");
    let number = |part: &str, min_len: usize, max_len: usize| -> Option<u32> {
        if part.len() < min_len || part.len() > max_len || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = if let Some((y, rest)) = raw.split_once('-') {
        let (m, d) = rest.split_once('-').ok_or_else(malformed)?;
        (number(y, 4, 4), number(m, 1, 2), number(d, 1, 2))
    } else if let Some((d, rest)) = raw.split_once('.') {
        let (m, y) = rest.split_once('.').ok_or_else(malformed)?;
        (number(y, 4, 4), number(m, 1, 2), number(d, 1, 2))
    } else {
        return Err(malformed());
    };
    let (Some(year), Some(month), Some(day)) = (year, month, day) else {
        return Err(malformed());
    };
    let year = i32::try_from(year).map_err(|_| malformed())?;
    NaiveDate::from_ymd_opt(year, month, day).ok_or_else(|| format!("{raw} is not a day of the calendar"))
}

/// OneRoster's `status`. Returns whether the row is marked deleted. A bulk file
/// usually leaves it blank; a delta file must say what each row is.
pub(crate) fn status(raw: &str, mode: Mode) -> Result<bool, String> {
    if raw.is_empty() {
        return match mode {
            Mode::Delta => Err("a delta file needs a status on every row: active or tobedeleted".into()),
            Mode::Bulk | Mode::Absent => Ok(false),
        };
    }
    if raw.eq_ignore_ascii_case("active") {
        Ok(false)
    } else if raw.eq_ignore_ascii_case("tobedeleted") {
        Ok(true)
    } else {
        Err(format!("unknown status \"{raw}\"; expected active or tobedeleted"))
    }
}

const PERSON_ROLES: [(&str, Role); 13] = [
    ("administrator", Role::Administrator),
    ("siteAdministrator", Role::Administrator),
    ("districtAdministrator", Role::Administrator),
    ("systemAdministrator", Role::Administrator),
    ("principal", Role::Administrator),
    ("teacher", Role::Teacher),
    ("aide", Role::OtherStaff),
    ("counselor", Role::OtherStaff),
    ("proctor", Role::OtherStaff),
    ("student", Role::Student),
    ("parent", Role::Guardian),
    ("guardian", Role::Guardian),
    ("relative", Role::Guardian),
];

/// A person's role in an organisation (users.csv 1.1, roles.csv 1.2).
pub(crate) fn person_role(raw: &str) -> Option<Role> {
    PERSON_ROLES.iter().find(|(name, _)| raw.eq_ignore_ascii_case(name)).map(|&(_, role)| role)
}

pub(crate) fn unknown_role(raw: &str) -> String {
    format!("unknown role \"{raw}\"; expected one of: {}", PERSON_ROLES.map(|(name, _)| name).join(", "))
}

/// What an enrollment's role means to Parta: a student or a teacher is imported;
/// any other known role (an aide in a class) is left out.
pub(crate) enum EnrollmentKind {
    Import(EnrollmentRole),
    Skip,
}

pub(crate) fn enrollment_role(raw: &str) -> Option<EnrollmentKind> {
    match person_role(raw)? {
        Role::Student => Some(EnrollmentKind::Import(EnrollmentRole::Student)),
        Role::Teacher => Some(EnrollmentKind::Import(EnrollmentRole::Teacher)),
        _ => Some(EnrollmentKind::Skip),
    }
}

/// The values of a multi-valued field (`orgSourcedIds`, `agentSourcedIds`,
/// `termSourcedIds`): comma-separated inside the field, whatever the file's delimiter.
pub(crate) fn list(raw: &str) -> impl Iterator<Item = &str> {
    raw.split(',').map(str::trim).filter(|v| !v.is_empty())
}

/// Levenshtein distance without regard to ASCII case, for "did you mean" hints.
pub(crate) fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `name`, if it is close enough to be a plausible typo.
pub(crate) fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_accept_any_case_digits_and_yes_no() {
        for raw in ["TRUE", "true", "True", "1", "yes", "YES"] {
            assert_eq!(boolean(raw), Some(true), "{raw}");
        }
        for raw in ["FALSE", "false", "0", "no"] {
            assert_eq!(boolean(raw), Some(false), "{raw}");
        }
        assert_eq!(boolean("maybe"), None);
        assert_eq!(switch("OFF"), Some(false));
        assert_eq!(switch("on"), Some(true));
    }

    #[test]
    fn dates_are_iso_or_russian_dotted() {
        let first_september = NaiveDate::from_ymd_opt(2023, 9, 1);
        assert_eq!(date("2023-09-01").ok(), first_september);
        assert_eq!(date("01.09.2023").ok(), first_september);
        assert_eq!(date("1.9.2023").ok(), first_september);
    }

    #[test]
    fn dates_with_slashes_are_refused_as_ambiguous() {
        let err = date("1/05/2023").unwrap_err();
        assert!(err.contains("ambiguous"), "{err}");
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused() {
        for raw in ["2023-02-30", "31.04.2023", "2023", "09-01-23", "2023-9-1x", "01.09.23", "next monday"] {
            assert!(date(raw).is_err(), "{raw}");
        }
    }

    #[test]
    fn delta_rows_need_a_status_and_bulk_rows_do_not() {
        assert_eq!(status("", Mode::Bulk), Ok(false));
        assert!(status("", Mode::Delta).is_err());
        assert_eq!(status("ToBeDeleted", Mode::Delta), Ok(true));
        assert_eq!(status("active", Mode::Delta), Ok(false));
        assert!(status("gone", Mode::Bulk).is_err());
    }

    #[test]
    fn oneroster_roles_map_to_parta_roles() {
        assert_eq!(person_role("principal"), Some(Role::Administrator));
        assert_eq!(person_role("SiteAdministrator"), Some(Role::Administrator));
        assert_eq!(person_role("aide"), Some(Role::OtherStaff));
        assert_eq!(person_role("relative"), Some(Role::Guardian));
        assert_eq!(person_role("janitor"), None);
        assert!(matches!(enrollment_role("aide"), Some(EnrollmentKind::Skip)));
        assert!(matches!(enrollment_role("Teacher"), Some(EnrollmentKind::Import(EnrollmentRole::Teacher))));
        assert!(enrollment_role("janitor").is_none());
    }

    #[test]
    fn suggestions_find_close_names_only() {
        assert_eq!(distance("givenName", "givenNme"), 1);
        assert_eq!(closest("givenName", ["familyName", "givenNme"]), Some("givenNme"));
        assert_eq!(closest("givenName", ["sourcedId", "status"]), None);
    }
}
