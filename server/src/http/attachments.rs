//! Uploading a file for a message, and serving a file to its chat's people.

use super::{ApiError, ApiPath, ApiQuery, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, Download, ServiceError, Upload};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use contract::model::{Attachment, AttachmentId, ChatId};
use contract::validate::{ClientId, FileName};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(download))
        .routes(routes!(thumbnail))
}

/// The upload route's path, which `read_body_first` and the deadline treat
/// apart (its body may be megabytes, and may take a while to arrive).
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && path
            .strip_prefix("/api/chats/")
            .and_then(|rest| rest.strip_suffix("/attachments"))
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct UploadParams {
    /// The client id of the message the file is for (the message is sent
    /// afterwards with the same `clientId` and the file's id).
    client_id: String,
    /// The file's name (1–120 characters, no path); its extension is set
    /// to what the bytes are.
    name: String,
}

/// Upload one file for a message about to be sent; the body is the file's
/// bytes (any `Content-Type`: the type is read from the bytes). Images are
/// re-encoded without metadata and get a thumbnail.
#[utoipa::path(post, path = "/api/chats/{chat_id}/attachments", tag = "attachments", security(("bearer" = [])),
    params(("chat_id" = i64, Path, description = "Chat id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, body = Attachment),
        (status = 400, description = "A bad path or query parameter", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "The caller left the chat", body = ErrorBody),
        (status = 404, description = "No such chat, or the caller is not in it", body = ErrorBody),
        (status = 409, description = "The message was sent already, or has its most files", body = ErrorBody),
        (status = 413, description = "Larger than JOBCHAT_FILE_MAX_BYTES", body = ErrorBody),
        (status = 415, description = "Not a type the chat takes (`unsupported_type`), or empty", body = ErrorBody),
        (status = 422, description = "A bad name or clientId (`details.field`), or an image that is corrupt or has too many pixels (`bad_file`)", body = ErrorBody),
        (status = 429, description = "The chat's uploads for the day are used up (Retry-After)", body = ErrorBody),
    ))]
async fn upload(
    State(state): State<AppState>,
    user: Result<AuthUser, ApiError>,
    ApiPath(chat_id): ApiPath<ChatId>,
    ApiQuery(params): ApiQuery<UploadParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    // The body first, whatever the answer: refusing before reading it makes
    // the connection close under the client (see `read_body_first`).
    let max = state.service.file_limits().max_bytes;
    let bytes = axum::body::to_bytes(body, usize::try_from(max + 1).unwrap_or(usize::MAX)).await;
    let user = user?;
    let bytes = bytes.map_err(|_| ServiceError::from(crate::files::Refused::TooLarge { max }))?;
    let up = Upload {
        chat: chat_id,
        client_id: ClientId::parse(&params.client_id)?,
        name: FileName::parse(&params.name)?,
        bytes,
    };
    let attachment = state.service.upload_attachment(&user, up).await?;
    Ok((StatusCode::CREATED, Json(attachment)))
}

/// A file's bytes, for the people of its chat (not yet sent: its uploader;
/// of a deleted message: the chat's LSM). Images inline, anything else as
/// a download.
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such file, or not the caller's to see", body = ErrorBody),
    ))]
async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<AttachmentId>,
) -> ApiResult<Response> {
    let file = state.service.download_attachment(&user, id, false).await?;
    Ok(serve(file))
}

/// An image's thumbnail (at most 320 × 320 pixels), as `download`.
#[utoipa::path(get, path = "/api/attachments/{id}/thumbnail", tag = "attachments", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The thumbnail", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "id is not an integer", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such file or no thumbnail, or not the caller's to see", body = ErrorBody),
    ))]
async fn thumbnail(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<AttachmentId>,
) -> ApiResult<Response> {
    let file = state.service.download_attachment(&user, id, true).await?;
    Ok(serve(file))
}

/// The bytes with their checked type; anything but an image is a download
/// (never rendered on this origin); private caching only.
fn serve(file: Download) -> Response {
    let disposition = if file.mime.starts_with("image/") {
        "inline".to_owned()
    } else {
        format!(
            "attachment; filename*=UTF-8''{}",
            percent_encode(&file.name)
        )
    };
    let mut res = Body::from(file.bytes).into_response();
    let headers = res.headers_mut();
    let mime = HeaderValue::from_str(&file.mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_TYPE, mime);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    res
}

/// RFC 5987: every byte but unreserved characters as %XX.
fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_upload_route_is_an_upload() {
        let post = axum::http::Method::POST;
        assert!(is_upload(&post, "/api/chats/12/attachments"));
        assert!(!is_upload(
            &axum::http::Method::GET,
            "/api/chats/12/attachments"
        ));
        assert!(!is_upload(&post, "/api/chats/12/messages"));
        assert!(!is_upload(&post, "/api/chats//attachments"));
        assert!(!is_upload(&post, "/api/chats/1/2/attachments"));
    }

    #[test]
    fn names_are_encoded_for_the_header() {
        assert_eq!(
            percent_encode("Rechnung März.pdf"),
            "Rechnung%20M%C3%A4rz.pdf"
        );
        assert_eq!(percent_encode("a\"b;c.txt"), "a%22b%3Bc.txt");
    }
}
