//! Fan-out between nodes. Every node publishes what it committed and delivers
//! what any node published to its own connections (its [`Hub`]). The database
//! is the truth and the bus is best-effort: a connection that sees a gap in a
//! chat's sequence numbers reads the missing events from the database, and
//! after the bus was cut off every connection catches up from it.
//!
//! One process uses [`LocalBus`]; several nodes use [`NatsBus`] (through the
//! `cluster` crate's NATS link), so nothing above this module assumes one
//! process.

use super::hub::{Hub, HubWatcher};
use axum::extract::ws::Utf8Bytes;
use bytes::{BufMut, Bytes, BytesMut};
use cluster::{Incoming, Link, PresenceBook, Streams, Topic};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// What a node tells every node, itself included.
#[derive(Debug, Clone)]
pub enum BusMessage {
    /// A serialised server frame for every connection in `chat`. `seq` is set
    /// for chat events (the connection orders and de-duplicates by it) and
    /// absent for ephemeral frames (typing, read marks).
    Chat { chat: i64, seq: Option<i64>, frame: Utf8Bytes },
    /// A committed batch's events in one chat, in sequence order: a
    /// connection takes them as one entry of its queue and writes them with
    /// one flush, rather than waking and writing once per event.
    ChatRun { chat: i64, events: Arc<[(i64, Utf8Bytes)]> },
    /// These Parta IDs joined or left chats, or lost sessions: their
    /// connections reload what they may see.
    Accounts { accounts: Vec<i64> },
    /// A serialised frame for these Parta IDs' connections alone (a reminder).
    ToAccounts { accounts: Vec<i64>, frame: Utf8Bytes },
}

pub trait Bus: Send + Sync {
    fn publish(&self, message: BusMessage);

    /// Returns once the chats this node just started listening to are heard
    /// from every node: a connection registers, settles, then reads the
    /// database, and so misses nothing committed in between.
    fn settled(&self) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Which of `people` have the messenger open on other nodes.
    fn online_elsewhere(&self, _people: &[i64]) -> HashSet<i64> {
        HashSet::new()
    }

    /// False while this node cannot reach the others.
    fn connected(&self) -> bool {
        true
    }
}

/// The bus of a single process: publishing is delivering.
pub struct LocalBus {
    hub: Arc<Hub>,
}

impl LocalBus {
    pub fn new(hub: Arc<Hub>) -> Self {
        LocalBus { hub }
    }
}

impl Bus for LocalBus {
    fn publish(&self, message: BusMessage) {
        self.hub.deliver(&message);
    }
}

/// Several nodes on NATS: a message is delivered here at once and published
/// for the others (NATS does not echo it back).
pub struct NatsBus {
    hub: Arc<Hub>,
    link: Link,
    presence: Mutex<PresenceBook>,
    /// When each other node last said it was alive.
    alive: Mutex<HashMap<String, Instant>>,
}

/// On `parta.accounts`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AccountsWire {
    Reload { accounts: Vec<i64> },
    Frame { accounts: Vec<i64>, frame: String },
}

/// On `parta.presence`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PresenceWire {
    All { node: String, people: Vec<i64> },
    Change { node: String, came: Vec<i64>, left: Vec<i64> },
}

/// On `parta.nodes`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum NodesWire {
    /// Sent every [`ALIVE_EVERY`].
    Alive { node: String },
    /// This node was cut off and what it published may be lost.
    CatchUp { node: String },
}

/// How often a node says it is alive, and how long the others wait before
/// taking it for dead: then what it committed and never published (it died
/// between the two) is read from the database by everyone's connections.
const ALIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
const DEAD_AFTER: std::time::Duration = std::time::Duration::from_secs(7);

fn json(value: &impl Serialize) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// A chat frame on the wire: its sequence number (or none) and the frame.
fn encode_chat(seq: Option<i64>, frame: &Utf8Bytes) -> Bytes {
    let mut out = BytesMut::with_capacity(9 + frame.len());
    out.put_u8(u8::from(seq.is_some()));
    out.put_i64(seq.unwrap_or_default());
    out.put_slice(frame.as_bytes());
    out.freeze()
}

fn decode_chat(chat: i64, payload: Bytes) -> Option<BusMessage> {
    if payload.len() < 9 {
        return None;
    }
    let seq = (payload[0] == 1).then(|| i64::from_be_bytes(payload[1..9].try_into().unwrap_or_default()));
    let frame = Utf8Bytes::try_from(payload.slice(9..)).ok()?;
    Some(BusMessage::Chat { chat, seq, frame })
}

impl NatsBus {
    /// Wires `hub` to the link: it hears of chats and people coming and
    /// going, and gets what other nodes publish.
    pub fn start(hub: Arc<Hub>, link: Link, streams: Streams) -> Arc<NatsBus> {
        let bus = Arc::new(NatsBus {
            hub: Arc::clone(&hub),
            link: link.clone(),
            presence: Mutex::default(),
            alive: Mutex::default(),
        });
        hub.watch(Arc::new(Watcher { link }));
        tokio::spawn(Arc::clone(&bus).receive(streams.incoming));
        tokio::spawn(Arc::clone(&bus).on_connections(streams.connections));
        tokio::spawn(Arc::clone(&bus).announce_presence());
        tokio::spawn(Arc::clone(&bus).keep_alive());
        bus
    }

    fn book(&self) -> std::sync::MutexGuard<'_, PresenceBook> {
        self.presence.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn receive(self: Arc<Self>, mut incoming: tokio::sync::mpsc::Receiver<Incoming>) {
        while let Some(message) = incoming.recv().await {
            match message {
                Incoming::Chat { chat, payload } => match decode_chat(chat, payload) {
                    Some(message) => self.hub.deliver(&message),
                    None => tracing::warn!(chat, "an unreadable chat frame from NATS"),
                },
                Incoming::Topic { topic: Topic::Accounts, payload } => match serde_json::from_slice(&payload) {
                    Ok(AccountsWire::Reload { accounts }) => self.hub.deliver(&BusMessage::Accounts { accounts }),
                    Ok(AccountsWire::Frame { accounts, frame }) => {
                        self.hub.deliver(&BusMessage::ToAccounts { accounts, frame: frame.into() });
                    }
                    Err(e) => tracing::warn!(error = %e, "an unreadable accounts message from NATS"),
                },
                Incoming::Topic { topic: Topic::Presence, payload } => {
                    let now = Instant::now();
                    match serde_json::from_slice(&payload) {
                        Ok(PresenceWire::All { node, people }) => self.book().replace(&node, people, now),
                        Ok(PresenceWire::Change { node, came, left }) => self.book().change(&node, &came, &left, now),
                        Err(e) => tracing::warn!(error = %e, "an unreadable presence message from NATS"),
                    }
                }
                Incoming::Topic { topic: Topic::Nodes, payload } => match serde_json::from_slice(&payload) {
                    Ok(NodesWire::Alive { node }) => {
                        self.alive.lock().unwrap_or_else(PoisonError::into_inner).insert(node, Instant::now());
                    }
                    Ok(NodesWire::CatchUp { node }) => {
                        tracing::info!(%node, "a node was cut off from NATS: connections catch up");
                        self.hub.catch_up_all();
                    }
                    Err(e) => tracing::warn!(error = %e, "an unreadable node message from NATS"),
                },
            }
        }
    }

    /// After every (re)connection: this node's connections catch up (they
    /// may have missed frames), and if this node published while cut off,
    /// the others' connections too.
    async fn on_connections(self: Arc<Self>, mut connections: tokio::sync::watch::Receiver<u64>) {
        while connections.changed().await.is_ok() {
            self.publish_presence();
            self.hub.catch_up_all();
            if self.link.take_cut_off() {
                let node = self.link.node().to_string();
                self.link.publish_topic(Topic::Nodes, json(&NodesWire::CatchUp { node }));
            }
        }
    }

    /// Says this node is alive, and notices the nodes that stopped saying so.
    async fn keep_alive(self: Arc<Self>) {
        let mut every = tokio::time::interval(ALIVE_EVERY);
        loop {
            every.tick().await;
            let node = self.link.node().to_string();
            self.link.publish_topic(Topic::Nodes, json(&NodesWire::Alive { node }));
            let now = Instant::now();
            let mut dead = Vec::new();
            self.alive.lock().unwrap_or_else(PoisonError::into_inner).retain(|node, heard| {
                let alive = now.duration_since(*heard) < DEAD_AFTER;
                if !alive {
                    dead.push(node.clone());
                }
                alive
            });
            // Only while this node hears NATS: cut off, it hears nobody.
            if !dead.is_empty() && self.link.connected() {
                tracing::warn!(nodes = ?dead, "nodes stopped answering: connections catch up from the database");
                let mut book = self.book();
                for node in &dead {
                    book.forget(node);
                }
                drop(book);
                self.hub.catch_up_all();
            }
        }
    }

    async fn announce_presence(self: Arc<Self>) {
        let mut every = tokio::time::interval(PresenceBook::EVERY);
        loop {
            every.tick().await;
            self.publish_presence();
            self.book().expire(Instant::now());
        }
    }

    fn publish_presence(&self) {
        let people = self.hub.people_online();
        self.link
            .publish_topic(Topic::Presence, json(&PresenceWire::All { node: self.link.node().to_string(), people }));
    }
}

impl Bus for NatsBus {
    fn publish(&self, message: BusMessage) {
        self.hub.deliver(&message);
        match message {
            BusMessage::Chat { chat, seq, frame } => self.link.publish_chat(chat, encode_chat(seq, &frame)),
            // Other nodes take them one by one, as from any node.
            BusMessage::ChatRun { chat, events } => {
                for (seq, frame) in events.iter() {
                    self.link.publish_chat(chat, encode_chat(Some(*seq), frame));
                }
            }
            BusMessage::Accounts { accounts } => {
                self.link.publish_topic(Topic::Accounts, json(&AccountsWire::Reload { accounts }));
            }
            BusMessage::ToAccounts { accounts, frame } => {
                let frame = frame.as_str().to_string();
                self.link.publish_topic(Topic::Accounts, json(&AccountsWire::Frame { accounts, frame }));
            }
        }
    }

    fn settled(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.link.settled())
    }

    fn online_elsewhere(&self, people: &[i64]) -> HashSet<i64> {
        self.book().online(people, Instant::now())
    }

    fn connected(&self) -> bool {
        self.link.connected()
    }
}

/// Turns the hub's comings and goings into subscriptions and presence.
struct Watcher {
    link: Link,
}

impl HubWatcher for Watcher {
    fn chat(&self, chat: i64, listening: bool) {
        self.link.watch_chat(chat, listening);
    }

    fn person(&self, person: i64, online: bool) {
        let node = self.link.node().to_string();
        let (came, left) = if online { (vec![person], vec![]) } else { (vec![], vec![person]) };
        self.link.publish_topic(Topic::Presence, json(&PresenceWire::Change { node, came, left }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_frame_crosses_the_wire_with_or_without_its_sequence_number() {
        for seq in [Some(42), None, Some(0)] {
            let frame = Utf8Bytes::from("{\"t\":\"event\"}");
            let decoded = decode_chat(7, encode_chat(seq, &frame));
            assert!(
                matches!(decoded, Some(BusMessage::Chat { chat: 7, seq: s, frame: f }) if s == seq && f == frame),
                "{seq:?}"
            );
        }
        assert!(decode_chat(7, Bytes::from_static(b"short")).is_none());
    }
}
