//! Counters that add up over all nodes (login attempts per email and per
//! address), in fixed windows.

use super::{Cluster, Result};
use redis::Script;
use std::sync::LazyLock;
use std::time::Duration;

/// KEYS: the counter. ARGV: the window in ms. Returns {count, ms left}.
static HIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local n = redis.call('INCR', KEYS[1])
          if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
          return {n, redis.call('PTTL', KEYS[1])}",
    )
});

impl Cluster {
    /// Counts one hit on `name` in the current window of `window`; returns
    /// the hits so far in it and the time until it closes.
    pub async fn hit(&self, name: &str, window: Duration) -> Result<(u64, Duration)> {
        let key = self.key(format_args!("count:{name}"));
        let (count, left_ms): (u64, i64) = HIT
            .key(key)
            .arg(window.as_millis() as u64)
            .invoke_async(&mut self.conn())
            .await?;
        Ok((count, Duration::from_millis(left_ms.max(0) as u64)))
    }
}
