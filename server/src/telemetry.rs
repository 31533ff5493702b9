//! Logging: one line per request and per socket event, filtered by RUST_LOG.

use tracing_subscriber::{EnvFilter, fmt};

pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = fmt().with_env_filter(filter).with_target(false).try_init();
}
