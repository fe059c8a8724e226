//! Group commit: sends from every connection of this node queue here and are
//! written in batches, one transaction (one fsync) per batch. A send is
//! acknowledged only after its batch committed, then published on the bus.
//! Under load a batch grows while the previous one commits, so durability
//! costs one disk flush per batch rather than per message.

use super::bus::{Bus, BusMessage};
use super::protocol::ServerFrame;
use crate::error::{ApiError, ApiResult, UNAVAILABLE};
use std::sync::Arc;
use storage::{Change, Committed, EventView, NewMessage, Store};
use tokio::sync::{mpsc, oneshot};

/// The most messages one transaction takes.
const MAX_BATCH: usize = 512;
/// Sends waiting for the writer before new ones are refused as `unavailable`.
const QUEUE: usize = 8192;

struct Job {
    message: NewMessage,
    reply: oneshot::Sender<ApiResult<Committed>>,
}

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer task; it ends when the last `Writer` is dropped.
    pub fn spawn(store: Store, bus: Arc<dyn Bus>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, bus, rx));
        Writer { tx }
    }

    /// Appends a message; returns once it is committed (or refused).
    pub async fn send(&self, message: NewMessage) -> ApiResult<Committed> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { message, reply }).await.map_err(|_| UNAVAILABLE)?;
        answer.await.map_err(|_| UNAVAILABLE)?
    }
}

async fn run(store: Store, bus: Arc<dyn Bus>, mut rx: mpsc::Receiver<Job>) {
    // Taken once: per batch the metrics then cost three atomic updates.
    let committed_total = metrics::counter!(crate::metrics::MESSAGES_COMMITTED);
    let commit_seconds = metrics::histogram!(crate::metrics::COMMIT_SECONDS);
    let batch_size = metrics::histogram!(crate::metrics::COMMIT_BATCH);
    let failures = metrics::counter!(crate::metrics::COMMIT_FAILURES);
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch: Vec<NewMessage> = jobs.iter().map(|j| j.message.clone()).collect();
        let started = std::time::Instant::now();
        let appended = store.append_messages(&batch).await;
        let took = started.elapsed();
        tracing::debug!(messages = batch.len(), micros = took.as_micros() as u64, "batch written");
        commit_seconds.record(took);
        batch_size.record(batch.len() as f64);
        match appended {
            Ok(verdicts) => {
                let mut new = 0;
                for (job, verdict) in jobs.drain(..).zip(verdicts) {
                    let answer = verdict.map_err(ApiError::from);
                    if let Ok(committed) = &answer
                        && !committed.duplicate
                    {
                        new += 1;
                        publish(bus.as_ref(), committed);
                    }
                    // The sender may have gone (a closed socket): the message stands.
                    let _ = job.reply.send(answer);
                }
                committed_total.increment(new);
            }
            Err(e) => {
                failures.increment(1);
                let error = ApiError::from(e);
                for job in jobs.drain(..) {
                    let _ = job.reply.send(Err(error.clone()));
                }
            }
        }
    }
}

fn publish(bus: &dyn Bus, committed: &Committed) {
    let event = EventView {
        chat_id: committed.chat_id,
        seq: committed.seq,
        at: committed.message.created_at,
        change: Change::Message(Box::new(committed.message.clone())),
    };
    let frame = ServerFrame::event(event).to_json();
    bus.publish(BusMessage::Chat { chat: committed.chat_id, seq: Some(committed.seq), frame: frame.into() });
}
