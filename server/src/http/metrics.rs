//! `GET /metrics` in Prometheus's text format, for operators only: off
//! unless `JOBCHAT_METRICS_TOKEN` is set, and then only for
//! `Authorization: Bearer <that token>`. Also the middleware that counts
//! every HTTP request by its route pattern and status.

use super::{AppState, error_response};
use crate::metrics;
use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use contract::error::{AppError, ErrorCode};

pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.metrics_token.as_deref() else {
        return error_response(
            StatusCode::NOT_FOUND,
            AppError::new(
                ErrorCode::NotFound,
                "metrics are off (JOBCHAT_METRICS_TOKEN)",
            ),
        );
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Compared in constant time: the token is a secret.
    let ok = given.is_some_and(|g| {
        g.len() == expected.len()
            && g.bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    });
    if !ok {
        return error_response(
            StatusCode::UNAUTHORIZED,
            AppError::new(ErrorCode::Unauthorized, "a valid metrics token is required"),
        );
    }
    let (open, idle) = state.service.pool_stats();
    ::metrics::gauge!(metrics::POOL_OPEN).set(f64::from(open));
    ::metrics::gauge!(metrics::POOL_IN_USE).set(f64::from(open) - idle as f64);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts each request by method (from a fixed set), matched route
/// pattern (never the raw path, so ids do not explode the label set) and
/// status, with its time: every label has a bounded set of values.
pub async fn track(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = metrics::method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    ::metrics::counter!(metrics::HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    ::metrics::histogram!(metrics::HTTP_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
