//! wasm-bindgen binding to the official socket.io-client (global `io`, loaded
//! by a script tag in the shell). Only `ChatContext` uses it.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A socket.io-client `Socket`.
    #[derive(Clone)]
    pub type Socket;

    /// The `Manager` behind a socket (reconnection lives there).
    pub type Manager;

    #[wasm_bindgen(js_name = io)]
    fn io_connect(opts: &JsValue) -> Socket;

    #[wasm_bindgen(method)]
    fn on(this: &Socket, event: &str, handler: &js_sys::Function);

    #[wasm_bindgen(method, getter)]
    fn io(this: &Socket) -> Manager;

    #[wasm_bindgen(method, getter)]
    pub fn connected(this: &Socket) -> bool;

    #[wasm_bindgen(method, js_name = on)]
    fn on_manager(this: &Manager, event: &str, handler: &js_sys::Function);

    #[wasm_bindgen(method)]
    fn timeout(this: &Socket, ms: u32) -> Socket;

    #[wasm_bindgen(method, js_name = emit)]
    fn emit_with_callback(this: &Socket, event: &str, data: &JsValue, ack: &js_sys::Function);

    #[wasm_bindgen(method, js_name = emit)]
    fn emit_plain(this: &Socket, event: &str, data: &JsValue);

    #[wasm_bindgen(method)]
    pub fn disconnect(this: &Socket);

    #[wasm_bindgen(method, js_name = connect)]
    pub fn reconnect(this: &Socket);
}

/// A JS value from a Rust one (plain objects, not Maps).
pub fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

pub fn from_js<T: DeserializeOwned>(v: JsValue) -> Option<T> {
    serde_wasm_bindgen::from_value(v).ok()
}

/// Opens the connection to the page's own origin: WebSocket first, HTTP
/// long-polling as the fallback; the HttpOnly cookie authenticates it.
pub fn connect() -> Socket {
    let opts = js_sys::Object::new();
    let transports = js_sys::Array::of2(
        &JsValue::from_str("websocket"),
        &JsValue::from_str("polling"),
    );
    let _ = js_sys::Reflect::set(&opts, &"transports".into(), &transports);
    let _ = js_sys::Reflect::set(&opts, &"reconnectionDelay".into(), &JsValue::from(500));
    let _ = js_sys::Reflect::set(&opts, &"reconnectionDelayMax".into(), &JsValue::from(5000));
    io_connect(&opts)
}

impl Socket {
    /// Calls `f` with each payload of `event` for the page's lifetime.
    pub fn listen<F: FnMut(JsValue) + 'static>(&self, event: &str, f: F) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        self.on(event, closure.as_ref().unchecked_ref());
        // The socket lives as long as the page, so its handlers do too.
        closure.forget();
    }

    pub fn listen_manager<F: FnMut(JsValue) + 'static>(&self, event: &str, f: F) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        self.io()
            .on_manager(event, closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Emits with an ack; `done` gets `Some(response)` or `None` on timeout.
    pub fn request<T: Serialize, F: FnOnce(Option<JsValue>) + 'static>(
        &self,
        event: &str,
        data: &T,
        timeout_ms: u32,
        done: F,
    ) {
        let callback = Closure::once_into_js(move |err: JsValue, resp: JsValue| {
            if err.is_null() || err.is_undefined() {
                done(Some(resp))
            } else {
                done(None)
            }
        });
        self.timeout(timeout_ms)
            .emit_with_callback(event, &to_js(data), callback.unchecked_ref());
    }

    pub fn send<T: Serialize>(&self, event: &str, data: &T) {
        self.emit_plain(event, &to_js(data));
    }
}
