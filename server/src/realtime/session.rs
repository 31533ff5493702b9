//! Per-socket state, kept in the socket's extensions.

use crate::service::AuthUser;
use app::model::ChatId;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Mutex;
use tokio::sync::Notify;

pub struct SocketSession {
    pub user: AuthUser,
    /// Token expiry (unix seconds): the socket is closed then.
    pub expires_at: i64,
    /// Chats this socket's user was verified to be in. Only positive answers
    /// are cached, so a user added later (the LSM) is let in at once.
    member_of: Mutex<HashSet<ChatId>>,
    /// Chat rooms this socket joined.
    joined: Mutex<HashSet<ChatId>>,
    /// Per chat: a counter bumped at every typing event, so the 5 s expiry
    /// only fires when no newer event came.
    typing: Mutex<HashMap<ChatId, u64>>,
    pub send_limit: DefaultDirectRateLimiter,
    pub typing_limit: DefaultDirectRateLimiter,
    pub closed: Notify,
    /// Whether this socket is counted in `Presence`; see `count_online`.
    presence: Mutex<Counted>,
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
    pub fn new(user: AuthUser, expires_at: i64) -> Self {
        Self {
            user,
            expires_at,
            member_of: Mutex::default(),
            joined: Mutex::default(),
            typing: Mutex::default(),
            // 20 messages a second with bursts of 40: far above any typist,
            // low enough that a runaway client cannot flood a chat.
            send_limit: RateLimiter::direct(per_second(20, 40)),
            typing_limit: RateLimiter::direct(per_second(5, 10)),
            closed: Notify::new(),
            presence: Mutex::new(Counted::Pending),
        }
    }

    /// Runs `count` (the presence increment) unless the socket already
    /// closed; `None` then. The connect and disconnect handlers run in
    /// separate tasks, in either order; this keeps every socket counted at
    /// most once and uncounted only if it was counted.
    pub fn count_online<T>(&self, count: impl FnOnce() -> T) -> Option<T> {
        let mut state = self.presence.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            Counted::Pending => {
                *state = Counted::Yes;
                Some(count())
            }
            Counted::Yes | Counted::Closed => None,
        }
    }

    /// Marks the socket closed and runs `uncount` if it was counted.
    pub fn uncount_online<T>(&self, uncount: impl FnOnce() -> T) -> Option<T> {
        let mut state = self.presence.lock().unwrap_or_else(|p| p.into_inner());
        let was = std::mem::replace(&mut *state, Counted::Closed);
        (was == Counted::Yes).then(uncount)
    }

    pub fn is_member(&self, chat: ChatId) -> bool {
        self.member_of
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&chat)
    }
    pub fn remember_member(&self, chat: ChatId) {
        self.member_of
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chat);
    }

    pub fn joined(&self, chat: ChatId) {
        self.joined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(chat);
    }
    pub fn left(&self, chat: ChatId) -> bool {
        self.joined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&chat)
    }
    pub fn joined_chats(&self) -> Vec<ChatId> {
        self.joined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect()
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
