//! Reporting a message or a person in a chat to the LSMs' moderation queue.

use super::{ApiJson, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State, http::StatusCode};
use contract::model::{NewReport, ReportReceipt};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_report))
}

/// Report a message (`messageId`) or a person (`userId`) in a chat the
/// caller is or was in, with a category and an optional note. The report
/// keeps the message's text as it was, whatever happens to it later; every
/// LSM's queue gets it live. Reporting the same message again answers with
/// the first receipt.
#[utoipa::path(post, path = "/api/reports", tag = "moderation", request_body = NewReport, security(("bearer" = [])),
    responses(
        (status = 201, body = ReportReceipt),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), no such message in it, or no such person in it", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many reports and blocks this hour (Retry-After)", body = ErrorBody),
    ))]
async fn create_report(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<NewReport>,
) -> ApiResult<(StatusCode, Json<ReportReceipt>)> {
    let receipt = state.service.report(&user, &req).await?;
    Ok((StatusCode::CREATED, Json(receipt)))
}
