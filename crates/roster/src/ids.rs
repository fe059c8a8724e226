//! The ids of Parta's rows as types of their own, so an organisation's id cannot
//! be passed where a chat's is expected. Each is the row's `i64` and nothing more:
//! serde writes it as a plain integer (protocol v1 is unchanged), and with the
//! `sqlx` feature it binds and decodes as that integer on either backend, so the
//! pure crates use the types without knowing SQL.
//!
//! An id is made at an edge (a path or body parsed, a row decoded) and flows typed
//! from there; `.0` is for those edges alone.

use std::fmt;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        /// For the edges not typed yet (logs, the wire's views, untyped store methods).
        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

ids! {
    /// An organisation (a school): `orgs.id`.
    OrgId;
    /// A person of a school's roster: `people.id`.
    PersonId;
    /// A class: `classes.id`.
    ClassId;
    /// A subject an organisation teaches: `subjects.id`.
    SubjectId;
    /// A subject taught in a class or a group of it: `sections.id`.
    SectionId;
    /// A chat: `chats.id`.
    ChatId;
    /// A Parta ID, the identity one or more people sign in with: `accounts.id`.
    AccountId;
    /// A messenger session of a Parta ID: `messenger_sessions.id`.
    SessionId;
    /// A message: `messages.id`.
    MessageId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_integer_on_the_wire() {
        assert_eq!(serde_json::to_string(&OrgId(42)).ok().as_deref(), Some("42"));
        assert_eq!(serde_json::from_str::<ChatId>("7").ok(), Some(ChatId(7)));
        assert_eq!(PersonId(-3).to_string(), "-3");
    }
}
