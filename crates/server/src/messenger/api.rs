//! The messenger's HTTP endpoints (`/api/messenger/chats…`, `/api/messenger/direct`)
//! and the administrators' direct-message policy. Every change is published
//! on the bus after its commit, so open sockets see it at once.

use super::ws::parse_send;
use crate::AppState;
use crate::auth::OrgAdmin;
use crate::error::extract::{Json, Path, Query};
use crate::error::{self as e, ApiResult, UNKNOWN_REACTION};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{
    self, Ack, ChatSettingsForm, ChatSummary, DirectForm, DmPolicyEntry, EditForm, HistoryPage, Member, MessageView,
    ReadForm, SendForm,
};
use axum::extract::State;
use axum::http::StatusCode;
use messenger::flood::Action;
use messenger::{DmPolicy, DmRule, MessageText, Party, Reaction};
use serde::Deserialize;
use storage::{HistoryRange, MessageAction};
use utoipa::IntoParams;

#[utoipa::path(get, path = "/api/messenger/chats", tag = "messenger",
    responses((status = 200, body = Vec<ChatSummary>), (status = 401, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn chats(State(state): State<AppState>, user: MessengerUser) -> ApiResult<axum::Json<Vec<ChatSummary>>> {
    Ok(axum::Json(v1::list(state.store.messenger_chats(user.account_id).await?)))
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}", tag = "messenger", params(("chat" = i64, Path)),
    responses((status = 200, body = ChatSummary), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn chat(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<ChatSummary>> {
    Ok(axum::Json(state.store.messenger_chat(user.account_id, chat).await?.into()))
}

const MAX_DESCRIPTION: usize = 500;

/// A chat admin changes the chat's settings.
#[utoipa::path(patch, path = "/api/messenger/chats/{chat}", tag = "messenger", params(("chat" = i64, Path)),
    request_body = ChatSettingsForm,
    responses((status = 200, body = ChatSummary), (status = 403, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn update_chat(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<ChatSettingsForm>,
) -> ApiResult<axum::Json<ChatSummary>> {
    let description = form.description.map(|d| d.trim().to_string());
    if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION || d.chars().any(char::is_control)) {
        return Err(e::INVALID_INPUT.field("description"));
    }
    state.flood.admit(user.account_id, Action::Write).await?;
    let settings = storage::ChatSettings { announcement_only: form.announcement_only, description };
    let accounts = state.store.update_chat_settings(user.account_id, chat, &settings, state.now()).await?;
    state.messenger.accounts_changed(accounts);
    Ok(axum::Json(state.store.messenger_chat(user.account_id, chat).await?.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages before this sequence number (the newest page without it).
    pub before: Option<i64>,
    /// Messages after this sequence number instead (not with `before`).
    pub after: Option<i64>,
    /// 1–100; 50 by default.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/messages", tag = "messenger",
    params(("chat" = i64, Path), HistoryQuery),
    responses((status = 200, body = HistoryPage), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn history(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<axum::Json<HistoryPage>> {
    let limit = e::bounded("limit", q.limit, DEFAULT_PAGE, 1..=MAX_PAGE)?;
    if q.before.is_some() && q.after.is_some() {
        return Err(e::INVALID_INPUT.field("after"));
    }
    let range = match q.after {
        Some(seq) => HistoryRange::After { seq, limit },
        None => HistoryRange::Before { seq: q.before, limit },
    };
    Ok(axum::Json(state.store.history(user.account_id, chat, range).await?.into()))
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/pins", tag = "messenger", params(("chat" = i64, Path)),
    responses((status = 200, body = Vec<MessageView>), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn pins(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<Vec<MessageView>>> {
    let pinned = state.store.pinned_messages(user.account_id, chat).await?;
    Ok(axum::Json(pinned.into_iter().map(MessageView::for_viewer).collect()))
}

#[utoipa::path(get, path = "/api/messenger/chats/{chat}/members", tag = "messenger", params(("chat" = i64, Path)),
    responses((status = 200, body = Vec<Member>), (status = 404, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn members(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
) -> ApiResult<axum::Json<Vec<Member>>> {
    let members = state.store.chat_members(user.account_id, chat).await?;
    let people: Vec<i64> = members.iter().map(|m| m.person).collect();
    let online = state.messenger.online(&people);
    Ok(axum::Json(
        members
            .into_iter()
            .map(|member| Member { online: online.contains(&member.person), member: member.into() })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/messenger/chats/{chat}/messages", tag = "messenger",
    params(("chat" = i64, Path)), request_body = SendForm,
    responses((status = 200, body = Ack), (status = 400, body = e::ErrorBody), (status = 403, body = e::ErrorBody),
        (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 503, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn send(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<SendForm>,
) -> ApiResult<axum::Json<Ack>> {
    let send = super::ws::SendRequest {
        chat,
        client_id: &form.client_id,
        text: &form.text,
        reply_to: form.reply_to,
        mentions: form.mentions,
        attachments: form.attachments,
        urgent: form.urgent,
    };
    let message = parse_send(user.account_id, send, &state)?;
    admit_in_chat(&state, user.account_id, chat, Action::Message).await?;
    let committed = state.messenger.writer.send(message).await?;
    Ok(axum::Json(Ack::of(form.client_id, &committed)))
}

/// Admits one act in a chat against the person's allowance; a chat admin's
/// is larger there.
pub(super) async fn admit_in_chat(state: &AppState, account: i64, chat: i64, action: Action) -> ApiResult<()> {
    let is_admin = async { state.store.is_chat_admin(account, chat).await.unwrap_or(false) };
    state.flood.admit_in_chat(account, action, is_admin).await
}

async fn act(state: &AppState, user: &MessengerUser, chat: i64, message: i64, action: MessageAction) -> ApiResult<()> {
    let kind = match action {
        MessageAction::Edit(_) | MessageAction::Delete => Action::Message,
        MessageAction::React(_) | MessageAction::Unreact(_) | MessageAction::Pin | MessageAction::Unpin => {
            Action::Reaction
        }
    };
    admit_in_chat(state, user.account_id, chat, kind).await?;
    if let Some(event) = state.store.act_on_message(user.account_id, chat, message, &action, state.now()).await? {
        state.messenger.publish_event(event);
    }
    Ok(())
}

#[utoipa::path(patch, path = "/api/messenger/chats/{chat}/messages/{message}", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)), request_body = EditForm,
    responses((status = 204), (status = 400, body = e::ErrorBody), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn edit(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
    Json(form): Json<EditForm>,
) -> ApiResult<StatusCode> {
    let text = MessageText::parse(&form.text)?;
    act(&state, &user, chat, message, MessageAction::Edit(text)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/messenger/chats/{chat}/messages/{message}", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 204), (status = 403, body = e::ErrorBody), (status = 404, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    act(&state, &user, chat, message, MessageAction::Delete).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ReactionPath {
    pub chat: i64,
    pub message: i64,
    /// One of the ten reactions (a variation selector may be left out).
    #[param(schema_with = crate::openapi::reaction)]
    pub emoji: String,
}

impl ReactionPath {
    fn reaction(&self) -> ApiResult<Reaction> {
        Reaction::parse(&self.emoji).map_err(|_| UNKNOWN_REACTION.field("emoji"))
    }
}

#[utoipa::path(put, path = "/api/messenger/chats/{chat}/messages/{message}/reactions/{emoji}", tag = "messenger",
    params(ReactionPath),
    responses((status = 204), (status = 400, body = e::ErrorBody), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn react(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(p): Path<ReactionPath>,
) -> ApiResult<StatusCode> {
    act(&state, &user, p.chat, p.message, MessageAction::React(p.reaction()?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/messenger/chats/{chat}/messages/{message}/reactions/{emoji}", tag = "messenger",
    params(ReactionPath),
    responses((status = 204), (status = 400, body = e::ErrorBody), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn unreact(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(p): Path<ReactionPath>,
) -> ApiResult<StatusCode> {
    act(&state, &user, p.chat, p.message, MessageAction::Unreact(p.reaction()?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/messenger/chats/{chat}/messages/{message}/pin", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 204), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn pin(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    act(&state, &user, chat, message, MessageAction::Pin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/messenger/chats/{chat}/messages/{message}/pin", tag = "messenger",
    params(("chat" = i64, Path), ("message" = i64, Path)),
    responses((status = 204), (status = 403, body = e::ErrorBody), (status = 409, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn unpin(
    State(state): State<AppState>,
    user: MessengerUser,
    Path((chat, message)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    act(&state, &user, chat, message, MessageAction::Unpin).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/messenger/chats/{chat}/read", tag = "messenger",
    params(("chat" = i64, Path)), request_body = ReadForm, responses((status = 204)),
    security(("messenger_session" = [])))]
pub async fn read(
    State(state): State<AppState>,
    user: MessengerUser,
    Path(chat): Path<i64>,
    Json(form): Json<ReadForm>,
) -> ApiResult<StatusCode> {
    if let Some(mark) = state.store.mark_read(user.account_id, chat, form.seq, state.now()).await? {
        let frame = super::protocol::ServerFrame::Read { chat, person: mark.person_id, seq: mark.seq };
        state.messenger.publish_ephemeral(chat, &frame);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Opens (making on first use) the direct chat with a person of the same
/// school, if the school's direct-message rules allow it.
#[utoipa::path(post, path = "/api/messenger/direct", tag = "messenger", request_body = DirectForm,
    responses((status = 200, body = ChatSummary), (status = 403, body = e::ErrorBody),
        (status = 409, body = e::ErrorBody), (status = 404, body = e::ErrorBody), (status = 429, body = e::ErrorBody)),
    security(("messenger_session" = [])))]
pub async fn direct(
    State(state): State<AppState>,
    user: MessengerUser,
    Json(form): Json<DirectForm>,
) -> ApiResult<axum::Json<ChatSummary>> {
    state.flood.admit(user.account_id, Action::Write).await?;
    let chat = state.store.direct_chat(user.account_id, form.org, form.person, state.now()).await?;
    // Both people's open messengers learn of the new chat: the other
    // person's, and the creator's own sockets (this tab's too, which needs
    // it to subscribe and to call there).
    let mut accounts = state.store.accounts_of_people(form.org, &[form.person]).await?;
    accounts.push(user.account_id);
    state.messenger.accounts_changed(accounts);
    Ok(axum::Json(state.store.messenger_chat(user.account_id, chat).await?.into()))
}

fn entries(policy: &DmPolicy) -> Vec<DmPolicyEntry> {
    policy
        .entries()
        .map(|(from, to, rule)| DmPolicyEntry {
            from: from.as_str().into(),
            to: to.as_str().into(),
            rule: rule.as_str().into(),
        })
        .collect()
}

#[utoipa::path(get, path = "/api/orgs/{org}/dm-policy", tag = "roster", params(("org" = i64, Path)),
    responses((status = 200, body = Vec<DmPolicyEntry>), (status = 403, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn dm_policy(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
) -> ApiResult<axum::Json<Vec<DmPolicyEntry>>> {
    Ok(axum::Json(entries(&state.store.dm_policy(org).await?)))
}

/// Replaces the rules named in the body; pairs not named keep theirs.
#[utoipa::path(put, path = "/api/orgs/{org}/dm-policy", tag = "roster", params(("org" = i64, Path)),
    request_body = Vec<DmPolicyEntry>,
    responses((status = 200, body = Vec<DmPolicyEntry>), (status = 400, body = e::ErrorBody)),
    security(("portal_session" = [])))]
pub async fn set_dm_policy(
    State(state): State<AppState>,
    _: OrgAdmin,
    Path(org): Path<i64>,
    Json(changes): Json<Vec<DmPolicyEntry>>,
) -> ApiResult<axum::Json<Vec<DmPolicyEntry>>> {
    let mut policy = state.store.dm_policy(org).await?;
    for (i, change) in changes.iter().enumerate() {
        let (Some(from), Some(to), Some(rule)) =
            (Party::parse(&change.from), Party::parse(&change.to), DmRule::parse(&change.rule))
        else {
            return Err(e::INVALID_INPUT.field(format!("[{i}]")));
        };
        policy.set(from, to, rule);
    }
    state.store.set_dm_policy(org, &policy).await?;
    Ok(axum::Json(entries(&policy)))
}
