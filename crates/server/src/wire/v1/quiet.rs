//! Quiet hours: who used «Срочно».

use serde::Serialize;
use utoipa::ToSchema;

/// How often one chat admin marked messages «Срочно» in one chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UrgentUse {
    pub chat: i64,
    pub chat_name: String,
    pub author: i64,
    pub author_name: String,
    pub uses: i64,
}

impl From<storage::UrgentUse> for UrgentUse {
    fn from(value: storage::UrgentUse) -> Self {
        let storage::UrgentUse { chat, chat_name, author, author_name, uses } = value;
        UrgentUse { chat, chat_name, author, author_name, uses }
    }
}
