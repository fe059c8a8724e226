//! Group commit: sends from every connection of this node queue here and are
//! written in batches, one transaction (one fsync) per batch. A send is
//! acknowledged only after its batch committed; the batch's acks are queued on
//! their senders' sockets before its events go on the bus, so a sender waits
//! for the disk, never for the fan-out of its own message.
//! Under load a batch grows while the previous one commits, so durability
//! costs one disk flush per batch rather than per message.

use super::bus::{Bus, BusMessage};
use super::hub::Outbound;
use super::protocol::ServerFrame;
use crate::error::{ApiError, ApiResult, UNAVAILABLE};
use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use storage::{Change, Committed, EventView, NewMessage, Store};
use tokio::sync::{mpsc, oneshot};

/// The most messages one transaction takes.
const MAX_BATCH: usize = 512;
/// Sends waiting for the writer before new ones are refused as `unavailable`.
const QUEUE: usize = 8192;

struct Job {
    message: NewMessage,
    reply: oneshot::Sender<ApiResult<Committed>>,
    ack: Option<AckTo>,
}

/// Where a socket's send is acknowledged: its connection's queue, and the
/// sender's idempotency key the ack names.
pub struct AckTo {
    pub client_id: String,
    /// Weak, so that the queue still closes when the hub drops a slow consumer.
    pub queue: mpsc::WeakSender<Outbound>,
}

impl AckTo {
    fn tell(self, answer: &ApiResult<Committed>) {
        let frame = match answer {
            Ok(c) => ServerFrame::Ack {
                client_id: self.client_id,
                chat: c.chat_id,
                seq: c.seq,
                message_id: c.message_id,
                duplicate: c.duplicate,
            },
            Err(e) => ServerFrame::error(Some(self.client_id), e),
        };
        // Gone when the connection closed: the message stands, and a retry
        // with the same client id finds it.
        let Some(queue) = self.queue.upgrade() else { return };
        if let Err(mpsc::error::TrySendError::Full(reply)) = queue.try_send(Outbound::reply(frame.to_json())) {
            // A queue that is full is being drained (or its connection is
            // about to be dropped as slow): the ack waits its turn there
            // instead of holding up the batch.
            tokio::spawn(async move {
                let _ = queue.send(reply).await;
            });
        }
    }
}

/// Told of every new message once it is committed and published (pushes to
/// closed tabs): it must return at once.
pub type CommitHook = Box<dyn Fn(&Committed) + Send + Sync>;

#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
    hook: Arc<OnceLock<CommitHook>>,
}

impl Writer {
    /// Starts the writer task; it ends when the last `Writer` is dropped.
    pub fn spawn(store: Store, bus: Arc<dyn Bus>) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let hook = Arc::new(OnceLock::new());
        tokio::spawn(run(store, bus, rx, Arc::clone(&hook)));
        Writer { tx, hook }
    }

    /// Sets the hook told of new messages; only the first one set counts.
    pub fn on_commit(&self, hook: CommitHook) {
        let _ = self.hook.set(hook);
    }

    /// Appends a message; returns once it is committed (or refused).
    pub async fn send(&self, message: NewMessage) -> ApiResult<Committed> {
        self.append(message, None).await
    }

    /// Appends a message sent on a socket: the writer queues the ack (or the
    /// refusal) on the socket itself, ahead of the message's event.
    pub async fn send_acked(&self, message: NewMessage, ack: AckTo) {
        let _ = self.append(message, Some(ack)).await;
    }

    async fn append(&self, message: NewMessage, ack: Option<AckTo>) -> ApiResult<Committed> {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError(job)) = self.tx.send(Job { message, reply, ack }).await {
            if let Some(ack) = job.ack {
                ack.tell(&Err(UNAVAILABLE));
            }
            return Err(UNAVAILABLE);
        }
        answer.await.map_err(|_| UNAVAILABLE)?
    }
}

async fn run(store: Store, bus: Arc<dyn Bus>, mut rx: mpsc::Receiver<Job>, hook: Arc<OnceLock<CommitHook>>) {
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
                let mut answered = Vec::with_capacity(jobs.len());
                for (mut job, verdict) in jobs.drain(..).zip(verdicts) {
                    let answer = verdict.map_err(ApiError::from);
                    if let Some(ack) = job.ack.take() {
                        ack.tell(&answer);
                    }
                    answered.push((job.reply, answer));
                }
                let new: Vec<&Committed> =
                    answered.iter().filter_map(|(_, a)| a.as_ref().ok()).filter(|c| !c.duplicate).collect();
                publish(bus.as_ref(), &new);
                if let Some(hook) = hook.get() {
                    new.iter().for_each(|c| hook(c));
                }
                committed_total.increment(new.len() as u64);
                for (reply, answer) in answered {
                    // The sender may have gone (a closed socket): the message stands.
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                failures.increment(1);
                let error = Err(ApiError::from(e));
                for job in jobs.drain(..) {
                    if let Some(ack) = job.ack {
                        ack.tell(&error);
                    }
                    let _ = job.reply.send(error.clone());
                }
            }
        }
    }
}

/// Puts a batch's new messages on the bus, one run per chat in sequence
/// order: a member's connection then wakes and writes once per batch.
fn publish(bus: &dyn Bus, committed: &[&Committed]) {
    let mut runs: Vec<(i64, Vec<(i64, Utf8Bytes)>)> = Vec::new();
    let mut run_of: HashMap<i64, usize> = HashMap::new();
    for c in committed {
        let event = EventView {
            chat_id: c.chat_id,
            seq: c.seq,
            at: c.message.created_at,
            change: Change::Message(Box::new(c.message.clone())),
        };
        let frame = (c.seq, ServerFrame::event(event).to_json().into());
        let run = *run_of.entry(c.chat_id).or_insert_with(|| {
            runs.push((c.chat_id, Vec::new()));
            runs.len() - 1
        });
        runs[run].1.push(frame);
    }
    for (chat, events) in runs {
        bus.publish(BusMessage::ChatRun { chat, events: events.into() });
    }
}
