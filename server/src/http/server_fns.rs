//! The HTTP status of a server function's failure. A server function that
//! ran sets the status from its error's code (`app::api`'s `fail`); one
//! whose arguments did not even decode never ran, and Leptos answers 500
//! with the `AppError` that `contract::error` made of the failure (a
//! `bad_request`). This gives such an answer its code's status, so
//! `/sfn/*` and REST agree (400 for bad arguments) whichever way a request
//! failed.

use axum::body::{Body, HttpBody, to_bytes};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use contract::error::AppError;

/// The largest error body read back (an `AppError` is a few hundred bytes).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Middleware for the pages' router: touches only `/sfn/*` answers of 500.
pub async fn status_from_code(req: Request, next: Next) -> Response {
    let server_fn = req.uri().path().starts_with("/sfn/");
    let res = next.run(req).await;
    if !server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    // Only a body of known, small size is read: anything else is not an
    // error we wrote, and goes on untouched.
    if res
        .body()
        .size_hint()
        .upper()
        .is_none_or(|n| n > MAX_ERROR_BODY as u64)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        // The body failed while read: nothing left to answer with.
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(error.code.http_status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}
