//! `join_chat` and `leave_chat`: a socket enters a chat's room (with the
//! catch-up after the newest seq it holds, and who is there) and leaves it.

use super::typing::emit_typing;
use super::{Limit, chat_user, emit_to_others, emit_to_socket, reply, respond, run, session};
use crate::realtime::session::SocketSession;
use crate::realtime::{SocketSink, chat_room};
use crate::service::{Service, ServiceError, cursor, history_page};
use contract::model::ChatId;
use contract::protocol::{
    JoinChat, JoinReply, JoinedChat, LeaveChat, LeaveReply, UserJoined, UserLeft,
};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use std::sync::Arc;
use tracing::Instrument;

pub(super) async fn join_chat<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let Some(sess) = session(&s) else {
        return reply::<_, JoinChat>(ack, Err(ServiceError::Unauthorized));
    };
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
        let (s_ref, sess_ref, sink_ref, service_ref) = (&s, &sess, &sink, &service);
        let joined_ref = &mut joined;
        let result = run::<JoinChat, _>(&service, &sess, Limit::Events, data, |req| async move {
            let (s, sess, sink, service) = (s_ref, sess_ref, sink_ref, service_ref);
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
            *joined_ref = Some(chat);
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
            emit_to_socket(s, &JoinedChat { chat_id: chat });
            if first_tab == Some(true) {
                let joined = UserJoined {
                    chat_id: chat,
                    user: chat_user(&sess.user),
                };
                emit_to_others(s, chat, &joined).await;
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

pub(super) async fn leave_chat<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
    State(sink): State<Arc<SocketSink>>,
) {
    let (s, sink) = (&s, &sink);
    respond::<_, LeaveChat, _>(
        s,
        data,
        ack,
        &service,
        Limit::Events,
        |sess, req| async move {
            let chat = req.chat_id;
            tracing::info!(user_id = sess.user.id, chat_id = chat, "leave_chat");
            if sess.typing_stopped(chat, None) {
                emit_typing(s, &sess.user, chat, false).await;
            }
            leave_room(s, &sess, sink, chat).await;
            Ok(LeaveReply { chat_id: chat })
        },
    )
    .await
}

/// Takes the socket out of the chat's room; the others hear `user_left`
/// when it was the user's last socket there.
pub(super) async fn leave_room<A: Adapter>(
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
