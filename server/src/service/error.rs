//! The service layer's one error type. Each variant carries a stable wire
//! `code`; the HTTP and Socket.IO layers only translate it.

use crate::storage::{DisputeError, StorageError};
use app::validate::Invalid;
use serde_json::Value;

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
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        message: String,
        details: Option<Value>,
    },
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) | Self::BadRequest(_) => "bad_request",
            Self::Unauthorized | Self::BadCredentials => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Extra machine-readable detail for the error body, when there is any.
    pub fn details(&self) -> Option<Value> {
        match self {
            Self::Invalid(i) => Some(serde_json::json!({ "field": i.field })),
            Self::Conflict { details, .. } => details.clone(),
            _ => None,
        }
    }
}

impl From<StorageError> for ServiceError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound => Self::NotFound("record"),
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
                details: Some(serde_json::json!({ "dispute": { "id": id, "status": "open" } })),
            },
            DisputeError::NoLsm => Self::Unavailable(
                "no local service manager account exists yet; ask an operator to create one".into(),
            ),
            DisputeError::NotTheLsm => Self::Forbidden("only the dispute's LSM can resolve it"),
            DisputeError::AlreadyResolved => Self::Conflict {
                message: "the dispute is already resolved".into(),
                details: None,
            },
            DisputeError::Storage(StorageError::NotFound) => Self::NotFound("dispute"),
            DisputeError::Storage(s) => s.into(),
        }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
