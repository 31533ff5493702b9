//! Persistence: one storage layer over SQLite (embedded default) and PostgreSQL.
//! It stores and reads; the decisions (who is picked, what a system message
//! or notification says) are the service's and arrive as parameters. Each
//! multi-row write is one transaction, and races are settled by the database
//! (unique indexes, status guards).
//!
//! The backend is a concrete enum rather than a generic so that every caller
//! (REST, Socket.IO, server functions) sees one type. Each query is written
//! once, as SQL both databases accept (`$n` placeholders work in SQLite too),
//! and `on_pool!` compiles its body once per backend.

mod archive;
mod attachments;
mod batch;
mod blocks;
mod cases;
mod chats;
mod disputes;
mod emails;
mod jobs;
mod message_inserts;
mod messages;
mod moderation;
mod notifications;
mod replica;
mod reports;
mod retention;
mod revisions;
mod search;
mod sessions;
mod transcripts;
mod users;

pub use archive::{ArchiveSpec, LONG_EVERY, LSM_CHATS};
pub use attachments::*;
pub use batch::{Bell, StoredBatch};
pub use blocks::{BlockRefused, MAX_BLOCKS};
pub use cases::{CaseFilter, like_pattern};
pub use chats::*;
pub use disputes::*;
pub use emails::{CLAIM_FOR, Digest, DueEmail, Prefs};
pub use jobs::JobState;
pub use messages::*;
pub use moderation::{ActionRecord, ActionRefused, Effect, Taken};
pub use notifications::*;
pub use replica::{Replica, Route};
pub use reports::{FOR_GOOD_AFTER, NewItem, ReportedMessage};
pub use revisions::*;
pub use sessions::*;
pub use transcripts::*;
pub use users::*;

use crate::config::DatabaseUrl;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::{
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use std::{str::FromStr, time::Duration};

/// Runs `$body` with `$pool` bound to whichever pool `$db` holds.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite($pool) => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A unique constraint refused the write (the constraint's name when known).
    #[error("conflict on {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Storage cannot take the request now (retry later).
    #[error("{0}")]
    Unavailable(&'static str),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(ref db) if db.is_unique_violation() => {
                let name = db
                    .constraint()
                    .map(str::to_owned)
                    .unwrap_or_else(|| db.message().to_owned());
                Self::Conflict(name)
            }
            // The database is down, restarting, overloaded or too slow:
            // the caller may retry later (`unavailable`, not `internal`).
            sqlx::Error::PoolTimedOut => Self::Unavailable("the database is not answering"),
            sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable("the database connection failed")
            }
            sqlx::Error::Database(ref db) if is_transient(db.code().as_deref()) => {
                Self::Unavailable("the database is busy or restarting")
            }
            e => Self::Database(e),
        }
    }
}

/// Error codes that say "try again": PostgreSQL's statement timeout
/// (57014), shutdown and start-up (57P01–57P03), serialization failure and
/// deadlock (40001, 40P01); SQLite's busy and locked (5, 6).
fn is_transient(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("57014" | "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "5" | "6")
    )
}

impl StorageError {
    /// A copy of an `Unavailable` (the one variant that is cheap to copy),
    /// for answering every message of a failed batch.
    pub fn clone_unavailable(&self) -> Self {
        match self {
            Self::Unavailable(why) => Self::Unavailable(why),
            _ => Self::Unavailable("the database failed"),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Timestamps are taken in Rust (not by SQL functions, which differ between the
/// two databases) at the precision both store.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// How long a request waits for a free connection (or a new one to
/// open) before it is answered `unavailable`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Db {
    /// Opens the pool for the configured backend. SQLite files (and their
    /// folder) are created when missing.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        match url {
            DatabaseUrl::Sqlite(url) => {
                let opts = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // An ack means durable: FULL syncs the WAL at every
                    // commit (NORMAL may lose the last commits on power
                    // loss). Group commit keeps that to one fsync per batch.
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Reads of a large archive through the OS's page cache
                    // instead of a read() per page, and 16 MiB of pages
                    // kept per connection (the default is 2 MiB):
                    // scripts/archive-bench, docs/benchmarks.md.
                    .pragma("mmap_size", "268435456")
                    .pragma("cache_size", "-16384");
                if let Some(dir) = opts.get_filename().parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StorageError::Database(sqlx::Error::Io(e)))?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await?;
                Ok(Self::Sqlite(pool))
            }
            DatabaseUrl::Postgres(url) => {
                // The server bounds every statement (a lock wait included)
                // and idle transactions; `Db` callers bound the whole
                // operation (`DEADLINE`) for a server that stops answering.
                let opts = PgConnectOptions::from_str(url)?.options([
                    ("statement_timeout", "5s"),
                    ("idle_in_transaction_session_timeout", "10s"),
                ]);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(opts)
                    .await?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// Applies the migrations of this backend (embedded at compile time),
    /// and on SQLite indexes for search what an older schema left unindexed.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Self::Sqlite(pool) => {
                sqlx::migrate!("../migrations/sqlite").run(pool).await?;
                search::reindex_words(pool).await?;
            }
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Connections open in the pool, and how many of them are idle.
    pub fn pool_stats(&self) -> (u32, usize) {
        on_pool!(self, pool => (pool.size(), pool.num_idle()))
    }

    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}
