//! Login throttling, per email and per client address, so password guessing
//! is slow whichever of the two an attacker varies. With several nodes the
//! counts live in Redis, so attempts spread over nodes add up; if Redis does
//! not answer, each node falls back to its own count.

use super::ServiceError;
use crate::cluster::Cluster;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use std::time::Duration;
use std::{net::IpAddr, num::NonZeroU32};

const WINDOW: Duration = Duration::from_secs(60);

pub struct LoginLimiter {
    per_email: u32,
    per_ip: u32,
    by_email: DefaultKeyedRateLimiter<String>,
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    cluster: Option<Cluster>,
}

fn refused(wait: Duration) -> ServiceError {
    ServiceError::RateLimited {
        retry_after_secs: (wait.as_secs_f64().ceil() as u64).max(1),
    }
}

impl LoginLimiter {
    /// `per_email` and `per_ip` attempts a minute (at least one each).
    pub fn new(per_email: u32, per_ip: u32) -> Self {
        let (per_email, per_ip) = (per_email.max(1), per_ip.max(1));
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            per_email,
            per_ip,
            by_email: RateLimiter::keyed(quota(per_email)),
            by_ip: RateLimiter::keyed(quota(per_ip)),
            cluster: None,
        }
    }

    /// Counts attempts over all nodes sharing `cluster`.
    pub fn shared(mut self, cluster: Option<Cluster>) -> Self {
        self.cluster = cluster;
        self
    }

    /// One attempt for `email` (already trimmed, lower-cased and
    /// length-checked) from `ip`: refused with the wait when over either limit.
    pub async fn check(&self, email: &str, ip: IpAddr) -> Result<(), ServiceError> {
        if let Some(cluster) = &self.cluster {
            match self.check_shared(cluster, email, ip).await {
                Ok(outcome) => return outcome,
                Err(e) => {
                    tracing::warn!(error = %e, "login limits counted on this node only");
                    crate::metrics::redis_error("counter");
                }
            }
        }
        let clock = governor::clock::DefaultClock::default();
        let local = |wait: governor::NotUntil<_>| refused(wait.wait_time_from(clock.now()));
        self.by_ip.check_key(&ip).map_err(local)?;
        self.by_email.check_key(&email.to_owned()).map_err(local)?;
        Ok(())
    }

    async fn check_shared(
        &self,
        cluster: &Cluster,
        email: &str,
        ip: IpAddr,
    ) -> Result<Result<(), ServiceError>, crate::cluster::ClusterError> {
        let (n, left) = cluster.hit(&format!("login-ip:{ip}"), WINDOW).await?;
        if n > u64::from(self.per_ip) {
            return Ok(Err(refused(left)));
        }
        let (n, left) = cluster.hit(&format!("login-email:{email}"), WINDOW).await?;
        if n > u64::from(self.per_email) {
            return Ok(Err(refused(left)));
        }
        Ok(Ok(()))
    }
}
