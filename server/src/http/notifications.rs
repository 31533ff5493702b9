//! The notification bell.

use super::{ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State, http::StatusCode};
use contract::model::Notification;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(read_notification))
        .routes(routes!(read_all))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only unread notifications.
    unread: Option<bool>,
}

/// The caller's latest 100 notifications, newest activity first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, body = [Notification]),
        (status = 400, description = "A bad query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
    ))]
async fn list_notifications(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(params): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(
        state
            .service
            .notifications(&user, params.unread.unwrap_or(false))
            .await?,
    ))
}

/// Mark one notification read.
#[utoipa::path(post, path = "/api/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Notification id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 400, description = "id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "Not one of the caller's notifications", body = ErrorBody),
    ))]
async fn read_notification(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    state.service.read_notification(&user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark every notification read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 204, description = "All marked read"), (status = 401, body = ErrorBody)))]
async fn read_all(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    state.service.read_all_notifications(&user).await?;
    Ok(StatusCode::NO_CONTENT)
}
