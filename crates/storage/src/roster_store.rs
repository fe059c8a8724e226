//! The roster half of `Store`: importing packages, school accounts and portal
//! sessions, and the roster as administrators read and edit it (organisations,
//! people, classes, subjects and teaching). The SQL is in roster_*_queries.rs
//! and school_account_queries.rs.

use crate::{
    ClassView, Credentials, ImportError, OrgView, PasswordSlip, PersonBrief, PersonCard, PersonView, Pool, RoleView,
    SectionView, StorageError, Store, StudentView, SubjectView,
};
use chrono::NaiveDate;
use roster::ids::{ClassId, OrgId, PersonId, SectionId, SubjectId};
use roster::import::{Batch, Summary};
use roster::{ClassName, PersonName, Role};

impl Store {
    /// Applies a roster package in one transaction. A dry run does and counts
    /// the work, then rolls it back. `hash_password` turns a package's
    /// initial password into its stored hash.
    pub async fn apply_import(
        &self,
        batch: &Batch,
        run: Run,
        hash_password: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Summary, ImportError> {
        let summary = dispatch!(self.apply_import(batch, run == Run::DryRun, hash_password))?;
        if run == Run::Apply {
            self.refresh_statistics().await?;
        }
        Ok(summary)
    }

    // ---- school accounts and portal sessions ----

    pub async fn credentials(&self, login: &str) -> Result<Option<Credentials>, StorageError> {
        dispatch!(self.credentials(login))
    }

    pub async fn set_password(&self, person: PersonId, hash: &str, must_change: bool) -> Result<(), StorageError> {
        dispatch!(self.set_password(person, hash, must_change))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        person: PersonId,
        now: i64,
        expires: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.create_session(token_hash, person, now, expires))
    }

    /// The person a live session belongs to.
    pub async fn session_person(&self, token_hash: &str, now: i64) -> Result<Option<PersonId>, StorageError> {
        dispatch!(self.session_person(token_hash, now))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StorageError> {
        dispatch!(self.delete_session(token_hash))
    }

    // ---- reads ----

    pub async fn person(&self, id: PersonId) -> Result<PersonView, StorageError> {
        dispatch!(self.person(id))
    }

    pub async fn person_roles(&self, id: PersonId) -> Result<Vec<RoleView>, StorageError> {
        dispatch!(self.person_roles(id))
    }

    pub async fn orgs(&self) -> Result<Vec<OrgView>, StorageError> {
        dispatch!(self.orgs())
    }

    pub async fn org(&self, id: OrgId) -> Result<OrgView, StorageError> {
        dispatch!(self.org(id))
    }

    pub async fn classes(&self, org: OrgId) -> Result<Vec<ClassView>, StorageError> {
        dispatch!(self.classes(org))
    }

    pub async fn class(&self, org: OrgId, class: ClassId) -> Result<ClassView, StorageError> {
        dispatch!(self.class(org, class))
    }

    /// The students of a class with their guardians.
    pub async fn class_students(&self, org: OrgId, class: ClassId) -> Result<Vec<StudentView>, StorageError> {
        dispatch!(self.class_students(org, class))
    }

    /// What is taught in a class: subjects, groups and their teachers.
    pub async fn class_sections(&self, org: OrgId, class: ClassId) -> Result<Vec<SectionView>, StorageError> {
        dispatch!(self.class_sections(org, class))
    }

    pub async fn people(&self, org: OrgId, filter: &PeopleFilter) -> Result<Vec<PersonBrief>, StorageError> {
        dispatch!(self.people(org, filter))
    }

    /// A person as an administrator of `org` sees them: roles, classes, family.
    pub async fn person_card(&self, org: OrgId, person: PersonId) -> Result<PersonCard, StorageError> {
        dispatch!(self.person_card(org, person))
    }

    pub async fn subjects(&self, org: OrgId) -> Result<Vec<SubjectView>, StorageError> {
        dispatch!(self.subjects(org))
    }

    // ---- edits by administrators (every one scoped to the organisation) ----

    pub async fn set_chats_enabled(&self, org: OrgId, enabled: bool) -> Result<(), StorageError> {
        dispatch!(self.set_chats_enabled(org, enabled))
    }

    /// Corrects a person's name and, when given, their roles: both or neither.
    pub async fn update_person(
        &self,
        org: OrgId,
        person: PersonId,
        name: &PersonName,
        roles: Option<&[Role]>,
    ) -> Result<(), StorageError> {
        dispatch!(self.update_person(org, person, name, roles))
    }

    pub async fn create_person(&self, org: OrgId, new: &NewPerson) -> Result<PersonId, StorageError> {
        dispatch!(self.create_person(org, new))
    }

    pub async fn create_class(&self, org: OrgId, name: &ClassName) -> Result<ClassId, StorageError> {
        dispatch!(self.create_class(org, name))
    }

    pub async fn rename_class(&self, org: OrgId, class: ClassId, name: &ClassName) -> Result<(), StorageError> {
        dispatch!(self.rename_class(org, class, name))
    }

    pub async fn set_class_teacher(
        &self,
        org: OrgId,
        class: ClassId,
        teacher: Option<PersonId>,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_class_teacher(org, class, teacher))
    }

    /// Moves a student into `class` from wherever they were in this organisation,
    /// closing the old enrollment on `today` so the history stays.
    pub async fn move_student(
        &self,
        org: OrgId,
        student: PersonId,
        class: ClassId,
        today: NaiveDate,
    ) -> Result<(), StorageError> {
        dispatch!(self.move_student(org, student, class, today))
    }

    pub async fn set_guardianship(
        &self,
        org: OrgId,
        guardian: PersonId,
        student: PersonId,
        change: LinkChange,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_guardianship(org, guardian, student, change))
    }

    /// The students of a class and their guardians who have a login but no
    /// password yet: the lines of the class's password slip, to be filled in.
    pub async fn password_candidates(&self, org: OrgId, class: ClassId) -> Result<Vec<PasswordSlip>, StorageError> {
        dispatch!(self.password_candidates(org, class))
    }
}

impl Store {
    pub async fn create_subject(&self, org: OrgId, name: &str) -> Result<SubjectId, StorageError> {
        dispatch!(self.create_subject(org, name))
    }

    pub async fn rename_subject(&self, org: OrgId, subject: SubjectId, name: &str) -> Result<(), StorageError> {
        dispatch!(self.rename_subject(org, subject, name))
    }

    /// Starts teaching a subject in a class, or in a group of it.
    pub async fn create_section(
        &self,
        org: OrgId,
        class: ClassId,
        subject: SubjectId,
        group: Option<&str>,
    ) -> Result<SectionId, StorageError> {
        dispatch!(self.create_section(org, class, subject, group))
    }

    /// Stops teaching a section; its teachers and group members leave it.
    pub async fn close_section(&self, org: OrgId, section: SectionId) -> Result<(), StorageError> {
        dispatch!(self.close_section(org, section))
    }

    /// Adds or removes a teacher of a section, or a student of a group.
    pub async fn set_section_member(
        &self,
        org: OrgId,
        section: SectionId,
        person: PersonId,
        role: roster::import::EnrollmentRole,
        change: LinkChange,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_section_member(org, section, person, role, change))
    }
}

/// Whether an import is kept or only counted (`parta import --dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Run {
    Apply,
    DryRun,
}

/// Whether a link between two rows (a guardianship, a section's member) is made or undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkChange {
    Add,
    Remove,
}

/// Filters for the people list of an organisation.
#[derive(Debug, Clone, Default)]
pub struct PeopleFilter {
    pub role: Option<Role>,
    /// Matched against last, first and middle names and the login, case-insensitively.
    pub query: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub struct NewPerson {
    pub name: PersonName,
    pub login: roster::Login,
    pub roles: Vec<Role>,
}
