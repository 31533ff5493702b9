//! Liveness with a database round trip, for load balancers and operators.

use super::{AppState, ErrorBody, error_response};
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
    let db = state.service.db();
    match tokio::time::timeout(std::time::Duration::from_secs(3), db.ping()).await {
        Ok(Ok(())) => Json(Health {
            status: "ok",
            database: db.backend(),
        })
        .into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: database unavailable");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "database unavailable",
            )
        }
        Err(_) => error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "database timed out",
        ),
    }
}
