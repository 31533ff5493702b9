//! The caller's blocks (private: nobody else sees them).

use super::{ApiPath, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State, http::StatusCode};
use contract::model::{BlockedUser, UserId};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_blocks))
        .routes(routes!(block_user, unblock_user))
}

/// Whom the caller blocks, newest first (at most 1,000).
#[utoipa::path(get, path = "/api/blocks", tag = "moderation", security(("bearer" = [])),
    responses(
        (status = 200, body = [BlockedUser]),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_blocks(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<Vec<BlockedUser>>> {
    Ok(Json(state.service.blocks(&user).await?))
}

/// Block a person: they can no longer book the caller (nor the caller
/// them), and their messages no longer ring the caller's bell. Existing
/// chats stay (an open job is settled through a dispute). Blocking again
/// changes nothing.
#[utoipa::path(put, path = "/api/blocks/{user_id}", tag = "moderation", security(("bearer" = [])),
    params(("user_id" = i64, Path, description = "The person to block")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 400, description = "A path id that is not an integer", body = ErrorBody),
        (status = 422, description = "The caller's own id (`details.field`: `userId`)", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "A local service manager cannot be blocked", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "The caller already blocks 1,000 people", body = ErrorBody),
        (status = 429, description = "Too many reports and blocks this hour (Retry-After)", body = ErrorBody),
    ))]
async fn block_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(blocked): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.service.block(&user, blocked).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lift a block.
#[utoipa::path(delete, path = "/api/blocks/{user_id}", tag = "moderation", security(("bearer" = [])),
    params(("user_id" = i64, Path, description = "The person blocked")),
    responses(
        (status = 204, description = "No longer blocked"),
        (status = 400, description = "A path id that is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "The caller does not block them", body = ErrorBody),
        (status = 429, description = "Too many reports and blocks this hour (Retry-After)", body = ErrorBody),
    ))]
async fn unblock_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(blocked): ApiPath<UserId>,
) -> ApiResult<StatusCode> {
    state.service.unblock(&user, blocked).await?;
    Ok(StatusCode::NO_CONTENT)
}
