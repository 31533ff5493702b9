//! Socket.IO event handlers. Each one parses its payload into its
//! `app::protocol` request type, calls the service, and acks with
//! `encode_ack`; failures are acks, never panics. Everything emitted is an
//! `app::protocol::ServerEvent`.

use super::presence::OFFLINE_GRACE;
use super::session::{SocketCounts, SocketSession};
use super::{SocketSink, chat_room, session_room, user_room};
use crate::auth::OriginPolicy;
use crate::service::{AuthUser, Service, ServiceError, cursor, history_page};
use app::error::AppError;
use app::model::{ChatId, UserId};
use app::protocol::{
    ChatUser, Connected, Empty, JoinChat, JoinReply, JoinedChat, LeaveChat, LeaveReply, MarkRead,
    Request, SendMessage, SendReply, ServerEvent, SetTyping, Typing, UserJoined, UserLeft,
    encode_ack,
};
use app::validate::{ClientId, MessageText};
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// How long a typing flag lives without a refresh.
pub const TYPING_TTL: Duration = Duration::from_secs(5);

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

/// Why a handshake was refused; the client sees it as the `connect_error`
/// message.
#[derive(Debug)]
pub enum Refused {
    /// No valid session (the browser then asks to sign in again).
    Unauthorized,
    /// A cookie-authenticated handshake from another site's page.
    ForeignOrigin,
    /// The user already has `JOBCHAT_MAX_SOCKETS_PER_USER` sockets here.
    TooManySockets,
    /// Too many handshakes from this user or address
    /// (`JOBCHAT_HANDSHAKE_LIMIT_PER_…_PER_MIN`): the client's reconnection
    /// backoff tries again later.
    RateLimited,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unauthorized => "unauthorized",
            Self::TooManySockets => "too_many_sockets",
            Self::RateLimited => "rate_limited",
            Self::ForeignOrigin => "forbidden: cross-origin request refused",
        })
    }
}

/// The handshake's auth payload: `io(url, { auth: { token } })`.
#[derive(Deserialize)]
pub struct HandshakeAuth {
    token: String,
}

/// Connect middleware: a token from the handshake's `auth.token`, else the
/// HttpOnly session cookie. Anything missing, forged, expired or revoked
/// (an old token version, a deleted account) is refused. A handshake that
/// relies on the cookie must come from this server's own page origin or an
/// allowed one (`auth::origin`): the browser would send the cookie from any
/// site's page. A token in the auth payload is, like a bearer header,
/// something a foreign page cannot borrow, so it is not checked.
///
/// It also registers the event handlers and joins the user's room. That must
/// happen here, before socketioxide sends the CONNECT packet: the connect
/// handler (`on_connect`) runs later in a spawned task, browsers emit
/// `join_chat` and resend their outbox on `connect`, and an event arriving
/// before its handler exists is silently dropped (no ack ever comes).
pub async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    TryData(auth): TryData<HandshakeAuth>,
    State(service): State<Service>,
    State(rules): State<super::Handshake>,
    State(counts): State<Arc<SocketCounts>>,
) -> Result<(), Refused> {
    // Before anything costs a database read: a connect/close loop would
    // otherwise buy a read, a contacts query and presence events per turn.
    let ip = crate::http::client_ip::resolve(s.req_parts(), rules.client_ip_header.as_ref());
    if service.limits().handshake_from(ip).is_err() {
        tracing::warn!(%ip, "socket refused: too many handshakes from this address");
        return Err(Refused::RateLimited);
    }
    let token = match auth.ok() {
        Some(a) => a.token,
        None => {
            let parts = s.req_parts();
            let token = rules
                .cookie
                .read(&parts.headers)
                .ok_or(Refused::Unauthorized)?;
            if !rules.origins.allows(&parts.headers, &parts.uri) {
                tracing::warn!(
                    origin = OriginPolicy::claimed(&parts.headers),
                    "cross-origin socket handshake refused"
                );
                return Err(Refused::ForeignOrigin);
            }
            token
        }
    };
    let (user, claims) = service
        .authenticate(&token)
        .await
        .map_err(|_| Refused::Unauthorized)?;
    let user_id = user.id;
    if service.limits().handshake_by(user_id).is_err() {
        tracing::warn!(user_id, "socket refused: too many handshakes by this user");
        return Err(Refused::RateLimited);
    }
    let Some(slot) = counts.take(user_id) else {
        tracing::warn!(
            user_id,
            "socket refused: too many open sockets for this user"
        );
        return Err(Refused::TooManySockets);
    };
    s.extensions.insert(Arc::new(SocketSession::new(
        user,
        &claims,
        s.id.to_string(),
        rules.limits.send_per_sec,
        slot,
    )));
    s.on(JoinChat::NAME, join_chat::<A>);
    s.on(LeaveChat::NAME, leave_chat::<A>);
    s.on(SendMessage::NAME, send_message::<A>);
    s.on(SetTyping::NAME, typing::<A>);
    s.on(MarkRead::NAME, mark_read::<A>);
    s.on_fallback(
        |s: SocketRef<A>,
         Event(event): Event,
         ack: AckSender<A>,
         State(service): State<Service>| async move {
            let Some(sess) = session(&s) else { return };
            // Counted like every other non-send event, so a flood of them
            // is refused cheaply.
            let error = match service.limits().socket_event(sess.user.id) {
                Err(e) => e,
                Ok(()) => {
                    // Cut and escaped: the name is whatever the client sent.
                    let event_name = crate::telemetry::loggable_name(&event);
                    tracing::info!(sid = %s.id, event = %event_name, "unknown event refused");
                    ServiceError::BadRequest(format!("unknown event {:?}", truncate(&event, 64)))
                }
            };
            // Any request type whose reply is `{}` shapes the error ack.
            reply::<_, MarkRead>(ack, Err(error));
        },
    );
    s.on_disconnect(on_disconnect::<A>);
    s.join(user_room(user_id));
    if !claims.sid.is_empty() {
        s.join(session_room(&claims.sid));
    }
    Ok(())
}

fn session<A: Adapter>(s: &SocketRef<A>) -> Option<Arc<SocketSession>> {
    s.extensions.get::<Arc<SocketSession>>()
}

// ---- emitting -----------------------------------------------------------------

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

// ---- connect / disconnect ----------------------------------------------------

pub async fn on_connect<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let Some(sess) = session(&s) else {
        // Cannot happen: the middleware refuses sockets it did not tag.
        let _ = s.disconnect();
        return;
    };
    let user = sess.user.clone();
    let span = tracing::info_span!("socket", user_id = user.id, sid = %s.id);
    async {
        tracing::info!("connected");
        // Not counted if the socket already closed (then `on_disconnect`
        // ran first and will not uncount it).
        let Some(came_online) = sess.come_online(sink.presence()).await else {
            tracing::info!("closed before its connect handler ran");
            return;
        };
        crate::metrics::socket_opened();
        emit_to_socket(&s, &Connected { user_id: user.id });
        expire_at_token_end(&s, io, &sess);
        // Back within a departure's grace: the others never heard them go.
        if came_online && !sink.presence().cancel_leaving(user.id).await {
            service.announce_presence(user.id, true, None).await;
        }
    }
    .instrument(span)
    .await
}

/// Closes the socket when its token expires (a reconnect then needs a fresh one).
fn expire_at_token_end<A: Adapter>(s: &SocketRef<A>, io: SocketIo<A>, sess: &Arc<SocketSession>) {
    let sid = s.id;
    let sess = sess.clone();
    // To the millisecond: `exp` is the first second the token is refused in.
    let left_ms = (sess.expires_at.saturating_mul(1000) - chrono::Utc::now().timestamp_millis())
        .max(0) as u64;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(left_ms)) => {
                if let Some(socket) = io.get_socket(sid) {
                    tracing::info!(user_id = sess.user.id, %sid, "token expired: disconnecting");
                    let _ = socket.disconnect();
                }
            }
            _ = sess.closed.notified() => {}
        }
    });
}

async fn on_disconnect<A: Adapter>(
    s: SocketRef<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let Some(sess) = session(&s) else { return };
    sess.closed.notify_one();
    sess.release_slot();
    let user = &sess.user;
    tracing::info!(user_id = user.id, sid = %s.id, "disconnected");
    for chat in sess.typing_chats() {
        if sess.typing_stopped(chat, None) {
            emit_typing(&s, user, chat, false).await;
        }
    }
    let (counted, emptied, offline) = sess.go_offline(sink.presence()).await;
    if counted {
        crate::metrics::socket_closed();
    }
    for chat in emptied {
        let left = UserLeft {
            chat_id: chat,
            user: chat_user(user),
        };
        emit_to_others(&s, chat, &left).await;
    }
    if offline {
        announce_offline_after_grace(&service, &sink, user.id).await;
    }
}

/// The user's last socket closed: contacts hear they went offline only if
/// no socket of theirs connected (on any node) within `OFFLINE_GRACE`, so a
/// reloading tab does not flap (see `presence`). `last_seen` is now.
async fn announce_offline_after_grace(service: &Service, sink: &Arc<SocketSink>, user: UserId) {
    let left_at = chrono::Utc::now();
    let Some(mark) = sink.presence().start_leaving(user).await else {
        service.announce_presence(user, false, Some(left_at)).await;
        return;
    };
    // Shutdown waits for this (bounded), before the pool closes.
    let pending = sink.in_flight();
    let (service, sink) = (service.clone(), sink.clone());
    tokio::spawn(async move {
        let _pending = pending;
        tokio::time::sleep(OFFLINE_GRACE).await;
        let presence = sink.presence();
        // Still pending, and no socket of theirs slipped in between the
        // departure and its mark (that one's online was then told).
        if presence.finish_leaving(user, mark).await
            && !presence.online(&[user]).await.contains(&user)
        {
            service.announce_presence(user, false, Some(left_at)).await;
        }
    });
}

// ---- requests and acks --------------------------------------------------------

/// Acks a request with its outcome, in the shape `app::protocol` defines.
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

macro_rules! session_or_return {
    ($s:expr, $ack:expr, $req:ty) => {
        match session(&$s) {
            Some(sess) => sess,
            None => {
                reply::<_, $req>($ack, Err(ServiceError::Unauthorized));
                return;
            }
        }
    };
}

// ---- join / leave -----------------------------------------------------------

async fn join_chat<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let sess = session_or_return!(s, ack, JoinChat);
    let span = tracing::info_span!(
        "join_chat",
        user_id = sess.user.id,
        chat_id = tracing::field::Empty
    );
    async {
        // What the join did before it failed, to be undone: a refused join
        // (the catch-up read timed out, the database is down) must not
        // leave the socket in the room, half joined, receiving live
        // messages with a gap before them that nobody will fill.
        let mut joined: Option<ChatId> = None;
        let result: Result<JoinReply, ServiceError> = within(async {
            service.limits().socket_event(sess.user.id)?;
            let req: JoinChat = parse(data)?;
            let chat = req.chat_id;
            tracing::Span::current().record("chat_id", chat);
            let after = cursor(req.after_seq, req.after_message_id, "after")?;
            if after.is_some() {
                // Checks the value (at least 0) the way history pages do.
                history_page(None, after, None)?;
            }
            service.authorize_chat(&sess.user, chat).await?;
            // Join before reading the catch-up so nothing falls between the
            // two; an overlap is harmless (clients de-duplicate by seq).
            s.join(chat_room(chat));
            joined = Some(chat);
            let (messages, has_more) = match after {
                Some(after) => {
                    let page = service.catch_up(chat, after).await?;
                    (Some(page.messages), Some(page.has_more))
                }
                None => (None, None),
            };
            let presence = service.chat_presence(chat).await?;
            // Nothing below can fail: only now is the join announced.
            let first_tab = sess.enter_room(sink.presence(), chat).await;
            emit_to_socket(&s, &JoinedChat { chat_id: chat });
            if first_tab == Some(true) {
                let joined = UserJoined {
                    chat_id: chat,
                    user: chat_user(&sess.user),
                };
                emit_to_others(&s, chat, &joined).await;
            }
            Ok(JoinReply {
                chat_id: chat,
                messages,
                has_more,
                presence,
            })
        })
        .await;
        if let (Err(_), Some(chat)) = (&result, joined) {
            // Also when this socket had joined before: the client is told
            // the join failed and will join again, from its newest seq.
            leave_room(&s, &sess, &sink, chat).await;
        }
        reply::<_, JoinChat>(ack, result);
    }
    .instrument(span)
    .await
}

async fn leave_chat<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let sess = session_or_return!(s, ack, LeaveChat);
    if let Err(e) = service.limits().socket_event(sess.user.id) {
        return reply::<_, LeaveChat>(ack, Err(e));
    }
    let req: LeaveChat = match parse(data) {
        Ok(r) => r,
        Err(e) => return reply::<_, LeaveChat>(ack, Err(e)),
    };
    let chat = req.chat_id;
    tracing::info!(user_id = sess.user.id, chat_id = chat, "leave_chat");
    if sess.typing_stopped(chat, None) {
        emit_typing(&s, &sess.user, chat, false).await;
    }
    leave_room(&s, &sess, &sink, chat).await;
    reply::<_, LeaveChat>(ack, Ok(LeaveReply { chat_id: chat }));
}

/// Takes the socket out of the chat's room; the others hear `user_left`
/// when it was the user's last socket there.
async fn leave_room<A: Adapter>(
    s: &SocketRef<A>,
    sess: &SocketSession,
    sink: &SocketSink,
    chat: ChatId,
) {
    s.leave(chat_room(chat));
    if sess.leave_room(sink.presence(), chat).await == Some(true) {
        let left = UserLeft {
            chat_id: chat,
            user: chat_user(&sess.user),
        };
        emit_to_others(s, chat, &left).await;
    }
}

// ---- messages ---------------------------------------------------------------

async fn send_message<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let arrived = std::time::Instant::now();
    let sess = session_or_return!(s, ack, SendMessage);
    let span = tracing::info_span!(
        "send_message",
        user_id = sess.user.id,
        chat_id = tracing::field::Empty
    );
    async {
        let result: Result<SendReply, ServiceError> = within(async {
            if sess.send_limit.check().is_err() {
                return Err(ServiceError::RateLimited {
                    retry_after_secs: 1,
                });
            }
            let req: SendMessage = parse(data)?;
            tracing::Span::current().record("chat_id", req.chat_id);
            let text = MessageText::parse(&req.content)?;
            let client_id = ClientId::parse(&req.client_id)?;
            // Membership is checked in the storing transaction.
            let message = service
                .post_message(&sess.user, req.chat_id, text, client_id)
                .await?;
            Ok(SendReply { message })
        })
        .await;
        if result.is_ok() {
            crate::metrics::send_acked(arrived.elapsed());
        }
        reply::<_, SendMessage>(ack, result);
    }
    .instrument(span)
    .await
}

async fn mark_read<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack, MarkRead);
    let result: Result<Empty, ServiceError> = within(async {
        service.limits().socket_event(sess.user.id)?;
        let req: MarkRead = parse(data)?;
        service
            .mark_read(&sess.user, req.chat_id, req.message_id)
            .await?;
        Ok(Empty {})
    })
    .await;
    reply::<_, MarkRead>(ack, result);
}

// ---- typing -----------------------------------------------------------------

/// To the others in the room: never to the typer's own sockets.
async fn emit_typing<A: Adapter>(s: &SocketRef<A>, user: &AuthUser, chat: ChatId, is_typing: bool) {
    let event = Typing {
        chat_id: chat,
        user_id: user.id,
        name: user.name.clone(),
        is_typing,
    };
    emit_from(s, chat, Some(user_room(user.id)), Typing::NAME, &event).await
}

async fn typing<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack, SetTyping);
    let result: Result<Empty, ServiceError> = within(async {
        if sess.typing_limit.check().is_err() {
            return Err(ServiceError::RateLimited {
                retry_after_secs: 1,
            });
        }
        let req: SetTyping = parse(data)?;
        if !sess.is_in(req.chat_id) || !s.rooms().contains(&chat_room(req.chat_id).into()) {
            // Not joined from this socket (or taken out of the room since,
            // e.g. an LSM whose dispute was settled on another node): check
            // the database (not cached, so a participant who lost access is
            // refused at once).
            service.authorize_chat(&sess.user, req.chat_id).await?;
        }
        if req.is_typing {
            let generation = sess.typing_started(req.chat_id);
            emit_typing(&s, &sess.user, req.chat_id, true).await;
            let (s, sess, chat) = (s.clone(), sess.clone(), req.chat_id);
            tokio::spawn(async move {
                tokio::time::sleep(TYPING_TTL).await;
                if s.connected() && sess.typing_stopped(chat, Some(generation)) {
                    emit_typing(&s, &sess.user, chat, false).await;
                }
            });
        } else if sess.typing_stopped(req.chat_id, None) {
            emit_typing(&s, &sess.user, req.chat_id, false).await;
        }
        Ok(Empty {})
    })
    .await;
    reply::<_, SetTyping>(ack, result);
}

/// At most `max` characters of `s`, for echoing client input in errors.
fn truncate(s: &str, max: usize) -> &str {
    s.char_indices().nth(max).map_or(s, |(i, _)| &s[..i])
}
