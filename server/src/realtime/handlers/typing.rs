//! `typing`: a flag the others in the chat's room see for `TYPING_TTL`
//! unless it is refreshed or cleared.

use super::{Limit, emit_from, respond};
use crate::realtime::{chat_room, user_room};
use crate::service::{AuthUser, Service};
use contract::model::ChatId;
use contract::protocol::{Empty, ServerEvent, SetTyping, Typing};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use std::time::Duration;

/// How long a typing flag lives without a refresh.
pub const TYPING_TTL: Duration = Duration::from_secs(5);

/// To the others in the room: never to the typer's own sockets.
pub(super) async fn emit_typing<A: Adapter>(
    s: &SocketRef<A>,
    user: &AuthUser,
    chat: ChatId,
    is_typing: bool,
) {
    let event = Typing {
        chat_id: chat,
        user_id: user.id,
        name: user.name.clone(),
        is_typing,
    };
    emit_from(s, chat, Some(user_room(user.id)), Typing::NAME, &event).await
}

pub(super) async fn typing<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let (s, service) = (&s, &service);
    respond::<_, SetTyping, _>(
        s,
        data,
        ack,
        service,
        Limit::Typing,
        |sess, req| async move {
            if !sess.is_in(req.chat_id) || !s.rooms().contains(&chat_room(req.chat_id).into()) {
                // Not joined from this socket (or taken out of the room since,
                // e.g. an LSM whose dispute was settled on another node): check
                // the database (not cached, so a participant who lost access is
                // refused at once).
                service.authorize_chat(&sess.user, req.chat_id).await?;
            }
            if req.is_typing {
                let generation = sess.typing_started(req.chat_id);
                emit_typing(s, &sess.user, req.chat_id, true).await;
                let (s, sess, chat) = (s.clone(), sess.clone(), req.chat_id);
                tokio::spawn(async move {
                    tokio::time::sleep(TYPING_TTL).await;
                    if s.connected() && sess.typing_stopped(chat, Some(generation)) {
                        emit_typing(&s, &sess.user, chat, false).await;
                    }
                });
            } else if sess.typing_stopped(req.chat_id, None) {
                emit_typing(s, &sess.user, req.chat_id, false).await;
            }
            Ok(Empty {})
        },
    )
    .await
}
