//! The per-chat hash chain: each message's link is the SHA-256 of the
//! previous link and the message as it was stored, so a transcript's
//! holder can tell whether any message was altered, removed or reordered
//! afterwards (`server transcript verify`).
//!
//! A link covers what cannot change after the insert: the chat, the seq,
//! the kind, the change and its target, the sender, the time, the text as
//! its sender wrote it (before masking; an edit's new text; empty for a
//! deletion) and a system line's typed event. Edits and deletions are
//! messages of their own, so they are in the chain too.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev` of a chat's first link.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One message, as the chain covers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link<'a> {
    pub chat: i64,
    pub seq: i64,
    /// `user` or `system`.
    pub kind: &'a str,
    /// `edit` or `delete` for a change.
    pub change: Option<&'a str>,
    pub target: Option<i64>,
    pub sender: Option<i64>,
    pub at: DateTime<Utc>,
    pub text: &'a str,
    /// A system line's event, as the JSON stored.
    pub event: Option<&'a str>,
}

/// The bytes hashed: one JSON object with its fields in this fixed
/// order (a struct, so no map ordering can change them).
#[derive(Serialize)]
struct Canonical<'a> {
    v: u8,
    prev: &'a str,
    chat: i64,
    seq: i64,
    kind: &'a str,
    change: Option<&'a str>,
    target: Option<i64>,
    sender: Option<i64>,
    at: String,
    text: &'a str,
    event: Option<&'a str>,
}

/// Times as the chain writes them: RFC 3339, UTC, microseconds (what both
/// databases store).
pub fn chain_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The link after `prev` for `link`, as 64 lowercase hex digits.
pub fn next(prev: &str, link: &Link<'_>) -> String {
    let canonical = Canonical {
        v: 1,
        prev,
        chat: link.chat,
        seq: link.seq,
        kind: link.kind,
        change: link.change,
        target: link.target,
        sender: link.sender,
        at: chain_time(link.at),
        text: link.text,
        event: link.event,
    };
    // Serialising a struct of strings and integers cannot fail.
    let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
    hex(&Sha256::digest(&bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str) -> Link<'_> {
        Link {
            chat: 7,
            seq: 1,
            kind: "user",
            change: None,
            target: None,
            sender: Some(3),
            at: DateTime::from_timestamp(1_800_000_000, 123_456_000).expect("a valid time"),
            text,
            event: None,
        }
    }

    #[test]
    fn a_link_depends_on_every_field_and_the_previous_link() {
        let a = next(GENESIS, &link("hello"));
        assert_eq!(a.len(), 64);
        assert_eq!(a, next(GENESIS, &link("hello")), "deterministic");
        assert_ne!(a, next(GENESIS, &link("hellO")));
        assert_ne!(a, next(&a, &link("hello")));
        let mut later = link("hello");
        later.seq = 2;
        assert_ne!(a, next(GENESIS, &later));
        let mut system = link("hello");
        system.event = Some("{}");
        assert_ne!(a, next(GENESIS, &system));
    }

    #[test]
    fn times_are_written_to_the_microsecond() {
        assert_eq!(chain_time(link("").at), "2027-01-15T08:00:00.123456Z");
    }
}
