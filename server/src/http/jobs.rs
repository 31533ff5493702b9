//! Booking a job (which opens its chat), and its steps after.

use super::client_ip::ClientIp;
use super::{ApiJson, ApiPath, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State, http::StatusCode};
use contract::model::{Booking, JobTransition, Message, NewJob};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_job))
        .routes(routes!(change_job_status))
}

/// Take a job one step on: the provider confirms (`confirmed`), starts
/// (`in_progress`) and completes (`completed`) it; the customer cancels
/// (`cancelled`) before it starts. The answer is the step's system line,
/// which the chat's room gets as `new_message`; the chat list's
/// `jobStatus` follows.
#[utoipa::path(post, path = "/api/jobs/{job_id}/status", tag = "jobs", request_body = JobTransition, security(("bearer" = [])),
    params(("job_id" = i64, Path, description = "Job id")),
    responses(
        (status = 200, body = Message),
        (status = 400, description = "Malformed JSON, or a path id that is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The step is the other party's", body = ErrorBody),
        (status = 404, description = "No such job, or not the caller's", body = ErrorBody),
        (status = 409, description = "The job does not stand where that step leaves from (e.g. cancelling a started job)", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape", body = ErrorBody),
    ))]
async fn change_job_status(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(job_id): ApiPath<i64>,
    ApiJson(req): ApiJson<JobTransition>,
) -> ApiResult<Json<Message>> {
    Ok(Json(
        state
            .service
            .change_job_status(&user, job_id, req.to)
            .await?,
    ))
}

/// Book a job with a provider. Customers only. The job, its chat, both
/// participants and a "Job booked" system message are created together.
#[utoipa::path(post, path = "/api/jobs", tag = "jobs", request_body = NewJob, security(("bearer" = [])),
    responses(
        (status = 201, body = Booking),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Caller is not a customer", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid input, a body of the wrong shape, or providerId is not a provider", body = ErrorBody),
        (status = 429, description = "Too many bookings by this account or address (see Retry-After)", body = ErrorBody),
    ))]
async fn create_job(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<NewJob>,
) -> ApiResult<(StatusCode, Json<Booking>)> {
    let (title, description) = req.parse()?;
    let booked = state
        .service
        .book_job(&user, req.provider_id, title, description, ip)
        .await?;
    Ok((StatusCode::CREATED, Json(booked)))
}
