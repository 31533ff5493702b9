//! One message: reading it, editing and deleting one's own, and its
//! versions for the LSM of a dispute on its chat.

use super::{ApiJson, ApiPath, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State};
use contract::model::{ChatId, Message, MessageHistory, MessageId};
use contract::validate::{ClientId, MessageText};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_message, edit_message, delete_message))
        .routes(routes!(message_versions))
}

/// One message as history has it (a change: with its target's state).
/// Participants only (someone who left: what came before).
#[utoipa::path(get, path = "/api/chats/{chat_id}/messages/{message_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), ("message_id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "A path id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), or no such message in it", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn get_message(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((chat_id, message_id)): ApiPath<(ChatId, MessageId)>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        state.service.message(&user, chat_id, message_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditRequest {
    /// The new text: 1–4,000 characters after trimming.
    content: String,
    /// A UUID of the caller's: the same one again answers with the edit
    /// stored the first time.
    client_id: String,
}

/// Edit the caller's own message, within `JOBCHAT_EDIT_WINDOW_SECS` of
/// sending it. The answer is the stored edit: a message of kind `edit`
/// with its own seq, `targetId`, and the target's new text and revision;
/// the chat's room gets it as `new_message`.
#[utoipa::path(patch, path = "/api/chats/{chat_id}/messages/{message_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), ("message_id" = i64, Path, description = "Message id")),
    request_body = EditRequest,
    responses(
        (status = 200, body = Message),
        (status = 400, description = "A path id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not the caller's message (or a system line), or the caller left the chat", body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), or no such message in it", body = ErrorBody),
        (status = 409, description = "The edit window has passed, or the message was deleted", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid content or clientId (`details.field`), or a body of the wrong shape", body = ErrorBody),
    ))]
async fn edit_message(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((chat_id, message_id)): ApiPath<(ChatId, MessageId)>,
    ApiJson(req): ApiJson<EditRequest>,
) -> ApiResult<Json<Message>> {
    let text = MessageText::parse(&req.content)?;
    let client_id = ClientId::parse(&req.client_id)?;
    let edit = state
        .service
        .edit_message(&user, chat_id, message_id, text, client_id)
        .await?;
    Ok(Json(edit))
}

/// Delete the caller's own message (at any time). The answer is the stored
/// deletion (kind `delete`, as an edit); deleting again answers with the
/// same one.
#[utoipa::path(delete, path = "/api/chats/{chat_id}/messages/{message_id}", tag = "chats", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), ("message_id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "A path id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not the caller's message (or a system line), or the caller left the chat", body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), or no such message in it", body = ErrorBody),
    ))]
async fn delete_message(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((chat_id, message_id)): ApiPath<(ChatId, MessageId)>,
) -> ApiResult<Json<Message>> {
    let deletion = state
        .service
        .delete_message(&user, chat_id, message_id)
        .await?;
    Ok(Json(deletion))
}

/// Every version of a message, oldest first: as sent, each edit, and the
/// deletion with its time. For the LSM of a dispute on the chat only (one
/// whose dispute was settled sees them as they stood at the settlement).
#[utoipa::path(get, path = "/api/chats/{chat_id}/messages/{message_id}/versions", tag = "disputes", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), ("message_id" = i64, Path, description = "Message id")),
    responses(
        (status = 200, body = MessageHistory),
        (status = 400, description = "A path id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is in the chat but not as its LSM", body = ErrorBody),
        (status = 404, description = "No such chat (or not the caller's), or no such message in it", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn message_versions(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((chat_id, message_id)): ApiPath<(ChatId, MessageId)>,
) -> ApiResult<Json<MessageHistory>> {
    let history = state
        .service
        .message_history(&user, chat_id, message_id)
        .await?;
    Ok(Json(history))
}
