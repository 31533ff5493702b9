//! Settling disputes (the LSM's side).

use super::{ApiJson, ApiPath, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State};
use contract::model::ChatId;
use contract::validate::Resolution;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(resolve_dispute))
}

#[derive(Deserialize, ToSchema)]
pub struct ResolveRequest {
    resolution: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolveResponse {
    dispute_id: i64,
    chat_id: ChatId,
    status: String,
}

/// Resolve a dispute. Only the LSM it was assigned to may.
#[utoipa::path(post, path = "/api/disputes/{dispute_id}/resolve", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id")), request_body = ResolveRequest,
    responses(
        (status = 200, body = ResolveResponse),
        (status = 400, description = "dispute_id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "In the dispute's chat but not its LSM", body = ErrorBody),
        (status = 404, description = "No such dispute, or the caller is not in its chat (one answer for both)", body = ErrorBody),
        (status = 409, description = "Already resolved", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid resolution, or a body of the wrong shape", body = ErrorBody),
    ))]
async fn resolve_dispute(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
    ApiJson(req): ApiJson<ResolveRequest>,
) -> ApiResult<Json<ResolveResponse>> {
    let resolution = Resolution::parse(&req.resolution)?;
    let chat_id = state
        .service
        .resolve_dispute(&user, dispute_id, resolution)
        .await?;
    Ok(Json(ResolveResponse {
        dispute_id,
        chat_id,
        status: "resolved".into(),
    }))
}
