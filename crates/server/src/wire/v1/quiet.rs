//! Quiet hours: a school's, whether a chat is in them now, and who used
//! «Срочно».

use messenger::quiet::Period;
use serde::{Deserialize, Serialize};
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

/// One span of the week, in the school's zone: from `from_day` `from` until
/// `to_day` `to`; a span ending before it starts wraps over Sunday night.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct PeriodForm {
    /// `mon` … `sun`.
    #[schema(example = "mon")]
    pub from_day: String,
    /// `HH:MM`, 00:00–23:59.
    #[schema(example = "19:00")]
    pub from: String,
    #[schema(example = "tue")]
    pub to_day: String,
    #[schema(example = "08:00")]
    pub to: String,
}

impl PeriodForm {
    pub fn of(p: &Period) -> PeriodForm {
        PeriodForm { from_day: p.from.day().into(), from: p.from.time(), to_day: p.to.day().into(), to: p.to.time() }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct QuietHoursForm {
    /// An IANA zone, e.g. `Europe/Moscow`.
    pub time_zone: String,
    /// Neither empty nor overlapping; at most 28.
    pub periods: Vec<PeriodForm>,
    /// The chat kinds covered: `parents`, `class`, `staff_room`, `subject`,
    /// `custom`, `direct`.
    pub chat_kinds: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct QuietHoursView {
    pub time_zone: String,
    pub periods: Vec<PeriodForm>,
    pub chat_kinds: Vec<String>,
    /// The school chose these; false: the defaults.
    pub chosen: bool,
    /// «Срочно» in the school's chats over the last 30 days, per chat and
    /// author, the most used first.
    pub urgent_usage: Vec<UrgentUse>,
}

/// Whether a chat is in its school's quiet hours now.
#[derive(Serialize, ToSchema)]
pub struct ChatQuiet {
    pub quiet: bool,
    /// When they end (unix seconds); absent when not quiet.
    pub until: Option<i64>,
    /// The same on the school's clock, `HH:MM` («уведомления придут в 08:00»).
    pub until_local: Option<String>,
}
