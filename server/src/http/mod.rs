//! The HTTP API: one module per resource, each exposing `router()`. Every
//! route is registered through utoipa so the OpenAPI document cannot drift
//! from what the server serves. Handlers are thin callers of
//! `crate::service`; errors are `AppError`s (see `error`).

mod accounts;
mod auth_user;
mod chats;
mod disputes;
mod error;
mod guard;
mod headers;
mod health;
mod jobs;
pub mod metrics;
mod notifications;

pub use error::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody, ErrorDetail, error_response,
};
pub use guard::{CROSS_ORIGIN, same_origin};
pub use headers::{HeaderPolicy, NON_PAGE_POLICY, page_policy, security_headers};

use crate::auth::SessionCookie;
use crate::service::Service;
use app::error::{AppError, ErrorCode};
use axum::{
    Json, Router, extract::FromRef, http::StatusCode, response::IntoResponse, routing::get,
};
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
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(s: &AppState) -> Self {
        s.leptos_options.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "jobchat API", description = "REST half of jobchat: accounts, jobs, chats, history, disputes, notifications. Real-time events are in docs/realtime.md."),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "accounts"), (name = "jobs"), (name = "chats"), (name = "disputes"), (name = "notifications"), (name = "health")
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
        .merge(jobs::router())
        .merge(chats::router())
        .merge(disputes::router())
        .merge(notifications::router())
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
}

async fn api_not_found() -> impl IntoResponse {
    error_response(
        StatusCode::NOT_FOUND,
        AppError::new(ErrorCode::NotFound, "no such API endpoint"),
    )
}
