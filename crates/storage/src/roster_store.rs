//! The roster half of `Store`: importing packages, school accounts and portal
//! sessions, and the roster as administrators read and edit it (organisations,
//! people, classes, subjects and teaching). The SQL is in roster_*_queries.rs
//! and school_account_queries.rs.

use crate::{
    ClassView, Credentials, ImportError, OrgView, PasswordSlip, PersonBrief, PersonCard, PersonView, Pool, RoleView,
    SectionView, StorageError, Store, StudentView, SubjectView,
};
use roster::import::{Batch, Summary};
use roster::{ClassName, PersonName, Role};

impl Store {
    /// Applies a roster package in one transaction. With `dry_run` the work is
    /// done and counted, then rolled back. `hash_password` turns a package's
    /// initial password into its stored hash.
    pub async fn apply_import(
        &self,
        batch: &Batch,
        dry_run: bool,
        hash_password: &(dyn Fn(&str) -> String + Sync),
    ) -> Result<Summary, ImportError> {
        let summary = dispatch!(self.apply_import(batch, dry_run, hash_password))?;
        if !dry_run {
            self.refresh_statistics().await?;
        }
        Ok(summary)
    }

    // ---- school accounts and portal sessions ----

    pub async fn credentials(&self, login: &str) -> Result<Option<Credentials>, StorageError> {
        dispatch!(self.credentials(login))
    }

    pub async fn set_password(&self, person: i64, hash: &str, must_change: bool) -> Result<(), StorageError> {
        dispatch!(self.set_password(person, hash, must_change))
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        person: i64,
        now: i64,
        expires: i64,
    ) -> Result<(), StorageError> {
        dispatch!(self.create_session(token_hash, person, now, expires))
    }

    /// The person a live session belongs to.
    pub async fn session_person(&self, token_hash: &str, now: i64) -> Result<Option<i64>, StorageError> {
        dispatch!(self.session_person(token_hash, now))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StorageError> {
        dispatch!(self.delete_session(token_hash))
    }

    // ---- reads ----

    pub async fn person(&self, id: i64) -> Result<PersonView, StorageError> {
        dispatch!(self.person(id))
    }

    pub async fn person_roles(&self, id: i64) -> Result<Vec<RoleView>, StorageError> {
        dispatch!(self.person_roles(id))
    }

    pub async fn orgs(&self) -> Result<Vec<OrgView>, StorageError> {
        dispatch!(self.orgs())
    }

    pub async fn org(&self, id: i64) -> Result<OrgView, StorageError> {
        dispatch!(self.org(id))
    }

    pub async fn classes(&self, org: i64) -> Result<Vec<ClassView>, StorageError> {
        dispatch!(self.classes(org))
    }

    pub async fn class(&self, org: i64, class: i64) -> Result<ClassView, StorageError> {
        dispatch!(self.class(org, class))
    }

    /// The students of a class with their guardians.
    pub async fn class_students(&self, org: i64, class: i64) -> Result<Vec<StudentView>, StorageError> {
        dispatch!(self.class_students(org, class))
    }

    /// What is taught in a class: subjects, groups and their teachers.
    pub async fn class_sections(&self, org: i64, class: i64) -> Result<Vec<SectionView>, StorageError> {
        dispatch!(self.class_sections(org, class))
    }

    pub async fn people(&self, org: i64, filter: &PeopleFilter) -> Result<Vec<PersonBrief>, StorageError> {
        dispatch!(self.people(org, filter))
    }

    /// A person as an administrator of `org` sees them: roles, classes, family.
    pub async fn person_card(&self, org: i64, person: i64) -> Result<PersonCard, StorageError> {
        dispatch!(self.person_card(org, person))
    }

    pub async fn subjects(&self, org: i64) -> Result<Vec<SubjectView>, StorageError> {
        dispatch!(self.subjects(org))
    }

    // ---- edits by administrators (every one scoped to the organisation) ----

    pub async fn set_chats_enabled(&self, org: i64, enabled: bool) -> Result<(), StorageError> {
        dispatch!(self.set_chats_enabled(org, enabled))
    }

    /// Corrects a person's name and, when given, their roles: both or neither.
    pub async fn update_person(
        &self,
        org: i64,
        person: i64,
        name: &PersonName,
        roles: Option<&[Role]>,
    ) -> Result<(), StorageError> {
        dispatch!(self.update_person(org, person, name, roles))
    }

    pub async fn create_person(&self, org: i64, new: &NewPerson) -> Result<i64, StorageError> {
        dispatch!(self.create_person(org, new))
    }

    pub async fn create_class(&self, org: i64, name: &ClassName) -> Result<i64, StorageError> {
        dispatch!(self.create_class(org, name))
    }

    pub async fn rename_class(&self, org: i64, class: i64, name: &ClassName) -> Result<(), StorageError> {
        dispatch!(self.rename_class(org, class, name))
    }

    pub async fn set_class_teacher(&self, org: i64, class: i64, teacher: Option<i64>) -> Result<(), StorageError> {
        dispatch!(self.set_class_teacher(org, class, teacher))
    }

    /// Moves a student into `class` from wherever they were in this organisation,
    /// closing the old enrollment on `today` so the history stays.
    pub async fn move_student(&self, org: i64, student: i64, class: i64, today: &str) -> Result<(), StorageError> {
        dispatch!(self.move_student(org, student, class, today))
    }

    pub async fn set_guardianship(
        &self,
        org: i64,
        guardian: i64,
        student: i64,
        present: bool,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_guardianship(org, guardian, student, present))
    }

    /// The students of a class and their guardians who have a login but no
    /// password yet: the lines of the class's password slip, to be filled in.
    pub async fn password_candidates(&self, org: i64, class: i64) -> Result<Vec<PasswordSlip>, StorageError> {
        dispatch!(self.password_candidates(org, class))
    }
}

impl Store {
    pub async fn create_subject(&self, org: i64, name: &str) -> Result<i64, StorageError> {
        dispatch!(self.create_subject(org, name))
    }

    pub async fn rename_subject(&self, org: i64, subject: i64, name: &str) -> Result<(), StorageError> {
        dispatch!(self.rename_subject(org, subject, name))
    }

    /// Starts teaching a subject in a class, or in a group of it.
    pub async fn create_section(
        &self,
        org: i64,
        class: i64,
        subject: i64,
        group: Option<&str>,
    ) -> Result<i64, StorageError> {
        dispatch!(self.create_section(org, class, subject, group))
    }

    /// Stops teaching a section; its teachers and group members leave it.
    pub async fn close_section(&self, org: i64, section: i64) -> Result<(), StorageError> {
        dispatch!(self.close_section(org, section))
    }

    /// Adds (`present`) or removes a teacher of a section, or a student of a group.
    pub async fn set_section_member(
        &self,
        org: i64,
        section: i64,
        person: i64,
        role: roster::import::EnrollmentRole,
        present: bool,
    ) -> Result<(), StorageError> {
        dispatch!(self.set_section_member(org, section, person, role, present))
    }
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
