//! Server functions for reports, blocks and the LSMs' moderation queue
//! (the same rules and answers as `/api/reports`, `/api/blocks` and
//! `/api/moderation/*`).

#[cfg(feature = "ssr")]
use super::context;
use crate::error::AppError;
use crate::model::{
    AuditEntry, BlockedUser, ModerationAction, ModerationItem, ModerationPage, NewReport,
    ReportReceipt, UserAction, UserId,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Reports a message or a person in a chat.
#[server(prefix = "/sfn", endpoint = "report", input = Json)]
pub async fn report(report: NewReport) -> Result<ReportReceipt, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.report(&me, report).await.map_err(context::fail)
}

/// Blocks (`block` true) or unblocks a person.
#[server(prefix = "/sfn", endpoint = "set_block", input = Json)]
pub async fn set_block(user_id: UserId, block: bool) -> Result<(), AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .set_block(&me, user_id, block)
        .await
        .map_err(context::fail)
}

/// Whom the caller blocks.
#[server(prefix = "/sfn", endpoint = "blocks", input = Json)]
pub async fn blocked_users() -> Result<Vec<BlockedUser>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.blocks(&me).await.map_err(context::fail)
}

/// The moderation queue (LSMs).
#[server(prefix = "/sfn", endpoint = "moderation_items", input = Json)]
pub async fn moderation_items(page: ModerationPage) -> Result<Vec<ModerationItem>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .moderation_items(&me, page)
        .await
        .map_err(context::fail)
}

/// Acts on a queue item (LSMs).
#[server(prefix = "/sfn", endpoint = "moderate", input = Json)]
pub async fn moderate(item_id: i64, action: ModerationAction) -> Result<AuditEntry, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .moderate(&me, item_id, action)
        .await
        .map_err(context::fail)
}

/// Suspends a person or lifts their suspension (LSMs).
#[server(prefix = "/sfn", endpoint = "moderate_user", input = Json)]
pub async fn moderate_user(user_id: UserId, action: UserAction) -> Result<AuditEntry, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .moderate_user(&me, user_id, action)
        .await
        .map_err(context::fail)
}

/// The moderation log, newest first (LSMs).
#[server(prefix = "/sfn", endpoint = "moderation_log", input = Json)]
pub async fn moderation_log(page: ModerationPage) -> Result<Vec<AuditEntry>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .moderation_log(&me, page)
        .await
        .map_err(context::fail)
}
