//! Who is calling: a bearer token, or the browser's HttpOnly session cookie
//! (read by `auth::SessionCookie`), checked by the service against the
//! account (revoked tokens are refused). A present but invalid credential
//! is an error, never "anonymous".

use super::{ApiError, AppState};
use crate::service::{AuthUser, ServiceError};
use axum::{extract::FromRequestParts, http::request::Parts};

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = state
            .cookie
            .token_from_headers(&parts.headers)
            .ok_or(ServiceError::Unauthorized)?;
        let (user, _) = state.service.authenticate(&token).await?;
        tracing::Span::current().record("user_id", user.id);
        Ok(user)
    }
}
