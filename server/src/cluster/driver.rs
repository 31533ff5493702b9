//! The pub/sub driver under socketioxide's Redis adapter. socketioxide-redis
//! ships one over a plain `MultiplexedConnection`, which never reconnects:
//! after a Redis restart a node would stay deaf to the others for good. This
//! one runs the same protocol over the cluster's `ConnectionManager`, which
//! reconnects and resubscribes by itself.

use redis::{FromRedisValue, PushInfo, PushKind, aio::ConnectionManager};
use socketioxide_redis::CustomRedisAdapter;
use socketioxide_redis::drivers::{ChanItem, Driver, MessageStream};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};
use tokio::sync::mpsc;

/// socketioxide's Redis adapter over this driver.
pub type ClusterAdapter<E> = CustomRedisAdapter<E, PubSubDriver>;

type Handlers = Arc<RwLock<HashMap<String, mpsc::Sender<ChanItem>>>>;

#[derive(Clone, Default)]
pub struct PubSubDriver {
    handlers: Handlers,
    conn: Arc<OnceLock<ConnectionManager>>,
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
    pub(super) fn with_conn(self, conn: ConnectionManager) -> Self {
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

impl Driver for PubSubDriver {
    type Error = DriverError;

    async fn publish(&self, chan: String, val: Vec<u8>) -> Result<(), Self::Error> {
        let mut conn = self.conn()?;
        let _: redis::Value = redis::cmd("PUBLISH")
            .arg(chan)
            .arg(val)
            .query_async(&mut conn)
            .await?;
        Ok(())
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
