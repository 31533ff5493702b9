//! The LSMs' dispute console (issue #24): the queue of cases, taking and
//! handing them over, and settling one with a structured outcome.

use super::{ChatId, DisputeStatus, JobStatus, UserId, UserRef};
use crate::validate::{Invalid, Resolution};
use serde::{Deserialize, Serialize};

/// How a dispute was settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    NoRefund,
    /// Part of the price back: `refundCents` says how much.
    PartialRefund,
    FullRefund,
    /// Anything else; the note says what (also disputes settled before
    /// outcomes existed).
    Other,
}

impl Outcome {
    pub const ALL: [Self; 4] = [
        Self::NoRefund,
        Self::PartialRefund,
        Self::FullRefund,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoRefund => "no_refund",
            Self::PartialRefund => "partial_refund",
            Self::FullRefund => "full_refund",
            Self::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NoRefund => "No refund",
            Self::PartialRefund => "Partial refund",
            Self::FullRefund => "Full refund",
            Self::Other => "Other",
        }
    }
}

/// The largest refund one outcome may name, in cents (a bound, not a
/// business rule: a typo of three extra zeros is refused).
pub const MAX_REFUND_CENTS: i64 = 100_000_000;

/// How an LSM settles a case, as sent (`POST /api/disputes/{id}/resolve`).
/// Clients written before outcomes send only `resolution`, read as
/// `other` with that note.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SettleCase {
    /// `no_refund`, `partial_refund`, `full_refund` or `other`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub outcome: Option<String>,
    /// Partial refunds only: the amount in cents, 1 to 100,000,000.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub refund_cents: Option<i64>,
    /// What both parties read (1–2,000 characters).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub note: Option<String>,
    /// The note, as older clients call it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub resolution: Option<String>,
}

/// A settlement, parsed once at the boundary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settlement {
    pub outcome: Outcome,
    pub refund_cents: Option<i64>,
    pub note: Resolution,
}

impl SettleCase {
    pub fn parse(&self) -> Result<Settlement, Invalid> {
        let note = match (self.note.as_deref(), self.resolution.as_deref()) {
            (Some(n), _) | (None, Some(n)) => Resolution::parse(n)?,
            (None, None) => {
                return Err(Invalid {
                    field: "note",
                    message: "say what was decided, for both parties to read".into(),
                });
            }
        };
        let outcome = match self.outcome.as_deref() {
            None => Outcome::Other,
            Some(s) => Outcome::parse(s).ok_or_else(|| Invalid {
                field: "outcome",
                message: "must be no_refund, partial_refund, full_refund or other".into(),
            })?,
        };
        let refund_cents = match (outcome, self.refund_cents) {
            (Outcome::PartialRefund, Some(c)) if (1..=MAX_REFUND_CENTS).contains(&c) => Some(c),
            (Outcome::PartialRefund, _) => {
                return Err(Invalid {
                    field: "refundCents",
                    message: "a partial refund needs an amount from 0.01 to 1,000,000.00".into(),
                });
            }
            (_, Some(_)) => {
                return Err(Invalid {
                    field: "refundCents",
                    message: "only a partial refund names an amount".into(),
                });
            }
            (_, None) => None,
        };
        Ok(Settlement {
            outcome,
            refund_cents,
            note,
        })
    }
}

/// Cents as people read them: `4500` → `45.00`.
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// One case of the console.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DisputeCase {
    pub id: i64,
    pub chat_id: ChatId,
    pub job_id: i64,
    pub job_title: String,
    pub job_status: JobStatus,
    pub status: DisputeStatus,
    pub opened_at: chrono::DateTime<chrono::Utc>,
    /// Who opened it, and why.
    pub raised_by: UserRef,
    pub reason: String,
    /// The LSM the case is with.
    pub lsm: UserRef,
    pub customer: UserRef,
    pub provider: UserRef,
    /// The chat's newest message (the opening, if nothing came since).
    pub last_activity_at: chrono::DateTime<chrono::Utc>,
    /// Settled cases: how, for how much, the note, when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_cents: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The currency refunds are in (`JOBCHAT_CURRENCY`).
    pub currency: String,
}

/// Which cases (`GET /api/disputes`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct CaseQuery {
    /// `open` (the default), `resolved` or `all`.
    #[serde(default)]
    pub status: Option<String>,
    /// `mine` for the caller's cases only; anything else, everyone's.
    #[serde(default)]
    pub assigned: Option<String>,
    /// Words to find in the job's title, the reason, the note or a
    /// party's name (at most 100 characters).
    #[serde(default)]
    pub q: Option<String>,
    /// Only cases with ids below this one.
    #[serde(default)]
    pub before: Option<i64>,
    /// 1–100 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// Give a case to another LSM (`POST /api/disputes/{id}/handover`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Handover {
    pub to: UserId,
}
