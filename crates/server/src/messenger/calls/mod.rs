//! Calls: signalling over the messenger WebSocket, media through this node's
//! SFU. A call lives on the node that started it (its row names the node):
//! this node's [`Calls`] holds the live state of its calls, decides with
//! [`messenger::call`] what each join, leave, timeout and moderator action
//! means, tells the [`sfu`] which peers to add and drop, and writes the record
//! when the call ends.
//!
//! A participant's seat outlives their connection for a grace period:
//! a dropped network rejoins the same call. Leaving the chat, unlinking or a
//! revoked session empties the seat at once.
//!
//! In a cluster, a person whose socket is on another node takes part in a
//! call through [`remote`]: their node forwards their call frames to the
//! call's node over NATS, and that node's frames for them come back the same
//! way, so media always goes to the SFU of the node hosting the call.

mod remote;

use super::Messenger;
use super::hub::Outbound;
use super::protocol::{CallInfo, CallLeftReason, CallParticipant, ClientFrame, IceServer, ServerFrame};
use crate::Clock;
use crate::error::{
    ApiError, CALL_ADMINS_START, CALL_FORBIDDEN, CALL_INVALID_SDP, CALL_MICS_LOCKED, CALL_NOT_FOUND, CALL_REMOVED,
    CALL_UNAVAILABLE, INVALID_INPUT, UNAVAILABLE,
};
use crate::wire::v1::Author;
use axum::extract::ws::Utf8Bytes;
use messenger::call::{Call, CallKind, CallOutcome, Media, may_moderate};
use serde::Deserialize;
use sfu::{Generation, PeerKey, Sfu, SfuConfig, SfuError, SfuEvent};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, Instant};
use storage::{StorageError, Store};
use tokio::sync::{Mutex, mpsc};

const TICK: Duration = Duration::from_secs(1);

/// `[calls]` in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallsConfig {
    /// Off: the call buttons answer `call_unavailable`.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The UDP address the SFU binds. The default serves this machine only;
    /// a school network needs e.g. "0.0.0.0:3479" and `advertise`.
    #[serde(default = "default_udp_bind")]
    pub udp_bind: SocketAddr,
    /// The address browsers send media to, when it is not the bound one.
    /// `public_ip` is the same key by the name deployment guides use.
    #[serde(default, alias = "public_ip")]
    pub advertise: Option<IpAddr>,
    /// SFU threads, one core's worth of calls each; with a fixed `udp_bind`
    /// port P they take the ports P, P+1, …
    #[serde(default = "default_media_threads")]
    pub media_threads: usize,
    /// Handed to browsers: STUN/TURN servers (a TURN server lets a phone on a
    /// network that blocks UDP take part).
    #[serde(default)]
    pub ice_servers: Vec<IceServer>,
    /// This node's name in the calls it hosts; unique per node of a cluster.
    #[serde(default = "default_node")]
    pub node: String,
    /// How long a direct call rings before it is missed.
    #[serde(default = "default_ring_timeout")]
    pub ring_timeout_secs: u64,
    /// How long a participant whose connection dropped keeps their seat.
    #[serde(default = "default_reconnect_grace")]
    pub reconnect_grace_secs: u64,
}

fn default_ring_timeout() -> u64 {
    45
}

fn default_reconnect_grace() -> u64 {
    20
}

fn default_media_threads() -> usize {
    1
}

fn enabled_by_default() -> bool {
    true
}

fn default_udp_bind() -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
}

fn default_node() -> String {
    "main".into()
}

impl Default for CallsConfig {
    fn default() -> Self {
        CallsConfig {
            enabled: true,
            udp_bind: default_udp_bind(),
            advertise: None,
            media_threads: default_media_threads(),
            ice_servers: Vec::new(),
            node: default_node(),
            ring_timeout_secs: default_ring_timeout(),
            reconnect_grace_secs: default_reconnect_grace(),
        }
    }
}

/// A WebSocket connection anywhere in the cluster: its node (`None` for
/// this one) and its number there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct LineId {
    node: Option<Arc<str>>,
    conn: u64,
}

impl LineId {
    pub fn local(conn: u64) -> LineId {
        LineId { node: None, conn }
    }
}

/// Where a seat's frames go: one WebSocket connection, here or on another node.
#[derive(Clone)]
pub(crate) struct Line {
    pub id: LineId,
    to: LineTo,
}

#[derive(Clone)]
enum LineTo {
    Local(mpsc::WeakSender<Outbound>),
    Remote(cluster::Link),
}

impl Line {
    pub fn local(conn: u64, tx: mpsc::WeakSender<Outbound>) -> Line {
        Line { id: LineId::local(conn), to: LineTo::Local(tx) }
    }

    fn send(&self, frame: &ServerFrame) {
        self.send_text(frame.to_json().into());
    }

    fn send_text(&self, text: Utf8Bytes) {
        match &self.to {
            LineTo::Local(tx) => {
                if let Some(tx) = tx.upgrade() {
                    // A full queue means the hub is dropping the connection anyway.
                    let _ = tx.try_send(Outbound::reply(text));
                }
            }
            LineTo::Remote(link) => remote::send_to_line(link, &self.id, text),
        }
    }
}

/// Who is asking, as the connection knows them.
pub(crate) struct Caller<'a> {
    pub account: i64,
    /// The person the account is in each chat it may open.
    pub people: &'a HashMap<i64, i64>,
    pub line: Line,
}

struct Seat {
    name: String,
    line: Option<Line>,
    generation: Option<Generation>,
    /// Since when the seat has had no working connection or peer.
    gone_since: Option<Instant>,
}

struct LiveCall {
    id: i64,
    chat: i64,
    started_at: i64,
    started_by: Author,
    ringing_since: Instant,
    call: Call,
    seats: BTreeMap<i64, Seat>,
    /// The names of those a moderator removed, for the moderators' list.
    removed_names: HashMap<i64, String>,
}

impl LiveCall {
    fn info(&self) -> CallInfo {
        let participants = self
            .call
            .participants()
            .iter()
            .map(|(&person, p)| CallParticipant {
                person,
                name: self.seats.get(&person).map(|s| s.name.clone()).unwrap_or_default(),
                audio: p.media.audio,
                video: p.media.video,
                screen: p.media.screen,
                reconnecting: p.reconnecting,
            })
            .collect();
        CallInfo {
            id: self.id,
            chat: self.chat,
            kind: self.call.kind(),
            direct: self.call.direct(),
            state: self.call.phase(),
            started_at: self.started_at,
            started_by: self.started_by.clone(),
            participants,
            moderators: self.call.moderators().iter().copied().collect(),
            removed: self
                .call
                .removed()
                .iter()
                .map(|&person| Author { person, name: self.removed_names.get(&person).cloned().unwrap_or_default() })
                .collect(),
            hands: self.call.hands().to_vec(),
            mics_locked: self.call.mics_locked(),
            floor: self.call.floor(),
            presenter: self.call.presenter(),
        }
    }

    /// Sends `frame` to every participant's connection, serialised once.
    fn tell_seats(&self, frame: &ServerFrame) {
        let text: Utf8Bytes = frame.to_json().into();
        for line in self.seats.values().filter_map(|s| s.line.as_ref()) {
            line.send_text(text.clone());
        }
    }

    fn state_frame(&self) -> ServerFrame {
        ServerFrame::CallState { chat: self.chat, call: Box::new(self.info()) }
    }

    fn peer(&self, person: i64) -> PeerKey {
        PeerKey { call: self.id, person }
    }

    /// Tells a participant a moderator switched their microphone off.
    fn tell_muted(&self, person: i64, by: &str) {
        if let Some(line) = self.seats.get(&person).and_then(|s| s.line.as_ref()) {
            line.send(&ServerFrame::CallMuted { call: self.id, by: by.to_string() });
        }
    }

    fn name_of(&self, person: i64) -> String {
        self.seats.get(&person).map(|s| s.name.clone()).unwrap_or_default()
    }
}

#[derive(Default)]
struct State {
    calls: HashMap<i64, LiveCall>,
    by_chat: HashMap<i64, i64>,
}

struct Node {
    sfu: Sfu,
    store: Store,
    messenger: Arc<Messenger>,
    clock: Clock,
    config: CallsConfig,
    state: Mutex<State>,
    /// This node's connections, for frames that calls on other nodes send them.
    lines: std::sync::Mutex<HashMap<u64, mpsc::WeakSender<Outbound>>>,
    /// The other nodes where each of this node's connections holds a seat.
    seats_elsewhere: std::sync::Mutex<HashMap<u64, HashSet<String>>>,
}

/// This node's calls; `disabled` when the server runs without an SFU.
#[derive(Clone, Default)]
pub struct Calls {
    node: Option<Arc<Node>>,
}

impl Calls {
    pub fn disabled() -> Calls {
        Calls { node: None }
    }

    /// Starts the SFU, ends the calls this node hosted before a restart, and
    /// runs the timers. Needs a Tokio runtime.
    pub async fn start(
        config: CallsConfig,
        store: Store,
        messenger: Arc<Messenger>,
        clock: Clock,
    ) -> Result<Calls, SfuError> {
        if !config.enabled {
            return Ok(Calls::disabled());
        }
        let (sfu, events) = Sfu::start(SfuConfig {
            udp_bind: config.udp_bind,
            advertise: config.advertise,
            threads: config.media_threads,
        })?;
        let mut config = config;
        if let Some(link) = messenger.link() {
            // The calls table names the hosting node: one name per node.
            config.node = link.node().to_string();
        }
        let node = Arc::new(Node {
            sfu,
            store,
            messenger,
            clock,
            config,
            state: Mutex::new(State::default()),
            lines: std::sync::Mutex::default(),
            seats_elsewhere: std::sync::Mutex::default(),
        });
        node.end_calls_of_previous_run().await;
        remote::serve(&node).await;
        // The tasks hold the node weakly: dropping the last `Calls` stops the
        // SFU, which closes its event channel and ends them.
        tokio::spawn(sfu_events(Arc::downgrade(&node), events));
        tokio::spawn(tick(Arc::downgrade(&node)));
        Ok(Calls { node: Some(node) })
    }

    pub fn enabled(&self) -> bool {
        self.node.is_some()
    }

    /// The addresses browsers send media to (one per SFU thread), when calls are on.
    pub fn media_addresses(&self) -> Vec<SocketAddr> {
        self.node.as_ref().map(|n| n.sfu.advertised()).unwrap_or_default()
    }

    pub fn ice_servers(&self) -> Vec<IceServer> {
        self.node.as_ref().map(|n| n.config.ice_servers.clone()).unwrap_or_default()
    }

    fn node(&self) -> Result<&Arc<Node>, ApiError> {
        self.node.as_ref().ok_or(CALL_UNAVAILABLE)
    }

    /// `call_state` frames for the live calls in these chats (after
    /// `ready`), those on other nodes included.
    pub(crate) async fn snapshot(&self, chats: &[i64]) -> Vec<Utf8Bytes> {
        let Some(node) = &self.node else { return Vec::new() };
        let mut frames = node.snapshot_here(chats).await;
        frames.extend(remote::snapshot_elsewhere(node, chats).await);
        frames
    }

    /// A connection opened: frames from calls on other nodes can reach it.
    pub(crate) fn connection_opened(&self, conn: u64, tx: mpsc::WeakSender<Outbound>) {
        if let Some(node) = &self.node {
            node.lines.lock().unwrap_or_else(PoisonError::into_inner).insert(conn, tx);
        }
    }

    /// A call frame from a connection of this node, handled here or by the
    /// node hosting the call.
    pub(crate) async fn handle(&self, caller: Caller<'_>, frame: ClientFrame) -> Result<(), ApiError> {
        let node = self.node()?;
        match remote::route(node, &caller, &frame).await? {
            remote::Route::Here => self.handle_here(caller, frame).await,
            remote::Route::There { node: host, chat } => remote::forward(node, &caller, &host, chat, frame).await,
        }
    }

    async fn handle_here(&self, caller: Caller<'_>, frame: ClientFrame) -> Result<(), ApiError> {
        match frame {
            ClientFrame::CallJoin { chat, kind, sdp } => self.join(caller, chat, kind, &sdp).await,
            ClientFrame::CallAnswer { call, sdp } => self.answer(&caller, call, &sdp).await,
            ClientFrame::CallMedia { call, audio, video, screen } => {
                self.media(&caller, call, Media { audio, video, screen }).await
            }
            ClientFrame::CallLeave { call } => self.leave(&caller, call).await,
            ClientFrame::CallDecline { call } => self.decline(&caller, call).await,
            ClientFrame::CallMute { call, person } => self.mute(&caller, call, person).await,
            ClientFrame::CallRemove { call, person } => self.remove(&caller, call, person).await,
            ClientFrame::CallLetBack { call, person } => self.let_back(&caller, call, person).await,
            ClientFrame::CallEnd { call } => self.end(&caller, call).await,
            ClientFrame::CallHand { call, raised } => self.hand(&caller, call, raised).await,
            ClientFrame::CallLowerHand { call, person } => self.lower_hand(&caller, call, person).await,
            ClientFrame::CallMuteAll { call } => self.mute_all(&caller, call).await,
            ClientFrame::CallUnlockMics { call } => self.unlock_mics(&caller, call).await,
            ClientFrame::CallFloor { call, person } => self.floor(&caller, call, person).await,
            ClientFrame::CallPin { call, person } => self.pin(&caller, call, person).await,
            _ => Err(INVALID_INPUT),
        }
    }

    async fn join(&self, caller: Caller<'_>, chat: i64, kind: CallKind, sdp: &str) -> Result<(), ApiError> {
        let node = self.node()?;
        let person = *caller.people.get(&chat).ok_or(CALL_FORBIDDEN)?;
        // Refuse a malformed offer before a call is started for it.
        let offer = sfu::Offer::parse(sdp).map_err(|_| CALL_INVALID_SDP)?;
        let summary = node.store.messenger_chat(caller.account, chat).await.map_err(|_| CALL_FORBIDDEN)?;
        if summary.read_only {
            return Err(CALL_FORBIDDEN);
        }
        let members = node.store.chat_members(caller.account, chat).await.map_err(|_| CALL_FORBIDDEN)?;
        let name = members.iter().find(|m| m.person == person).map(|m| m.name.clone()).unwrap_or_default();
        let direct = summary.kind == "direct";
        let now = node.now();

        let mut state = node.state.lock().await;
        let id = match state.by_chat.get(&chat) {
            Some(&id) => {
                if let Some(live) = state.calls.get(&id) {
                    live.call.may_join(person).map_err(|_| CALL_REMOVED)?;
                }
                node.store.call_joined(id, person, now).await.map_err(|_| UNAVAILABLE)?;
                id
            }
            None => {
                messenger::call::may_start(summary.announcement_only, summary.admin).map_err(|_| CALL_ADMINS_START)?;
                let id = match node.store.start_call(chat, person, kind, &node.config.node, now).await {
                    Ok(id) => id,
                    // Another node started the chat's call a moment ago: join it there.
                    Err(StorageError::CallLive { node: host }) if host != node.config.node => {
                        drop(state);
                        let frame = ClientFrame::CallJoin { chat, kind, sdp: sdp.to_string() };
                        return Box::pin(remote::forward(node, &caller, &host, chat, frame)).await;
                    }
                    Err(_) => return Err(UNAVAILABLE),
                };
                let call = LiveCall {
                    id,
                    chat,
                    started_at: now,
                    started_by: Author { person, name: name.clone() },
                    ringing_since: Instant::now(),
                    call: Call::start(kind, direct, person),
                    seats: BTreeMap::new(),
                    removed_names: HashMap::new(),
                };
                state.calls.insert(id, call);
                state.by_chat.insert(chat, id);
                if direct && let Some(notifier) = node.messenger.notifier() {
                    notifier.ring(chat, id, person, &name);
                }
                id
            }
        };
        let joined = match node.sfu.join(PeerKey { call: id, person }, offer).await {
            Ok(joined) => joined,
            Err(e) => {
                tracing::info!(call = id, person, error = %e, "SFU refused a join");
                if let Some(live) = state.calls.get(&id)
                    && live.seats.is_empty()
                {
                    node.finish(&mut state, id, CallOutcome::Finished).await;
                }
                return Err(match e {
                    SfuError::InvalidSdp(_) | SfuError::Refused(_) => CALL_INVALID_SDP,
                    _ => UNAVAILABLE,
                });
            }
        };
        let Some(live) = state.calls.get_mut(&id) else { return Err(CALL_NOT_FOUND) };
        if let Some(old) = live.seats.get(&person).and_then(|s| s.line.clone())
            && old.id != caller.line.id
        {
            old.send(&ServerFrame::CallLeft { call: id, reason: CallLeftReason::Elsewhere });
        }
        if may_moderate(direct, summary.admin) {
            live.call.add_moderator(person);
        }
        live.call.join(person);
        // A new peer's audio is forwarded until told otherwise: not while locked.
        if !live.call.may_speak(person) {
            node.sfu.forward_audio(live.peer(person), false);
        }
        live.seats.insert(
            person,
            Seat { name, line: Some(caller.line.clone()), generation: Some(joined.generation), gone_since: None },
        );
        caller.line.send(&ServerFrame::CallJoined { call: Box::new(live.info()), sdp: joined.answer });
        node.messenger.publish_ephemeral(chat, &live.state_frame());
        Ok(())
    }

    async fn answer(&self, caller: &Caller<'_>, call: i64, sdp: &str) -> Result<(), ApiError> {
        let node = self.node()?;
        let (peer, generation) = {
            let state = node.state.lock().await;
            let (live, person) = seat_of(&state, caller, call)?;
            let generation = live.seats.get(&person).and_then(|s| s.generation).ok_or(CALL_NOT_FOUND)?;
            (live.peer(person), generation)
        };
        match node.sfu.answer(peer, generation, sdp).await {
            Ok(()) => Ok(()),
            Err(SfuError::InvalidSdp(_) | SfuError::Refused(_)) => Err(CALL_INVALID_SDP),
            // The peer was replaced or dropped meanwhile: its successor negotiates afresh.
            Err(SfuError::NoSuchPeer) => Ok(()),
            Err(_) => Err(UNAVAILABLE),
        }
    }

    async fn media(&self, caller: &Caller<'_>, call: i64, media: Media) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        let (_, person) = seat_of(&state, caller, call)?;
        let Some(live) = state.calls.get_mut(&call) else { return Err(CALL_NOT_FOUND) };
        // A client that unmutes despite a lock gets the rest of its change,
        // and the SFU still drops its audio.
        let applied = live.call.set_media(person, media).map_err(|_| CALL_NOT_FOUND)?;
        node.sfu.forward_audio(live.peer(person), applied.audio);
        node.messenger.publish_ephemeral(live.chat, &live.state_frame());
        if media.audio && !applied.audio { Err(CALL_MICS_LOCKED) } else { Ok(()) }
    }

    async fn leave(&self, caller: &Caller<'_>, call: i64) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        let (_, person) = seat_of(&state, caller, call)?;
        node.leave(&mut state, call, person, Some(CallLeftReason::Left)).await;
        Ok(())
    }

    async fn decline(&self, caller: &Caller<'_>, call: i64) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        let live = state.calls.get(&call).ok_or(CALL_NOT_FOUND)?;
        let person = *caller.people.get(&live.chat).ok_or(CALL_NOT_FOUND)?;
        let outcome = live.call.decline(person).map_err(|_| CALL_FORBIDDEN)?;
        node.finish(&mut state, call, outcome).await;
        Ok(())
    }

    /// A moderator's change to a live call (`change` gets the moderator's
    /// person), then its new state to every member of the chat.
    async fn moderate(
        &self,
        caller: &Caller<'_>,
        call: i64,
        change: impl FnOnce(&Node, &mut LiveCall, i64) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        let moderator = moderator_of(&state, caller, call)?;
        let Some(live) = state.calls.get_mut(&call) else { return Err(CALL_NOT_FOUND) };
        change(node, live, moderator)?;
        node.messenger.publish_ephemeral(live.chat, &live.state_frame());
        Ok(())
    }

    async fn mute(&self, caller: &Caller<'_>, call: i64, target: i64) -> Result<(), ApiError> {
        self.moderate(caller, call, |node, live, moderator| {
            live.call.mute(target).map_err(|_| CALL_NOT_FOUND)?;
            node.sfu.forward_audio(live.peer(target), false);
            live.tell_muted(target, &live.name_of(moderator));
            Ok(())
        })
        .await
    }

    async fn remove(&self, caller: &Caller<'_>, call: i64, target: i64) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        moderator_of(&state, caller, call)?;
        let Some(live) = state.calls.get_mut(&call) else { return Err(CALL_NOT_FOUND) };
        live.call.remove(target).map_err(|_| CALL_NOT_FOUND)?;
        let name = live.name_of(target);
        live.removed_names.insert(target, name);
        node.leave(&mut state, call, target, Some(CallLeftReason::Removed)).await;
        Ok(())
    }

    async fn let_back(&self, caller: &Caller<'_>, call: i64, target: i64) -> Result<(), ApiError> {
        self.moderate(caller, call, |_, live, _| {
            live.call.let_back(target).map_err(|_| CALL_NOT_FOUND)?;
            live.removed_names.remove(&target);
            Ok(())
        })
        .await
    }

    async fn hand(&self, caller: &Caller<'_>, call: i64, raised: bool) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        let (_, person) = seat_of(&state, caller, call)?;
        let Some(live) = state.calls.get_mut(&call) else { return Err(CALL_NOT_FOUND) };
        if raised {
            live.call.raise_hand(person).map_err(|_| CALL_NOT_FOUND)?;
        } else {
            live.call.lower_hand(person);
        }
        node.messenger.publish_ephemeral(live.chat, &live.state_frame());
        Ok(())
    }

    async fn lower_hand(&self, caller: &Caller<'_>, call: i64, target: i64) -> Result<(), ApiError> {
        // Two moderators may lower the same hand at once: the second changes nothing.
        self.moderate(caller, call, |_, live, _| {
            live.call.lower_hand(target);
            Ok(())
        })
        .await
    }

    async fn mute_all(&self, caller: &Caller<'_>, call: i64) -> Result<(), ApiError> {
        self.moderate(caller, call, |node, live, _| {
            // The pages learn it from `mics_locked` and turn their microphones off.
            live.call.mute_all();
            // Everyone locked, not only those it switched off: a client that
            // said it was muted may still be sending.
            for &person in live.call.participants().keys().filter(|&&p| !live.call.may_speak(p)) {
                node.sfu.forward_audio(live.peer(person), false);
            }
            Ok(())
        })
        .await
    }

    async fn unlock_mics(&self, caller: &Caller<'_>, call: i64) -> Result<(), ApiError> {
        self.moderate(caller, call, |_, live, _| {
            live.call.unlock_mics();
            Ok(())
        })
        .await
    }

    async fn floor(&self, caller: &Caller<'_>, call: i64, target: Option<i64>) -> Result<(), ApiError> {
        self.moderate(caller, call, |node, live, moderator| {
            if let Some(previous) = live.call.give_floor(target).map_err(|_| CALL_NOT_FOUND)? {
                node.sfu.forward_audio(live.peer(previous), false);
                live.tell_muted(previous, &live.name_of(moderator));
            }
            Ok(())
        })
        .await
    }

    async fn pin(&self, caller: &Caller<'_>, call: i64, target: Option<i64>) -> Result<(), ApiError> {
        self.moderate(caller, call, |_, live, _| live.call.pin(target).map_err(|_| CALL_NOT_FOUND)).await
    }

    async fn end(&self, caller: &Caller<'_>, call: i64) -> Result<(), ApiError> {
        let node = self.node()?;
        let mut state = node.state.lock().await;
        moderator_of(&state, caller, call)?;
        node.finish(&mut state, call, CallOutcome::EndedByModerator).await;
        Ok(())
    }

    /// The connection closed: its seats wait the grace period for a rejoin,
    /// here and on the nodes where it took part in calls.
    pub(crate) async fn connection_closed(&self, conn: u64) {
        let Some(node) = &self.node else { return };
        node.lines.lock().unwrap_or_else(PoisonError::into_inner).remove(&conn);
        node.line_closed(&LineId::local(conn)).await;
        remote::tell_elsewhere(node, conn, remote::Op::Closed, true);
    }

    /// The connection reloaded what its account may see: seats in chats it
    /// is no longer in (or all of them, when its session ended) empty now.
    pub(crate) async fn memberships_changed(&self, conn: u64, chats: &HashSet<i64>) {
        let Some(node) = &self.node else { return };
        node.memberships_changed(&LineId::local(conn), chats).await;
        let chats = chats.iter().copied().collect();
        remote::tell_elsewhere(node, conn, remote::Op::Memberships { chats }, false);
    }

    /// The server is stopping: every call it hosts ends with a record.
    pub async fn shutdown(&self) {
        let Some(node) = &self.node else { return };
        let mut state = node.state.lock().await;
        let ids: Vec<i64> = state.calls.keys().copied().collect();
        for id in ids {
            node.finish(&mut state, id, CallOutcome::ServerRestart).await;
        }
    }
}

impl Node {
    fn now(&self) -> i64 {
        (self.clock)()
    }

    async fn snapshot_here(&self, chats: &[i64]) -> Vec<Utf8Bytes> {
        let state = self.state.lock().await;
        chats
            .iter()
            .filter_map(|chat| state.by_chat.get(chat))
            .filter_map(|id| state.calls.get(id))
            .map(|live| live.state_frame().to_json().into())
            .collect()
    }

    async fn line_closed(&self, line: &LineId) {
        let mut state = self.state.lock().await;
        let now = Instant::now();
        for live in state.calls.values_mut() {
            let mut changed = false;
            for (&person, seat) in live.seats.iter_mut() {
                if seat.line.as_ref().is_some_and(|l| l.id == *line) {
                    seat.line = None;
                    seat.gone_since.get_or_insert(now);
                    live.call.disconnected(person);
                    changed = true;
                }
            }
            if changed {
                self.messenger.publish_ephemeral(live.chat, &live.state_frame());
            }
        }
    }

    async fn memberships_changed(&self, line: &LineId, chats: &HashSet<i64>) {
        let mut state = self.state.lock().await;
        let lost: Vec<(i64, i64)> = state
            .calls
            .values()
            .filter(|live| !chats.contains(&live.chat))
            .flat_map(|live| {
                live.seats
                    .iter()
                    .filter(|(_, s)| s.line.as_ref().is_some_and(|l| l.id == *line))
                    .map(|(&person, _)| (live.id, person))
            })
            .collect();
        for (call, person) in lost {
            self.leave(&mut state, call, person, Some(CallLeftReason::NotMember)).await;
        }
    }

    /// Ends the calls this node hosted when it stopped without ending them
    /// (a crash or `kill -9`).
    async fn end_calls_of_previous_run(&self) {
        // A single node is the only one that can have hosted a call.
        let host = self.messenger.link().map(|_| self.config.node.as_str());
        let calls = match self.store.unfinished_calls(host).await {
            Ok(calls) => calls,
            Err(e) => {
                tracing::error!(error = %e, "cannot read unfinished calls");
                return;
            }
        };
        for call in calls {
            self.write_record(call, CallOutcome::ServerRestart).await;
        }
    }

    async fn write_record(&self, call: i64, outcome: CallOutcome) {
        match self.store.finish_call(call, outcome, self.now()).await {
            Ok(Some(event)) => self.messenger.publish_event(event),
            Ok(None) => {}
            Err(e) => tracing::error!(call, error = %e, "cannot write a call's record"),
        }
    }

    /// Takes `person` out of the call, telling their connection why.
    async fn leave(&self, state: &mut State, call: i64, person: i64, reason: Option<CallLeftReason>) {
        let Some(live) = state.calls.get_mut(&call) else { return };
        let Some(seat) = live.seats.remove(&person) else { return };
        if let (Some(line), Some(reason)) = (&seat.line, reason) {
            line.send(&ServerFrame::CallLeft { call, reason });
        }
        self.sfu.leave(live.peer(person));
        if let Err(e) = self.store.call_left(call, person, self.now()).await {
            tracing::warn!(call, person, error = %e, "cannot record a call's leave");
        }
        match live.call.leave(person) {
            Some(outcome) => self.finish(state, call, outcome).await,
            None => self.messenger.publish_ephemeral(live.chat, &live.state_frame()),
        }
    }

    async fn finish(&self, state: &mut State, call: i64, outcome: CallOutcome) {
        let Some(live) = state.calls.remove(&call) else { return };
        state.by_chat.remove(&live.chat);
        self.sfu.close_call(call);
        live.tell_seats(&ServerFrame::CallLeft { call, reason: CallLeftReason::Ended });
        self.messenger.publish_ephemeral(live.chat, &ServerFrame::CallEnded { chat: live.chat, call, reason: outcome });
        self.write_record(call, outcome).await;
        tracing::info!(call, chat = live.chat, outcome = outcome.as_str(), "call ended");
    }

    async fn on_sfu_event(&self, event: SfuEvent) {
        let mut state = self.state.lock().await;
        match event {
            SfuEvent::Offer { peer, generation, sdp } => {
                let seat = state.calls.get(&peer.call).and_then(|l| l.seats.get(&peer.person));
                if let Some(seat) = seat.filter(|s| s.generation == Some(generation))
                    && let Some(line) = &seat.line
                {
                    line.send(&ServerFrame::CallOffer { call: peer.call, sdp });
                }
            }
            SfuEvent::Gone { peer, generation, reason } => {
                let Some(live) = state.calls.get_mut(&peer.call) else { return };
                let Some(seat) = live.seats.get_mut(&peer.person) else { return };
                if seat.generation != Some(generation) {
                    return;
                }
                tracing::info!(call = peer.call, person = peer.person, ?reason, "call peer lost its media");
                seat.generation = None;
                seat.gone_since.get_or_insert_with(Instant::now);
                if let Some(line) = &seat.line {
                    line.send(&ServerFrame::CallLeft { call: peer.call, reason: CallLeftReason::MediaFailed });
                }
                live.call.disconnected(peer.person);
                self.messenger.publish_ephemeral(live.chat, &live.state_frame());
            }
            SfuEvent::Speaker { call, person } => {
                if let Some(live) = state.calls.get(&call) {
                    live.tell_seats(&ServerFrame::CallSpeaker { call, person });
                }
            }
        }
    }

    /// Unanswered direct calls ring out; seats empty for too long are left.
    async fn expire(&self) {
        let ring_timeout = Duration::from_secs(self.config.ring_timeout_secs);
        let grace = Duration::from_secs(self.config.reconnect_grace_secs);
        let mut state = self.state.lock().await;
        let now = Instant::now();
        let rung_out: Vec<(i64, CallOutcome)> = state
            .calls
            .values()
            .filter(|l| now.duration_since(l.ringing_since) >= ring_timeout)
            .filter_map(|l| l.call.ring_timeout().map(|o| (l.id, o)))
            .collect();
        for (call, outcome) in rung_out {
            self.finish(&mut state, call, outcome).await;
        }
        let abandoned: Vec<(i64, i64)> = state
            .calls
            .values()
            .flat_map(|l| {
                l.seats
                    .iter()
                    .filter(|(_, s)| s.gone_since.is_some_and(|t| now.duration_since(t) >= grace))
                    .map(|(&person, _)| (l.id, person))
            })
            .collect();
        for (call, person) in abandoned {
            self.leave(&mut state, call, person, None).await;
        }
    }
}

async fn sfu_events(node: Weak<Node>, mut events: mpsc::UnboundedReceiver<SfuEvent>) {
    while let Some(event) = events.recv().await {
        let Some(node) = node.upgrade() else { return };
        node.on_sfu_event(event).await;
    }
}

async fn tick(node: Weak<Node>) {
    let mut every = tokio::time::interval(TICK);
    loop {
        every.tick().await;
        let Some(node) = node.upgrade() else { return };
        node.expire().await;
    }
}

/// The caller's seat in a live call.
fn seat_of<'s>(state: &'s State, caller: &Caller<'_>, call: i64) -> Result<(&'s LiveCall, i64), ApiError> {
    let live = state.calls.get(&call).ok_or(CALL_NOT_FOUND)?;
    let person = *caller.people.get(&live.chat).ok_or(CALL_NOT_FOUND)?;
    let seat = live.seats.get(&person).ok_or(CALL_NOT_FOUND)?;
    if seat.line.as_ref().is_some_and(|l| l.id != caller.line.id) {
        // Another tab or device holds the seat now.
        return Err(CALL_NOT_FOUND);
    }
    Ok((live, person))
}

fn moderator_of(state: &State, caller: &Caller<'_>, call: i64) -> Result<i64, ApiError> {
    let (live, person) = seat_of(state, caller, call)?;
    if live.call.moderates(person) { Ok(person) } else { Err(CALL_FORBIDDEN) }
}
