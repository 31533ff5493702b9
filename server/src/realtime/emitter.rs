//! The one place server code emits Socket.IO events from. REST handlers, the
//! service layer and socket handlers all go through `Emitter`, so swapping the
//! adapter (Redis for several nodes) changes this file only.

use app::model::{ChatId, UserId};
use serde::Serialize;
use socketioxide::SocketIo;
use std::sync::{Arc, OnceLock};

pub fn chat_room(chat: ChatId) -> String {
    format!("chat:{chat}")
}

pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

#[derive(Clone, Default)]
pub struct Emitter {
    // Set once at start-up: the service is built before the Socket.IO layer
    // (whose handlers need the service), so the io handle arrives afterwards.
    io: Arc<OnceLock<SocketIo>>,
}

impl Emitter {
    pub fn attach(&self, io: SocketIo) {
        let _ = self.io.set(io);
    }

    pub fn io(&self) -> Option<&SocketIo> {
        self.io.get()
    }

    async fn emit_to<T: Serialize + ?Sized>(&self, rooms: Vec<String>, event: &str, data: &T) {
        let Some(io) = self.io.get() else { return };
        if rooms.is_empty() {
            return;
        }
        // The data is already durable when we emit: a failed broadcast is
        // logged, and clients close the gap with `afterMessageId` on rejoin.
        if let Err(e) = io.to(rooms).emit(event, data).await {
            tracing::warn!(event, error = %e, "broadcast failed");
        }
    }

    /// To every socket in the chat's room (the sender's own included).
    pub async fn to_chat<T: Serialize + ?Sized>(&self, chat: ChatId, event: &str, data: &T) {
        self.emit_to(vec![chat_room(chat)], event, data).await
    }

    /// To every socket of one user (all their tabs).
    pub async fn to_user<T: Serialize + ?Sized>(&self, user: UserId, event: &str, data: &T) {
        self.emit_to(vec![user_room(user)], event, data).await
    }

    /// To every socket of each user, each socket at most once.
    pub async fn to_users<T: Serialize + ?Sized>(&self, users: &[UserId], event: &str, data: &T) {
        self.emit_to(users.iter().copied().map(user_room).collect(), event, data)
            .await
    }
}
