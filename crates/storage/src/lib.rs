//! Parta's storage adapter: SQLite (embedded, the default) and PostgreSQL behind
//! one `Store`.
//!
//! Architecture invariant: the SQL is written once. Every `*_queries.rs` file is
//! compiled twice, once per backend, with `Db` bound to `sqlx::Sqlite` or
//! `sqlx::Postgres` (the include lists of `mod sqlite` and `mod postgres` are
//! the same); both dialects accept `$1` placeholders, `RETURNING`, `ON CONFLICT`
//! and boolean literals, so no query branches on the backend. `Store` only
//! dispatches.
//! The rules of an import (what to insert, update or deactivate) live in `sync`,
//! free of SQL.

/// Calls the same-named function of the backend module (or of one of its
/// submodules) for this store's pool.
macro_rules! dispatch {
    ($self:ident . $($f:ident)::+ ( $($arg:expr),* )) => {
        match &$self.pool {
            Pool::Sqlite(p) => crate::sqlite::$($f)::+(p, $($arg),*).await,
            Pool::Postgres(p) => crate::postgres::$($f)::+(p, $($arg),*).await,
        }
    };
}

mod calls_store;
mod chat_admin_store;
mod chats_store;
mod consent_store;
mod data_rights_store;
mod family_store;
mod files_store;
mod identity_store;
mod leadership;
pub mod maintenance;
mod messages_store;
mod polls_store;
mod push_store;
mod quiet_store;
mod receipts_store;
mod roster_store;
mod safeguarding_store;
mod scheduled_store;
mod sync;
mod views;

pub use calls_store::*;
pub use chat_admin_store::*;
pub use chats_store::*;
pub use consent_store::*;
pub use data_rights_store::*;
pub use family_store::*;
pub use files_store::*;
pub use identity_store::*;
pub use leadership::Leadership;
pub use messages_store::*;
pub use polls_store::*;
pub use push_store::*;
pub use quiet_store::*;
pub use receipts_store::*;
pub use roster_store::*;
pub use safeguarding_store::*;
pub use scheduled_store::*;

pub use views::*;

use roster::import::Origin;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("unsupported database URL {0:?}: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(Conflict),
    /// The chat already has a live call, hosted on `node`: a chat has one
    /// call at a time in the whole cluster.
    #[error("a call is already live in this chat, hosted on node {node:?}")]
    CallLive { node: String },
    #[error("cannot encode a stored value: {0}")]
    Encoding(String),
    /// The messenger's rules refuse the action (`messenger::permissions`).
    #[error("{0}")]
    Refused(messenger::Refusal),
    /// The organisation's direct-message policy refuses the chat.
    #[error("{0}")]
    DirectRefused(messenger::DmRefusal),
    /// The family rules refuse to put this school account on that Parta ID
    /// (`identity::family`).
    #[error("{0}")]
    SharingRefused(identity::family::SharingRefusal),
    /// The chat-management rules refuse the change (`messenger::manage`).
    #[error("{0}")]
    ManageRefused(messenger::ManageRefusal),
    /// The reporting and moderation rules refuse it (`messenger::report`).
    #[error("{0}")]
    ModerationRefused(messenger::ModerationRefusal),
    /// The poll rules refuse the vote or the close (`messenger::polls`).
    #[error("{0}")]
    VoteRefused(messenger::polls::VoteRefusal),
    /// The consent-form rules refuse the form, the answer or the reopening
    /// (`messenger::consent`).
    #[error("{0}")]
    ConsentRefused(messenger::consent::ConsentRefusal),
    /// The data-rights rules refuse the export or the erasure (`identity::rights`).
    #[error("{0}")]
    RightsRefused(identity::rights::RightsRefusal),
    /// The schedule rules refuse the time, the count or the change
    /// (`messenger::scheduled`).
    #[error("{0}")]
    ScheduleRefused(messenger::scheduled::ScheduleRefusal),
}

impl StorageError {
    /// The database cannot be reached (down, restarting, or every connection
    /// busy for too long): the request may succeed if tried again later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StorageError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)))
    }
}

/// Edits refused because of what is already stored. Stable: the server maps each
/// to an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("this login is already taken")]
    LoginTaken,
    #[error("the person is not a student of this organisation")]
    NotAStudent,
    #[error("the person is not a guardian in this organisation")]
    NotAGuardian,
    #[error("the person is not a teacher of this organisation")]
    NotATeacher,
    #[error("the person must keep at least one role")]
    LastRole,
    #[error("the subject is taught to the whole class: it has no group to join")]
    WholeClassSection,
    #[error("the phone confirmation is missing, used or expired")]
    ProofInvalid,
    #[error("the sign-in link is used, expired or unknown")]
    SignInLinkInvalid,
    #[error("this school account is already linked to a learning profile")]
    AlreadyLinked,
    #[error("this school account is linked to another learning profile in another organisation")]
    LinkedToAnotherProfile,
    #[error("no Parta ID has this phone number")]
    NoAccount,
    #[error("another Parta ID has this phone number")]
    PhoneTaken,
    #[error("this phone number already has a Parta ID: join it or use another number")]
    PhoneInUse,
    #[error("the child's school account is linked to a Parta ID of the child's own")]
    ChildHasOwnParta,
    #[error("none of the child's schools has chats switched on")]
    NoChatsForChild,
    #[error("the phone's Parta ID is not a child of this guardian's alone")]
    NotYourChild,
    #[error("the phone's Parta ID holds no school account")]
    NoSchoolAccount,
    #[error("the phone's Parta ID holds several school accounts")]
    SeveralSchoolAccounts,
    #[error("the message replied to is not in this chat")]
    ReplyOutsideChat,
    #[error("the person has not linked a learning profile yet")]
    NotLinkedYet,
    #[error("an attachment is not the sender's pending upload in this chat")]
    AttachmentUnavailable,
}

/// Why an import was refused: either the package contradicts the database (each
/// problem names the file and line), or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the package was refused; nothing was imported")]
    Rejected(Vec<(Origin, String)>),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Storage(e.into())
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Where bursts of small writes wait their turn on SQLite (see `queued`).
    queue: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Store {
    /// Runs a small write transaction, on SQLite after the ones queued before
    /// it. SQLite has one write lock, and a transaction waiting for it in the
    /// busy handler sleeps, polls and holds a pool connection: a class of
    /// 1,000 voting within 2 s timed out on the pool and on `database is
    /// locked`. Queued here, each takes a connection when its turn comes.
    /// PostgreSQL queues them on the chat's row lock (`next_seq`) instead.
    async fn queued<T>(&self, write: impl std::future::Future<Output = T>) -> T {
        match self.pool {
            Pool::Sqlite(_) => {
                let _turn = self.queue.lock().await;
                write.await
            }
            Pool::Postgres(_) => write.await,
        }
    }
}

/// The SQL modules, written once for both databases: each backend module
/// below sets `Db` and the few constants the SQL differs by, then expands
/// this one list, so the two backends cannot include different files.
macro_rules! queries {
    () => {
        include!("common_queries.rs");
        include!("roster_import_queries.rs");
        include!("roster_import_people_queries.rs");
        include!("school_account_queries.rs");
        include!("roster_queries.rs");
        include!("roster_teaching_queries.rs");
        pub(crate) mod chats {
            use super::*;
            include!("chat_queries.rs");
            include!("chat_snapshot_queries.rs");
            include!("chat_apply_queries.rs");
        }
        pub(crate) mod identity {
            use super::*;
            include!("identity_queries.rs");
            include!("identity_code_queries.rs");
            include!("identity_link_queries.rs");
            include!("identity_session_queries.rs");
        }
        pub(crate) mod family {
            use super::*;
            include!("family_queries.rs");
        }
        pub(crate) mod messages {
            use super::*;
            include!("message_queries.rs");
            include!("message_history_queries.rs");
            include!("message_action_queries.rs");
            include!("chat_list_queries.rs");
            include!("direct_chat_queries.rs");
        }
        pub(crate) mod files {
            use super::*;
            include!("file_queries.rs");
        }
        pub(crate) mod search {
            use super::*;
            include!("search_queries.rs");
        }
        pub(crate) mod chat_admin {
            use super::*;
            include!("chat_admin_queries.rs");
            include!("chat_edit_queries.rs");
            include!("chat_member_queries.rs");
            include!("chat_audit_queries.rs");
        }
        pub(crate) mod calls {
            use super::*;
            include!("call_queries.rs");
        }
        pub(crate) mod safeguarding {
            use super::*;
            include!("safeguarding_queries.rs");
        }
        pub(crate) mod receipts {
            use super::*;
            include!("receipt_queries.rs");
        }
        pub(crate) mod polls {
            use super::*;
            include!("poll_queries.rs");
        }
        pub(crate) mod consent {
            use super::*;
            include!("consent_queries.rs");
        }
        pub(crate) mod data_rights {
            use super::*;
            include!("data_rights_queries.rs");
        }
        pub(crate) mod push {
            use super::*;
            include!("push_queries.rs");
        }
        pub(crate) mod quiet {
            use super::*;
            include!("quiet_queries.rs");
        }
        pub(crate) mod scheduled {
            use super::*;
            include!("scheduled_queries.rs");
        }
    };
}

mod sqlite {
    type Db = sqlx::Sqlite;
    const STRING_AGG: &str = "GROUP_CONCAT";
    /// Takes the write lock at once: a read-then-write transaction that starts
    /// deferred can fail with SQLITE_BUSY when another writer commits between.
    const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
    const LOCK_ORG: Option<&str> = None;
    /// Search: FTS5 over terms stemmed in Rust (search_queries.rs).
    const SEARCH_FTS5: bool = true;
    queries!();
}

mod postgres {
    type Db = sqlx::Postgres;
    const STRING_AGG: &str = "STRING_AGG";
    const BEGIN_WRITE: &str = "BEGIN";
    /// Reconciliations of one organisation queue instead of racing.
    const LOCK_ORG: Option<&str> = Some("SELECT pg_advisory_xact_lock($1)");
    /// Search: the `russian` text-search configuration (search_queries.rs).
    const SEARCH_FTS5: bool = false;
    queries!();
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up
    /// to date.
    pub async fn open(url: &str) -> Result<Store, StorageError> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL loses no committed transaction on a process crash,
                // only possibly the last ones on power loss; FULL closes that too.
                .synchronous(SqliteSynchronous::Full)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
            maintenance::SQLITE_MIGRATIONS.run(&pool).await?;
            // Messages from before the search index (SQLite cannot stem in SQL).
            sqlite::search::backfill(&pool).await?;
            Pool::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            // A request waits at most a few seconds for a connection: with the
            // database down it gets `503 database_unavailable`, not a hang.
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            maintenance::POSTGRES_MIGRATIONS.run(&pool).await?;
            Pool::Postgres(pool)
        } else {
            return Err(StorageError::UnsupportedUrl(url.to_string()));
        };
        Ok(Store { pool, queue: Default::default() })
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgresql",
        }
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// True when no organisation exists yet (a fresh database to seed).
    pub async fn is_empty(&self) -> Result<bool, StorageError> {
        dispatch!(self.is_empty())
    }

    /// After a bulk load, PostgreSQL's planner still believes the tables are
    /// as small as before until autovacuum gets round to them, and picks
    /// plans that walk a whole school per request (a messenger's connect
    /// took 100 ms instead of 1 ms after 50,000 people arrived). SQLite's
    /// planner needs no statistics for these indexed lookups.
    pub async fn refresh_statistics(&self) -> Result<(), StorageError> {
        if let Pool::Postgres(pool) = &self.pool {
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Ok(())
    }
}
