//! Server functions for the LSMs' dispute console (the same rules and
//! answers as `/api/disputes/*`). Named explicitly where the default name
//! would be a contract type's (`DisputeCase`, `SettleCase`).

#[cfg(feature = "ssr")]
use super::context;
use crate::error::AppError;
use crate::model::{CaseQuery, ChatId, DisputeCase, UserId, UserRef};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The console's queue (LSMs): open, resolved or all cases, everyone's or
/// the caller's, matching the words asked for.
#[server(name = ListDisputeCases, prefix = "/sfn", endpoint = "dispute_cases", input = Json)]
pub async fn dispute_cases(query: CaseQuery) -> Result<Vec<DisputeCase>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .dispute_cases(&me, query)
        .await
        .map_err(context::fail)
}

/// One case (LSMs).
#[server(name = GetDisputeCase, prefix = "/sfn", endpoint = "dispute_case", input = Json)]
pub async fn dispute_case(dispute_id: i64) -> Result<DisputeCase, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .dispute_case(&me, dispute_id)
        .await
        .map_err(context::fail)
}

/// The caller takes the case over from whoever has it (LSMs).
#[server(name = TakeDisputeCase, prefix = "/sfn", endpoint = "take_case", input = Json)]
pub async fn take_case(dispute_id: i64) -> Result<DisputeCase, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .take_case(&me, dispute_id)
        .await
        .map_err(context::fail)
}

/// The case's LSM gives it to another LSM.
#[server(name = HandOverDisputeCase, prefix = "/sfn", endpoint = "hand_over_case", input = Json)]
pub async fn hand_over_case(dispute_id: i64, to: UserId) -> Result<DisputeCase, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend
        .hand_over_case(&me, dispute_id, to)
        .await
        .map_err(context::fail)
}

/// The case's LSM settles it with an outcome (`no_refund`,
/// `partial_refund` with `refund_cents`, `full_refund`, `other`) and a
/// note both parties read; answers with the case's chat.
#[server(name = SettleDisputeCase, prefix = "/sfn", endpoint = "settle_case", input = Json)]
pub async fn settle_case(
    dispute_id: i64,
    outcome: String,
    refund_cents: Option<i64>,
    note: String,
) -> Result<ChatId, AppError> {
    let (backend, me) = context::signed_in().await?;
    let settle = crate::model::SettleCase {
        outcome: Some(outcome),
        refund_cents,
        note: Some(note),
        resolution: None,
    };
    backend
        .settle_case(&me, dispute_id, settle)
        .await
        .map_err(context::fail)
}

/// Every LSM (whom a case can be handed over to).
#[server(name = ListLsmAccounts, prefix = "/sfn", endpoint = "lsm_accounts", input = Json)]
pub async fn lsm_accounts() -> Result<Vec<UserRef>, AppError> {
    let (backend, me) = context::signed_in().await?;
    backend.lsm_accounts(&me).await.map_err(context::fail)
}
