//! Files in a chat: what a message carries, and what an upload answers.

use serde::{Deserialize, Serialize};

pub type AttachmentId = i64;

/// A stored file, as every client sees it. Its bytes are served only to
/// the chat's participants, at `GET /api/attachments/{id}` (and
/// `…/thumbnail` when `thumbnail` is true).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    pub id: AttachmentId,
    /// The name it was uploaded under, its extension matching `mime`.
    pub name: String,
    /// The type its bytes were found to be (never the name's or the
    /// browser's claim).
    pub mime: String,
    /// Bytes as stored (an image after its metadata was stripped).
    pub size: i64,
    /// Images: their size in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
    /// A thumbnail of at most 320 × 320 pixels exists (images).
    #[serde(default)]
    pub thumbnail: bool,
    /// SHA-256 of the stored bytes, hex: what a transcript lists.
    pub sha256: String,
}

impl Attachment {
    pub fn is_image(&self) -> bool {
        self.mime.starts_with("image/")
    }
}
