//! The key dispute transcripts are signed with, for anyone who holds a
//! transcript and wants to check it (`server transcript verify FILE --key
//! KEY`). The transcripts themselves are a case's
//! (`/api/disputes/{id}/transcript`, `disputes.rs`).

use super::AppState;
use axum::{Json, extract::State, http::header, response::IntoResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(transcript_key))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptKey {
    /// `Ed25519`.
    alg: &'static str,
    /// The public key: `ed25519:` and its 32 bytes in unpadded base64url.
    #[schema(example = "ed25519:8fP3n9wZ2a4Qk1q0mJ7yVt6cXhR5sLdE2uBoGiNlKpA")]
    key: String,
}

/// The public key every transcript this server exports is signed with
/// (the same on every node; it changes only with `JWT_SECRET`). Public:
/// whoever holds a transcript may check it.
#[utoipa::path(get, path = "/api/transcripts/key", tag = "disputes",
    responses((status = 200, body = TranscriptKey)))]
async fn transcript_key(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(TranscriptKey {
            alg: crate::transcript::signing::ALG,
            key: state.service.transcript_key().to_string(),
        }),
    )
}
