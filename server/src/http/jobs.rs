//! Booking a job (which opens its chat).

use super::client_ip::ClientIp;
use super::{ApiJson, ApiResult, AppState, ErrorBody};
use crate::service::AuthUser;
use axum::{Json, extract::State, http::StatusCode};
use contract::model::{Booking, NewJob};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_job))
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
