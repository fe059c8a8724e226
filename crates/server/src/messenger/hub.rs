//! The live connections of this node and the chats each listens to. Delivery
//! never waits: each connection has a bounded queue, and one that is full is
//! dropped from the hub (its socket then says `bye slow_consumer` and the
//! client resumes from its positions), so one slow phone never slows a class.

use super::bus::BusMessage;
use axum::extract::ws::Utf8Bytes;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::mpsc;

/// Frames queued per connection before it counts as a slow consumer.
pub const QUEUE: usize = 1024;

/// What the hub hands a connection. Every connection's queue allocates room
/// for 32 of these when it is made (tokio's first block of slots), idle or
/// not, so each variant holds at most one pointer: the queue of an idle
/// connection is then half a KiB instead of two.
#[derive(Debug, Clone)]
pub enum Outbound {
    Chat(Arc<ChatFrame>),
    /// Events of one chat committed together, in sequence order.
    ChatRun(Arc<ChatRun>),
    /// Reload memberships and the session: something about this account changed.
    Reload,
    /// Read from the database what the bus may have dropped (this node lost
    /// NATS, or another node did while publishing): the session and the
    /// memberships, as after `Reload`, and every chat's events after the
    /// connection's positions.
    CatchUp,
    /// An answer to this connection's own request (an ack or an error), or a
    /// frame for its Parta ID alone, serialised; it shares the queue so an
    /// idle connection has one channel.
    Reply(Box<Utf8Bytes>),
}

impl Outbound {
    pub fn reply(frame: impl Into<Utf8Bytes>) -> Outbound {
        Outbound::Reply(Box::new(frame.into()))
    }
}

/// A frame for every connection in `chat`, shared by all of them.
#[derive(Debug)]
pub struct ChatFrame {
    pub chat: i64,
    /// Set for chat events, absent for ephemeral frames (typing, read marks).
    pub seq: Option<i64>,
    pub frame: Utf8Bytes,
}

#[derive(Debug)]
pub struct ChatRun {
    pub chat: i64,
    pub events: Arc<[(i64, Utf8Bytes)]>,
}

struct Conn {
    tx: mpsc::Sender<Outbound>,
    account: i64,
    chats: Vec<i64>,
    people: Vec<i64>,
}

#[derive(Default)]
struct Inner {
    conns: HashMap<u64, Conn>,
    by_chat: HashMap<i64, Vec<u64>>,
    by_account: HashMap<i64, Vec<u64>>,
    /// Connections per person, for the members list's "online".
    by_person: HashMap<i64, usize>,
}

/// Told when this node starts or stops having sockets for a chat, and when
/// a person's first socket opens or their last closes: what another node's
/// bus needs to route to this one. Called under the hub's lock: it must not
/// block.
pub trait HubWatcher: Send + Sync {
    fn chat(&self, chat: i64, listening: bool);
    fn person(&self, person: i64, online: bool);
}

#[derive(Default)]
pub struct Hub {
    inner: RwLock<Inner>,
    next_id: AtomicU64,
    watcher: OnceLock<Arc<dyn HubWatcher>>,
}

/// A connection's place in the hub; dropping it leaves.
pub struct Registration {
    id: u64,
    hub: Arc<Hub>,
}

/// Removes `id` under `key`; true when that left the key empty (and gone).
fn remove_id(map: &mut HashMap<i64, Vec<u64>>, key: i64, id: u64) -> bool {
    let Some(ids) = map.get_mut(&key) else { return false };
    ids.retain(|x| *x != id);
    let emptied = ids.is_empty();
    if emptied {
        map.remove(&key);
    }
    emptied
}

/// A chat this node starts or stops listening to, or a person who comes or
/// goes, for the [`HubWatcher`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Edge {
    Chat(i64),
    Person(i64),
}

/// Edges seen while changing the hub, netted out: a chat a connection left
/// and joined again in one resubscribe is no change.
#[derive(Default)]
struct Edges(HashMap<Edge, i32>);

impl Edges {
    fn add(&mut self, edge: Edge, up: bool) {
        *self.0.entry(edge).or_default() += if up { 1 } else { -1 };
    }

    fn tell(self, watcher: Option<&Arc<dyn HubWatcher>>) {
        let Some(watcher) = watcher else { return };
        for (edge, net) in self.0 {
            match (edge, net.signum()) {
                (_, 0) => {}
                (Edge::Chat(chat), n) => watcher.chat(chat, n > 0),
                (Edge::Person(person), n) => watcher.person(person, n > 0),
            }
        }
    }
}

impl Inner {
    fn unsubscribe(&mut self, id: u64, edges: &mut Edges) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        for chat in &conn.chats {
            if remove_id(&mut self.by_chat, *chat, id) {
                edges.add(Edge::Chat(*chat), false);
            }
        }
        remove_id(&mut self.by_account, conn.account, id);
        for person in &conn.people {
            if let Some(n) = self.by_person.get_mut(person) {
                *n -= 1;
                if *n == 0 {
                    self.by_person.remove(person);
                    edges.add(Edge::Person(*person), false);
                }
            }
        }
        Some(conn)
    }

    fn subscribe(&mut self, id: u64, conn: Conn, edges: &mut Edges) {
        for chat in &conn.chats {
            let ids = self.by_chat.entry(*chat).or_default();
            if ids.is_empty() {
                edges.add(Edge::Chat(*chat), true);
            }
            ids.push(id);
        }
        self.by_account.entry(conn.account).or_default().push(id);
        for person in &conn.people {
            let n = self.by_person.entry(*person).or_default();
            if *n == 0 {
                edges.add(Edge::Person(*person), true);
            }
            *n += 1;
        }
        self.conns.insert(id, conn);
    }
}

impl Hub {
    /// Sets who hears of chats and people coming and going (once, before
    /// the first connection).
    pub fn watch(&self, watcher: Arc<dyn HubWatcher>) {
        let _ = self.watcher.set(watcher);
    }

    /// Adds a connection listening to `chats` as `people` (its persons in them).
    pub fn register(
        self: &Arc<Self>,
        account: i64,
        chats: Vec<i64>,
        people: Vec<i64>,
        tx: mpsc::Sender<Outbound>,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut edges = Edges::default();
        inner.subscribe(id, Conn { tx, account, chats, people }, &mut edges);
        edges.tell(self.watcher.get());
        Registration { id, hub: Arc::clone(self) }
    }

    /// Replaces what a connection listens to (after a reload). False when the
    /// hub already dropped it as a slow consumer.
    pub fn resubscribe(&self, registration: &Registration, chats: Vec<i64>, people: Vec<i64>) -> bool {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut edges = Edges::default();
        let Some(old) = inner.unsubscribe(registration.id, &mut edges) else { return false };
        inner.subscribe(registration.id, Conn { tx: old.tx, account: old.account, chats, people }, &mut edges);
        edges.tell(self.watcher.get());
        true
    }

    pub fn deliver(&self, message: &BusMessage) {
        let mut slow = Vec::new();
        {
            let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
            let mut offer = |id: &u64, outbound: Outbound| {
                let Some(conn) = inner.conns.get(id) else { return };
                match conn.tx.try_send(outbound) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => slow.push(*id),
                    // The connection is closing; its registration removes it.
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            };
            match message {
                BusMessage::Chat { chat, seq, frame } => {
                    let shared = Arc::new(ChatFrame { chat: *chat, seq: *seq, frame: frame.clone() });
                    for id in inner.by_chat.get(chat).into_iter().flatten() {
                        offer(id, Outbound::Chat(Arc::clone(&shared)));
                    }
                }
                BusMessage::ChatRun { chat, events } => {
                    let shared = Arc::new(ChatRun { chat: *chat, events: Arc::clone(events) });
                    for id in inner.by_chat.get(chat).into_iter().flatten() {
                        offer(id, Outbound::ChatRun(Arc::clone(&shared)));
                    }
                }
                BusMessage::Accounts { accounts } => {
                    for id in accounts.iter().filter_map(|a| inner.by_account.get(a)).flatten() {
                        offer(id, Outbound::Reload);
                    }
                }
                BusMessage::ToAccounts { accounts, frame } => {
                    for id in accounts.iter().filter_map(|a| inner.by_account.get(a)).flatten() {
                        offer(id, Outbound::reply(frame.clone()));
                    }
                }
            }
        }
        if !slow.is_empty() {
            metrics::counter!(crate::metrics::SLOW_CONSUMERS).increment(slow.len() as u64);
            let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
            let mut edges = Edges::default();
            for id in slow {
                tracing::info!(connection = id, "slow consumer dropped");
                inner.unsubscribe(id, &mut edges);
            }
            edges.tell(self.watcher.get());
        }
    }

    /// Which of `people` have the messenger open on this node.
    pub fn online(&self, people: &[i64]) -> HashSet<i64> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        people.iter().copied().filter(|p| inner.by_person.contains_key(p)).collect()
    }

    /// The people with the messenger open on this node.
    pub fn people_online(&self) -> Vec<i64> {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).by_person.keys().copied().collect()
    }

    /// Tells every connection to read what it may have missed from the database.
    pub fn catch_up_all(&self) {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        for conn in inner.conns.values() {
            // A full queue is a slow consumer: it resumes from the database anyway.
            let _ = conn.tx.try_send(Outbound::CatchUp);
        }
    }

    pub fn connections(&self) -> usize {
        self.inner.read().unwrap_or_else(|p| p.into_inner()).conns.len()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut inner = self.hub.inner.write().unwrap_or_else(|p| p.into_inner());
        let mut edges = Edges::default();
        inner.unsubscribe(self.id, &mut edges);
        edges.tell(self.hub.watcher.get());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_slot_is_one_pointer_so_an_idle_connections_queue_stays_small() {
        // tokio allocates 32 slots per channel when it is made.
        assert!(std::mem::size_of::<Outbound>() <= 16, "Outbound is {} bytes", std::mem::size_of::<Outbound>());
    }

    fn frame(chat: i64, seq: i64) -> BusMessage {
        BusMessage::Chat { chat, seq: Some(seq), frame: Utf8Bytes::from(format!("{chat}:{seq}")) }
    }

    #[tokio::test]
    async fn a_frame_reaches_exactly_the_connections_of_its_chat() {
        let hub = Arc::new(Hub::default());
        let (tx_a, mut rx_a) = mpsc::channel(8);
        let (tx_b, mut rx_b) = mpsc::channel(8);
        let _a = hub.register(1, vec![10, 11], vec![100], tx_a);
        let _b = hub.register(2, vec![11], vec![200], tx_b);
        hub.deliver(&frame(10, 1));
        hub.deliver(&frame(11, 1));
        assert!(matches!(rx_a.try_recv(), Ok(Outbound::Chat(c)) if c.chat == 10));
        assert!(matches!(rx_a.try_recv(), Ok(Outbound::Chat(c)) if c.chat == 11));
        assert!(matches!(rx_b.try_recv(), Ok(Outbound::Chat(c)) if c.chat == 11));
        assert!(rx_b.try_recv().is_err());
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_connection_and_spares_the_others() {
        let hub = Arc::new(Hub::default());
        let (slow_tx, mut slow_rx) = mpsc::channel(2);
        let (fast_tx, mut fast_rx) = mpsc::channel(16);
        let _slow = hub.register(1, vec![7], vec![1], slow_tx);
        let _fast = hub.register(2, vec![7], vec![2], fast_tx);
        for seq in 1..=5 {
            hub.deliver(&frame(7, seq));
        }
        assert_eq!(hub.connections(), 1);
        // The slow one keeps what was queued, then its queue closes.
        assert!(slow_rx.recv().await.is_some());
        assert!(slow_rx.recv().await.is_some());
        assert!(slow_rx.recv().await.is_none());
        for _ in 1..=5 {
            assert!(fast_rx.try_recv().is_ok());
        }
    }

    #[tokio::test]
    async fn dropping_a_registration_leaves_the_hub_and_presence() {
        let hub = Arc::new(Hub::default());
        let (tx, _rx) = mpsc::channel(2);
        let registration = hub.register(1, vec![7], vec![42], tx);
        assert_eq!(hub.online(&[42, 43]), HashSet::from([42]));
        drop(registration);
        assert!(hub.online(&[42]).is_empty());
        assert_eq!(hub.connections(), 0);
    }

    #[tokio::test]
    async fn an_account_change_reaches_every_connection_of_that_account() {
        let hub = Arc::new(Hub::default());
        let (tx1, mut rx1) = mpsc::channel(2);
        let (tx2, mut rx2) = mpsc::channel(2);
        let (tx3, mut rx3) = mpsc::channel(2);
        let _one = hub.register(5, vec![], vec![], tx1);
        let _two = hub.register(5, vec![1], vec![9], tx2);
        let _other = hub.register(6, vec![1], vec![8], tx3);
        hub.deliver(&BusMessage::Accounts { accounts: vec![5] });
        assert!(matches!(rx1.try_recv(), Ok(Outbound::Reload)));
        assert!(matches!(rx2.try_recv(), Ok(Outbound::Reload)));
        assert!(rx3.try_recv().is_err());
    }

    #[derive(Default)]
    struct Heard(std::sync::Mutex<Vec<(char, i64, bool)>>);

    impl HubWatcher for Heard {
        fn chat(&self, chat: i64, listening: bool) {
            self.0.lock().unwrap().push(('c', chat, listening));
        }
        fn person(&self, person: i64, online: bool) {
            self.0.lock().unwrap().push(('p', person, online));
        }
    }

    impl Heard {
        fn take(&self) -> Vec<(char, i64, bool)> {
            let mut heard = std::mem::take(&mut *self.0.lock().unwrap());
            heard.sort_unstable();
            heard
        }
    }

    #[tokio::test]
    async fn the_watcher_hears_only_the_first_and_last_connection_of_a_chat_or_person() {
        let hub = Arc::new(Hub::default());
        let heard = Arc::new(Heard::default());
        hub.watch(heard.clone());
        let (tx, _rx) = mpsc::channel(8);
        let one = hub.register(1, vec![10, 11], vec![100], tx.clone());
        assert_eq!(heard.take(), [('c', 10, true), ('c', 11, true), ('p', 100, true)]);
        let two = hub.register(1, vec![11], vec![100], tx);
        assert!(heard.take().is_empty(), "already listening, already online");
        // Leaves 10, stays in 11, joins 12: only the edges are heard.
        assert!(hub.resubscribe(&one, vec![11, 12], vec![100]));
        assert_eq!(heard.take(), [('c', 10, false), ('c', 12, true)]);
        drop(one);
        assert_eq!(heard.take(), [('c', 12, false)]);
        drop(two);
        assert_eq!(heard.take(), [('c', 11, false), ('p', 100, false)]);
    }
}
