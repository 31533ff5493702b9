//! The `ClientIp` extractor: the caller's address for REST handlers, as
//! `crate::client_ip::resolve` finds it.

use super::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::IpAddr;

/// Extractor: the caller's address as `resolve` finds it.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self(crate::client_ip::resolve(
            parts,
            state.client_ip_header.as_ref(),
        )))
    }
}
