//! Fan-out between nodes. Every node publishes what it committed and delivers
//! what any node published to its own connections (its [`Hub`]). The database
//! is the truth and the bus is best-effort: a connection that sees a gap in a
//! chat's sequence numbers reads the missing events from the database.
//!
//! One process uses [`LocalBus`]; several nodes use a broker (NATS) behind the
//! same trait, so nothing above this module assumes one process.

use super::hub::Hub;
use axum::extract::ws::Utf8Bytes;
use std::sync::Arc;

/// What a node tells every node, itself included.
#[derive(Debug, Clone)]
pub enum BusMessage {
    /// A serialised server frame for every connection in `chat`. `seq` is set
    /// for chat events (the connection orders and de-duplicates by it) and
    /// absent for ephemeral frames (typing, read marks).
    Chat { chat: i64, seq: Option<i64>, frame: Utf8Bytes },
    /// These Parta IDs joined or left chats, or lost sessions: their
    /// connections reload what they may see.
    Accounts { accounts: Vec<i64> },
    /// A serialised frame for these Parta IDs' connections alone (a reminder).
    ToAccounts { accounts: Vec<i64>, frame: Utf8Bytes },
}

pub trait Bus: Send + Sync {
    fn publish(&self, message: BusMessage);
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
