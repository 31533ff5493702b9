//! Messages as every client sees them: people's lines, the product's typed
//! system events, and edits and deletions with the versions they leave.

use super::{Attachment, ChatId, MessageId, Role, Seq, UserId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    User,
    System,
    /// The sender edited an earlier message (`targetId`): not a line of its
    /// own, it carries the target's state after the edit.
    Edit,
    /// The sender deleted an earlier message (`targetId`), as `Edit`.
    Delete,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::System => "system",
            Self::Edit => "edit",
            Self::Delete => "delete",
        }
    }

    /// An edit or deletion of another message, rather than a line to show.
    pub fn is_change(self) -> bool {
        matches!(self, Self::Edit | Self::Delete)
    }
}

/// How a message changed after it was sent: the newest edit's or the
/// deletion's seq (a client applies a change only when it is newer than
/// what it holds, so changes arriving in any order end in the same state)
/// and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub seq: Seq,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The deletion was a moderator's ("Removed by a moderator"), not
    /// its sender's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
}

/// One version of a message, for the LSM of a dispute on its chat.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageVersion {
    /// The text as it was (empty for the deletion).
    pub content: String,
    /// When it was written (sent, edited to this, or deleted).
    pub at: chrono::DateTime<chrono::Utc>,
    /// `user` for the text as sent, `edit` for an edit, `delete` for the
    /// deletion.
    pub kind: MessageKind,
}

/// Every version of a message, oldest first (the LSM's audit trail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MessageHistory {
    pub message_id: MessageId,
    pub versions: Vec<MessageVersion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum SystemEvent {
    /// The chat opened with a booking.
    JobBooked { title: String },
    /// "Add LSM": `raised_by` opened a dispute and `lsm` joined.
    #[serde(rename_all = "camelCase")]
    DisputeOpened {
        #[serde(default)]
        raised_by: Option<UserId>,
        raised_by_name: String,
        #[serde(default)]
        lsm: Option<UserId>,
        lsm_name: String,
        reason: String,
    },
    /// The LSM settled the dispute (and left the chat).
    #[serde(rename_all = "camelCase")]
    DisputeResolved {
        #[serde(default)]
        lsm: Option<UserId>,
        lsm_name: String,
        resolution: String,
        /// How it was settled (older lines: none, read as `other`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        outcome: Option<super::Outcome>,
        /// A partial refund's amount in cents, and its currency.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refund_cents: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        currency: Option<String>,
    },
    /// The dispute's LSM was deleted or is no longer an LSM: another took
    /// it over.
    #[serde(rename_all = "camelCase")]
    DisputeReassigned {
        #[serde(default)]
        from: Option<UserId>,
        from_name: String,
        #[serde(default)]
        to: Option<UserId>,
        to_name: String,
    },
    /// A step in the job's life (`by` took it).
    #[serde(rename_all = "camelCase")]
    JobStatusChanged {
        status: super::JobStatus,
        #[serde(default)]
        by: Option<UserId>,
        by_name: String,
    },
    /// An LSM warned a participant to keep to the rules (moderation).
    #[serde(rename_all = "camelCase")]
    Warning {
        #[serde(default)]
        user: Option<UserId>,
        user_name: String,
        lsm_name: String,
        reason: String,
    },
    /// A system line stored before lines were typed, whose words could not
    /// be taken apart: shown quoted, as the text it is.
    Note { text: String },
}

/// A stored chat message as every client sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: MessageId,
    pub chat_id: ChatId,
    pub seq: Seq,
    pub sender_id: Option<UserId>,
    pub sender_name: Option<String>,
    pub sender_role: Option<Role>,
    /// A user's text; for a system line, its words in English (for
    /// previews and older clients: `event` is what to render).
    pub content: String,
    pub client_id: Option<String>,
    pub kind: MessageKind,
    /// A system line's event (system messages only). Boxed: most messages
    /// have none, and it would double the size of every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Box<SystemEvent>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// An edit or deletion: the message it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<MessageId>,
    /// Set once the message (for an edit or deletion: its target) was
    /// edited or deleted; a deleted message's `content` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<Box<Revision>>,
    /// Files the message carries (`content` is then its caption, which
    /// may be empty). None once the message is deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Contact details in it were hidden (`content` holds markers in
    /// their place); the LSM of a dispute reads what was written through
    /// the message's versions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub masked: bool,
}

impl Message {
    /// Deleted by its sender ("This message was deleted").
    pub fn is_deleted(&self) -> bool {
        self.revision
            .as_ref()
            .is_some_and(|r| r.deleted_at.is_some())
    }

    /// Removed by a moderator ("Removed by a moderator").
    pub fn is_hidden(&self) -> bool {
        self.revision.as_ref().is_some_and(|r| r.hidden)
    }

    /// Edited by its sender and not deleted ("edited").
    pub fn is_edited(&self) -> bool {
        self.revision
            .as_ref()
            .is_some_and(|r| r.edited_at.is_some() && r.deleted_at.is_none())
    }
}
