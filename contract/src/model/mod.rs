//! The data both sides share: users, chats, messages, notifications.
//! Socket.IO event payloads are in `protocol`, errors in `error`.

mod attachments;
mod disputes;
mod jobs;
mod messages;
mod moderation;
mod preferences;
mod search;
pub use attachments::{Attachment, AttachmentId};
pub use disputes::{
    CaseQuery, DisputeCase, Handover, MAX_REFUND_CENTS, Outcome, SettleCase, Settlement,
    format_cents,
};
pub use jobs::{JobStatus, JobTransition};
pub use messages::{Message, MessageHistory, MessageKind, MessageVersion, Revision, SystemEvent};
pub use moderation::{
    ActionKind, AuditEntry, BlockedUser, Decision, ItemKind, ItemStatus, ModeratedUser,
    ModerationAction, ModerationItem, ModerationPage, NewReport, ReportCategory, ReportReceipt,
    ReportTarget, UserAction,
};
pub use preferences::{ChatMute, EmailPreferences, QuietHours, minute_of_day};
pub use search::{SearchHit, SearchRequest, TextRange};

use serde::{Deserialize, Serialize};

/// What the browser shows about its real-time connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConnectionStatus {
    Connecting,
    Connected,
    /// Lost the connection; socket.io-client is retrying (attempt number).
    Reconnecting(u32),
    /// The browser reports no network.
    Offline,
}

impl ConnectionStatus {
    /// A stable machine-readable name (CSS hooks, tests).
    pub fn key(self) -> &'static str {
        match self {
            Self::Connecting => "connecting",
            Self::Connected => "connected",
            Self::Reconnecting(_) => "reconnecting",
            Self::Offline => "offline",
        }
    }

    pub fn label(self) -> String {
        match self {
            Self::Connecting => "Connecting…".to_owned(),
            Self::Connected => "Connected".to_owned(),
            Self::Reconnecting(0) => "Reconnecting…".to_owned(),
            Self::Reconnecting(n) => format!("Reconnecting… (attempt {n})"),
            Self::Offline => "Offline".to_owned(),
        }
    }
}

/// A user's role in the marketplace, and in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Provider,
    Lsm,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Provider => "provider",
            Self::Lsm => "lsm",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Self::Customer),
            "provider" => Some(Self::Provider),
            "lsm" => Some(Self::Lsm),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

pub type UserId = i64;
pub type ChatId = i64;
pub type MessageId = i64;
/// A message's place in its chat: 1, 2, 3, … with no gaps, in commit order.
/// A client holding seq n and receiving n + 2 knows it missed one.
pub type Seq = i64;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub email: String,
}

/// What a system line says, as data. The product's own words are the
/// browser's; what people typed (names, job titles, reasons, settlements)
/// are separate values, never spliced into those words, so the browser sets
/// them apart and nothing typed into a reason can pass for a system line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub online: bool,
    /// Their read marker: every message up to this id is read (drives "Read").
    pub last_read_message_id: MessageId,
    /// The same marker as a seq (compare with messages' `seq`).
    pub last_read_seq: Seq,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DisputeStatus {
    Open,
    Resolved,
}

impl DisputeStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DisputeRef {
    pub id: i64,
    pub status: DisputeStatus,
}

/// One entry of the chat list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ChatSummary {
    pub id: ChatId,
    pub job_id: i64,
    pub job_title: String,
    /// Where the job stands (older servers: `booked`).
    #[serde(default)]
    pub job_status: JobStatus,
    pub participants: Vec<Participant>,
    pub lsm_invited: bool,
    pub dispute: Option<DisputeRef>,
    pub last_message: Option<Message>,
    /// The seq of the chat's newest message (0 when it has none).
    pub last_seq: Seq,
    /// The caller muted this chat: no email and no bell for it.
    #[serde(default)]
    pub muted: bool,
    /// The caller left this chat (an LSM whose dispute was settled): a
    /// read-only transcript up to `last_seq`, no live room, no posting.
    #[serde(default)]
    pub left: bool,
    pub unread_count: i64,
}

/// A sign-in, as the form or a REST client sends it. Checked by the
/// service against the stored hash (an unknown email and a wrong password
/// get the same answer), so not parsed here.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Login {
    pub email: String,
    pub password: String,
}

/// Never prints the password (logs, panics).
impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A session just issued: what sign-up, sign-in and a password change
/// answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignedIn {
    /// A JWT for `Authorization: Bearer …` and the socket handshake (the
    /// browser uses the HttpOnly cookie instead).
    pub token: String,
    pub user: User,
}

impl SignedIn {
    pub fn me(&self) -> Me {
        Me {
            id: self.user.id,
            name: self.user.name.clone(),
            role: self.user.role,
        }
    }
}

/// A sign-up, as the form (server function) or a REST client sends it.
/// `parse` checks it, once, for every entry point.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Registration {
    #[cfg_attr(feature = "openapi", schema(format = Email))]
    pub email: String,
    /// 8–128 characters, and not easy to guess (zxcvbn's estimate; a
    /// refusal's message says why and what would help).
    #[cfg_attr(feature = "openapi", schema(min_length = 8, max_length = 128))]
    pub password: String,
    pub name: String,
    /// `customer` or `provider` (LSMs are created by operators).
    pub role: Role,
}

/// Never prints the password (logs, panics).
impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("name", &self.name)
            .field("role", &self.role)
            .finish()
    }
}

impl Registration {
    /// The fields checked in the order the form shows their errors.
    pub fn parse(&self) -> Result<SignUp, crate::validate::Invalid> {
        use crate::validate::{Email, Name, Password};
        Ok(SignUp {
            email: Email::parse(&self.email)?,
            password: Password::parse(&self.password)?,
            name: Name::parse(&self.name)?,
            role: self.role,
        })
    }
}

/// A sign-up whose fields are checked (`Registration::parse`); the
/// password's strength is the server's to judge.
#[derive(Clone, Debug)]
pub struct SignUp {
    pub email: crate::validate::Email,
    pub password: crate::validate::Password,
    pub name: crate::validate::Name,
    pub role: Role,
}

/// A job to book, as the booking form or a REST client sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NewJob {
    pub provider_id: UserId,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

impl NewJob {
    /// The title and the description (empty when none), checked.
    pub fn parse(
        &self,
    ) -> Result<(crate::validate::Title, crate::validate::Description), crate::validate::Invalid>
    {
        use crate::validate::{Description, Title};
        Ok((
            Title::parse(&self.title)?,
            Description::parse(self.description.as_deref())?,
        ))
    }
}

/// A booked job and the chat that opened with it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Booking {
    pub job_id: i64,
    pub chat_id: ChatId,
}

/// A dispute that brought an LSM into a chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DisputeOpened {
    pub dispute_id: i64,
    pub lsm: UserRef,
}

/// Which page of a chat's history: the newest `limit` (default 50, at most
/// 200), or those before/after a seq (`beforeSeq`/`afterSeq`). `before` and
/// `after` take message ids, for clients written before seqs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct PageRequest {
    /// The newest messages below this seq (scrolling back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_seq: Option<Seq>,
    /// The oldest messages above this seq (catching up, filling a gap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_seq: Option<Seq>,
    /// As `beforeSeq`, given as a message id (clients written before seqs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<MessageId>,
    /// As `afterSeq`, given as a message id (clients written before seqs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<MessageId>,
    /// Page size, 1–200 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// Where one page of the chat list ends: the last row's newest message id
/// (0 for a chat without one) and its chat id. The next page starts after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatCursor {
    pub message_id: MessageId,
    pub chat_id: ChatId,
}

impl ChatSummary {
    /// This row's place in the list's order (newest activity first).
    pub fn cursor(&self) -> ChatCursor {
        ChatCursor {
            message_id: self.last_message.as_ref().map_or(0, |m| m.id),
            chat_id: self.id,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: i64,
    pub kind: String,
    pub chat_id: Option<ChatId>,
    pub title: String,
    pub body: String,
    pub count: i64,
    /// A new-message notification: the newest message seq it stands for.
    /// Reading the chat up to that seq clears it.
    #[serde(default)]
    pub seq: Option<Seq>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A page of history, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: UserId,
    pub name: String,
}

/// Who is signed in, as the page knows it (from the session cookie's token;
/// never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Me {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// Context value: the signed-in user, or `None`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Session(pub Option<Me>);

#[cfg(test)]
mod tests {
    use super::*;

    fn registration() -> Registration {
        Registration {
            email: " Ana@Example.test ".into(),
            password: "correct horse battery".into(),
            name: "Ana".into(),
            role: Role::Customer,
        }
    }

    #[test]
    fn a_registration_is_checked_field_by_field_and_never_prints_its_password() {
        let ok = registration().parse().expect("valid");
        assert_eq!(ok.email.as_str(), "ana@example.test");
        let mut bad = registration();
        bad.email = "nope".into();
        bad.name = "".into();
        // The first field the form shows is the one named.
        assert_eq!(bad.parse().expect_err("refused").field, "email");
        assert!(!format!("{:?}", registration()).contains("horse"));
        // The REST body and the form's arguments are the same JSON.
        let json = r#"{"email":"a@b.test","password":"x","name":"A","role":"provider"}"#;
        let r: Registration = serde_json::from_str(json).expect("decodes");
        assert_eq!(r.role, Role::Provider);
    }

    #[test]
    fn a_new_job_without_a_description_has_an_empty_one() {
        let job: NewJob =
            serde_json::from_str(r#"{"providerId":3,"title":"Fix the tap"}"#).expect("decodes");
        let (title, description) = job.parse().expect("valid");
        assert_eq!(title.as_str(), "Fix the tap");
        assert_eq!(description.as_str(), "");
        let long = NewJob {
            description: Some("x".repeat(4_001)),
            ..job
        };
        assert_eq!(long.parse().expect_err("refused").field, "description");
    }
}
