//! Consent forms in parents' chats (issue 20): a chat admin asks (a message
//! whose text is the form's, through the group-commit writer like any send),
//! guardians answer per child, the admin reads the report, reminds the
//! families without an answer, reopens after the deadline and downloads the
//! CSV. Members get `consent` events with no family's answer in them; each
//! guardian reads their own children's rows.

use super::api::admit_in_chat;
use super::protocol::ReminderAbout;
use super::receipts::send_reminders;
use crate::AppState;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{Ack, AnswerForm, ConsentForm, ConsentReport, ConsentView, RemindResult, ReopenForm};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Offset;
use messenger::consent::ConsentSpec;
use messenger::flood::Action;
use serde::Deserialize;
use storage::{ConsentAnswer, NewConsentForm, NewMessage};
use utoipa::IntoParams;

/// Creates a consent form in a parents' chat (its admins only).
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/consent-forms", tag = "messenger",
    params(("chat" = i64, Path)), request_body = ConsentForm,
    responses((status = 200, body = Ack), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody),
        (status = 429, body = e::ErrorBody), (status = 503, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<ConsentForm>,
) -> ApiResult<axum::Json<Ack>> {
    let client_id = messenger::ClientId::parse(&form.client_id).map_err(|_| e::INVALID_CLIENT_ID)?;
    let now = state.now();
    let spec = ConsentSpec::parse(&form.title, &form.text, &form.options, form.deadline, form.comment_required, now)?;
    admit_in_chat(&state, user.account_id, chat, Action::Message).await?;
    let message = NewMessage {
        chat_id: chat,
        account_id: user.account_id,
        client_id,
        text: spec.text,
        reply_to: None,
        mentions: Vec::new(),
        attachments: Vec::new(),
        poll: None,
        consent: Some(NewConsentForm {
            title: spec.title,
            options: spec.options,
            deadline: spec.deadline,
            comment_required: spec.comment_required,
        }),
        urgent: false,
        now,
    };
    let committed = state.messenger.writer.send(message).await?;
    Ok(axum::Json(Ack::of(form.client_id, &committed)))
}

/// The form as the caller sees it: with their own children in the class and
/// each one's latest answer.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages/{message}/consent", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = ConsentView)),
    security(("messenger_session" = [])))]
pub async fn view(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<ConsentView>> {
    Ok(axum::Json(state.store.consent(user.account_id, chat, message).await?.into()))
}

/// Answers for one child until the deadline; the latest answer counts and
/// the earlier ones stay in the report's history.
#[utoipa::path(put, path = "/api/messenger/chats/{chat}/messages/{message}/consent", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)), request_body = AnswerForm,
    responses((status = 200, body = ConsentView), (status = 403, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn answer(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Json(form): Json<AnswerForm>,
) -> ApiResult<axum::Json<ConsentView>> {
    admit_in_chat(&state, user.account_id, chat, Action::Reaction).await?;
    let changed = state
        .store
        .answer_consent(user.account_id, chat, message, form.student, form.option, form.comment.as_deref(), state.now())
        .await?;
    state.messenger.publish_event(changed.event);
    Ok(axum::Json(changed.form.into()))
}

/// A chat admin takes answers again until a new deadline.
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages/{message}/consent/reopen", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)), request_body = ReopenForm,
    responses((status = 200, body = ConsentView), (status = 403, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn reopen(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Json(form): Json<ReopenForm>,
) -> ApiResult<axum::Json<ConsentView>> {
    admit_in_chat(&state, user.account_id, chat, Action::Write).await?;
    let changed = state.store.reopen_consent(user.account_id, chat, message, form.deadline, state.now()).await?;
    state.messenger.publish_event(changed.event);
    Ok(axum::Json(changed.form.into()))
}

/// Every student of the class: who answered, what, when and with what
/// comment, the earlier answers, and who has not (chat admins only).
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages/{message}/consent/report", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = ConsentReport), (status = 403, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn report(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<ConsentReport>> {
    Ok(axum::Json(state.store.consent_report(user.account_id, chat, message).await?.into()))
}

/// Reminds the guardians (in the chat) of students without an answer; at
/// most once per form in 12 hours (`reminded_recently` with `retry_after`).
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages/{message}/consent/remind", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = RemindResult), (status = 403, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn remind(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<RemindResult>> {
    state.flood.admit(user.account_id, Action::Write).await?;
    let reminded = state.store.remind_consent(user.account_id, chat, message, state.now()).await?;
    let (about, too_soon) = (ReminderAbout::Consent, e::CONSENT_REMINDED_RECENTLY);
    send_reminders(&state, user.account_id, chat, message, reminded, about, too_soon).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvQuery {
    /// The reader's offset from UTC in minutes (Moscow: 180), for the times;
    /// UTC without it.
    #[param(minimum = -720, maximum = 840)]
    pub offset: Option<i64>,
}

/// The report as CSV (UTF-8 with a byte-order mark) for the school's file:
/// the form's title, then one row per student.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages/{message}/consent.csv", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path), CsvQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn csv(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Query(q): Query<CsvQuery>,
) -> ApiResult<Response> {
    let offset = e::bounded("offset", q.offset, 0, -720..=840)?;
    let report = state.store.consent_report(user.account_id, chat, message).await?;
    let body = report_csv(&report, offset).map_err(|err| {
        tracing::error!(error = %err, "cannot write a consent form's CSV");
        e::INTERNAL
    })?;
    let file = format!("attachment; filename=\"consent-{message}.csv\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file)], body)
        .into_response())
}

fn report_csv(report: &storage::ConsentReport, offset_minutes: i64) -> Result<Vec<u8>, csv::Error> {
    let zone =
        i32::try_from(offset_minutes * 60).ok().and_then(chrono::FixedOffset::east_opt).unwrap_or(chrono::Utc.fix());
    let time = |at: i64| {
        chrono::DateTime::from_timestamp(at, 0)
            .map_or_else(String::new, |t| t.with_timezone(&zone).format("%d.%m.%Y %H:%M").to_string())
    };
    let option = |a: &ConsentAnswer| {
        usize::try_from(a.option).ok().and_then(|i| report.options.get(i)).cloned().unwrap_or_default()
    };
    // The title heads the file on a line of its own.
    let mut out = csv::WriterBuilder::new().has_headers(false).flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec());
    out.write_record([report.title.as_str()])?;
    let when = format!("когда (UTC{zone})");
    out.write_record(["ученик", "ответ", "комментарий", "кто ответил", when.as_str(), "прежние ответы"])?;
    for s in &report.students {
        let earlier: Vec<String> =
            s.history.iter().map(|a| format!("{} — {}, {}", option(a), a.by.name, time(a.at))).collect();
        match &s.answer {
            Some(a) => out.write_record([
                s.name.as_str(),
                option(a).as_str(),
                a.comment.as_deref().unwrap_or(""),
                a.by.name.as_str(),
                time(a.at).as_str(),
                earlier.join("; ").as_str(),
            ])?,
            None => out.write_record([s.name.as_str(), "нет ответа", "", "", "", ""])?,
        }
    }
    out.into_inner().map_err(|err| err.into_error().into())
}
