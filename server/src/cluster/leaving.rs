//! Users whose last socket just closed, over all nodes: their going
//! offline is announced only after a grace (`realtime::presence`), and a
//! socket of theirs that connects meanwhile, on any node, cancels both the
//! offline and its own online. `jobchat:leaving:{user}` holds the pending
//! departure's mark (`{node}:{n}`, unique), with a TTL well past the grace
//! so a node that dies while waiting leaves nothing behind for long.

use super::{Cluster, Result};
use contract::model::UserId;
use redis::Script;
use std::sync::LazyLock;
use std::time::Duration;

/// KEYS: the user's leaving key. ARGV: the mark. Deletes the key only if it
/// still holds this mark; returns 1 then.
static TAKE_IF_MINE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
          end
          return 0",
    )
});

impl Cluster {
    fn leaving_key(&self, user: UserId) -> String {
        self.key(format_args!("leaving:{user}"))
    }

    /// Marks `user`'s departure pending with `mark` (replacing an older
    /// one), for at most `ttl`.
    pub async fn start_leaving(&self, user: UserId, mark: &str, ttl: Duration) -> Result<()> {
        let _: () = redis::cmd("SET")
            .arg(self.leaving_key(user))
            .arg(mark)
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(&mut self.conn())
            .await?;
        Ok(())
    }

    /// Ends the pending departure `mark`: true when it was still pending
    /// (no socket of the user connected since, and no later departure took
    /// its place).
    pub async fn finish_leaving(&self, user: UserId, mark: &str) -> Result<bool> {
        let taken: i64 = TAKE_IF_MINE
            .key(self.leaving_key(user))
            .arg(mark)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(taken == 1)
    }

    /// A socket of `user` came online: cancels a pending departure. True
    /// when there was one (the user never went offline for the others).
    pub async fn cancel_leaving(&self, user: UserId) -> Result<bool> {
        let deleted: i64 = redis::cmd("DEL")
            .arg(self.leaving_key(user))
            .query_async(&mut self.conn())
            .await?;
        Ok(deleted == 1)
    }
}
