//! Who is online: a user is online while at least one of their sockets is
//! connected, however many tabs they have open.

use app::model::UserId;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
pub struct Presence {
    inner: Mutex<State>,
}

#[derive(Default)]
struct State {
    sockets: HashMap<UserId, usize>,
    last_seen: HashMap<UserId, DateTime<Utc>>,
}

impl Presence {
    /// Counts a new socket; true when the user just came online.
    pub fn connect(&self, user: UserId) -> bool {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let n = s.sockets.entry(user).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts a closed socket; `Some(last_seen)` when the user just went offline.
    pub fn disconnect(&self, user: UserId) -> Option<DateTime<Utc>> {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let gone = match s.sockets.get_mut(&user) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                s.sockets.remove(&user);
                true
            }
            None => false,
        };
        gone.then(|| {
            let now = Utc::now();
            s.last_seen.insert(user, now);
            now
        })
    }

    pub fn is_online(&self, user: UserId) -> bool {
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        s.sockets.contains_key(&user)
    }

    pub fn last_seen(&self, user: UserId) -> Option<DateTime<Utc>> {
        let s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        s.last_seen.get(&user).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_tabs_count_once() {
        let p = Presence::default();
        assert!(p.connect(1));
        assert!(!p.connect(1));
        assert!(p.disconnect(1).is_none());
        assert!(p.is_online(1));
        assert!(p.disconnect(1).is_some());
        assert!(!p.is_online(1));
        assert!(p.disconnect(1).is_none());
    }
}
