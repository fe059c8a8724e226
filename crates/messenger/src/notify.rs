//! Who is notified of a new message (issue 19): each person chooses per
//! chat «Все сообщения», «Только от учителя и упоминания» or «Без
//! уведомлений» (for an hour, eight hours, or until turned on); until they
//! choose, the chat's kind decides. A mention always notifies: that is what
//! a mention is for.

use serde::Serialize;

/// A chat with more members than this is quiet unless one is mentioned.
pub const LARGE_CHAT: i64 = 100;

/// How much of a chat notifies a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// «Все сообщения».
    All,
    /// «Только от учителя и упоминания»: messages from the chat's admins,
    /// mentions of the person and replies to them.
    Important,
    /// Mentions only: a large chat's default, and what a muted chat keeps.
    Mentions,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::All => "all",
            Level::Important => "important",
            Level::Mentions => "mentions",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "all" => Some(Level::All),
            "important" => Some(Level::Important),
            "mentions" => Some(Level::Mentions),
            _ => None,
        }
    }
}

/// The level a person has until they choose one: every message of a direct
/// chat; in a parents' chat, a parent (not one of its admins) hears the
/// teacher and mentions rather than the other parents' chatter; a large chat
/// only mentions; any other chat everything.
pub fn default_level(kind: &str, members: i64, admin: bool) -> Level {
    match kind {
        "direct" => Level::All,
        _ if members > LARGE_CHAT => Level::Mentions,
        "parents" if !admin => Level::Important,
        _ => Level::All,
    }
}

/// What a new message is to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Incoming {
    /// Its author is one of the chat's admins (the teacher).
    pub from_admin: bool,
    pub mentions_me: bool,
    pub replies_to_me: bool,
}

/// Whether a member at `level`, muted or not, is notified of `message`.
pub fn notifies(level: Level, muted: bool, message: Incoming) -> bool {
    if message.mentions_me {
        return true;
    }
    if muted {
        return false;
    }
    match level {
        Level::All => true,
        Level::Important => message.from_admin || message.replies_to_me,
        Level::Mentions => false,
    }
}

/// How long «Без уведомлений» lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mute {
    Hour,
    EightHours,
    /// Until the person turns notifications on again.
    UntilOn,
}

impl Mute {
    /// When the mute ends, from `now` (unix seconds); `i64::MAX` for never.
    pub fn until(self, now: i64) -> i64 {
        match self {
            Mute::Hour => now + 3600,
            Mute::EightHours => now + 8 * 3600,
            Mute::UntilOn => i64::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHATTER: Incoming = Incoming { from_admin: false, mentions_me: false, replies_to_me: false };
    const TEACHER: Incoming = Incoming { from_admin: true, ..CHATTER };
    const MENTION: Incoming = Incoming { mentions_me: true, ..CHATTER };
    const REPLY: Incoming = Incoming { replies_to_me: true, ..CHATTER };

    #[test]
    fn a_parent_hears_the_teacher_and_mentions_but_not_the_other_parents() {
        let level = default_level("parents", 27, false);
        assert_eq!(level, Level::Important);
        assert!(notifies(level, false, TEACHER));
        assert!(notifies(level, false, MENTION));
        assert!(notifies(level, false, REPLY));
        assert!(!notifies(level, false, CHATTER));
    }

    #[test]
    fn the_teacher_of_a_parents_chat_and_direct_chats_hear_everything() {
        assert_eq!(default_level("parents", 27, true), Level::All);
        assert_eq!(default_level("direct", 2, false), Level::All);
        assert_eq!(default_level("class", 30, false), Level::All);
        assert_eq!(default_level("staff_room", 80, false), Level::All);
    }

    #[test]
    fn a_large_chat_notifies_only_mentions() {
        let level = default_level("staff_room", LARGE_CHAT + 1, true);
        assert_eq!(level, Level::Mentions);
        assert!(!notifies(level, false, TEACHER));
        assert!(notifies(level, false, MENTION));
    }

    #[test]
    fn a_muted_chat_still_notifies_a_mention() {
        for level in [Level::All, Level::Important, Level::Mentions] {
            assert!(!notifies(level, true, TEACHER));
            assert!(!notifies(level, true, REPLY));
            assert!(notifies(level, true, MENTION));
        }
    }

    #[test]
    fn levels_read_back_as_written() {
        for level in [Level::All, Level::Important, Level::Mentions] {
            assert_eq!(Level::parse(level.as_str()), Some(level));
        }
        assert_eq!(Level::parse("loud"), None);
    }

    #[test]
    fn a_mute_ends_after_its_time_or_never() {
        assert_eq!(Mute::Hour.until(1_000), 4_600);
        assert_eq!(Mute::EightHours.until(0), 28_800);
        assert_eq!(Mute::UntilOn.until(5), i64::MAX);
    }
}
