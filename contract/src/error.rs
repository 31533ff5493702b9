//! The one error shape every caller sees: REST bodies
//! (`{"error":{code,message,details}}`), Socket.IO acks
//! (`{"ok":false,"error":{…}}`) and server-function errors carry the same
//! `AppError`, so the browser shows the same codes and messages whichever
//! way it asked.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Stable machine-readable error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    /// An upload whose bytes are not a type the chat takes (415).
    UnsupportedType,
    /// An upload of an allowed type that cannot be used: a truncated or
    /// corrupt image, or one with too many pixels (422).
    BadFile,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedType => "unsupported_type",
            Self::BadFile => "bad_file",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedType => 415,
            Self::BadFile => 422,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }

    /// A refusal that will not change by asking again (the outbox gives up
    /// on these; it keeps retrying the others).
    pub fn is_definite(self) -> bool {
        matches!(
            self,
            Self::BadRequest
                | Self::Unauthorized
                | Self::Forbidden
                | Self::NotFound
                | Self::Conflict
                | Self::PayloadTooLarge
                | Self::UnsupportedType
                | Self::BadFile
        )
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error as it crosses the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "authentication required")
    }

    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AppError {}

impl From<crate::validate::Invalid> for AppError {
    fn from(i: crate::validate::Invalid) -> Self {
        Self {
            code: ErrorCode::BadRequest,
            message: i.to_string(),
            details: Some(serde_json::json!({ "field": i.field })),
        }
    }
}

/// Server functions fail with `AppError` too. Transport failures (no
/// network, a body that does not decode) become `unavailable`,
/// `bad_request` or `internal`, so callers handle one type.
#[cfg(feature = "server-fn")]
impl server_fn::error::FromServerFnError for AppError {
    type Encoder = server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: server_fn::error::ServerFnErrorErr) -> Self {
        use server_fn::error::ServerFnErrorErr as E;
        // The server function never ran, so nothing set the status: the
        // server answers with the code's (400 for bad arguments) rather
        // than a bare 500 (`server/src/http/server_fns.rs`).
        match value {
            E::Request(_) => Self::new(
                ErrorCode::Unavailable,
                "Cannot reach the server. Check your connection.",
            ),
            E::Args(m) | E::MissingArg(m) => {
                Self::new(ErrorCode::BadRequest, format!("invalid arguments: {m}"))
            }
            // On the server this is the caller's arguments failing to
            // decode; in the browser, the server's answer.
            #[cfg(feature = "ssr")]
            E::Deserialization(m) => {
                Self::new(ErrorCode::BadRequest, format!("invalid arguments: {m}"))
            }
            #[cfg(not(feature = "ssr"))]
            E::Deserialization(m) => {
                Self::new(ErrorCode::Internal, format!("unreadable answer: {m}"))
            }
            E::Serialization(m) => {
                Self::new(ErrorCode::Internal, format!("unreadable request: {m}"))
            }
            other => Self::new(ErrorCode::Internal, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape() {
        let e = AppError::new(ErrorCode::RateLimited, "slow down");
        let v = serde_json::to_value(&e).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({ "code": "rate_limited", "message": "slow down" })
        );
        let back: AppError = serde_json::from_value(v).expect("decodes");
        assert_eq!(back, e);
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::RateLimited,
            ErrorCode::Unavailable,
            ErrorCode::Internal,
        ] {
            let s = serde_json::to_value(code).expect("serialises");
            assert_eq!(s, serde_json::Value::String(code.as_str().into()));
        }
    }
}
