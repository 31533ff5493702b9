//! The pub/sub driver under socketioxide's Redis adapter. socketioxide-redis
//! ships one over a plain `MultiplexedConnection`, which never reconnects:
//! after a Redis restart a node would stay deaf to the others for good. This
//! one runs the same protocol over the cluster's `ConnectionManager`, which
//! reconnects and resubscribes by itself.
//!
//! Publishing never holds anyone up. The adapter awaits `publish` before it
//! delivers a broadcast to this node's own sockets, so a Redis that is slow
//! (not down) used to delay local delivery by a response timeout per
//! message, and the fan-out behind it by minutes. Here `publish` only
//! queues (bounded, `PUBLISH_QUEUE`); one task sends what has queued as a
//! pipeline, in order, each pipeline given up after `PUBLISH_TIMEOUT`. What
//! is dropped (queue full, pipeline given up) only misses the other nodes:
//! their clients close the gap by seq.

use redis::{FromRedisValue, PushInfo, PushKind, aio::ConnectionManager};
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
    conn: Arc<OnceLock<ConnectionManager>>,
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
    pub(super) fn with_conn(self, conn: ConnectionManager) -> Self {
        let (tx, rx) = mpsc::channel(PUBLISH_QUEUE);
        if self.outbox.set(tx).is_ok() {
            tokio::spawn(publisher(conn.clone(), rx));
        }
        let _ = self.conn.set(conn);
        self
    }

    fn conn(&self) -> Result<ConnectionManager, DriverError> {
        self.conn.get().cloned().ok_or(DriverError::NotConnected)
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
/// `PUBLISH_BATCH`) in one pipeline, until the driver is dropped.
async fn publisher(mut conn: ConnectionManager, mut queue: mpsc::Receiver<Publish>) {
    let mut batch = Vec::with_capacity(PUBLISH_BATCH);
    while queue.recv_many(&mut batch, PUBLISH_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for (chan, val) in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(chan).arg(val).ignore();
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
        self.conn()?.subscribe(chan.as_str()).await?;
        Ok(MessageStream::new(rx))
    }

    async fn unsubscribe(&self, chan: String) -> Result<(), Self::Error> {
        self.handlers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chan);
        self.conn()?.unsubscribe(chan).await?;
        Ok(())
    }

    async fn num_serv(&self, chan: &str) -> Result<u16, Self::Error> {
        let mut conn = self.conn()?;
        let (_, count): (String, u16) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(chan)
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }
}
