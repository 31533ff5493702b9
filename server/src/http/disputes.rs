//! Disputes, the LSMs' side: the console's queue of cases, taking and
//! handing over a case, settling it with an outcome, and its transcript.

use super::{ApiJson, ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use crate::transcript::Format;
use axum::{
    Json,
    extract::State,
    http::header,
    response::{IntoResponse, Response},
};
use contract::model::{CaseQuery, ChatId, DisputeCase, Handover, SettleCase, UserRef};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_cases))
        .routes(routes!(get_case))
        .routes(routes!(take_case))
        .routes(routes!(hand_over_case))
        .routes(routes!(resolve_dispute))
        .routes(routes!(export_transcript))
        .routes(routes!(list_lsms))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolveResponse {
    dispute_id: i64,
    chat_id: ChatId,
    status: String,
}

/// The console's queue: cases with a status (`open` by default), newest
/// first, optionally only the caller's and matching words. LSMs only.
#[utoipa::path(get, path = "/api/disputes", tag = "disputes", security(("bearer" = [])),
    params(CaseQuery),
    responses(
        (status = 200, body = [DisputeCase]),
        (status = 400, description = "A limit or before that is not a number", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 422, description = "A status other than open, resolved or all, a limit outside 1–100, or words longer than 100 characters", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
    ))]
async fn list_cases(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<CaseQuery>,
) -> ApiResult<Json<Vec<DisputeCase>>> {
    Ok(Json(state.service.dispute_cases(&user, &query).await?))
}

/// One case. LSMs only.
#[utoipa::path(get, path = "/api/disputes/{dispute_id}", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id")),
    responses(
        (status = 200, body = DisputeCase),
        (status = 400, description = "dispute_id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 404, description = "No such dispute", body = ErrorBody),
    ))]
async fn get_case(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
) -> ApiResult<Json<DisputeCase>> {
    Ok(Json(state.service.dispute_case(&user, dispute_id).await?))
}

/// Take an open case: it moves to the caller, who joins the chat; the LSM
/// who had it leaves it. Taking one's own case changes nothing.
#[utoipa::path(post, path = "/api/disputes/{dispute_id}/take", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id")),
    responses(
        (status = 200, body = DisputeCase),
        (status = 400, description = "dispute_id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 404, description = "No such dispute", body = ErrorBody),
        (status = 405, description = "No dispute id in the path: `/api/disputes/take` and the like name the case list, which has no POST", body = ErrorBody),
        (status = 409, description = "Already resolved, or moved meanwhile", body = ErrorBody),
    ))]
async fn take_case(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
) -> ApiResult<Json<DisputeCase>> {
    Ok(Json(state.service.take_case(&user, dispute_id).await?))
}

/// Hand an open case to another LSM. Only the LSM who has it may.
#[utoipa::path(post, path = "/api/disputes/{dispute_id}/handover", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id")),
    request_body = Handover,
    responses(
        (status = 200, body = DisputeCase),
        (status = 400, description = "dispute_id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM, or does not have the case", body = ErrorBody),
        (status = 404, description = "No such dispute", body = ErrorBody),
        (status = 405, description = "No dispute id in the path: `/api/disputes/take` and the like name the case list, which has no POST", body = ErrorBody),
        (status = 409, description = "Already resolved, or moved meanwhile", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "`to` is the caller, or not an LSM", body = ErrorBody),
    ))]
async fn hand_over_case(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
    ApiJson(req): ApiJson<Handover>,
) -> ApiResult<Json<DisputeCase>> {
    Ok(Json(
        state
            .service
            .hand_over_case(&user, dispute_id, req.to)
            .await?,
    ))
}

/// Settle a dispute with an outcome and a note both parties read. Only
/// the LSM who has the case may. `{"resolution": "…"}` alone, as older
/// clients send it, settles with the outcome `other`.
#[utoipa::path(post, path = "/api/disputes/{dispute_id}/resolve", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id")), request_body = SettleCase,
    responses(
        (status = 200, body = ResolveResponse),
        (status = 400, description = "dispute_id is not an integer, or malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "In the dispute's chat but not its LSM", body = ErrorBody),
        (status = 404, description = "No such dispute, or the caller is not in its chat (one answer for both)", body = ErrorBody),
        (status = 405, description = "No dispute id in the path: `/api/disputes/take` and the like name the case list, which has no POST", body = ErrorBody),
        (status = 409, description = "Already resolved, or another LSM took it meanwhile", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "No note, an unknown outcome, or a refund amount missing, out of range or on another outcome", body = ErrorBody),
    ))]
async fn resolve_dispute(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
    ApiJson(req): ApiJson<SettleCase>,
) -> ApiResult<Json<ResolveResponse>> {
    let settlement = req.parse()?;
    let chat_id = state
        .service
        .resolve_dispute(&user, dispute_id, settlement)
        .await?;
    Ok(Json(ResolveResponse {
        dispute_id,
        chat_id,
        status: "resolved".into(),
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// `json` (the default), `csv` or `html` (printable).
    #[serde(default)]
    format: Option<String>,
}

/// The case's whole chat as a verifiable transcript: every message with
/// its edits and deletions, masked parts shown, system lines,
/// attachments with their SHA-256, the outcome, each message's link of
/// the chat's hash chain (a chain that no longer holds is named in
/// `chain.brokenAtSeq`), the SHA-256 digest of the canonical JSON and the
/// server's Ed25519 signature over it (`GET /api/transcripts/key`).
/// `server transcript verify FILE` checks a JSON or HTML export. LSMs only.
#[utoipa::path(get, path = "/api/disputes/{dispute_id}/transcript", tag = "disputes", security(("bearer" = [])),
    params(("dispute_id" = i64, Path, description = "Dispute id"), TranscriptQuery),
    responses(
        (status = 200, description = "The transcript", content(
            ("application/json"), ("text/csv"), ("text/html"))),
        (status = 400, description = "dispute_id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
        (status = 404, description = "No such dispute", body = ErrorBody),
        (status = 422, description = "A format other than json, csv or html", body = ErrorBody),
        (status = 429, description = "Too many reads this minute (Retry-After)", body = ErrorBody),
        (status = 503, description = "The chat has more than 20,000 messages, too many for one transcript; or the database is unavailable", body = ErrorBody),
    ))]
async fn export_transcript(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(dispute_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<TranscriptQuery>,
) -> ApiResult<Response> {
    let format = Format::parse(query.format.as_deref())?;
    let transcript = state.service.transcript(&user, dispute_id).await?;
    let (body, content_type) = format.render(&transcript);
    let name = format!(
        "jobchat-dispute-{dispute_id}-transcript.{}",
        format.extension()
    );
    let disposition = match format {
        Format::Html => format!("inline; filename=\"{name}\""),
        _ => format!("attachment; filename=\"{name}\""),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// The LSM accounts a case can be handed to. LSMs only.
#[utoipa::path(get, path = "/api/lsms", tag = "disputes", security(("bearer" = [])),
    responses(
        (status = 200, body = [UserRef]),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller is not an LSM", body = ErrorBody),
    ))]
async fn list_lsms(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<Vec<UserRef>>> {
    Ok(Json(state.service.lsm_accounts(&user).await?))
}
