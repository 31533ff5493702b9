//! One file's upload with XMLHttpRequest: `fetch` reports no upload
//! progress, XHR's `upload.onprogress` does. The session cookie goes along
//! (same origin). Progress and the outcome come back through the callbacks;
//! the runtime turns them into messages.

use crate::chat::outgoing::UploadFailure;
use crate::error::{AppError, ErrorCode};
use crate::model::{Attachment, ChatId};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{Blob, ProgressEvent, XmlHttpRequest};

/// The server's refusal body.
#[derive(serde::Deserialize)]
struct Refusal {
    error: AppError,
}

pub fn url(chat: ChatId, client_id: &str, name: &str) -> String {
    format!(
        "/api/chats/{chat}/attachments?clientId={}&name={}",
        String::from(js_sys::encode_uri_component(client_id)),
        String::from(js_sys::encode_uri_component(name)),
    )
}

/// Starts the upload; `progress` hears percents, `done` the outcome once.
pub fn start(
    url: &str,
    body: &Blob,
    progress: impl Fn(u8) + 'static,
    done: impl FnOnce(Result<Attachment, UploadFailure>) + 'static,
) {
    let Ok(xhr) = XmlHttpRequest::new() else {
        done(Err(UploadFailure::Network));
        return;
    };
    if xhr.open_with_async("POST", url, true).is_err() {
        done(Err(UploadFailure::Network));
        return;
    }
    let on_progress = Closure::<dyn Fn(ProgressEvent)>::new(move |e: ProgressEvent| {
        if e.length_computable() && e.total() > 0.0 {
            progress(((e.loaded() / e.total()) * 100.0).clamp(0.0, 100.0) as u8);
        }
    });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let answered = xhr.clone();
    // `loadend` comes once, after load, error, abort or time-out; the
    // progress handler lives until then.
    let on_end = Closure::once_into_js(move || {
        drop(on_progress);
        done(outcome(&answered));
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    if xhr.send_with_opt_blob(Some(body)).is_err() {
        // `loadend` still comes and answers.
    }
}

fn outcome(xhr: &XmlHttpRequest) -> Result<Attachment, UploadFailure> {
    let status = xhr.status().unwrap_or(0);
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    match status {
        // No answer: offline, or the connection broke.
        0 => Err(UploadFailure::Network),
        200..=299 => serde_json::from_str::<Attachment>(&text).map_err(|_| {
            UploadFailure::Refused(AppError::new(
                ErrorCode::Internal,
                "Unreadable answer from the server",
            ))
        }),
        _ => Err(UploadFailure::Refused(
            serde_json::from_str::<Refusal>(&text)
                .map(|r| r.error)
                .unwrap_or_else(|_| {
                    AppError::new(code_of(status), format!("Upload failed ({status})"))
                }),
        )),
    }
}

/// A refusal without the usual body (a proxy's): its status says enough.
fn code_of(status: u16) -> ErrorCode {
    match status {
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedType,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        429 => ErrorCode::RateLimited,
        400..=499 => ErrorCode::BadRequest,
        _ => ErrorCode::Unavailable,
    }
}
