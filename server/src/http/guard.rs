//! The origin check in front of every state-changing request (see
//! `auth::origin`): a POST, PUT, PATCH or DELETE that is not authenticated
//! by a bearer token (so by the session cookie, or anonymous, which covers
//! sign-in and registration) must come from this server's own origin or an
//! allowed one, else 403 `forbidden`. REST answers with its error body,
//! server functions with a bare `AppError` as they always do. Socket.IO's
//! transport requests are left to the gateway, which checks the handshake.
//!
//! Server functions also take JSON only (`Content-Type: application/json`,
//! else 415): their arguments would otherwise be read from a `text/plain`
//! body too, a content type any page may send to another site without a
//! preflight.

use super::error_response;
use crate::auth::{OriginPolicy, has_bearer};
use axum::{
    Json,
    extract::{Request, State},
    http::{Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use contract::error::{AppError, ErrorCode};

/// What a refused request is told.
pub const CROSS_ORIGIN: &str = "cross-origin request refused";

pub async fn same_origin(State(policy): State<OriginPolicy>, req: Request, next: Next) -> Response {
    let checked = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) && !req.uri().path().starts_with("/socket.io/")
        // A signed link, posted by mail systems from wherever (RFC 8058);
        // the signature, not a cookie, is what authorises it.
        && req.uri().path() != "/unsubscribe"
        && !has_bearer(req.headers());
    if checked && !policy.allows(req.headers(), req.uri()) {
        tracing::warn!(
            origin = OriginPolicy::claimed(req.headers()),
            path = req.uri().path(),
            "cross-origin request refused"
        );
        let error = AppError::new(ErrorCode::Forbidden, CROSS_ORIGIN);
        return if req.uri().path().starts_with("/sfn/") {
            (StatusCode::FORBIDDEN, Json(error)).into_response()
        } else {
            error_response(StatusCode::FORBIDDEN, error)
        };
    }
    if req.method() == Method::POST
        && req.uri().path().starts_with("/sfn/")
        && !is_json(req.headers())
    {
        let error = AppError::new(
            ErrorCode::BadRequest,
            "expected Content-Type: application/json",
        );
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(error)).into_response();
    }
    next.run(req).await
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}
