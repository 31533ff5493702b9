//! The Socket.IO gateway (`/socket.io/`, namespace `/`): authentication on
//! the handshake, rooms (`user:{id}`, `chat:{id}`), messages, typing, read
//! markers and presence. Every handler parses its payload into its
//! `app::protocol` request type, calls the service, and acks with
//! `app::protocol::encode_ack` (`{ok:true,…}` or `{ok:false,error:{…}}`);
//! none panics. It emits only `app::protocol::ServerEvent` types, and it
//! delivers the service's events as the service's `EventSink` (`sink`).
//! Wire contract with examples: docs/realtime.md.

mod handlers;
mod presence;
mod session;
mod sink;

pub use presence::Presence;
pub use sink::{SocketSink, chat_room, user_room};

use crate::service::Service;
use socketioxide::{SocketIo, handler::ConnectHandler, layer::SocketIoLayer};
use std::sync::Arc;
use std::time::Duration;

/// Largest Socket.IO packet accepted (a 4,000-character message is ~16 KiB).
pub const MAX_PAYLOAD: u64 = 64 * 1024;

/// Builds the Socket.IO layer for the axum router and attaches `sink` (the
/// one the service was given) to it.
pub fn layer(service: Service, sink: Arc<SocketSink>) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(service)
        .with_state(sink.presence().clone())
        .max_payload(MAX_PAYLOAD)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .build_layer();
    io.ns("/", handlers::on_connect.with(handlers::authenticate));
    sink.attach(io.clone());
    (layer, io)
}
