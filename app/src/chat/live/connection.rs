//! The Socket.IO connection's lifecycle: opening it, the status badge
//! (Connecting, Connected, Reconnecting… (attempt n), Offline), catching up
//! after every (re)connect, and the browser's own online/offline events.

use super::socket::{self, Socket};
use super::{SESSION_ENDED, chats, go_to, notifications, outbox, runtime, threads};
use crate::chat::ChatContext;
use crate::model::ConnectionStatus;
use crate::protocol::Refused;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The page's socket, connected or not.
pub fn socket(ctx: ChatContext) -> Option<Socket> {
    runtime(ctx, |r| r.socket.clone()).flatten()
}

/// The page's socket while it is connected.
pub fn connected(ctx: ChatContext) -> Option<Socket> {
    socket(ctx).filter(Socket::connected)
}

/// Opens the connection and follows its lifecycle.
pub fn open(ctx: ChatContext) -> Socket {
    let s = socket::connect();
    runtime(ctx, |r| r.socket = Some(s.clone()));

    s.on_transport(move |name| ctx.transport.set(Some(name)));
    s.on_connect(move || {
        ctx.status.set(ConnectionStatus::Connected);
        // The seed's recovery: re-join every open chat with what we last
        // saw, so the gap closes in one round trip, then send what waited.
        threads::rejoin_open(ctx);
        outbox::flush(ctx);
        chats::refresh(ctx);
        notifications::refresh(ctx);
    });
    s.on_disconnect(move |reason| {
        // A send in flight is answered by the resend after reconnecting.
        outbox::connection_lost(ctx);
        if ctx.status.get_untracked() != ConnectionStatus::Offline {
            ctx.status.set(ConnectionStatus::Reconnecting(0));
        }
        ctx.typing.set(Default::default());
        // socket.io-client does not retry after the server closed the
        // connection on purpose; a restarting server does exactly that, so
        // reconnect anyway (an ended session then fails the handshake with
        // `unauthorized`, which leads to the sign-in page).
        if reason == "io server disconnect" {
            spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(1_000).await;
                if let Some(s) = socket(ctx) {
                    s.reconnect();
                }
            });
        }
    });
    s.on_connect_error(move |message| {
        if Refused::parse(&message) == Some(Refused::Unauthorized) {
            // The session ended (expired or logged out elsewhere).
            go_to(SESSION_ENDED);
            return;
        }
        if ctx.status.get_untracked() == ConnectionStatus::Connected {
            ctx.status.set(ConnectionStatus::Reconnecting(0));
        }
    });
    s.on_reconnect_attempt(move |attempt| {
        if ctx.status.get_untracked() != ConnectionStatus::Offline {
            ctx.status.set(ConnectionStatus::Reconnecting(attempt));
        }
    });
    s
}

/// Follows the browser's own view of the network.
pub fn watch_network(ctx: ChatContext) {
    let Some(w) = web_sys::window() else { return };
    let offline = Closure::<dyn FnMut()>::new(move || ctx.status.set(ConnectionStatus::Offline));
    let online = Closure::<dyn FnMut()>::new(move || {
        if ctx.status.get_untracked() == ConnectionStatus::Offline {
            ctx.status.set(if connected(ctx).is_some() {
                ConnectionStatus::Connected
            } else {
                ConnectionStatus::Reconnecting(0)
            });
        }
    });
    let _ = w.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    // Both listen for the page's lifetime.
    offline.forget();
    online.forget();
    if !w.navigator().on_line() {
        ctx.status.set(ConnectionStatus::Offline);
    }
}

/// Closes the connection for good (logout).
pub fn close(ctx: ChatContext) {
    if let Some(s) = socket(ctx) {
        s.disconnect();
    }
}
