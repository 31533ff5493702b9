//! Who is online, and who is in which chat room, counted per user however
//! many tabs (sockets) they have and on however many nodes.
//!
//! This node keeps its own sockets' facts (`Entry`) in memory. With a
//! cluster, Redis holds every node's facts and answers "first socket of this
//! user" / "last one" across nodes (`cluster::registry`); if Redis fails, the
//! node answers from its own facts, marks itself stale, and the upkeep loop
//! (`upkeep`) writes its facts back once Redis answers again.

use crate::cluster::{Cluster, ClusterError, Entry};
use contract::model::{ChatId, UserId};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How long after a user's last socket closed their contacts hear that
/// they went offline. A reloading tab, or one whose connection dropped for
/// a moment, is back within a second or two: without the grace each time
/// would flap "offline" then "online" to every contact. Short, so someone
/// who really left shows offline soon; well under the shutdown's wait for
/// disconnect handlers (`SocketSink::drained`), so a node that stops still
/// announces its users' departures.
pub const OFFLINE_GRACE: Duration = Duration::from_secs(3);

/// How long a pending departure's mark lives in Redis: past the grace, so
/// it is there when the grace ends; bounded, so a node that died while
/// waiting leaves nothing behind for long.
const LEAVING_TTL: Duration = Duration::from_secs(60);

pub struct Presence {
    local: Mutex<Local>,
    cluster: Option<Cluster>,
    /// Redis missed an update from this node: resync at the next upkeep.
    stale: AtomicBool,
    /// One node alone: users whose departure is pending, with its mark
    /// (with a cluster, Redis holds them: see `cluster::leaving`).
    leaving: Mutex<HashMap<UserId, u64>>,
    next_mark: AtomicU64,
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
            leaving: Mutex::default(),
            next_mark: AtomicU64::new(1),
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

    fn lock_leaving(&self) -> std::sync::MutexGuard<'_, HashMap<UserId, u64>> {
        self.leaving.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Redis's name of this node's departure `mark`.
    fn mark_text(cluster: &Cluster, mark: u64) -> String {
        format!("{}:{mark}", cluster.node())
    }

    /// `user`'s last socket closed: their departure is pending for
    /// [`OFFLINE_GRACE`]. The mark to finish it with, or `None` when it
    /// cannot be recorded (Redis failed): then announce it at once.
    pub async fn start_leaving(&self, user: UserId) -> Option<u64> {
        let mark = self.next_mark.fetch_add(1, Ordering::Relaxed);
        match &self.cluster {
            None => {
                self.lock_leaving().insert(user, mark);
                Some(mark)
            }
            Some(c) => match c
                .start_leaving(user, &Self::mark_text(c, mark), LEAVING_TTL)
                .await
            {
                Ok(()) => Some(mark),
                Err(e) => {
                    tracing::warn!(error = %e, "departure announced without its grace");
                    crate::metrics::redis_error("presence");
                    None
                }
            },
        }
    }

    /// The grace is over: true when departure `mark` is still pending (no
    /// socket of the user connected meanwhile, on any node), and it is
    /// now done. If Redis cannot say, true: better an offline too many
    /// than a user shown online for good.
    pub async fn finish_leaving(&self, user: UserId, mark: u64) -> bool {
        match &self.cluster {
            None => {
                let mut leaving = self.lock_leaving();
                let mine = leaving.get(&user) == Some(&mark);
                if mine {
                    leaving.remove(&user);
                }
                mine
            }
            Some(c) => c
                .finish_leaving(user, &Self::mark_text(c, mark))
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "pending departure not checked");
                    crate::metrics::redis_error("presence");
                    true
                }),
        }
    }

    /// A socket of `user` came online: true when it cancelled a pending
    /// departure, so the others, who never heard them go, need not hear
    /// them come back either.
    pub async fn cancel_leaving(&self, user: UserId) -> bool {
        match &self.cluster {
            None => self.lock_leaving().remove(&user).is_some(),
            Some(c) => c.cancel_leaving(user).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "pending departure not cancelled");
                crate::metrics::redis_error("presence");
                false
            }),
        }
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
    async fn a_departure_is_cancelled_by_a_return_within_the_grace() {
        let p = Presence::new(None);
        // Left, came back: neither the offline nor the online is told.
        let mark = p.start_leaving(1).await.expect("recorded");
        assert!(p.cancel_leaving(1).await);
        assert!(!p.finish_leaving(1, mark).await);
        // Left and stayed away: the offline is told, once.
        let mark = p.start_leaving(1).await.expect("recorded");
        assert!(p.finish_leaving(1, mark).await);
        assert!(!p.finish_leaving(1, mark).await);
        assert!(
            !p.cancel_leaving(1).await,
            "nothing pending: the online is told"
        );
        // Left twice: only the later departure's grace counts.
        let first = p.start_leaving(2).await.expect("recorded");
        let second = p.start_leaving(2).await.expect("recorded");
        assert!(!p.finish_leaving(2, first).await);
        assert!(p.finish_leaving(2, second).await);
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
