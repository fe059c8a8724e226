//! What a message is made of: its text, the client id of a send, a reaction and
//! the people it mentions. Once a value is one of these types, it is valid.

use std::collections::BTreeSet;
use std::fmt;

/// Why a message text was refused. The variants are stable: the server maps them
/// to error codes and translated messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the message contains control characters")]
    ControlCharacter,
}

/// The text of a message: trimmed, never empty, at most
/// [`MessageText::MAX_CHARS`] characters, with `\n` line breaks (a `\r\n` from a
/// Windows client becomes `\n`) and no control characters other than `\n` and
/// `\t`. Inner line breaks and spaces are kept as the author typed them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MessageText(String);

impl MessageText {
    /// Counted in characters (Unicode scalar values), not bytes: a Cyrillic
    /// message may be as long as a Latin one.
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> Result<Self, TextError> {
        let normalised = raw.replace("\r\n", "\n");
        let text = normalised.trim();
        if text.is_empty() {
            return Err(TextError::Empty);
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(TextError::ControlCharacter);
        }
        if text.chars().count() > Self::MAX_CHARS {
            return Err(TextError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(MessageText(text.to_string()))
    }

    /// The text of a message that carries attachments: it may be empty
    /// (a photo sent without a caption).
    pub fn caption(raw: &str) -> Result<Self, TextError> {
        if raw.trim().is_empty() {
            return Ok(MessageText(String::new()));
        }
        Self::parse(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for MessageText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A one-line preview of a message (a chat list, a notification): every run of
/// whitespace, line breaks included, becomes one space, and a text longer than
/// `max_chars` characters is cut at a character boundary and ends in "…". The
/// result, the "…" included, is never longer than `max_chars` characters.
pub fn preview(text: &str, max_chars: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max_chars {
        return line;
    }
    if max_chars == 0 {
        return String::new();
    }
    let cut: String = line.chars().take(max_chars - 1).collect();
    format!("{}…", cut.trim_end())
}

/// Why a client id was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a client id is 1–{max} characters of A–Z, a–z, 0–9, _ and -", max = ClientId::MAX_CHARS)]
pub struct ClientIdError;

/// The id a client gives a message it sends (DESIGN §7): a retried send with the
/// same client id never creates a second message. 1–64 characters of
/// `[A-Za-z0-9_-]`, so a UUID fits. Taken as sent: it is not trimmed or
/// lower-cased, since the client compares it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(String);

impl ClientId {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ClientIdError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if raw.is_empty() || raw.len() > Self::MAX_CHARS || !raw.chars().all(allowed) {
            return Err(ClientIdError);
        }
        Ok(ClientId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a reaction was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reaction is one of {}", Reaction::ALLOWED.join(" "))]
pub struct ReactionError;

/// A reaction to a message: one of a fixed allow-list, so that a school chat
/// shows no emoji nobody chose for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reaction(&'static str);

/// The emoji variation selector: "❤" and "❤️" are the same heart.
const VARIATION_SELECTOR_16: char = '\u{FE0F}';

impl Reaction {
    pub const ALLOWED: [&'static str; 10] = ["👍", "❤️", "😂", "😮", "😢", "🙏", "👎", "🔥", "🎉", "✅"];

    /// Accepts an allowed emoji with or without the variation selector (U+FE0F),
    /// since keyboards differ; the stored form is always the one in `ALLOWED`.
    pub fn parse(raw: &str) -> Result<Self, ReactionError> {
        let bare = |s: &str| s.chars().filter(|&c| c != VARIATION_SELECTOR_16).collect::<String>();
        let wanted = bare(raw.trim());
        Reaction::ALLOWED.into_iter().find(|allowed| bare(allowed) == wanted).map(Reaction).ok_or(ReactionError)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for Reaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The most people one message may mention (and so notify).
pub const MAX_MENTIONS: usize = 50;

/// The people a message mentions, from the ids the client sent: duplicates
/// removed (first mention wins the order), ids for which `members` says "not a
/// member of this chat" dropped, so that a mention never notifies an outsider,
/// and at most [`MAX_MENTIONS`] kept. Outsiders do not count against the limit.
pub fn mentions(raw_ids: &[i64], members: impl Fn(i64) -> bool) -> Vec<i64> {
    let mut seen = BTreeSet::new();
    raw_ids.iter().copied().filter(|&id| seen.insert(id) && members(id)).take(MAX_MENTIONS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(raw: &str) -> String {
        MessageText::parse(raw).unwrap().into_string()
    }

    #[test]
    fn message_text_is_trimmed_but_keeps_inner_line_breaks() {
        assert_eq!(text("  \n Привет!\n\n  Завтра экскурсия.\t\n "), "Привет!\n\n  Завтра экскурсия.");
    }

    #[test]
    fn windows_line_breaks_become_unix_ones() {
        assert_eq!(text("раз\r\nдва\r\n"), "раз\nдва");
    }

    #[test]
    fn tabs_are_kept() {
        assert_eq!(text("a\tb"), "a\tb");
    }

    #[test]
    fn empty_and_blank_messages_are_refused() {
        for raw in ["", " ", "\n\t \r\n"] {
            assert_eq!(MessageText::parse(raw), Err(TextError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn control_characters_other_than_newline_and_tab_are_refused() {
        for raw in ["звонок\u{7}", "a\u{0}b", "a\rb", "a\u{1b}[31mb", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(MessageText::parse(raw), Err(TextError::ControlCharacter), "{raw:?}");
        }
    }

    #[test]
    fn the_length_limit_counts_characters_not_bytes() {
        let longest = "я".repeat(MessageText::MAX_CHARS);
        assert_eq!(text(&longest), longest);
        assert_eq!(MessageText::parse(&format!("{longest}я")), Err(TextError::TooLong { max: 10_000 }));
    }

    #[test]
    fn surrounding_whitespace_does_not_count_against_the_limit() {
        let longest = "я".repeat(MessageText::MAX_CHARS);
        assert_eq!(text(&format!("\n  {longest}  \n")), longest);
    }

    #[test]
    fn preview_is_one_line() {
        assert_eq!(preview("Добрый день!\n\nЗавтра\tэкскурсия.", 100), "Добрый день! Завтра экскурсия.");
    }

    #[test]
    fn preview_cuts_long_text_at_a_character_boundary_with_an_ellipsis() {
        assert_eq!(preview("Привет всем родителям", 10), "Привет вс…");
        assert_eq!(preview("Привет всем родителям", 8), "Привет…");
        assert_eq!(preview("Приветствую", 5), "Прив…");
        assert_eq!(preview("Привет", 6), "Привет");
        assert_eq!(preview("👍👍👍", 2), "👍…");
        assert_eq!(preview("abc", 1), "…");
        assert_eq!(preview("abc", 0), "");
    }

    #[test]
    fn client_ids_accept_a_uuid_and_refuse_anything_else() {
        let uuid = "0b7e3c1a-5f1d-4c8e-9a4b-2f6d8e1c3a5b";
        assert_eq!(ClientId::parse(uuid).map(|c| c.as_str().to_string()), Ok(uuid.to_string()));
        assert!(ClientId::parse("a").is_ok());
        assert!(ClientId::parse(&"a".repeat(64)).is_ok());
        for raw in ["", " a", "a b", "a/b", "ид", &"a".repeat(65)] {
            assert_eq!(ClientId::parse(raw), Err(ClientIdError), "{raw:?}");
        }
    }

    #[test]
    fn reactions_come_from_the_allow_list() {
        for emoji in Reaction::ALLOWED {
            assert_eq!(Reaction::parse(emoji).map(Reaction::as_str), Ok(emoji));
        }
        for raw in ["", "🤡", "💩", "👍👍", "like", "👍🏿"] {
            assert_eq!(Reaction::parse(raw), Err(ReactionError), "{raw:?}");
        }
    }

    #[test]
    fn a_heart_without_the_variation_selector_is_the_allowed_heart() {
        assert_eq!(Reaction::parse("❤").map(Reaction::as_str), Ok("❤️"));
        assert_eq!(Reaction::parse("✅\u{FE0F}").map(Reaction::as_str), Ok("✅"));
    }

    #[test]
    fn mentions_are_deduplicated_in_first_mention_order() {
        assert_eq!(mentions(&[3, 1, 3, 2, 1], |_| true), [3, 1, 2]);
    }

    #[test]
    fn a_mention_never_notifies_an_outsider() {
        assert_eq!(mentions(&[1, 99, 2, 98], |id| id < 10), [1, 2]);
    }

    #[test]
    fn at_most_fifty_members_are_mentioned_and_outsiders_do_not_use_up_the_limit() {
        let ids: Vec<i64> = (0..200).collect();
        let mentioned = mentions(&ids, |id| id % 2 == 0);
        assert_eq!(mentioned.len(), MAX_MENTIONS);
        assert_eq!(mentioned, (0..100).step_by(2).collect::<Vec<i64>>());
    }

    proptest! {
        #[test]
        fn a_parsed_text_parses_back_to_itself(raw in "\\PC{0,200}") {
            if let Ok(first) = MessageText::parse(&raw) {
                prop_assert_eq!(MessageText::parse(first.as_str()), Ok(first));
            }
        }

        #[test]
        fn a_preview_is_one_line_and_never_longer_than_asked(raw in "(\\PC|\n){0,80}", max in 0usize..40) {
            let shown = preview(&raw, max);
            prop_assert!(shown.chars().count() <= max);
            prop_assert!(!shown.contains('\n'));
        }
    }
}
