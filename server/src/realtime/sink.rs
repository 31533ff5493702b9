//! The gateway's side of `service::EventSink`: the service announces what
//! happened (a stored message, a dispute, presence) and this delivers it to
//! Socket.IO rooms, through whichever adapter the gateway runs on (in-memory
//! for one node, Redis for several). It also answers "who is online" from
//! `Presence`, which the connection handlers keep.

use super::in_flight::{InFlight, InFlightGuard};
use super::presence::Presence;
use super::session::SocketSession;
use crate::cluster::Cluster;
use crate::service::{Audience, EventSink};
use contract::model::{ChatId, UserId};
use contract::protocol::{ChatUser, NewMessage, Resync, ServerEvent, UserLeft};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::socket::Sid;
use socketioxide::{BroadcastError, SocketError};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub fn chat_room(chat: ChatId) -> String {
    format!("chat:{chat}")
}

pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

/// The room of every socket opened with a token of session `session` (a
/// token's `sid`), closed when that session signs out.
pub fn session_room(session: &str) -> String {
    format!("session:{session}")
}

/// Room emits over a `SocketIo` of any adapter (object-safe, so the sink
/// and the service do not depend on which one).
#[async_trait::async_trait]
pub(super) trait Rooms: Send + Sync {
    async fn emit(&self, rooms: Vec<String>, name: &'static str, payload: &Value);
    /// Closes every socket of this node (shutdown); returns their ids.
    async fn close_local(&self) -> Vec<Sid>;
    /// Whether this node still holds socket `sid` (a closed socket is
    /// dropped once its disconnect handler has run).
    fn holds(&self, sid: Sid) -> bool;
    /// Closes every socket in `room`, on every node.
    async fn disconnect_room(&self, room: String);
    /// Takes every socket in `room` out of room `leave`, on every node.
    async fn leave_everywhere(&self, room: String, leave: String);
    /// This node's sockets that passed the handshake, with their sessions.
    fn local_sessions(&self) -> Vec<(Sid, Arc<SocketSession>)>;
    /// Closes one of this node's sockets.
    fn disconnect_local(&self, sid: Sid);
    /// The chats whose rooms one of this node's sockets is in.
    fn chat_rooms_of(&self, sid: Sid) -> Vec<ChatId>;
    /// Takes one of this node's sockets out of `room` and sends it one
    /// event (what happened).
    fn leave_local(&self, sid: Sid, room: String, name: &'static str, payload: &Value);
}

#[async_trait::async_trait]
impl<A: Adapter> Rooms for SocketIo<A> {
    async fn emit(&self, rooms: Vec<String>, name: &'static str, payload: &Value) {
        // The data is already durable when we emit. If the other nodes
        // cannot be reached (Redis down), this node's own sockets still get
        // it; the others' clients close the gap by seq.
        match self.to(rooms.clone()).emit(name, payload).await {
            Ok(()) => {}
            // Some of this node's sockets could not take it (the others
            // got it: never re-emit to the room, that would double it).
            Err(BroadcastError::Socket(errors)) => {
                if errors
                    .iter()
                    .any(|e| matches!(e, SocketError::InternalChannelFull))
                {
                    resync_full_sockets(self, rooms, name);
                }
            }
            Err(e) => {
                tracing::warn!(event = name, error = %e, "broadcast to other nodes failed; delivering locally");
                crate::metrics::redis_error("broadcast");
                if let Err(BroadcastError::Socket(errors)) =
                    self.local().to(rooms.clone()).emit(name, payload).await
                    && errors
                        .iter()
                        .any(|e| matches!(e, SocketError::InternalChannelFull))
                {
                    resync_full_sockets(self, rooms, name);
                }
            }
        }
    }

    async fn close_local(&self) -> Vec<Sid> {
        let mut closed = Vec::new();
        for socket in self.local().sockets() {
            closed.push(socket.id);
            let _ = socket.disconnect();
        }
        closed
    }

    fn holds(&self, sid: Sid) -> bool {
        self.get_socket(sid).is_some()
    }

    async fn disconnect_room(&self, room: String) {
        // Through the adapter, so every node closes its own sockets in the
        // room. If the others cannot be reached, this node still closes
        // its own; the others' revocation sweep closes theirs.
        if let Err(e) = self.to(room.clone()).disconnect().await {
            tracing::warn!(%room, error = %e, "disconnect on other nodes failed; closing this node's sockets");
            crate::metrics::redis_error("disconnect");
            if let Err(e) = self.local().to(room).disconnect().await {
                tracing::warn!(error = %e, "local disconnect failed");
            }
        }
    }

    async fn leave_everywhere(&self, room: String, leave: String) {
        if let Err(e) = self.to(room.clone()).leave(leave.clone()).await {
            tracing::warn!(%room, error = %e, "leaving on other nodes failed; leaving on this node");
            crate::metrics::redis_error("leave");
            if let Err(e) = self.local().to(room).leave(leave).await {
                tracing::warn!(error = %e, "local leave failed");
            }
        }
    }

    fn local_sessions(&self) -> Vec<(Sid, Arc<SocketSession>)> {
        self.local()
            .sockets()
            .into_iter()
            .filter_map(|s| {
                s.extensions
                    .get::<Arc<SocketSession>>()
                    .map(|sess| (s.id, sess))
            })
            .collect()
    }

    fn disconnect_local(&self, sid: Sid) {
        if let Some(socket) = self.get_socket(sid) {
            let _ = socket.disconnect();
        }
    }

    fn chat_rooms_of(&self, sid: Sid) -> Vec<ChatId> {
        self.get_socket(sid)
            .map(|s| {
                s.rooms()
                    .iter()
                    .filter_map(|r| r.strip_prefix("chat:")?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn leave_local(&self, sid: Sid, room: String, name: &'static str, payload: &Value) {
        if let Some(socket) = self.get_socket(sid) {
            socket.leave(room);
            let _ = socket.emit(name, payload);
        }
    }
}

/// A broadcast found sockets of this node with a full send buffer (a slow
/// or stuck client), and the event was dropped for them. No silent gaps:
/// every local socket in those rooms is told to `resync` (it reloads and
/// fetches by seq); one that cannot take even that is disconnected, and its
/// client catches up when it reconnects. Which sockets missed the event is
/// not reported, so the others resync too (cheap, and rare).
fn resync_full_sockets<A: Adapter>(io: &SocketIo<A>, rooms: Vec<String>, name: &'static str) {
    let mut resynced = 0;
    let mut closed = 0;
    for socket in io.local().within(rooms).sockets() {
        match socket.emit(Resync::NAME, &Resync {}) {
            Ok(()) => resynced += 1,
            Err(_) => {
                closed += 1;
                let _ = socket.disconnect();
            }
        }
    }
    crate::metrics::slow_sockets(closed);
    tracing::warn!(
        event = name,
        resynced,
        closed,
        "a socket's send buffer was full: dropped event made good"
    );
}

pub struct SocketSink {
    // Set once at start-up: the service (given this sink) is built before
    // the Socket.IO layer, whose handlers need the service.
    rooms: OnceLock<Arc<dyn Rooms>>,
    presence: Arc<Presence>,
    /// Offline announcements waiting out their grace (shutdown waits).
    in_flight: Arc<InFlight>,
    /// `JOBCHAT_FAULT_DROP_EVERY` (tests only): drop the `new_message` of
    /// every message whose seq is a multiple of N.
    drop_every: Option<u64>,
}

impl SocketSink {
    pub fn new(cluster: Option<Cluster>, drop_every: Option<u64>) -> Arc<Self> {
        Arc::new(Self {
            rooms: OnceLock::new(),
            presence: Arc::new(Presence::new(cluster)),
            in_flight: Arc::default(),
            drop_every,
        })
    }

    /// The injected fault: whether this `new_message` is to be lost. By
    /// the message's seq, not by a count of broadcasts, so which messages
    /// are lost does not depend on what else was broadcast first (start-up
    /// seeding raced the first tests' counts).
    fn dropped(&self, name: &str, payload: &Value) -> bool {
        let Some(every) = self.drop_every else {
            return false;
        };
        name == NewMessage::NAME
            && payload["seq"]
                .as_u64()
                .is_some_and(|seq| seq.is_multiple_of(every))
    }

    pub(super) fn attach(&self, rooms: Arc<dyn Rooms>) {
        let _ = self.rooms.set(rooms);
    }

    pub fn presence(&self) -> &Arc<Presence> {
        &self.presence
    }

    /// Closes this node's sockets (their clients reconnect elsewhere);
    /// returns their ids, for `drained`.
    pub async fn close_local(&self) -> Vec<Sid> {
        match self.rooms.get() {
            Some(rooms) => rooms.close_local().await,
            None => Vec::new(),
        }
    }

    /// Marks work that shutdown must wait for (see `drained`).
    pub(super) fn in_flight(&self) -> InFlightGuard {
        self.in_flight.enter()
    }

    /// Waits, for at most `bound`, until each of the `closed` sockets has
    /// run its disconnect handler (socketioxide drops a socket only after
    /// it) and every offline announcement pending was made, so presence
    /// reaches the others before the pool and Redis close. Sockets that
    /// connected since (clients reconnecting at once) are not waited for.
    /// False when the bound passed first.
    pub async fn drained(&self, closed: &[Sid], bound: Duration) -> bool {
        let handled = || match self.rooms.get() {
            Some(rooms) => closed.iter().all(|sid| !rooms.holds(*sid)),
            None => true,
        };
        tokio::time::timeout(bound, self.in_flight.wait_idle(handled))
            .await
            .is_ok()
    }

    /// This node's authenticated sockets with their sessions.
    pub(super) fn local_sessions(&self) -> Vec<(Sid, Arc<SocketSession>)> {
        self.rooms
            .get()
            .map(|rooms| rooms.local_sessions())
            .unwrap_or_default()
    }

    /// Closes one of this node's sockets.
    pub(super) fn disconnect_local(&self, sid: Sid) {
        if let Some(rooms) = self.rooms.get() {
            rooms.disconnect_local(sid);
        }
    }

    /// The chats whose rooms one of this node's sockets is in.
    pub(super) fn chat_rooms_of(&self, sid: Sid) -> Vec<ChatId> {
        self.rooms
            .get()
            .map(|rooms| rooms.chat_rooms_of(sid))
            .unwrap_or_default()
    }

    /// Takes one of this node's sockets out of a chat whose user is no
    /// longer in it, and tells that socket (`user_left` naming its own
    /// user: its client shows the chat as left).
    pub(super) async fn evict(&self, sid: Sid, sess: &SocketSession, chat: ChatId) {
        if let Some(rooms) = self.rooms.get() {
            let left = UserLeft {
                chat_id: chat,
                user: ChatUser {
                    id: sess.user.id,
                    name: sess.user.name.clone(),
                    role: sess.user.role,
                },
            };
            match serde_json::to_value(&left) {
                Ok(payload) => rooms.leave_local(sid, chat_room(chat), UserLeft::NAME, &payload),
                Err(e) => tracing::error!(error = %e, "user_left not encoded"),
            }
        }
        let _ = sess.leave_room(&self.presence, chat).await;
    }
}

#[async_trait::async_trait]
impl EventSink for SocketSink {
    async fn deliver(&self, to: Audience, name: &'static str, payload: Value) {
        let Some(rooms) = self.rooms.get() else {
            return;
        };
        if self.dropped(name, &payload) {
            tracing::warn!(event = name, "fault injection: broadcast dropped");
            return;
        }
        let names = match to {
            Audience::Chat(chat) => vec![chat_room(chat)],
            Audience::Users(users) => users.into_iter().map(user_room).collect(),
        };
        if !names.is_empty() {
            rooms.emit(names, name, &payload).await;
        }
    }

    async fn online(&self, users: &[UserId]) -> HashSet<UserId> {
        self.presence.online(users).await
    }

    async fn disconnect_user(&self, user: UserId) {
        if let Some(rooms) = self.rooms.get() {
            rooms.disconnect_room(user_room(user)).await;
        }
    }

    async fn disconnect_session(&self, session: &str) {
        if let Some(rooms) = self.rooms.get() {
            rooms.disconnect_room(session_room(session)).await;
        }
    }

    async fn remove_from_chat(&self, user: UserId, chat: ChatId) {
        if let Some(rooms) = self.rooms.get() {
            rooms
                .leave_everywhere(user_room(user), chat_room(chat))
                .await;
        }
    }
}
