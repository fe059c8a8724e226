//! The messenger half of `Store`: chats as their members see them, messages,
//! the per-chat event log clients resume from, reactions, pins, read
//! positions, direct chats and the direct-message policy.
//!
//! Access is decided here, in the transaction that acts: a person reaches a
//! chat only as an active member whose school account is linked to the
//! requesting Parta ID, in an organisation whose chats are on. Anything else is
//! `NotFound`, never a hint that the chat exists.

use crate::{Pool, StorageError, Store};
use messenger::{ClientId, DmPolicy, MessageText, Reaction};
use serde::{Deserialize, Serialize};

/// A message to append, as the writer batches them.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub chat_id: i64,
    /// The Parta ID sending; its linked school account in the chat's
    /// organisation becomes the author.
    pub account_id: i64,
    pub client_id: ClientId,
    pub text: MessageText,
    pub reply_to: Option<i64>,
    pub mentions: Vec<i64>,
    /// Pending uploads of the sender in this chat (at most 10), in order.
    pub attachments: Vec<i64>,
    /// The message is a poll's question.
    pub poll: Option<crate::NewPoll>,
    /// The message is a consent form's text (a parents' chat's admins only).
    pub consent: Option<crate::NewConsentForm>,
    /// «Срочно» (a chat's admins only): notifies at once, through quiet
    /// hours and whatever the members chose.
    pub urgent: bool,
    pub now: i64,
}

/// A committed message (or the one a retried send had already made).
#[derive(Debug, Clone)]
pub struct Committed {
    pub chat_id: i64,
    pub seq: i64,
    pub message_id: i64,
    /// The send was a retry: nothing new was written.
    pub duplicate: bool,
    pub message: MessageView,
}

/// A message as a chat member sees it. Serialisable because a report keeps
/// its message and those around it as JSON (`message_reports.snapshot`):
/// these derives, and those of the types it holds, are that column's format,
/// which old rows keep; clients read the server's wire types instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub chat: i64,
    pub seq: i64,
    pub author: Author,
    /// Empty for a deleted message.
    pub text: String,
    pub reply_to: Option<ReplyPreview>,
    pub mentions: Vec<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    /// A moderator hid it (`deleted` is set too: its text is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Hidden>,
    pub pinned: bool,
    /// «Срочно»: a chat admin's message that notified at once.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
    pub reactions: Vec<ReactionView>,
    /// The sender's idempotency key; only shown to the author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Files and photos, in the order sent.
    #[serde(default)]
    pub attachments: Vec<crate::Attachment>,
    /// The call this message records (its text is empty); absent on
    /// ordinary messages and once the record is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::CallRecord>,
    /// The poll this message asks (its text is the question); absent on
    /// ordinary messages and once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<crate::PollView>,
    /// The consent form this message asks (its text is the form's); absent
    /// on other messages and once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<crate::ConsentView>,
}

/// «Скрыто модератором».
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hidden {
    /// The report's reason (`bullying`, `inappropriate`, `danger`, `spam`,
    /// `other`); told to the message's author only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub person: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPreview {
    pub id: i64,
    pub author_name: String,
    pub preview: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionView {
    pub emoji: String,
    /// Who reacted, in the order they did.
    pub people: Vec<i64>,
}

/// A chat in the messenger's list.
#[derive(Debug, Clone)]
pub struct ChatSummary {
    pub id: i64,
    pub org: i64,
    pub org_name: String,
    /// `staff_room`, `class`, `parents`, `subject`, `custom` or `direct`.
    pub kind: String,
    /// For a direct chat: the other person's name.
    pub name: String,
    pub description: String,
    /// The viewer's person id in this chat.
    pub me: i64,
    pub admin: bool,
    pub announcement_only: bool,
    /// Archived: history only.
    pub read_only: bool,
    pub members: i64,
    pub last_seq: i64,
    pub last_read_seq: i64,
    /// The furthest any other member has read (for ✓✓).
    pub others_read_seq: i64,
    pub unread: i64,
    pub last_message: Option<LastMessage>,
}

#[derive(Debug, Clone)]
pub struct LastMessage {
    pub id: i64,
    pub author_name: String,
    pub preview: String,
    pub at: i64,
    pub deleted: bool,
    /// The last message is a call's record (its preview is empty).
    pub call: Option<crate::CallRecord>,
}

/// One page of a chat's history, consistent with `last_seq`.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// The chat's latest event when the page was read: the page reflects
    /// every edit, delete and reaction up to it.
    pub last_seq: i64,
    /// Older messages exist before this page.
    pub has_more: bool,
}

/// Which page of history to read.
#[derive(Debug, Clone, Copy)]
pub enum HistoryRange {
    /// The newest `limit` messages before `seq` (all when `None`).
    Before { seq: Option<i64>, limit: i64 },
    /// Messages created after `seq`, oldest first, at most `limit`.
    After { seq: i64, limit: i64 },
}

#[derive(Debug, Clone)]
pub struct MemberView {
    pub person: i64,
    pub name: String,
    /// The person's first role in the organisation.
    pub role: String,
    pub admin: bool,
}

/// A chat event, replayed to a client that resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventView {
    pub chat_id: i64,
    pub seq: i64,
    pub at: i64,
    pub change: Change,
}

/// `Poll`: a poll's results changed (a vote, or it closed). `Consent`: a
/// consent form was answered or reopened (no family's answer in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Message(Box<MessageView>),
    Edited {
        message_id: i64,
        text: String,
        edited_at: i64,
    },
    Deleted {
        message_id: i64,
    },
    /// A moderator hid the message: deleted, shown as «Скрыто модератором».
    Hidden {
        message_id: i64,
    },
    ReactionAdded {
        message_id: i64,
        person: i64,
        emoji: String,
    },
    ReactionRemoved {
        message_id: i64,
        person: i64,
        emoji: String,
    },
    Pinned {
        message_id: i64,
    },
    Unpinned {
        message_id: i64,
    },
    Poll {
        message_id: i64,
        poll: Box<crate::PollView>,
    },
    Consent {
        message_id: i64,
        consent: Box<crate::ConsentView>,
    },
}

/// A chat a Parta ID is in, as a live connection subscribes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Membership {
    pub chat_id: i64,
    pub person_id: i64,
    /// A chat admin (who alone posts in an announcement-only chat).
    pub admin: bool,
}

/// What changed a message (edit, delete, reaction, pin).
#[derive(Debug, Clone)]
pub enum MessageAction {
    Edit(MessageText),
    Delete,
    React(Reaction),
    Unreact(Reaction),
    Pin,
    Unpin,
}

/// What a chat admin may change from the messenger; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct ChatSettings {
    pub announcement_only: Option<bool>,
    pub description: Option<String>,
}

/// The result of a read mark that moved a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMark {
    pub chat_id: i64,
    pub person_id: i64,
    pub seq: i64,
}

impl Store {
    /// Appends messages in one transaction: one commit (one fsync) for the
    /// whole batch. Each message gets its own verdict; an `Err` of the outer
    /// result means nothing of the batch was written.
    pub async fn append_messages(
        &self,
        batch: &[NewMessage],
    ) -> Result<Vec<Result<Committed, StorageError>>, StorageError> {
        dispatch!(self.messages::append_messages(batch))
    }

    /// Edits, deletes, reacts or pins, as the account's person in the chat.
    /// `None` when nothing changed (a reaction that was already there).
    pub async fn act_on_message(
        &self,
        account: i64,
        chat: i64,
        message: i64,
        action: &MessageAction,
        now: i64,
    ) -> Result<Option<EventView>, StorageError> {
        dispatch!(self.messages::act_on_message(account, chat, message, action, now))
    }

    /// The chats a Parta ID can open, most recent first.
    pub async fn messenger_chats(&self, account: i64) -> Result<Vec<ChatSummary>, StorageError> {
        dispatch!(self.messages::messenger_chats(account, None))
    }

    pub async fn messenger_chat(&self, account: i64, chat: i64) -> Result<ChatSummary, StorageError> {
        dispatch!(self.messages::messenger_chats(account, Some(chat)))?.pop().ok_or(StorageError::NotFound)
    }

    pub async fn history(&self, account: i64, chat: i64, range: HistoryRange) -> Result<HistoryPage, StorageError> {
        dispatch!(self.messages::history(account, chat, range))
    }

    pub async fn pinned_messages(&self, account: i64, chat: i64) -> Result<Vec<MessageView>, StorageError> {
        dispatch!(self.messages::pinned_messages(account, chat))
    }

    /// Events after `after`, at most `limit`; the caller asks for one more
    /// than it will replay to learn that the client is too far behind.
    pub async fn chat_events_after(&self, chat: i64, after: i64, limit: i64) -> Result<Vec<EventView>, StorageError> {
        dispatch!(self.messages::events_after(chat, after, limit))
    }

    pub async fn chat_members(&self, account: i64, chat: i64) -> Result<Vec<MemberView>, StorageError> {
        dispatch!(self.messages::chat_members(account, chat))
    }

    /// Every chat the Parta ID can open, with its person there.
    pub async fn memberships(&self, account: i64) -> Result<Vec<Membership>, StorageError> {
        dispatch!(self.messages::memberships(account))
    }

    /// Whether the account is an admin of a chat it may open (false for a
    /// chat it may not).
    pub async fn is_chat_admin(&self, account: i64, chat: i64) -> Result<bool, StorageError> {
        dispatch!(self.messages::is_chat_admin(account, chat))
    }

    /// Moves the read position forward (never back); `None` when it did not move.
    pub async fn mark_read(
        &self,
        account: i64,
        chat: i64,
        seq: i64,
        now: i64,
    ) -> Result<Option<ReadMark>, StorageError> {
        dispatch!(self.messages::mark_read(account, chat, seq, now))
    }

    /// The direct chat between the account's person in `org` and `person`,
    /// made on first use if the organisation's policy allows it.
    pub async fn direct_chat(&self, account: i64, org: i64, person: i64, now: i64) -> Result<i64, StorageError> {
        dispatch!(self.messages::direct_chat(account, org, person, now))
    }

    pub async fn dm_policy(&self, org: i64) -> Result<DmPolicy, StorageError> {
        dispatch!(self.messages::dm_policy(org))
    }

    pub async fn set_dm_policy(&self, org: i64, policy: &DmPolicy) -> Result<(), StorageError> {
        dispatch!(self.messages::set_dm_policy(org, policy))
    }

    /// A chat admin changes the chat's settings, audited as the portal's edit
    /// is; returns the Parta IDs of its members, whose lists show the change
    /// (none when nothing changed).
    pub async fn update_chat_settings(
        &self,
        account: i64,
        chat: i64,
        settings: &ChatSettings,
        now: i64,
    ) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.messages::update_chat_settings(account, chat, settings, now))
    }

    /// The Parta IDs linked to these school accounts in `org`.
    pub async fn accounts_of_people(&self, org: i64, people: &[i64]) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.messages::accounts_of_people(org, people))
    }

    /// Every Parta ID linked in `org`.
    pub async fn accounts_in_org(&self, org: i64) -> Result<Vec<i64>, StorageError> {
        dispatch!(self.messages::accounts_in_org(org))
    }

    /// A messenger session still exists and has not expired.
    pub async fn messenger_session_alive(&self, session: i64, now: i64) -> Result<bool, StorageError> {
        dispatch!(self.messages::session_alive(session, now))
    }
}
