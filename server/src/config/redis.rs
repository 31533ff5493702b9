//! Which Redis several nodes share: one server or a Redis Cluster.

use super::{ConfigError, redact_url};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RedisTarget {
    /// `REDIS_URL`: one Redis server.
    Single(String),
    /// `REDIS_CLUSTER_URLS`: some nodes of a Redis Cluster (the client
    /// discovers the rest from them).
    Cluster(Vec<String>),
}

/// More seed nodes than this is a typo, not a cluster's seed list.
const MAX_SEEDS: usize = 64;

impl RedisTarget {
    /// From `REDIS_URL` and `REDIS_CLUSTER_URLS` (at most one of them).
    pub fn from_vars(
        single: Option<String>,
        cluster: Option<String>,
    ) -> Result<Option<Self>, ConfigError> {
        match (single, cluster) {
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                name: "REDIS_CLUSTER_URLS",
                reason: "set either REDIS_URL (one Redis) or REDIS_CLUSTER_URLS (a Redis Cluster), not both".into(),
            }),
            (Some(url), None) => Ok(Some(Self::Single(checked(url.trim(), "REDIS_URL")?))),
            (None, Some(list)) => {
                let seeds = list
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| checked(s, "REDIS_CLUSTER_URLS"))
                    .collect::<Result<Vec<_>, _>>()?;
                if seeds.is_empty() || seeds.len() > MAX_SEEDS {
                    return Err(ConfigError::Invalid {
                        name: "REDIS_CLUSTER_URLS",
                        reason: format!("expected 1 to {MAX_SEEDS} comma-separated redis:// URLs"),
                    });
                }
                Ok(Some(Self::Cluster(seeds)))
            }
            (None, None) => Ok(None),
        }
    }

    /// For logs: no passwords.
    pub fn redacted(&self) -> String {
        match self {
            Self::Single(url) => redact_url(url),
            Self::Cluster(seeds) => seeds
                .iter()
                .map(|s| redact_url(s))
                .collect::<Vec<_>>()
                .join(","),
        }
    }

    /// The variable it came from, for error messages.
    pub fn variable(&self) -> &'static str {
        match self {
            Self::Single(_) => "REDIS_URL",
            Self::Cluster(_) => "REDIS_CLUSTER_URLS",
        }
    }
}

fn checked(url: &str, name: &'static str) -> Result<String, ConfigError> {
    if url.starts_with("redis://") || url.starts_with("rediss://") {
        Ok(url.to_owned())
    } else {
        Err(ConfigError::Invalid {
            name,
            reason: format!("{} is not a redis:// or rediss:// URL", redact_url(url)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn one_redis_or_a_cluster_never_both() {
        assert_eq!(RedisTarget::from_vars(None, None).expect("none"), None);
        assert_eq!(
            RedisTarget::from_vars(s("redis://h:6379"), None).expect("single"),
            Some(RedisTarget::Single("redis://h:6379".into()))
        );
        assert_eq!(
            RedisTarget::from_vars(None, s(" redis://a:7001, redis://b:7002 ,")).expect("cluster"),
            Some(RedisTarget::Cluster(vec![
                "redis://a:7001".into(),
                "redis://b:7002".into()
            ]))
        );
        assert!(RedisTarget::from_vars(s("redis://h"), s("redis://a:7001")).is_err());
        assert!(RedisTarget::from_vars(None, s(" , ")).is_err());
        assert!(RedisTarget::from_vars(None, s("http://a:7001")).is_err());
        assert!(RedisTarget::from_vars(s("localhost:6379"), None).is_err());
    }

    #[test]
    fn logs_never_show_a_password() {
        let t = RedisTarget::Cluster(vec!["redis://:secret@a:7001".into()]);
        assert!(!t.redacted().contains("secret"));
    }
}
