//! Per-socket state, kept in the socket's extensions.

use super::presence::Presence;
use crate::cluster::Entry;
use crate::service::AuthUser;
use contract::model::{ChatId, UserId};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

pub struct SocketSession {
    pub user: AuthUser,
    /// Token expiry (unix seconds): the socket is closed then.
    pub expires_at: i64,
    /// The token's version: once the account's moves on (revocation), the
    /// socket is closed.
    pub token_version: i64,
    /// The token's session (`sid` claim): once it is signed out, the
    /// socket is closed.
    pub session_id: String,
    /// The socket's id, as presence entries name it.
    sid: String,
    /// Chat rooms this socket joined (read without waiting; written only
    /// under `registry`).
    joined: Mutex<HashSet<ChatId>>,
    /// Per chat: a counter bumped at every typing event, so the 5 s expiry
    /// only fires when no newer event came.
    typing: Mutex<HashMap<ChatId, u64>>,
    pub send_limit: DefaultDirectRateLimiter,
    pub typing_limit: DefaultDirectRateLimiter,
    pub closed: Notify,
    /// This socket's place in its user's quota of sockets; given back on
    /// disconnect (or when the session is dropped, whichever comes first).
    slot: Mutex<Option<SocketSlot>>,
    /// Whether this socket is counted in `Presence`. Held across the
    /// presence calls (which may wait for Redis) so that one socket's
    /// connect, joins, leaves and disconnect reach the registry in order
    /// even though socketioxide runs them in separate tasks.
    registry: tokio::sync::Mutex<Counted>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Counted {
    /// Connected, the connect handler has not run yet.
    Pending,
    Yes,
    /// Disconnected: never to be counted (again).
    Closed,
}

fn per_second(n: u32, burst: u32) -> Quota {
    Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

impl SocketSession {
    /// `send_per_sec`: `JOBCHAT_SEND_LIMIT_PER_SEC`.
    pub fn new(
        user: AuthUser,
        claims: &crate::auth::Claims,
        sid: String,
        send_per_sec: u32,
        slot: SocketSlot,
    ) -> Self {
        Self {
            user,
            expires_at: claims.exp,
            token_version: claims.ver,
            session_id: claims.sid.clone(),
            sid,
            joined: Mutex::default(),
            typing: Mutex::default(),
            // 20 messages a second with bursts of 40 by default: far above
            // any typist, low enough that a runaway client cannot flood a
            // chat. Benchmarks lift it.
            send_limit: RateLimiter::direct(per_second(
                send_per_sec,
                send_per_sec.saturating_mul(2),
            )),
            typing_limit: RateLimiter::direct(per_second(5, 10)),
            closed: Notify::new(),
            slot: Mutex::new(Some(slot)),
            registry: tokio::sync::Mutex::new(Counted::Pending),
        }
    }

    /// Counts the socket online unless it already closed (the connect and
    /// disconnect handlers run in separate tasks, in either order). `None`
    /// when it was not counted, else whether the user just came online.
    pub async fn come_online(&self, presence: &Presence) -> Option<bool> {
        let mut state = self.registry.lock().await;
        if *state != Counted::Pending {
            return None;
        }
        *state = Counted::Yes;
        Some(presence.enter(self.online_entry()).await)
    }

    /// Puts the socket in a chat's room. `None` when it already was (or has
    /// closed), else whether it is the user's first socket there.
    pub async fn enter_room(&self, presence: &Presence, chat: ChatId) -> Option<bool> {
        let state = self.registry.lock().await;
        if *state == Counted::Closed || !self.lock_joined().insert(chat) {
            return None;
        }
        let first = presence.enter(self.room_entry(chat)).await;
        drop(state);
        Some(first)
    }

    /// Takes the socket out of a chat's room. `None` when it was not in it,
    /// else whether it was the user's last socket there.
    pub async fn leave_room(&self, presence: &Presence, chat: ChatId) -> Option<bool> {
        let state = self.registry.lock().await;
        if !self.lock_joined().remove(&chat) {
            return None;
        }
        let last = presence.leave(self.room_entry(chat)).await;
        drop(state);
        Some(last)
    }

    /// The socket closed: out of every room and uncounted. Returns whether
    /// it had been counted, the chats where it was the user's last socket,
    /// and whether the user went offline.
    pub async fn go_offline(&self, presence: &Presence) -> (bool, Vec<ChatId>, bool) {
        let mut state = self.registry.lock().await;
        let was = std::mem::replace(&mut *state, Counted::Closed);
        let chats: Vec<ChatId> = self.lock_joined().drain().collect();
        let mut emptied = Vec::new();
        for chat in chats {
            if presence.leave(self.room_entry(chat)).await {
                emptied.push(chat);
            }
        }
        let counted = was == Counted::Yes;
        let offline = counted && presence.leave(self.online_entry()).await;
        (counted, emptied, offline)
    }

    /// Gives the socket's place in the user's quota back.
    pub fn release_slot(&self) {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    fn online_entry(&self) -> Entry {
        Entry::Online {
            user: self.user.id,
            sid: self.sid.clone(),
        }
    }

    fn room_entry(&self, chat: ChatId) -> Entry {
        Entry::InRoom {
            chat,
            user: self.user.id,
            sid: self.sid.clone(),
        }
    }

    fn lock_joined(&self) -> std::sync::MutexGuard<'_, HashSet<ChatId>> {
        self.joined.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn is_in(&self, chat: ChatId) -> bool {
        self.joined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&chat)
    }

    /// Records a typing event; returns its generation.
    pub fn typing_started(&self, chat: ChatId) -> u64 {
        let mut t = self.typing.lock().unwrap_or_else(|p| p.into_inner());
        let g = t.entry(chat).or_insert(0);
        *g += 1;
        *g
    }
    /// Clears the typing flag if `generation` is still the latest (or any when
    /// `None`); true when it was set.
    pub fn typing_stopped(&self, chat: ChatId, generation: Option<u64>) -> bool {
        let mut t = self.typing.lock().unwrap_or_else(|p| p.into_inner());
        match (t.get(&chat), generation) {
            (Some(g), Some(want)) if *g != want => false,
            (Some(_), _) => {
                t.remove(&chat);
                true
            }
            (None, _) => false,
        }
    }
    pub fn typing_chats(&self) -> Vec<ChatId> {
        self.typing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect()
    }
}

/// Open sockets per user on this node, at most `max` each: one user's
/// runaway tabs or script cannot take every descriptor of the node.
pub struct SocketCounts {
    max: u32,
    by_user: Mutex<HashMap<UserId, u32>>,
}

/// One socket's place in its user's quota; dropping it gives the place back.
pub struct SocketSlot {
    counts: Arc<SocketCounts>,
    user: UserId,
}

impl SocketCounts {
    pub fn new(max: u32) -> Arc<Self> {
        Arc::new(Self {
            max: max.max(1),
            by_user: Mutex::default(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, u32>> {
        self.by_user.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more of `user`'s sockets, `None` when they have `max`.
    pub fn take(self: &Arc<Self>, user: UserId) -> Option<SocketSlot> {
        let mut by_user = self.lock();
        let n = by_user.entry(user).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(SocketSlot {
            counts: self.clone(),
            user,
        })
    }

    /// `user`'s open sockets on this node.
    #[cfg(test)]
    fn of(&self, user: UserId) -> u32 {
        self.lock().get(&user).copied().unwrap_or(0)
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut by_user = self.counts.lock();
        if let Some(n) = by_user.get_mut(&self.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                by_user.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_max_slots_and_gets_them_back() {
        let counts = SocketCounts::new(2);
        let a = counts.take(1).expect("first");
        let _b = counts.take(1).expect("second");
        assert!(counts.take(1).is_none(), "third refused");
        assert!(counts.take(2).is_some(), "another user is counted apart");
        drop(a);
        assert_eq!(counts.of(1), 1);
        let _c = counts.take(1).expect("a place came free");
        assert!(counts.take(1).is_none());
    }
}
