//! Read receipts for a chat's admins (issue 20): «Прочитали N из M» beside
//! each message, who has and has not read one, and «Напомнить», which tells
//! the open messengers of those who have not (a `reminder` frame).

use super::bus::BusMessage;
use super::protocol::{ReminderAbout, ServerFrame};
use crate::AppState;
use crate::error::extract::{Path, Query};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::notify::PayloadKind;
use crate::wire::v1::{ReceiptCounts, ReceiptReport, RemindResult};
use axum::extract::State;
use messenger::flood::Action;
use serde::Deserialize;
use storage::Reminded;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountsQuery {
    /// Messages from this sequence number on (the newest 200 of them).
    #[param(minimum = 0)]
    pub from: Option<i64>,
}

/// A chat admin's counts of who has read the chat's recent messages.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/receipts", tag = "messenger",
    params(("chat" = i64, Path), CountsQuery),
    responses((status = 200, body = ReceiptCounts), (status = 403, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn counts(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Query(q): Query<CountsQuery>,
) -> ApiResult<axum::Json<ReceiptCounts>> {
    let from = e::bounded("from", q.from, 0, 0..=i64::MAX)?;
    Ok(axum::Json(state.store.receipt_counts(user.account_id, chat, from).await?.into()))
}

/// Who has read a message and who has not: families by student in a
/// parents' chat, people elsewhere.
#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages/{message}/receipts", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 200, body = ReceiptReport), (status = 403, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn report(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<ReceiptReport>> {
    Ok(axum::Json(state.store.receipt_report(user.account_id, chat, message).await?.into()))
}

/// Reminds those who have not read a message; at most once per message in
/// 12 hours (`reminded_recently` with `retry_after` otherwise).
#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages/{message}/remind", tag = "messenger",
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
    let reminded = state.store.remind_unread(user.account_id, chat, message, state.now()).await?;
    send_reminders(&state, user.account_id, chat, message, reminded, ReminderAbout::Read, e::REMINDED_RECENTLY).await
}

/// Sends the `reminder` frames a recorded «Напомнить» asks for, or refuses
/// with `too_soon` and its `retry_after` when the last one was too recent.
pub(super) async fn send_reminders(
    state: &AppState,
    account: i64,
    chat: i64,
    message: i64,
    reminded: Reminded,
    about: ReminderAbout,
    too_soon: e::ApiError,
) -> ApiResult<axum::Json<RemindResult>> {
    match reminded {
        Reminded::TooSoon { retry_after } => Err(too_soon.retry_after(u64::try_from(retry_after).unwrap_or(0))),
        Reminded::Sent { accounts, people, next_at } => {
            let by = state.store.messenger_chat(account, chat).await?;
            if let Some(notifier) = state.messenger.notifier() {
                let reminder = PayloadKind::Reminder { chat, chat_name: by.name.clone(), message, about };
                notifier.remind(accounts.clone(), reminder);
            }
            let frame = ServerFrame::Reminder { chat, message, chat_name: by.name, about };
            state.messenger.bus.publish(BusMessage::ToAccounts { accounts, frame: frame.to_json().into() });
            Ok(axum::Json(RemindResult { people, next_reminder_at: next_at }))
        }
    }
}
