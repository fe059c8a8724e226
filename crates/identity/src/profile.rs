//! The "about me" step of linking (DESIGN §3): last, first and optional middle
//! name, pre-filled from the roster and edited by the person.

use roster::{NameError, PersonName};
use serde::{Deserialize, Serialize};

/// The form as submitted; [`AboutMe::validate`] turns it into a name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AboutMe {
    pub last_name: String,
    pub first_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AboutMeField {
    LastName,
    FirstName,
    MiddleName,
}

/// Which field is wrong, so the form can mark it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field:?}: {error}")]
pub struct AboutMeError {
    pub field: AboutMeField,
    #[source]
    pub error: NameError,
}

impl AboutMe {
    /// The form's initial values: the name the school has on record.
    pub fn prefill(name: &PersonName) -> AboutMe {
        AboutMe {
            last_name: name.last().to_owned(),
            first_name: name.first().to_owned(),
            middle_name: name.middle().map(str::to_owned),
        }
    }

    pub fn validate(&self) -> Result<PersonName, AboutMeError> {
        // `PersonName::parse` does not say which part failed; checking each part
        // alone (as both last and first name) finds it with the same rules.
        let one = |value: &str, field| {
            PersonName::parse(value, value, None).map(drop).map_err(|error| AboutMeError { field, error })
        };
        one(&self.last_name, AboutMeField::LastName)?;
        one(&self.first_name, AboutMeField::FirstName)?;
        if let Some(middle) = self.middle_name.as_deref().filter(|m| !m.trim().is_empty()) {
            one(middle, AboutMeField::MiddleName)?;
        }
        PersonName::parse(&self.last_name, &self.first_name, self.middle_name.as_deref())
            .map_err(|error| AboutMeError { field: AboutMeField::LastName, error })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(last: &str, first: &str, middle: Option<&str>) -> AboutMe {
        AboutMe { last_name: last.into(), first_name: first.into(), middle_name: middle.map(Into::into) }
    }

    #[test]
    fn a_full_name_validates_into_a_person_name() {
        let name = form(" Иванова ", "Мария", Some("Петровна")).validate().unwrap();
        assert_eq!(name.to_string(), "Иванова Мария Петровна");
    }

    #[test]
    fn the_middle_name_is_optional_and_blank_means_none() {
        assert_eq!(form("Иванова", "Мария", None).validate().unwrap().middle(), None);
        assert_eq!(form("Иванова", "Мария", Some("  ")).validate().unwrap().middle(), None);
    }

    #[test]
    fn a_blank_field_is_reported_by_name() {
        let err = form("Иванова", " ", None).validate().unwrap_err();
        assert_eq!(err, AboutMeError { field: AboutMeField::FirstName, error: NameError::Empty });
        let err = form("", "Мария", None).validate().unwrap_err();
        assert_eq!(err.field, AboutMeField::LastName);
        let err = form("Иванова", "Мария", Some("Пет\u{7}ровна")).validate().unwrap_err();
        assert_eq!(err.field, AboutMeField::MiddleName);
    }

    #[test]
    fn the_form_is_prefilled_from_the_roster_name() {
        let name = PersonName::parse("Иванова", "Мария", Some("Петровна")).unwrap();
        let about = AboutMe::prefill(&name);
        assert_eq!(about, form("Иванова", "Мария", Some("Петровна")));
        assert_eq!(about.validate().unwrap(), name);
    }
}
