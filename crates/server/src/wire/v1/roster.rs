//! The school roster, for the portal.

use roster::ids::{ClassId, PersonId, SubjectId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub login: Option<String>,
    pub must_change_password: bool,
}

impl From<storage::PersonView> for PersonView {
    fn from(value: storage::PersonView) -> Self {
        let storage::PersonView { id, last_name, first_name, middle_name, login, must_change_password } = value;
        PersonView { id: id.into(), last_name, first_name, middle_name, login, must_change_password }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoleView {
    pub org_id: i64,
    pub org_name: String,
    /// `general_education` or `other`.
    pub org_kind: String,
    pub chats_enabled: bool,
    /// `administrator`, `teacher`, `other_staff`, `student` or `guardian`.
    pub role: String,
}

impl From<storage::RoleView> for RoleView {
    fn from(value: storage::RoleView) -> Self {
        let storage::RoleView { org_id, org_name, org_kind, chats_enabled, role } = value;
        RoleView { org_id: org_id.into(), org_name, org_kind, chats_enabled, role }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub chats_enabled: bool,
}

impl From<storage::OrgView> for OrgView {
    fn from(value: storage::OrgView) -> Self {
        let storage::OrgView { id, name, kind, chats_enabled } = value;
        OrgView { id: id.into(), name, kind, chats_enabled }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassView {
    pub id: i64,
    pub name: String,
    pub grade: i64,
    pub year: Option<String>,
    pub class_teacher_id: Option<i64>,
    pub class_teacher_name: Option<String>,
    pub students: i64,
}

impl From<storage::ClassView> for ClassView {
    fn from(value: storage::ClassView) -> Self {
        let storage::ClassView { id, name, grade, year, class_teacher_id, class_teacher_name, students } = value;
        ClassView {
            id: id.into(),
            name,
            grade,
            year,
            class_teacher_id: class_teacher_id.map(Into::into),
            class_teacher_name,
            students,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonBrief {
    pub id: i64,
    pub last_name: String,
    pub first_name: String,
    pub middle_name: Option<String>,
    pub login: Option<String>,
    /// The person's roles in the organisation, comma-separated.
    pub roles: String,
    pub has_password: bool,
}

impl From<storage::PersonBrief> for PersonBrief {
    fn from(value: storage::PersonBrief) -> Self {
        let storage::PersonBrief { id, last_name, first_name, middle_name, login, roles, has_password } = value;
        PersonBrief { id: id.into(), last_name, first_name, middle_name, login, roles, has_password }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StudentView {
    #[serde(flatten)]
    pub student: PersonBrief,
    pub guardians: Vec<PersonBrief>,
}

impl From<storage::StudentView> for StudentView {
    fn from(value: storage::StudentView) -> Self {
        let storage::StudentView { student, guardians } = value;
        StudentView { student: student.into(), guardians: guardians.into_iter().map(Into::into).collect() }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionView {
    pub id: i64,
    pub subject: String,
    pub group_name: Option<String>,
    pub teachers: Vec<PersonBrief>,
    /// Students of this group; empty when the subject is taught to the whole class.
    pub group_students: i64,
}

impl From<storage::SectionView> for SectionView {
    fn from(value: storage::SectionView) -> Self {
        let storage::SectionView { id, subject, group_name, teachers, group_students } = value;
        SectionView {
            id: id.into(),
            subject,
            group_name,
            teachers: teachers.into_iter().map(Into::into).collect(),
            group_students,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubjectView {
    pub id: i64,
    pub name: String,
}

impl From<storage::SubjectView> for SubjectView {
    fn from(value: storage::SubjectView) -> Self {
        let storage::SubjectView { id, name } = value;
        SubjectView { id: id.into(), name }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClassLink {
    pub class_id: i64,
    pub class_name: String,
    /// `student`, `class_teacher` or `teacher` (then `subject` says what).
    pub relation: String,
    pub subject: Option<String>,
    pub group_name: Option<String>,
}

impl From<storage::ClassLink> for ClassLink {
    fn from(value: storage::ClassLink) -> Self {
        let storage::ClassLink { class_id, class_name, relation, subject, group_name } = value;
        ClassLink { class_id: class_id.into(), class_name, relation, subject, group_name }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonCard {
    #[serde(flatten)]
    pub person: PersonBrief,
    pub classes: Vec<ClassLink>,
    pub guardians: Vec<PersonBrief>,
    pub children: Vec<PersonBrief>,
}

impl From<storage::PersonCard> for PersonCard {
    fn from(value: storage::PersonCard) -> Self {
        let storage::PersonCard { person, classes, guardians, children } = value;
        PersonCard {
            person: person.into(),
            classes: classes.into_iter().map(Into::into).collect(),
            guardians: guardians.into_iter().map(Into::into).collect(),
            children: children.into_iter().map(Into::into).collect(),
        }
    }
}

/// One line of a class's password slip. `password` is filled in by the caller
/// that issues it; storage only ever sees the hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PasswordSlip {
    pub person_id: i64,
    pub name: String,
    pub login: String,
    pub password: String,
    /// `student` or `guardian`.
    pub role: String,
}

impl From<storage::PasswordSlip> for PasswordSlip {
    fn from(value: storage::PasswordSlip) -> Self {
        let storage::PasswordSlip { person_id, name, login, password, role } = value;
        PasswordSlip { person_id: person_id.into(), name, login, password, role }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ModuleSwitch {
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ClassDetail {
    pub class: ClassView,
    pub students: Vec<StudentView>,
    pub sections: Vec<SectionView>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewClass {
    /// "5А", "10 Физмат".
    #[schema(min_length = 1, max_length = 18)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ClassEdit {
    pub name: Option<String>,
    /// Set the class teacher; `null` removes them. Omit to leave unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Option<i64>>)]
    pub class_teacher_id: Option<Option<PersonId>>,
}

/// Distinguishes a field sent as `null` (Some(None)) from one not sent (None).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<PersonId>>, D::Error> {
    Option::<PersonId>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub struct PersonForm {
    /// No markup characters (`roster::MARKUP`): a name is a name.
    #[schema(min_length = 1, max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub last_name: String,
    #[schema(min_length = 1, max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub first_name: String,
    #[schema(max_length = 100, pattern = r#"^[^<>&"`={}\\]*$"#)]
    pub middle_name: Option<String>,
    /// Required when creating a person; ignored when editing.
    pub login: Option<String>,
    /// Roles in this organisation; when editing, omit to leave unchanged.
    #[schema(schema_with = crate::openapi::roles)]
    pub roles: Option<Vec<String>>,
}

#[derive(Deserialize, ToSchema)]
pub struct MoveStudent {
    #[schema(value_type = i64)]
    pub class_id: ClassId,
}

#[derive(Deserialize, ToSchema)]
pub struct GuardianshipForm {
    #[schema(value_type = i64)]
    pub guardian_id: PersonId,
    #[schema(value_type = i64)]
    pub student_id: PersonId,
}

#[derive(Deserialize, ToSchema)]
pub struct SubjectForm {
    /// "Математика", "Английский язык".
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewSection {
    #[schema(value_type = i64)]
    pub subject_id: SubjectId,
    /// A group of the class ("1"); omit when the whole class takes the subject.
    pub group_name: Option<String>,
    #[schema(value_type = Vec<i64>)]
    pub teacher_ids: Vec<PersonId>,
}

#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum SectionRole {
    Teachers,
    Students,
}
