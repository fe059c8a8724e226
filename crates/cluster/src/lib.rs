//! How Parta's nodes hear each other: core NATS subjects, no JetStream. The
//! database is the log; the bus only hurries committed events to the nodes
//! whose sockets want them, and anything it drops is read back from the
//! database (a gap in a chat's sequence, or a catch-up after a reconnect).
//!
//! Subjects (see ARCHITECTURE.md for why):
//! - `parta.chat.<id>`: a chat's events and ephemeral frames. A node
//!   subscribes while it has at least one socket in that chat, so a node
//!   receives only its own sockets' chats.
//! - `parta.accounts`: "these accounts changed" and frames for accounts alone;
//!   rare (roster changes, unlinks, reminders), so every node hears them.
//! - `parta.presence`: who has the messenger open on which node.
//! - `parta.nodes`: a node that was cut off from NATS asks the others to
//!   catch their sockets up from the database.
//!
//! This crate knows NATS and nothing of Parta's frames: payloads are bytes,
//! encoded and decoded by the server's bus.

mod presence;

pub use presence::PresenceBook;

use bytes::Bytes;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Subjects every node subscribes to for the whole of its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    Accounts,
    Presence,
    Nodes,
}

impl Topic {
    const ALL: [Topic; 3] = [Topic::Accounts, Topic::Presence, Topic::Nodes];

    /// Whether a node that published this while cut off must have the
    /// others catch up: chat frames and account changes are; presence and
    /// liveness are announced again anyway.
    fn is_record(self) -> bool {
        self == Topic::Accounts
    }

    fn subject(self) -> &'static str {
        match self {
            Topic::Accounts => "parta.accounts",
            Topic::Presence => "parta.presence",
            Topic::Nodes => "parta.nodes",
        }
    }
}

fn chat_subject(chat: i64) -> String {
    format!("parta.chat.{chat}")
}

/// No Parta node ever listens here: a request to it comes back "no
/// responders" from the server, after everything sent before it on this
/// connection (subscriptions included) has been processed.
const BARRIER: &str = "parta.barrier";
/// How long a barrier waits before the caller goes on regardless: the
/// catch-up after a reconnect covers whatever a late subscription missed.
const BARRIER_TIMEOUT: Duration = Duration::from_secs(2);
/// Frames published while NATS is unreachable wait here; beyond it they are
/// dropped (the database has them, and the reconnect triggers a catch-up).
const OUTBOX: usize = 8192;
/// Frames received and not yet delivered to this node's sockets.
const INBOX: usize = 8192;

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("nats_url is empty")]
    NoServers,
    #[error("{url:?} is not a NATS server address (nats://host:port): {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot start the NATS client: {0}")]
    Connect(String),
}

/// The NATS servers of one cluster; the client picks one and moves on
/// failure. Printed without the passwords their addresses may hold.
#[derive(Clone, PartialEq, Eq)]
pub struct Servers(Vec<String>);

impl std::fmt::Debug for Servers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<String> = self
            .0
            .iter()
            .map(|url| match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &url[..scheme + 3], &url[at..]),
                _ => url.clone(),
            })
            .collect();
        f.debug_list().entries(shown).finish()
    }
}

/// `nats_url`: one address, or several separated by commas or spaces.
pub fn parse_urls(text: &str) -> Result<Servers, ClusterError> {
    let urls: Vec<String> =
        text.split([',', ' ', '\n', '\t']).map(str::trim).filter(|u| !u.is_empty()).map(String::from).collect();
    if urls.is_empty() {
        return Err(ClusterError::NoServers);
    }
    for url in &urls {
        let scheme_ok =
            ["nats://", "tls://", "ws://", "wss://"].iter().any(|s| url.starts_with(s)) || !url.contains("://");
        if !scheme_ok {
            return Err(ClusterError::BadUrl { url: url.clone(), reason: "use nats:// or tls://".into() });
        }
        url.parse::<async_nats::ServerAddr>()
            .map_err(|e| ClusterError::BadUrl { url: url.clone(), reason: e.to_string() })?;
    }
    Ok(Servers(urls))
}

/// How a request to another node failed.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Nobody listens on that node's subject: the node is gone.
    #[error("the node is not running")]
    NoNode,
    #[error("the node did not answer in time")]
    TimedOut,
    #[error("NATS: {0}")]
    Nats(String),
}

/// How long a node waits for another's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A request addressed to this node ([`Link::serve`]).
pub struct Request {
    pub payload: Bytes,
    reply: Option<async_nats::Subject>,
}

/// A node's own subject for `service`: `parta.<service>.<node>`.
fn node_subject(service: &str, node: &str) -> String {
    format!("parta.{service}.{node}")
}

/// A node name that is one NATS subject token.
pub fn subject_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':' { c } else { '_' }).collect()
}

/// Connects once and lets go: whether these servers take this node (for
/// `parta doctor`).
pub async fn probe(servers: &Servers) -> Result<(), ClusterError> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(servers.0.clone())
        .await
        .map_err(|e| ClusterError::Connect(e.to_string()))?;
    client.flush().await.map_err(|e| ClusterError::Connect(e.to_string()))
}

/// What arrived from other nodes.
#[derive(Debug)]
pub enum Incoming {
    Chat { chat: i64, payload: Bytes },
    Topic { topic: Topic, payload: Bytes },
}

enum Command {
    Watch { chat: i64, listening: bool },
    Settle(oneshot::Sender<()>),
}

/// This node's connection to NATS. Cheap to clone.
#[derive(Clone)]
pub struct Link {
    inner: Arc<LinkInner>,
}

struct LinkInner {
    node: String,
    client: async_nats::Client,
    commands: mpsc::UnboundedSender<Command>,
    outbox: mpsc::Sender<(String, Bytes)>,
    connected: watch::Receiver<bool>,
    /// Something was published while NATS was out of reach, or dropped.
    cut_off: AtomicBool,
}

/// What [`Link::connect`] hands the node besides the link: what others
/// published, and a count that moves on every (re)connection.
pub struct Streams {
    pub incoming: mpsc::Receiver<Incoming>,
    /// Counts connections made; a change after the first means this node was
    /// cut off and may have missed (and failed to send) frames.
    pub connections: watch::Receiver<u64>,
}

impl Link {
    /// Starts the client. It connects in the background and keeps
    /// reconnecting, so a node starts (and serves from the database) while
    /// NATS is down; [`Link::connected`] says how it stands.
    pub async fn connect(servers: &Servers, node: &str) -> Result<(Link, Streams), ClusterError> {
        let (connected_tx, connected) = watch::channel(false);
        let (count_tx, connections) = watch::channel(0u64);
        let options = async_nats::ConnectOptions::new()
            .name(format!("parta {node}"))
            // Frames from this node reach its own sockets without the round trip.
            .no_echo()
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| Duration::from_millis((100 * attempts as u64).min(2000)))
            .event_callback(move |event| {
                let (connected_tx, count_tx) = (connected_tx.clone(), count_tx.clone());
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            tracing::info!("connected to NATS");
                            connected_tx.send_replace(true);
                            count_tx.send_modify(|n| *n += 1);
                        }
                        async_nats::Event::Disconnected | async_nats::Event::Closed => {
                            tracing::warn!("disconnected from NATS");
                            connected_tx.send_replace(false);
                        }
                        other => tracing::info!(event = %other, "NATS"),
                    }
                }
            });
        let client = options.connect(servers.0.clone()).await.map_err(|e| ClusterError::Connect(e.to_string()))?;
        let (incoming_tx, incoming) = mpsc::channel(INBOX);
        for topic in Topic::ALL {
            let subscriber =
                client.subscribe(topic.subject()).await.map_err(|e| ClusterError::Connect(e.to_string()))?;
            forward(subscriber, incoming_tx.clone(), move |payload| Incoming::Topic { topic, payload });
        }
        let (commands, commands_rx) = mpsc::unbounded_channel();
        tokio::spawn(watch_chats(client.clone(), commands_rx, incoming_tx));
        let (outbox, outbox_rx) = mpsc::channel(OUTBOX);
        tokio::spawn(publish_all(client.clone(), outbox_rx));
        let inner =
            LinkInner { node: node.to_string(), client, commands, outbox, connected, cut_off: AtomicBool::new(false) };
        Ok((Link { inner: Arc::new(inner) }, Streams { incoming, connections }))
    }

    /// This node's name in presence and logs: unique per process.
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    pub fn connected(&self) -> bool {
        *self.inner.connected.borrow()
    }

    /// Starts or stops hearing a chat's subject.
    pub fn watch_chat(&self, chat: i64, listening: bool) {
        let _ = self.inner.commands.send(Command::Watch { chat, listening });
    }

    /// Returns once every chat watched before the call is heard: a socket
    /// subscribes, settles, then reads the database, and so misses nothing
    /// committed in between.
    pub async fn settled(&self) {
        let (done, wait) = oneshot::channel();
        if self.inner.commands.send(Command::Settle(done)).is_ok() {
            let _ = wait.await;
        }
    }

    pub fn publish_chat(&self, chat: i64, payload: Bytes) {
        self.publish(chat_subject(chat), payload, true);
    }

    pub fn publish_topic(&self, topic: Topic, payload: Bytes) {
        self.publish(topic.subject().to_string(), payload, topic.is_record());
    }

    fn publish(&self, subject: String, payload: Bytes, record: bool) {
        let sent = self.inner.outbox.try_send((subject, payload)).is_ok();
        if record && (!sent || !self.connected()) {
            self.inner.cut_off.store(true, Ordering::Relaxed);
        }
        if !sent {
            tracing::debug!("NATS outbox full: a frame is left to the database");
        }
    }

    /// Whether anything was published while cut off since the last call: if
    /// so, other nodes may have missed it and should catch up.
    pub fn take_cut_off(&self) -> bool {
        self.inner.cut_off.swap(false, Ordering::Relaxed)
    }

    /// Requests addressed to this node for `service` (`parta.<service>.<node>`).
    pub async fn serve(&self, service: &str) -> Result<mpsc::Receiver<Request>, ClusterError> {
        let subject = node_subject(service, self.node());
        let mut subscriber =
            self.inner.client.subscribe(subject).await.map_err(|e| ClusterError::Connect(e.to_string()))?;
        let (tx, rx) = mpsc::channel(1024);
        tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                if tx.send(Request { payload: message.payload, reply: message.reply }).await.is_err() {
                    break;
                }
            }
        });
        Ok(rx)
    }

    /// Answers a request (if its sender waits for an answer).
    pub fn respond(&self, request: &Request, payload: Bytes) {
        if let Some(reply) = &request.reply {
            self.publish(reply.to_string(), payload, false);
        }
    }

    /// Asks `node`'s `service` and waits for its answer.
    pub async fn request(&self, service: &str, node: &str, payload: Bytes) -> Result<Bytes, RequestError> {
        let asking = self.inner.client.request(node_subject(service, node), payload);
        match tokio::time::timeout(REQUEST_TIMEOUT, asking).await {
            Err(_) => Err(RequestError::TimedOut),
            Ok(Ok(message)) => Ok(message.payload),
            Ok(Err(e)) => Err(match e.kind() {
                async_nats::RequestErrorKind::NoResponders => RequestError::NoNode,
                async_nats::RequestErrorKind::TimedOut => RequestError::TimedOut,
                _ => RequestError::Nats(e.to_string()),
            }),
        }
    }

    /// Sends to `node`'s `service` without waiting.
    pub fn tell(&self, service: &str, node: &str, payload: Bytes) {
        self.publish(node_subject(service, node), payload, false);
    }
}

fn forward(
    mut subscriber: async_nats::Subscriber,
    incoming: mpsc::Sender<Incoming>,
    wrap: impl Fn(Bytes) -> Incoming + Send + 'static,
) -> tokio::task::AbortHandle {
    tokio::spawn(async move {
        while let Some(message) = subscriber.next().await {
            if incoming.send(wrap(message.payload)).await.is_err() {
                break;
            }
        }
    })
    .abort_handle()
}

/// Owns the chat subscriptions, in the order the hub asked for them.
async fn watch_chats(
    client: async_nats::Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    incoming: mpsc::Sender<Incoming>,
) {
    let mut chats: HashMap<i64, tokio::task::AbortHandle> = HashMap::new();
    while let Some(command) = commands.recv().await {
        match command {
            Command::Watch { chat, listening: true } => {
                if chats.contains_key(&chat) {
                    continue;
                }
                match client.subscribe(chat_subject(chat)).await {
                    Ok(subscriber) => {
                        let handle =
                            forward(subscriber, incoming.clone(), move |payload| Incoming::Chat { chat, payload });
                        chats.insert(chat, handle);
                    }
                    Err(e) => tracing::error!(chat, error = %e, "cannot subscribe to a chat on NATS"),
                }
            }
            Command::Watch { chat, listening: false } => {
                // Dropping the subscriber (with its task) unsubscribes.
                if let Some(handle) = chats.remove(&chat) {
                    handle.abort();
                }
            }
            Command::Settle(done) => {
                let barrier = client.request(BARRIER, Bytes::new());
                let _ = tokio::time::timeout(BARRIER_TIMEOUT, barrier).await;
                let _ = done.send(());
            }
        }
    }
}

async fn publish_all(client: async_nats::Client, mut outbox: mpsc::Receiver<(String, Bytes)>) {
    while let Some((subject, payload)) = outbox.recv().await {
        if let Err(e) = client.publish(subject, payload).await {
            tracing::debug!(error = %e, "a frame was not published");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_servers_are_separated_by_commas_or_spaces() {
        let servers = parse_urls("nats://a:4222, nats://b:4222 nats://c:4222").map(|s| s.0).unwrap_or_default();
        assert_eq!(servers, ["nats://a:4222", "nats://b:4222", "nats://c:4222"]);
    }

    #[test]
    fn a_password_in_an_address_never_prints() {
        let servers = parse_urls("nats://parta:s3cret@a:4222").map(|s| format!("{s:?}")).unwrap_or_default();
        assert_eq!(servers, r#"["nats://***@a:4222"]"#);
    }

    #[test]
    fn an_address_that_is_not_nats_is_refused() {
        assert!(matches!(parse_urls("  "), Err(ClusterError::NoServers)));
        assert!(matches!(parse_urls("http://a:4222"), Err(ClusterError::BadUrl { .. })));
        assert!(matches!(parse_urls("nats://a:notaport"), Err(ClusterError::BadUrl { .. })));
    }
}
