//! Protocol version 1: the HTTP API's JSON and the WebSocket frames'
//! payloads (`docs/protocol.md`). Names, field order and `serde` attributes
//! are the protocol's: a type keeps its name here because its name is its
//! OpenAPI schema's.

mod auth;
mod calls;
mod chat_admin;
mod chats;
mod consent;
mod data_rights;
mod demo;
mod direct;
mod error;
mod family;
mod files;
mod identity;
mod messages;
mod polls;
mod push;
mod quiet;
mod receipts;
mod roster;
mod safeguarding;
mod scheduled;

pub use auth::*;
pub use calls::*;
pub use chat_admin::*;
pub use chats::*;
pub use consent::*;
pub use data_rights::*;
pub use demo::*;
pub use direct::*;
pub use error::*;
pub use family::*;
pub use files::*;
pub use identity::*;
pub use messages::*;
pub use polls::*;
pub use push::*;
pub use quiet::*;
pub use receipts::*;
pub use roster::*;
pub use safeguarding::*;
pub use scheduled::*;

/// Storage's rows as the wire's, in order.
pub fn list<S, W: From<S>>(rows: Vec<S>) -> Vec<W> {
    rows.into_iter().map(W::from).collect()
}
