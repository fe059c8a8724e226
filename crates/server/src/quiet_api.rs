//! A school's quiet hours (issue 19): its administrators set them and see
//! how often «Срочно» cut through them; someone writing into a chat they
//! cover is told until when nobody will be notified.

use crate::auth::OrgAdmin;
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{self, ChatQuiet, PeriodForm, QuietHoursForm, QuietHoursView};
use crate::{AppState, ConcernsOnly};
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use messenger::quiet::{Period, QuietError, QuietHours, WeekTime};
use storage::{StorageError, Store};

/// How far back administrators see «Срочно» used.
const USAGE_DAYS: i64 = 30;

/// The school's quiet hours: its own, or `default` (the configured zone,
/// weekday evenings and weekends, parents' and class chats).
pub(crate) async fn of_school(store: &Store, default: &QuietHours, org: i64) -> Result<QuietHours, StorageError> {
    Ok(store.quiet_hours(org).await?.unwrap_or_else(|| default.clone()))
}

async fn view(state: &AppState, org: i64) -> ApiResult<QuietHoursView> {
    let chosen = state.store.quiet_hours(org).await?;
    let hours = chosen.clone().unwrap_or_else(|| state.default_quiet.clone());
    let since = state.now() - USAGE_DAYS * 24 * 3600;
    Ok(QuietHoursView {
        time_zone: hours.zone().into(),
        periods: hours.periods().iter().map(PeriodForm::of).collect(),
        chat_kinds: hours.kinds().to_vec(),
        chosen: chosen.is_some(),
        urgent_usage: v1::list(state.store.urgent_usage(org, since).await?),
    })
}

fn refused(problem: &QuietError) -> e::ApiError {
    e::QUIET_HOURS_INVALID.detail(problem.to_string(), problem.english())
}

fn parse(form: QuietHoursForm) -> ApiResult<QuietHours> {
    let mut periods = Vec::with_capacity(form.periods.len());
    for (i, p) in form.periods.iter().enumerate() {
        let from = WeekTime::parse(&p.from_day, &p.from).map_err(|q| refused(&q).field(format!("periods[{i}]")))?;
        let to = WeekTime::parse(&p.to_day, &p.to).map_err(|q| refused(&q).field(format!("periods[{i}]")))?;
        periods.push(Period { from, to });
    }
    QuietHours::new(form.time_zone.trim(), periods, form.chat_kinds).map_err(|q| refused(&q))
}

#[utoipa::path(get, path = "/api/orgs/{org}/quiet-hours", tag = "quiet hours", params(("org" = i64, Path)),
    responses((status = 200, body = QuietHoursView), (status = 401, body = e::ErrorBody), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn quiet_hours(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<QuietHoursView>> {
    Ok(axum::Json(view(&state, org).await?))
}

/// Replaces the school's quiet hours; nothing is stored unless all of it is valid.
#[utoipa::path(put, path = "/api/orgs/{org}/quiet-hours", tag = "quiet hours", params(("org" = i64, Path)),
    request_body = QuietHoursForm,
    responses((status = 200, body = QuietHoursView), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn set_quiet_hours(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
    Json(form): Json<QuietHoursForm>,
) -> ApiResult<Response> {
    let hours = parse(form)?;
    state.store.set_quiet_hours(org, &hours, state.now()).await?;
    // Nobody's chats change.
    Ok((Extension(ConcernsOnly(Vec::new())), axum::Json(view(&state, org).await?)).into_response())
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/quiet", tag = "quiet hours", params(("chat" = i64, Path)),
    responses((status = 200, body = ChatQuiet), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn chat_quiet(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<ChatQuiet>> {
    let summary = state.store.messenger_chat(user.account_id, chat).await?;
    let hours = of_school(&state.store, &state.default_quiet, summary.org).await?;
    let quiet = hours.quiet(&summary.kind, state.now());
    Ok(axum::Json(ChatQuiet {
        quiet: quiet.is_some(),
        until: quiet.map(|q| q.until),
        until_local: quiet.map(|q| format!("{:02}:{:02}", q.until_hour, q.until_minute)),
    }))
}
