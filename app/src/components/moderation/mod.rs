//! The LSMs' moderation page and what the chat windows share with it.
//!
//! * `queue` — the queue of reports and auto-flags by status, live
//! * `item` — one item: who, what, the conversation around it, and the
//!   actions on it (dismiss, remove the message, warn, suspend), each with
//!   a reason and a confirmation
//! * `act` — the reason-and-confirm form every action goes through
//! * `log` — the audit log, newest first, with its CSV export
//!
//! Server functions are called directly here (no live state: the queue is
//! reloaded whenever `ChatContext::moderation_rev` moves).

mod act;
mod item;
mod log;
mod queue;

pub use log::ModerationLog;
pub use queue::ModerationQueue;

use crate::error::{AppError, ErrorCode};
use crate::model::Role;
use chrono::{DateTime, Utc};

/// What a failed server function says to the user; an ended session goes
/// to the sign-in page, as everywhere else.
pub(crate) fn said(e: AppError) -> String {
    if e.code == ErrorCode::Unauthorized {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.location().assign(crate::chat::state::SESSION_ENDED);
        }
    }
    sentence(&e.message)
}

/// The server's words as a sentence ("this account…" → "This account….").
pub(crate) fn sentence(text: &str) -> String {
    let mut chars = text.trim().chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return "Something went wrong. Please try again.".into(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A role as people read it.
pub(crate) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Provider => "provider",
        Role::Lsm => "local service manager",
    }
}

/// "6 Dec 2026, 14:05" on the viewer's clock (UTC until the browser took
/// over, as the server rendered it).
pub(crate) fn when(clock: &super::clock::Clock, at: DateTime<Utc>) -> String {
    clock.local(at).format("%-d %b %Y, %H:%M").to_string()
}

/// The machine-readable form for `<time datetime>`.
pub(crate) fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(sentence("this item is closed"), "This item is closed.");
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("  "), "Something went wrong. Please try again.");
    }
}
