//! The gateway's side of `service::EventSink`: the service announces what
//! happened (a stored message, a dispute, presence) and this delivers it to
//! Socket.IO rooms, so swapping the adapter (Redis for several nodes)
//! changes this file only. It also answers "is this user online" from
//! `Presence`, which the connection handlers keep.

use super::presence::Presence;
use crate::service::{Audience, EventSink};
use app::model::{ChatId, UserId};
use socketioxide::SocketIo;
use std::sync::{Arc, OnceLock};

pub fn chat_room(chat: ChatId) -> String {
    format!("chat:{chat}")
}

pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

#[derive(Default)]
pub struct SocketSink {
    // Set once at start-up: the service (given this sink) is built before
    // the Socket.IO layer, whose handlers need the service.
    io: OnceLock<SocketIo>,
    presence: Arc<Presence>,
}

impl SocketSink {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub(super) fn attach(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }

    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }
}

#[async_trait::async_trait]
impl EventSink for SocketSink {
    async fn deliver(&self, to: Audience, name: &'static str, payload: serde_json::Value) {
        let Some(io) = self.io.get() else { return };
        let rooms = match to {
            Audience::Chat(chat) => vec![chat_room(chat)],
            Audience::Users(users) => users.into_iter().map(user_room).collect(),
        };
        if rooms.is_empty() {
            return;
        }
        // The data is already durable when we emit: a failed broadcast is
        // logged, and clients close the gap with `afterMessageId` on rejoin.
        if let Err(e) = io.to(rooms).emit(name, &payload).await {
            tracing::warn!(event = name, error = %e, "broadcast failed");
        }
    }

    fn is_online(&self, user: UserId) -> bool {
        self.presence.is_online(user)
    }
}
