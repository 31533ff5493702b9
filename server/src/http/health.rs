//! Liveness with a database round trip, for load balancers and operators.

use super::{AppState, ErrorBody, error_response};
use app::error::{AppError, ErrorCode};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

/// 200 when the database answers, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let unavailable = |message| {
        error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            AppError::new(ErrorCode::Unavailable, message),
        )
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), state.service.ping()).await {
        Ok(Ok(database)) => Json(Health {
            status: "ok",
            database,
        })
        .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            unavailable("database unavailable")
        }
        Err(_) => unavailable("database timed out"),
    }
}
