//! The handshake and the socket's life: who may connect (a valid session,
//! from an allowed origin, within the socket and handshake limits), the
//! handlers every socket gets, presence when it connects and after it
//! disconnects.

use super::chats::{join_chat, leave_chat};
use super::messages::{delete_message, edit_message, mark_read, send_message};
use super::typing::{emit_typing, typing};
use super::{chat_user, emit_to_others, emit_to_socket, reply, session, truncate};
use crate::auth::OriginPolicy;
use crate::realtime::presence::OFFLINE_GRACE;
use crate::realtime::session::{SocketCounts, SocketSession};
use crate::realtime::{SocketSink, session_room, user_room};
use crate::service::{Service, ServiceError};
use contract::model::UserId;
use contract::protocol::{
    Connected, DeleteMessage, EditMessage, HandshakeAuth, JoinChat, LeaveChat, MarkRead, Refused,
    Request, SendMessage, SetTyping, UserLeft,
};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

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
    State(rules): State<crate::realtime::Handshake>,
    State(counts): State<Arc<SocketCounts>>,
) -> Result<(), Refused> {
    // Before anything costs a database read: a connect/close loop would
    // otherwise buy a read, a contacts query and presence events per turn.
    let ip = crate::client_ip::resolve(s.req_parts(), rules.client_ip_header.as_ref());
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
    s.on(EditMessage::NAME, edit_message::<A>);
    s.on(DeleteMessage::NAME, delete_message::<A>);
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
