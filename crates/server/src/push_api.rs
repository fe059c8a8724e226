//! Web Push subscriptions (issue 19): the key a page subscribes with, and a
//! browser's subscription kept for the messenger session that made it.

use crate::AppState;
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::notify::Notifier;
use crate::wire::v1::{
    ChatNotifications, ChatNotificationsForm, EndpointForm, LevelChoice, MuteChoice, PushKey, PushSettings,
    SubscriptionForm,
};
use axum::extract::State;
use axum::http::StatusCode;
use messenger::notify::{self, Level, Mute};
use push::SubscriptionError;
use std::sync::Arc;
use storage::{ChatSummary, NotifySetting, SubscriptionTaken};

fn notifier(state: &AppState) -> ApiResult<&Arc<Notifier>> {
    state.messenger.notifier().ok_or(e::PUSH_UNAVAILABLE)
}

#[utoipa::path(get, path = "/api/push/key", tag = "push",
    responses((status = 200, body = PushKey), (status = 503, body = e::ErrorBody)))]
pub async fn key(State(state): State<AppState>) -> ApiResult<axum::Json<PushKey>> {
    Ok(axum::Json(PushKey { key: notifier(&state)?.public_key() }))
}

#[utoipa::path(post, path = "/api/push/subscriptions", tag = "push", request_body = SubscriptionForm,
    responses((status = 204, description = "Kept for this session's device"), (status = 400, body = e::ErrorBody),
        (status = 401, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 503, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn subscribe(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<SubscriptionForm>,
) -> ApiResult<StatusCode> {
    let checked =
        notifier(&state)?.check(&form.endpoint, &form.keys.p256dh, &form.keys.auth).map_err(
            |refused| match refused {
                SubscriptionError::NotAUrl => e::INVALID_INPUT.field("endpoint"),
                SubscriptionError::NotHttps => e::PUSH_ENDPOINT_NOT_HTTPS.field("endpoint"),
                SubscriptionError::NotAllowed(_) => e::PUSH_ENDPOINT_NOT_ALLOWED.field("endpoint"),
                SubscriptionError::BadPublicKey => e::INVALID_INPUT.field("keys.p256dh"),
                SubscriptionError::BadAuth => e::INVALID_INPUT.field("keys.auth"),
            },
        )?;
    let saved = state
        .store
        .save_push_subscription(user.session_id, &checked.endpoint, &checked.p256dh, &checked.auth, state.now())
        .await?;
    match saved {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(SubscriptionTaken::ByAnotherAccount) => Err(e::PUSH_SUBSCRIPTION_TAKEN),
    }
}

#[utoipa::path(delete, path = "/api/push/subscriptions", tag = "push", request_body = EndpointForm,
    responses((status = 204, description = "Removed"), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<EndpointForm>,
) -> ApiResult<StatusCode> {
    if state.store.delete_push_subscription(user.account_id, form.endpoint.trim()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(e::PUSH_SUBSCRIPTION_NOT_FOUND)
    }
}

#[utoipa::path(get, path = "/api/push/settings", tag = "push",
    responses((status = 200, body = PushSettings), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn settings(State(state): State<AppState>, user: MessengerUser) -> ApiResult<axum::Json<PushSettings>> {
    Ok(axum::Json(PushSettings { previews: state.store.push_previews(user.account_id).await? }))
}

#[utoipa::path(put, path = "/api/push/settings", tag = "push", request_body = PushSettings,
    responses((status = 200, body = PushSettings), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn save_settings(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<PushSettings>,
) -> ApiResult<axum::Json<PushSettings>> {
    state.store.set_push_previews(user.account_id, form.previews).await?;
    Ok(axum::Json(form))
}

/// The person's notifications in the chat, from its summary (kind, size,
/// their adminship) and their setting.
fn notifications_of(summary: &ChatSummary, setting: NotifySetting, now: i64) -> ChatNotifications {
    let default_level = notify::default_level(&summary.kind, summary.members, summary.admin);
    ChatNotifications {
        level: setting.level.unwrap_or(default_level),
        chosen: setting.level.is_some(),
        default_level,
        muted_until: setting.muted_until.filter(|_| setting.muted(now)),
    }
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/notifications", tag = "push", params(("chat" = i64, Path)),
    responses((status = 200, body = ChatNotifications), (status = 401, body = e::ErrorBody), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn chat_notifications(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<ChatNotifications>> {
    let summary = state.store.messenger_chat(user.account_id, chat).await?;
    let setting = state.store.notify_setting(chat, summary.me).await?;
    Ok(axum::Json(notifications_of(&summary, setting, state.now())))
}

#[utoipa::path(put, path = "/api/messenger/chats/{chat}/notifications", tag = "push", params(("chat" = i64, Path)),
    request_body = ChatNotificationsForm,
    responses((status = 200, body = ChatNotifications), (status = 400, body = e::ErrorBody), (status = 401, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn set_chat_notifications(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<ChatNotificationsForm>,
) -> ApiResult<axum::Json<ChatNotifications>> {
    let summary = state.store.messenger_chat(user.account_id, chat).await?;
    let mut setting = state.store.notify_setting(chat, summary.me).await?;
    if let Some(choice) = form.level {
        setting.level = match choice {
            LevelChoice::All => Some(Level::All),
            LevelChoice::Important => Some(Level::Important),
            LevelChoice::Mentions => Some(Level::Mentions),
            LevelChoice::Default => None,
        };
    }
    let now = state.now();
    if let Some(choice) = form.mute {
        setting.muted_until = match choice {
            MuteChoice::Hour => Some(Mute::Hour.until(now)),
            MuteChoice::EightHours => Some(Mute::EightHours.until(now)),
            MuteChoice::UntilOn => Some(Mute::UntilOn.until(now)),
            MuteChoice::Off => None,
        };
    }
    state.store.set_notify_setting(chat, summary.me, setting).await?;
    Ok(axum::Json(notifications_of(&summary, setting, now)))
}
