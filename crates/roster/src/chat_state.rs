//! A chat's life, which the roster decides: one type for the rules that make
//! chats (`provisioning`) and the rules that let people write in them
//! (`messenger`).

use serde::{Deserialize, Serialize};

/// The state of a chat; the same strings as the storage column `chats.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatState {
    Live,
    /// The organisation has no chats now (module off, not general education):
    /// nobody sees the chat, nobody writes in it, and it comes back as it was.
    ReadOnlyHidden,
    /// A past year's chat, or one whose class or section is gone: read-only.
    Archived,
}

impl ChatState {
    pub const ALL: [ChatState; 3] = [ChatState::Live, ChatState::ReadOnlyHidden, ChatState::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            ChatState::Live => "live",
            ChatState::ReadOnlyHidden => "read_only_hidden",
            ChatState::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ChatState::ALL.into_iter().find(|state| state.as_str() == s)
    }
}
