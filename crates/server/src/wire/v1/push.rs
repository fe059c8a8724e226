//! Web Push: the key a page subscribes with, subscriptions, and a person's
//! notification settings.

use messenger::notify::Level;
use serde::{Deserialize, Serialize};
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

/// A person's notification settings, on every device.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PushSettings {
    /// Show the message's text in a notification; off, only who wrote where.
    pub previews: bool,
}

/// A person's notifications in one chat.
#[derive(Serialize, ToSchema)]
pub struct ChatNotifications {
    /// `all` («Все сообщения»), `important` («Только от учителя и
    /// упоминания») or `mentions`: what is in force now, chosen or not.
    #[schema(value_type = String)]
    pub level: Level,
    /// The person chose `level`; false: the chat's kind decides.
    pub chosen: bool,
    /// What the chat's kind gives until one is chosen.
    #[schema(value_type = String)]
    pub default_level: Level,
    /// «Без уведомлений» (only mentions) until then; absent when not muted,
    /// the largest 64-bit number for «пока не включу».
    pub muted_until: Option<i64>,
}

/// A change of a person's notifications in one chat.
#[derive(Deserialize, ToSchema)]
pub struct ChatNotificationsForm {
    pub level: Option<LevelChoice>,
    pub mute: Option<MuteChoice>,
}

/// A level, or `default` to let the chat's kind decide again.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum LevelChoice {
    All,
    Important,
    Mentions,
    Default,
}

/// «Без уведомлений» for an hour, eight hours or until turned on; `off`
/// ends it.
#[derive(Deserialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub enum MuteChoice {
    Hour,
    EightHours,
    UntilOn,
    Off,
}
