//! What several server nodes share through Redis (`REDIS_URL`): the
//! Socket.IO adapter's pub/sub (`driver`), who is online and who is in which
//! chat room across nodes (`registry`), and counters that must add up over
//! all nodes, such as login attempts (`counters`). Without `REDIS_URL` there
//! is one node and none of this exists: callers hold an `Option<Cluster>`.
//!
//! One multiplexed RESP3 connection carries everything (`connection`):
//! to one Redis (`REDIS_URL`) or to a Redis Cluster (`REDIS_CLUSTER_URLS`).
//! Either reconnects by itself (at the next command: the heartbeat sends
//! one every few seconds) and resubscribes the adapter's channels, so a
//! Redis restart or a cluster's failover heals without a node restart.
//!
//! Redis Cluster refuses a command, script or pipeline whose keys lie in
//! different hash slots, so every script here touches one key, and the
//! keys one node writes for itself share a hash tag (`{node:ID}`) and so
//! one slot.

mod connection;
mod counters;
mod driver;
mod leaving;
mod registry;

pub use connection::RedisConn;

pub use driver::{ClusterAdapter, DriverError, PubSubDriver};
pub use registry::{Departed, Entry, HEARTBEAT_EVERY, HEARTBEAT_TTL};

use crate::config::RedisTarget;
use std::sync::Arc;

#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    conn: RedisConn,
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
    /// Connects to Redis or a Redis Cluster (RESP3, which the adapter's
    /// pub/sub needs on a shared connection). Fails when Redis does not
    /// answer: a node that cannot reach the others should not start as if
    /// it were alone.
    pub async fn connect(target: &RedisTarget, prefix: &str) -> Result<Self> {
        let driver = PubSubDriver::default();
        let conn = RedisConn::connect(target, driver.push_sender()).await?;
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

    /// Moves this node's pub/sub subscriptions to where a Redis Cluster
    /// serves their channels now (after a failover); nothing on one Redis.
    pub async fn renew_subscriptions(&self) -> Result<(), DriverError> {
        self.inner.driver.renew_subscriptions().await
    }

    /// A round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    fn conn(&self) -> RedisConn {
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
