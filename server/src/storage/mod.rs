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

mod chats;
mod disputes;
mod messages;
mod notifications;
mod users;

pub use chats::*;
pub use disputes::*;
pub use messages::*;
pub use notifications::*;
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
            e => Self::Database(e),
        }
    }
}

pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Timestamps are taken in Rust (not by SQL functions, which differ between the
/// two databases) at the precision both store.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

impl Db {
    /// Opens the pool for the configured backend. SQLite files (and their
    /// folder) are created when missing.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self> {
        match url {
            DatabaseUrl::Sqlite(url) => {
                let opts = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                if let Some(dir) = opts.get_filename().parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StorageError::Database(sqlx::Error::Io(e)))?;
                }
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                Ok(Self::Sqlite(pool))
            }
            DatabaseUrl::Postgres(url) => {
                let opts = PgConnectOptions::from_str(url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
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

    /// Applies the migrations of this backend (embedded at compile time).
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
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
