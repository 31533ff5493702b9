//! The service layer's one error type, and its one translation into
//! `contract::error::AppError`: REST bodies, Socket.IO acks and server-function
//! errors all come from `AppError::from(ServiceError)`, so they carry the
//! same code, message and details. Transports add only their framing (HTTP
//! status, `Retry-After`, `{"ok":false,…}`).

use crate::storage::{DisputeError, StorageError};
use contract::error::{AppError, ErrorCode};
use contract::model::DisputeRef;
use contract::validate::Invalid;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized,
    #[error("invalid email or password")]
    BadCredentials,
    /// The account is suspended (a moderator's decision): why, and until when.
    #[error("This account is suspended {until}: {reason}")]
    Suspended { until: String, reason: String },
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        message: String,
        details: Option<ConflictDetails>,
    },
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// Allowed again later, for a reason of the product's (not a rate).
    #[error("{message}; retry in {retry_after_secs} s")]
    TooSoon {
        message: &'static str,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    Unavailable(String),
    /// A file refused for what it is (see `files::Refused`).
    #[error("{0}")]
    File(#[from] crate::files::Refused),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// What a conflict points at, for clients to act on (`error.details`).
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum ConflictDetails {
    /// The input field that clashes (`{"field":"email"}`).
    Field { field: &'static str },
    /// The dispute already open in the chat (`{"dispute":{"id":…,"status":"open"}}`).
    Dispute { dispute: DisputeRef },
}

#[derive(Serialize)]
struct FieldDetails {
    field: &'static str,
}

impl ServiceError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Invalid(_) | Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthorized | Self::BadCredentials => ErrorCode::Unauthorized,
            Self::Forbidden(_) | Self::Suspended { .. } => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::RateLimited { .. } | Self::TooSoon { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::File(f) => f.code(),
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// Extra machine-readable detail for the error body, when there is any.
    pub fn details(&self) -> Option<serde_json::Value> {
        let value = match self {
            Self::Invalid(i) => serde_json::to_value(FieldDetails { field: i.field }),
            Self::Conflict {
                details: Some(d), ..
            } => serde_json::to_value(d),
            _ => return None,
        };
        value.ok()
    }
}

/// Internal causes are logged here, once, whichever transport answers; the
/// caller only ever sees "internal error".
impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match &e {
            ServiceError::Internal(cause) => tracing::error!(error = ?cause, "internal error"),
            other => tracing::debug!(code = %other.code(), error = %other, "request refused"),
        }
        AppError {
            code: e.code(),
            message: e.to_string(),
            details: e.details(),
        }
    }
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound("record"),
            StorageError::Unavailable(why) => Self::Unavailable(why.into()),
            StorageError::Conflict(c) => Self::Conflict {
                message: format!("conflict on {c}"),
                details: None,
            },
            e => Self::Internal(e.into()),
        }
    }
}

impl From<DisputeError> for ServiceError {
    fn from(e: DisputeError) -> Self {
        match e {
            DisputeError::AlreadyOpen(id) => Self::Conflict {
                message: "a dispute is already open in this chat".into(),
                details: Some(ConflictDetails::Dispute {
                    dispute: DisputeRef {
                        id,
                        status: contract::model::DisputeStatus::Open,
                    },
                }),
            },
            DisputeError::AlreadyResolved => Self::Conflict {
                message: "the dispute is already resolved".into(),
                details: None,
            },
            DisputeError::Moved => Self::Conflict {
                message: "another LSM has taken this case meanwhile".into(),
                details: None,
            },
            DisputeError::Storage(s) => s.into(),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_translation_for_every_transport() {
        let e = AppError::from(ServiceError::Invalid(Invalid {
            field: "content",
            message: "must not be empty".into(),
        }));
        assert_eq!(e.code, ErrorCode::BadRequest);
        assert_eq!(e.message, "content: must not be empty");
        assert_eq!(e.details, Some(serde_json::json!({ "field": "content" })));

        let e = AppError::from(ServiceError::from(DisputeError::AlreadyOpen(4)));
        assert_eq!(e.code, ErrorCode::Conflict);
        assert_eq!(
            e.details,
            Some(serde_json::json!({ "dispute": { "id": 4, "status": "open" } }))
        );

        let e = AppError::from(ServiceError::Internal(anyhow::anyhow!("secret detail")));
        assert_eq!(e, AppError::internal());
    }
}
