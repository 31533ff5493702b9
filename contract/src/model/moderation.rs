//! Reports, blocks and what LSMs do about them: the moderation queue, its
//! actions, suspensions and the audit log (issue #23).

use super::{ChatId, Message, MessageId, Role, UserId, UserRef};
use crate::validate::{Invalid, bounded_note};
use serde::{Deserialize, Serialize};

/// Why something was reported. The first five are what people choose; the
/// last two are raised by the server itself (auto-flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportCategory {
    Harassment,
    Spam,
    OffPlatformPayment,
    Fraud,
    Other,
    /// Auto-flag: a sender whose messages were masked twice in one chat.
    RepeatedContact,
    /// Auto-flag: an account less than a day old writing in many chats.
    NewAccountBurst,
}

impl ReportCategory {
    /// What a person may choose (auto-flag categories are the server's).
    pub const CHOSEN: [Self; 5] = [
        Self::Harassment,
        Self::Spam,
        Self::OffPlatformPayment,
        Self::Fraud,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Harassment => "harassment",
            Self::Spam => "spam",
            Self::OffPlatformPayment => "off_platform_payment",
            Self::Fraud => "fraud",
            Self::Other => "other",
            Self::RepeatedContact => "repeated_contact",
            Self::NewAccountBurst => "new_account_burst",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Harassment,
            Self::Spam,
            Self::OffPlatformPayment,
            Self::Fraud,
            Self::Other,
            Self::RepeatedContact,
            Self::NewAccountBurst,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }

    /// How people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Harassment => "Harassment",
            Self::Spam => "Spam",
            Self::OffPlatformPayment => "Payment outside the platform",
            Self::Fraud => "Fraud",
            Self::Other => "Something else",
            Self::RepeatedContact => "Contact details sent again after masking",
            Self::NewAccountBurst => "New account writing in many chats",
        }
    }

    pub fn is_chosen(self) -> bool {
        Self::CHOSEN.contains(&self)
    }
}

/// A report as a participant sends it: about a message in a chat, or about
/// a person in it (from their card), with a category and an optional note.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReport {
    pub chat_id: ChatId,
    /// The message reported; its sender is the one reported.
    #[serde(default)]
    pub message_id: Option<MessageId>,
    /// The person reported, when no message is named.
    #[serde(default)]
    pub user_id: Option<UserId>,
    pub category: ReportCategory,
    /// Up to 1,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// What a report names, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportTarget {
    Message(MessageId),
    User(UserId),
}

impl NewReport {
    /// The note's longest length, in characters.
    pub const NOTE_MAX: usize = 1_000;

    /// What is reported, and the note (empty when none), checked once.
    pub fn parse(&self) -> Result<(ReportTarget, String), Invalid> {
        let target = match (self.message_id, self.user_id) {
            (Some(m), None) => ReportTarget::Message(m),
            (None, Some(u)) => ReportTarget::User(u),
            _ => {
                return Err(Invalid {
                    field: "messageId",
                    message: "name either a message or a user".into(),
                });
            }
        };
        if !self.category.is_chosen() {
            return Err(Invalid {
                field: "category",
                message: "is raised by the server, not chosen".into(),
            });
        }
        let note = bounded_note("note", self.note.as_deref(), Self::NOTE_MAX)?;
        Ok((target, note))
    }
}

/// The reporter's receipt: the report was received.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReportReceipt {
    pub id: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Someone the caller blocked. Blocks are private: only the blocker sees
/// them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BlockedUser {
    pub user: UserRef,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Whether an item came from a person or from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Report,
    Flag,
}

/// Where an item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ItemStatus {
    Open,
    Dismissed,
    Actioned,
}

impl ItemStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Dismissed => "dismissed",
            Self::Actioned => "actioned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Dismissed, Self::Actioned]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A person as the queue shows them: role, whether suspended, and their
/// history with moderation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModeratedUser {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    /// Suspended until then; `suspended` without `suspendedUntil` is for good.
    pub suspended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Reports and flags about them, this one included.
    pub reports_against: i64,
    /// Of those, the ones a moderator acted on.
    pub reports_actioned: i64,
    /// Reports they filed.
    pub reports_filed: i64,
}

/// One item of the LSMs' moderation queue, with the context to judge it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ModerationItem {
    pub id: i64,
    pub kind: ItemKind,
    pub category: ReportCategory,
    pub status: ItemStatus,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Who reported (none for auto-flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<ModeratedUser>,
    /// Who is reported or flagged.
    pub subject: ModeratedUser,
    pub note: String,
    pub chat_id: ChatId,
    /// The job the chat is about, and its status (empty once the chat was
    /// deleted by retention).
    pub job_title: String,
    pub job_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    /// The message as it was when reported (what its sender wrote, before
    /// masking), kept even if it is edited or deleted later.
    pub evidence: String,
    /// Up to three messages before and after the reported one (or the
    /// chat's newest, for a report about a person), as the LSM reads them.
    pub context: Vec<Message>,
}

/// What a moderator does with an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Nothing wrong: the item closes.
    Dismiss,
    /// The reported message is removed for everyone (its text is kept for
    /// the audit).
    Hide,
    /// A system notice in the chat tells the person to keep to the rules.
    Warn,
    /// The person's account is suspended for `days`, or for good.
    Suspend,
    /// A suspension ends early (user actions only).
    Lift,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dismiss => "dismiss",
            Self::Hide => "hide",
            Self::Warn => "warn",
            Self::Suspend => "suspend",
            Self::Lift => "lift",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Dismiss,
            Self::Hide,
            Self::Warn,
            Self::Suspend,
            Self::Lift,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// A moderator's decision on a queue item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModerationAction {
    pub action: ActionKind,
    /// Why (1–1,000 characters): it goes to the audit log, and a warning's
    /// reason is shown in the chat.
    pub reason: String,
    /// A suspension's length in days (1–3650); none suspends for good.
    #[serde(default)]
    pub days: Option<u32>,
}

/// A checked decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub action: ActionKind,
    pub reason: String,
    pub days: Option<u32>,
}

impl ModerationAction {
    pub const REASON_MAX: usize = 1_000;
    pub const DAYS_MAX: u32 = 3_650;

    pub fn parse(&self) -> Result<Decision, Invalid> {
        let reason = bounded_note("reason", Some(&self.reason), Self::REASON_MAX)?;
        if reason.is_empty() {
            return Err(Invalid {
                field: "reason",
                message: "must not be empty".into(),
            });
        }
        match (self.action, self.days) {
            (ActionKind::Suspend, Some(d)) if d == 0 || d > Self::DAYS_MAX => Err(Invalid {
                field: "days",
                message: format!("must be 1–{}", Self::DAYS_MAX),
            }),
            (ActionKind::Suspend, _) | (_, None) => Ok(Decision {
                action: self.action,
                reason,
                days: self.days,
            }),
            (_, Some(_)) => Err(Invalid {
                field: "days",
                message: "only a suspension has a length".into(),
            }),
        }
    }
}

/// A suspension or its lifting, on a person directly (not from an item).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserAction {
    /// `suspend` or `lift`.
    pub action: ActionKind,
    pub reason: String,
    #[serde(default)]
    pub days: Option<u32>,
}

impl UserAction {
    pub fn parse(&self) -> Result<Decision, Invalid> {
        if !matches!(self.action, ActionKind::Suspend | ActionKind::Lift) {
            return Err(Invalid {
                field: "action",
                message: "must be suspend or lift".into(),
            });
        }
        ModerationAction {
            action: self.action,
            reason: self.reason.clone(),
            days: self.days,
        }
        .parse()
    }
}

/// One line of the append-only moderation log: who did what, when, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
    pub actor: UserRef,
    pub action: ActionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<UserRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<ChatId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<MessageId>,
    pub reason: String,
    /// What the action left to know: a hidden message's text, a
    /// suspension's end ("until …" or "for good").
    pub detail: String,
}

/// A page of the queue or the log: `before` an id, newest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct ModerationPage {
    /// `open` (the default), `dismissed` or `actioned` (queue only).
    #[serde(default)]
    pub status: Option<String>,
    /// Only ids below this one.
    #[serde(default)]
    pub before: Option<i64>,
    /// 1–100 (default 50); the log's CSV export takes up to 10,000.
    #[serde(default)]
    pub limit: Option<u32>,
}
