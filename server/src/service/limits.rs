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
use contract::model::UserId;
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

/// The key an address is counted under. One IPv6 subscriber is routinely
/// given a whole /64 (and picks addresses from it at will, privacy
/// extensions rotate them by themselves), so an IPv6 client is its /64; an
/// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket
/// reports for an IPv4 peer) is that IPv4 address.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !u128::from(u64::MAX),
            )),
        },
    }
}

pub struct Limiters {
    login_email: Keyed<String>,
    login_ip: Keyed<IpAddr>,
    register_ip: Keyed<IpAddr>,
    book_user: Keyed<UserId>,
    book_ip: Keyed<IpAddr>,
    reports: Keyed<UserId>,
    socket_events: Keyed<UserId>,
    reads: Keyed<UserId>,
    /// How long a settled chat waits before its next dispute.
    dispute_reopen_cooldown: Duration,
    /// How long after sending a message may be edited.
    edit_window: Duration,
    handshake_user: Keyed<UserId>,
    handshake_ip: Keyed<IpAddr>,
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
            reports: Keyed::new("reports", limits.report_per_user_per_hour, HOUR),
            socket_events: Keyed::new(
                "socket-events",
                limits.events_per_sec,
                Duration::from_secs(1),
            ),
            reads: Keyed::new("reads", limits.reads_per_user_per_min, MINUTE),
            dispute_reopen_cooldown: Duration::from_secs(u64::from(
                limits.dispute_reopen_cooldown_secs,
            )),
            edit_window: Duration::from_secs(u64::from(limits.edit_window_secs)),
            handshake_user: Keyed::new(
                "handshake-user",
                limits.handshakes_per_user_per_min,
                MINUTE,
            ),
            handshake_ip: Keyed::new("handshake-ip", limits.handshakes_per_ip_per_min, MINUTE),
            cluster: None,
        }
    }

    /// How long after a settlement the same chat's next dispute waits.
    pub fn dispute_reopen_cooldown(&self) -> Duration {
        self.dispute_reopen_cooldown
    }

    /// How long after sending a message may still be edited.
    pub fn edit_window(&self) -> Duration {
        self.edit_window
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
        self.login_ip.check(cluster, &client_key(ip)).await?;
        self.login_email.check(cluster, &email.to_owned()).await
    }

    /// One sign-up from `ip`.
    pub async fn register(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.register_ip
            .check(self.cluster.as_ref(), &client_key(ip))
            .await
    }

    /// One booking by `user` from `ip`.
    pub async fn book(&self, user: UserId, ip: IpAddr) -> Result<(), ServiceError> {
        let cluster = self.cluster.as_ref();
        self.book_user.check(cluster, &user).await?;
        self.book_ip.check(cluster, &client_key(ip)).await
    }

    /// One report filed, or one block changed, by `user`.
    pub async fn report(&self, user: UserId) -> Result<(), ServiceError> {
        self.reports.check(self.cluster.as_ref(), &user).await
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

    /// One socket handshake from `ip`, counted before its token is read
    /// (on this node: a Redis round trip per handshake would add to what
    /// the limit saves).
    pub fn handshake_from(&self, ip: IpAddr) -> Result<(), ServiceError> {
        self.handshake_ip.check_local(&client_key(ip))
    }

    /// One socket handshake by `user` (authenticated), on this node.
    pub fn handshake_by(&self, user: UserId) -> Result<(), ServiceError> {
        self.handshake_user.check_local(&user)
    }

    /// Drops counters that are back to full. Returns how many keys remain.
    pub fn prune(&self) -> usize {
        self.login_email.prune();
        self.login_ip.prune();
        self.register_ip.prune();
        self.book_user.prune();
        self.book_ip.prune();
        self.reports.prune();
        self.socket_events.prune();
        self.reads.prune();
        self.handshake_user.prune();
        self.handshake_ip.prune();
        self.login_email.keys()
            + self.login_ip.keys()
            + self.register_ip.keys()
            + self.book_user.keys()
            + self.book_ip.keys()
            + self.reports.keys()
            + self.socket_events.keys()
            + self.reads.keys()
            + self.handshake_user.keys()
            + self.handshake_ip.keys()
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
            report_per_user_per_hour: 2,
            events_per_sec: 3,
            sockets_per_user: 4,
            reads_per_user_per_min: 2,
            dispute_reopen_cooldown_secs: 0,
            edit_window_secs: 60,
            handshakes_per_user_per_min: 2,
            handshakes_per_ip_per_min: 3,
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

    #[test]
    fn handshakes_are_limited_per_user_and_per_address() {
        let l = Limiters::new(&limits());
        let ip: IpAddr = "2001:db8::1".parse().expect("ip");
        l.handshake_by(1).expect("first");
        l.handshake_by(1).expect("second");
        assert!(matches!(
            l.handshake_by(1),
            Err(ServiceError::RateLimited { .. })
        ));
        l.handshake_by(2).expect("another user");
        for _ in 0..3 {
            l.handshake_from(ip).expect("within the burst");
        }
        assert!(
            l.handshake_from("2001:db8::2".parse().expect("ip"))
                .is_err(),
            "the same /64"
        );
        l.handshake_from("10.0.0.1".parse().expect("ip"))
            .expect("another address");
    }

    #[test]
    fn ipv6_clients_are_their_64_and_mapped_ipv4_is_ipv4() {
        let key = |s: &str| client_key(s.parse().expect("ip")).to_string();
        assert_eq!(key("10.0.0.1"), "10.0.0.1");
        assert_eq!(key("::ffff:10.0.0.1"), "10.0.0.1");
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::1"), "::");
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_64_share_a_count() {
        let l = Limiters::new(&limits());
        l.register("2001:db8::1".parse().expect("ip"))
            .await
            .expect("first");
        l.register("2001:db8::2:3".parse().expect("ip"))
            .await
            .expect("second");
        assert!(
            l.register("2001:db8::ffff:1".parse().expect("ip"))
                .await
                .is_err(),
            "a third address of the same /64 is the same client"
        );
        l.register("2001:db8:0:1::1".parse().expect("ip"))
            .await
            .expect("another /64");
        l.register("::ffff:10.9.9.9".parse().expect("ip"))
            .await
            .expect("mapped");
        l.register("10.9.9.9".parse().expect("ip"))
            .await
            .expect("the same IPv4 client, second");
        assert!(l.register("10.9.9.9".parse().expect("ip")).await.is_err());
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
