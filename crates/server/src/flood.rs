//! Flood control at the edge: every write a person makes, over the socket or
//! HTTP, is admitted against their allowance for that kind of act
//! ([`messenger::flood`] holds the rules and the arithmetic). A refusal is
//! `429 rate_limited` with `retry_after`, or the same code in an `error` frame
//! on the socket; nothing refused is stored, so the client sends it again
//! after the wait.
//!
//! Time is tokio's monotonic clock (milliseconds since this node started):
//! the wall clock may jump, and tests pause and advance tokio's.

use crate::error::ApiError;
use futures_util::future::BoxFuture;
use messenger::flood::{self, Action, Limits, Rate, Wait};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::time::Instant;

/// Whose allowance an act draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FloodKey {
    /// The Parta ID: one person, whichever of their sockets or tabs acts.
    pub account: i64,
    pub action: Action,
    /// A chat admin's extra allowance, drawn on once everyone's is spent.
    pub admin_extra: bool,
}

/// Where allowances are kept. One node keeps them in memory
/// ([`MemoryFloodStore`]); several nodes that must share them put a shared
/// store behind this trait (which then reads its own clock, not `now`).
pub trait FloodStore: Send + Sync {
    /// One act of `key` under `rate` at `now` (milliseconds): admitted, or
    /// how long to wait.
    fn admit(&self, key: FloodKey, rate: Rate, now: u64) -> BoxFuture<'_, Result<(), Wait>>;
}

/// This node's allowances. An allowance that is whole again is the same as
/// none, so the map is swept of those whenever it has doubled.
#[derive(Default)]
pub struct MemoryFloodStore {
    state: Mutex<MemoryState>,
}

#[derive(Default)]
struct MemoryState {
    tats: HashMap<FloodKey, u64>,
    sweep_at: usize,
}

impl MemoryFloodStore {
    fn admit_now(&self, key: FloodKey, rate: Rate, now: u64) -> Result<(), Wait> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = flood::admit(state.tats.get(&key).copied(), now, rate)?;
        state.tats.insert(key, tat);
        if state.tats.len() > state.sweep_at {
            state.tats.retain(|_, tat| *tat > now);
            state.sweep_at = (state.tats.len() * 2).max(1024);
        }
        Ok(())
    }

    /// Allowances still being paid off.
    pub fn len(&self) -> usize {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).tats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FloodStore for MemoryFloodStore {
    fn admit(&self, key: FloodKey, rate: Rate, now: u64) -> BoxFuture<'_, Result<(), Wait>> {
        Box::pin(std::future::ready(self.admit_now(key, rate, now)))
    }
}

/// The limits in force and where the allowances are kept.
pub struct Flood {
    pub limits: Limits,
    store: Arc<dyn FloodStore>,
    origin: Instant,
}

impl Default for Flood {
    fn default() -> Self {
        Flood::in_memory(Limits::default())
    }
}

impl Flood {
    pub fn in_memory(limits: Limits) -> Flood {
        Flood::with_store(limits, Arc::new(MemoryFloodStore::default()))
    }

    pub fn with_store(limits: Limits, store: Arc<dyn FloodStore>) -> Flood {
        Flood { limits, store, origin: Instant::now() }
    }

    /// Milliseconds on tokio's clock since this node started.
    pub fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Admits one `action` of `account`, or refuses it with the wait.
    pub async fn admit(&self, account: i64, action: Action) -> Result<(), ApiError> {
        self.admit_in_chat(account, action, async { false }).await
    }

    /// As [`Flood::admit`], for an act in one chat: a chat admin draws on an
    /// extra allowance once everyone's is spent. `is_admin` is awaited only
    /// then, so the common case costs no lookup.
    pub async fn admit_in_chat(
        &self,
        account: i64,
        action: Action,
        is_admin: impl Future<Output = bool>,
    ) -> Result<(), ApiError> {
        let now = self.now();
        let key = FloodKey { account, action, admin_extra: false };
        let Err(wait) = self.store.admit(key, self.limits.rate(action), now).await else {
            return Ok(());
        };
        if let Some(extra) = self.limits.admin_extra(action)
            && is_admin.await
        {
            let key = FloodKey { admin_extra: true, ..key };
            if self.store.admit(key, extra, now).await.is_ok() {
                return Ok(());
            }
        }
        tracing::debug!(account, ?action, wait_ms = wait.0, "rate limited");
        Err(refused(wait))
    }
}

/// The refusal, with the wait in whole seconds (at least one).
pub fn refused(wait: Wait) -> ApiError {
    crate::error::RATE_LIMITED.retry_after(wait.0.div_ceil(1000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn a_person_is_refused_past_the_burst_and_admitted_again_after_the_wait() {
        let flood = Flood::in_memory(Limits { messages: Rate::new(2, 1.0), ..Limits::default() });
        assert!(flood.admit(1, Action::Message).await.is_ok());
        assert!(flood.admit(1, Action::Message).await.is_ok());
        let refused = flood.admit(1, Action::Message).await.unwrap_err();
        assert_eq!((refused.code, refused.retry_after), ("rate_limited", Some(1)));
        assert!(flood.admit(2, Action::Message).await.is_ok(), "another person has their own allowance");
        assert!(flood.admit(1, Action::Typing).await.is_ok(), "another action has its own allowance");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(flood.admit(1, Action::Message).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_chat_admin_gets_more_and_is_asked_about_only_when_it_matters() {
        let flood = Flood::in_memory(Limits { messages: Rate::new(2, 1.0), admin_factor: 3, ..Limits::default() });
        let asked = std::sync::atomic::AtomicUsize::new(0);
        let is_admin = || async {
            asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            true
        };
        let mut admitted = 0;
        while flood.admit_in_chat(7, Action::Message, is_admin()).await.is_ok() {
            admitted += 1;
        }
        assert_eq!(admitted, 6, "everyone's two, then the admin's four more");
        assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 5, "asked only once everyone's was spent");
    }

    #[tokio::test(start_paused = true)]
    async fn allowances_paid_off_are_swept_from_memory() {
        let store = Arc::new(MemoryFloodStore::default());
        let flood = Flood::with_store(Limits::default(), store.clone());
        for account in 0..1_500 {
            flood.admit(account, Action::Write).await.unwrap();
        }
        tokio::time::advance(Duration::from_secs(1)).await;
        for account in 1_500..2_100 {
            flood.admit(account, Action::Write).await.unwrap();
        }
        assert_eq!(store.len(), 600, "only the allowances still being paid off are kept");
    }
}
