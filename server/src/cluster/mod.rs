//! What several server nodes share through Redis (`REDIS_URL`): the
//! Socket.IO adapter's pub/sub (`driver`), who is online and who is in which
//! chat room across nodes (`registry`), and counters that must add up over
//! all nodes, such as login attempts (`counters`). Without `REDIS_URL` there
//! is one node and none of this exists: callers hold an `Option<Cluster>`.
//!
//! One multiplexed RESP3 connection carries everything. redis-rs's
//! `ConnectionManager` reconnects by itself (at the next command: the
//! heartbeat sends one every few seconds) and resubscribes the adapter's
//! channels, so a Redis restart heals without a node restart.

mod counters;
mod driver;
mod leaving;
mod registry;

pub use driver::{ClusterAdapter, PubSubDriver};
pub use registry::{Departed, Entry, HEARTBEAT_EVERY, HEARTBEAT_TTL};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    conn: ConnectionManager,
    driver: PubSubDriver,
    /// This process's id: random at every start, so a restarted node never
    /// mistakes its predecessor's state for its own.
    node: String,
    /// Every key and pub/sub channel starts with this
    /// (`JOBCHAT_REDIS_PREFIX`), so one Redis can serve several deployments.
    prefix: String,
}

#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct ClusterError(#[from] redis::RedisError);

pub type Result<T, E = ClusterError> = std::result::Result<T, E>;

impl Cluster {
    /// Connects to Redis (RESP3, which the adapter's pub/sub needs on a
    /// shared connection). Fails when Redis does not answer: a node that
    /// cannot reach the others should not start as if it were alone.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let url = if url.contains("protocol=") {
            url.to_owned()
        } else if url.contains('?') {
            format!("{url}&protocol=resp3")
        } else {
            format!("{url}?protocol=resp3")
        };
        let client = redis::Client::open(url)?;
        let driver = PubSubDriver::default();
        let config = ConnectionManagerConfig::new()
            .set_push_sender(driver.push_sender())
            .set_automatic_resubscription()
            // A dead Redis must not hold a request for long: sends are acked
            // after their broadcast, and login checks wait for the counters.
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        let driver = driver.with_conn(conn.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                conn,
                driver,
                node: uuid::Uuid::new_v4().simple().to_string(),
                prefix: prefix.to_owned(),
            }),
        })
    }

    /// This node's id (random per process).
    pub fn node(&self) -> &str {
        &self.inner.node
    }

    /// The pub/sub driver for socketioxide's Redis adapter.
    pub fn driver(&self) -> PubSubDriver {
        self.inner.driver.clone()
    }

    /// A round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// The prefix of every key and channel.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    fn key(&self, parts: std::fmt::Arguments<'_>) -> String {
        format!("{}:{parts}", self.inner.prefix)
    }
}
