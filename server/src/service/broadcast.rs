//! What the service needs from the real-time side, defined here so the
//! service never depends on it: deliver an event to a chat's room or to
//! users' sockets, and tell which users are online. `realtime` implements
//! [`EventSink`]; the service holds a [`Broadcaster`] and only emits
//! `contract::protocol` event types through it.

use contract::model::{ChatId, UserId};
use contract::protocol::ServerEvent;
use std::collections::HashSet;
use std::sync::Arc;

/// Who an event is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every socket in the chat's room.
    Chat(ChatId),
    /// Every socket of each user, each socket at most once.
    Users(Vec<UserId>),
}

/// The delivery side of the real-time gateway (object-safe).
#[async_trait::async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Delivers `payload` as event `name`. The data is already durable when
    /// this is called, so a failure is the sink's to log, not to return.
    async fn deliver(&self, to: Audience, name: &'static str, payload: serde_json::Value);

    /// Which of `users` have at least one socket connected (on any node).
    async fn online(&self, users: &[UserId]) -> HashSet<UserId>;

    /// Closes every socket of `user`, on every node (their sessions were
    /// revoked). Best effort: a failure is the sink's to log.
    async fn disconnect_user(&self, user: UserId);

    /// Closes every socket opened with a token of session `session` (a
    /// token's `sid`), on every node (it signed out). Best effort.
    async fn disconnect_session(&self, session: &str);

    /// Takes every socket of `user` out of the chat's room, on every node
    /// (they left the chat). Best effort: a failure is the sink's to log.
    async fn remove_from_chat(&self, user: UserId, chat: ChatId);
}

/// The service's handle on the sink, with typed helpers.
#[derive(Clone)]
pub struct Broadcaster {
    sink: Arc<dyn EventSink>,
}

impl Broadcaster {
    pub fn new(sink: Arc<dyn EventSink>) -> Self {
        Self { sink }
    }

    /// No real-time delivery at all (the CLI, which serves no sockets).
    pub fn disabled() -> Self {
        Self::new(Arc::new(Nowhere))
    }

    async fn send<E: ServerEvent>(&self, to: Audience, event: &E) {
        match serde_json::to_value(event) {
            Ok(payload) => self.sink.deliver(to, E::NAME, payload).await,
            Err(e) => tracing::error!(event = E::NAME, error = %e, "event not serialisable"),
        }
    }

    /// To every socket in the chat's room (the sender's own included).
    pub async fn to_chat<E: ServerEvent>(&self, chat: ChatId, event: &E) {
        self.send(Audience::Chat(chat), event).await
    }

    /// To every socket of one user (all their tabs).
    pub async fn to_user<E: ServerEvent>(&self, user: UserId, event: &E) {
        self.send(Audience::Users(vec![user]), event).await
    }

    /// To every socket of each user, each socket at most once.
    pub async fn to_users<E: ServerEvent>(&self, users: &[UserId], event: &E) {
        if !users.is_empty() {
            self.send(Audience::Users(users.to_vec()), event).await
        }
    }

    pub async fn online(&self, users: &[UserId]) -> HashSet<UserId> {
        self.sink.online(users).await
    }

    /// Closes every socket of `user`, on every node.
    pub async fn disconnect_user(&self, user: UserId) {
        self.sink.disconnect_user(user).await
    }

    /// Closes every socket of one session (a token's `sid`), on every node.
    pub async fn disconnect_session(&self, session: &str) {
        self.sink.disconnect_session(session).await
    }

    /// Takes every socket of `user` out of the chat's room, on every node.
    pub async fn remove_from_chat(&self, user: UserId, chat: ChatId) {
        self.sink.remove_from_chat(user, chat).await
    }
}

struct Nowhere;

#[async_trait::async_trait]
impl EventSink for Nowhere {
    async fn deliver(&self, _: Audience, _: &'static str, _: serde_json::Value) {}
    async fn online(&self, _: &[UserId]) -> HashSet<UserId> {
        HashSet::new()
    }
    async fn disconnect_user(&self, _: UserId) {}
    async fn disconnect_session(&self, _: &str) {}
    async fn remove_from_chat(&self, _: UserId, _: ChatId) {}
}
