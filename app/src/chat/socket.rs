//! wasm-bindgen binding to the official socket.io-client (global `io`, loaded by
//! a script tag in the shell) and the glue that feeds its events into the
//! `ChatContext`.

use super::ChatContext;
use crate::model::ConnectionStatus;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A socket.io-client `Socket`.
    #[derive(Clone)]
    pub type Socket;

    /// The socket.io-client `Manager` behind a socket (reconnection lives there).
    pub type Manager;

    /// `io(opts)`: connects to the page's own origin.
    #[wasm_bindgen(js_name = io)]
    fn io_connect(opts: &JsValue) -> Socket;

    #[wasm_bindgen(method)]
    fn on(this: &Socket, event: &str, handler: &js_sys::Function);

    #[wasm_bindgen(method, getter)]
    fn io(this: &Socket) -> Manager;

    #[wasm_bindgen(method, js_name = on)]
    fn on_manager(this: &Manager, event: &str, handler: &js_sys::Function);
}

fn listen<F: FnMut(JsValue) + 'static>(socket: &Socket, event: &str, f: F) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(f);
    socket.on(event, closure.as_ref().unchecked_ref());
    // The socket lives as long as the page, so its handlers do too.
    closure.forget();
}

fn listen_manager<F: FnMut(JsValue) + 'static>(manager: &Manager, event: &str, f: F) {
    let closure = Closure::<dyn FnMut(JsValue)>::new(f);
    manager.on_manager(event, closure.as_ref().unchecked_ref());
    closure.forget();
}

pub(super) fn connect(ctx: ChatContext) {
    let opts = js_sys::Object::new();
    // WebSocket first, long-polling as the fallback socket.io-client brings.
    let transports = js_sys::Array::of2(&"websocket".into(), &"polling".into());
    let _ = js_sys::Reflect::set(&opts, &"transports".into(), &transports);
    let socket = io_connect(&opts);

    listen(&socket, "connect", move |_| {
        ctx.status.set(ConnectionStatus::Connected)
    });
    listen(&socket, "disconnect", move |_| {
        ctx.status.set(ConnectionStatus::Reconnecting(0))
    });
    listen(&socket, "connect_error", move |_| {
        if ctx.status.get_untracked() == ConnectionStatus::Connecting {
            return;
        }
        ctx.status.set(ConnectionStatus::Reconnecting(0));
    });
    let manager = socket.io();
    listen_manager(&manager, "reconnect_attempt", move |attempt| {
        let n = attempt.as_f64().unwrap_or(0.0) as u32;
        ctx.status.set(ConnectionStatus::Reconnecting(n));
    });
}
