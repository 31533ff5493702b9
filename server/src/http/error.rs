//! How errors look over HTTP: a status code and `{"error":{code,message,details}}`,
//! where the inner object is the `contract::error::AppError` every transport
//! sends (`AppError::from(ServiceError)`); internal detail is logged, never
//! sent. Only the status is HTTP's own: input that parsed but broke a rule is
//! 422, and a rate limit adds `Retry-After`.

use crate::service::ServiceError;
use axum::{
    Json,
    extract::rejection::JsonRejection,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use contract::error::{AppError, ErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

/// The error body every endpoint uses.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// `AppError` as the OpenAPI document describes it.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `payload_too_large`, `rate_limited`, `unavailable`, `internal`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

impl From<AppError> for ErrorBody {
    fn from(e: AppError) -> Self {
        Self {
            error: ErrorDetail {
                code: e.code.as_str().to_owned(),
                message: e.message,
                details: e.details,
            },
        }
    }
}

/// An error response with `status` (which may differ from the code's own,
/// as for 422 and 415).
pub fn error_response(status: StatusCode, error: AppError) -> Response {
    (status, Json(ErrorBody::from(error))).into_response()
}

fn bad_request(message: impl Into<String>) -> AppError {
    AppError::new(ErrorCode::BadRequest, message)
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            other => StatusCode::from_u16(other.code().http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self.0 {
            ServiceError::RateLimited { retry_after_secs }
            | ServiceError::TooSoon {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let mut res = error_response(status, AppError::from(self.0));
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        res
    }
}

/// A JSON body that fails in our error format (axum's own rejections are
/// plain text).
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: axum::extract::FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> Response {
    match &r {
        JsonRejection::JsonDataError(e) => error_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            bad_request(format!("invalid request body: {}", e.body_text())),
        ),
        JsonRejection::MissingJsonContentType(_) => error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            bad_request("expected Content-Type: application/json"),
        ),
        JsonRejection::BytesRejection(_) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                AppError::new(
                    ErrorCode::PayloadTooLarge,
                    "request body is larger than 64 KiB",
                ),
            )
        }
        _ => error_response(
            StatusCode::BAD_REQUEST,
            bad_request(format!("malformed JSON body: {}", r.body_text())),
        ),
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// An axum extractor whose rejection answers in our error format (400
/// `bad_request` with axum's explanation), instead of axum's plain text.
macro_rules! bad_request_on_rejection {
    ($(#[$doc:meta])* $name:ident wraps $inner:ident) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<S, T> axum::extract::FromRequestParts<S> for $name<T>
        where
            T: serde::de::DeserializeOwned + Send,
            S: Send + Sync,
        {
            type Rejection = Response;

            async fn from_request_parts(
                parts: &mut axum::http::request::Parts,
                state: &S,
            ) -> Result<Self, Self::Rejection> {
                axum::extract::$inner::<T>::from_request_parts(parts, state)
                    .await
                    .map(|v| Self(v.0))
                    .map_err(|r| error_response(StatusCode::BAD_REQUEST, bad_request(r.body_text())))
            }
        }
    };
}

bad_request_on_rejection!(
    /// Query-string parameters that fail in our error format.
    ApiQuery wraps Query
);
bad_request_on_rejection!(
    /// Path parameters that fail in our error format (`/api/chats/abc` → 400).
    ApiPath wraps Path
);
