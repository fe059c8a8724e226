//! "Управление чатами" (DESIGN §5): school staff create, edit, archive and
//! delete chats, add and remove participants and appoint chat admins; school
//! administrators read the audit log of it all (also as CSV).
//!
//! Handlers parse and validate, then hand the signed-in person to the store,
//! which decides with `messenger::manage` inside the transaction that acts; so
//! there is no separate permission check here to forget. Every change tells
//! the open messengers of the people it touched to reload their chat list.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiResult};
use crate::wire::v1::{
    self, AuditEntry, Candidates, ChatEditForm, Language, ManageContext, ManagedChat, ManagedChatDetail, NewChatForm,
    PeopleForm,
};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use messenger::{ChatDescription, ChatName, ChatTextError, ManageRefusal};
use roster::Role;
use roster::ids::{ChatId, ClassId, OrgId, PersonId, SubjectId};
use serde::{Deserialize, Serialize};
use storage::{
    AdminChange, ArchiveChange, AuditFilter, CandidateFilter, ChatDraft, ChatEdit, ChatFilter, ManageOutcome,
    StateFilter, StorageError,
};
use utoipa::IntoParams;

type Resp<T> = ApiResult<axum::Json<T>>;

/// The most people one request adds ("all parents of 7Б" is about fifty).
const MAX_PEOPLE: usize = 2_000;
/// The longest name fragment a list or a people picker searches for.
const MAX_SEARCH: usize = 100;

fn name(raw: &str) -> ApiResult<ChatName> {
    ChatName::parse(raw).map_err(|err| match err {
        ChatTextError::Empty => e::CHAT_NAME_EMPTY,
        ChatTextError::TooLong { .. } => e::CHAT_NAME_TOO_LONG,
        ChatTextError::ControlCharacter => e::CHAT_NAME_INVALID,
    })
}

fn description(raw: &str) -> ApiResult<ChatDescription> {
    ChatDescription::parse(raw).map_err(|err| match err {
        ChatTextError::TooLong { .. } => e::CHAT_DESCRIPTION_TOO_LONG,
        ChatTextError::Empty | ChatTextError::ControlCharacter => e::CHAT_DESCRIPTION_INVALID,
    })
}

impl AppState {
    /// Open messengers of the people a change touched reload their chats.
    async fn notify(&self, org: OrgId, outcome: &ManageOutcome) {
        if outcome.people.is_empty() {
            return;
        }
        let people: Vec<i64> = outcome.people.iter().copied().map(i64::from).collect();
        match self.store.accounts_of_people(org.into(), &people).await {
            Ok(accounts) => self.messenger.accounts_changed(accounts),
            Err(err) => {
                tracing::error!(org = i64::from(org), chat = i64::from(outcome.chat_id), error = %err, "cannot tell messengers")
            }
        }
    }

    /// Purges the chats deleted longer ago than the restore period. A
    /// failure is logged; the next run catches up.
    pub async fn purge_deleted_chats(&self) {
        match self.store.purge_deleted_chats(self.now()).await {
            Ok(purged) if !purged.is_empty() => tracing::info!(chats = purged.len(), "deleted chats purged"),
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "purging deleted chats failed"),
        }
    }
}

/// The chat as the actor now sees it; a change that took away their right to
/// see it (they revoked their own admin) answers 204.
async fn after_change(state: &AppState, user: &CurrentUser, org: OrgId, outcome: ManageOutcome) -> ApiResult<Response> {
    state.notify(org, &outcome).await;
    match state.store.managed_chat(org, user.person_id, outcome.chat_id).await {
        Ok(detail) => Ok(axum::Json(ManagedChatDetail::from(detail)).into_response()),
        Err(StorageError::ManageRefused(ManageRefusal::NotChatAdmin)) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(err) => Err(err.into()),
    }
}

/// Filters, classes and subjects for the management page; who the viewer is there.
#[utoipa::path(get, path = "/api/orgs/{org}/chats/options", tag = "chat management", params(("org" = i64, Path)),
    responses((status = 200, body = ManageContext), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn options(State(state): State<AppState>, user: CurrentUser, Path(org): Path<OrgId>) -> Resp<ManageContext> {
    Ok(axum::Json(state.store.manage_context(org, user.person_id).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatListQuery {
    /// `staff_room`, `class`, `parents`, `subject` or `custom`.
    #[param(schema_with = crate::openapi::chat_kind)]
    pub kind: Option<String>,
    pub class: Option<i64>,
    pub year: Option<i64>,
    /// `current` (the default), `archived`, `deleted` (restorable) or `all`.
    #[param(schema_with = crate::openapi::chat_state)]
    pub state: Option<String>,
    /// Part of the name, at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

pub(crate) const KINDS: [&str; 5] = ["staff_room", "class", "parents", "subject", "custom"];

/// The organisation's chats for an administrator; the chats they admin for another employee.
#[utoipa::path(get, path = "/api/orgs/{org}/chats", tag = "chat management", params(("org" = i64, Path), ChatListQuery),
    responses((status = 200, body = Vec<ManagedChat>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<OrgId>,
    Query(q): Query<ChatListQuery>,
) -> Resp<Vec<ManagedChat>> {
    let kind = q.kind.filter(|k| !k.is_empty());
    if kind.as_deref().is_some_and(|k| !KINDS.contains(&k)) {
        return Err(e::INVALID_INPUT.field("kind"));
    }
    let filter = ChatFilter {
        kind,
        class_id: q.class.map(ClassId),
        year_id: q.year,
        state: match q.state.as_deref().filter(|s| !s.is_empty()) {
            None => StateFilter::Current,
            Some(s) => StateFilter::parse(s).ok_or(e::INVALID_INPUT.field("state"))?,
        },
        query: e::search_text("q", q.q, MAX_SEARCH)?,
    };
    Ok(axum::Json(v1::list(state.store.managed_chats(org, user.person_id, &filter).await?)))
}

/// One chat with its members: why each is there (roster or by hand), who is pending, who admins.
#[utoipa::path(get, path = "/api/orgs/{org}/chats/{chat}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
) -> Resp<ManagedChatDetail> {
    Ok(axum::Json(state.store.managed_chat(org, user.person_id, chat).await?.into()))
}

/// Create a custom chat; the creator is its first admin.
#[utoipa::path(post, path = "/api/orgs/{org}/chats", tag = "chat management", params(("org" = i64, Path)),
    request_body = NewChatForm,
    responses((status = 201, body = ManagedChatDetail), (status = 400, body = e::ErrorBody), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<OrgId>,
    Json(form): Json<NewChatForm>,
) -> ApiResult<Response> {
    if form.members.len() > MAX_PEOPLE {
        return Err(e::TOO_MANY_PEOPLE);
    }
    let draft = ChatDraft {
        name: name(&form.name)?,
        description: description(&form.description)?,
        announcement_only: form.announcement_only,
        members: form.members.into_iter().map(PersonId).collect(),
    };
    let outcome = state.store.create_custom_chat(org, user.person_id, &draft, state.now()).await?;
    tracing::info!(
        org = i64::from(org),
        chat = i64::from(outcome.chat_id),
        by = i64::from(user.person_id),
        "chat created"
    );
    state.notify(org, &outcome).await;
    let detail = state.store.managed_chat(org, user.person_id, outcome.chat_id).await?;
    Ok((StatusCode::CREATED, axum::Json(ManagedChatDetail::from(detail))).into_response())
}

/// Rename, describe, or switch "only admins post". Renaming an automatic chat keeps the new name.
#[utoipa::path(patch, path = "/api/orgs/{org}/chats/{chat}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)), request_body = ChatEditForm,
    responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
    Json(form): Json<ChatEditForm>,
) -> ApiResult<Response> {
    let edit = ChatEdit {
        version: form.version,
        name: form.name.as_deref().map(name).transpose()?,
        description: form.description.as_deref().map(description).transpose()?,
        announcement_only: form.announcement_only,
    };
    let outcome = state.store.edit_chat(org, user.person_id, chat, &edit, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Archive: read-only for its members, kept so even when the roster still wants the chat.
#[utoipa::path(put, path = "/api/orgs/{org}/chats/{chat}/archive", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)), responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn archive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
) -> ApiResult<Response> {
    let outcome = state.store.set_chat_archived(org, user.person_id, chat, ArchiveChange::Archive, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Bring an archived chat back.
#[utoipa::path(delete, path = "/api/orgs/{org}/chats/{chat}/archive", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)), responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn unarchive(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
) -> ApiResult<Response> {
    let outcome =
        state.store.set_chat_archived(org, user.person_id, chat, ArchiveChange::Unarchive, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Delete a custom chat: it disappears for its members at once, can be restored for 30 days, then is purged.
#[utoipa::path(delete, path = "/api/orgs/{org}/chats/{chat}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
) -> ApiResult<Response> {
    let outcome = state.store.delete_chat(org, user.person_id, chat, state.now()).await?;
    tracing::info!(org = i64::from(org), chat = i64::from(chat), by = i64::from(user.person_id), "chat deleted");
    after_change(&state, &user, org, outcome).await
}

/// Restore a deleted chat before it is purged.
#[utoipa::path(post, path = "/api/orgs/{org}/chats/{chat}/restore", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 410, body = e::ErrorBody), (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn restore(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
) -> ApiResult<Response> {
    let outcome = state.store.restore_chat(org, user.person_id, chat, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Add participants. People not linked yet become pending members and join when they link.
#[utoipa::path(post, path = "/api/orgs/{org}/chats/{chat}/members", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path)), request_body = PeopleForm,
    responses((status = 200, body = ManagedChatDetail), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn add_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(OrgId, ChatId)>,
    Json(form): Json<PeopleForm>,
) -> ApiResult<Response> {
    if form.people.is_empty() {
        return Err(e::NO_PEOPLE);
    }
    if form.people.len() > MAX_PEOPLE {
        return Err(e::TOO_MANY_PEOPLE);
    }
    let people: Vec<PersonId> = form.people.into_iter().map(PersonId).collect();
    let outcome = state.store.add_chat_members(org, user.person_id, chat, &people, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Remove a participant. From an automatic chat they are removed by hand: the roster does not bring them back.
#[utoipa::path(delete, path = "/api/orgs/{org}/chats/{chat}/members/{person}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path), ("person" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat, person)): Path<(OrgId, ChatId, PersonId)>,
) -> ApiResult<Response> {
    let outcome = state.store.remove_chat_member(org, user.person_id, chat, person, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Appoint a member as a chat admin.
#[utoipa::path(put, path = "/api/orgs/{org}/chats/{chat}/admins/{person}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path), ("person" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn appoint_admin(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat, person)): Path<(OrgId, ChatId, PersonId)>,
) -> ApiResult<Response> {
    let outcome =
        state.store.set_chat_admin(org, user.person_id, chat, person, AdminChange::Appoint, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

/// Revoke a chat admin; the last one cannot be revoked.
#[utoipa::path(delete, path = "/api/orgs/{org}/chats/{chat}/admins/{person}", tag = "chat management",
    params(("org" = i64, Path), ("chat" = i64, Path), ("person" = i64, Path)),
    responses((status = 200, body = ManagedChatDetail), (status = 204), (status = 409, body = e::ErrorBody), (status = 410, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn revoke_admin(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat, person)): Path<(OrgId, ChatId, PersonId)>,
) -> ApiResult<Response> {
    let outcome =
        state.store.set_chat_admin(org, user.person_id, chat, person, AdminChange::Revoke, state.now()).await?;
    after_change(&state, &user, org, outcome).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// Part of a name, at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
    /// `administrator`, `teacher`, `other_staff`, `student` or `guardian`.
    #[param(schema_with = crate::openapi::role)]
    pub role: Option<String>,
    /// A class: its students, their parents, its teachers.
    pub class: Option<i64>,
    /// A subject: its teachers and students.
    pub subject: Option<i64>,
    /// Mark who is in this chat already.
    pub chat: Option<i64>,
    /// 1–500; 200 by default.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// People the signed-in employee may add to a chat, by name, role, class and subject.
#[utoipa::path(get, path = "/api/orgs/{org}/chats/candidates", tag = "chat management",
    params(("org" = i64, Path), CandidateQuery), responses((status = 200, body = Candidates)),
    security(("portal_session" = [])))]
pub async fn candidates(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<OrgId>,
    Query(q): Query<CandidateQuery>,
) -> Resp<Candidates> {
    let role = q
        .role
        .as_deref()
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).ok_or(e::INVALID_INPUT.field("role")))
        .transpose()?;
    let filter = CandidateFilter {
        query: e::search_text("q", q.q, MAX_SEARCH)?,
        role,
        class_id: q.class.map(ClassId),
        subject_id: q.subject.map(SubjectId),
        chat_id: q.chat.map(ChatId),
        // Within 1..=500, so the cast is exact.
        limit: e::bounded("limit", q.limit, 200, 1..=500)? as usize,
    };
    Ok(axum::Json(state.store.chat_candidates(org, user.person_id, &filter).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub chat: Option<i64>,
    /// Who acted.
    pub actor: Option<i64>,
    pub action: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
}

/// A page of the audit log.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditPage {
    /// 1–500; 100 by default.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Entries to skip; 0 by default.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The CSV has the whole log (up to this many entries) in one file.
const CSV_ENTRIES: i64 = 100_000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvOptions {
    /// The header's language: `ru` (the default) or `en`.
    #[param(inline)]
    pub lang: Option<Language>,
}

impl AuditQuery {
    fn filter(self, limit: i64, offset: i64) -> AuditFilter {
        AuditFilter {
            chat_id: self.chat.map(ChatId),
            actor_id: self.actor.map(PersonId),
            action: self.action.filter(|a| !a.is_empty()),
            from: self.from,
            to: self.to,
            limit,
            offset,
        }
    }
}

/// The chat-management audit log, newest first: who did what, when, before → after. Administrators only.
#[utoipa::path(get, path = "/api/orgs/{org}/chat-audit", tag = "chat management", params(("org" = i64, Path), AuditQuery, AuditPage),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn audit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<OrgId>,
    Query(q): Query<AuditQuery>,
    Query(page): Query<AuditPage>,
) -> Resp<Vec<AuditEntry>> {
    let filter =
        q.filter(e::bounded("limit", page.limit, 100, 1..=500)?, e::bounded("offset", page.offset, 0, 0..=i64::MAX)?);
    Ok(axum::Json(v1::list(state.store.chat_audit(org, user.person_id, &filter).await?)))
}

#[derive(Serialize)]
struct CsvRow<'a> {
    at: String,
    chat_id: i64,
    chat: &'a str,
    actor: &'a str,
    action: &'a str,
    person: &'a str,
    before: String,
    after: String,
}

/// The audit log as a CSV file (UTF-8 with a byte-order mark, so spreadsheets read the Cyrillic).
#[utoipa::path(get, path = "/api/orgs/{org}/chat-audit.csv", tag = "chat management", params(("org" = i64, Path), AuditQuery, CsvOptions),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn audit_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<OrgId>,
    Query(q): Query<AuditQuery>,
    Query(options): Query<CsvOptions>,
) -> ApiResult<Response> {
    let entries = state.store.chat_audit(org, user.person_id, &q.filter(CSV_ENTRIES, 0)).await?;
    let english = options.lang == Some(Language::En);
    let header: [&str; 8] = if english {
        ["time (UTC)", "chat id", "chat", "who", "action", "person", "before", "after"]
    } else {
        ["время (UTC)", "id чата", "чат", "кто", "действие", "участник", "было", "стало"]
    };
    let mut out = csv::WriterBuilder::new().has_headers(false).from_writer(b"\xEF\xBB\xBF".to_vec());
    let system = if english { "system" } else { "система" };
    let csv_failed = |err: csv::Error| {
        tracing::error!(error = %err, "cannot write the audit CSV");
        e::INTERNAL
    };
    out.write_record(header).map_err(csv_failed)?;
    for entry in &entries {
        out.serialize(CsvRow {
            at: chrono::DateTime::from_timestamp(entry.at, 0)
                .map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            chat_id: entry.chat_id.into(),
            chat: &entry.chat_name,
            actor: entry.actor_name.as_deref().unwrap_or(system),
            action: &entry.action,
            person: entry.person_name.as_deref().unwrap_or(""),
            before: entry.before.to_string(),
            after: entry.after.to_string(),
        })
        .map_err(csv_failed)?;
    }
    let body = out.into_inner().map_err(|err| csv_failed(err.into_error().into()))?;
    let file = format!("attachment; filename=\"chat-audit-{org}.csv\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file)], body)
        .into_response())
}
