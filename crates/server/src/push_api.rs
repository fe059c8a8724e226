//! Web Push subscriptions (issue 19): the key a page subscribes with, and a
//! browser's subscription kept for the messenger session that made it.

use crate::AppState;
use crate::error::extract::Json;
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::notify::Notifier;
use axum::extract::State;
use axum::http::StatusCode;
use push::SubscriptionError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use storage::SubscriptionTaken;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID public key (an uncompressed P-256 point, base64url): the
    /// `applicationServerKey` of `pushManager.subscribe`.
    pub key: String,
}

/// A browser's `PushSubscription.toJSON()` (its `expirationTime` is not
/// needed: a push service answers 410 for an ended subscription).
#[derive(Deserialize, ToSchema)]
pub struct SubscriptionForm {
    pub endpoint: String,
    pub keys: SubscriptionKeys,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

#[derive(Deserialize, ToSchema)]
pub struct EndpointForm {
    pub endpoint: String,
}

fn notifier(state: &AppState) -> ApiResult<&Arc<Notifier>> {
    state.push.as_ref().ok_or(e::PUSH_UNAVAILABLE)
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

/// A person's notification settings, on every device.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PushSettings {
    /// Show the message's text in a notification; off, only who wrote where.
    pub previews: bool,
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
