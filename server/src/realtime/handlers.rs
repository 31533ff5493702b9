//! Socket.IO event handlers. Each one parses its payload into a typed
//! request, calls the service, and acks; failures are acks, never panics.

use super::session::SocketSession;
use super::{chat_room, user_room};
use crate::http::auth_user::{SESSION_COOKIE, cookie_value};
use crate::service::{AuthUser, Service, ServiceError, events};
use crate::storage::PageQuery;
use app::model::{ChatId, MessageId, Role};
use app::validate::{ClientId, MessageText};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// How long a typing flag lives without a refresh.
pub const TYPING_TTL: Duration = Duration::from_secs(5);
/// Most messages a join's catch-up returns (`hasMore` says if there are more).
pub const CATCH_UP_LIMIT: i64 = 500;

#[derive(Debug)]
pub struct Unauthorized;

impl std::fmt::Display for Unauthorized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client sees this as the connect_error message.
        f.write_str("unauthorized")
    }
}

/// Connect middleware: a token from the handshake's `auth.token`, else the
/// HttpOnly session cookie. Anything missing, forged or expired is refused.
///
/// It also registers the event handlers and joins the user's room. That must
/// happen here, before socketioxide sends the CONNECT packet: the connect
/// handler (`on_connect`) runs later in a spawned task, browsers emit
/// `join_chat` and resend their outbox on `connect`, and an event arriving
/// before its handler exists is silently dropped (no ack ever comes).
pub async fn authenticate(
    s: SocketRef,
    TryData(auth): TryData<Value>,
    State(service): State<Service>,
) -> Result<(), Unauthorized> {
    let token = auth
        .ok()
        .and_then(|v| v.get("token").and_then(Value::as_str).map(str::to_owned))
        .or_else(|| cookie_value(&s.req_parts().headers, SESSION_COOKIE))
        .ok_or(Unauthorized)?;
    let (user, claims) = service.authenticate(&token).map_err(|_| Unauthorized)?;
    let user_id = user.id;
    s.extensions
        .insert(Arc::new(SocketSession::new(user, claims.exp)));
    s.on(events::JOIN_CHAT, join_chat);
    s.on(events::LEAVE_CHAT, leave_chat);
    s.on(events::SEND_MESSAGE, send_message);
    s.on(events::TYPING, typing);
    s.on(events::MARK_READ, mark_read);
    s.on_fallback(|s: SocketRef, Event(event): Event| async move {
        tracing::warn!(sid = %s.id, event, "unknown event ignored");
    });
    s.on_disconnect(on_disconnect);
    s.join(user_room(user_id));
    Ok(())
}

fn session(s: &SocketRef) -> Option<Arc<SocketSession>> {
    s.extensions.get::<Arc<SocketSession>>()
}

pub async fn on_connect(s: SocketRef, State(service): State<Service>) {
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
        let Some(came_online) = sess.count_online(|| service.presence().connect(user.id)) else {
            tracing::info!("closed before its connect handler ran");
            return;
        };
        let _ = s.emit(events::CONNECTED, &json!({ "userId": user.id }));
        expire_at_token_end(&s, &service, &sess);
        if came_online {
            broadcast_presence(&service, user.id, true, None).await;
        }
    }
    .instrument(span)
    .await
}

/// Closes the socket when its token expires (a reconnect then needs a fresh one).
fn expire_at_token_end(s: &SocketRef, service: &Service, sess: &Arc<SocketSession>) {
    let Some(io) = service.emitter().io().cloned() else {
        return;
    };
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

async fn on_disconnect(s: SocketRef, State(service): State<Service>) {
    let Some(sess) = session(&s) else { return };
    sess.closed.notify_one();
    let user = &sess.user;
    tracing::info!(user_id = user.id, sid = %s.id, "disconnected");
    for chat in sess.typing_chats() {
        if sess.typing_stopped(chat, None) {
            emit_typing(&s, user, chat, false).await;
        }
    }
    for chat in sess.joined_chats() {
        if !user_has_other_socket_in(&s, user.id, chat) {
            let payload = json!({ "chatId": chat, "user": user_json(user) });
            let _ = s
                .to(chat_room(chat))
                .emit(events::USER_LEFT, &payload)
                .await;
        }
    }
    if let Some(Some(last_seen)) = sess.uncount_online(|| service.presence().disconnect(user.id)) {
        broadcast_presence(&service, user.id, false, Some(last_seen)).await;
    }
}

async fn broadcast_presence(
    service: &Service,
    user: i64,
    online: bool,
    last_seen: Option<chrono::DateTime<chrono::Utc>>,
) {
    match service.db().contacts_of(user).await {
        Ok(contacts) => {
            let payload = json!({ "userId": user, "online": online, "lastSeen": last_seen });
            service
                .emitter()
                .to_users(&contacts, events::PRESENCE, &payload)
                .await;
        }
        Err(e) => tracing::warn!(user_id = user, error = %e, "presence not broadcast"),
    }
}

fn user_json(user: &AuthUser) -> Value {
    json!({ "id": user.id, "name": user.name, "role": user.role })
}

/// Whether another socket of `user` (another tab) is in the chat's room.
fn user_has_other_socket_in(s: &SocketRef, user: i64, chat: ChatId) -> bool {
    s.within(chat_room(chat))
        .sockets()
        .into_iter()
        .filter(|other| other.id != s.id)
        .any(|other| session(&other).is_some_and(|o| o.user.id == user && o.is_in(chat)))
}

// ---- acks -----------------------------------------------------------------

fn ack_ok(ack: AckSender, mut body: Value) {
    tracing::info!("ok");
    if let Some(obj) = body.as_object_mut() {
        obj.insert("ok".into(), Value::Bool(true));
    }
    if let Err(e) = ack.send(&body) {
        tracing::debug!(error = %e, "ack not sent");
    }
}

fn ack_err(ack: AckSender, err: &ServiceError) {
    if let ServiceError::Internal(e) = err {
        tracing::error!(error = ?e, "internal error in socket handler");
    } else {
        tracing::info!(code = err.code(), error = %err, "socket request refused");
    }
    let body = json!({ "ok": false, "error": { "code": err.code(), "message": err.to_string() } });
    if let Err(e) = ack.send(&body) {
        tracing::debug!(error = %e, "ack not sent");
    }
}

/// Parses an event payload, naming the problem for the client.
fn parse<T: DeserializeOwned>(
    data: Result<Value, impl std::fmt::Display>,
) -> Result<T, ServiceError> {
    let value = data.map_err(|e| ServiceError::BadRequest(format!("unreadable payload: {e}")))?;
    if !value.is_object() {
        return Err(ServiceError::BadRequest(
            "payload must be a JSON object".into(),
        ));
    }
    serde_json::from_value(value)
        .map_err(|e| ServiceError::BadRequest(format!("invalid payload: {e}")))
}

/// Checks (and caches) that the socket's user is in the chat.
async fn ensure_member(
    service: &Service,
    sess: &SocketSession,
    chat: ChatId,
) -> Result<Role, ServiceError> {
    if sess.is_member(chat) {
        return Ok(sess.user.role);
    }
    let role = service.authorize_chat(&sess.user, chat).await?;
    sess.remember_member(chat);
    Ok(role)
}

macro_rules! session_or_return {
    ($s:expr, $ack:expr) => {
        match session(&$s) {
            Some(sess) => sess,
            None => {
                ack_err($ack, &ServiceError::Unauthorized);
                return;
            }
        }
    };
}

// ---- join / leave -----------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinChat {
    chat_id: ChatId,
    after_message_id: Option<MessageId>,
}

async fn join_chat(
    s: SocketRef,
    TryData(data): TryData<Value>,
    ack: AckSender,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack);
    let span = tracing::info_span!(
        "join_chat",
        user_id = sess.user.id,
        chat_id = tracing::field::Empty
    );
    async {
        let result: Result<Value, ServiceError> = async {
            let req: JoinChat = parse(data)?;
            tracing::Span::current().record("chat_id", req.chat_id);
            if req.after_message_id.is_some_and(|a| a < 0) {
                return Err(ServiceError::BadRequest("afterMessageId must be a message id".into()));
            }
            ensure_member(&service, &sess, req.chat_id).await?;
            let first_tab = !user_has_other_socket_in(&s, sess.user.id, req.chat_id);
            let already = sess.is_in(req.chat_id);
            // Join before reading the catch-up so nothing falls between the
            // two; an overlap is harmless (clients de-duplicate by id).
            s.join(chat_room(req.chat_id));
            sess.joined(req.chat_id);
            let _ = s.emit(events::JOINED_CHAT, &json!({ "chatId": req.chat_id }));
            if first_tab && !already {
                let payload = json!({ "chatId": req.chat_id, "user": user_json(&sess.user) });
                let _ = s.to(chat_room(req.chat_id)).emit(events::USER_JOINED, &payload).await;
            }
            let mut body = json!({ "chatId": req.chat_id });
            if let Some(after) = req.after_message_id {
                let page = service
                    .history_authorized(req.chat_id, PageQuery { before: None, after: Some(after), limit: CATCH_UP_LIMIT })
                    .await?;
                body["messages"] = serde_json::to_value(&page.messages).unwrap_or_default();
                body["hasMore"] = Value::Bool(page.has_more);
            }
            let participants = service.db().chat_participants(req.chat_id).await.map_err(ServiceError::from)?;
            let presence: Vec<Value> = participants
                .iter()
                .map(|p| json!({ "userId": p.id, "name": p.name, "role": p.role, "online": service.presence().is_online(p.id), "lastReadMessageId": p.last_read_message_id }))
                .collect();
            body["presence"] = Value::Array(presence);
            Ok(body)
        }
        .await;
        match result {
            Ok(body) => ack_ok(ack, body),
            Err(e) => ack_err(ack, &e),
        }
    }
    .instrument(span)
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeaveChat {
    chat_id: ChatId,
}

async fn leave_chat(s: SocketRef, TryData(data): TryData<Value>, ack: AckSender) {
    let sess = session_or_return!(s, ack);
    let req: LeaveChat = match parse(data) {
        Ok(r) => r,
        Err(e) => return ack_err(ack, &e),
    };
    tracing::info!(user_id = sess.user.id, chat_id = req.chat_id, "leave_chat");
    if sess.typing_stopped(req.chat_id, None) {
        emit_typing(&s, &sess.user, req.chat_id, false).await;
    }
    s.leave(chat_room(req.chat_id));
    if sess.left(req.chat_id) && !user_has_other_socket_in(&s, sess.user.id, req.chat_id) {
        let payload = json!({ "chatId": req.chat_id, "user": user_json(&sess.user) });
        let _ = s
            .to(chat_room(req.chat_id))
            .emit(events::USER_LEFT, &payload)
            .await;
    }
    ack_ok(ack, json!({ "chatId": req.chat_id }));
}

// ---- messages ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage {
    chat_id: ChatId,
    content: String,
    client_id: String,
}

async fn send_message(
    s: SocketRef,
    TryData(data): TryData<Value>,
    ack: AckSender,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack);
    let span = tracing::info_span!(
        "send_message",
        user_id = sess.user.id,
        chat_id = tracing::field::Empty
    );
    async {
        let result: Result<Value, ServiceError> = async {
            if sess.send_limit.check().is_err() {
                return Err(ServiceError::RateLimited {
                    retry_after_secs: 1,
                });
            }
            let req: SendMessage = parse(data)?;
            tracing::Span::current().record("chat_id", req.chat_id);
            let text = MessageText::parse(&req.content)?;
            let client_id = ClientId::parse(&req.client_id)?;
            ensure_member(&service, &sess, req.chat_id).await?;
            let message = service
                .post_message(&sess.user, req.chat_id, text, client_id)
                .await?;
            Ok(json!({ "message": message }))
        }
        .await;
        match result {
            Ok(body) => ack_ok(ack, body),
            Err(e) => ack_err(ack, &e),
        }
    }
    .instrument(span)
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkRead {
    chat_id: ChatId,
    message_id: MessageId,
}

async fn mark_read(
    s: SocketRef,
    TryData(data): TryData<Value>,
    ack: AckSender,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack);
    let result: Result<Value, ServiceError> = async {
        let req: MarkRead = parse(data)?;
        ensure_member(&service, &sess, req.chat_id).await?;
        service
            .mark_read_authorized(&sess.user, req.chat_id, req.message_id)
            .await?;
        Ok(json!({}))
    }
    .await;
    match result {
        Ok(body) => ack_ok(ack, body),
        Err(e) => ack_err(ack, &e),
    }
}

// ---- typing -----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Typing {
    chat_id: ChatId,
    is_typing: bool,
}

/// To the others in the room: never to the typer's own sockets.
async fn emit_typing(s: &SocketRef, user: &AuthUser, chat: ChatId, is_typing: bool) {
    let payload =
        json!({ "chatId": chat, "userId": user.id, "name": user.name, "isTyping": is_typing });
    let _ = s
        .to(chat_room(chat))
        .except(user_room(user.id))
        .emit(events::TYPING, &payload)
        .await;
}

async fn typing(
    s: SocketRef,
    TryData(data): TryData<Value>,
    ack: AckSender,
    State(service): State<Service>,
) {
    let sess = session_or_return!(s, ack);
    let result: Result<(), ServiceError> = async {
        if sess.typing_limit.check().is_err() {
            return Err(ServiceError::RateLimited {
                retry_after_secs: 1,
            });
        }
        let req: Typing = parse(data)?;
        ensure_member(&service, &sess, req.chat_id).await?;
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
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ack_ok(ack, json!({})),
        Err(e) => {
            if !matches!(e, ServiceError::RateLimited { .. }) {
                tracing::debug!(error = %e, "typing refused");
            }
            ack_err(ack, &e)
        }
    }
}
