//! Sessions ended one by one (signing out): a token names its session
//! (`sid`), and a revoked session's tokens are refused until they expire,
//! after which their row is no longer needed and is swept away.

use super::users::UserRow;
use super::{Db, Result, on_pool};
use contract::model::{User, UserId};
use std::collections::HashSet;

/// A live account as authentication reads it for one token: the account,
/// the version every valid token of theirs carries, and whether the
/// token's own session was signed out.
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_version: i64,
    revoked: bool,
    suspended_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// What [`Db::session_user`] found.
pub struct SessionUser {
    pub user: User,
    pub token_version: i64,
    pub revoked: bool,
    /// Suspended until then (may be past: then no longer suspended).
    pub suspended_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl Db {
    /// The live account `id` with its token version and whether session
    /// `sid` was revoked, in one round trip (authentication runs on every
    /// request). `None` when there is no such live account.
    pub async fn session_user(&self, id: UserId, sid: &str) -> Result<Option<SessionUser>> {
        let sql = "SELECT id, email, name, role, token_version, suspended_until, \
                   EXISTS (SELECT 1 FROM revoked_sessions WHERE sid = $2) AS revoked \
                   FROM users WHERE id = $1 AND deleted_at IS NULL";
        let row: Option<SessionRow> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(id).bind(sid).fetch_optional(pool).await?
        });
        row.map(|r| {
            Ok(SessionUser {
                user: r.user.try_into()?,
                token_version: r.token_version,
                revoked: r.revoked,
                suspended_until: r.suspended_until,
            })
        })
        .transpose()
    }

    /// Records session `sid` of `user` as ended; its tokens expire at
    /// `expires_at` (unix seconds). Revoking it again changes nothing.
    pub async fn revoke_session(&self, sid: &str, user: UserId, expires_at: i64) -> Result<()> {
        let sql = "INSERT INTO revoked_sessions (sid, user_id, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (sid) DO NOTHING";
        on_pool!(self, pool => {
            sqlx::query(sql).bind(sid).bind(user).bind(expires_at).execute(pool).await?;
        });
        Ok(())
    }

    /// Which of `sids` are revoked (one query per 500).
    pub async fn revoked_among(&self, sids: &[String]) -> Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in sids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT sid FROM revoked_sessions WHERE sid IN ({})",
                marks.join(", ")
            );
            let rows: Vec<(String,)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for sid in chunk {
                    q = q.bind(sid);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    /// Deletes at most `max` revoked sessions whose tokens expired before
    /// `now` (unix seconds): no token of theirs can be presented any more.
    /// Bounded, so one sweep never holds the table for long; returns how
    /// many went.
    pub async fn prune_revoked_sessions(&self, now: i64, max: i64) -> Result<u64> {
        let sql = "DELETE FROM revoked_sessions WHERE sid IN \
                   (SELECT sid FROM revoked_sessions WHERE expires_at <= $1 LIMIT $2)";
        let done = on_pool!(self, pool => {
            sqlx::query(sql).bind(now).bind(max).execute(pool).await?.rows_affected()
        });
        Ok(done)
    }
}
