//! The browser side of `ChatContext`, started once after hydration. It
//! touches the world and decides nothing: what happens becomes a message
//! for `chat::state`, whose `update` decides, and the effects it returns
//! are run here.
//!
//! * `listen` — socket events, the network, the tab: into messages
//! * `runtime` — the queue of messages, `update`, publishing the state to
//!   the signals, running effects (emits, server functions, storage, timers)
//! * `socket` — the binding to the official socket.io-client
//! * `backup` — localStorage: outbox, cache, drafts, open windows
//! * `desktop` — the Notification API: permission, showing one
//! * `file_store` — IndexedDB: the bytes of files waiting to be sent
//! * `upload` — one file's upload over XMLHttpRequest, with its progress
//!
//! Imports run one way: `mod` → `listen` → `runtime` → `socket`, `backup`,
//! `upload`, `file_store`.

mod backup;
pub(crate) mod desktop;
mod file_store;
mod listen;
mod runtime;
mod socket;
mod upload;

pub use backup::first_time;
pub use runtime::{RuntimeCell, dispatch, forget_files, form, keep_file, new_runtime};

use super::ChatContext;
use super::state::{Msg, Restored};
use leptos::prelude::*;

pub fn start(ctx: ChatContext) {
    let Some(me) = ctx.me() else {
        return;
    };
    ctx.desktop.permission.set(desktop::permission());
    let s = socket::connect();
    runtime::set_socket(ctx, s.clone());
    listen::socket(ctx, &s);
    listen::window(ctx);
    let offline = web_sys::window().is_some_and(|w| !w.navigator().on_line());
    let first_chats = ctx
        .first_chats
        .and_then(|r| r.get_untracked())
        .and_then(Result::ok)
        .unwrap_or_default();
    dispatch(
        ctx,
        Msg::Started(Restored {
            drafts: backup::load_drafts(me.id),
            outbox: backup::load_outbox(me.id),
            open: backup::load_open(me.id),
            first_chats,
            offline,
        }),
    );
}
