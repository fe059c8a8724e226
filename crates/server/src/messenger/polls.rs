//! Polls (issue 20): creating one (a message whose text is the question,
//! through the group-commit writer like any send), voting, closing early and
//! the results as CSV. Results go to every member as `poll` events, a few a
//! second at most ([`PollResults`]), naming no voter; an anonymous poll
//! names no voter anywhere — not in answers, events or CSV.

use super::api::admit_in_chat;
use super::bus::{Bus, BusMessage};
use super::protocol::ServerFrame;
use crate::error::extract::{Json, Path};
use crate::error::{self as e, ApiResult};
use crate::identity_api::MessengerUser;
use crate::wire::v1::{Ack, PollForm, PollView, VoteForm};
use crate::{AppState, Clock};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use messenger::flood::Action;
use messenger::polls::{MAX_OPTIONS, PollSpec};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storage::{NewMessage, NewPoll, Store};
use tokio::time::Instant;

/// A poll's results are logged and sent at most once per this: a class of
/// a thousand voting within two seconds gets every member eight updates,
/// not a thousand (a million frames in all).
pub const RESULTS_EVERY: Duration = Duration::from_millis(250);

/// Logs polls' results as `poll` events, at most once per [`RESULTS_EVERY`]
/// per poll: the first change at once, later ones in that interval together
/// at its end. A vote is committed (and marked unlogged) before this hears
/// of it, so a node that stops first leaves the mark for
/// [`PollResults::log_left_over`].
pub struct PollResults {
    store: Store,
    bus: Arc<dyn Bus>,
    /// Polls logged within the last interval: when, and whether a change
    /// waits for the interval's end.
    recent: Mutex<HashMap<i64, Recent>>,
}

struct Recent {
    logged: Instant,
    waiting: bool,
}

impl PollResults {
    pub fn new(store: Store, bus: Arc<dyn Bus>) -> Arc<PollResults> {
        Arc::new(PollResults { store, bus, recent: Mutex::new(HashMap::new()) })
    }

    /// A vote in the poll `message` of `chat` was committed.
    pub fn changed(self: &Arc<Self>, chat: i64, message: i64, clock: Clock) {
        let now = Instant::now();
        let due = {
            let mut recent = self.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            recent.retain(|_, r| r.waiting || now.duration_since(r.logged) < RESULTS_EVERY);
            match recent.get_mut(&message) {
                Some(r) if r.waiting => return,
                Some(r) => {
                    r.waiting = true;
                    r.logged + RESULTS_EVERY
                }
                None => {
                    recent.insert(message, Recent { logged: now, waiting: false });
                    now
                }
            }
        };
        let results = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            if let Some(r) = results.recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_mut(&message)
            {
                // Changes from here on wait for the next interval.
                *r = Recent { logged: Instant::now(), waiting: false };
            }
            results.log(chat, message, clock()).await;
        });
    }

    async fn log(&self, chat: i64, message: i64, now: i64) {
        match self.store.log_poll_results(chat, message, now).await {
            Ok(Some(event)) => {
                let seq = event.seq;
                let frame = ServerFrame::event(event).to_json();
                self.bus.publish(BusMessage::Chat { chat, seq: Some(seq), frame: frame.into() });
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(chat, message, error = %e, "cannot log a poll's results: left for the next vote or the background jobs")
            }
        }
    }

    /// Logs the results of polls whose node stopped between a vote and its
    /// event (the cluster's background jobs call this).
    pub async fn log_left_over(&self, now: i64) {
        match self.store.unlogged_polls().await {
            Ok(polls) => {
                for (chat, message) in polls {
                    self.log(chat, message, now).await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot list the polls whose results are unlogged"),
        }
    }
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
    let poll = state.store.vote(user.account_id, chat, message, &form.options, state.now()).await?;
    state.messenger.poll_results.changed(chat, message, state.clock.clone());
    Ok(axum::Json(poll.into()))
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
    Ok(axum::Json(changed.poll.into()))
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
