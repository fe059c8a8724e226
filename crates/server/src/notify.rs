//! Notifications to devices whose messenger is closed (issue 19), by Web
//! Push. A new message is pushed after a short grace period to the members
//! who have not read it by then: a person looking at the chat marks it read
//! within the grace period and gets no push, on whichever node their socket
//! is, because read positions are in the database.
//!
//! In a school's quiet hours (`messenger::quiet`) a message in a chat they
//! cover is not pushed but held, and each person gets one summary when they
//! end ([`Notifier::release_held`], run by the cluster's leader). A chat
//! admin's «Срочно» is pushed at once, through quiet hours and everyone's
//! choices.
//!
//! The node that committed a message pushes it. A push is a courtesy, not a
//! delivery: the message itself is durable and reaches every device when it
//! connects; a node that dies inside the grace period loses only the pushes.

use crate::Clock;
use crate::messenger::protocol::ReminderAbout;
use messenger::notify;
use messenger::quiet::{Quiet, QuietHours};
use push::{AllowList, Delivery, Notice, Pusher, PusherConfig, Subscription, SubscriptionError, Urgency, VapidKey};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use storage::{Committed, PushDevice, Store};
use tokio::sync::{Semaphore, mpsc};

/// What a notification shows of a message: as much as a lock screen line.
pub const PREVIEW_CHARS: usize = 100;
/// Pushes in flight at once from one node.
const CONCURRENT_PUSHES: usize = 64;
/// New messages waiting for their grace period on one node. Past this (a
/// burst faster than the look-ups drain) new ones are not pushed: a push
/// is a courtesy, the message itself is delivered all the same.
const WAITING: usize = 20_000;
/// How long after a message's grace period the ones that came due with it
/// are gathered: a chat's burst then asks once whether anyone could get a
/// push at all, not once per message.
const GATHER: Duration = Duration::from_millis(200);

/// `[push]`: Web Push. On by default; the key is made at first start.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PushConfig {
    pub enabled: bool,
    /// The VAPID private key (32 bytes, base64url), to keep one across a
    /// reinstall; by default the one stored in the database.
    pub vapid_private_key: Option<String>,
    /// How push services reach the operator: `mailto:` or `https:`.
    pub contact: String,
    /// Push service hosts subscriptions may name (`*.` for subdomains).
    pub allowed_endpoints: Vec<String>,
    /// How long an unread message waits before it is pushed, in
    /// milliseconds: a person reading the chat meanwhile gets no push.
    pub delay_ms: u64,
}

impl Default for PushConfig {
    fn default() -> PushConfig {
        PushConfig {
            enabled: true,
            vapid_private_key: None,
            contact: "mailto:admin@localhost".into(),
            allowed_endpoints: push::BROWSER_PUSH_SERVICES.iter().map(|h| (*h).to_owned()).collect(),
            delay_ms: 3_000,
        }
    }
}

impl std::fmt::Debug for PushConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushConfig")
            .field("enabled", &self.enabled)
            .field("vapid_private_key", &self.vapid_private_key.as_ref().map(|_| "<redacted>"))
            .field("contact", &self.contact)
            .field("allowed_endpoints", &self.allowed_endpoints)
            .field("delay_ms", &self.delay_ms)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushStartError {
    #[error("[push] vapid_private_key: {0}")]
    Key(#[from] push::KeyError),
    #[error("cannot keep the VAPID key: {0}")]
    Storage(#[from] storage::StorageError),
    #[error(transparent)]
    Client(#[from] push::ClientError),
}

/// What the service worker receives (JSON). Versioned like the socket
/// protocol: a worker ignores a `v` it does not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub v: u32,
    #[serde(flatten)]
    pub kind: PayloadKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PayloadKind {
    Message {
        chat: i64,
        /// The chat as the person sees it (a direct chat: the sender).
        chat_name: String,
        direct: bool,
        message: i64,
        seq: i64,
        sender: String,
        /// At most [`PREVIEW_CHARS`] characters of the text; absent for a
        /// person who hides the text of notifications.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        preview: Option<String>,
    },
    /// A chat admin's «Напомнить»: read a message, or answer a form.
    Reminder {
        chat: i64,
        chat_name: String,
        message: i64,
        /// As the socket's `reminder` frame says.
        about: ReminderAbout,
    },
    /// A direct call is ringing: the phone rings like a call.
    Call { chat: i64, call: i64, caller: String },
    /// Quiet hours ended: what they held, still unread («Пока были тихие
    /// часы: 5 новых сообщений в 2 чатах»).
    Summary {
        /// Held messages in all.
        messages: i64,
        chats: Vec<SummaryChat>,
    },
}

/// One chat of a [`PayloadKind::Summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryChat {
    pub chat: i64,
    /// Empty for a direct chat.
    pub chat_name: String,
    pub messages: i64,
}

pub struct Notifier {
    pusher: Pusher,
    allow: AllowList,
    store: Store,
    clock: Clock,
    delay: Duration,
    /// The quiet hours of a school that has not chosen its own.
    default_quiet: QuietHours,
    sending: Arc<Semaphore>,
    /// New messages waiting out the grace period, in the order committed.
    waiting: mpsc::Sender<Waiting>,
}

/// A committed message waiting for its grace period to end.
struct Waiting {
    due: tokio::time::Instant,
    chat: i64,
    seq: i64,
    message_id: i64,
    author: i64,
    sender: String,
    preview: String,
    mentions: Vec<i64>,
    reply_to: Option<i64>,
    urgent: bool,
}

impl Notifier {
    /// `None` when `[push]` is off. In demo mode a receiver on loopback
    /// (`http://127.0.0.1:…`) may subscribe too, so tests run without the
    /// internet.
    pub async fn start(
        config: &PushConfig,
        store: Store,
        clock: Clock,
        demo: bool,
        default_quiet: QuietHours,
    ) -> Result<Option<Arc<Notifier>>, PushStartError> {
        if !config.enabled {
            return Ok(None);
        }
        let key = match &config.vapid_private_key {
            Some(configured) => VapidKey::from_base64(configured)?,
            None => VapidKey::from_base64(&store.push_vapid_key(&VapidKey::generate().to_base64(), clock()).await?)?,
        };
        let pusher = Pusher::new(key, PusherConfig { contact: config.contact.clone(), ..PusherConfig::default() })?;
        let (waiting, queue) = mpsc::channel(WAITING);
        let notifier = Arc::new(Notifier {
            pusher,
            allow: AllowList::new(config.allowed_endpoints.clone(), demo),
            store,
            clock,
            delay: Duration::from_millis(config.delay_ms),
            default_quiet,
            sending: Arc::new(Semaphore::new(CONCURRENT_PUSHES)),
            waiting,
        });
        tokio::spawn(push_in_turn(Arc::downgrade(&notifier), queue));
        Ok(Some(notifier))
    }

    pub fn public_key(&self) -> String {
        self.pusher.public_key()
    }

    pub fn check(&self, endpoint: &str, p256dh: &str, auth: &str) -> Result<Subscription, SubscriptionError> {
        self.allow.check(endpoint, p256dh, auth)
    }

    /// A message was committed: push it, after the grace period, to whoever
    /// has not read it by then; an urgent one at once.
    pub fn message_committed(&self, committed: &Committed) {
        let message = &committed.message;
        // A call's record is not news: the call rang while it lasted.
        if message.call.is_some() || message.deleted {
            return;
        }
        let preview = if message.text.trim().is_empty() && !message.attachments.is_empty() {
            "📎".to_owned()
        } else {
            messenger::preview(&message.text, PREVIEW_CHARS)
        };
        let delay = if message.urgent { Duration::ZERO } else { self.delay };
        let waiting = Waiting {
            due: tokio::time::Instant::now() + delay,
            chat: committed.chat_id,
            seq: committed.seq,
            message_id: committed.message_id,
            author: message.author.person,
            sender: message.author.name.clone(),
            preview,
            mentions: message.mentions.clone(),
            reply_to: message.reply_to.as_ref().map(|r| r.id),
            urgent: message.urgent,
        };
        if let Err(mpsc::error::TrySendError::Full(_)) = self.waiting.try_send(waiting) {
            too_many_waiting(committed.chat_id);
        }
    }

    /// The quiet hours of school `org` now for a chat of `kind`; none when
    /// they cannot be read (a push too many beats a message never told of).
    async fn quiet(&self, org: i64, kind: &str, now: i64) -> Option<Quiet> {
        match crate::quiet_api::of_school(&self.store, &self.default_quiet, org).await {
            Ok(hours) => hours.quiet(kind, now),
            Err(e) => {
                tracing::warn!(org, error = %e, "cannot read the school's quiet hours");
                None
            }
        }
    }

    /// Pushes messages whose grace period is over. A chat with several of
    /// them is first asked whether any member who has not read them all has
    /// a device to push to; a class chat where nobody does costs one question.
    async fn push_due(self: &Arc<Self>, due: Vec<Waiting>) {
        let now = (self.clock)();
        let mut newest: HashMap<i64, (i64, usize)> = HashMap::new();
        for w in &due {
            let (seq, count) = newest.entry(w.chat).or_insert((w.seq, 0));
            *seq = (*seq).max(w.seq);
            *count += 1;
        }
        let mut nobody = HashSet::new();
        for (chat, (seq, count)) in newest {
            if count < 2 {
                continue;
            }
            // Read positions only grow: nobody behind the newest is nobody behind any.
            match self.store.push_devices_unread(chat, seq, now).await {
                Ok(false) => {
                    nobody.insert(chat);
                }
                Ok(true) => {}
                Err(e) => tracing::warn!(chat, error = %e, "cannot tell whether a chat has devices to push to"),
            }
        }
        for w in due {
            if !nobody.contains(&w.chat) {
                self.push_message(w).await;
            }
        }
    }

    /// Pushes one message whose grace period is over to the members who have
    /// not read it by now and want it; in quiet hours, holds it for them.
    async fn push_message(self: &Arc<Self>, w: Waiting) {
        let now = (self.clock)();
        let audience = match self.store.push_audience(w.chat, w.seq, w.author, w.reply_to, now).await {
            Ok(Some(audience)) => audience,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(chat = w.chat, seq = w.seq, error = %e, "cannot find whom to push a message to");
                return;
            }
        };
        let direct = audience.kind == "direct";
        let chat_name = if direct { w.sender.clone() } else { audience.chat_name.clone() };
        // A subscription comes once per school account of its Parta ID in
        // the chat: it is pushed to once, if any of them wants it.
        let mut wanted: Vec<(PushDevice, bool)> = Vec::new();
        // Who wants it, as (Parta ID, member): what quiet hours hold.
        let mut wanting: Vec<(i64, i64)> = Vec::new();
        for target in audience.targets {
            let level = target
                .setting
                .level
                .unwrap_or_else(|| notify::default_level(&audience.kind, audience.members, target.admin));
            let incoming = notify::Incoming {
                from_admin: audience.author_admin,
                mentions_me: w.mentions.contains(&target.person),
                replies_to_me: audience.reply_author == Some(target.person),
            };
            let wants = w.urgent || notify::notifies(level, target.setting.muted(now), incoming);
            if wants && !wanting.contains(&(target.device.account, target.person)) {
                wanting.push((target.device.account, target.person));
            }
            if wants && !wanted.iter().any(|(d, _)| d.subscription == target.device.subscription) {
                wanted.push((target.device, target.previews));
            }
        }
        let quiet = if w.urgent { None } else { self.quiet(audience.org, &audience.kind, now).await };
        if let Some(quiet) = quiet {
            let held: Vec<(i64, i64, i64, i64, i64)> =
                wanting.into_iter().map(|(account, person)| (account, person, w.chat, w.seq, quiet.until)).collect();
            if let Err(e) = self.store.hold_pushes(&held).await {
                tracing::warn!(chat = w.chat, seq = w.seq, error = %e, "cannot hold a message's pushes for quiet hours");
            }
            return;
        }
        for (device, previews) in wanted {
            let kind = PayloadKind::Message {
                chat: w.chat,
                chat_name: chat_name.clone(),
                direct,
                message: w.message_id,
                seq: w.seq,
                sender: w.sender.clone(),
                preview: previews.then(|| w.preview.clone()),
            };
            let notice = Notice {
                payload: serde_json::to_vec(&Payload { v: 1, kind }).unwrap_or_default(),
                ttl: Duration::from_secs(24 * 3600),
                urgency: if direct || w.urgent { Urgency::High } else { Urgency::Normal },
                topic: Some(format!("chat-{}", w.chat)),
            };
            self.deliver(device, notice).await;
        }
    }

    /// A direct call started: ring the other person's devices at once, unless
    /// they muted the chat or the school's quiet hours cover direct chats
    /// (they do not by default). A ring is not held: the push lives 30 s,
    /// a call found later is over, and its record message tells of it.
    pub fn ring(self: &Arc<Self>, chat: i64, call: i64, caller: i64, caller_name: &str) {
        let notifier = Arc::clone(self);
        let caller_name = caller_name.to_owned();
        tokio::spawn(async move {
            let now = (notifier.clock)();
            // As for a message nobody has read yet: the other member, whatever they read.
            let audience = match notifier.store.push_audience(chat, i64::MAX, caller, None, now).await {
                Ok(Some(audience)) => audience,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(chat, call, error = %e, "cannot find whom a call rings");
                    return;
                }
            };
            if notifier.quiet(audience.org, &audience.kind, now).await.is_some() {
                return;
            }
            let mut rung: Vec<i64> = Vec::new();
            for target in audience.targets {
                if target.setting.muted(now) || rung.contains(&target.device.subscription) {
                    continue;
                }
                rung.push(target.device.subscription);
                let kind = PayloadKind::Call { chat, call, caller: caller_name.clone() };
                let notice = Notice {
                    payload: serde_json::to_vec(&Payload { v: 1, kind }).unwrap_or_default(),
                    ttl: Duration::from_secs(30),
                    urgency: Urgency::High,
                    topic: Some(format!("call-{chat}")),
                };
                notifier.deliver(target.device, notice).await;
            }
        });
    }

    /// «Напомнить» reaches the devices of `accounts` too, for whoever has
    /// the messenger closed: a reminder is exactly for those not looking.
    pub fn remind(self: &Arc<Self>, accounts: Vec<i64>, reminder: PayloadKind) {
        let notifier = Arc::clone(self);
        tokio::spawn(async move {
            let devices = match notifier.store.push_devices(&accounts, (notifier.clock)()).await {
                Ok(devices) => devices,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot find the devices a reminder goes to");
                    return;
                }
            };
            let payload = serde_json::to_vec(&Payload { v: 1, kind: reminder }).unwrap_or_default();
            for device in devices {
                let notice = Notice {
                    payload: payload.clone(),
                    ttl: Duration::from_secs(24 * 3600),
                    urgency: Urgency::Normal,
                    topic: None,
                };
                notifier.deliver(device, notice).await;
            }
        });
    }

    /// Quiet hours ended: each person with held messages still unread gets
    /// one summary on every device. Run by the cluster's leader alone, so a
    /// summary goes out once.
    pub async fn release_held(self: &Arc<Self>) {
        let now = (self.clock)();
        let summaries = match self.store.release_held_pushes(now).await {
            Ok(summaries) if summaries.is_empty() => return,
            Ok(summaries) => summaries,
            Err(e) => {
                tracing::warn!(error = %e, "cannot release the pushes quiet hours held");
                return;
            }
        };
        let accounts: Vec<i64> = summaries.iter().map(|s| s.account).collect();
        let devices = match self.store.push_devices(&accounts, now).await {
            Ok(devices) => devices,
            Err(e) => {
                tracing::warn!(error = %e, "cannot find the devices quiet hours' summaries go to");
                return;
            }
        };
        for summary in summaries {
            let chats: Vec<SummaryChat> = summary
                .chats
                .into_iter()
                .map(|c| SummaryChat {
                    chat: c.chat,
                    chat_name: if c.kind == "direct" { String::new() } else { c.name },
                    messages: c.messages,
                })
                .collect();
            let kind = PayloadKind::Summary { messages: chats.iter().map(|c| c.messages).sum(), chats };
            let payload = serde_json::to_vec(&Payload { v: 1, kind }).unwrap_or_default();
            for device in devices.iter().filter(|d| d.account == summary.account) {
                let notice = Notice {
                    payload: payload.clone(),
                    ttl: Duration::from_secs(24 * 3600),
                    urgency: Urgency::Normal,
                    topic: Some("quiet-summary".into()),
                };
                self.deliver(device.clone(), notice).await;
            }
        }
    }

    /// Sends one push in the background, within the node's limit of pushes
    /// in flight; a subscription its push service calls gone is removed.
    async fn deliver(self: &Arc<Self>, target: PushDevice, notice: Notice) {
        let Ok(permit) = Arc::clone(&self.sending).acquire_owned().await else { return };
        let notifier = Arc::clone(self);
        tokio::spawn(async move {
            let subscription = Subscription { endpoint: target.endpoint, p256dh: target.p256dh, auth: target.auth };
            match notifier.pusher.send(&subscription, &notice).await {
                Delivery::Delivered => metrics::counter!(crate::metrics::PUSHES_SENT).increment(1),
                Delivery::Gone => {
                    tracing::info!(subscription = target.subscription, "a push subscription is gone: removed");
                    if let Err(e) = notifier.store.forget_push_subscription(target.subscription).await {
                        tracing::warn!(error = %e, "cannot remove a gone push subscription");
                    }
                }
                Delivery::Failed(why) => {
                    metrics::counter!(crate::metrics::PUSHES_FAILED).increment(1);
                    tracing::warn!(subscription = target.subscription, %why, "a push was not delivered");
                }
            }
            drop(permit);
        });
    }
}

/// A message of `chat` is not pushed: [`WAITING`] others already wait.
fn too_many_waiting(chat: i64) {
    metrics::counter!(crate::metrics::PUSHES_FAILED).increment(1);
    tracing::debug!(chat, "too many messages wait to be pushed: this one is not");
}

/// Takes the waiting messages when their grace period ends, an urgent one
/// at once: a burst of thousands of messages asks the database one question
/// at a time instead of thousands at once, and never crowds out the writer.
async fn push_in_turn(notifier: std::sync::Weak<Notifier>, mut queue: mpsc::Receiver<Waiting>) {
    // In the order committed, which is the order of their grace periods' ends.
    let mut waiting: VecDeque<Waiting> = VecDeque::new();
    loop {
        let gathered = waiting.front().map(|w| w.due + GATHER);
        tokio::select! {
            received = queue.recv() => {
                let Some(w) = received else { return };
                if w.urgent {
                    let Some(notifier) = notifier.upgrade() else { return };
                    notifier.push_message(w).await;
                } else if waiting.len() < WAITING {
                    waiting.push_back(w);
                } else {
                    too_many_waiting(w.chat);
                }
            }
            () = tokio::time::sleep_until(gathered.unwrap_or_else(tokio::time::Instant::now)), if gathered.is_some() => {
                let now = tokio::time::Instant::now();
                let due: Vec<Waiting> = waiting.drain(..waiting.partition_point(|w| w.due <= now)).collect();
                let Some(notifier) = notifier.upgrade() else { return };
                notifier.push_due(due).await;
            }
        }
    }
}
