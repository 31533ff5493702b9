//! The safety net under leaving a chat. When a settlement (or a takeover)
//! takes an LSM out of a chat, the service removes their sockets from the
//! chat's room on every node through the adapter; a node that misses that
//! request (Redis failed or was reconnecting at that moment) would keep
//! delivering the chat to them for good. So every sweep (`SWEEP`, with the
//! revocation sweep) each node lists which chat rooms its sockets are in,
//! asks the database in one query which of those users are still in those
//! chats, and takes the others out, telling each such socket with a
//! `user_left` that names its own user.

use super::SocketSink;
use crate::service::Service;
use contract::model::{ChatId, UserId};

pub(super) async fn sweep(service: &Service, sink: &SocketSink) {
    let mut held = Vec::new();
    for (sid, sess) in sink.local_sessions() {
        for chat in sink.chat_rooms_of(sid) {
            held.push((sid, sess.clone(), chat));
        }
    }
    if held.is_empty() {
        return;
    }
    let mut pairs: Vec<(ChatId, UserId)> = held.iter().map(|(_, s, c)| (*c, s.user.id)).collect();
    pairs.sort_unstable();
    pairs.dedup();
    // A few hundred pairs a query keeps each one small.
    let mut current = std::collections::HashSet::new();
    for chunk in pairs.chunks(500) {
        match service.current_members(chunk).await {
            Ok(found) => current.extend(found),
            Err(e) => {
                tracing::warn!(error = %e, "live rooms not checked this sweep");
                return;
            }
        }
    }
    for (sid, sess, chat) in held {
        if !current.contains(&(chat, sess.user.id)) {
            tracing::info!(user_id = sess.user.id, chat_id = chat, %sid, "no longer in the chat: out of its room");
            sink.evict(sid, &sess, chat).await;
        }
    }
}
