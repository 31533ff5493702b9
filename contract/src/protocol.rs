//! The Socket.IO wire contract, shared by `server/src/realtime` and the
//! browser: every event's name is defined next to its payload type, so a
//! renamed field breaks the build on both sides instead of a running app.
//!
//! * [`ServerEvent`]: what the server pushes (`new_message`, `typing`, …).
//! * [`Request`]: what a client emits with an ack, and the ack's reply type.
//!   Acks are `{"ok":true, …reply}` or `{"ok":false,"error":{code,message}}`
//!   ([`encode_ack`] / [`decode_ack`]).
//!
//! docs/realtime.md shows every event with an example.

use crate::error::AppError;
use crate::model::{
    AttachmentId, ChatId, Message, MessageId, Notification, Role, Seq, UserId, UserRef,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A payload the server emits, and the event name it is emitted under.
pub trait ServerEvent: Serialize + DeserializeOwned {
    const NAME: &'static str;
}

/// A payload a client emits with an ack, and what the ack carries on success.
pub trait Request: Serialize + DeserializeOwned {
    const NAME: &'static str;
    type Reply: Serialize + DeserializeOwned;
}

macro_rules! server_event {
    ($ty:ty, $name:literal) => {
        impl ServerEvent for $ty {
            const NAME: &'static str = $name;
        }
    };
}

macro_rules! request {
    ($ty:ty, $name:literal, $reply:ty) => {
        impl Request for $ty {
            const NAME: &'static str = $name;
            type Reply = $reply;
        }
    };
}

// ---- server → client --------------------------------------------------------

/// Sent once the connection is authenticated and its handlers are ready.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connected {
    pub user_id: UserId,
}
server_event!(Connected, "connected");

/// To the joining socket, before its `join_chat` ack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedChat {
    pub chat_id: ChatId,
}
server_event!(JoinedChat, "joined_chat");

/// A person as room events name them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatUser {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// Someone's first tab entered the chat's room (to the others in it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserJoined {
    pub chat_id: ChatId,
    pub user: ChatUser,
}
server_event!(UserJoined, "user_joined");

/// Someone's last tab left the chat's room (to the others in it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserLeft {
    pub chat_id: ChatId,
    pub user: ChatUser,
}
server_event!(UserLeft, "user_left");

/// A stored message, to everyone in the chat's room (the sender included).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NewMessage(pub Message);
server_event!(NewMessage, "new_message");

/// A participant's read marker moved (to the chat's room).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadMarker {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub message_id: MessageId,
    /// The read message's seq: everything up to it is read.
    pub seq: Seq,
}
server_event!(ReadMarker, "read");

/// The user read a chat up to `seq` (to every socket of theirs, on every
/// node): its unread badge is now `unread`, and `notifications` are their
/// bell entries for it that this read cleared or recounted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatRead {
    pub chat_id: ChatId,
    pub seq: Seq,
    pub unread: i64,
    pub notifications: Vec<Notification>,
}
server_event!(ChatRead, "chat_read");

/// A contact came online or went offline (to everyone sharing a chat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceChanged {
    pub user_id: UserId,
    pub online: bool,
    #[serde(default)]
    pub last_seen: Option<chrono::DateTime<chrono::Utc>>,
}
server_event!(PresenceChanged, "presence");

/// A bell notification, new or bumped (to its owner's sockets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NewNotification(pub Notification);
server_event!(NewNotification, "notification");

/// A dispute brought an LSM into the chat (to the room and to the LSM).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LsmInvited {
    pub chat_id: ChatId,
    pub dispute_id: i64,
    pub lsm: UserRef,
}
server_event!(LsmInvited, "lsm_invited");

/// The LSM settled the dispute (to the chat's room).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeResolved {
    pub chat_id: ChatId,
    pub dispute_id: i64,
    pub resolution: String,
}
server_event!(DisputeResolved, "dispute_resolved");

/// A booking opened a chat (to the customer's and the provider's sockets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatCreated {
    pub chat_id: ChatId,
    pub job_id: i64,
}
server_event!(ChatCreated, "chat_created");

/// Someone started or stopped typing (to the others in the room, never to
/// the typer's own tabs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    pub chat_id: ChatId,
    pub user_id: UserId,
    pub name: String,
    pub is_typing: bool,
}
server_event!(Typing, "typing");

/// Events meant for this socket were dropped (its send buffer was full
/// while a broadcast went out): reload the chat list and fetch whatever is
/// missing by seq. A socket still too full to take this is disconnected
/// instead, and catches up when it reconnects.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Resync {}
server_event!(Resync, "resync");

/// An item of the moderation queue was filed or changed, or (no `itemId`)
/// an account was suspended or let back in outside the queue; to every
/// LSM's sockets only: the queue and the log reload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModerationChanged {
    #[serde(default)]
    pub item_id: Option<i64>,
    pub status: crate::model::ItemStatus,
}
server_event!(ModerationChanged, "moderation_item");

/// A dispute was opened, taken, handed over or settled; to every LSM's
/// sockets only: the console's queue reloads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeCaseChanged {
    pub dispute_id: i64,
    pub status: crate::model::DisputeStatus,
}
server_event!(DisputeCaseChanged, "dispute_case");

// ---- client → server (with an ack) -----------------------------------------

/// An ack with nothing to add to `{"ok":true}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

/// Enter a chat's room. With `afterSeq` (the highest seq the client holds)
/// the ack carries what was missed since, in seq order (at most 500,
/// `hasMore` tells if there is more). `afterMessageId` is the same for
/// clients written before seqs: read as that message's seq. Not both.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinChat {
    pub chat_id: ChatId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<Seq>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_message_id: Option<MessageId>,
}
request!(JoinChat, "join_chat", JoinReply);

/// One participant's state, in the join ack.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParticipantState {
    pub user_id: UserId,
    pub name: String,
    pub role: Role,
    pub online: bool,
    pub last_read_message_id: MessageId,
    /// Their read marker as a seq (compare with messages' `seq`).
    pub last_read_seq: Seq,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinReply {
    pub chat_id: ChatId,
    /// Only when the join asked for a catch-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<Message>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub has_more: Option<bool>,
    pub presence: Vec<ParticipantState>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaveChat {
    pub chat_id: ChatId,
}
request!(LeaveChat, "leave_chat", LeaveReply);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaveReply {
    pub chat_id: ChatId,
}

/// Store and deliver a message. `clientId` (a UUID) makes resends
/// idempotent: the same id returns the stored message again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    pub chat_id: ChatId,
    pub content: String,
    pub client_id: String,
    /// Files uploaded for this message beforehand
    /// (`POST /api/chats/{id}/attachments?clientId=…`, under the same
    /// `clientId`): all of them, so the message is never stored without
    /// one; `content` may then be empty (a caption).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentId>,
}
request!(SendMessage, "send_message", SendReply);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReply {
    pub message: Message,
}

/// Change the text of one of the caller's own messages, within the edit
/// window (`JOBCHAT_EDIT_WINDOW_SECS`, 15 min by default). Stored as an
/// `edit` message with its own seq (so a client catching up by seq sees
/// it) and broadcast as `new_message`; the ack carries that message.
/// `clientId` makes a resend idempotent, as for sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EditMessage {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub content: String,
    pub client_id: String,
}
request!(EditMessage, "edit_message", SendReply);

/// Delete one of the caller's own messages (at any time): stored as a
/// `delete` message with its own seq, as an edit. Deleting a deleted
/// message answers with the deletion stored the first time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteMessage {
    pub chat_id: ChatId,
    pub message_id: MessageId,
}
request!(DeleteMessage, "delete_message", SendReply);

/// Everything up to `messageId` in the chat is read by the caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkRead {
    pub chat_id: ChatId,
    pub message_id: MessageId,
}
request!(MarkRead, "mark_read", Empty);

/// The caller started (or stopped) typing; the flag lapses after 5 s.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetTyping {
    pub chat_id: ChatId,
    pub is_typing: bool,
}
request!(SetTyping, "typing", Empty);

// ---- acks -----------------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct OkAck<T> {
    ok: bool,
    #[serde(flatten)]
    reply: T,
}

#[derive(Serialize, Deserialize)]
struct ErrAck {
    ok: bool,
    error: AppError,
}

/// The ack body for a request's outcome.
pub fn encode_ack<T: Serialize>(result: &Result<T, AppError>) -> serde_json::Value {
    let encoded = match result {
        Ok(reply) => serde_json::to_value(OkAck { ok: true, reply }),
        Err(error) => serde_json::to_value(ErrAck {
            ok: false,
            error: error.clone(),
        }),
    };
    encoded.unwrap_or_else(|_| {
        serde_json::json!({ "ok": false, "error": { "code": "internal", "message": "unencodable reply" } })
    })
}

/// Reads an ack body: the reply, the server's refusal, or `Err` when the
/// body is not an ack of this request at all.
pub fn decode_ack<T: DeserializeOwned>(
    value: serde_json::Value,
) -> Result<Result<T, AppError>, serde_json::Error> {
    match value.get("ok").and_then(serde_json::Value::as_bool) {
        Some(true) => serde_json::from_value::<OkAck<T>>(value).map(|a| Ok(a.reply)),
        _ => serde_json::from_value::<ErrAck>(value).map(|a| Err(a.error)),
    }
}

/// The handshake's auth payload, `io(url, { auth: { token } })`: a bearer
/// token instead of the session cookie (non-browser clients).
#[derive(Clone, Serialize, Deserialize)]
pub struct HandshakeAuth {
    pub token: String,
}

/// Never prints the token.
impl std::fmt::Debug for HandshakeAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandshakeAuth { token: <redacted> }")
    }
}

/// Why the server refused a Socket.IO handshake: the client gets it as the
/// `connect_error` message (`as_str`) and reads it back with `parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// No valid session (the browser then asks to sign in again).
    Unauthorized,
    /// A cookie-authenticated handshake from another site's page.
    ForeignOrigin,
    /// The user already has `JOBCHAT_MAX_SOCKETS_PER_USER` sockets there.
    TooManySockets,
    /// Too many handshakes from this user or address
    /// (`JOBCHAT_HANDSHAKE_LIMIT_PER_…_PER_MIN`): the client's reconnection
    /// backoff tries again later.
    RateLimited,
}

impl Refused {
    pub const ALL: [Self; 4] = [
        Self::Unauthorized,
        Self::ForeignOrigin,
        Self::TooManySockets,
        Self::RateLimited,
    ];

    /// The `connect_error` message.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::TooManySockets => "too_many_sockets",
            Self::RateLimited => "rate_limited",
            Self::ForeignOrigin => "forbidden: cross-origin request refused",
        }
    }

    /// The reason a `connect_error` message names; `None` for any other
    /// (a network failure, a proxy's answer).
    pub fn parse(message: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == message)
    }
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handshake_refusals_read_back() {
        for r in Refused::ALL {
            assert_eq!(Refused::parse(r.as_str()), Some(r));
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(Refused::parse("xhr poll error"), None);
    }

    use super::*;
    use crate::error::ErrorCode;
    use crate::model::MessageKind;
    use serde_json::json;

    fn message() -> Message {
        Message {
            id: 7,
            chat_id: 3,
            seq: 2,
            sender_id: Some(1),
            sender_name: Some("Alice".into()),
            sender_role: Some(Role::Customer),
            content: "hello <b>".into(),
            client_id: Some("8c0c5a8e-3f47-4a4e-9d3c-0a4a0f9b7c11".into()),
            kind: MessageKind::User,
            event: None,
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 123_000)
                .expect("valid time"),
            target_id: None,
            revision: None,
            attachments: Vec::new(),
            masked: false,
        }
    }

    fn notification() -> Notification {
        Notification {
            id: 4,
            kind: "new_message".into(),
            chat_id: Some(3),
            title: "New message".into(),
            body: "hi".into(),
            count: 2,
            seq: Some(9),
            created_at: chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"),
            read_at: None,
        }
    }

    /// System events are camelCase on the wire, like every other payload
    /// (and as the OpenAPI document says).
    #[test]
    fn system_events_round_trip_in_camel_case() {
        let event = crate::model::SystemEvent::DisputeOpened {
            raised_by: Some(2),
            raised_by_name: "Alice".into(),
            lsm: Some(5),
            lsm_name: "Lena".into(),
            reason: "drips".into(),
        };
        round_trip(
            event,
            &[
                "type",
                "raisedBy",
                "raisedByName",
                "lsm",
                "lsmName",
                "reason",
            ],
        );
        round_trip(
            crate::model::SystemEvent::DisputeReassigned {
                from: None,
                from_name: "A".into(),
                to: Some(3),
                to_name: "B".into(),
            },
            &["type", "fromName", "toName"],
        );
    }

    /// Serialises, checks the JSON keys the other side reads, decodes back.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        value: T,
        keys: &[&str],
    ) {
        let v = serde_json::to_value(&value).expect("serialises");
        for k in keys {
            assert!(v.get(k).is_some(), "{k} missing in {v}");
        }
        let back: T = serde_json::from_value(v).expect("decodes");
        assert_eq!(back, value);
    }

    #[test]
    fn server_events_round_trip() {
        let user = ChatUser {
            id: 2,
            name: "Bob".into(),
            role: Role::Provider,
        };
        round_trip(Connected { user_id: 1 }, &["userId"]);
        round_trip(JoinedChat { chat_id: 3 }, &["chatId"]);
        round_trip(
            UserJoined {
                chat_id: 3,
                user: user.clone(),
            },
            &["chatId", "user"],
        );
        round_trip(UserLeft { chat_id: 3, user }, &["chatId", "user"]);
        round_trip(
            NewMessage(message()),
            &[
                "id",
                "chatId",
                "senderId",
                "content",
                "clientId",
                "createdAt",
            ],
        );
        round_trip(
            ReadMarker {
                chat_id: 3,
                user_id: 1,
                message_id: 7,
                seq: 4,
            },
            &["chatId", "userId", "messageId", "seq"],
        );
        round_trip(
            PresenceChanged {
                user_id: 1,
                online: false,
                last_seen: chrono::DateTime::from_timestamp(1_700_000_000, 0),
            },
            &["userId", "online", "lastSeen"],
        );
        round_trip(
            NewNotification(notification()),
            &["id", "kind", "chatId", "title", "seq"],
        );
        round_trip(
            ChatRead {
                chat_id: 3,
                seq: 9,
                unread: 1,
                notifications: vec![notification()],
            },
            &["chatId", "seq", "unread", "notifications"],
        );
        round_trip(
            LsmInvited {
                chat_id: 3,
                dispute_id: 9,
                lsm: UserRef {
                    id: 5,
                    name: "Lena".into(),
                },
            },
            &["chatId", "disputeId", "lsm"],
        );
        round_trip(
            DisputeResolved {
                chat_id: 3,
                dispute_id: 9,
                resolution: "refund".into(),
            },
            &["chatId", "disputeId", "resolution"],
        );
        round_trip(
            ChatCreated {
                chat_id: 3,
                job_id: 2,
            },
            &["chatId", "jobId"],
        );
        round_trip(
            Typing {
                chat_id: 3,
                user_id: 1,
                name: "Alice".into(),
                is_typing: true,
            },
            &["chatId", "userId", "name", "isTyping"],
        );
    }

    #[test]
    fn requests_and_replies_round_trip() {
        round_trip(
            JoinChat {
                chat_id: 3,
                after_seq: Some(5),
                after_message_id: None,
            },
            &["chatId", "afterSeq"],
        );
        round_trip(
            JoinChat {
                chat_id: 3,
                after_seq: None,
                after_message_id: Some(6),
            },
            &["chatId", "afterMessageId"],
        );
        round_trip(
            JoinReply {
                chat_id: 3,
                messages: Some(vec![message()]),
                has_more: Some(false),
                presence: vec![ParticipantState {
                    user_id: 1,
                    name: "Alice".into(),
                    role: Role::Customer,
                    online: true,
                    last_read_message_id: 6,
                    last_read_seq: 3,
                }],
            },
            &["chatId", "messages", "hasMore", "presence"],
        );
        round_trip(LeaveChat { chat_id: 3 }, &["chatId"]);
        round_trip(LeaveReply { chat_id: 3 }, &["chatId"]);
        round_trip(
            SendMessage {
                chat_id: 3,
                content: "hi".into(),
                client_id: "x".into(),
                attachments: Vec::new(),
            },
            &["chatId", "content", "clientId"],
        );
        round_trip(SendReply { message: message() }, &["message"]);
        round_trip(
            MarkRead {
                chat_id: 3,
                message_id: 7,
            },
            &["chatId", "messageId"],
        );
        round_trip(
            SetTyping {
                chat_id: 3,
                is_typing: false,
            },
            &["chatId", "isTyping"],
        );
        // A join without a catch-up leaves the optional keys out.
        let plain = serde_json::to_value(JoinChat {
            chat_id: 3,
            after_seq: None,
            after_message_id: None,
        })
        .expect("serialises");
        assert_eq!(plain, json!({ "chatId": 3 }));
    }

    #[test]
    fn acks_have_the_documented_shape() {
        let ok = encode_ack::<LeaveReply>(&Ok(LeaveReply { chat_id: 3 }));
        assert_eq!(ok, json!({ "ok": true, "chatId": 3 }));
        assert_eq!(
            decode_ack::<LeaveReply>(ok).expect("an ack"),
            Ok(LeaveReply { chat_id: 3 })
        );
        let empty = encode_ack::<Empty>(&Ok(Empty {}));
        assert_eq!(empty, json!({ "ok": true }));
        let err = encode_ack::<Empty>(&Err(AppError::new(ErrorCode::Forbidden, "no")));
        assert_eq!(
            err,
            json!({ "ok": false, "error": { "code": "forbidden", "message": "no" } })
        );
        assert_eq!(
            decode_ack::<Empty>(err).expect("an ack"),
            Err(AppError::new(ErrorCode::Forbidden, "no"))
        );
        assert!(decode_ack::<SendReply>(json!({ "ok": true })).is_err());
        assert!(decode_ack::<Empty>(json!("nonsense")).is_err());
    }

    /// Properties of the request parsers the server runs on every socket
    /// payload: any JSON at all decodes or is refused, never a panic; a
    /// request that decodes keeps exactly the fields it was given.
    mod props {
        use super::*;
        use proptest::prelude::*;
        use serde_json::Value;

        const KEYS: &[&str] = &[
            "chatId",
            "content",
            "clientId",
            "afterSeq",
            "afterMessageId",
            "messageId",
            "isTyping",
            "ok",
            "error",
        ];

        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                any::<String>().prop_map(Value::String),
            ];
            leaf.prop_recursive(6, 64, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                    prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(
                        |fields| Value::Object(
                            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                        )
                    ),
                ]
            })
        }

        proptest! {
            #[test]
            fn any_json_decodes_or_is_refused(v in json_value()) {
                let _ = serde_json::from_value::<JoinChat>(v.clone());
                let _ = serde_json::from_value::<LeaveChat>(v.clone());
                let _ = serde_json::from_value::<MarkRead>(v.clone());
                let _ = serde_json::from_value::<SetTyping>(v.clone());
                // serde also takes a struct as an array of its fields in
                // order ([chatId, content, clientId]); either way the
                // fields come out as given.
                if let Ok(send) = serde_json::from_value::<SendMessage>(v.clone()) {
                    let (content, chat_id) = match &v {
                        Value::Array(a) => (a.get(1), a.first()),
                        _ => (v.get("content"), v.get("chatId")),
                    };
                    prop_assert_eq!(content, Some(&Value::String(send.content)));
                    prop_assert_eq!(chat_id.and_then(Value::as_i64), Some(send.chat_id));
                }
                let _ = decode_ack::<SendReply>(v.clone());
                let _ = decode_ack::<JoinReply>(v);
            }

            #[test]
            fn requests_round_trip(
                chat_id in any::<i64>(),
                after in proptest::option::of(any::<i64>()),
                content in any::<String>(),
                client_id in "[a-zA-Z0-9_-]{0,64}",
                is_typing in any::<bool>(),
            ) {
                let join = JoinChat { chat_id, after_seq: after, after_message_id: None };
                prop_assert_eq!(serde_json::from_value::<JoinChat>(serde_json::to_value(&join).expect("round trip")).expect("round trip"), join);
                let send = SendMessage { chat_id, content, client_id, attachments: Vec::new() };
                prop_assert_eq!(serde_json::from_value::<SendMessage>(serde_json::to_value(&send).expect("round trip")).expect("round trip"), send);
                let typing = SetTyping { chat_id, is_typing };
                prop_assert_eq!(serde_json::from_value::<SetTyping>(serde_json::to_value(&typing).expect("round trip")).expect("round trip"), typing);
            }

            #[test]
            fn refusals_round_trip_through_the_ack(message in any::<String>()) {
                let refused: Result<Empty, AppError> =
                    Err(AppError::new(ErrorCode::BadRequest, message));
                let ack = encode_ack(&refused);
                prop_assert_eq!(ack["ok"].as_bool(), Some(false));
                prop_assert_eq!(decode_ack::<Empty>(ack).expect("round trip"), refused);
            }
        }
    }
}
