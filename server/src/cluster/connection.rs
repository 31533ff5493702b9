//! The one connection a node keeps to Redis: to a single server
//! (`REDIS_URL`, redis-rs's `ConnectionManager`) or to a Redis Cluster
//! (`REDIS_CLUSTER_URLS`, redis-rs's cluster connection, which follows
//! `MOVED`/`ASK` redirections and a failover's new masters by itself).
//!
//! Both reconnect on their own and resubscribe what was subscribed, and
//! both speak RESP3 so pub/sub messages arrive as pushes on the same
//! connection. The rest of `cluster` sends commands through `RedisConn`
//! and never asks which kind it holds, except where Redis Cluster differs:
//! pub/sub is sharded there (`SPUBLISH`/`SSUBSCRIBE`: a channel lives on its
//! slot's shard instead of being copied to every server), and a command or
//! pipeline may touch one hash slot only.

use crate::config::RedisTarget;
use redis::aio::{AsyncPushSender, ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, ProtocolVersion, RedisFuture, RedisResult, Value};
use std::time::Duration;

/// A dead Redis must not hold a request for long: sends are acked after
/// their broadcast, and login checks wait for the counters.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub enum RedisConn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl RedisConn {
    /// Connects; `push` receives pub/sub messages.
    pub async fn connect(target: &RedisTarget, push: impl AsyncPushSender) -> RedisResult<Self> {
        match target {
            RedisTarget::Single(url) => {
                let client = redis::Client::open(with_resp3(url))?;
                let config = ConnectionManagerConfig::new()
                    .set_push_sender(push)
                    .set_automatic_resubscription()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                Ok(Self::Single(
                    ConnectionManager::new_with_config(client, config).await?,
                ))
            }
            RedisTarget::Cluster(seeds) => {
                let client = ClusterClientBuilder::new(seeds.iter().map(String::as_str))
                    .use_protocol(ProtocolVersion::RESP3)
                    .push_sender(push)
                    .connection_timeout(CONNECT_TIMEOUT)
                    .response_timeout(RESPONSE_TIMEOUT)
                    // A failover takes the cluster's node timeout plus an
                    // election (a few seconds): the client retries a command
                    // that met a dead master a few times, waiting up to
                    // half a second between tries, before it gives up.
                    .retries(6)
                    .max_retry_wait(500)
                    .build()?;
                Ok(Self::Cluster(client.get_async_connection().await?))
            }
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Subscribes to a pub/sub channel (sharded on a cluster).
    pub async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Self::Single(c) => c.subscribe(channel).await,
            Self::Cluster(c) => c.ssubscribe(channel).await,
        }
    }

    pub async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Self::Single(c) => c.unsubscribe(channel).await,
            Self::Cluster(c) => c.sunsubscribe(channel).await,
        }
    }

    /// The publish command for this kind of Redis.
    pub fn publish_command(&self) -> &'static str {
        match self {
            Self::Single(_) => "PUBLISH",
            Self::Cluster(_) => "SPUBLISH",
        }
    }

    /// How many connections (nodes) listen on `channel`.
    pub async fn subscribers(&mut self, channel: &str) -> RedisResult<u16> {
        match self {
            Self::Single(c) => {
                let (_, n): (String, u16) = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(channel)
                    .query_async(c)
                    .await?;
                Ok(n)
            }
            // redis-rs asks every shard and sums the counts per channel.
            Self::Cluster(c) => {
                let counts: std::collections::HashMap<String, u16> = redis::cmd("PUBSUB")
                    .arg("SHARDNUMSUB")
                    .arg(channel)
                    .query_async(c)
                    .await?;
                Ok(counts.get(channel).copied().unwrap_or(0))
            }
        }
    }
}

/// RESP3 is what lets pub/sub share the connection with commands.
fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

impl ConnectionLike for RedisConn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_resp3;

    #[test]
    fn resp3_is_asked_for_unless_the_url_says_otherwise() {
        assert_eq!(
            with_resp3("redis://h:6379"),
            "redis://h:6379?protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h:6379/0?x=1"),
            "redis://h:6379/0?x=1&protocol=resp3"
        );
        assert_eq!(
            with_resp3("redis://h?protocol=resp2"),
            "redis://h?protocol=resp2"
        );
    }
}
