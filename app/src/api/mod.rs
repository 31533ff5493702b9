//! Leptos server functions: every one-time operation the browser performs
//! (the REST half of the seed's "data flow summary"). Each is a thin caller
//! of the server's service layer, reached through [`Backend`], a trait this
//! crate defines and `server` implements (`server/src/backend.rs`): `app`
//! cannot depend on `server`, and server functions cannot be generic, so
//! they take the one `Arc<dyn Backend>` the server puts in context.
//!
//! All of them answer JSON at `/sfn/<name>`, take JSON arguments and fail
//! with [`AppError`], the same codes and messages as REST and socket acks;
//! the HTTP status is the code's (401 for `unauthorized`, …).

#[cfg(feature = "ssr")]
mod backend;
mod disputes;
mod moderation;
mod preferences;
#[cfg(feature = "ssr")]
pub use backend::{Backend, BackendHandle};
pub use disputes::*;
pub use moderation::*;
pub use preferences::*;

use crate::error::AppError;
use crate::model::{
    ChatCursor, ChatId, ChatSummary, Me, MessageHistory, MessageId, MessagePage, Notification,
    Role, User, UserId, UserRef,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// What booking, "Add LSM" and a history page answer: the contract's own
/// types, which REST answers with too.
pub use contract::model::{
    Booking, DisputeOpened, NewJob, PageRequest, Registration, SearchHit, SearchRequest, SignedIn,
};

#[cfg(feature = "ssr")]
mod context {
    use super::{AppError, Backend, BackendHandle, Me};
    use leptos::prelude::*;

    /// Sets the response status from the error's code, then hands it back.
    pub fn fail(e: AppError) -> AppError {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(e.code.http_status())
        {
            res.set_status(status);
        }
        e
    }

    pub fn backend() -> Result<BackendHandle, AppError> {
        use_context::<BackendHandle>().ok_or_else(|| fail(AppError::internal()))
    }

    pub fn parts() -> Result<http::request::Parts, AppError> {
        use_context::<http::request::Parts>().ok_or_else(|| fail(AppError::internal()))
    }

    /// The backend and the signed-in caller, or `unauthorized`.
    pub async fn signed_in() -> Result<(BackendHandle, Me), AppError> {
        let backend = backend()?;
        let parts = parts()?;
        let me = backend.caller(&parts).await.map_err(fail)?;
        Ok((backend, me))
    }

    /// Sets the session cookie (or clears it with `None`).
    pub fn set_cookie(backend: &dyn Backend, token: Option<&str>) {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(v) = http::HeaderValue::from_str(&backend.session_cookie(token))
        {
            res.append_header(http::header::SET_COOKIE, v);
        }
    }
}

/// Who is signed in.
#[server(prefix = "/sfn", endpoint = "me", input = Json)]
pub async fn who_am_i() -> Result<User, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.me(&me).await.map_err(context::fail)
}

/// Signs in and sets the HttpOnly session cookie.
#[server(prefix = "/sfn", endpoint = "login", input = Json)]
pub async fn login(email: String, password: String) -> Result<Me, AppError> {
    let backend = context::backend()?;
    let parts = context::parts()?;
    let signed = backend
        .login(&parts, email, password)
        .await
        .map_err(context::fail)?;
    context::set_cookie(backend.as_ref(), Some(&signed.token));
    Ok(signed.me())
}

/// Creates a customer or provider account, signed in at once.
#[server(prefix = "/sfn", endpoint = "register", input = Json)]
pub async fn register(
    name: String,
    email: String,
    password: String,
    role: Role,
) -> Result<Me, AppError> {
    let backend = context::backend()?;
    let parts = context::parts()?;
    let signed = backend
        .register(
            &parts,
            Registration {
                name,
                email,
                password,
                role,
            },
        )
        .await
        .map_err(context::fail)?;
    context::set_cookie(backend.as_ref(), Some(&signed.token));
    Ok(signed.me())
}

/// Signs this session out (its token is refused from then on, its sockets
/// close; other sessions go on) and clears the session cookie, the latter
/// even when the former fails.
#[server(prefix = "/sfn", endpoint = "logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    let backend = context::backend()?;
    let parts = context::parts()?;
    context::set_cookie(backend.as_ref(), None);
    backend.sign_out(&parts).await.map_err(context::fail)
}

/// Providers a customer can book.
#[server(prefix = "/sfn", endpoint = "providers", input = Json)]
pub async fn providers() -> Result<Vec<UserRef>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.providers(&me).await.map_err(context::fail)
}

/// Books a job with a provider; its chat opens at once.
#[server(prefix = "/sfn", endpoint = "book_job", input = Json)]
pub async fn book_job(
    provider_id: UserId,
    title: String,
    description: String,
) -> Result<Booking, AppError> {
    let (backend, me) = context::signed_in().await?;
    let parts = context::parts()?;
    let job = NewJob {
        provider_id,
        title,
        description: Some(description),
    };
    backend
        .book_job(&parts, &me, job)
        .await
        .map_err(context::fail)
}

/// Takes a job one step on (see `/api/jobs/{id}/status`); answers with the
/// step's system line.
#[server(prefix = "/sfn", endpoint = "job_status", input = Json)]
pub async fn change_job_status(
    job_id: i64,
    to: crate::model::JobStatus,
) -> Result<crate::model::Message, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .change_job_status(&me, job_id, to)
        .await
        .map_err(context::fail)
}

/// The caller's chats, most recent activity first: the newest page
/// (`CHAT_PAGE` of them), or the page after `before`.
#[server(prefix = "/sfn", endpoint = "chats", input = Json)]
pub async fn list_chats(before: Option<ChatCursor>) -> Result<Vec<ChatSummary>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.chats(&me, before).await.map_err(context::fail)
}

/// Most chats one page of the list holds (the server's `MAX_CHAT_PAGE`): a
/// full page means there may be older ones.
pub const CHAT_PAGE: usize = 200;

/// A page of a chat's history, oldest first.
#[server(prefix = "/sfn", endpoint = "messages", input = Json)]
pub async fn list_messages(chat_id: ChatId, page: PageRequest) -> Result<MessagePage, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .messages(&me, chat_id, page)
        .await
        .map_err(context::fail)
}

/// Every version of a message (as sent, each edit, the deletion), oldest
/// first: for the LSM of a dispute on its chat only.
#[server(prefix = "/sfn", endpoint = "message_versions", input = Json)]
pub async fn message_versions(
    chat_id: ChatId,
    message_id: MessageId,
) -> Result<MessageHistory, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .message_versions(&me, chat_id, message_id)
        .await
        .map_err(context::fail)
}

/// Messages containing the words asked for, in the chats the caller may
/// read, best first (see `/api/search`).
#[server(prefix = "/sfn", endpoint = "search", input = Json)]
pub async fn search_messages(request: SearchRequest) -> Result<Vec<SearchHit>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.search(&me, request).await.map_err(context::fail)
}

/// "Add LSM": opens a dispute in the chat.
#[server(prefix = "/sfn", endpoint = "open_dispute", input = Json)]
pub async fn open_dispute(chat_id: ChatId, reason: String) -> Result<DisputeOpened, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .open_dispute(&me, chat_id, reason)
        .await
        .map_err(context::fail)
}

/// The dispute's LSM settles it.
#[server(prefix = "/sfn", endpoint = "resolve_dispute", input = Json)]
pub async fn resolve_dispute(dispute_id: i64, resolution: String) -> Result<(), AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .resolve_dispute(&me, dispute_id, resolution)
        .await
        .map_err(context::fail)
}

/// The caller's bell notifications, newest first.
#[server(prefix = "/sfn", endpoint = "notifications", input = Json)]
pub async fn list_notifications(unread_only: bool) -> Result<Vec<Notification>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .notifications(&me, unread_only)
        .await
        .map_err(context::fail)
}

#[server(prefix = "/sfn", endpoint = "read_notification", input = Json)]
pub async fn read_notification(id: i64) -> Result<(), AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .read_notification(&me, id)
        .await
        .map_err(context::fail)
}

#[server(prefix = "/sfn", endpoint = "read_all_notifications", input = Json)]
pub async fn read_all_notifications() -> Result<(), AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .read_all_notifications(&me)
        .await
        .map_err(context::fail)
}
