//! Read models: what the portal shows, shaped by the queries that fill them.
//! What a client reads of them is the server's wire layer's to decide.

use roster::ids::{ClassId, OrgId, PersonId, SectionId, SubjectId};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub person_id: PersonId,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub active: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonView {
    pub id: PersonId,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub login: Option<String>,
    pub must_change_password: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RoleView {
    pub org_id: OrgId,
    pub org_name: String,
    /// `general_education` or `other`.
    pub org_kind: String,
    pub chats_enabled: bool,
    /// `administrator`, `teacher`, `other_staff`, `student` or `guardian`.
    pub role: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgView {
    pub id: OrgId,
    pub name: String,
    pub kind: String,
    pub chats_enabled: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassView {
    pub id: ClassId,
    pub name: String,
    pub grade: i64,
    pub year: Option<String>,
    pub class_teacher_id: Option<PersonId>,
    pub class_teacher_name: Option<String>,
    pub students: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonBrief {
    pub id: PersonId,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub login: Option<String>,
    /// The person's roles in the organisation, comma-separated.
    pub roles: String,
    pub has_password: bool,
}

#[derive(Debug, Clone)]
pub struct StudentView {
    pub student: PersonBrief,
    pub guardians: Vec<PersonBrief>,
}

#[derive(Debug, Clone)]
pub struct SectionView {
    pub id: SectionId,
    pub subject: String,
    pub group_name: Option<String>,
    pub teachers: Vec<PersonBrief>,
    /// Students of this group; empty when the subject is taught to the whole class.
    pub group_students: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubjectView {
    pub id: SubjectId,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClassLink {
    pub class_id: ClassId,
    pub class_name: String,
    /// `student`, `class_teacher` or `teacher` (then `subject` says what).
    pub relation: String,
    pub subject: Option<String>,
    pub group_name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PersonCard {
    pub person: PersonBrief,
    pub classes: Vec<ClassLink>,
    pub guardians: Vec<PersonBrief>,
    pub children: Vec<PersonBrief>,
}

/// One line of a class's password slip. `password` is filled in by the caller
/// that issues it; storage only ever sees the hash.
#[derive(Debug, Clone)]
pub struct PasswordSlip {
    pub person_id: PersonId,
    pub name: String,
    pub login: String,
    pub password: String,
    /// `student` or `guardian`.
    pub role: String,
}
