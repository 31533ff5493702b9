//! Prometheus metrics: every name in one place, recorded where things happen
//! and rendered by `GET /metrics` (`http::metrics`), which answers only a
//! caller holding `JOBCHAT_METRICS_TOKEN` and is off without it.
//!
//! One recorder per process (the `metrics` facade is global); several
//! in-process servers (the tests) share it.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// Sockets connected to this node (gauge).
pub const SOCKETS: &str = "jobchat_sockets_connected";
/// Messages stored, by `kind` (`user`, `system`, `edit`, `delete`).
pub const MESSAGES: &str = "jobchat_messages_persisted_total";
/// `send_message` from the event's arrival to its ack, in seconds.
pub const SEND_ACK: &str = "jobchat_send_ack_seconds";
/// Messages per group commit (one transaction).
pub const COMMIT_BATCH: &str = "jobchat_commit_batch_size";
/// How long a message waited for its group commit to start, in seconds.
pub const COMMIT_WAIT: &str = "jobchat_commit_wait_seconds";
/// Database connections in use / open, sampled at each scrape.
pub const POOL_IN_USE: &str = "jobchat_db_pool_in_use";
pub const POOL_OPEN: &str = "jobchat_db_pool_open";
/// Redis failures, by `op` (`broadcast`, `presence`, `heartbeat`, `counter`).
pub const REDIS_ERRORS: &str = "jobchat_redis_errors_total";
/// Sockets disconnected because their send buffer stayed full (slow or
/// stuck clients; they reconnect and catch up by seq).
pub const SLOW_SOCKETS: &str = "jobchat_slow_sockets_closed_total";
/// HTTP requests by `method`, `route` (the matched pattern) and `status`.
pub const HTTP_REQUESTS: &str = "jobchat_http_requests_total";
pub const HTTP_SECONDS: &str = "jobchat_http_request_seconds";
/// Attachments stored, and their bytes (after checking and re-encoding).
pub const ATTACHMENTS: &str = "jobchat_attachments_stored_total";
pub const ATTACHMENT_BYTES: &str = "jobchat_attachment_bytes_stored_total";
/// Moderation queue items filed, by kind (`report`, `flag`; two labels).
pub const MODERATION_ITEMS: &str = "jobchat_moderation_items_total";
/// Emails to people who were away, by `result`: `sent`, `skipped` (read
/// meanwhile, back, or turned off), `retry` (the SMTP server failed),
/// `failed` (given up after 8 attempts).
pub const EMAILS: &str = "jobchat_emails_total";
/// Stored messages the auto-flagger skipped because its queue was full.
pub const FLAGS_SKIPPED: &str = "jobchat_flags_skipped_total";
/// Transcript exports that found a chat's stored hash chain broken (the
/// database was changed outside jobchat); should stay 0.
pub const CHAIN_BROKEN: &str = "jobchat_chain_broken_total";
/// Heavy reads by where they went with `DATABASE_READ_URL` set: `route` =
/// `replica`, `primary_lag` (the replica was behind) or `primary_down`.
pub const READ_ROUTES: &str = "jobchat_read_routes_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often the recorder's histograms are drained into their buckets
/// when nobody scrapes. Without it every recorded sample stays in memory
/// until the next render: about 44 bytes a message for the life of an
/// unscraped process (docs/benchmarks.md, "Metrics upkeep").
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Installs the recorder (once per process) and returns its handle; a
/// thread runs the recorder's upkeep every `UPKEEP_EVERY`.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = build();
            let upkeep = handle.clone();
            let spawned = std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(UPKEEP_EVERY);
                        upkeep.run_upkeep();
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "metrics upkeep thread not started");
            }
            handle
        })
        .clone()
}

/// The recorder, installed globally when no other is.
fn build() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ],
        )
        .and_then(|b| {
            b.set_buckets_for_metric(
                Matcher::Full(COMMIT_BATCH.into()),
                &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0],
            )
        })
        .and_then(|b| b.install_recorder());
    match recorder {
        Ok(handle) => handle,
        Err(e) => {
            // Another recorder is installed (a test harness): ours
            // still renders, it only sees nothing.
            tracing::warn!(error = %e, "metrics recorder not installed");
            PrometheusBuilder::new().build_recorder().handle()
        }
    }
}

/// An HTTP method as a label: one of a fixed set, anything else `other`,
/// so a client inventing methods cannot grow the series without end.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

pub fn redis_error(op: &'static str) {
    metrics::counter!(REDIS_ERRORS, "op" => op).increment(1);
}

pub fn moderation_item(kind: &'static str) {
    metrics::counter!(MODERATION_ITEMS, "kind" => kind).increment(1);
}

pub fn read_route(route: &'static str) {
    metrics::counter!(READ_ROUTES, "route" => route).increment(1);
}

pub fn chain_broken() {
    metrics::counter!(CHAIN_BROKEN).increment(1);
}

pub fn email(result: &'static str) {
    metrics::counter!(EMAILS, "result" => result).increment(1);
}

pub fn flags_skipped() {
    metrics::counter!(FLAGS_SKIPPED).increment(1);
}

pub fn message_stored(kind: &'static str) {
    metrics::counter!(MESSAGES, "kind" => kind).increment(1);
}

pub fn attachment_stored(bytes: u64) {
    metrics::counter!(ATTACHMENTS).increment(1);
    metrics::counter!(ATTACHMENT_BYTES).increment(bytes);
}

pub fn commit_batch(size: usize) {
    metrics::histogram!(COMMIT_BATCH).record(size as f64);
}

pub fn commit_waited(took: Duration) {
    metrics::histogram!(COMMIT_WAIT).record(took.as_secs_f64());
}

pub fn send_acked(took: Duration) {
    metrics::histogram!(SEND_ACK).record(took.as_secs_f64());
}

pub fn slow_sockets(closed: usize) {
    metrics::counter!(SLOW_SOCKETS).increment(closed as u64);
}

pub fn socket_opened() {
    metrics::gauge!(SOCKETS).increment(1.0);
}

pub fn socket_closed() {
    metrics::gauge!(SOCKETS).decrement(1.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_are_other() {
        for (m, label) in [
            ("GET", "GET"),
            ("DELETE", "DELETE"),
            ("Z123", "other"),
            ("get", "other"),
        ] {
            let method = axum::http::Method::from_bytes(m.as_bytes()).expect("a token");
            assert_eq!(method_label(&method), label, "{m}");
        }
    }
}
