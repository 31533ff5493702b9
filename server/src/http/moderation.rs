//! The LSMs' moderation queue, its actions, suspensions and the
//! append-only log (JSON, and CSV for export). LSMs only.

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, EXPORT_MAX};
use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use contract::model::{
    AuditEntry, ModerationAction, ModerationItem, ModerationPage, UserAction, UserId,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_items))
        .routes(routes!(act_on_item))
        .routes(routes!(act_on_user))
        .routes(routes!(list_log))
        .routes(routes!(export_log))
}

/// The queue: reports and auto-flags with a status (`open` by default),
/// newest first, each with who it is about and by (with their history of
/// reports), the job, the evidence and the messages around it.
#[utoipa::path(get, path = "/api/moderation/items", tag = "moderation", security(("bearer" = [])),
    params(ModerationPage),
    responses(
        (status = 200, body = [ModerationItem]),
        (status = 400, description = "A limit that is not a number", body = ErrorBody),
        (status = 422, description = "A status other than open, dismissed or actioned, or a limit outside 1–100", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_items(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(page): ApiQuery<ModerationPage>,
) -> ApiResult<Json<Vec<ModerationItem>>> {
    Ok(Json(state.service.moderation_queue(&user, &page).await?))
}

/// Act on an open item: `dismiss` it, `hide` its message for everyone
/// (the text stays in the report and the log), `warn` the person (a
/// system line in the chat with the reason), or `suspend` them for `days`
/// or for good (their sessions end and their sockets close on every
/// node). The answer is the log's new line.
#[utoipa::path(post, path = "/api/moderation/items/{item_id}/actions", tag = "moderation", security(("bearer" = [])),
    params(("item_id" = i64, Path, description = "Queue item id")),
    request_body = ModerationAction,
    responses(
        (status = 200, body = AuditEntry),
        (status = 400, description = "Malformed JSON, or a path id that is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM, or would suspend an LSM", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 409, description = "The item was closed already, or its message was deleted by its sender", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape, an empty or over-long reason, days outside 1–3650 or with another action, `lift`, or `hide` on an item without a message", body = ErrorBody),
    ))]
async fn act_on_item(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(item_id): ApiPath<i64>,
    ApiJson(action): ApiJson<ModerationAction>,
) -> ApiResult<Json<AuditEntry>> {
    Ok(Json(
        state.service.act_on_item(&user, item_id, &action).await?,
    ))
}

/// Suspend a person (for `days`, or for good) or `lift` their suspension,
/// outside the queue. The answer is the log's new line.
#[utoipa::path(post, path = "/api/moderation/users/{user_id}/actions", tag = "moderation", security(("bearer" = [])),
    params(("user_id" = i64, Path, description = "The person")),
    request_body = UserAction,
    responses(
        (status = 200, body = AuditEntry),
        (status = 400, description = "Malformed JSON, or a path id that is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM, or the person is an LSM", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "Lifting a suspension that is not there", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape, an action other than suspend or lift, an empty or over-long reason, or days outside 1–3650", body = ErrorBody),
    ))]
async fn act_on_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(subject): ApiPath<UserId>,
    ApiJson(action): ApiJson<UserAction>,
) -> ApiResult<Json<AuditEntry>> {
    Ok(Json(
        state.service.act_on_user(&user, subject, &action).await?,
    ))
}

/// The append-only log of every moderation action, newest first.
#[utoipa::path(get, path = "/api/moderation/log", tag = "moderation", security(("bearer" = [])),
    params(ModerationPage),
    responses(
        (status = 200, body = [AuditEntry]),
        (status = 400, description = "A limit or before that is not a number", body = ErrorBody),
        (status = 422, description = "A limit outside 1–100", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_log(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(page): ApiQuery<ModerationPage>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    Ok(Json(state.service.moderation_log(&user, &page, 100).await?))
}

/// The log as CSV, for export: up to 10,000 lines (`limit`) below
/// `before`, newest first.
#[utoipa::path(get, path = "/api/moderation/log.csv", tag = "moderation", security(("bearer" = [])),
    params(ModerationPage),
    responses(
        (status = 200, description = "The log as CSV (RFC 4180)", content_type = "text/csv", body = String),
        (status = 400, description = "A limit or before that is not a number", body = ErrorBody),
        (status = 422, description = "A limit outside 1–10000", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn export_log(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(page): ApiQuery<ModerationPage>,
) -> ApiResult<Response> {
    let page = ModerationPage {
        limit: Some(page.limit.unwrap_or(EXPORT_MAX)),
        ..page
    };
    let lines = state
        .service
        .moderation_log(&user, &page, EXPORT_MAX)
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"jobchat-moderation-log.csv\"",
            ),
        ],
        log_csv(&lines),
    )
        .into_response())
}

/// The log as RFC 4180 CSV. A cell a spreadsheet would run as a formula
/// (starting with `=`, `+`, `-`, `@`, tab or carriage return) is prefixed
/// with `'`, since reasons are typed by people.
pub fn log_csv(lines: &[AuditEntry]) -> String {
    let mut out = String::from(
        "id,at,actor_id,actor,action,item_id,subject_id,subject,chat_id,message_id,reason,detail\r\n",
    );
    for e in lines {
        let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let row = [
            e.id.to_string(),
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.actor.id.to_string(),
            e.actor.name.clone(),
            e.action.as_str().to_owned(),
            opt(e.item_id),
            opt(e.subject.as_ref().map(|s| s.id)),
            e.subject
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            opt(e.chat_id),
            opt(e.message_id),
            e.reason.clone(),
            e.detail.clone(),
        ];
        let cells: Vec<String> = row.iter().map(|c| crate::spreadsheet::cell(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}
