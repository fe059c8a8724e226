//! Safeguarding (DESIGN §6): any member reports a message from the messenger;
//! the school's administrators and the staff the director names responsible
//! for safeguarding work through the reports in the portal and decide (hide
//! the message, mute or remove its author, or dismiss). The store decides with
//! `messenger::report` inside the transaction that acts, so no separate check
//! here can be forgotten.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{
    self, BlockState, DecisionForm, MyReport, OversightEntry, OversightForm, OversightNotice, OversightView,
    ReportForm, ReportReceipt, ReportView, SafeguardingPerson,
};
use axum::extract::State;
use axum::http::StatusCode;
use messenger::ReportReason;
use messenger::flood::Action;
use messenger::report::{Decision, MAX_MUTE_MINUTES};
use serde::Deserialize;
use utoipa::IntoParams;

type Resp<T> = ApiResult<axum::Json<T>>;

const MAX_COMMENT: usize = 1_000;
pub(crate) const MAX_NOTE: usize = 500;

/// Free text of at most `max` characters once trimmed, no control characters
/// but line breaks.
pub(crate) fn free_text(field: &'static str, raw: &str, max: usize) -> ApiResult<String> {
    let text = raw.trim();
    if text.chars().count() > max || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(e::INVALID_INPUT.field(field));
    }
    Ok(text.to_string())
}

/// A member reports a message of their chat to the school's moderators; a
/// second report of the same message by the same person is the first.
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages/{message}/reports", tag = "safeguarding",
    params(("chat" = i64, Path), ("message" = i64, Path)), request_body = ReportForm,
    responses((status = 200, body = ReportReceipt), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn report(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Json(form): Json<ReportForm>,
) -> Resp<ReportReceipt> {
    let reason = ReportReason::parse(&form.reason).ok_or(e::INVALID_INPUT.field("reason"))?;
    let comment = free_text("comment", &form.comment, MAX_COMMENT)?;
    state.flood.admit(user.account_id, Action::Write).await?;
    Ok(axum::Json(
        state.store.report_message(user.account_id, chat, message, reason, &comment, state.now()).await?.into(),
    ))
}

/// The reports the signed-in person filed, with what became of them.
#[utoipa::path(get, path = "/api/messenger/reports", tag = "safeguarding",
    responses((status = 200, body = Vec<MyReport>)),
    security(("messenger_session" = [])))]
pub async fn my_reports(State(state): State<AppState>, user: MessengerUser) -> Resp<Vec<MyReport>> {
    Ok(axum::Json(v1::list(state.store.my_reports(user.account_id).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Decided reports instead of open ones.
    #[serde(default)]
    pub decided: bool,
}

/// The school's moderation queue: open reports, newest first (or decided ones).
#[utoipa::path(get, path = "/api/orgs/{org}/reports", tag = "safeguarding", params(("org" = i64, Path), QueueQuery),
    responses((status = 200, body = Vec<ReportView>)),
    security(("portal_session" = [])))]
pub async fn queue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
    Query(q): Query<QueueQuery>,
) -> Resp<Vec<ReportView>> {
    Ok(axum::Json(v1::list(state.store.reports(org, i64::from(user.person_id), !q.decided).await?)))
}

#[utoipa::path(get, path = "/api/orgs/{org}/reports/{report}", tag = "safeguarding",
    params(("org" = i64, Path), ("report" = i64, Path)),
    responses((status = 200, body = ReportView)),
    security(("portal_session" = [])))]
pub async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, report)): Path<(i64, i64)>,
) -> Resp<ReportView> {
    Ok(axum::Json(state.store.report(org, i64::from(user.person_id), report).await?.into()))
}

/// Decides a report once: everything it does goes to the chat audit log.
#[utoipa::path(post, path = "/api/orgs/{org}/reports/{report}/decision", tag = "safeguarding",
    params(("org" = i64, Path), ("report" = i64, Path)), request_body = DecisionForm,
    responses((status = 200, body = ReportView), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, report)): Path<(i64, i64)>,
    Json(form): Json<DecisionForm>,
) -> Resp<ReportView> {
    if form.mute_minutes.is_some_and(|m| !(1..=MAX_MUTE_MINUTES).contains(&m)) {
        return Err(e::INVALID_INPUT.field("mute_minutes"));
    }
    let note = free_text("note", &form.note, MAX_NOTE)?;
    let decision = Decision { hide: form.hide, mute_minutes: form.mute_minutes, remove: form.remove };
    let decided =
        state.store.decide_report(org, i64::from(user.person_id), report, decision, &note, state.now()).await?;
    if let Some(event) = decided.event {
        state.messenger.publish_event(event);
    }
    if !decided.people.is_empty() {
        // The removed author's messengers lose the chat at once.
        state.messenger.accounts_changed(state.store.accounts_of_people(org, &decided.people).await?);
    }
    Ok(axum::Json(state.store.report(org, i64::from(user.person_id), report).await?.into()))
}

#[utoipa::path(get, path = "/api/orgs/{org}/safeguarding-staff", tag = "safeguarding", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<SafeguardingPerson>)),
    security(("portal_session" = [])))]
pub async fn staff(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
) -> Resp<Vec<SafeguardingPerson>> {
    Ok(axum::Json(v1::list(state.store.safeguarding_staff(org, i64::from(user.person_id)).await?)))
}

/// An administrator names an employee responsible for safeguarding.
#[utoipa::path(put, path = "/api/orgs/{org}/safeguarding-staff/{person}", tag = "safeguarding",
    params(("org" = i64, Path), ("person" = i64, Path)),
    responses((status = 204), (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn name_staff(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, person)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.set_safeguarding(org, i64::from(user.person_id), person, true, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/orgs/{org}/safeguarding-staff/{person}", tag = "safeguarding",
    params(("org" = i64, Path), ("person" = i64, Path)),
    responses((status = 204), (status = 409, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn unname_staff(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, person)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    state.store.set_safeguarding(org, i64::from(user.person_id), person, false, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/block", tag = "safeguarding", params(("chat" = i64, Path)),
    responses((status = 200, body = BlockState), (status = 409, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn block_state(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> Resp<BlockState> {
    Ok(axum::Json(BlockState { blocked: state.store.blocked(user.account_id, chat).await? }))
}

/// Blocks the other person of a direct chat from writing here; group chats
/// they share are not affected.
#[utoipa::path(put, path = "/api/messenger/chats/{chat}/block", tag = "safeguarding", params(("chat" = i64, Path)),
    responses((status = 204), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn block(State(state): State<AppState>, user: MessengerUser, Path(chat): Path<i64>) -> ApiResult<StatusCode> {
    state.flood.admit(user.account_id, Action::Write).await?;
    state.store.set_blocked(user.account_id, chat, true, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/messenger/chats/{chat}/block", tag = "safeguarding", params(("chat" = i64, Path)),
    responses((status = 204), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn unblock(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<StatusCode> {
    state.flood.admit(user.account_id, Action::Write).await?;
    state.store.set_blocked(user.account_id, chat, false, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A moderator opens a chat of the school read-only, giving a reason; the
/// opening is logged and its members are told of it (never who or why).
#[utoipa::path(post, path = "/api/orgs/{org}/chats/{chat}/oversight", tag = "safeguarding",
    params(("org" = i64, Path), ("chat" = i64, Path)), request_body = OversightForm,
    responses((status = 200, body = OversightView)),
    security(("portal_session" = [])))]
pub async fn oversee(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((org, chat)): Path<(i64, i64)>,
    Json(form): Json<OversightForm>,
) -> Resp<OversightView> {
    let reason = free_text("reason", &form.reason, MAX_NOTE)?;
    if reason.is_empty() {
        return Err(e::INVALID_INPUT.field("reason"));
    }
    Ok(axum::Json(state.store.oversee(org, i64::from(user.person_id), chat, &reason, state.now()).await?.into()))
}

/// Every opening of the school's chats: who, when, which chat, why.
#[utoipa::path(get, path = "/api/orgs/{org}/oversight", tag = "safeguarding", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<OversightEntry>)),
    security(("portal_session" = [])))]
pub async fn oversight_log(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(org): Path<i64>,
) -> Resp<Vec<OversightEntry>> {
    Ok(axum::Json(v1::list(state.store.oversight_log(org, i64::from(user.person_id)).await?)))
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/oversight", tag = "safeguarding", params(("chat" = i64, Path)),
    responses((status = 200, body = OversightNotice)),
    security(("messenger_session" = [])))]
pub async fn oversight_notice(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> Resp<OversightNotice> {
    Ok(axum::Json(OversightNotice { dates: state.store.oversight_notice(user.account_id, chat, state.now()).await? }))
}
