//! Logging: one line per request and per socket event, filtered by RUST_LOG.

use axum::http::Uri;
use tracing_subscriber::{EnvFilter, fmt};

pub fn init(default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let _ = fmt().with_env_filter(filter).with_target(false).try_init();
}

/// What replaces the value of a `sid` query parameter in logs.
pub const REDACTED_SID: &str = "sid=…";

/// A request's path and query as request logs show them: the Engine.IO
/// session id (`sid=…`, in every long-polling request and the WebSocket
/// upgrade) is a bearer credential for that connection until it closes,
/// so whoever reads the logs could post to or read from it; every `sid`
/// parameter's value is left out.
pub fn loggable_uri(uri: &Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_owned();
    };
    let query: Vec<&str> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("sid") => REDACTED_SID,
            _ => pair,
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// The longest client-chosen name (e.g. an unknown socket event's) a log
/// line repeats, in characters.
pub const MAX_LOGGED_NAME: usize = 64;

/// A name the client chose, fit for one log line: at most
/// [`MAX_LOGGED_NAME`] characters (then `…`), control characters escaped
/// (`\n`, `\u{1b}`), so a client can neither fill the logs nor forge lines
/// or terminal escapes in them.
pub fn loggable_name(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if i == MAX_LOGGED_NAME {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_chosen_names_are_cut_and_escaped_for_logs() {
        assert_eq!(loggable_name("send_mesage"), "send_mesage");
        let long = "x".repeat(10_000);
        let logged = loggable_name(&long);
        assert_eq!(logged.chars().count(), MAX_LOGGED_NAME + 1);
        assert!(logged.ends_with('…'));
        assert_eq!(
            loggable_name(&"é".repeat(64)),
            "é".repeat(64),
            "64 is kept whole"
        );
        assert_eq!(
            loggable_name("a\nINFO forged line\r\u{1b}[31m\u{0}"),
            "a\\nINFO forged line\\r\\u{1b}[31m\\u{0}"
        );
    }

    fn logged(uri: &str) -> String {
        loggable_uri(&uri.parse().expect("uri"))
    }

    #[test]
    fn the_engine_io_sid_is_left_out_of_request_logs() {
        assert_eq!(
            logged("/socket.io/?EIO=4&transport=polling&sid=AbC-123_xyz&t=P1"),
            "/socket.io/?EIO=4&transport=polling&sid=…&t=P1"
        );
        assert_eq!(
            logged("/socket.io/?sid=first&SID=second&sid"),
            "/socket.io/?sid=…&sid=…&sid"
        );
        assert_eq!(
            logged("/api/chats/3/messages?afterSeq=5&limit=50"),
            "/api/chats/3/messages?afterSeq=5&limit=50"
        );
        assert_eq!(logged("/healthz"), "/healthz");
        assert_eq!(logged("/a?sidecar=1"), "/a?sidecar=1");
    }
}
