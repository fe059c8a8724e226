//! Scheduled messages («Отправить позже», issue 19): the author's endpoints
//! (schedule, list, edit, cancel) and [`send_due`], which the background jobs
//! run on the leading node. A due message goes through the group-commit
//! writer like one sent from a socket then: access, permissions and flood
//! control are those of that moment, its time is when it is sent, and its
//! event reaches every open socket of the chat — its author's too.

use super::api::admit_in_chat;
use crate::AppState;
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiError, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{self, ScheduleForm, ScheduledEditForm, ScheduledView};
use axum::extract::State;
use axum::http::StatusCode;
use messenger::flood::Action;
use messenger::{ClientId, MessageText};
use storage::{DueScheduled, NewMessage, NewScheduled, ScheduledChange, ScheduledOutcome};

/// Schedules a message to be sent in the chat later, as if its author sent
/// it then (no attachments).
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/scheduled", tag = "messenger",
    params(("chat" = i64, Path)), request_body = ScheduleForm,
    responses((status = 201, body = ScheduledView), (status = 400, body = e::ErrorBody),
        (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody),
        (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn schedule(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<ScheduleForm>,
) -> ApiResult<(StatusCode, axum::Json<ScheduledView>)> {
    let client_id = ClientId::parse(&form.client_id).map_err(|_| e::INVALID_CLIENT_ID.field("client_id"))?;
    let text = MessageText::parse(&form.text).map_err(|e| ApiError::from(e).field("text"))?;
    state.flood.admit(user.account_id, Action::Write).await?;
    let new = NewScheduled {
        chat_id: chat,
        account_id: user.account_id,
        client_id,
        text,
        reply_to: form.reply_to,
        mentions: messenger::mentions(&form.mentions, |_| true),
        send_at: form.send_at,
        now: state.now(),
    };
    let view = state.store.schedule_message(&new).await?;
    Ok((StatusCode::CREATED, axum::Json(view.into())))
}

/// The caller's own scheduled messages in the chat: those waiting, and
/// those sent or failed in the last 7 days, by time to send.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/scheduled", tag = "messenger",
    params(("chat" = i64, Path)),
    responses((status = 200, body = Vec<ScheduledView>), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn list(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<Vec<ScheduledView>>> {
    Ok(axum::Json(v1::list(state.store.scheduled_in_chat(user.account_id, chat, state.now()).await?)))
}

/// Changes the text or the time of one's own message while it waits.
#[utoipa::path(patch, path = "/api/messenger/scheduled/{scheduled}", tag = "messenger",
    params(("scheduled" = i64, Path)), request_body = ScheduledEditForm,
    responses((status = 200, body = ScheduledView), (status = 400, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(id): Path<i64>,
    Json(form): Json<ScheduledEditForm>,
) -> ApiResult<axum::Json<ScheduledView>> {
    let text = match &form.text {
        Some(text) => Some(MessageText::parse(text).map_err(|e| ApiError::from(e).field("text"))?),
        None => None,
    };
    state.flood.admit(user.account_id, Action::Write).await?;
    let change = ScheduledChange { text, send_at: form.send_at };
    Ok(axum::Json(state.store.edit_scheduled(user.account_id, id, &change, state.now()).await?.into()))
}

/// Cancels one's own message while it waits.
#[utoipa::path(delete, path = "/api/messenger/scheduled/{scheduled}", tag = "messenger",
    params(("scheduled" = i64, Path)),
    responses((status = 200, body = ScheduledView), (status = 404, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ScheduledView>> {
    state.flood.admit(user.account_id, Action::Write).await?;
    Ok(axum::Json(state.store.cancel_scheduled(user.account_id, id, state.now()).await?.into()))
}

/// The most due messages one round takes: the writer batches them.
const ROUND: i64 = 200;

/// Sends every message due now. A message whose author may not post now is
/// marked failed with the refusal's code; one the author's flood allowance
/// does not admit yet waits for a later round; one the database could not
/// take stays taken and is sent again next round with its client id, which
/// makes a message at most once.
pub async fn send_due(state: &AppState) {
    loop {
        let due = match state.store.claim_due_scheduled(state.now(), ROUND).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the scheduled messages due");
                return;
            }
        };
        let full = due.len() as i64 == ROUND;
        let sends = due.into_iter().map(|due| send_one(state, due));
        let outcomes = futures_util::future::join_all(sends).await;
        // A full round may have left more due; a round that sent nothing
        // (all waiting on flood control or the database) has done what it can.
        if !full || !outcomes.into_iter().any(|sent| sent) {
            return;
        }
    }
}

/// Sends one due message; true when it is settled (sent or failed).
async fn send_one(state: &AppState, due: DueScheduled) -> bool {
    let id = due.id;
    let (Ok(client_id), Ok(text)) = (ClientId::parse(&due.client_id), MessageText::parse(&due.text)) else {
        // Checked when scheduled: only a row changed by hand gets here.
        return settle(state, id, ScheduledOutcome::Failed(e::INVALID_INPUT.code)).await;
    };
    if admit_in_chat(state, due.account_id, due.chat_id, Action::Message).await.is_err() {
        if let Err(e) = state.store.release_scheduled(id).await {
            tracing::warn!(id, error = %e, "cannot put a scheduled message back");
        }
        return false;
    }
    let message = NewMessage {
        chat_id: due.chat_id,
        account_id: due.account_id,
        client_id,
        text,
        reply_to: due.reply_to,
        mentions: due.mentions,
        attachments: Vec::new(),
        poll: None,
        consent: None,
        // Scheduled for a time: what is urgent is sent now.
        urgent: false,
        now: state.now(),
    };
    let outcome = match state.messenger.writer.send(message).await {
        Ok(committed) => ScheduledOutcome::Sent(committed.message_id),
        Err(refused) if refused.status.is_client_error() => {
            ScheduledOutcome::Failed(if refused.code == e::NOT_FOUND.code { e::NOT_IN_CHAT.code } else { refused.code })
        }
        Err(failed) => {
            tracing::warn!(id, code = failed.code, "a scheduled message could not be written; trying again");
            return false;
        }
    };
    settle(state, id, outcome).await
}

async fn settle(state: &AppState, id: i64, outcome: ScheduledOutcome<'_>) -> bool {
    match state.store.finish_scheduled(id, outcome, state.now()).await {
        Ok(()) => true,
        Err(e) => {
            // Sent but not marked: the next round sends it again, and the
            // client id finds the message already made.
            tracing::warn!(id, error = %e, "cannot mark a scheduled message done");
            false
        }
    }
}
