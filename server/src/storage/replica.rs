//! Where a heavy read goes when a PostgreSQL streaming replica is
//! configured (`DATABASE_READ_URL`): history pages, search, the chat list
//! and transcript exports.
//!
//! A read may go to the replica only if the replica has replayed
//! everything the primary had committed when the read began, so no read
//! misses a message its reader was acked (the ack came after the commit).
//! Each read asks the primary for its WAL position (`pg_current_wal_lsn()`,
//! a point lookup of shared memory) and the replica whether it has
//! replayed that far; if not, or if the replica does not answer, the read
//! goes to the primary. A replica that failed is left alone for
//! `RETRY_AFTER`, so a stopped replica costs one failed check per interval,
//! not one per read.

use super::{Db, Result};
use crate::config::DatabaseUrl;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a failed replica is left alone.
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// The replica's answer to "how far have you replayed", at most.
const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
/// Connections to the replica, per node.
const REPLICA_CONNECTIONS: u32 = 16;

/// Where one read went (in this order in `Replica::counts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// The replica had replayed what the primary had committed.
    Replica,
    /// The replica was behind: the primary.
    Lagging,
    /// The replica failed or is being left alone: the primary.
    Down,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replica => "replica",
            Self::Lagging => "primary_lag",
            Self::Down => "primary_down",
        }
    }
}

pub struct Replica {
    db: Db,
    down_until: Mutex<Option<Instant>>,
    /// Reads by route, in `Route` order (tests and /metrics read them).
    counts: [AtomicU64; 3],
}

impl Replica {
    /// Opens the replica's pool lazily: a replica down at start-up must not
    /// keep the node from starting (its reads go to the primary meanwhile).
    pub fn open(url: &DatabaseUrl) -> Result<Self> {
        let DatabaseUrl::Postgres(url) = url else {
            return Err(super::StorageError::Unavailable(
                "a read replica must be PostgreSQL",
            ));
        };
        let opts = PgConnectOptions::from_str(url)?.options([("statement_timeout", "5s")]);
        let pool = PgPoolOptions::new()
            .max_connections(REPLICA_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(1))
            .connect_lazy_with(opts);
        Ok(Self {
            db: Db::Postgres(pool),
            down_until: Mutex::new(None),
            counts: Default::default(),
        })
    }

    /// The database this read should use, and why.
    pub async fn choose(&self, primary: &Db) -> (Db, Route) {
        let route = self.route(primary).await;
        self.counts[route as usize].fetch_add(1, Ordering::Relaxed);
        crate::metrics::read_route(route.as_str());
        match route {
            Route::Replica => (self.db.clone(), route),
            _ => (primary.clone(), route),
        }
    }

    async fn route(&self, primary: &Db) -> Route {
        let (Db::Postgres(primary), Db::Postgres(replica)) = (primary, &self.db) else {
            return Route::Down;
        };
        {
            let mut down = self.down_until.lock().unwrap_or_else(|p| p.into_inner());
            match *down {
                Some(until) if Instant::now() < until => return Route::Down,
                Some(_) => *down = None,
                None => {}
            }
        }
        let Ok(lsn) = sqlx::query_scalar::<_, String>("SELECT pg_current_wal_lsn()::text")
            .fetch_one(primary)
            .await
        else {
            // The primary's own trouble is the caller's to meet.
            return Route::Lagging;
        };
        let check =
            sqlx::query_scalar::<_, Option<bool>>("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn")
                .bind(&lsn)
                .fetch_one(replica);
        match tokio::time::timeout(CHECK_TIMEOUT, check).await {
            Ok(Ok(Some(true))) => Route::Replica,
            // Behind, or not a replica at all (no replay position).
            Ok(Ok(_)) => Route::Lagging,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "read replica failed; reading the primary");
                self.leave_alone();
                Route::Down
            }
            Err(_) => {
                tracing::warn!("read replica too slow to answer; reading the primary");
                self.leave_alone();
                Route::Down
            }
        }
    }

    pub fn leave_alone(&self) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(Instant::now() + RETRY_AFTER);
    }

    /// Reads so far: (replica, primary because lagging, primary because down).
    pub fn counts(&self) -> (u64, u64, u64) {
        (
            self.counts[0].load(Ordering::Relaxed),
            self.counts[1].load(Ordering::Relaxed),
            self.counts[2].load(Ordering::Relaxed),
        )
    }
}
