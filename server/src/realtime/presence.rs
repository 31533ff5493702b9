//! Who is online, and who is in which chat room, counted per user however
//! many tabs (sockets) they have and on however many nodes.
//!
//! This node keeps its own sockets' facts (`Entry`) in memory. With a
//! cluster, Redis holds every node's facts and answers "first socket of this
//! user" / "last one" across nodes (`cluster::registry`); if Redis fails, the
//! node answers from its own facts, marks itself stale, and the upkeep loop
//! (`upkeep`) writes its facts back once Redis answers again.

use crate::cluster::{Cluster, ClusterError, Entry};
use app::model::{ChatId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Presence {
    local: Mutex<Local>,
    cluster: Option<Cluster>,
    /// Redis missed an update from this node: resync at the next upkeep.
    stale: AtomicBool,
}

#[derive(Default)]
struct Local {
    entries: HashSet<Entry>,
    /// Per kind of fact (a user online / a user in a room), how many of
    /// this node's sockets hold it.
    counts: HashMap<Kind, usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Online(UserId),
    InRoom(ChatId, UserId),
}

fn kind(e: &Entry) -> Kind {
    match e {
        Entry::Online { user, .. } => Kind::Online(*user),
        Entry::InRoom { chat, user, .. } => Kind::InRoom(*chat, *user),
    }
}

impl Presence {
    pub fn new(cluster: Option<Cluster>) -> Self {
        Self {
            local: Mutex::default(),
            cluster,
            // A fresh node writes its (empty) facts once, which also clears
            // nothing: harmless, and it proves Redis answers.
            stale: AtomicBool::new(false),
        }
    }

    pub fn cluster(&self) -> Option<&Cluster> {
        self.cluster.as_ref()
    }

    fn local(&self) -> std::sync::MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a socket's fact; true when it is the user's first of its kind
    /// (first socket anywhere, or first in that room).
    pub async fn enter(&self, entry: Entry) -> bool {
        let locally_first = {
            let mut l = self.local();
            if !l.entries.insert(entry.clone()) {
                return false;
            }
            let n = l.counts.entry(kind(&entry)).or_insert(0);
            *n += 1;
            *n == 1
        };
        match &self.cluster {
            None => locally_first,
            Some(c) => self.or_local(c.enter(&entry).await, locally_first),
        }
    }

    /// Removes a socket's fact; true when it was the user's last of its kind.
    pub async fn leave(&self, entry: Entry) -> bool {
        let locally_last = {
            let mut l = self.local();
            if !l.entries.remove(&entry) {
                return false;
            }
            let k = kind(&entry);
            match l.counts.get_mut(&k) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                _ => {
                    l.counts.remove(&k);
                    true
                }
            }
        };
        match &self.cluster {
            None => locally_last,
            Some(c) => self.or_local(c.leave(&entry).await, locally_last),
        }
    }

    /// Redis's answer, or this node's own when Redis failed (then Redis is
    /// resynced at the next upkeep).
    fn or_local<T>(&self, shared: Result<T, ClusterError>, local: T) -> T {
        shared.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "presence kept on this node only until redis is back");
            crate::metrics::redis_error("presence");
            self.stale.store(true, Ordering::Relaxed);
            local
        })
    }

    /// Which of `users` are online (on any node).
    pub async fn online(&self, users: &[UserId]) -> HashSet<UserId> {
        if let Some(c) = &self.cluster {
            match c.online(users).await {
                Ok(found) => return found,
                Err(e) => {
                    tracing::warn!(error = %e, "online flags from this node only");
                    crate::metrics::redis_error("presence");
                    self.stale.store(true, Ordering::Relaxed);
                }
            }
        }
        let l = self.local();
        users
            .iter()
            .copied()
            .filter(|u| l.counts.contains_key(&Kind::Online(*u)))
            .collect()
    }

    /// This node's facts, for a resync.
    pub fn snapshot(&self) -> Vec<Entry> {
        self.local().entries.iter().cloned().collect()
    }

    /// Whether Redis may be missing updates (and clears the flag).
    pub fn take_stale(&self) -> bool {
        self.stale.swap(false, Ordering::Relaxed)
    }

    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(user: UserId, sid: &str) -> Entry {
        Entry::Online {
            user,
            sid: sid.into(),
        }
    }

    #[tokio::test]
    async fn two_tabs_count_once() {
        let p = Presence::new(None);
        assert!(p.enter(on(1, "a")).await);
        assert!(!p.enter(on(1, "b")).await);
        assert!(!p.enter(on(1, "b")).await, "the same socket twice");
        assert!(!p.leave(on(1, "a")).await);
        assert_eq!(p.online(&[1, 2]).await, HashSet::from([1]));
        assert!(p.leave(on(1, "b")).await);
        assert!(p.online(&[1]).await.is_empty());
        assert!(!p.leave(on(1, "b")).await, "already gone");
    }

    #[tokio::test]
    async fn rooms_count_per_user_and_chat() {
        let p = Presence::new(None);
        let room = |chat, user, sid: &str| Entry::InRoom {
            chat,
            user,
            sid: sid.into(),
        };
        assert!(p.enter(room(5, 1, "a")).await);
        assert!(p.enter(room(6, 1, "a")).await, "another chat");
        assert!(p.enter(room(5, 2, "c")).await, "another user");
        assert!(!p.enter(room(5, 1, "b")).await, "a second tab");
        assert!(!p.leave(room(5, 1, "a")).await);
        assert!(p.leave(room(5, 1, "b")).await);
        assert_eq!(p.snapshot().len(), 2);
    }
}
