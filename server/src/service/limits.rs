//! Login throttling, per email and per client address, so password guessing
//! is slow whichever of the two an attacker varies.

use super::ServiceError;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use std::{net::IpAddr, num::NonZeroU32};

pub struct LoginLimiter {
    by_email: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
}

impl LoginLimiter {
    /// `per_email` and `per_ip` attempts a minute (at least one each).
    pub fn new(per_email: u32, per_ip: u32) -> Self {
        let quota =
            |n: u32| Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            by_email: RateLimiter::keyed(quota(per_email)),
            by_ip: RateLimiter::keyed(quota(per_ip)),
        }
    }

    pub fn check(&self, email: &str, ip: IpAddr) -> Result<(), ServiceError> {
        let clock = governor::clock::DefaultClock::default();
        let refused = |wait: governor::NotUntil<_>| {
            let secs = wait.wait_time_from(clock.now()).as_secs_f64().ceil() as u64;
            ServiceError::RateLimited {
                retry_after_secs: secs.max(1),
            }
        };
        self.by_ip.check_key(&ip).map_err(refused)?;
        self.by_email
            .check_key(&email.to_owned())
            .map_err(refused)?;
        Ok(())
    }
}
