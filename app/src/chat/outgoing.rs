//! What the user sends and what becomes of it: the queued message, how a
//! socket request can fail, and what the outbox does with each answer.
//! Pure, so the outbox's rules are unit-tested; `live::outbox` acts on them.

use crate::error::AppError;
use crate::model::{ChatId, Me, Message, MessageKind};
use crate::protocol::{SendMessage, SendReply};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A message the user sent that the server has not acknowledged yet (kept
/// in localStorage, so it survives reloads).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub chat_id: ChatId,
    pub client_id: String,
    pub content: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Outgoing {
    /// The optimistic line shown until the ack arrives.
    pub fn pending_message(&self, me: &Me) -> Message {
        Message {
            id: 0,
            chat_id: self.chat_id,
            sender_id: Some(me.id),
            sender_name: Some(me.name.clone()),
            sender_role: Some(me.role),
            content: self.content.clone(),
            client_id: Some(self.client_id.clone()),
            kind: MessageKind::User,
            created_at: self.created_at,
        }
    }

    pub fn request(&self) -> SendMessage {
        SendMessage {
            chat_id: self.chat_id,
            content: self.content.clone(),
            client_id: self.client_id.clone(),
        }
    }
}

/// Why a socket request brought no reply.
#[derive(Clone, Debug, PartialEq)]
pub enum RequestFailure {
    /// The server answered and refused.
    Refused(AppError),
    /// No answer in time (or the connection dropped first).
    TimedOut,
    /// An answer that is not this request's ack.
    Undecodable(String),
}

impl fmt::Display for RequestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(e) => f.write_str(&e.message),
            Self::TimedOut => f.write_str("No answer from the server"),
            Self::Undecodable(why) => write!(f, "Unreadable answer from the server: {why}"),
        }
    }
}

/// What the outbox does after a `send_message` request.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// Stored: drop it from the outbox, show the stored message, send the next.
    Stored(Message),
    /// Refused for good (not allowed, invalid): drop it and show "Not sent"
    /// with the reason; the user may retry. Then send the next.
    Refused(String),
    /// Refused for now (rate limit, server trouble): keep it first in line
    /// and try again after `retry_delay_ms`, so order is kept.
    TryAgain,
    /// No usable answer while still connected: drop it and show "Not sent".
    NoAnswer,
    /// No answer because the connection dropped: it stays queued and goes
    /// out again after the reconnect (resends are idempotent).
    Queued,
}

/// Decides what to do with a send's answer; `connected` is whether the
/// socket is still up when the answer (or the time-out) came.
pub fn after_send(result: Result<SendReply, RequestFailure>, connected: bool) -> SendOutcome {
    match result {
        Ok(reply) => SendOutcome::Stored(reply.message),
        Err(RequestFailure::Refused(e)) if e.code.is_definite() => SendOutcome::Refused(e.message),
        Err(RequestFailure::Refused(_)) => SendOutcome::TryAgain,
        Err(_) if connected => SendOutcome::NoAnswer,
        Err(_) => SendOutcome::Queued,
    }
}

/// Wait before the `attempt`-th retry of a refused-for-now send: 1 s, then
/// doubling up to 15 s.
pub fn retry_delay_ms(attempt: u32) -> u32 {
    1_000u32.saturating_mul(1 << attempt.min(4)).min(15_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::thread::tests::msg;
    use crate::error::ErrorCode;
    use crate::model::Role;

    fn refused(code: ErrorCode) -> Result<SendReply, RequestFailure> {
        Err(RequestFailure::Refused(AppError::new(code, "nope")))
    }

    #[test]
    fn outcomes() {
        let stored = msg(4, Some("c"));
        let ok = Ok(SendReply {
            message: stored.clone(),
        });
        assert_eq!(after_send(ok, true), SendOutcome::Stored(stored));
        assert_eq!(
            after_send(refused(ErrorCode::Forbidden), true),
            SendOutcome::Refused("nope".into())
        );
        assert_eq!(
            after_send(refused(ErrorCode::PayloadTooLarge), false),
            SendOutcome::Refused("nope".into())
        );
        for code in [
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(after_send(refused(code), true), SendOutcome::TryAgain);
        }
        assert_eq!(
            after_send(Err(RequestFailure::TimedOut), true),
            SendOutcome::NoAnswer
        );
        assert_eq!(
            after_send(Err(RequestFailure::Undecodable("x".into())), true),
            SendOutcome::NoAnswer
        );
        assert_eq!(
            after_send(Err(RequestFailure::TimedOut), false),
            SendOutcome::Queued
        );
    }

    #[test]
    fn retry_delays_grow_and_stop_growing() {
        assert_eq!(retry_delay_ms(0), 1_000);
        assert_eq!(retry_delay_ms(1), 2_000);
        assert_eq!(retry_delay_ms(3), 8_000);
        assert_eq!(retry_delay_ms(4), 15_000);
        assert_eq!(retry_delay_ms(40), 15_000);
    }

    #[test]
    fn pending_line_and_request_carry_the_client_id() {
        let me = Me {
            id: 7,
            name: "Alice".into(),
            role: Role::Customer,
        };
        let o = Outgoing {
            chat_id: 3,
            client_id: "cid".into(),
            content: "hi".into(),
            created_at: chrono::Utc::now(),
        };
        let m = o.pending_message(&me);
        assert_eq!((m.id, m.chat_id, m.sender_id), (0, 3, Some(7)));
        assert_eq!(m.client_id.as_deref(), Some("cid"));
        assert_eq!(
            o.request(),
            SendMessage {
                chat_id: 3,
                content: "hi".into(),
                client_id: "cid".into()
            }
        );
    }
}
