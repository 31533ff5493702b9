//! `send_message`, `edit_message`, `delete_message` and `mark_read`.

use super::{Limit, respond};
use crate::service::{Send, Service};
use contract::protocol::{DeleteMessage, EditMessage, Empty, MarkRead, SendMessage, SendReply};
use contract::validate::{ClientId, MessageText};
use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef, State, TryData};
use tracing::Instrument;

pub(super) async fn send_message<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let arrived = std::time::Instant::now();
    let service = &service;
    let span = tracing::info_span!(
        "send_message",
        user_id = tracing::field::Empty,
        chat_id = tracing::field::Empty
    );
    respond::<_, SendMessage, _>(
        &s,
        data,
        ack,
        service,
        Limit::Sends,
        |sess, req| async move {
            let span = tracing::Span::current();
            span.record("user_id", sess.user.id);
            span.record("chat_id", req.chat_id);
            let send = Send::parse(&req)?;
            // Membership is checked in the storing transaction.
            let message = service.post_message(&sess.user, req.chat_id, send).await?;
            crate::metrics::send_acked(arrived.elapsed());
            Ok(SendReply { message })
        },
    )
    .instrument(span)
    .await
}

pub(super) async fn edit_message<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let service = &service;
    // Counted as sends: an edit is stored and broadcast like a message.
    respond::<_, EditMessage, _>(
        &s,
        data,
        ack,
        service,
        Limit::Sends,
        |sess, req| async move {
            let text = MessageText::parse(&req.content)?;
            let client_id = ClientId::parse(&req.client_id)?;
            let message = service
                .edit_message(&sess.user, req.chat_id, req.message_id, text, client_id)
                .await?;
            Ok(SendReply { message })
        },
    )
    .await
}

pub(super) async fn delete_message<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let service = &service;
    respond::<_, DeleteMessage, _>(
        &s,
        data,
        ack,
        service,
        Limit::Sends,
        |sess, req| async move {
            let message = service
                .delete_message(&sess.user, req.chat_id, req.message_id)
                .await?;
            Ok(SendReply { message })
        },
    )
    .await
}

pub(super) async fn mark_read<A: Adapter>(
    s: SocketRef<A>,
    TryData(data): TryData<Value>,
    ack: AckSender<A>,
    State(service): State<Service>,
) {
    let service = &service;
    respond::<_, MarkRead, _>(
        &s,
        data,
        ack,
        service,
        Limit::Events,
        |sess, req| async move {
            service
                .mark_read(&sess.user, req.chat_id, req.message_id)
                .await?;
            Ok(Empty {})
        },
    )
    .await
}
