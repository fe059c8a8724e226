//! The school roster: organisations and their modules, academic years, people and
//! their roles, classes, subjects, teaching sections, enrollments and guardianships.
//!
//! Architecture invariant: this crate is pure. It never touches the clock, the
//! network, files or a database; callers pass time in and persist what it returns.
//! Values that cross its boundary are parsed once into the newtypes below, so the
//! rest of Parta never sees a blank name or a class called "".

mod chat_state;
pub mod ids;
pub mod import;
mod names;
pub mod retention;

pub use chat_state::ChatState;
pub use names::{ClassName, Login, MARKUP, NameError, NamePart, PersonName, parse_title, search_text};

use serde::{Deserialize, Serialize};

/// What kind of school an organisation is. Chats exist only in general education
/// (DESIGN §2); a music school or a college is `Other` and never gets chats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    GeneralEducation,
    Other,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::GeneralEducation => "general_education",
            OrgKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "general_education" => Some(OrgKind::GeneralEducation),
            "other" => Some(OrgKind::Other),
            _ => None,
        }
    }
}

/// Why the "Чаты" window of an organisation offers nothing, if it does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatsUnavailable {
    NotGeneralEducation,
    ModuleOff,
}

impl ChatsUnavailable {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatsUnavailable::NotGeneralEducation => "not_general_education",
            ChatsUnavailable::ModuleOff => "module_off",
        }
    }
}

/// DESIGN §2: chats exist only for a general-education organisation whose `chats`
/// module is switched on.
pub fn chats_availability(kind: OrgKind, chats_module_on: bool) -> Result<(), ChatsUnavailable> {
    match (kind, chats_module_on) {
        (OrgKind::Other, _) => Err(ChatsUnavailable::NotGeneralEducation),
        (OrgKind::GeneralEducation, false) => Err(ChatsUnavailable::ModuleOff),
        (OrgKind::GeneralEducation, true) => Ok(()),
    }
}

/// A role a person holds in one organisation. A person may hold several (a
/// teacher who is also a parent), each granted separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    Teacher,
    OtherStaff,
    Student,
    Guardian,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Administrator, Role::Teacher, Role::OtherStaff, Role::Student, Role::Guardian];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Teacher => "teacher",
            Role::OtherStaff => "other_staff",
            Role::Student => "student",
            Role::Guardian => "guardian",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Employees are the school's staff: they sit in the staff room and may manage chats.
    pub fn is_employee(self) -> bool {
        matches!(self, Role::Administrator | Role::Teacher | Role::OtherStaff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_general_education_with_module_on_has_chats() {
        assert_eq!(chats_availability(OrgKind::GeneralEducation, true), Ok(()));
        assert_eq!(chats_availability(OrgKind::GeneralEducation, false), Err(ChatsUnavailable::ModuleOff));
        assert_eq!(chats_availability(OrgKind::Other, true), Err(ChatsUnavailable::NotGeneralEducation));
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("janitor"), None);
    }

    #[test]
    fn employees_are_staff_roles_only() {
        let employees: Vec<_> = Role::ALL.into_iter().filter(|r| r.is_employee()).collect();
        assert_eq!(employees, [Role::Administrator, Role::Teacher, Role::OtherStaff]);
    }
}
