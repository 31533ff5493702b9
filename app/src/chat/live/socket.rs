//! wasm-bindgen binding to the official socket.io-client (global `io`, loaded
//! by a script tag in the shell), with typed helpers over `contract::protocol`:
//! events are listened to and requests sent by their payload type, never by
//! a name string or a JSON key.

use crate::chat::outgoing::RequestFailure;
use crate::protocol::{Request, ServerEvent, decode_ack};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// A socket.io-client `Socket`.
    #[derive(Clone)]
    pub type Socket;

    /// The `Manager` behind a socket (reconnection lives there).
    type Manager;

    #[wasm_bindgen(js_name = io)]
    fn io_connect(opts: &JsValue) -> Socket;

    #[wasm_bindgen(method, js_name = on)]
    fn on_js(this: &Socket, event: &str, handler: &js_sys::Function);

    #[wasm_bindgen(method, getter)]
    fn io(this: &Socket) -> Manager;

    #[wasm_bindgen(method, getter)]
    pub fn connected(this: &Socket) -> bool;

    #[wasm_bindgen(method, js_name = on)]
    fn on_manager(this: &Manager, event: &str, handler: &js_sys::Function);

    /// The Engine.IO connection under a manager (a new one per reconnect).
    type Engine;

    /// Engine.IO's current transport (`polling`, `websocket`).
    type Transport;

    #[wasm_bindgen(method, getter)]
    fn engine(this: &Manager) -> Option<Engine>;

    #[wasm_bindgen(method, getter)]
    fn transport(this: &Engine) -> Option<Transport>;

    #[wasm_bindgen(method, js_name = on)]
    fn on_engine(this: &Engine, event: &str, handler: &js_sys::Function);

    #[wasm_bindgen(method, getter)]
    fn name(this: &Transport) -> String;

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
fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Opens the connection to the page's own origin; the HttpOnly cookie
/// authenticates it. socket.io-client's default path: HTTP long-polling
/// first, then an upgrade to WebSocket when one gets through. (With
/// `transports: ["websocket", "polling"]` it would retry WebSocket forever
/// where WebSocket is blocked, never falling back.)
pub fn connect() -> Socket {
    let opts = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&opts, &"reconnectionDelay".into(), &JsValue::from(500));
    let _ = js_sys::Reflect::set(&opts, &"reconnectionDelayMax".into(), &JsValue::from(5000));
    io_connect(&opts)
}

impl Socket {
    /// Calls `f` with each payload of the socket-level `event` for the
    /// page's lifetime.
    fn listen<F: FnMut(JsValue) + 'static>(&self, event: &str, f: F) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(f);
        self.on_js(event, closure.as_ref().unchecked_ref());
        // The socket lives as long as the page, so its handlers do too.
        closure.forget();
    }

    /// Calls `f` with every `E` the server pushes. A payload that does not
    /// decode as `E` is logged and skipped.
    pub fn on<E: ServerEvent + 'static>(&self, mut f: impl FnMut(E) + 'static) {
        self.listen(E::NAME, move |v| {
            match serde_wasm_bindgen::from_value::<E>(v) {
                Ok(event) => f(event),
                Err(e) => leptos::logging::warn!("jobchat: bad {} event: {e}", E::NAME),
            }
        });
    }

    /// The connection is up (first time and after every reconnect).
    pub fn on_connect(&self, mut f: impl FnMut() + 'static) {
        self.listen("connect", move |_| f());
    }

    /// The connection dropped, with socket.io-client's reason.
    pub fn on_disconnect(&self, mut f: impl FnMut(String) + 'static) {
        self.listen("disconnect", move |reason| {
            f(reason.as_string().unwrap_or_default())
        });
    }

    /// The handshake failed, with the error's message (`unauthorized` when
    /// the server refused the session).
    pub fn on_connect_error(&self, mut f: impl FnMut(String) + 'static) {
        self.listen("connect_error", move |err| {
            let message = err
                .dyn_ref::<js_sys::Error>()
                .and_then(|e| e.message().as_string())
                .unwrap_or_default();
            f(message)
        });
    }

    /// socket.io-client tries to reconnect (attempt number, from 1).
    pub fn on_reconnect_attempt(&self, mut f: impl FnMut(u32) + 'static) {
        let closure = Closure::<dyn FnMut(JsValue)>::new(move |attempt: JsValue| {
            f(attempt.as_f64().unwrap_or(0.0) as u32)
        });
        self.io()
            .on_manager("reconnect_attempt", closure.as_ref().unchecked_ref());
        closure.forget();
    }

    /// Calls `f` with the transport's name (`polling`, `websocket`) each
    /// time the connection opens and when it upgrades.
    pub fn on_transport(&self, f: impl Fn(String) + 'static) {
        let f = std::rc::Rc::new(f);
        let socket = self.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            let Some(engine) = socket.io().engine() else {
                return;
            };
            if let Some(t) = engine.transport() {
                f(t.name());
            }
            let f = f.clone();
            let upgraded = Closure::<dyn FnMut(JsValue)>::new(move |t: JsValue| {
                f(t.unchecked_into::<Transport>().name())
            });
            engine.on_engine("upgrade", upgraded.as_ref().unchecked_ref());
            // Lives as long as its engine (one connection).
            upgraded.forget();
        });
        self.io()
            .on_manager("open", on_open.as_ref().unchecked_ref());
        on_open.forget();
    }

    /// Sends `req` and calls `done` once with the decoded reply, the
    /// server's refusal, or why there was no usable answer.
    pub fn request<R: Request>(
        &self,
        req: &R,
        timeout_ms: u32,
        done: impl FnOnce(Result<R::Reply, RequestFailure>) + 'static,
    ) {
        let callback = Closure::once_into_js(move |err: JsValue, resp: JsValue| {
            if !(err.is_null() || err.is_undefined()) {
                return done(Err(RequestFailure::TimedOut));
            }
            let decoded = serde_wasm_bindgen::from_value::<serde_json::Value>(resp)
                .map_err(|e| e.to_string())
                .and_then(|v| decode_ack::<R::Reply>(v).map_err(|e| e.to_string()));
            done(match decoded {
                Ok(Ok(reply)) => Ok(reply),
                Ok(Err(refusal)) => Err(RequestFailure::Refused(refusal)),
                Err(why) => Err(RequestFailure::Undecodable(why)),
            })
        });
        self.timeout(timeout_ms)
            .emit_with_callback(R::NAME, &to_js(req), callback.unchecked_ref());
    }

    /// Sends `req` without waiting for its ack (the typing flag: the next
    /// change supersedes it anyway).
    pub fn emit<R: Request>(&self, req: &R) {
        self.emit_plain(R::NAME, &to_js(req));
    }
}
