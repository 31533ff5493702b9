//! Who is calling: a bearer token, or the browser's HttpOnly session cookie.
//! A present but invalid credential is an error, never "anonymous".

use super::{ApiError, AppState};
use crate::service::{AuthUser, ServiceError};
use axum::{extract::FromRequestParts, http::request::Parts};

pub const SESSION_COOKIE: &str = "jobchat_session";

/// The token from `Authorization: Bearer …`, else from the session cookie.
pub fn token_from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    cookie_value(headers, SESSION_COOKIE)
}

pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = token_from_headers(&parts.headers).ok_or(ServiceError::Unauthorized)?;
        let (user, _) = state.service.authenticate(&token)?;
        tracing::Span::current().record("user_id", user.id);
        Ok(user)
    }
}
