//! Server functions for being reached while away: email preferences and
//! muting a chat (the same rules and answers as `/api/me/email` and
//! `/api/chats/{id}/mute`).

#[cfg(feature = "ssr")]
use super::context;
use crate::error::AppError;
use crate::model::{ChatId, EmailPreferences};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The caller's email preferences.
#[server(name = LoadEmailPreferences, prefix = "/sfn", endpoint = "email_preferences", input = Json)]
pub async fn email_preferences() -> Result<EmailPreferences, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.email_preferences(&me).await.map_err(context::fail)
}

/// Stores the caller's email preferences; answers with them as stored.
#[server(prefix = "/sfn", endpoint = "set_email_preferences", input = Json)]
pub async fn set_email_preferences(
    preferences: EmailPreferences,
) -> Result<EmailPreferences, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .set_email_preferences(&me, preferences)
        .await
        .map_err(context::fail)
}

/// Mutes (no email, no bell) or unmutes one of the caller's chats.
#[server(prefix = "/sfn", endpoint = "mute_chat", input = Json)]
pub async fn mute_chat(chat_id: ChatId, muted: bool) -> Result<(), AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .mute_chat(&me, chat_id, muted)
        .await
        .map_err(context::fail)
}
