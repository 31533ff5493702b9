//! What the world says, turned into messages for the state: the socket's
//! lifecycle and pushed events, the browser's online/offline events, the
//! tab coming back into view.

use super::runtime::dispatch;
use super::socket::Socket;
use crate::chat::ChatContext;
use crate::chat::state::{Msg, Pushed};
use crate::protocol::{
    ChatCreated, ChatRead, DisputeCaseChanged, DisputeResolved, LsmInvited, ModerationChanged,
    NewMessage, NewNotification, PresenceChanged, ReadMarker, Refused, Resync, Typing, UserJoined,
    UserLeft,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The socket's lifecycle and every event the state cares about.
pub fn socket(ctx: ChatContext, s: &Socket) {
    let push = move |p: Pushed| dispatch(ctx, Msg::Pushed(p));
    s.on_transport(move |name| dispatch(ctx, Msg::Transport(name)));
    s.on_connect(move || dispatch(ctx, Msg::Connected));
    s.on_disconnect(move |reason| dispatch(ctx, Msg::Disconnected(reason)));
    s.on_connect_error(move |message| dispatch(ctx, Msg::ConnectFailed(Refused::parse(&message))));
    s.on_reconnect_attempt(move |n| dispatch(ctx, Msg::ReconnectAttempt(n)));

    s.on(move |NewMessage(m)| push(Pushed::NewMessage(m)));
    s.on(move |r: ReadMarker| push(Pushed::Read(r)));
    s.on(move |t: Typing| push(Pushed::Typing(t)));
    s.on(move |p: PresenceChanged| push(Pushed::Presence(p)));
    s.on(move |j: UserJoined| push(Pushed::UserJoined(j)));
    s.on(move |l: UserLeft| push(Pushed::UserLeft(l)));
    s.on(move |_: LsmInvited| push(Pushed::ListChanged));
    s.on(move |_: DisputeResolved| push(Pushed::ListChanged));
    s.on(move |_: ChatCreated| push(Pushed::ListChanged));
    s.on(move |_: Resync| push(Pushed::ListChanged));
    s.on(move |NewNotification(n)| push(Pushed::Notification(n)));
    s.on(move |r: ChatRead| push(Pushed::ChatRead(r)));
    s.on(move |_: ModerationChanged| dispatch(ctx, Msg::ModerationChanged));
    s.on(move |_: DisputeCaseChanged| dispatch(ctx, Msg::DisputesChanged));
}

/// Calls `f` on each of the target's `event`s for the page's lifetime.
fn on(target: &web_sys::EventTarget, event: &str, f: impl FnMut() + 'static) {
    let closure = Closure::<dyn FnMut()>::new(f);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    // The page's lifetime: the listener stays for as long as the page.
    closure.forget();
}

/// The browser's own view of the network, and the tab coming back.
pub fn window(ctx: ChatContext) {
    let Some(w) = web_sys::window() else { return };
    on(&w, "offline", move || dispatch(ctx, Msg::NetworkOffline));
    on(&w, "online", move || dispatch(ctx, Msg::NetworkOnline));
    on(&w, "focus", move || dispatch(ctx, Msg::TabBack));
    if let Some(doc) = w.document() {
        on(&doc, "visibilitychange", move || {
            dispatch(ctx, Msg::TabBack)
        });
    }
}
