//! What a chat member may do in a chat, as pure functions over the facts the
//! caller loaded: the chat's state and "only admins post" switch, whether the
//! member is a chat admin, and whether the message is theirs and still there.
//!
//! The rules:
//!
//! - **A chat that is not live is read-only for everyone, admins included.** An
//!   archived chat (a past year's, or one whose class is gone) refuses with
//!   [`Refusal::ChatReadOnly`]; a read-only hidden chat (the organisation has no
//!   chats now) refuses with [`Refusal::ChatHidden`]. This is checked first, so
//!   it is the reason given whenever it applies.
//! - **Posting** ([`may_post`]): any member of a live chat; in an
//!   announcement-only chat ("only admins post", DESIGN §5) only chat admins,
//!   others get [`Refusal::AnnouncementOnly`]; a member a moderator muted
//!   there (`report`) posts nothing until the mute ends ([`Refusal::Muted`]),
//!   admins included; in a direct chat, nobody writes to a person who
//!   blocked them ([`Refusal::Blocked`]).
//! - **Blocking** ([`may_block`]): only the other person of a direct chat;
//!   a group chat is never affected by a block ([`Refusal::NotDirect`]).
//! - **Reacting** ([`may_react`]): any member of a live chat, announcement-only
//!   ones included — a parent can 👍 the teacher's announcement.
//! - **Editing** ([`may_edit`]): only the author, never anybody else's words (a
//!   chat admin included: [`Refusal::NotAuthor`]), not a deleted message
//!   ([`Refusal::AlreadyDeleted`]), and only where the author may post now: in a
//!   chat switched to announcement-only, a non-admin's message from before the
//!   switch can no longer be edited ([`Refusal::AnnouncementOnly`]).
//! - **Deleting** ([`may_delete`]): the author or a chat admin (moderation;
//!   others get [`Refusal::NotAuthor`]), in a live chat, announcement-only ones
//!   included — anybody may take back their own words — and not twice
//!   ([`Refusal::AlreadyDeleted`]).
//! - **Pinning** ([`may_pin`]): chat admins only ([`Refusal::NotAdmin`]), in a
//!   live chat.
//!
//! Membership itself is not decided here: the caller has already found the
//! member; someone who is not in the chat gets no answer from these functions.

pub use roster::ChatState;

/// What the rules need to know about the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatFacts {
    pub state: ChatState,
    /// "Only admins post" (DESIGN §5).
    pub announcement_only: bool,
}

/// What the rules need to know about the member acting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberFacts {
    /// A chat admin (of this chat, not necessarily a school administrator).
    pub admin: bool,
    /// A moderator muted the member in this chat and the mute has not ended.
    pub muted: bool,
    /// The chat is direct and the other person blocked the member.
    pub blocked: bool,
}

/// What the rules need to know about the message acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageFacts {
    pub author_is_me: bool,
    pub deleted: bool,
    /// The record of a call: written by the server, never edited.
    pub call_record: bool,
}

/// Why an action was refused. The variants are stable: the server maps them to
/// error codes and translated messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Refusal {
    #[error("the chat is archived and read-only")]
    ChatReadOnly,
    #[error("the chat is hidden and read-only")]
    ChatHidden,
    #[error("only the chat's admins post in this chat")]
    AnnouncementOnly,
    #[error("only the author may do this")]
    NotAuthor,
    #[error("only the chat's admins may do this")]
    NotAdmin,
    #[error("the message is deleted")]
    AlreadyDeleted,
    #[error("a call's record cannot be edited")]
    CallRecord,
    #[error("a moderator muted the member in this chat")]
    Muted,
    #[error("the other person blocked direct messages from the member")]
    Blocked,
    #[error("only a direct chat's other person can be blocked")]
    NotDirect,
    #[error("only the chat's admins mark a message urgent")]
    UrgentNotAdmin,
}

/// Nothing changes in a chat that is not live, whoever asks.
fn writable(chat: &ChatFacts) -> Result<(), Refusal> {
    match chat.state {
        ChatState::Live => Ok(()),
        ChatState::ReadOnlyHidden => Err(Refusal::ChatHidden),
        ChatState::Archived => Err(Refusal::ChatReadOnly),
    }
}

fn not_deleted(msg: &MessageFacts) -> Result<(), Refusal> {
    if msg.deleted { Err(Refusal::AlreadyDeleted) } else { Ok(()) }
}

pub fn may_post(chat: &ChatFacts, me: &MemberFacts) -> Result<(), Refusal> {
    writable(chat)?;
    if me.blocked {
        return Err(Refusal::Blocked);
    }
    if me.muted {
        return Err(Refusal::Muted);
    }
    if chat.announcement_only && !me.admin {
        return Err(Refusal::AnnouncementOnly);
    }
    Ok(())
}

/// `direct`: the chat is a direct chat.
pub fn may_block(direct: bool) -> Result<(), Refusal> {
    if direct { Ok(()) } else { Err(Refusal::NotDirect) }
}

pub fn may_react(chat: &ChatFacts, _me: &MemberFacts) -> Result<(), Refusal> {
    writable(chat)
}

pub fn may_edit(chat: &ChatFacts, me: &MemberFacts, msg: &MessageFacts) -> Result<(), Refusal> {
    may_post(chat, me)?;
    not_deleted(msg)?;
    if msg.call_record {
        return Err(Refusal::CallRecord);
    }
    if !msg.author_is_me {
        return Err(Refusal::NotAuthor);
    }
    Ok(())
}

pub fn may_delete(chat: &ChatFacts, me: &MemberFacts, msg: &MessageFacts) -> Result<(), Refusal> {
    writable(chat)?;
    not_deleted(msg)?;
    if !msg.author_is_me && !me.admin {
        return Err(Refusal::NotAuthor);
    }
    Ok(())
}

pub fn may_pin(chat: &ChatFacts, me: &MemberFacts) -> Result<(), Refusal> {
    writable(chat)?;
    if !me.admin {
        return Err(Refusal::NotAdmin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIVE: ChatFacts = ChatFacts { state: ChatState::Live, announcement_only: false };
    const ANNOUNCEMENTS: ChatFacts = ChatFacts { state: ChatState::Live, announcement_only: true };
    const HIDDEN: ChatFacts = ChatFacts { state: ChatState::ReadOnlyHidden, announcement_only: false };
    const ARCHIVED: ChatFacts = ChatFacts { state: ChatState::Archived, announcement_only: false };

    const MEMBER: MemberFacts = MemberFacts { admin: false, muted: false, blocked: false };
    const ADMIN: MemberFacts = MemberFacts { admin: true, muted: false, blocked: false };
    const MUTED_ADMIN: MemberFacts = MemberFacts { admin: true, muted: true, blocked: false };
    const BLOCKED: MemberFacts = MemberFacts { admin: false, muted: false, blocked: true };

    const MINE: MessageFacts = MessageFacts { author_is_me: true, deleted: false, call_record: false };
    const THEIRS: MessageFacts = MessageFacts { author_is_me: false, deleted: false, call_record: false };
    const MY_DELETED: MessageFacts = MessageFacts { author_is_me: true, deleted: true, call_record: false };
    const MY_CALL_RECORD: MessageFacts = MessageFacts { author_is_me: true, deleted: false, call_record: true };

    use Refusal::*;

    #[test]
    fn chat_state_names_match_storage() {
        let names: Vec<_> = ChatState::ALL.into_iter().map(ChatState::as_str).collect();
        assert_eq!(names, ["live", "read_only_hidden", "archived"]);
        for state in ChatState::ALL {
            assert_eq!(ChatState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ChatState::parse("deleted"), None);
    }

    #[test]
    fn posting() {
        let table = [
            ("a member posts in a live chat", LIVE, MEMBER, Ok(())),
            ("an admin posts in a live chat", LIVE, ADMIN, Ok(())),
            ("a member cannot post in an announcement-only chat", ANNOUNCEMENTS, MEMBER, Err(AnnouncementOnly)),
            ("an admin posts in an announcement-only chat", ANNOUNCEMENTS, ADMIN, Ok(())),
            ("nobody posts in a hidden chat", HIDDEN, ADMIN, Err(ChatHidden)),
            ("nobody posts in an archive", ARCHIVED, ADMIN, Err(ChatReadOnly)),
            ("a hidden chat refuses a member as hidden", HIDDEN, MEMBER, Err(ChatHidden)),
            ("an archive refuses a member as read-only", ARCHIVED, MEMBER, Err(ChatReadOnly)),
            ("a muted member does not post, even as a chat admin", LIVE, MUTED_ADMIN, Err(Muted)),
            ("nobody writes to a person who blocked them", LIVE, BLOCKED, Err(Blocked)),
        ];
        for (scenario, chat, me, expected) in table {
            assert_eq!(may_post(&chat, &me), expected, "{scenario}");
        }
    }

    #[test]
    fn the_state_of_the_chat_is_the_reason_even_in_announcement_only_chats() {
        for state in [ChatState::ReadOnlyHidden, ChatState::Archived] {
            let chat = ChatFacts { state, announcement_only: true };
            let expected = if state == ChatState::Archived { ChatReadOnly } else { ChatHidden };
            assert_eq!(may_post(&chat, &MEMBER), Err(expected), "{state:?}");
        }
    }

    #[test]
    fn reacting() {
        let table = [
            ("a member reacts in a live chat", LIVE, MEMBER, Ok(())),
            ("a member reacts to an announcement", ANNOUNCEMENTS, MEMBER, Ok(())),
            ("an admin reacts to an announcement", ANNOUNCEMENTS, ADMIN, Ok(())),
            ("nobody reacts in a hidden chat", HIDDEN, ADMIN, Err(ChatHidden)),
            ("nobody reacts in an archive", ARCHIVED, MEMBER, Err(ChatReadOnly)),
        ];
        for (scenario, chat, me, expected) in table {
            assert_eq!(may_react(&chat, &me), expected, "{scenario}");
        }
    }

    #[test]
    fn editing() {
        let table = [
            ("the author edits their message", LIVE, MEMBER, MINE, Ok(())),
            ("a member cannot edit someone else's message", LIVE, MEMBER, THEIRS, Err(NotAuthor)),
            ("an admin cannot edit someone else's words", LIVE, ADMIN, THEIRS, Err(NotAuthor)),
            ("a deleted message cannot be edited", LIVE, MEMBER, MY_DELETED, Err(AlreadyDeleted)),
            ("an admin edits their announcement", ANNOUNCEMENTS, ADMIN, MINE, Ok(())),
            (
                "a member's message from before announcement-only is frozen",
                ANNOUNCEMENTS,
                MEMBER,
                MINE,
                Err(AnnouncementOnly),
            ),
            ("nothing is edited in a hidden chat", HIDDEN, ADMIN, MINE, Err(ChatHidden)),
            ("nothing is edited in an archive", ARCHIVED, MEMBER, MINE, Err(ChatReadOnly)),
        ];
        for (scenario, chat, me, msg, expected) in table {
            assert_eq!(may_edit(&chat, &me, &msg), expected, "{scenario}");
        }
    }

    #[test]
    fn deleting() {
        let table = [
            ("the author deletes their message", LIVE, MEMBER, MINE, Ok(())),
            ("a member cannot delete someone else's message", LIVE, MEMBER, THEIRS, Err(NotAuthor)),
            ("an admin deletes someone else's message", LIVE, ADMIN, THEIRS, Ok(())),
            ("a message is not deleted twice", LIVE, ADMIN, MY_DELETED, Err(AlreadyDeleted)),
            ("a member takes back their words in an announcement-only chat", ANNOUNCEMENTS, MEMBER, MINE, Ok(())),
            ("a member cannot delete an announcement", ANNOUNCEMENTS, MEMBER, THEIRS, Err(NotAuthor)),
            ("nothing is deleted in a hidden chat", HIDDEN, ADMIN, THEIRS, Err(ChatHidden)),
            ("nothing is deleted in an archive", ARCHIVED, MEMBER, MINE, Err(ChatReadOnly)),
        ];
        for (scenario, chat, me, msg, expected) in table {
            assert_eq!(may_delete(&chat, &me, &msg), expected, "{scenario}");
        }
    }

    #[test]
    fn pinning() {
        let table = [
            ("an admin pins in a live chat", LIVE, ADMIN, Ok(())),
            ("an admin pins in an announcement-only chat", ANNOUNCEMENTS, ADMIN, Ok(())),
            ("a member cannot pin", LIVE, MEMBER, Err(NotAdmin)),
            ("a member cannot pin in an announcement-only chat", ANNOUNCEMENTS, MEMBER, Err(NotAdmin)),
            ("nothing is pinned in a hidden chat", HIDDEN, ADMIN, Err(ChatHidden)),
            ("nothing is pinned in an archive", ARCHIVED, ADMIN, Err(ChatReadOnly)),
        ];
        for (scenario, chat, me, expected) in table {
            assert_eq!(may_pin(&chat, &me), expected, "{scenario}");
        }
    }

    #[test]
    fn a_call_record_is_never_edited_but_may_be_deleted_like_any_message() {
        let chat = ChatFacts { state: ChatState::Live, announcement_only: false };
        let me = MemberFacts { admin: false, muted: false, blocked: false };
        assert_eq!(may_edit(&chat, &me, &MY_CALL_RECORD), Err(Refusal::CallRecord));
        assert_eq!(may_delete(&chat, &me, &MY_CALL_RECORD), Ok(()));
    }

    #[test]
    fn only_a_direct_chats_other_person_is_blocked() {
        assert_eq!(may_block(true), Ok(()));
        assert_eq!(may_block(false), Err(NotDirect));
    }
}
