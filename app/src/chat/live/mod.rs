//! The browser side of `ChatContext`, started once after hydration: socket
//! events in, user actions out. One module per concern:
//!
//! * `connection` — the socket's lifecycle, the status badge, reconnects
//! * `threads` — open/close chat windows, join + catch-up, new messages, read
//! * `history` — pages of history from the server (newest, older, the pages
//!   that fill a gap in the seqs), the local cache
//! * `outbox` — optimistic sends: the queue in localStorage, flush, retry
//! * `presence` — who is online, who is typing (flags expire unrefreshed)
//! * `chats` — the chat list and the events that change it
//! * `notifications` — the bell
//! * `actions` — book, add LSM, resolve, providers, logout
//! * `socket` / `backup` — the socket.io-client binding, localStorage
//!
//! State that is not shown (the socket, the outbox runner's flag, the typing
//! throttle) lives in a [`Runtime`] owned by the context, not in globals.

mod actions;
mod backup;
mod chats;
mod connection;
mod history;
mod notifications;
mod outbox;
mod presence;
mod socket;
mod threads;

pub use actions::{add_lsm, book_job, logout, resolve_dispute};
pub use chats::show_older as show_older_chats;
pub use history::load_older;
pub use notifications::read as read_notification;
pub use outbox::{discard, retry, send};
pub use presence::set_typing;
pub use threads::{close_chat, mark_read_latest, open_chat};

use super::ChatContext;
use super::typing::TypingThrottle;
use crate::error::{AppError, ErrorCode};
use crate::model::{Role, UserId};
use leptos::prelude::*;
use socket::Socket;

/// How long a socket request may wait for its ack.
const ACK_TIMEOUT_MS: u32 = 10_000;

/// Where an ended session leads.
const SESSION_ENDED: &str = "/login?expired=1";

/// The page's live state that no view renders.
#[derive(Default)]
pub struct Runtime {
    socket: Option<Socket>,
    /// Sends go out one at a time, in order; this guards the queue runner.
    flushing: bool,
    /// Refused-for-now answers to the first queued message in a row.
    send_attempts: u32,
    /// A chat-list reload is already scheduled (bursts of notifications
    /// share one).
    list_refresh_pending: bool,
    typing: TypingThrottle,
}

/// The runtime as `ChatContext` holds it (JS values: this thread only).
pub type RuntimeCell = StoredValue<Runtime, LocalStorage>;

pub fn new_runtime() -> RuntimeCell {
    StoredValue::new_local(Runtime::default())
}

/// Reads or changes the runtime; `None` once the page is torn down.
fn runtime<T>(ctx: ChatContext, f: impl FnOnce(&mut Runtime) -> T) -> Option<T> {
    ctx.live.try_update_value(f)
}

pub fn start(ctx: ChatContext) {
    let Some(me) = ctx.me() else {
        return;
    };
    ctx.drafts.set(backup::load_drafts(me.id));
    outbox::show_queued(ctx, &me);

    let s = connection::open(ctx);
    threads::listen(ctx, &s);
    presence::listen(ctx, &s);
    chats::listen(ctx, &s);
    notifications::listen(ctx, &s);
    connection::watch_network(ctx);
    threads::watch_visibility(ctx);

    // Chats that were open before the reload come back.
    threads::restore_open(ctx, me.id);
    chats::refresh(ctx);
    notifications::refresh(ctx);
    if me.role == Role::Customer {
        actions::load_providers(ctx);
    }
}

fn me_id(ctx: ChatContext) -> Option<UserId> {
    ctx.me.get_value().map(|m| m.id)
}

fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}

/// A server function refused because the session ended (expired, or
/// logged out in another tab): the sign-in page says so. `true` if it did.
fn session_ended(e: &AppError) -> bool {
    let ended = e.code == ErrorCode::Unauthorized;
    if ended {
        go_to(SESSION_ENDED);
    }
    ended
}

/// A background call failed: an ended session leads to the sign-in page,
/// anything else but an unreachable server (the status badge already says
/// so) shows as a toast.
fn report(ctx: ChatContext, e: &AppError) {
    if !session_ended(e) && e.code != ErrorCode::Unavailable {
        ctx.toast.set(Some(e.message.clone()));
    }
}

/// Drafts survive reloads.
pub fn save_drafts(ctx: ChatContext) {
    if let Some(me) = me_id(ctx) {
        ctx.drafts.with_untracked(|d| backup::save_drafts(me, d));
    }
}
