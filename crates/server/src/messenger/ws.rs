//! `/api/ws`: one WebSocket per client tab. The connection replays what the
//! client missed (from the positions in its `hello`), then forwards live
//! events in sequence order, exactly once each: an event at or below the
//! position it already sent is skipped, and an event after a gap waits a
//! moment for the missing ones (several nodes publish one chat's events, so
//! they may arrive out of order) before the gap is filled from the database.

use super::calls::{Caller, Line};
use super::hub::{Outbound, QUEUE, Registration};
use super::protocol::{ByeReason, ClientFrame, Position, ServerFrame, VERSION};
use super::writer::AckTo;
use crate::AppState;
use crate::connections::ProxiedSlot;
use crate::error::{ApiError, FORBIDDEN, INVALID_CLIENT_ID, INVALID_INPUT, UNAVAILABLE};
use crate::identity_api::MessengerUser;
use axum::Extension;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use messenger::flood::{self, Action};
use roster::ids::PersonId;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use storage::NewMessage;
use tokio::sync::{Semaphore, mpsc};

/// Events replayed per chat on resume; further behind, the client reloads.
const REPLAY_LIMIT: i64 = 1000;
/// How long an event after a gap waits for the missing ones to arrive from
/// the bus before they are read from the database; and how many may wait.
const REORDER_WAIT: Duration = Duration::from_millis(100);
const REORDER_LIMIT: usize = 256;
const PING_EVERY: Duration = Duration::from_secs(30);
const SILENCE_LIMIT: Duration = Duration::from_secs(90);
/// Frames written to a socket before one flush: enough to fill a TCP segment
/// many times over, few enough that a busy class chat does not delay a ping.
const FEED_BATCH: usize = 64;
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// Sends of one connection awaiting their commit at once.
const IN_FLIGHT: usize = 256;
/// Client frames are small (a send is at most 10,000 characters); a small
/// read buffer keeps an idle connection cheap.
const READ_BUFFER: usize = 1024;
/// A call's SDP answer grows by ~1.8 KiB a participant: 256 KiB holds a
/// call of over a hundred.
const MAX_FRAME: usize = 256 * 1024;

/// The WebSocket handshake: a messenger session (cookie) from this site.
pub async fn upgrade(
    State(state): State<AppState>,
    user: MessengerUser,
    headers: HeaderMap,
    proxied: Option<Extension<ProxiedSlot>>,
    ws: WebSocketUpgrade,
) -> Response {
    // Cookies ride along on cross-site WebSocket handshakes too: only pages
    // served by this host may open one.
    if !same_origin(&headers) {
        return FORBIDDEN.into_response();
    }
    // A 1 KiB read buffer instead of tungstenite's 128 KiB: idle connections
    // are most of a school's connections.
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(4096)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |mut socket| {
            // Built before the task's future, which then holds each part once.
            let mut connection = Connection::new(state, user);
            async move {
                let open = metrics::gauge!(crate::metrics::WEBSOCKETS_OPEN);
                open.increment(1.0);
                // Behind a proxy, the socket counts against its client's address
                // for as long as it is open.
                let _proxied = proxied;
                let ended = connection.run(&mut socket).await;
                open.decrement(1.0);
                if let Err(e) = ended {
                    tracing::debug!(account = connection.account, error = %e, "messenger connection ended");
                }
                // Its call seats wait a while for the client to come back.
                Box::pin(connection.state.calls.connection_closed(connection.id)).await;
            }
        })
}

fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        // Not a browser (a test client or a native app): cookies are its own.
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

#[derive(Debug, thiserror::Error)]
enum ConnectionError {
    #[error("socket: {0}")]
    Socket(#[from] axum::Error),
    #[error("storage: {0}")]
    Storage(#[from] storage::StorageError),
}

/// What happened on the socket or the queues, one at a time.
enum Step {
    Client(Option<Result<Message, axum::Error>>),
    Hub(Option<Outbound>),
    /// The socket may be read again after a pause for its frame rate.
    Resume,
    /// Events that came after a gap waited long enough: fill it from the database.
    Gap,
    Ping,
    Stop,
}

/// Connection ids, unique in this process: a call seat names its connection.
static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

struct Connection {
    state: AppState,
    id: u64,
    account: i64,
    session: i64,
    /// The person the account is in each chat it may open.
    people: HashMap<i64, i64>,
    /// The chats it admins: a larger allowance for messages there.
    admin_of: HashSet<i64>,
    /// The highest event sent per chat; absent until the first one.
    positions: HashMap<i64, i64>,
    /// Events that came after a gap, per chat, waiting for the missing ones;
    /// and since when the oldest has waited.
    early: HashMap<i64, (Instant, BTreeMap<i64, Utf8Bytes>)>,
    names: HashMap<i64, String>,
    last_typing: HashMap<i64, Instant>,
    /// Sends awaiting their commit.
    in_flight: Arc<Semaphore>,
    /// The socket's frame allowance (GCRA), in `state.flood`'s milliseconds.
    frames_tat: Option<u64>,
}

impl Connection {
    fn new(state: AppState, user: MessengerUser) -> Self {
        Connection {
            state,
            id: NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed),
            account: user.account_id,
            session: user.session_id,
            people: HashMap::new(),
            admin_of: HashSet::new(),
            positions: HashMap::new(),
            early: HashMap::new(),
            names: HashMap::new(),
            last_typing: HashMap::new(),
            in_flight: Arc::new(Semaphore::new(IN_FLIGHT)),
            frames_tat: None,
        }
    }

    /// Serves the socket until it closes. The socket is borrowed, not moved
    /// in: a moved argument would take its room twice in this future, which
    /// every idle connection keeps for as long as it is open.
    async fn run(&mut self, socket: &mut WebSocket) -> Result<(), ConnectionError> {
        // Rare steps are boxed: the task of an idle connection then holds only
        // the loop's state, not the largest future it might ever await.
        let Some(positions) = Box::pin(self.hello(socket)).await? else {
            return Box::pin(bye(socket, ByeReason::Protocol)).await;
        };
        let (tx, mut rx) = mpsc::channel(QUEUE);
        // Replies join the same queue through a weak handle, so the queue
        // still closes when the hub drops a slow consumer.
        let replies = tx.downgrade();
        self.state.calls.connection_opened(self.id, replies.clone());
        // Subscribe first, replay second: whatever commits in between arrives
        // on the queue and is de-duplicated by sequence number.
        let registration = Box::pin(self.subscribe(tx)).await?;
        Box::pin(self.replay_positions(socket, positions)).await?;

        let mut stopping = self.state.messenger.stopping();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut heard = Instant::now();
        // Something taken off the queue while feeding frames that is not a
        // frame (a reload): handled next, in its turn.
        let mut deferred = None;
        loop {
            // At the in-flight limit, or past the socket's frame rate, the
            // socket is not read (TCP slows the client down) while the queue
            // keeps draining: acks travel on it, and each one frees a slot.
            let flood = &self.state.flood;
            let readable_at = flood::conforms_at(self.frames_tat, flood.limits.socket);
            let paced = readable_at > flood.now();
            let may_read = self.in_flight.available_permits() > 0 && !paced;
            let resume = tokio::time::sleep(Duration::from_millis(readable_at.saturating_sub(flood.now())));
            let gap_due = self.early.values().map(|(since, _)| *since + REORDER_WAIT).min();
            let gap = tokio::time::sleep_until(gap_due.unwrap_or_else(Instant::now).into());
            let step = match deferred.take() {
                Some(out) => Step::Hub(Some(out)),
                None => tokio::select! {
                    message = socket.recv(), if may_read => Step::Client(message),
                    out = rx.recv() => Step::Hub(out),
                    () = resume, if paced => Step::Resume,
                    () = gap, if gap_due.is_some() => Step::Gap,
                    _ = ping.tick() => Step::Ping,
                    _ = stopping.changed() => Step::Stop,
                },
            };
            match step {
                Step::Client(None) | Step::Client(Some(Ok(Message::Close(_)))) => return Ok(()),
                Step::Client(Some(Err(e))) => return Err(e.into()),
                Step::Client(Some(Ok(message))) => {
                    heard = Instant::now();
                    let flood = &self.state.flood;
                    self.frames_tat = Some(flood::charge(self.frames_tat, flood.now(), flood.limits.socket));
                    if let Message::Text(text) = message {
                        Box::pin(self.on_client_frame(socket, &text, &replies)).await?;
                    }
                }
                Step::Hub(Some(first @ (Outbound::Chat(_) | Outbound::ChatRun(_) | Outbound::Reply(_)))) => {
                    deferred = self.feed_ready(socket, &mut rx, first).await?;
                }
                Step::Hub(Some(out @ (Outbound::Reload | Outbound::CatchUp))) => {
                    let ended = Box::pin(self.reload(&registration)).await?;
                    // Calls in chats the account left (all of them, when its
                    // session ended) drop it now, not after the grace period.
                    let chats: HashSet<i64> =
                        if ended.is_some() { HashSet::new() } else { self.people.keys().copied().collect() };
                    Box::pin(self.state.calls.memberships_changed(self.id, &chats)).await;
                    if let Some(reason) = ended {
                        return Box::pin(bye(socket, reason)).await;
                    }
                    send(socket, &ServerFrame::ChatsChanged).await?;
                    if matches!(out, Outbound::CatchUp) {
                        Box::pin(self.catch_up(socket)).await?;
                    }
                }
                // The hub dropped us: we fell too far behind.
                Step::Hub(None) => return Box::pin(bye(socket, ByeReason::SlowConsumer)).await,
                Step::Resume => {}
                Step::Gap => Box::pin(self.fill_gaps(socket, false)).await?,
                Step::Ping => {
                    if heard.elapsed() > SILENCE_LIMIT {
                        return Ok(());
                    }
                    socket.send(Message::Ping(Default::default())).await?;
                }
                Step::Stop => return Box::pin(bye(socket, ByeReason::Shutdown)).await,
            }
        }
    }

    /// The first frame must be a `hello` of this protocol version.
    async fn hello(&self, socket: &mut WebSocket) -> Result<Option<Vec<Position>>, ConnectionError> {
        let limit = self.state.connections.limits.hello_timeout();
        let first = match tokio::time::timeout(limit, socket.recv()).await {
            Ok(Some(Ok(Message::Text(text)))) => text,
            Ok(Some(Err(e))) => return Err(e.into()),
            _ => return Ok(None),
        };
        match ClientFrame::parse(&first) {
            Ok(ClientFrame::Hello { v: VERSION, positions }) => Ok(Some(positions)),
            _ => Ok(None),
        }
    }

    async fn load_memberships(&mut self) -> Result<(Vec<i64>, Vec<i64>), ConnectionError> {
        let memberships = self.state.store.memberships(self.account).await?;
        self.people = memberships.iter().map(|m| (m.chat_id, m.person_id)).collect();
        self.admin_of = memberships.iter().filter(|m| m.admin).map(|m| m.chat_id).collect();
        self.positions.retain(|chat, _| self.people.contains_key(chat));
        self.early.retain(|chat, _| self.people.contains_key(chat));
        let chats: Vec<i64> = self.people.keys().copied().collect();
        let mut people: Vec<i64> = self.people.values().copied().collect();
        people.sort_unstable();
        people.dedup();
        Ok((chats, people))
    }

    async fn subscribe(&mut self, tx: mpsc::Sender<Outbound>) -> Result<Registration, ConnectionError> {
        let (chats, people) = self.load_memberships().await?;
        let registration = self.state.messenger.hub.register(self.account, chats, people, tx);
        self.state.messenger.bus.settled().await;
        Ok(registration)
    }

    /// Why the connection must close instead, if it must: its session ended,
    /// or the hub had already dropped it as a slow consumer.
    async fn reload(&mut self, registration: &Registration) -> Result<Option<ByeReason>, ConnectionError> {
        if !self.state.store.messenger_session_alive(self.session, self.state.now()).await? {
            return Ok(Some(ByeReason::SessionEnded));
        }
        let (chats, people) = self.load_memberships().await?;
        let subscribed = self.state.messenger.hub.resubscribe(registration, chats, people);
        self.state.messenger.bus.settled().await;
        Ok((!subscribed).then_some(ByeReason::SlowConsumer))
    }

    /// Replays each chat the client has a position in, then says `ready`.
    async fn replay_positions(
        &mut self,
        socket: &mut WebSocket,
        positions: Vec<Position>,
    ) -> Result<(), ConnectionError> {
        for Position { chat, seq } in positions {
            if self.people.contains_key(&chat) {
                self.replay(socket, chat, seq).await?;
            }
        }
        let chats: Vec<i64> = self.people.keys().copied().collect();
        let calls = self.state.calls.snapshot(&chats).await;
        send(socket, &ServerFrame::Ready { v: VERSION, chats, ice_servers: self.state.calls.ice_servers() }).await?;
        for frame in calls {
            socket.send(Message::Text(frame)).await?;
        }
        Ok(())
    }

    /// Replays every chat from where the connection is: the bus may have
    /// dropped frames.
    async fn catch_up(&mut self, socket: &mut WebSocket) -> Result<(), ConnectionError> {
        self.early.clear();
        let positions: Vec<(i64, i64)> = self.positions.iter().map(|(c, s)| (*c, *s)).collect();
        for (chat, seq) in positions {
            self.replay(socket, chat, seq).await?;
        }
        Ok(())
    }

    /// Sends the chat's events after `after`, or `resync` when there are too many.
    async fn replay(&mut self, socket: &mut WebSocket, chat: i64, after: i64) -> Result<(), ConnectionError> {
        let events = self.state.store.chat_events_after(chat, after, REPLAY_LIMIT + 1).await?;
        if events.len() as i64 > REPLAY_LIMIT {
            metrics::counter!(crate::metrics::RESYNCS).increment(1);
            // The client reloads the chat over HTTP; live events from now on
            // go through, and it skips those its reload already covers.
            self.positions.remove(&chat);
            return send(socket, &ServerFrame::Resync { chat }).await;
        }
        metrics::counter!(crate::metrics::REPLAYS).increment(1);
        let mut position = after;
        for event in events {
            position = event.seq;
            send(socket, &ServerFrame::event(event)).await?;
        }
        self.positions.insert(chat, position);
        Ok(())
    }

    /// Feeds `first` and the frames already queued behind it (up to
    /// [`FEED_BATCH`]) and flushes once: under load one write carries many
    /// frames instead of one system call each. Returns the first queued item
    /// that is not a frame, for the loop to handle.
    async fn feed_ready(
        &mut self,
        socket: &mut WebSocket,
        rx: &mut mpsc::Receiver<Outbound>,
        first: Outbound,
    ) -> Result<Option<Outbound>, ConnectionError> {
        let mut next = Some(first);
        let mut fed = 0;
        while let Some(out) = next.take() {
            match out {
                Outbound::Chat(c) => self.forward(socket, c.chat, c.seq, c.frame.clone()).await?,
                Outbound::ChatRun(run) => {
                    for (seq, frame) in run.events.iter() {
                        self.forward(socket, run.chat, Some(*seq), frame.clone()).await?;
                    }
                }
                Outbound::Reply(frame) => socket.feed(Message::Text(*frame)).await?,
                other @ (Outbound::Reload | Outbound::CatchUp) => {
                    socket.flush().await?;
                    return Ok(Some(other));
                }
            }
            fed += 1;
            if fed < FEED_BATCH {
                next = rx.try_recv().ok();
            }
        }
        socket.flush().await?;
        Ok(None)
    }

    /// Feeds (does not flush) a chat's frame in sequence order. One after a
    /// gap waits (in `early`) for the missing ones, at most [`REORDER_WAIT`].
    async fn forward(
        &mut self,
        socket: &mut WebSocket,
        chat: i64,
        seq: Option<i64>,
        frame: Utf8Bytes,
    ) -> Result<(), ConnectionError> {
        let Some(seq) = seq else {
            socket.feed(Message::Text(frame)).await?;
            return Ok(());
        };
        match self.positions.get(&chat).copied() {
            Some(position) if seq <= position => Ok(()),
            Some(position) if seq > position + 1 => {
                let (_, waiting) = self.early.entry(chat).or_insert_with(|| (Instant::now(), BTreeMap::new()));
                waiting.insert(seq, frame);
                if waiting.len() > REORDER_LIMIT {
                    return Box::pin(self.fill_gaps(socket, true)).await;
                }
                Ok(())
            }
            _ => {
                self.positions.insert(chat, seq);
                socket.feed(Message::Text(frame)).await?;
                self.feed_early(socket, chat).await
            }
        }
    }

    /// Feeds the waiting events of `chat` that now follow on.
    async fn feed_early(&mut self, socket: &mut WebSocket, chat: i64) -> Result<(), ConnectionError> {
        let Some((_, waiting)) = self.early.get_mut(&chat) else { return Ok(()) };
        let mut position = self.positions.get(&chat).copied().unwrap_or_default();
        while let Some(entry) = waiting.first_entry() {
            if *entry.key() > position + 1 {
                break;
            }
            let (seq, frame) = entry.remove_entry();
            if seq == position + 1 {
                position = seq;
                socket.feed(Message::Text(frame)).await?;
            }
        }
        self.positions.insert(chat, position);
        if waiting.is_empty() {
            self.early.remove(&chat);
        }
        Ok(())
    }

    /// Fills from the database the gaps that waited long enough (`all`: every one).
    async fn fill_gaps(&mut self, socket: &mut WebSocket, all: bool) -> Result<(), ConnectionError> {
        let now = Instant::now();
        let due: Vec<i64> = self
            .early
            .iter()
            .filter(|(_, (since, _))| all || now.duration_since(*since) >= REORDER_WAIT)
            .map(|(chat, _)| *chat)
            .collect();
        for chat in due {
            // The database has everything that waited: it was committed before it was published.
            self.early.remove(&chat);
            let position = self.positions.get(&chat).copied().unwrap_or_default();
            self.replay(socket, chat, position).await?;
        }
        socket.flush().await?;
        Ok(())
    }

    async fn on_client_frame(
        &mut self,
        socket: &mut WebSocket,
        text: &str,
        replies: &mpsc::WeakSender<Outbound>,
    ) -> Result<(), ConnectionError> {
        let frame = match ClientFrame::parse(text) {
            Ok(frame) => frame,
            Err(_) => return send(socket, &ServerFrame::error(None, &INVALID_INPUT)).await,
        };
        match frame {
            ClientFrame::Send { chat, client_id, text, reply_to, mentions, attachments, urgent } => {
                let request =
                    SendRequest { chat, client_id: &client_id, text: &text, reply_to, mentions, attachments, urgent };
                let message = match parse_send(self.account, request, &self.state) {
                    Ok(message) => message,
                    Err(e) => return send(socket, &ServerFrame::error(Some(client_id), &e)).await,
                };
                let admin = self.admin_of.contains(&chat);
                let admitted = self.state.flood.admit_in_chat(self.account, Action::Message, async { admin }).await;
                if let Err(e) = admitted {
                    return send(socket, &ServerFrame::error(Some(client_id), &e)).await;
                }
                // The loop reads the socket only while a slot is free, and
                // only this connection takes slots.
                let Ok(permit) = Arc::clone(&self.in_flight).try_acquire_owned() else {
                    return send(socket, &ServerFrame::error(Some(client_id), &UNAVAILABLE)).await;
                };
                let (writer, replies) = (self.state.messenger.writer.clone(), replies.clone());
                // Committing takes a disk flush: the socket keeps flowing meanwhile.
                tokio::spawn(async move {
                    let _permit = permit;
                    writer.send_acked(message, AckTo { client_id, queue: replies }).await;
                });
                Ok(())
            }
            ClientFrame::Typing { chat } => match self.state.flood.admit(self.account, Action::Typing).await {
                Ok(()) => self.typing(chat).await,
                Err(e) => send(socket, &ServerFrame::error(None, &e)).await,
            },
            // A read mark only moves a position forward: there are no more of
            // them than messages, so only the socket's frame rate applies.
            ClientFrame::Read { chat, seq } => {
                if self.people.contains_key(&chat)
                    && let Some(mark) = self.state.store.mark_read(self.account, chat, seq, self.state.now()).await?
                {
                    let frame = ServerFrame::Read { chat, person: mark.person_id, seq: mark.seq };
                    self.state.messenger.publish_ephemeral(chat, &frame);
                }
                Ok(())
            }
            ClientFrame::Ping => send(socket, &ServerFrame::Pong).await,
            ClientFrame::Hello { .. } => send(socket, &ServerFrame::error(None, &INVALID_INPUT)).await,
            call => {
                if let Err(e) = self.on_call_frame(call, replies).await {
                    send(socket, &ServerFrame::error(None, &e)).await?;
                }
                Ok(())
            }
        }
    }

    async fn on_call_frame(&self, frame: ClientFrame, replies: &mpsc::WeakSender<Outbound>) -> Result<(), ApiError> {
        // An answer replies to the server's own offer: the server sets their pace.
        if !matches!(frame, ClientFrame::CallAnswer { .. }) {
            self.state.flood.admit(self.account, Action::Call).await?;
        }
        let caller =
            Caller { account: self.account, people: &self.people, line: Line::local(self.id, replies.clone()) };
        self.state.calls.handle(caller, frame).await
    }

    async fn typing(&mut self, chat: i64) -> Result<(), ConnectionError> {
        let Some(&person) = self.people.get(&chat) else { return Ok(()) };
        let now = Instant::now();
        if self.last_typing.get(&chat).is_some_and(|t| now.duration_since(*t) < TYPING_EVERY) {
            return Ok(());
        }
        self.last_typing.insert(chat, now);
        let name = match self.names.get(&person) {
            Some(name) => name.clone(),
            None => {
                let p = self.state.store.person(PersonId(person)).await?;
                let name = format!("{} {}", p.first_name, p.last_name);
                self.names.insert(person, name.clone());
                name
            }
        };
        self.state.messenger.publish_ephemeral(chat, &ServerFrame::Typing { chat, person, name });
        Ok(())
    }
}

/// A send as it came, over the socket or HTTP.
pub(crate) struct SendRequest<'a> {
    pub chat: i64,
    pub client_id: &'a str,
    pub text: &'a str,
    pub reply_to: Option<i64>,
    pub mentions: Vec<i64>,
    pub attachments: Vec<i64>,
    pub urgent: bool,
}

/// Parses a send into what the writer appends. With attachments the text
/// may be empty (a photo without a caption).
pub(crate) fn parse_send(account: i64, send: SendRequest<'_>, state: &AppState) -> Result<NewMessage, ApiError> {
    let client_id = messenger::ClientId::parse(send.client_id).map_err(|_| INVALID_CLIENT_ID)?;
    let attachments = send.attachments;
    if attachments.len() > crate::messenger::files::MAX_ATTACHMENTS {
        return Err(crate::error::TOO_MANY_ATTACHMENTS);
    }
    let mut distinct = attachments.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != attachments.len() {
        return Err(INVALID_INPUT);
    }
    let text = if attachments.is_empty() {
        messenger::MessageText::parse(send.text)?
    } else {
        messenger::MessageText::caption(send.text)?
    };
    Ok(NewMessage {
        chat_id: send.chat,
        account_id: account,
        client_id,
        text,
        reply_to: send.reply_to,
        mentions: send.mentions,
        attachments,
        poll: None,
        consent: None,
        urgent: send.urgent,
        now: state.now(),
    })
}

async fn send(socket: &mut WebSocket, frame: &ServerFrame) -> Result<(), ConnectionError> {
    socket.send(Message::Text(frame.to_json().into())).await?;
    Ok(())
}

async fn bye(socket: &mut WebSocket, reason: ByeReason) -> Result<(), ConnectionError> {
    send(socket, &ServerFrame::bye(reason)).await?;
    socket.send(Message::Close(None)).await?;
    Ok(())
}
