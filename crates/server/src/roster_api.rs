//! The roster as school administrators read and edit it. Every handler takes
//! an `OrgAdmin` (the signed-in person administers the organisation in the
//! path), and the storage queries are scoped to that organisation, so nobody reaches another
//! school's data by changing an id.

use crate::auth::{OrgAdmin, hash_blocking, one_time_password};
use crate::error::extract::{Json, Path, Query};
use crate::error::{ApiResult, INVALID_INPUT, bounded, search_text};
use crate::wire::v1::{
    self, ClassDetail, ClassEdit, ClassView, GuardianshipForm, ModuleSwitch, MoveStudent, NewClass, NewSection,
    OrgView, PasswordSlip, PersonBrief, PersonCard, PersonForm, SectionRole, SectionView, SubjectForm, SubjectView,
};
use crate::{AppState, ConcernsOnly};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster::ids::{ClassId, OrgId, PersonId, SectionId, SubjectId};
use roster::import::EnrollmentRole;
use roster::{ClassName, Login, PersonName, Role};
use serde::Deserialize;
use storage::{LinkChange, PeopleFilter};
use utoipa::IntoParams;

type Resp<T> = ApiResult<axum::Json<T>>;

/// An organisation with its kind and modules.
#[utoipa::path(get, path = "/api/orgs/{org}", tag = "roster", params(("org" = i64, Path)),
    responses((status = 200, body = OrgView), (status = 403, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn org(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<OrgId>) -> Resp<OrgView> {
    Ok(axum::Json(state.store.org(org).await?.into()))
}

/// Switch the chats module of an organisation on or off.
#[utoipa::path(put, path = "/api/orgs/{org}/modules/chats", tag = "roster", params(("org" = i64, Path)),
    request_body = ModuleSwitch, responses((status = 200, body = OrgView)),
    security(("portal_session" = [])))]
pub async fn set_chats_module(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(req): Json<ModuleSwitch>,
) -> Resp<OrgView> {
    state.store.set_chats_enabled(org, req.enabled).await?;
    tracing::info!(
        org = i64::from(org),
        enabled = req.enabled,
        by = i64::from(admin.person_id),
        "chats module switched"
    );
    Ok(axum::Json(state.store.org(org).await?.into()))
}

/// The classes of an organisation, by grade.
#[utoipa::path(get, path = "/api/orgs/{org}/classes", tag = "roster", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<ClassView>)),
    security(("portal_session" = [])))]
pub async fn classes(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<OrgId>) -> Resp<Vec<ClassView>> {
    Ok(axum::Json(v1::list(state.store.classes(org).await?)))
}

/// One class: its students with their parents, and what is taught there by whom.
#[utoipa::path(get, path = "/api/orgs/{org}/classes/{class}", tag = "roster",
    params(("org" = i64, Path), ("class" = i64, Path)), responses((status = 200, body = ClassDetail)),
    security(("portal_session" = [])))]
pub async fn class(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, class)): Path<(OrgId, ClassId)>,
) -> Resp<ClassDetail> {
    Ok(axum::Json(ClassDetail {
        class: state.store.class(org, class).await?.into(),
        students: v1::list(state.store.class_students(org, class).await?),
        sections: v1::list(state.store.class_sections(org, class).await?),
    }))
}

/// Create a class in the current academic year.
#[utoipa::path(post, path = "/api/orgs/{org}/classes", tag = "roster", params(("org" = i64, Path)),
    request_body = NewClass, responses((status = 201, body = ClassView)),
    security(("portal_session" = [])))]
pub async fn create_class(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(req): Json<NewClass>,
) -> ApiResult<(StatusCode, axum::Json<ClassView>)> {
    let name = ClassName::parse(&req.name)?;
    let id = state.store.create_class(org, &name).await?;
    Ok((StatusCode::CREATED, axum::Json(state.store.class(org, id).await?.into())))
}

/// Rename a class or change its class teacher.
#[utoipa::path(patch, path = "/api/orgs/{org}/classes/{class}", tag = "roster",
    params(("org" = i64, Path), ("class" = i64, Path)), request_body = ClassEdit,
    responses((status = 200, body = ClassView), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn edit_class(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, class)): Path<(OrgId, ClassId)>,
    Json(req): Json<ClassEdit>,
) -> Resp<ClassView> {
    // Validate everything before changing anything.
    let name = req.name.as_deref().map(ClassName::parse).transpose()?;
    state.store.class(org, class).await?;
    if let Some(name) = name {
        state.store.rename_class(org, class, &name).await?;
    }
    if let Some(teacher) = req.class_teacher_id {
        state.store.set_class_teacher(org, class, teacher).await?;
    }
    Ok(axum::Json(state.store.class(org, class).await?.into()))
}

/// Issue one-time passwords to the students of a class and their parents who
/// have none yet, and return the printable slip. They must change it at first sign-in.
#[utoipa::path(post, path = "/api/orgs/{org}/classes/{class}/password-slip", tag = "roster",
    params(("org" = i64, Path), ("class" = i64, Path)), responses((status = 200, body = Vec<PasswordSlip>)),
    security(("portal_session" = [])))]
pub async fn password_slip(
    State(state): State<AppState>,
    admin: OrgAdmin,
    Path((org, class)): Path<(OrgId, ClassId)>,
) -> Resp<Vec<PasswordSlip>> {
    let mut slips = state.store.password_candidates(org, class).await?;
    for slip in &mut slips {
        slip.password = one_time_password();
        let hash = hash_blocking(slip.password.clone()).await?;
        state.store.set_password(slip.person_id, &hash, true).await?;
    }
    tracing::info!(
        org = i64::from(org),
        class = i64::from(class),
        issued = slips.len(),
        by = i64::from(admin.person_id),
        "one-time passwords issued"
    );
    Ok(axum::Json(v1::list(slips)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// `administrator`, `teacher`, `other_staff`, `student` or `guardian`.
    #[param(schema_with = crate::openapi::role)]
    pub role: Option<String>,
    /// Part of a name or login, at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// 1–500; 50 by default.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// People to skip; 0 by default.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// People of an organisation, filtered by role and name.
#[utoipa::path(get, path = "/api/orgs/{org}/people", tag = "roster", params(("org" = i64, Path), PeopleQuery),
    responses((status = 200, body = Vec<PersonBrief>)),
    security(("portal_session" = [])))]
pub async fn people(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Query(q): Query<PeopleQuery>,
) -> Resp<Vec<PersonBrief>> {
    let role = q
        .role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).ok_or(INVALID_INPUT.field("role")))
        .transpose()?;
    let filter = PeopleFilter {
        role,
        query: search_text("q", q.q, 100)?,
        limit: bounded("limit", q.limit, 50, 1..=500)?,
        offset: bounded("offset", q.offset, 0, 0..=i64::MAX)?,
    };
    Ok(axum::Json(v1::list(state.store.people(org, &filter).await?)))
}

/// A person's card: roles, classes, parents or children.
#[utoipa::path(get, path = "/api/orgs/{org}/people/{person}", tag = "roster",
    params(("org" = i64, Path), ("person" = i64, Path)), responses((status = 200, body = PersonCard)),
    security(("portal_session" = [])))]
pub async fn person(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, person)): Path<(OrgId, PersonId)>,
) -> Resp<PersonCard> {
    Ok(axum::Json(state.store.person_card(org, person).await?.into()))
}

fn parse_roles(roles: &[String]) -> ApiResult<Vec<Role>> {
    roles.iter().enumerate().map(|(i, r)| Role::parse(r).ok_or(INVALID_INPUT.field(format!("roles[{i}]")))).collect()
}

/// Add a person to the organisation. They get no password until one is issued.
#[utoipa::path(post, path = "/api/orgs/{org}/people", tag = "roster", params(("org" = i64, Path)),
    request_body = PersonForm, responses((status = 201, body = PersonCard), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn create_person(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(form): Json<PersonForm>,
) -> ApiResult<(StatusCode, axum::Json<PersonCard>)> {
    let new = storage::NewPerson {
        name: PersonName::parse(&form.last_name, &form.first_name, form.middle_name.as_deref())?,
        login: Login::parse(form.login.as_deref().unwrap_or_default())?,
        roles: parse_roles(form.roles.as_deref().unwrap_or_default())?,
    };
    let id = state.store.create_person(org, &new).await?;
    Ok((StatusCode::CREATED, axum::Json(state.store.person_card(org, id).await?.into())))
}

/// Correct a person's name or roles.
#[utoipa::path(patch, path = "/api/orgs/{org}/people/{person}", tag = "roster",
    params(("org" = i64, Path), ("person" = i64, Path)), request_body = PersonForm,
    responses((status = 200, body = PersonCard), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn edit_person(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, person)): Path<(OrgId, PersonId)>,
    Json(form): Json<PersonForm>,
) -> Resp<PersonCard> {
    let name = PersonName::parse(&form.last_name, &form.first_name, form.middle_name.as_deref())?;
    let roles = form.roles.as_deref().map(parse_roles).transpose()?;
    state.store.update_person(org, person, &name, roles.as_deref()).await?;
    Ok(axum::Json(state.store.person_card(org, person).await?.into()))
}

/// Move a student to another class from today; the old enrollment is kept as history.
#[utoipa::path(post, path = "/api/orgs/{org}/people/{person}/class", tag = "roster",
    params(("org" = i64, Path), ("person" = i64, Path)), request_body = MoveStudent,
    responses((status = 200, body = PersonCard), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn move_student(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, person)): Path<(OrgId, PersonId)>,
    Json(req): Json<MoveStudent>,
) -> ApiResult<Response> {
    let today = chrono::Local::now().date_naive();
    state.store.move_student(org, person, req.class_id, today).await?;
    let card = axum::Json(PersonCard::from(state.store.person_card(org, person).await?));
    // The student's chats and, through them, their guardians' parents chats.
    Ok((Extension(ConcernsOnly(vec![person])), card).into_response())
}

/// Record that a parent is the guardian of a student.
#[utoipa::path(put, path = "/api/orgs/{org}/guardianships", tag = "roster", params(("org" = i64, Path)),
    request_body = GuardianshipForm, responses((status = 204), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn add_guardianship(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(req): Json<GuardianshipForm>,
) -> ApiResult<Response> {
    state.store.set_guardianship(org, req.guardian_id, req.student_id, LinkChange::Add).await?;
    Ok((StatusCode::NO_CONTENT, Extension(ConcernsOnly(vec![req.guardian_id]))).into_response())
}

/// Remove a guardianship.
#[utoipa::path(delete, path = "/api/orgs/{org}/guardianships", tag = "roster", params(("org" = i64, Path)),
    request_body = GuardianshipForm, responses((status = 204), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn remove_guardianship(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(req): Json<GuardianshipForm>,
) -> ApiResult<Response> {
    state.store.set_guardianship(org, req.guardian_id, req.student_id, LinkChange::Remove).await?;
    Ok((StatusCode::NO_CONTENT, Extension(ConcernsOnly(vec![req.guardian_id]))).into_response())
}

/// Subjects taught in the organisation.
#[utoipa::path(get, path = "/api/orgs/{org}/subjects", tag = "roster", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<SubjectView>)),
    security(("portal_session" = [])))]
pub async fn subjects(State(state): State<AppState>, _: OrgAdmin, Path(org): Path<OrgId>) -> Resp<Vec<SubjectView>> {
    Ok(axum::Json(v1::list(state.store.subjects(org).await?)))
}

/// Add a subject to the organisation's curriculum.
#[utoipa::path(post, path = "/api/orgs/{org}/subjects", tag = "roster", params(("org" = i64, Path)),
    request_body = SubjectForm, responses((status = 201, body = SubjectView)),
    security(("portal_session" = [])))]
pub async fn create_subject(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<OrgId>,
    Json(form): Json<SubjectForm>,
) -> ApiResult<(StatusCode, axum::Json<SubjectView>)> {
    let name = roster::parse_title(&form.name)?;
    let id = state.store.create_subject(org, &name).await?;
    Ok((StatusCode::CREATED, axum::Json(SubjectView { id: id.into(), name })))
}

/// Rename a subject.
#[utoipa::path(patch, path = "/api/orgs/{org}/subjects/{subject}", tag = "roster",
    params(("org" = i64, Path), ("subject" = i64, Path)), request_body = SubjectForm,
    responses((status = 200, body = SubjectView)),
    security(("portal_session" = [])))]
pub async fn rename_subject(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, subject)): Path<(OrgId, SubjectId)>,
    Json(form): Json<SubjectForm>,
) -> Resp<SubjectView> {
    let name = roster::parse_title(&form.name)?;
    state.store.rename_subject(org, subject, &name).await?;
    Ok(axum::Json(SubjectView { id: subject.into(), name }))
}

/// Teach a subject in a class (or a group of it) by the given teachers.
/// Returns what is taught in the class afterwards.
#[utoipa::path(post, path = "/api/orgs/{org}/classes/{class}/sections", tag = "roster",
    params(("org" = i64, Path), ("class" = i64, Path)), request_body = NewSection,
    responses((status = 201, body = Vec<SectionView>), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn create_section(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, class)): Path<(OrgId, ClassId)>,
    Json(form): Json<NewSection>,
) -> ApiResult<(StatusCode, axum::Json<Vec<SectionView>>)> {
    let group =
        form.group_name.as_deref().map(str::trim).filter(|g| !g.is_empty()).map(roster::parse_title).transpose()?;
    let section = state.store.create_section(org, class, form.subject_id, group.as_deref()).await?;
    for teacher in form.teacher_ids {
        let added =
            state.store.set_section_member(org, section, teacher, EnrollmentRole::Teacher, LinkChange::Add).await;
        if let Err(e) = added {
            // Not half-made: a section whose teacher was refused is closed again.
            state.store.close_section(org, section).await?;
            return Err(e.into());
        }
    }
    Ok((StatusCode::CREATED, axum::Json(v1::list(state.store.class_sections(org, class).await?))))
}

/// Stop teaching a section: its teachers and group members leave it.
#[utoipa::path(delete, path = "/api/orgs/{org}/sections/{section}", tag = "roster",
    params(("org" = i64, Path), ("section" = i64, Path)), responses((status = 204)),
    security(("portal_session" = [])))]
pub async fn close_section(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path((org, section)): Path<(OrgId, SectionId)>,
) -> ApiResult<StatusCode> {
    state.store.close_section(org, section).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
pub struct SectionMemberPath {
    #[param(value_type = i64)]
    pub org: OrgId,
    #[param(value_type = i64)]
    pub section: SectionId,
    /// Students only in group sections.
    #[param(inline)]
    pub kind: SectionRole,
    #[param(value_type = i64)]
    pub person: PersonId,
}

async fn set_section_member(state: &AppState, p: SectionMemberPath, change: LinkChange) -> ApiResult<StatusCode> {
    let role = match p.kind {
        SectionRole::Teachers => EnrollmentRole::Teacher,
        SectionRole::Students => EnrollmentRole::Student,
    };
    state.store.set_section_member(p.org, p.section, p.person, role, change).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a teacher to a section, or a student to a group.
#[utoipa::path(put, path = "/api/orgs/{org}/sections/{section}/{kind}/{person}", tag = "roster",
    params(SectionMemberPath), responses((status = 204), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn add_section_member(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(p): Path<SectionMemberPath>,
) -> ApiResult<StatusCode> {
    set_section_member(&state, p, LinkChange::Add).await
}

/// Remove a teacher from a section, or a student from a group.
#[utoipa::path(delete, path = "/api/orgs/{org}/sections/{section}/{kind}/{person}", tag = "roster",
    params(SectionMemberPath), responses((status = 204), (status = 409, body = crate::error::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn remove_section_member(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(p): Path<SectionMemberPath>,
) -> ApiResult<StatusCode> {
    set_section_member(&state, p, LinkChange::Remove).await
}
