//! The browser's live state as one value and one function. Everything that
//! happens to it (a socket event, an ack, a server function's answer, a
//! timer, a user's action) is a [`Msg`]; [`update`] changes the [`State`]
//! and returns the [`Effect`]s to run (emit, fetch, persist, wait). It is
//! pure (no signal, no socket, no clock): the runtime in `chat::live`
//! samples the world into an [`Env`], runs the effects and feeds what they
//! bring back in as messages, then publishes the state to `ChatContext`'s
//! signals. Following an incoming `new_message` means reading
//! `update`'s arm for it and the functions it calls, and the rules are
//! unit-tested without a browser (`tests`).
//!
//! * `msg` — messages, effects, the environment
//! * `store` — the state, and what it tells (which chats are in view…)
//! * `desktop` — when a desktop notification is due (tab hidden, not muted)
//! * `chat_list` — reloads of the chat list, its older pages, its events
//! * `rooms` — joins with catch-up, arriving messages, reads, history
//!   pages, gaps, the local cache
//! * `outbox` — optimistic sends in order, one at a time; typing flags
//! * `uploads` — a queued message's files, uploaded before its send
//! * `revisions` — the user's edits and deletions of their own messages
//! * `windows` — chat windows: open, close, minimise, restore, resync
//! * `bell` — notifications
//! * `search` — searching messages, and opening a hit in its window
//! * `connection` — the status badge and what a (re)connect catches up
//! * `update` — which message does what
//!
//! Each imports only the ones listed before it (and `store`, `msg`), so
//! there is no circle among them.

mod bell;
mod chat_list;
mod connection;
mod desktop;
mod msg;
mod outbox;
mod revisions;
mod rooms;
mod search;
mod store;
mod update;
mod uploads;
mod windows;

#[cfg(test)]
mod tests;

pub use msg::{Answer, Call, Effect, Env, Form, Msg, PageFor, Pushed, Restored, Ticket};
pub use store::{Jump, SESSION_ENDED, Search, State};
pub use update::update;
pub use uploads::FILE_REFUSED;
