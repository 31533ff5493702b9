//! The rate limits, each from its own environment variable (README lists
//! them with their defaults).

use super::{ConfigError, non_negative, positive};

/// Rate limits, each from its own environment variable (README lists them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `JOBCHAT_LOGIN_LIMIT_PER_EMAIL_PER_MIN` (10)
    pub login_per_email_per_min: u32,
    /// `JOBCHAT_LOGIN_LIMIT_PER_IP_PER_MIN` (60)
    pub login_per_ip_per_min: u32,
    /// `JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR` (20)
    pub register_per_ip_per_hour: u32,
    /// `JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR` (30)
    pub book_per_user_per_hour: u32,
    /// `JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR` (120)
    pub book_per_ip_per_hour: u32,
    /// `JOBCHAT_REPORT_LIMIT_PER_USER_PER_HOUR` (30): reports filed and
    /// blocks changed per user, over all nodes.
    pub report_per_user_per_hour: u32,
    /// `JOBCHAT_EVENT_LIMIT_PER_SEC` (30, bursts of 30): join, leave,
    /// mark_read and unknown events per user per node. Ten tabs that
    /// reconnect at once rejoin three chats each.
    pub events_per_sec: u32,
    /// `JOBCHAT_MAX_SOCKETS_PER_USER` (32): open sockets per user per node.
    pub sockets_per_user: u32,
    /// `JOBCHAT_READ_LIMIT_PER_USER_PER_MIN` (120, bursts of 120): chat
    /// list and history pages per user per node, REST and server
    /// functions alike (a page is up to 200 messages).
    pub reads_per_user_per_min: u32,
    /// `JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS` (300; 0 = none): how long
    /// after a settlement the same chat's next dispute waits, so a party
    /// cannot page an LSM straight back in.
    pub dispute_reopen_cooldown_secs: u32,
    /// `JOBCHAT_EDIT_WINDOW_SECS` (900; 0 = no editing): how long after
    /// sending a sender may still edit a message (deleting has no limit).
    pub edit_window_secs: u32,
    /// `JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN` (60): socket handshakes
    /// per user per node. Each costs a database read, a contacts query and
    /// presence events to every contact: a connect/close loop must not.
    pub handshakes_per_user_per_min: u32,
    /// `JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN` (600): socket handshakes per
    /// client address (an IPv6 /64) per node, counted before the token is
    /// even read.
    pub handshakes_per_ip_per_min: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_email_per_min: 10,
            login_per_ip_per_min: 60,
            register_per_ip_per_hour: 20,
            book_per_user_per_hour: 30,
            book_per_ip_per_hour: 120,
            report_per_user_per_hour: 30,
            events_per_sec: 30,
            sockets_per_user: 32,
            reads_per_user_per_min: 120,
            dispute_reopen_cooldown_secs: 300,
            edit_window_secs: 15 * 60,
            // Ten tabs reconnecting after a restart, several times over.
            handshakes_per_user_per_min: 60,
            // An office behind one NAT address.
            handshakes_per_ip_per_min: 600,
        }
    }
}

impl RateLimits {
    pub(super) fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let get = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            Ok(positive(name)?.map_or(default, |n| n.min(u64::from(u32::MAX)) as u32))
        };
        Ok(Self {
            login_per_email_per_min: get(
                "JOBCHAT_LOGIN_LIMIT_PER_EMAIL_PER_MIN",
                d.login_per_email_per_min,
            )?,
            login_per_ip_per_min: get(
                "JOBCHAT_LOGIN_LIMIT_PER_IP_PER_MIN",
                d.login_per_ip_per_min,
            )?,
            register_per_ip_per_hour: get(
                "JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR",
                d.register_per_ip_per_hour,
            )?,
            book_per_user_per_hour: get(
                "JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR",
                d.book_per_user_per_hour,
            )?,
            book_per_ip_per_hour: get(
                "JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR",
                d.book_per_ip_per_hour,
            )?,
            report_per_user_per_hour: get(
                "JOBCHAT_REPORT_LIMIT_PER_USER_PER_HOUR",
                d.report_per_user_per_hour,
            )?,
            events_per_sec: get("JOBCHAT_EVENT_LIMIT_PER_SEC", d.events_per_sec)?,
            sockets_per_user: get("JOBCHAT_MAX_SOCKETS_PER_USER", d.sockets_per_user)?,
            reads_per_user_per_min: get(
                "JOBCHAT_READ_LIMIT_PER_USER_PER_MIN",
                d.reads_per_user_per_min,
            )?,
            dispute_reopen_cooldown_secs: non_negative("JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS")?
                .map_or(d.dispute_reopen_cooldown_secs, |n| {
                    n.min(u64::from(u32::MAX)) as u32
                }),
            edit_window_secs: non_negative("JOBCHAT_EDIT_WINDOW_SECS")?
                .map_or(d.edit_window_secs, |n| n.min(u64::from(u32::MAX)) as u32),
            handshakes_per_user_per_min: get(
                "JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN",
                d.handshakes_per_user_per_min,
            )?,
            handshakes_per_ip_per_min: get(
                "JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN",
                d.handshakes_per_ip_per_min,
            )?,
        })
    }

    /// Nothing a test suite does from one address trips these; the tests
    /// of the limits themselves set low ones.
    pub fn generous() -> Self {
        Self {
            login_per_email_per_min: 1000,
            login_per_ip_per_min: 100_000,
            register_per_ip_per_hour: 100_000,
            book_per_user_per_hour: 100_000,
            book_per_ip_per_hour: 100_000,
            report_per_user_per_hour: 100_000,
            events_per_sec: 1000,
            sockets_per_user: 1000,
            reads_per_user_per_min: 100_000,
            dispute_reopen_cooldown_secs: 0,
            edit_window_secs: 15 * 60,
            handshakes_per_user_per_min: 100_000,
            handshakes_per_ip_per_min: 100_000,
        }
    }
}
