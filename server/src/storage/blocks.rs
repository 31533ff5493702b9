//! Blocks between two people (private to the blocker). What a block does
//! is the service's (no new booking, no bells); the bells part is applied
//! where bells are written (`batch.rs`), in the same transaction as the
//! message.

use super::{Db, Result, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{BlockedUser, UserId, UserRef};

/// How many people one account may block: the list stays a page, and a
/// script cannot grow the table without bound.
pub const MAX_BLOCKS: i64 = 1_000;

/// Why a block was not stored.
#[derive(Debug, PartialEq, Eq)]
pub enum BlockRefused {
    /// The blocker already blocks `MAX_BLOCKS` people.
    TooMany,
    /// No such live account.
    NoSuchUser,
}

impl Db {
    /// Blocks `blocked` for `blocker`; blocking again changes nothing.
    pub async fn add_block(
        &self,
        blocker: UserId,
        blocked: UserId,
    ) -> Result<std::result::Result<(), BlockRefused>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // A write first: SQLite's one writer then orders the count with
            // other blocks; PostgreSQL locks the blocker's row.
            let live: Option<(i64,)> = sqlx::query_as(
                "UPDATE users SET token_version = token_version WHERE id = $1 AND deleted_at IS NULL RETURNING id",
            )
            .bind(blocker)
            .fetch_optional(&mut *tx)
            .await?;
            if live.is_none() {
                return Ok(Err(BlockRefused::NoSuchUser));
            }
            let target: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM users WHERE id = $1 AND deleted_at IS NULL")
                    .bind(blocked)
                    .fetch_optional(&mut *tx)
                    .await?;
            if target.is_none() {
                return Ok(Err(BlockRefused::NoSuchUser));
            }
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM blocks WHERE blocker_id = $1")
                .bind(blocker)
                .fetch_one(&mut *tx)
                .await?;
            if n >= MAX_BLOCKS {
                return Ok(Err(BlockRefused::TooMany));
            }
            sqlx::query(
                "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
            )
            .bind(blocker)
            .bind(blocked)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// Lifts a block; `false` when there was none.
    pub async fn remove_block(&self, blocker: UserId, blocked: UserId) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
                .bind(blocker)
                .bind(blocked)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Whom `blocker` blocks, newest first (at most `MAX_BLOCKS`).
    pub async fn blocks_of(&self, blocker: UserId) -> Result<Vec<BlockedUser>> {
        let rows: Vec<(i64, String, DateTime<Utc>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.name, b.created_at FROM blocks b JOIN users u ON u.id = b.blocked_id \
                 WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.id LIMIT $2",
            )
            .bind(blocker)
            .bind(MAX_BLOCKS)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, created_at)| BlockedUser {
                user: UserRef { id, name },
                created_at,
            })
            .collect())
    }

    /// Whether either of the two blocks the other.
    pub async fn blocked_between(&self, a: UserId, b: UserId) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT blocker_id FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) \
                 OR (blocker_id = $2 AND blocked_id = $1) LIMIT 1",
            )
            .bind(a)
            .bind(b)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.is_some())
    }
}
