//! Rate limits on what a client can make the server do: log in (per email
//! and per client address, so password guessing is slow whichever of the
//! two an attacker varies), register (per address: each sign-up runs
//! argon2 and creates an account), book jobs (per account and per address),
//! socket events other than sends and reads of the chat list and history
//! (per user). Refusals carry the wait.
//!
//! With several nodes the HTTP counters live in Redis, so attempts spread
//! over nodes add up; if Redis does not answer, each node falls back to its
//! own count. Socket events are counted per node (a Redis round trip per
//! event would cost more than the events). Every local map is pruned
//! (`prune`, once a minute) so one-off keys do not accumulate.

use super::ServiceError;
use crate::cluster::Cluster;
use crate::config::RateLimits;
use app::model::UserId;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

fn refused(wait: Duration) -> ServiceError {
    ServiceError::RateLimited {
        retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1),
    }
}

/// `limit` hits per `window` for each key, bursts up to `limit`.
struct Keyed<K: Hash + Eq + Clone> {
    name: &'static str,
    limit: u32,
    window: Duration,
    local: DefaultKeyedRateLimiter<K>,
}

impl<K: Hash + Eq + Clone + Display> Keyed<K> {
    fn new(name: &'static str, limit: u32, window: Duration) -> Self {
        let limit = limit.max(1);
        let n = NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
        // `limit` cells refilled evenly over the window, all usable at once.
        let quota = Quota::with_period(window / limit)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(n);
        Self {
            name,
            limit,
            window,
            local: RateLimiter::keyed(quota),
        }
    }

    /// This node's count only.
    fn check_local(&self, key: &K) -> Result<(), ServiceError> {
        let clock = governor::clock::DefaultClock::default();
        self.local
            .check_key(key)
            .map_err(|wait| refused(wait.wait_time_from(clock.now())))
    }

    /// Over all nodes when they share Redis, else (or when Redis fails) this node's.
    async fn check(&self, cluster: Option<&Cluster>, key: &K) -> Result<(), ServiceError> {
        if let Some(cluster) = cluster {
            match cluster
                .hit(&format!("{}:{key}", self.name), self.window)
                .await
            {
                Ok((n, left)) if n > u64::from(self.limit) => return Err(refused(left)),
                Ok(_) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = %e, limit = self.name, "rate limit counted on this node only");
                    crate::metrics::redis_error("counter");
                }
            }
        }
        self.check_local(key)
    }

    /// Forgets keys whose counters are back to full, and gives the memory back.
    fn prune(&self) {
        self.local.retain_recent();
        self.local.shrink_to_fit();
    }

    fn keys(&self) -> usize {
        self.local.len()
    }
}

pub struct Limiters {
    login_email: Keyed<String>,
    login_ip: Keyed<IpAddr>,
    register_ip: Keyed<IpAddr>,
    book_user: Keyed<UserId>,
    book_ip: Keyed<IpAddr>,
    socket_events: Keyed<UserId>,
    reads: Keyed<UserId>,
    /// How long a settled chat waits before its next dispute.
    dispute_reopen_cooldown: Duration,
    cluster: Option<Cluster>,
}

impl Limiters {
    pub fn new(limits: &RateLimits) -> Self {
        Self {
            login_email: Keyed::new("login-email", limits.login_per_email_per_min, MINUTE),
            login_ip: Keyed::new("login-ip", limits.login_per_ip_per_min, MINUTE),
            register_ip: Keyed::new("register-ip", limits.register_per_ip_per_hour, HOUR),
            book_user: Keyed::new("book-user", limits.book_per_user_per_hour, HOUR),
            book_ip: Keyed::new("book-ip", limits.book_per_ip_per_hour, HOUR),
            socket_events: Keyed::new(
                "socket-events",
                limits.events_per_sec,
                Duration::from_secs(1),
            ),
            reads: Keyed::new("reads", limits.reads_per_user_per_min, MINUTE),
            dispute_reopen_cooldown: Duration::from_secs(u64::from(
                limits.dispute_reopen_cooldown_secs,
            )),
            cluster: None,
        }
    }

    /// How long after a settlement the same chat's next dispute waits.
    pub fn dispute_reopen_cooldown(&self) -> Duration {
        self.dispute_reopen_cooldown
    }

    /// Counts the HTTP limits over all nodes sharing `cluster`.
    pub fn shared(mut self, cluster: Option<Cluster>) -> Self {
        self.cluster = cluster;
        self
    }

    /// One login attempt for `email` (already trimmed, lower-cased and
    /// length-checked, so the key is bounded) from `ip`.
    pub async fn login(&self, email: &str, ip: IpAddr) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref();
        self.login_ip.check(cluster, &ip).await?;
        self.login_email.check(cluster, &email.to_owned()).await
    }

    /// One sign-up from `ip`.
    pub async fn register(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.register_ip.check(self.cluster.as_ref(), &ip).await
    }

    /// One booking by `user` from `ip`.
    pub async fn book(&self, user: UserId, ip: IpAddr) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref();
        self.book_user.check(cluster, &user).await?;
        self.book_ip.check(cluster, &ip).await
    }

    /// One socket event other than a send (join, leave, mark_read, an
    /// unknown event) by `user`, over all their sockets on this node.
    pub fn socket_event(&self, user: UserId) -> Result<(), ServiceError> {
        self.socket_events.check_local(&user)
    }

    /// One read of the chat list or a history page by `user`, on this
    /// node: each can be 200 rows, so a loop of them is bounded.
    pub fn read(&self, user: UserId) -> Result<(), ServiceError> {
        self.reads.check_local(&user)
    }

    /// Drops counters that are back to full. Returns how many keys remain.
    pub fn prune(&self) -> usize {
        self.login_email.prune();
        self.login_ip.prune();
        self.register_ip.prune();
        self.book_user.prune();
        self.book_ip.prune();
        self.socket_events.prune();
        self.reads.prune();
        self.login_email.keys()
            + self.login_ip.keys()
            + self.register_ip.keys()
            + self.book_user.keys()
            + self.book_ip.keys()
            + self.socket_events.keys()
            + self.reads.keys()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> RateLimits {
        RateLimits {
            login_per_email_per_min: 2,
            login_per_ip_per_min: 3,
            register_per_ip_per_hour: 2,
            book_per_user_per_hour: 1,
            book_per_ip_per_hour: 5,
            events_per_sec: 3,
            sockets_per_user: 4,
            reads_per_user_per_min: 2,
            dispute_reopen_cooldown_secs: 0,
        }
    }

    #[tokio::test]
    async fn each_limit_refuses_past_its_count_with_a_wait() {
        let l = Limiters::new(&limits());
        let ip: IpAddr = "10.0.0.1".parse().expect("ip");
        l.register(ip).await.expect("first");
        l.register(ip).await.expect("second");
        match l.register(ip).await {
            Err(ServiceError::RateLimited { retry_after_secs }) => {
                // One cell per 30 minutes.
                assert!((1..=1800).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected rate_limited, got {other:?}"),
        }
        // Another address is counted on its own.
        l.register("10.0.0.2".parse().expect("ip"))
            .await
            .expect("other address");

        l.book(7, ip).await.expect("first booking");
        assert!(
            l.book(7, ip).await.is_err(),
            "second booking by the same user"
        );
        l.book(8, ip)
            .await
            .expect("another user from the same address");

        for _ in 0..3 {
            l.socket_event(1).expect("within the burst");
        }
        assert!(
            l.socket_event(1).is_err(),
            "fourth event in the same instant"
        );
        l.socket_event(2).expect("another user");

        l.read(1).expect("first read");
        l.read(1).expect("second read");
        assert!(l.read(1).is_err(), "third read in the same minute");
        l.read(2).expect("another user's read");
    }

    #[tokio::test]
    async fn pruning_forgets_keys_that_are_back_to_full() {
        let mut cfg = limits();
        cfg.events_per_sec = 1000;
        let l = Limiters::new(&cfg);
        for user in 0..500 {
            l.socket_event(user).expect("within limits");
        }
        // 1,000 a second: each key's single cell is back within a few ms.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(l.prune(), 0, "all 500 counters were full again");
    }
}
