//! The Socket.IO gateway (`/socket.io/`, namespace `/`): authentication on
//! the handshake, rooms (`user:{id}`, `chat:{id}`), messages, typing, read
//! markers and presence. Every handler validates its payload and answers an
//! ack `{ok:true,…}` or `{ok:false,error:{code,message}}`; none panics.
//! Wire contract with examples: docs/realtime.md.

mod emitter;
mod handlers;
mod presence;
mod session;

pub use emitter::{Emitter, chat_room, user_room};
pub use presence::Presence;

use crate::service::Service;
use socketioxide::{SocketIo, handler::ConnectHandler, layer::SocketIoLayer};
use std::time::Duration;

/// Largest Socket.IO packet accepted (a 4,000-character message is ~16 KiB).
pub const MAX_PAYLOAD: u64 = 64 * 1024;

/// Builds the Socket.IO layer for the axum router and connects the service's
/// emitter to it.
pub fn layer(service: Service) -> (SocketIoLayer, SocketIo) {
    let (layer, io) = SocketIo::builder()
        .with_state(service.clone())
        .max_payload(MAX_PAYLOAD)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
        .build_layer();
    io.ns("/", handlers::on_connect.with(handlers::authenticate));
    service.emitter().attach(io.clone());
    (layer, io)
}
