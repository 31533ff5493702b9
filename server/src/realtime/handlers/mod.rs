//! Socket.IO event handlers, one module per resource: the handshake
//! (`handshake`: who may connect, presence on connect and disconnect),
//! `chats` (join and leave a chat's room), `messages` (send, mark read),
//! `typing`. Each request parses its payload into its `contract::protocol`
//! request type, calls the service and acks with `encode_ack`, through one
//! wrapper (`respond`: session, rate limit, parse, deadline, reply);
//! failures are acks, never panics. Everything emitted is an
//! `contract::protocol::ServerEvent`.

mod chats;
mod handshake;
mod messages;
mod typing;

pub use handshake::{authenticate, on_connect};

use super::chat_room;
use super::session::SocketSession;
use crate::service::{AuthUser, Service, ServiceError};
use contract::error::AppError;
use contract::model::ChatId;
use contract::protocol::{ChatUser, Request, ServerEvent, encode_ack};
use governor::DefaultDirectRateLimiter;
use serde::Serialize;
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The longest a socket request waits (on the database, mostly) before it
/// is answered `unavailable`: a database that stops answering must not
/// leave clients without an ack.
const REQUEST_DEADLINE: Duration = Duration::from_secs(8);

async fn within<T>(
    request: impl std::future::Future<Output = Result<T, ServiceError>>,
) -> Result<T, ServiceError> {
    tokio::time::timeout(REQUEST_DEADLINE, request)
        .await
        .unwrap_or_else(|_| {
            Err(ServiceError::Unavailable(
                "the server could not answer in time; try again".into(),
            ))
        })
}

fn session<A: Adapter>(s: &SocketRef<A>) -> Option<Arc<SocketSession>> {
    s.extensions.get::<Arc<SocketSession>>()
}

/// To this socket only.
fn emit_to_socket<A: Adapter, E: ServerEvent>(s: &SocketRef<A>, event: &E) {
    if let Err(e) = s.emit(E::NAME, event) {
        tracing::debug!(event = E::NAME, error = %e, "emit to socket failed");
    }
}

/// To the others in the chat's room (never this socket), except the sockets
/// in `except`. If the other nodes cannot be reached (Redis down), at least
/// this node's sockets get it.
async fn emit_from<A: Adapter, T: Serialize + ?Sized>(
    s: &SocketRef<A>,
    chat: ChatId,
    except: Option<String>,
    name: &'static str,
    event: &T,
) {
    let to = |local: bool| {
        let op = if local { s.local() } else { s.broadcast() }.to(chat_room(chat));
        match &except {
            Some(room) => op.except(room.clone()),
            None => op,
        }
    };
    match to(false).emit(name, event).await {
        // Transient events (typing, joins): a socket too full to take one
        // loses nothing durable, and the room got it; never re-emit.
        Ok(()) | Err(socketioxide::BroadcastError::Socket(_)) => {}
        Err(e) => {
            tracing::warn!(event = name, error = %e, "room emit to other nodes failed; delivering locally");
            crate::metrics::redis_error("broadcast");
            if let Err(e) = to(true).emit(name, event).await {
                tracing::debug!(event = name, error = %e, "local room emit failed");
            }
        }
    }
}

async fn emit_to_others<A: Adapter, E: ServerEvent>(s: &SocketRef<A>, chat: ChatId, event: &E) {
    emit_from(s, chat, None, E::NAME, event).await
}

fn chat_user(user: &AuthUser) -> ChatUser {
    ChatUser {
        id: user.id,
        name: user.name.clone(),
        role: user.role,
    }
}

/// Acks a request with its outcome, in the shape `contract::protocol` defines.
fn reply<A: Adapter, R: Request>(ack: AckSender<A>, result: Result<R::Reply, ServiceError>) {
    match &result {
        Ok(_) => tracing::info!("ok"),
        Err(ServiceError::Internal(_)) => {} // logged by the conversion below
        Err(e) => tracing::info!(code = %e.code(), error = %e, "socket request refused"),
    }
    let body = encode_ack(&result.map_err(AppError::from));
    if let Err(e) = ack.send(&body) {
        tracing::debug!(error = %e, "ack not sent");
    }
}

/// Parses an event payload into its request type, naming the problem for
/// the client.
fn parse<R: Request>(data: Result<Value, impl std::fmt::Display>) -> Result<R, ServiceError> {
    let value = data.map_err(|e| ServiceError::BadRequest(format!("unreadable payload: {e}")))?;
    if !value.is_object() {
        return Err(ServiceError::BadRequest(
            "payload must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ServiceError::BadRequest(format!("invalid payload: {e}")))
}

/// At most `max` characters of `s`, for echoing client input in errors.
fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}

/// Which rate limit a request counts against.
#[derive(Clone, Copy, Debug)]
enum Limit {
    /// The user's socket events (`JOBCHAT_EVENT_LIMIT_PER_SEC`).
    Events,
    /// This socket's messages (`JOBCHAT_SEND_LIMIT_PER_SEC`).
    Sends,
    /// This socket's typing flags.
    Typing,
}

impl Limit {
    fn check(self, service: &Service, sess: &SocketSession) -> Result<(), ServiceError> {
        let per_socket = |limiter: &DefaultDirectRateLimiter| {
            limiter.check().map_err(|_| ServiceError::RateLimited {
                retry_after_secs: 1,
            })
        };
        match self {
            Self::Events => service.limits().socket_event(sess.user.id),
            Self::Sends => per_socket(&sess.send_limit),
            Self::Typing => per_socket(&sess.typing_limit),
        }
    }
}

/// What every request does around its own `work`: the rate limit, the
/// payload parsed into `R`, and the deadline (`REQUEST_DEADLINE`).
async fn run<R, F>(
    service: &Service,
    sess: &SocketSession,
    limit: Limit,
    data: Result<Value, impl Display>,
    work: impl FnOnce(R) -> F,
) -> Result<R::Reply, ServiceError>
where
    R: Request,
    F: Future<Output = Result<R::Reply, ServiceError>>,
{
    within(async {
        limit.check(service, sess)?;
        let req: R = parse(data)?;
        work(req).await
    })
    .await
}

/// A request from arrival to ack: the socket's session (else
/// `unauthorized`), `run`, and the reply in `R`'s shape.
async fn respond<A, R, F>(
    s: &SocketRef<A>,
    data: Result<Value, impl Display>,
    ack: AckSender<A>,
    service: &Service,
    limit: Limit,
    work: impl FnOnce(Arc<SocketSession>, R) -> F,
) where
    A: Adapter,
    R: Request,
    F: Future<Output = Result<R::Reply, ServiceError>>,
{
    let Some(sess) = session(s) else {
        return reply::<_, R>(ack, Err(ServiceError::Unauthorized));
    };
    let result = run::<R, _>(service, &sess, limit, data, |req| work(sess.clone(), req)).await;
    reply::<_, R>(ack, result);
}
