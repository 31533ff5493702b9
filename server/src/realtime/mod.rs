//! The Socket.IO gateway (`/socket.io/`, namespace `/`): authentication on
//! the handshake, rooms (`user:{id}`, `chat:{id}`), messages, typing, read
//! markers and presence. Every handler parses its payload into its
//! `contract::protocol` request type, calls the service, and acks with
//! `contract::protocol::encode_ack` (`{ok:true,…}` or `{ok:false,error:{…}}`);
//! none panics. It emits only `contract::protocol::ServerEvent` types, and it
//! delivers the service's events as the service's `EventSink` (`sink`).
//!
//! One node runs socketioxide's in-memory adapter. With a cluster (Redis),
//! socketioxide's Redis adapter carries every room emit to the other nodes,
//! presence is counted across nodes, and `upkeep` keeps this node's
//! heartbeat, reaps nodes that died and resyncs after a Redis outage.
//! Wire contract with examples: docs/realtime.md.

mod handlers;
mod in_flight;
mod membership;
mod presence;
mod revocation;
mod session;
mod sink;
mod upkeep;

pub use presence::{OFFLINE_GRACE, Presence};
pub use revocation::SWEEP as REVOCATION_SWEEP;
pub use sink::{SocketSink, chat_room, session_room, user_room};

use crate::auth::{OriginPolicy, SessionCookie};
use crate::cluster::ClusterAdapter;
use crate::service::Service;
use anyhow::Context;
use socketioxide::adapter::{Adapter, Emitter, LocalAdapter};
use socketioxide::layer::SocketIoLayer;
use socketioxide::{SocketIo, SocketIoBuilder, handler::ConnectHandler};
use socketioxide_redis::RedisAdapterConfig;
use std::sync::Arc;
use std::time::Duration;

/// Largest Socket.IO packet accepted (a 4,000-character message is ~16 KiB).
pub const MAX_PAYLOAD: u64 = 64 * 1024;

/// Per-socket limits from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `JOBCHAT_SEND_LIMIT_PER_SEC`.
    pub send_per_sec: u32,
    /// `JOBCHAT_MAX_SOCKETS_PER_USER` (on this node).
    pub sockets_per_user: u32,
}

/// What the handshake needs from the configuration.
#[derive(Clone, Debug)]
pub struct Handshake {
    pub limits: Limits,
    /// Which cookie carries the session.
    pub cookie: SessionCookie,
    /// Which page origins may open a cookie-authenticated socket.
    pub origins: OriginPolicy,
    /// `JOBCHAT_CLIENT_IP_HEADER`: where the client's address is, for the
    /// per-address handshake limit (as REST reads it).
    pub client_ip_header: Option<axum::http::HeaderName>,
}

/// The Socket.IO layer, for whichever adapter the gateway runs on.
pub enum Layer {
    Local(SocketIoLayer<LocalAdapter>),
    Cluster(SocketIoLayer<ClusterAdapter<Emitter>>),
}

impl Layer {
    /// Adds the layer to the router.
    pub fn apply<S: Clone + Send + Sync + 'static>(
        self,
        router: axum::Router<S>,
    ) -> axum::Router<S> {
        match self {
            Self::Local(layer) => router.layer(layer),
            Self::Cluster(layer) => router.layer(layer),
        }
    }
}

fn configure<A: Adapter>(
    builder: SocketIoBuilder<A>,
    service: Service,
    sink: &Arc<SocketSink>,
    handshake: Handshake,
) -> SocketIoBuilder<A> {
    builder
        .with_state(service)
        .with_state(sink.clone())
        .with_state(session::SocketCounts::new(
            handshake.limits.sockets_per_user,
        ))
        .with_state(handshake)
        // The same bound on both transports: long-polling bodies by
        // `max_payload`, WebSocket messages and frames by these two (their
        // defaults, 64 MiB and 16 MiB, would read and parse a multi-megabyte
        // frame from a client that has not even authenticated). A frame over
        // the limit closes that connection.
        .max_payload(MAX_PAYLOAD)
        .ws_max_message_size(MAX_PAYLOAD as usize)
        .ws_max_frame_size(MAX_PAYLOAD as usize)
        // Per socket: most frames are a few hundred bytes; the buffer grows
        // for a larger one. 4 KiB (the default) times 10,000 idle sockets
        // is 40 MB of mostly empty buffers.
        .ws_read_buffer_size(1024)
        .ping_interval(Duration::from_secs(20))
        .ping_timeout(Duration::from_secs(20))
        .connect_timeout(Duration::from_secs(10))
}

/// Builds the gateway and attaches `sink` (the one the service was given)
/// to it. With `sink`'s cluster, the Redis adapter's channels are
/// subscribed before this returns and the upkeep loop is started.
pub async fn layer(
    service: Service,
    sink: Arc<SocketSink>,
    handshake: Handshake,
) -> anyhow::Result<Layer> {
    match sink.presence().cluster().cloned() {
        None => {
            let (layer, io) =
                configure(SocketIo::builder(), service.clone(), &sink, handshake).build_layer();
            io.ns("/", handlers::on_connect.with(handlers::authenticate));
            sink.attach(Arc::new(io));
            revocation::start(service, sink);
            Ok(Layer::Local(layer))
        }
        Some(cluster) => {
            let adapter = socketioxide_redis::RedisAdapterCtr::new_with_driver(
                cluster.driver(),
                // A deep buffer: a full one drops events (clients then fetch
                // the gap), so it should only fill under real overload.
                RedisAdapterConfig::new()
                    .with_prefix(format!("{}:socket.io", cluster.prefix()))
                    .with_stream_buffer(16 * 1024),
            );
            let builder = SocketIo::builder().with_adapter::<ClusterAdapter<_>>(adapter);
            let (layer, io) = configure(builder, service.clone(), &sink, handshake).build_layer();
            io.ns("/", handlers::on_connect.with(handlers::authenticate))
                .await
                .context("cannot subscribe the Socket.IO adapter's Redis channels")?;
            sink.attach(Arc::new(io));
            revocation::start(service.clone(), sink.clone());
            upkeep::start(cluster, service, sink);
            Ok(Layer::Cluster(layer))
        }
    }
}
