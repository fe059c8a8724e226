//! The "Чаты" window's list.

use serde::Serialize;
use utoipa::ToSchema;

/// A chat as the "Чаты" window lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChatListItem {
    pub id: i64,
    /// `staff_room`, `class`, `parents`, `subject` or `custom`.
    pub kind: String,
    pub name: String,
    /// The person is an admin of this chat.
    pub admin: bool,
    /// Active members.
    pub members: i64,
}

impl From<storage::ChatListItem> for ChatListItem {
    fn from(value: storage::ChatListItem) -> Self {
        let storage::ChatListItem { id, kind, name, admin, members } = value;
        ChatListItem { id, kind, name, admin, members }
    }
}
