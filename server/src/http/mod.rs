//! The HTTP API: one module per resource, each exposing `router()`. Every
//! route is registered through utoipa so the OpenAPI document cannot drift
//! from what the server serves. Handlers are thin callers of
//! `crate::service`; errors are `AppError`s (see `error`).

mod accounts;
mod attachments;
mod auth_user;
mod blocks;
mod chats;
pub mod client_ip;
mod disputes;
mod emails;
mod error;
mod guard;
mod headers;
mod health;
mod jobs;
pub mod metrics;
mod moderation;
mod notifications;
mod reports;
mod revisions;
mod search;
pub mod server_fns;
mod transcripts;

pub use error::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody, ErrorDetail, error_response,
};
pub use guard::{CROSS_ORIGIN, same_origin};
pub use headers::{HeaderPolicy, NON_PAGE_POLICY, page_policy, security_headers};

use crate::auth::SessionCookie;
use crate::service::Service;
use axum::{
    Json, Router, extract::FromRef, http::StatusCode, response::IntoResponse, routing::get,
};
use contract::error::{AppError, ErrorCode};
use leptos::prelude::LeptosOptions;
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub leptos_options: LeptosOptions,
    /// How the session cookie is written (`Secure` in production).
    pub cookie: SessionCookie,
    /// Redis, when several nodes share it (`/healthz` checks it).
    pub cluster: Option<crate::cluster::Cluster>,
    /// Renders `/metrics`, which answers only `metrics_token`'s holder.
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub metrics_token: Option<std::sync::Arc<str>>,
    /// `JOBCHAT_CLIENT_IP_HEADER` (see `client_ip`).
    pub client_ip_header: Option<axum::http::HeaderName>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jobchat API", description = "REST half of jobchat: accounts, jobs, chats, history, edits, attachments, disputes, notifications, search, reports, blocks and moderation. Real-time events are in docs/realtime.md."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "accounts"), (name = "jobs"), (name = "chats"), (name = "disputes"), (name = "notifications"), (name = "search"), (name = "attachments"), (name = "moderation"), (name = "health")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API routes and their OpenAPI document, built from the same list.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(accounts::router())
        .merge(emails::router())
        .merge(jobs::router())
        .merge(chats::router())
        .merge(disputes::router())
        .merge(transcripts::router())
        .merge(notifications::router())
        .merge(revisions::router())
        .merge(attachments::router())
        .merge(search::router())
        .merge(reports::router())
        .merge(blocks::router())
        .merge(moderation::router())
        .merge(health::router())
        .split_for_parts()
}

/// The API router with `/api/openapi.json` and a JSON 404 for unknown API paths.
pub fn router() -> Router<AppState> {
    let (router, doc) = api();
    let doc = std::sync::Arc::new(doc);
    router
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/metrics", get(metrics::render))
        .merge(emails::unsubscribe_router())
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(read_body_first))
}

/// Middleware: the whole request body (within `DefaultBodyLimit`) is read
/// before any extractor runs. A request refused before its body was read
/// (no token, a bad path id) otherwise makes hyper close the keep-alive
/// connection right after the answer, which says nothing of it (no
/// `Connection: close`): the client's next request on that connection then
/// fails with "connection closed without response" (found by schemathesis).
async fn read_body_first(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::{Body, Bytes, HttpBody};
    use axum::extract::FromRequest;
    if request.body().size_hint().exact() == Some(0)
        || attachments::is_upload(request.method(), request.uri().path())
    {
        // An upload reads its own body, first thing, to its own limit.
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match Bytes::from_request(axum::extract::Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => {
            next.run(axum::extract::Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::new(
                ErrorCode::PayloadTooLarge,
                "request body is larger than 64 KiB",
            ),
        ),
        Err(rejection) => error_response(
            StatusCode::BAD_REQUEST,
            AppError::new(
                ErrorCode::BadRequest,
                format!("could not read the request body: {}", rejection.body_text()),
            ),
        ),
    }
}

/// The longest any HTTP request (API, server function, page) may take
/// before it is answered 503 `unavailable`: a database that stops answering
/// must not leave requests hanging. Socket.IO's long-polling is outside
/// this layer (its requests wait for events on purpose).
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(15);

/// An upload's deadline, its body's arrival included.
pub const UPLOAD_DEADLINE: std::time::Duration = std::time::Duration::from_secs(120);

/// Middleware: `REQUEST_DEADLINE` for every request through it
/// (`UPLOAD_DEADLINE` for an upload).
pub async fn deadline(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // A 10 MiB upload over a slow uplink takes longer than any answer.
    let deadline = if attachments::is_upload(request.method(), request.uri().path()) {
        UPLOAD_DEADLINE
    } else {
        REQUEST_DEADLINE
    };
    match tokio::time::timeout(deadline, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!("request took longer than its deadline: answered 503");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                AppError::new(
                    ErrorCode::Unavailable,
                    "the server could not answer in time; try again",
                ),
            )
            .into_response()
        }
    }
}

/// A path that exists with another method (`POST /api/disputes/take`
/// reads as the case `take`, which is only read): 405 with the JSON error
/// every other refusal has, not an empty body.
async fn method_not_allowed() -> impl IntoResponse {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        AppError::new(
            ErrorCode::BadRequest,
            "this endpoint does not take that method",
        ),
    )
}

async fn api_not_found() -> impl IntoResponse {
    error_response(
        StatusCode::NOT_FOUND,
        AppError::new(ErrorCode::NotFound, "no such API endpoint"),
    )
}
