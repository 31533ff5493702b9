//! Readiness with a round trip to each dependency (the database, and Redis
//! when several nodes share it), for load balancers and operators.

use super::{AppState, ErrorBody, error_response};
use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use contract::error::{AppError, ErrorCode};
use serde::Serialize;
use std::time::Duration;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
    /// The backend that answered: `sqlite` or `postgres`.
    database: &'static str,
    /// `ok`, or `off` when this node runs alone (no `REDIS_URL`).
    redis: &'static str,
    /// This node's id (random per process) when several nodes share Redis:
    /// tells which node a load balancer pinned the caller to.
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<String>,
}

const TIMEOUT: Duration = Duration::from_secs(3);

/// 200 when the database and (with several nodes) Redis answer within 3 s;
/// 503 otherwise, with each dependency's state in `error.details`
/// (`{"database":"ok"|"unavailable","redis":"ok"|"unavailable"|"off"}`).
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
async fn healthz(State(state): State<AppState>) -> Response {
    let database = async {
        match tokio::time::timeout(TIMEOUT, state.service.ping()).await {
            Ok(Ok(backend)) => Ok(backend),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    };
    let redis = async {
        let Some(cluster) = &state.cluster else {
            return Ok("off");
        };
        match tokio::time::timeout(TIMEOUT, cluster.ping()).await {
            Ok(Ok(())) => Ok("ok"),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    };
    match tokio::join!(database, redis) {
        (Ok(database), Ok(redis)) => Json(Health {
            status: "ok",
            database,
            redis,
            node: state.cluster.as_ref().map(|c| c.node().to_owned()),
        })
        .into_response(),
        (database, redis) => {
            let state = |r: &Result<&str, String>| match r {
                Ok(s) if *s == "off" => "off",
                Ok(_) => "ok",
                Err(_) => "unavailable",
            };
            let down: Vec<&str> = [("database", &database), ("redis", &redis)]
                .into_iter()
                .filter_map(|(name, r)| {
                    r.as_ref().err().map(|e| {
                        tracing::warn!(dependency = name, error = %e, "health check failed");
                        name
                    })
                })
                .collect();
            let mut error = AppError::new(
                ErrorCode::Unavailable,
                format!("{} unavailable", down.join(" and ")),
            );
            error.details = Some(serde_json::json!({
                "database": state(&database),
                "redis": state(&redis),
            }));
            error_response(StatusCode::SERVICE_UNAVAILABLE, error)
        }
    }
}
