//! The caller's chats, their history, read markers and disputes.

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, chat_page, page_query};
use axum::{Json, extract::State, http::StatusCode};
use contract::model::{ChatId, ChatSummary, DisputeOpened, MessageId, MessagePage, PageRequest};
use contract::validate::Reason;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_chats))
        .routes(routes!(list_messages))
        .routes(routes!(mark_read))
        .routes(routes!(open_dispute))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChatListParams {
    /// Page size, 1–200 (default 200).
    limit: Option<i64>,
    /// The next page: the previous page's last chat's last message id
    /// (0 when it has none)…
    #[serde(rename = "beforeMessage")]
    #[param(rename = "beforeMessage")]
    before_message: Option<MessageId>,
    /// …and that chat's id. Both or neither.
    #[serde(rename = "beforeChat")]
    #[param(rename = "beforeChat")]
    before_chat: Option<ChatId>,
}

/// Most recent activity first, a page at a time: fewer than `limit` chats
/// means this was the last page.
#[utoipa::path(get, path = "/api/chats", tag = "chats", security(("bearer" = [])),
    params(ChatListParams),
    responses(
        (status = 200, body = [ChatSummary]),
        (status = 400, description = "A bad query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_chats(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(params): ApiQuery<ChatListParams>,
) -> ApiResult<Json<Vec<ChatSummary>>> {
    let page = chat_page(params.before_message, params.before_chat, params.limit)?;
    Ok(Json(state.service.list_chats_page(&user, page).await?))
}

/// A page of history, oldest first. Participants only.
#[utoipa::path(get, path = "/api/chats/{chat_id}/messages", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), PageRequest),
    responses(
        (status = 200, body = MessagePage),
        (status = 400, description = "chat_id is not an integer, or a bad query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat, or the caller is not in it (one answer for both)", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_messages(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(chat_id): ApiPath<ChatId>,
    ApiQuery(page): ApiQuery<PageRequest>,
) -> ApiResult<Json<MessagePage>> {
    let query = page_query(&page)?;
    Ok(Json(state.service.history(&user, chat_id, query).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadRequest {
    message_id: MessageId,
}

/// Move the caller's read marker forward (never back).
#[utoipa::path(post, path = "/api/chats/{chat_id}/read", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id")), request_body = ReadRequest,
    responses(
        (status = 204, description = "Marker moved (or already past that message)"),
        (status = 400, description = "chat_id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), or no such message in it", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape", body = ErrorBody),
    ))]
async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(chat_id): ApiPath<ChatId>,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<StatusCode> {
    state
        .service
        .mark_read(&user, chat_id, req.message_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct DisputeRequest {
    reason: String,
}

/// "Add LSM": open a dispute; the least busy LSM joins the chat.
#[utoipa::path(post, path = "/api/chats/{chat_id}/dispute", tag = "disputes", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id")), request_body = DisputeRequest,
    responses(
        (status = 201, body = DisputeOpened),
        (status = 400, description = "chat_id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat, or the caller is not in it (one answer for both)", body = ErrorBody),
        (status = 409, description = "A dispute is already open (its id in error.details.dispute)", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid reason, or a body of the wrong shape", body = ErrorBody),
        (status = 429, description = "The chat's last dispute was settled within the cooldown (Retry-After)", body = ErrorBody),
        (status = 503, description = "No LSM account exists", body = ErrorBody),
    ))]
async fn open_dispute(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(chat_id): ApiPath<ChatId>,
    ApiJson(req): ApiJson<DisputeRequest>,
) -> ApiResult<(StatusCode, Json<DisputeOpened>)> {
    let reason = Reason::parse(&req.reason)?;
    let opened = state.service.open_dispute(&user, chat_id, reason).await?;
    Ok((StatusCode::CREATED, Json(opened)))
}
