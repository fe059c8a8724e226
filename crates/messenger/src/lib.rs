//! The messenger's rules (DESIGN §6–7): what a message is ([`text`]: its text,
//! the client id that makes a retried send idempotent, reactions, mentions), who
//! may do what in a chat ([`permissions`]: post, react, edit, delete, pin) and who
//! may start a direct message with whom ([`direct`]: the safeguarding policy an
//! organisation's administrators can edit), and who manages which chat from the
//! school portal ([`manage`]: creating, editing, members and admins), and how a
//! call lives and ends ([`call`]), and how fast one person may act
//! ([`flood`]), who reports, moderates and how a report is decided
//! ([`report`]), who has read a message as its chat's admins see it
//! ([`receipts`]: families in parents' chats, people elsewhere), and what a
//! poll and a vote in it may be ([`polls`]), and a consent form answered per
//! child in a parents' chat ([`consent`]), a school's quiet hours
//! ([`quiet`]: when its chats notify nobody, and until when), and when a
//! message scheduled for later may be sent, changed or cancelled
//! ([`scheduled`]).
//!
//! Architecture invariant: this crate is pure. It never touches the clock, the
//! network, files or a database. Callers load the facts (the chat's state, the
//! member's admin flag, the people's roles, classes and families) and pass them
//! in; the answers here are plain values to act on. A value of a newtype here is
//! valid by construction: a `MessageText` is never empty, a `Reaction` is always
//! on the allow-list.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod call;
pub mod consent;
pub mod direct;
pub mod flood;
pub mod manage;
pub mod notify;
pub mod permissions;
pub mod polls;
pub mod quiet;
pub mod receipts;
pub mod report;
pub mod scheduled;
pub mod text;

pub use direct::{DmPolicy, DmRefusal, DmRule, Party, PersonDmFacts, may_start_direct};
pub use manage::{ChatDescription, ChatName, ChatTextError, ManageRefusal};
pub use permissions::{
    ChatFacts, ChatState, MemberFacts, MessageFacts, Refusal, may_block, may_delete, may_edit, may_pin, may_post,
    may_react,
};
pub use report::{ModerationRefusal, ReportReason};
pub use text::{
    ClientId, ClientIdError, MAX_MENTIONS, MessageText, Reaction, ReactionError, TextError, mentions, preview,
};
