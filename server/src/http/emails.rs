//! Email when away: the caller's choices (`/api/me/email`, a chat muted
//! with `/api/chats/{id}/mute`), and the signed
//! unsubscribe link every email carries (`/unsubscribe`): a page that asks
//! first (GET), and the RFC 8058 one-click POST a mail client sends
//! without cookies, which turns email off at once.

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, ServiceError, texts::html_escape};
use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use contract::model::{ChatId, ChatMute, EmailPreferences, UserId};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_email, set_email))
        .routes(routes!(mute_chat))
}

/// The unsubscribe page and its one-click POST (outside `/api`: a page).
pub fn unsubscribe_router() -> Router<AppState> {
    Router::new().route("/unsubscribe", get(unsubscribe_page).post(unsubscribe_now))
}

/// The caller's email choices: email at all, after how many minutes away,
/// not during their quiet hours (in their time zone).
#[utoipa::path(get, path = "/api/me/email", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = EmailPreferences),
        (status = 401, body = ErrorBody),
    ))]
async fn get_email(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<Json<EmailPreferences>> {
    Ok(Json(state.service.email_preferences(&user).await?))
}

/// Store the caller's email choices (the unsubscribe link turns email
/// off too). Answers with them as stored.
#[utoipa::path(put, path = "/api/me/email", tag = "accounts", request_body = EmailPreferences, security(("bearer" = [])),
    responses(
        (status = 200, body = EmailPreferences),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape, a delay outside 5–1440 minutes, a quiet hour that is not HH:MM (or ends when it starts), or an unknown time zone (`details.field`)", body = ErrorBody),
    ))]
async fn set_email(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(prefs): ApiJson<EmailPreferences>,
) -> ApiResult<Json<EmailPreferences>> {
    Ok(Json(
        state.service.set_email_preferences(&user, &prefs).await?,
    ))
}

/// Mute (no email and no bell for the caller) or unmute one of the
/// caller's chats; the chat list carries `muted`.
#[utoipa::path(put, path = "/api/chats/{chat_id}/mute", tag = "chats", request_body = ChatMute, security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id")),
    responses(
        (status = 204, description = "Muted or unmuted"),
        (status = 400, description = "Malformed JSON, or a path id that is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such chat, or not (or no longer) the caller's", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape", body = ErrorBody),
    ))]
async fn mute_chat(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(chat): ApiPath<ChatId>,
    ApiJson(req): ApiJson<ChatMute>,
) -> ApiResult<StatusCode> {
    state.service.mute_chat(&user, chat, req.muted).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
struct Link {
    /// The account the link was sent to.
    u: UserId,
    /// Its signature.
    s: String,
}

/// A small page of its own (no app around it: the link may be opened
/// signed out, on another device).
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t} · jobchat</title></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = html_escape(title),
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response()
}

fn refused(e: &ServiceError) -> Response {
    match e {
        ServiceError::Forbidden(_) => page(
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "<p>It may have been cut short. Use the link in the email as it is, or turn emails off in jobchat's settings.</p>",
        ),
        ServiceError::NotFound(_) => page(
            StatusCode::NOT_FOUND,
            "No such account",
            "<p>The account this email was sent to no longer exists.</p>",
        ),
        _ => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Please try again",
            "<p>jobchat could not record this just now.</p>",
        ),
    }
}

/// The page an unsubscribe link opens: it asks before turning email off
/// (a link scanner that follows links must not unsubscribe anyone).
async fn unsubscribe_page(ApiQuery(link): ApiQuery<Link>) -> Response {
    let action = format!("/unsubscribe?u={}&amp;s={}", link.u, html_escape(&link.s));
    page(
        StatusCode::OK,
        "Stop emails from jobchat?",
        &format!(
            "<p>You will no longer get emails about unread messages while you are away. \
             You can turn them on again in jobchat.</p>\
             <form method=\"post\" action=\"{action}\">\
             <input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
             <button type=\"submit\">Stop these emails</button></form>"
        ),
    )
}

/// The one-click POST (RFC 8058), or the page's button: email off now.
async fn unsubscribe_now(
    State(state): State<AppState>,
    ApiQuery(link): ApiQuery<Link>,
) -> Response {
    match state.service.unsubscribe(link.u, &link.s).await {
        Ok(()) => page(
            StatusCode::OK,
            "You will get no more emails",
            "<p>Emails about unread messages are off for your account. You can turn them on again in jobchat.</p>",
        ),
        Err(e) => refused(&e),
    }
}
