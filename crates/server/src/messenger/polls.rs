//! Polls (issue 20): creating one (a message whose text is the question,
//! through the group-commit writer like any send), voting, closing early and
//! the results as CSV. Results go to every member as `poll` events; an
//! anonymous poll names no voter anywhere — not in answers, events or CSV.

use super::api::{Ack, admit_in_chat};
use crate::AppState;
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use messenger::flood::Action;
use messenger::polls::{MAX_OPTIONS, PollSpec};
use serde::Deserialize;
use storage::{NewMessage, NewPoll, PollView};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
pub struct PollForm {
    /// The client's idempotency key, as in a send.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    /// Not blank, at most 500 characters once trimmed.
    #[schema(schema_with = crate::openapi::poll_question)]
    pub question: String,
    /// 2–10 options, each not blank, one line of at most 200 characters.
    #[schema(schema_with = crate::openapi::poll_options)]
    pub options: Vec<String>,
    /// Several answers may be chosen.
    #[serde(default)]
    pub multiple: bool,
    /// Nobody is ever told who chose what.
    #[serde(default)]
    pub anonymous: bool,
    /// When it closes (unix seconds, in the future); open until closed without it.
    pub closes_at: Option<i64>,
}

/// Creates a poll in the chat (anyone who may post there).
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/polls", tag = "messenger",
    params(("chat" = i64, Path)), request_body = PollForm,
    responses((status = 200, body = Ack), (status = 403, body = e::ErrorBody), (status = 429, body = e::ErrorBody),
        (status = 503, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn create(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<PollForm>,
) -> ApiResult<axum::Json<Ack>> {
    let client_id = messenger::ClientId::parse(&form.client_id).map_err(|_| e::INVALID_CLIENT_ID)?;
    let now = state.now();
    let spec = PollSpec::parse(&form.question, &form.options, form.multiple, form.anonymous, form.closes_at, now)?;
    admit_in_chat(&state, user.account_id, chat, Action::Message).await?;
    let message = NewMessage {
        chat_id: chat,
        account_id: user.account_id,
        client_id,
        text: spec.question,
        reply_to: None,
        mentions: Vec::new(),
        attachments: Vec::new(),
        poll: Some(NewPoll {
            options: spec.options,
            multiple: spec.multiple,
            anonymous: spec.anonymous,
            closes_at: spec.closes_at,
        }),
        consent: None,
        urgent: false,
        now,
    };
    let committed = state.messenger.writer.send(message).await?;
    Ok(axum::Json(Ack::of(form.client_id, &committed)))
}

#[derive(Deserialize, ToSchema)]
pub struct VoteForm {
    /// The chosen options' indexes (one, unless the poll takes several).
    #[schema(min_items = 1, max_items = 10)]
    pub options: Vec<i64>,
}

/// Votes, replacing the voter's earlier vote, while the poll is open.
#[utoipa::path(put, path = "/api/messenger/chats/{chat}/messages/{message}/vote", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)), request_body = VoteForm,
    responses((status = 200, body = PollView), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn vote(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Json(form): Json<VoteForm>,
) -> ApiResult<axum::Json<PollView>> {
    if form.options.len() > MAX_OPTIONS {
        return Err(e::INVALID_INPUT.field("options"));
    }
    admit_in_chat(&state, user.account_id, chat, Action::Reaction).await?;
    let changed = state.store.vote(user.account_id, chat, message, &form.options, state.now()).await?;
    state.messenger.publish_event(changed.event);
    Ok(axum::Json(changed.poll))
}

/// The poll's author closes it before its time.
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages/{message}/close-poll", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = PollView), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody),
        (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn close(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<PollView>> {
    admit_in_chat(&state, user.account_id, chat, Action::Write).await?;
    let changed = state.store.close_poll(user.account_id, chat, message, state.now()).await?;
    state.messenger.publish_event(changed.event);
    Ok(axum::Json(changed.poll))
}

/// The results as CSV (UTF-8 with a byte-order mark): one row per option,
/// with the voters' names in a named poll.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages/{message}/poll.csv", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, content_type = "text/csv", body = String)),
    security(("messenger_session" = [])))]
pub async fn csv(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<Response> {
    let export = state.store.poll_export(user.account_id, chat, message).await?;
    // The question heads the file on a line of its own.
    let mut out = csv::WriterBuilder::new().has_headers(false).flexible(true).from_writer(b"\xEF\xBB\xBF".to_vec());
    let failed = |err: csv::Error| {
        tracing::error!(error = %err, "cannot write a poll's CSV");
        e::INTERNAL
    };
    out.write_record([export.question.as_str()]).map_err(failed)?;
    if export.anonymous {
        out.write_record(["вариант", "голосов"]).map_err(failed)?;
    } else {
        out.write_record(["вариант", "голосов", "кто"]).map_err(failed)?;
    }
    for (option, votes, people) in &export.rows {
        let votes = votes.to_string();
        if export.anonymous {
            out.write_record([option.as_str(), votes.as_str()]).map_err(failed)?;
        } else {
            out.write_record([option.as_str(), votes.as_str(), people.join("; ").as_str()]).map_err(failed)?;
        }
    }
    let body = out.into_inner().map_err(|err| failed(err.into_error().into()))?;
    let file = format!("attachment; filename=\"poll-{message}.csv\"");
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, file)], body)
        .into_response())
}
