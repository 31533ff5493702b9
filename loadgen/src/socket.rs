//! jobchat's Socket.IO contract over the bare client of `sio`.
//!
//! Requests go out as `contract::protocol`'s types under their
//! `Request::NAME`; their acks come back through `decode_ack` as the
//! request's `Reply` or the server's `AppError`; pushed events are read as
//! their `ServerEvent` type. No event name or payload key is spelled out in
//! loadgen: a field renamed in the contract breaks this build, not a
//! benchmark run.

use crate::sio::{Client, OnEvent, SioError};
use contract::error::AppError;
use contract::protocol::{HandshakeAuth, Request, ServerEvent, decode_ack};
use serde_json::Value;
use std::fmt;
use std::time::{Duration, Instant};

/// A request's answer, and when its ack frame was read.
#[derive(Debug)]
pub struct Answer<T> {
    pub reply: Result<T, Refusal>,
    pub at: Instant,
}

/// Why an ack carries no reply.
#[derive(Debug)]
pub enum Refusal {
    /// The server said no (`{"ok":false,"error":{code,message}}`).
    Server(AppError),
    /// Not an ack of this request at all.
    Unreadable(serde_json::Error),
}

impl Refusal {
    /// The error code the reports count refusals by; `unknown` when the
    /// ack is not one the contract can read.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Server(e) => e.code.as_str(),
            Self::Unreadable(_) => "unknown",
        }
    }

    /// A refusal that asking again will not change (the browser's outbox
    /// gives up on these and retries the rest).
    pub fn is_definite(&self) -> bool {
        matches!(self, Self::Server(e) if e.code.is_definite())
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server(e) => write!(f, "{} ({})", e.code, e.message),
            Self::Unreadable(e) => write!(f, "unreadable ack ({e})"),
        }
    }
}

/// Reads an ack body as a `T` reply, or as why there is none.
fn answer<T: serde::de::DeserializeOwned>(data: Value, at: Instant) -> Answer<T> {
    let reply = match decode_ack::<T>(data) {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(e)) => Err(Refusal::Server(e)),
        Err(e) => Err(Refusal::Unreadable(e)),
    };
    Answer { reply, at }
}

// `Client` is defined in `sio`; its typed requests live here, beside the
// contract they speak.
impl Client {
    /// Connects to `ws_url` as the user of `token` (see `Client::connect`).
    pub async fn connect_as(
        ws_url: &str,
        token: &str,
        on_event: Option<OnEvent>,
    ) -> Result<Self, SioError> {
        Self::connect(
            ws_url,
            &HandshakeAuth {
                token: token.to_owned(),
            },
            on_event,
        )
        .await
    }

    /// Emits `request` under its name and waits for the ack, at most
    /// `timeout`.
    pub async fn request<R: Request>(
        &self,
        request: &R,
        timeout: Duration,
    ) -> Result<Answer<R::Reply>, SioError> {
        let ack = self.request_raw(R::NAME, request, timeout).await?;
        Ok(answer(ack.data, ack.at))
    }
}

/// A pushed event as `E`, if it is one (its name, and a payload of its
/// shape).
pub fn event<E: ServerEvent>(name: &str, data: &Value) -> Option<E> {
    if name != E::NAME {
        return None;
    }
    E::deserialize(data).ok()
}

/// A stored user message of chat 3 (tests).
#[cfg(test)]
pub fn message(seq: contract::model::Seq, client_id: Option<&str>) -> contract::model::Message {
    contract::model::Message {
        id: 100 + seq,
        chat_id: 3,
        seq,
        sender_id: Some(1),
        sender_name: Some("Load customer 0".into()),
        sender_role: Some(contract::model::Role::Customer),
        content: "hi".into(),
        client_id: client_id.map(str::to_owned),
        kind: contract::model::MessageKind::User,
        event: None,
        created_at: "2026-11-26T10:00:00Z".parse().expect("a time"),
        target_id: None,
        revision: None,
        attachments: Vec::new(),
        masked: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::error::ErrorCode;
    use contract::protocol::{NewMessage, Resync, SendReply, encode_ack};

    #[test]
    fn acks_read_as_replies_or_refusals() {
        let now = Instant::now();
        let ok = encode_ack::<SendReply>(&Ok(SendReply {
            message: message(2, Some("c-1")),
        }));
        let a = answer::<SendReply>(ok, now);
        assert_eq!(a.reply.expect("a reply").message.seq, 2);
        let refused = encode_ack::<SendReply>(&Err(AppError::new(ErrorCode::Forbidden, "no")));
        let r = answer::<SendReply>(refused, now)
            .reply
            .expect_err("refused");
        assert_eq!((r.code(), r.is_definite()), ("forbidden", true));
        let limited = encode_ack::<SendReply>(&Err(AppError::new(ErrorCode::RateLimited, "slow")));
        let r = answer::<SendReply>(limited, now)
            .reply
            .expect_err("refused");
        assert_eq!((r.code(), r.is_definite()), ("rate_limited", false));
        // `ok` without the reply: not this request's ack.
        let r = answer::<SendReply>(serde_json::json!({ "ok": true }), now)
            .reply
            .expect_err("unreadable");
        assert_eq!((r.code(), r.is_definite()), ("unknown", false));
    }

    #[test]
    fn events_are_read_by_name_and_shape() {
        let data = serde_json::to_value(NewMessage(message(2, Some("c-1")))).expect("serialises");
        let NewMessage(m) = event::<NewMessage>(NewMessage::NAME, &data).expect("a message");
        assert_eq!((m.seq, m.client_id.as_deref()), (2, Some("c-1")));
        assert!(
            event::<NewMessage>(Resync::NAME, &data).is_none(),
            "another name"
        );
        let resync = serde_json::to_value(Resync {}).expect("serialises");
        assert!(
            event::<NewMessage>(NewMessage::NAME, &resync).is_none(),
            "another shape"
        );
        assert!(event::<Resync>(Resync::NAME, &resync).is_some());
    }
}
