//! The messenger's live half: the WebSocket (`ws`), the HTTP endpoints
//! (`api`), the group-commit writer, and fan-out through a [`bus::Bus`] to
//! this node's [`hub::Hub`] of connections, and [`calls`] (signalling on the
//! same socket, media through the SFU). Wire types live in [`protocol`].

pub(crate) mod api;
pub mod bus;
pub mod calls;
pub(crate) mod consent;
pub mod files;
pub mod hub;
pub mod polls;
pub mod protocol;
pub(crate) mod receipts;
pub mod scheduled;
pub(crate) mod search;
mod writer;
pub(crate) mod ws;

use bus::{Bus, BusMessage, LocalBus, NatsBus};
use hub::Hub;
use protocol::ServerFrame;
use std::collections::HashSet;
use std::sync::Arc;
use storage::{EventView, Store};
use tokio::sync::watch;
pub use writer::Writer;

/// Everything the messenger's handlers share.
pub struct Messenger {
    pub hub: Arc<Hub>,
    pub bus: Arc<dyn Bus>,
    /// The other nodes, when this is one of several.
    link: Option<cluster::Link>,
    pub writer: Writer,
    /// Polls' results as events, a few a second at most.
    pub poll_results: Arc<polls::PollResults>,
    /// Turns true when the server stops: sockets say `bye shutdown`.
    stopping: watch::Sender<bool>,
    /// Web Push to closed tabs, once started.
    notifier: std::sync::OnceLock<Arc<crate::notify::Notifier>>,
}

impl Messenger {
    /// A single process: the bus delivers straight to this node's hub.
    pub fn local(store: Store) -> Arc<Messenger> {
        let hub = Arc::new(Hub::default());
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new(Arc::clone(&hub)));
        Self::with_bus(store, hub, bus, None)
    }

    /// One node of several, hearing the others through NATS.
    pub fn clustered(store: Store, link: cluster::Link, streams: cluster::Streams) -> Arc<Messenger> {
        let hub = Arc::new(Hub::default());
        let bus: Arc<dyn Bus> = NatsBus::start(Arc::clone(&hub), link.clone(), streams);
        Self::with_bus(store, hub, bus, Some(link))
    }

    fn with_bus(store: Store, hub: Arc<Hub>, bus: Arc<dyn Bus>, link: Option<cluster::Link>) -> Arc<Messenger> {
        let writer = Writer::spawn(store.clone(), Arc::clone(&bus));
        let poll_results = polls::PollResults::new(store, Arc::clone(&bus));
        Arc::new(Messenger {
            hub,
            bus,
            link,
            writer,
            poll_results,
            stopping: watch::Sender::new(false),
            notifier: std::sync::OnceLock::new(),
        })
    }

    /// Pushes new messages (the writer's commit hook) and rings direct calls
    /// through `notifier`; only the first one set counts.
    pub fn set_notifier(&self, notifier: Arc<crate::notify::Notifier>) {
        let for_writer = Arc::clone(&notifier);
        if self.notifier.set(notifier).is_ok() {
            self.writer.on_commit(Box::new(move |committed| for_writer.message_committed(committed)));
        }
    }

    pub fn notifier(&self) -> Option<&Arc<crate::notify::Notifier>> {
        self.notifier.get()
    }

    pub fn is_clustered(&self) -> bool {
        self.link.is_some()
    }

    /// The other nodes (calls hosted elsewhere are reached through it).
    pub(crate) fn link(&self) -> Option<&cluster::Link> {
        self.link.as_ref()
    }

    /// Which of `people` have the messenger open, on any node.
    pub fn online(&self, people: &[i64]) -> HashSet<i64> {
        let mut online = self.hub.online(people);
        online.extend(self.bus.online_elsewhere(people));
        online
    }

    /// Publishes a committed chat event to every member's connections.
    pub fn publish_event(&self, event: EventView) {
        let (chat, seq) = (event.chat_id, event.seq);
        let frame = ServerFrame::event(event).to_json();
        self.bus.publish(BusMessage::Chat { chat, seq: Some(seq), frame: frame.into() });
    }

    /// Publishes a frame that is not part of the chat's log (typing, read marks).
    pub fn publish_ephemeral(&self, chat: i64, frame: &ServerFrame) {
        self.bus.publish(BusMessage::Chat { chat, seq: None, frame: frame.to_json().into() });
    }

    /// These Parta IDs' chats or sessions changed.
    pub fn accounts_changed(&self, accounts: Vec<i64>) {
        if !accounts.is_empty() {
            self.bus.publish(BusMessage::Accounts { accounts });
        }
    }

    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }
}
