//! The cluster's upkeep, every few seconds on every node: renew this node's
//! heartbeat (and, on a Redis Cluster, its pub/sub subscriptions), write its presence facts back if Redis missed some (it was
//! down or restarted empty), and reap nodes that died without a goodbye,
//! announcing whoever that took offline or out of a room.

use super::sink::SocketSink;
use crate::cluster::{Cluster, Departed, Entry, HEARTBEAT_EVERY};
use crate::service::{EventSink, Service};
use contract::model::{ChatId, UserId};
use contract::protocol::{ChatUser, ServerEvent, UserJoined, UserLeft};
use std::sync::Arc;

pub fn start(cluster: Cluster, service: Service, sink: Arc<SocketSink>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            round(&cluster, &service, &sink).await;
        }
    });
}

async fn round(cluster: &Cluster, service: &Service, sink: &SocketSink) {
    let presence = sink.presence();
    match cluster.heartbeat().await {
        Ok(true) => {}
        // Redis no longer knew this node (restarted empty, or the first
        // beat): whatever it held of this node may be gone.
        Ok(false) => presence.mark_stale(),
        Err(e) => {
            tracing::warn!(error = %e, "heartbeat not renewed; redis unreachable");
            crate::metrics::redis_error("heartbeat");
            presence.mark_stale();
            return;
        }
    }
    if let Err(e) = cluster.renew_subscriptions().await {
        tracing::warn!(error = %e, "pub/sub subscriptions not renewed");
        crate::metrics::redis_error("subscribe");
    }
    if presence.take_stale() {
        match cluster.resync(&presence.snapshot()).await {
            Ok((departed, arrived)) => {
                tracing::info!(
                    departed = departed.len(),
                    arrived = arrived.len(),
                    "presence written back to redis"
                );
                for d in departed {
                    announce_departure(service, sink, d).await;
                }
                for e in arrived {
                    announce_arrival(service, sink, e).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "presence resync failed; retrying");
                presence.mark_stale();
            }
        }
    }
    match cluster.reap().await {
        Ok(departed) => {
            for d in departed {
                announce_departure(service, sink, d).await;
            }
        }
        Err(e) => tracing::warn!(error = %e, "reaping dead nodes failed"),
    }
}

async fn chat_user(service: &Service, user: UserId) -> Option<ChatUser> {
    match service.user(user).await {
        Ok(Some(u)) => Some(ChatUser {
            id: u.id,
            name: u.name,
            role: u.role,
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::warn!(user_id = user, error = %e, "user not announced");
            None
        }
    }
}

async fn to_chat<E: ServerEvent>(sink: &SocketSink, chat: ChatId, event: &E) {
    if let Ok(payload) = serde_json::to_value(event) {
        sink.deliver(crate::service::Audience::Chat(chat), E::NAME, payload)
            .await;
    }
}

async fn announce_departure(service: &Service, sink: &SocketSink, d: Departed) {
    match d {
        Departed::Offline(user) => {
            service
                .announce_presence(user, false, Some(chrono::Utc::now()))
                .await
        }
        Departed::LeftRoom { chat, user } => {
            if let Some(user) = chat_user(service, user).await {
                to_chat(
                    sink,
                    chat,
                    &UserLeft {
                        chat_id: chat,
                        user,
                    },
                )
                .await;
            }
        }
    }
}

async fn announce_arrival(service: &Service, sink: &SocketSink, e: Entry) {
    match e {
        Entry::Online { user, .. } => service.announce_presence(user, true, None).await,
        Entry::InRoom { chat, user, .. } => {
            if let Some(user) = chat_user(service, user).await {
                to_chat(
                    sink,
                    chat,
                    &UserJoined {
                        chat_id: chat,
                        user,
                    },
                )
                .await;
            }
        }
    }
}
