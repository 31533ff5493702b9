//! What the user sends and what becomes of it: the queued message, how a
//! socket request can fail, and what the outbox does with each answer.
//! Pure, so the outbox's rules are unit-tested; `state::outbox` acts on them.

use crate::error::AppError;
use crate::model::{Attachment, AttachmentId, ChatId, Me, Message, MessageKind};
use crate::protocol::{SendMessage, SendReply};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A message the user sent that the server has not stored yet (kept in
/// localStorage, so it survives reloads): queued, or refused for good and
/// waiting for the user to retry or discard it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub chat_id: ChatId,
    pub client_id: String,
    pub content: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Why the server refused it for good ("Not sent"); `None` while queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Its files, uploaded one by one under `client_id` before the send
    /// (the bytes wait in the browser under each file's key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileUpload>,
}

/// A file of a queued message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileUpload {
    /// Where the runtime keeps its bytes until the message is stored.
    pub key: String,
    pub name: String,
    pub size: u64,
    #[serde(default)]
    pub state: UploadState,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UploadState {
    /// Not uploaded yet (or its answer never came).
    #[default]
    Waiting,
    /// Stored by the server, under this message's client id.
    Done(Attachment),
    /// Refused for good, with the server's reason: the message waits until
    /// the user removes the file or retries.
    Refused(String),
}

impl Outgoing {
    /// The optimistic line shown until the ack arrives (no id, no seq: the
    /// server gives both).
    pub fn pending_message(&self, me: &Me) -> Message {
        Message {
            id: 0,
            chat_id: self.chat_id,
            seq: 0,
            sender_id: Some(me.id),
            sender_name: Some(me.name.clone()),
            sender_role: Some(me.role),
            content: self.content.clone(),
            client_id: Some(self.client_id.clone()),
            kind: MessageKind::User,
            event: None,
            created_at: self.created_at,
            target_id: None,
            revision: None,
            // Its files show as uploads until the stored message has them.
            attachments: Vec::new(),
            masked: false,
        }
    }

    /// The send names exactly the files uploaded under its client id.
    pub fn request(&self) -> SendMessage {
        SendMessage {
            chat_id: self.chat_id,
            content: self.content.clone(),
            client_id: self.client_id.clone(),
            attachments: self.uploaded(),
        }
    }

    pub fn uploaded(&self) -> Vec<AttachmentId> {
        self.files
            .iter()
            .filter_map(|f| match &f.state {
                UploadState::Done(a) => Some(a.id),
                _ => None,
            })
            .collect()
    }

    /// The next file to upload before the send, if any.
    pub fn waiting_file(&self) -> Option<&FileUpload> {
        self.files.iter().find(|f| f.state == UploadState::Waiting)
    }

    /// Keys of the bytes the browser keeps for it.
    pub fn file_keys(&self) -> Vec<String> {
        self.files.iter().map(|f| f.key.clone()).collect()
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

/// Why an upload brought no file.
#[derive(Clone, Debug, PartialEq)]
pub enum UploadFailure {
    /// The server answered and refused (`unsupported_type`, `bad_file`…).
    Refused(AppError),
    /// No answer: offline, or the connection broke.
    Network,
    /// The browser no longer has the bytes (not kept across a reload).
    Missing,
}

/// What the outbox does after a `send_message` request.
#[derive(Clone, Debug, PartialEq)]
pub enum SendOutcome {
    /// Stored: drop it from the outbox, show the stored message, send the next.
    Stored(Message),
    /// Refused for good (not allowed, invalid): drop it and show "Not sent"
    /// with the reason; the user may retry. Then send the next.
    Refused(String),
    /// Refused for now (rate limit, server trouble) or no usable answer
    /// while still connected (the server may have stored it: resends are
    /// idempotent): keep it first in line and try again after
    /// `retry_delay_ms`, so order is kept and nothing is lost.
    TryAgain,
    /// No answer because the connection dropped: it stays queued and goes
    /// out again after the reconnect (resends are idempotent).
    Queued,
}

/// Decides what to do with a send's answer; `connected` is whether the
/// socket is still up when the answer (or the time-out) came. Only a
/// definite refusal gives a message up; anything else keeps it queued.
pub fn after_send(result: Result<SendReply, RequestFailure>, connected: bool) -> SendOutcome {
    match result {
        Ok(reply) => SendOutcome::Stored(reply.message),
        Err(RequestFailure::Refused(e)) if e.code.is_definite() => SendOutcome::Refused(e.message),
        Err(RequestFailure::Refused(_)) => SendOutcome::TryAgain,
        Err(_) if connected => SendOutcome::TryAgain,
        Err(_) => SendOutcome::Queued,
    }
}

/// What to do when a `join_chat` got no reply.
#[derive(Clone, Debug, PartialEq)]
pub enum JoinRetry {
    /// Refused for good (not allowed, no such chat): tell the user.
    GiveUp(String),
    /// Refused for now, or no answer on a live connection: join again after
    /// `retry_delay_ms`.
    TryAgain,
    /// No answer because the connection dropped: the reconnect joins again.
    OnReconnect,
}

/// The rule for joins, the same as for sends (`after_send`).
pub fn after_join_failure(failure: RequestFailure, connected: bool) -> JoinRetry {
    match failure {
        RequestFailure::Refused(e) if e.code.is_definite() => JoinRetry::GiveUp(e.message),
        RequestFailure::Refused(_) => JoinRetry::TryAgain,
        _ if connected => JoinRetry::TryAgain,
        _ => JoinRetry::OnReconnect,
    }
}

/// The next message to send: the first queued one (failed ones wait for
/// the user).
pub fn next_to_send(outbox: &[Outgoing]) -> Option<&Outgoing> {
    outbox.iter().find(|o| o.failed.is_none())
}

/// Refused for good: it stays in the outbox (its text survives reloads)
/// but is no longer sent until the user retries.
pub fn mark_failed(outbox: &mut [Outgoing], client_id: &str, reason: &str) {
    for o in outbox.iter_mut().filter(|o| o.client_id == client_id) {
        o.failed = Some(reason.to_owned());
    }
}

/// The user pressed Retry: `message` is queued again (added if the outbox
/// lost it). Returns whether the outbox changed.
pub fn requeue(outbox: &mut Vec<Outgoing>, message: Outgoing) -> bool {
    match outbox.iter_mut().find(|o| o.client_id == message.client_id) {
        Some(o) if o.failed.is_none() => false,
        Some(o) => {
            o.failed = None;
            true
        }
        None => {
            outbox.push(Outgoing {
                failed: None,
                ..message
            });
            true
        }
    }
}

/// A change to the outbox, applied to the state's copy at once and to the
/// one in localStorage by the runtime.
#[derive(Clone, Debug, PartialEq)]
pub enum OutboxChange {
    /// A new message, last in line.
    Push(Outgoing),
    /// Stored by the server, or discarded by the user.
    Remove(String),
    /// Refused for good, with the reason.
    Failed { client_id: String, reason: String },
    /// The user pressed Retry.
    Requeue(Outgoing),
    /// A message's files changed (one uploaded, refused or removed).
    Files {
        client_id: String,
        files: Vec<FileUpload>,
    },
}

impl OutboxChange {
    /// Applies the change; returns whether the outbox changed.
    pub fn apply(&self, outbox: &mut Vec<Outgoing>) -> bool {
        match self {
            Self::Push(o) => {
                outbox.push(o.clone());
                true
            }
            Self::Remove(client_id) => {
                let before = outbox.len();
                outbox.retain(|o| &o.client_id != client_id);
                outbox.len() != before
            }
            Self::Failed { client_id, reason } => {
                mark_failed(outbox, client_id, reason);
                true
            }
            Self::Requeue(o) => requeue(outbox, o.clone()),
            Self::Files { client_id, files } => {
                match outbox.iter_mut().find(|o| &o.client_id == client_id) {
                    Some(o) if &o.files != files => {
                        o.files.clone_from(files);
                        true
                    }
                    _ => false,
                }
            }
        }
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
        // A time-out while connected is not a refusal: the message stays
        // queued and is sent again (idempotent by client id).
        assert_eq!(
            after_send(Err(RequestFailure::TimedOut), true),
            SendOutcome::TryAgain
        );
        assert_eq!(
            after_send(Err(RequestFailure::Undecodable("x".into())), true),
            SendOutcome::TryAgain
        );
        assert_eq!(
            after_send(Err(RequestFailure::TimedOut), false),
            SendOutcome::Queued
        );
    }

    #[test]
    fn joins_are_retried_unless_refused_for_good() {
        let refused = |code| RequestFailure::Refused(AppError::new(code, "nope"));
        assert_eq!(
            after_join_failure(refused(ErrorCode::NotFound), true),
            JoinRetry::GiveUp("nope".into())
        );
        assert_eq!(
            after_join_failure(refused(ErrorCode::Forbidden), false),
            JoinRetry::GiveUp("nope".into())
        );
        for code in [ErrorCode::Unavailable, ErrorCode::RateLimited] {
            assert_eq!(after_join_failure(refused(code), true), JoinRetry::TryAgain);
        }
        assert_eq!(
            after_join_failure(RequestFailure::TimedOut, true),
            JoinRetry::TryAgain
        );
        assert_eq!(
            after_join_failure(RequestFailure::TimedOut, false),
            JoinRetry::OnReconnect
        );
    }

    fn out(client_id: &str) -> Outgoing {
        Outgoing {
            chat_id: 1,
            client_id: client_id.into(),
            content: format!("text of {client_id}"),
            created_at: chrono::Utc::now(),
            failed: None,
            files: Vec::new(),
        }
    }

    #[test]
    fn failed_messages_stay_but_are_skipped_until_retried() {
        let mut outbox = vec![out("a"), out("b")];
        assert_eq!(
            next_to_send(&outbox).map(|o| o.client_id.as_str()),
            Some("a")
        );
        mark_failed(&mut outbox, "a", "too long");
        assert_eq!(outbox.len(), 2, "a refused message keeps its text");
        assert_eq!(outbox[0].failed.as_deref(), Some("too long"));
        assert_eq!(
            next_to_send(&outbox).map(|o| o.client_id.as_str()),
            Some("b")
        );
        mark_failed(&mut outbox, "b", "no");
        assert_eq!(next_to_send(&outbox), None);

        assert!(requeue(&mut outbox, out("a")));
        assert_eq!(outbox[0].failed, None);
        assert!(!requeue(&mut outbox, out("a")), "already queued");
        assert!(requeue(&mut outbox, out("c")), "a lost one comes back");
        assert_eq!(outbox.len(), 3);
        assert_eq!(
            next_to_send(&outbox).map(|o| o.client_id.as_str()),
            Some("a")
        );
    }

    #[test]
    fn old_outbox_entries_without_the_flag_are_queued() {
        let json =
            r#"[{"chatId":1,"clientId":"x","content":"hi","createdAt":"2026-01-01T00:00:00Z"}]"#;
        let outbox: Vec<Outgoing> = serde_json::from_str(json).expect("old shape");
        assert_eq!(outbox[0].failed, None);
        let mut failed = out("y");
        failed.failed = Some("no".into());
        let back: Outgoing =
            serde_json::from_str(&serde_json::to_string(&failed).expect("json")).expect("json");
        assert_eq!(back, failed);
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
            failed: None,
            files: Vec::new(),
        };
        let m = o.pending_message(&me);
        assert_eq!((m.id, m.seq, m.chat_id, m.sender_id), (0, 0, 3, Some(7)));
        assert_eq!(m.client_id.as_deref(), Some("cid"));
        assert_eq!(
            o.request(),
            SendMessage {
                chat_id: 3,
                content: "hi".into(),
                client_id: "cid".into(),
                attachments: Vec::new(),
            }
        );
    }
}
