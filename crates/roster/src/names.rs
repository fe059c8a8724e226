//! Parsed names: once a value is one of these types, it is valid.

use serde::{Serialize, Serializer};
use std::fmt;

/// Why a name was refused. The variants are stable: the server maps them to
/// error codes and translated messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("the value is empty")]
    Empty,
    #[error("the value is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the value contains control characters")]
    ControlCharacters,
    #[error("a class name starts with a grade from 1 to 11, then a letter or word: «5А», «10 Физмат»")]
    BadClassName,
    #[error("a login is 3–64 letters, digits or . _ - @")]
    BadLogin,
    #[error("the {0} contains «{1}»: a name has no markup characters ({MARKUP})")]
    Markup(NamePart, char),
    #[error("the {0} is longer than {1} characters")]
    PartTooLong(NamePart, usize),
}

/// Which part of a [`PersonName`] a refusal is about, so a form or an import
/// can point at the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamePart {
    Last,
    First,
    Middle,
}

impl fmt::Display for NamePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NamePart::Last => "last name",
            NamePart::First => "first name",
            NamePart::Middle => "middle name",
        })
    }
}

/// Characters a name is refused for: each has a meaning in the markup or code
/// a name may be pasted into, and no Russian or English name needs one.
/// `<` `>` open and close HTML tags, `&` starts an entity, `"` and `` ` `` end an
/// attribute value or a script's string, `=` sets an attribute where a value
/// lands unquoted, `{` `}` are template expressions, `\` an escape.
/// Deliberately allowed: the apostrophe (`'`, `’`: O'Brien, Д'Артаньян), the
/// hyphen (Римская-Корсакова), the dot (initials) and parentheses (a maiden
/// name in brackets), which real rosters contain.
pub const MARKUP: &str = "<>&\"`={}\\";

const NAME_MAX: usize = 100;
const CLASS_LABEL_MAX: usize = 15;

fn clean(raw: &str, max: usize) -> Result<String, NameError> {
    let collapsed = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return Err(NameError::Empty);
    }
    if collapsed.chars().any(char::is_control) {
        return Err(NameError::ControlCharacters);
    }
    if collapsed.chars().count() > max {
        return Err(NameError::TooLong { max });
    }
    Ok(collapsed)
}

fn name_part(raw: &str, part: NamePart) -> Result<String, NameError> {
    // Which part is too long, so the form can point at it.
    let name = clean(raw, NAME_MAX).map_err(|e| match e {
        NameError::TooLong { max } => NameError::PartTooLong(part, max),
        other => other,
    })?;
    match name.chars().find(|c| MARKUP.contains(*c)) {
        Some(c) => Err(NameError::Markup(part, c)),
        None => Ok(name),
    }
}

/// A person's name as Russian schools write it: last name, first name and an
/// optional patronymic ("middle name").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PersonName {
    last: String,
    first: String,
    middle: Option<String>,
}

impl PersonName {
    pub fn parse(last: &str, first: &str, middle: Option<&str>) -> Result<Self, NameError> {
        let middle = match middle.map(str::trim) {
            None | Some("") => None,
            Some(m) => Some(name_part(m, NamePart::Middle)?),
        };
        Ok(PersonName { last: name_part(last, NamePart::Last)?, first: name_part(first, NamePart::First)?, middle })
    }

    pub fn last(&self) -> &str {
        &self.last
    }

    pub fn first(&self) -> &str {
        &self.first
    }

    pub fn middle(&self) -> Option<&str> {
        self.middle.as_deref()
    }

    /// What a search for this person matches against: the full name and the
    /// login, lower-cased, with «ё» read as «е» the way people type it.
    pub fn search_key(&self, login: Option<&str>) -> String {
        search_text(&format!("{self} {}", login.unwrap_or_default()))
    }
}

/// Normalises search input the same way as [`PersonName::search_key`].
pub fn search_text(raw: &str) -> String {
    raw.trim().to_lowercase().replace('ё', "е")
}

/// "Иванова Мария Петровна" — the order Russian rosters use.
impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.last, self.first)?;
        if let Some(m) = &self.middle {
            write!(f, " {m}")?;
        }
        Ok(())
    }
}

/// A class ("5А", "10 Физмат"): a grade from 1 to 11 plus a letter or a word of up
/// to 15 characters. A single letter is upper-cased and written without a space,
/// so "5 а", "5а" and "5А" are one class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClassName {
    grade: u8,
    label: String,
}

impl ClassName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let raw = clean(raw, 2 + 1 + CLASS_LABEL_MAX)?;
        let digits: String = raw.chars().take_while(char::is_ascii_digit).collect();
        let grade: u8 = digits.parse().map_err(|_| NameError::BadClassName)?;
        if !(1..=11).contains(&grade) {
            return Err(NameError::BadClassName);
        }
        let label = raw[digits.len()..].trim_start_matches([' ', '-']).trim();
        let count = label.chars().count();
        if count == 0 || count > CLASS_LABEL_MAX || !label.chars().all(|c| c.is_alphanumeric() || c == ' ' || c == '-')
        {
            return Err(NameError::BadClassName);
        }
        let label = if count == 1 { label.to_uppercase() } else { label.to_string() };
        Ok(ClassName { grade, label })
    }

    pub fn grade(&self) -> u8 {
        self.grade
    }

    pub fn label(&self) -> &str {
        &self.label
    }
}

impl fmt::Display for ClassName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.label.chars().count() == 1 {
            write!(f, "{}{}", self.grade, self.label)
        } else {
            write!(f, "{} {}", self.grade, self.label)
        }
    }
}

impl Serialize for ClassName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A school-account login: case-insensitive, so stored lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let login = raw.trim().to_lowercase();
        let len = login.chars().count();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if !(3..=64).contains(&len) || !login.chars().all(allowed) {
            return Err(NameError::BadLogin);
        }
        Ok(Login(login))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text title (an organisation, a subject, an academic year).
pub fn parse_title(raw: &str) -> Result<String, NameError> {
    clean(raw, 200)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn class_names_are_normalised_the_way_teachers_write_them() {
        for (raw, shown) in [("5А", "5А"), ("5а", "5А"), ("5 а", "5А"), ("11-Б", "11Б"), ("10 Физмат", "10 Физмат")]
        {
            assert_eq!(ClassName::parse(raw).map(|c| c.to_string()), Ok(shown.to_string()), "{raw}");
        }
        assert_eq!(ClassName::parse("10 Физмат").map(|c| c.grade()), Ok(10));
    }

    #[test]
    fn class_names_outside_grades_1_to_11_or_without_label_are_refused() {
        for raw in ["", "А", "0А", "12А", "5", "5 ", "5 очень-длинное-название", "5А!"] {
            assert!(ClassName::parse(raw).is_err(), "{raw:?} must be refused");
        }
    }

    #[test]
    fn person_names_trim_and_drop_blank_middle_names() {
        let name = PersonName::parse("  Иванова ", "Мария", Some("  ")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(name.to_string(), "Иванова Мария");
        assert_eq!(name.middle(), None);
        assert_eq!(PersonName::parse("", "Мария", None), Err(NameError::Empty));
        assert_eq!(PersonName::parse("Ив\u{7}анова", "Мария", None), Err(NameError::ControlCharacters));
        assert_eq!(
            PersonName::parse(&"я".repeat(101), "Мария", None),
            Err(NameError::PartTooLong(NamePart::Last, 100))
        );
        assert_eq!(
            PersonName::parse("Королёва", "Мария", Some(&"я".repeat(101))),
            Err(NameError::PartTooLong(NamePart::Middle, 100))
        );
    }

    #[test]
    fn markup_in_any_part_of_a_name_is_refused_naming_that_part() {
        assert_eq!(
            PersonName::parse("<img src=x onerror=alert(1)>", "Мария", None),
            Err(NameError::Markup(NamePart::Last, '<'))
        );
        assert_eq!(PersonName::parse("Иванова", "{{7*7}}", None), Err(NameError::Markup(NamePart::First, '{')));
        assert_eq!(PersonName::parse("Иванова", "Мария", Some("a\"b")), Err(NameError::Markup(NamePart::Middle, '"')));
        for c in MARKUP.chars() {
            let refused = PersonName::parse(&format!("Ива{c}нова"), "Мария", None);
            assert_eq!(refused, Err(NameError::Markup(NamePart::Last, c)), "{c}");
        }
    }

    #[test]
    fn names_real_rosters_hold_are_accepted() {
        for (last, first, middle) in [
            ("Римская-Корсакова", "Анна-Мария", Some("Петровна")),
            ("O'Brien", "Seán", None),
            ("Д’Артаньян", "Шарль", None),
            ("Ли", "Дж.", Some("оглы")),
            ("Иванова (Петрова)", "Алёна", None),
            ("Ғабдуллина", "Әлия", Some("Рөстәмовна")),
        ] {
            assert!(PersonName::parse(last, first, middle).is_ok(), "{last} {first}");
        }
    }

    proptest! {
        #[test]
        fn any_name_of_letters_spaces_hyphens_and_apostrophes_parses(
            last in "[А-Яа-яЁёA-Za-z][А-Яа-яЁёA-Za-z '’-]{0,40}",
            first in "[А-Яа-яЁёA-Za-z][А-Яа-яЁёA-Za-z'’.-]{0,40}",
        ) {
            prop_assert!(PersonName::parse(&last, &first, None).is_ok());
        }
    }

    #[test]
    fn search_keys_ignore_case_and_yo() {
        let name = PersonName::parse("Королёва", "Алёна", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(name.search_key(Some("koroleva.a")), "королева алена koroleva.a");
        assert_eq!(search_text(" КОРОЛЁВА "), "королева");
    }

    #[test]
    fn logins_are_case_insensitive_and_limited() {
        assert_eq!(Login::parse(" Ivanova.M ").map(|l| l.as_str().to_string()), Ok("ivanova.m".into()));
        assert_eq!(Login::parse("ab"), Err(NameError::BadLogin));
        assert_eq!(Login::parse("a b c"), Err(NameError::BadLogin));
    }

    proptest! {
        #[test]
        fn a_parsed_class_name_parses_back_to_itself(grade in 1u8..=11, label in "[а-яА-Яa-z]{1,15}") {
            let first = ClassName::parse(&format!("{grade}{label}")).unwrap_or_else(|e| panic!("{e}"));
            prop_assert_eq!(ClassName::parse(&first.to_string()), Ok(first));
        }
    }
}
