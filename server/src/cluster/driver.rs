//! The pub/sub driver under socketioxide's Redis adapter. socketioxide-redis
//! ships one over a plain `MultiplexedConnection`, which never reconnects:
//! after a Redis restart a node would stay deaf to the others for good. This
//! one runs the same protocol over the node's `RedisConn`, which reconnects
//! and resubscribes by itself; on a Redis Cluster it publishes and
//! subscribes sharded (`SPUBLISH`/`SSUBSCRIBE`).
//!
//! Publishing never holds anyone up. The adapter awaits `publish` before it
//! delivers a broadcast to this node's own sockets, so a Redis that is slow
//! (not down) used to delay local delivery by a response timeout per
//! message, and the fan-out behind it by minutes. Here `publish` only
//! queues (bounded, `PUBLISH_QUEUE`); one task sends what has queued as a
//! pipeline, in order, each pipeline given up after `PUBLISH_TIMEOUT`
//! (on a cluster, one pipeline per run of one channel: a pipeline may
//! touch one slot only). What
//! is dropped (queue full, pipeline given up) only misses the other nodes:
//! their clients close the gap by seq.

use super::RedisConn;
use redis::{FromRedisValue, PushInfo, PushKind};
use socketioxide_redis::CustomRedisAdapter;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;
use tokio::sync::mpsc;

/// Publishes waiting for the publisher task, at most.
const PUBLISH_QUEUE: usize = 4_096;
/// Most publishes in one pipeline.
const PUBLISH_BATCH: usize = 256;
/// How long one pipeline may take before it is given up (its messages
/// reach the other nodes late or not at all; clients catch up by seq).
const PUBLISH_TIMEOUT: Duration = Duration::from_millis(500);

type Publish = (String, Vec<u8>);

/// socketioxide's Redis adapter over this driver.
pub type ClusterAdapter<E> = CustomRedisAdapter<E, PubSubDriver>;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

#[derive(Clone, Default)]
pub struct PubSubDriver {
    handlers: Handlers,
    conn: Arc<OnceLock<RedisConn>>,
    outbox: Arc<OnceLock<mpsc::Sender<Publish>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error("redis connection not set up")]
    NotConnected,
}

impl PubSubDriver {
    /// Routes pushed pub/sub messages to the adapter's channel streams.
    pub(super) fn push_sender(
        &self,
    ) -> impl Fn(PushInfo) -> Result<(), redis::aio::SendError> + Send + Sync + 'static {
        let handlers = self.handlers.clone();
        move |push: PushInfo| {
            route(push, &handlers);
            Ok(())
        }
    }

    /// The connection is made after the push sender exists (it is part of
    /// the connection's configuration), so it is set afterwards.
    /// Also starts the publisher task (on the current Tokio runtime).
    pub(super) fn with_conn(self, conn: RedisConn) -> Self {
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        if self.outbox.set(tx).is_ok() {
            tokio::spawn(publisher(conn.clone(), rx));
        }
        let _ = self.conn.set(conn);
        self
    }

    fn conn(&self) -> Result<RedisConn, DriverError> {
        self.conn.get().cloned().ok_or(DriverError::NotConnected)
    }

    /// On a Redis Cluster, subscribes again to every channel this node
    /// listens on, which lands each on its slot's master of the moment.
    /// redis-rs (1.8) moves sharded subscriptions when it refreshes its
    /// whole slot map, but after a master was killed and its replica took
    /// over, this node's subscription stayed behind and cross-node delivery
    /// never resumed (`tests/it/cluster_failover.rs` found it). SSUBSCRIBE
    /// to a channel the connection already has changes nothing, so this
    /// costs one round trip per channel when nothing moved.
    pub(super) async fn renew_subscriptions(&self) -> Result<(), DriverError> {
        let mut conn = self.conn()?;
        if !conn.is_cluster() {
            return Ok(());
        }
        let channels: Vec<String> = self
            .handlers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect();
        for chan in channels {
            conn.subscribe(&chan).await?;
        }
        Ok(())
    }
}

fn route(push: PushInfo, handlers: &Handlers) {
    match push.kind {
        PushKind::Message | PushKind::SMessage if push.data.len() >= 2 => {
            let mut data = push.data.into_iter();
            let (Some(chan), Some(payload)) = (data.next(), data.next()) else {
                return;
            };
            let (Ok(chan), Ok(payload)) = (
                String::from_redis_value(chan),
                Vec::<u8>::from_redis_value(payload),
            ) else {
                tracing::warn!("unreadable pub/sub message from redis");
                return;
            };
            let handlers = handlers.read().unwrap_or_else(|p| p.into_inner());
            if let Some(tx) = handlers.get(&chan)
                && let Err(e) = tx.try_send((chan, payload))
            {
                // The adapter's stream is full: this node misses one
                // broadcast. Clients notice the seq gap and fetch it.
                tracing::warn!(error = %e, "redis adapter channel full: event dropped");
            }
        }
        PushKind::Disconnection => {
            tracing::warn!("redis connection lost; reconnecting at the next command");
        }
        _ => {}
    }
}

/// Sends queued publishes in order, as many as have queued (up to
/// `PUBLISH_BATCH`) in one pipeline per run of one channel, until the
/// driver is dropped.
async fn publisher(mut conn: RedisConn, mut queue: mpsc::Receiver<Publish>) {
    let command = conn.publish_command();
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while queue.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        for run in runs_by_channel(&batch) {
            let mut pipe = redis::pipe();
            for (chan, val) in run {
                pipe.cmd(command).arg(chan).arg(val).ignore();
            }
            match tokio::time::timeout(PUBLISH_TIMEOUT, pipe.query_async::<()>(&mut conn)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "publish to the other nodes failed");
                    crate::metrics::redis_error("broadcast");
                }
                Err(_) => {
                    tracing::warn!("redis slow: publishes to the other nodes given up");
                    crate::metrics::redis_error("broadcast");
                }
            }
        }
        batch.clear();
    }
}

/// Consecutive publishes to one channel, in order: a cluster sends each run
/// to its channel's shard (nearly every publish goes to the adapter's one
/// broadcast channel, so runs stay long).
fn runs_by_channel(batch: &[Publish]) -> impl Iterator<Item = &[Publish]> {
    batch.chunk_by(|a, b| a.0 == b.0)
}

impl Driver for PubSubDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let outbox = self.outbox.get().ok_or(DriverError::NotConnected)?;
        match outbox.try_send((chan, val)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => {
                // Redis has been slow for a while: the other nodes miss
                // this one; this node's sockets still get it.
                crate::metrics::redis_error("publish_dropped");
                Ok(())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => Err(DriverError::NotConnected),
        }
    }

    async fn subscribe(
        &self,
        chan: String,
        size: usize,
    ) -> Result<MessageStream<ChanItem>, Self::Error> {
        let (tx, rx) = mpsc::channel(size);
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chan.clone(), tx);
        self.conn()?.subscribe(&chan).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        self.conn()?.unsubscribe(&chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        Ok(self.conn()?.subscribers(chan).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_keep_the_order_and_split_where_the_channel_changes() {
        let p = |c: &str, v: u8| (c.to_owned(), vec![v]);
        let batch = vec![p("a", 1), p("a", 2), p("b", 3), p("a", 4)];
        let runs: Vec<Vec<u8>> = runs_by_channel(&batch)
            .map(|r| r.iter().map(|(_, v)| v[0]).collect())
            .collect();
        assert_eq!(runs, vec![vec![1, 2], vec![3], vec![4]]);
        assert_eq!(runs_by_channel(&[]).count(), 0);
    }
}
