//! Messages as sent, edited and read; chats in the messenger's list, their
//! settings, members and history pages.

use super::{Attachment, CallRecord, ConsentView, PollView};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A message as a chat member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
    pub attachments: Vec<Attachment>,
    /// The call this message records (its text is empty); absent on
    /// ordinary messages and once the record is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallRecord>,
    /// The poll this message asks (its text is the question); absent on
    /// ordinary messages and once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollView>,
    /// The consent form this message asks (its text is the form's); absent
    /// on other messages and once it is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentView>,
}

impl MessageView {
    /// The message as every member may see it: in events, and in a
    /// moderator's view. The author's idempotency key is left out here,
    /// whatever storage read.
    pub fn for_members(message: storage::MessageView) -> Self {
        let storage::MessageView {
            id,
            chat,
            seq,
            author,
            text,
            reply_to,
            mentions,
            created_at,
            edited_at,
            deleted,
            hidden,
            pinned,
            urgent,
            reactions,
            client_id: _,
            attachments,
            call,
            poll,
            consent,
        } = message;
        MessageView {
            id,
            chat,
            seq,
            author: author.into(),
            text,
            reply_to: reply_to.map(Into::into),
            mentions,
            created_at,
            edited_at,
            deleted,
            hidden: hidden.map(Into::into),
            pinned,
            urgent,
            reactions: reactions.into_iter().map(Into::into).collect(),
            client_id: None,
            attachments: attachments.into_iter().map(Into::into).collect(),
            call: call.map(Into::into),
            poll: poll.map(Into::into),
            consent: consent.map(Into::into),
        }
    }

    /// The message as storage read it for the person asking (history,
    /// pins): their own messages carry their client ids, which storage sets
    /// for them alone.
    pub fn for_viewer(mut message: storage::MessageView) -> Self {
        let client_id = message.client_id.take();
        MessageView { client_id, ..MessageView::for_members(message) }
    }
}

/// «Скрыто модератором».
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hidden {
    /// The report's reason (`bullying`, `inappropriate`, `danger`, `spam`,
    /// `other`); told to the message's author only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<storage::Hidden> for Hidden {
    fn from(value: storage::Hidden) -> Self {
        let storage::Hidden { reason } = value;
        Hidden { reason }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Author {
    pub person: i64,
    pub name: String,
}

impl From<storage::Author> for Author {
    fn from(value: storage::Author) -> Self {
        let storage::Author { person, name } = value;
        Author { person, name }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReplyPreview {
    pub id: i64,
    pub author_name: String,
    pub preview: String,
    pub deleted: bool,
}

impl From<storage::ReplyPreview> for ReplyPreview {
    fn from(value: storage::ReplyPreview) -> Self {
        let storage::ReplyPreview { id, author_name, preview, deleted } = value;
        ReplyPreview { id, author_name, preview, deleted }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReactionView {
    pub emoji: String,
    /// Who reacted, in the order they did.
    pub people: Vec<i64>,
}

impl From<storage::ReactionView> for ReactionView {
    fn from(value: storage::ReactionView) -> Self {
        let storage::ReactionView { emoji, people } = value;
        ReactionView { emoji, people }
    }
}

/// A chat in the messenger's list.
#[derive(Debug, Clone, Serialize, ToSchema)]
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

impl From<storage::ChatSummary> for ChatSummary {
    fn from(value: storage::ChatSummary) -> Self {
        let storage::ChatSummary {
            id,
            org,
            org_name,
            kind,
            name,
            description,
            me,
            admin,
            announcement_only,
            read_only,
            members,
            last_seq,
            last_read_seq,
            others_read_seq,
            unread,
            last_message,
        } = value;
        ChatSummary {
            id,
            org,
            org_name,
            kind,
            name,
            description,
            me,
            admin,
            announcement_only,
            read_only,
            members,
            last_seq,
            last_read_seq,
            others_read_seq,
            unread,
            last_message: last_message.map(Into::into),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LastMessage {
    pub id: i64,
    pub author_name: String,
    pub preview: String,
    pub at: i64,
    pub deleted: bool,
    /// The last message is a call's record (its preview is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<CallRecord>,
}

impl From<storage::LastMessage> for LastMessage {
    fn from(value: storage::LastMessage) -> Self {
        let storage::LastMessage { id, author_name, preview, at, deleted, call } = value;
        LastMessage { id, author_name, preview, at, deleted, call: call.map(Into::into) }
    }
}

/// One page of a chat's history, consistent with `last_seq`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryPage {
    /// Oldest first.
    pub messages: Vec<MessageView>,
    /// The chat's latest event when the page was read: the page reflects
    /// every edit, delete and reaction up to it.
    pub last_seq: i64,
    /// Older messages exist before this page.
    pub has_more: bool,
}

impl From<storage::HistoryPage> for HistoryPage {
    /// A page is read for one viewer: their own messages carry their client ids.
    fn from(value: storage::HistoryPage) -> Self {
        let storage::HistoryPage { messages, last_seq, has_more } = value;
        HistoryPage { messages: messages.into_iter().map(MessageView::for_viewer).collect(), last_seq, has_more }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberView {
    pub person: i64,
    pub name: String,
    /// The person's first role in the organisation.
    pub role: String,
    pub admin: bool,
}

impl From<storage::MemberView> for MemberView {
    fn from(value: storage::MemberView) -> Self {
        let storage::MemberView { person, name, role, admin } = value;
        MemberView { person, name, role, admin }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ChatSettingsForm {
    /// Only chat admins post.
    pub announcement_only: Option<bool>,
    /// At most 500 characters once trimmed, no control characters.
    #[schema(max_length = 500, pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$")]
    pub description: Option<String>,
}

/// A chat member; never their phone number.
#[derive(Serialize, ToSchema)]
pub struct Member {
    #[serde(flatten)]
    pub member: MemberView,
    /// Has the messenger open now.
    pub online: bool,
}

#[derive(Deserialize, ToSchema)]
pub struct SendForm {
    /// The client's idempotency key (a UUID): a retry with the same key
    /// returns the first message.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,64}$")]
    pub client_id: String,
    /// As in an edit; blank only when the message carries attachments.
    #[schema(max_length = 10000)]
    pub text: String,
    pub reply_to: Option<i64>,
    /// People mentioned; only members count, and only the first 50 of them.
    #[serde(default)]
    pub mentions: Vec<i64>,
    /// Ids of the sender's uploads into this chat, in order, each once.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub attachments: Vec<i64>,
    /// «Срочно» (the chat's admins only): notifies at once, even in quiet hours.
    #[serde(default)]
    pub urgent: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Ack {
    pub client_id: String,
    pub chat: i64,
    pub seq: i64,
    pub message_id: i64,
    pub duplicate: bool,
}

impl Ack {
    pub fn of(client_id: String, c: &storage::Committed) -> Ack {
        Ack { client_id, chat: c.chat_id, seq: c.seq, message_id: c.message_id, duplicate: c.duplicate }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct EditForm {
    /// The new text: not blank (to remove a message, delete it), at most
    /// 10,000 characters once trimmed, no control characters but line breaks
    /// and tabs.
    #[schema(schema_with = crate::openapi::message_text)]
    pub text: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ReadForm {
    pub seq: i64,
}
