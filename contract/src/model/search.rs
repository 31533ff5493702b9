//! Search: what a client asks for and what it gets back.

use super::{ChatId, Message};
use serde::{Deserialize, Serialize};

/// A search of the messages the caller may read, as a client asks for it
/// (REST query, server-function argument).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    /// The words to find (up to 200 characters, 8 words): every word must
    /// occur, the last also as the start of a word.
    pub q: String,
    /// Hits per page, 1–50 (default 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Hits to skip, 0–200 (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// A message found by a search, with the chat it is in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct SearchHit {
    pub chat_id: ChatId,
    pub job_title: String,
    pub message: Message,
    /// The matched words in `message.content`, as ranges of characters
    /// (not bytes), in order and not overlapping.
    pub highlights: Vec<TextRange>,
}

/// Characters `start..end` of a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TextRange {
    pub start: u32,
    pub end: u32,
}
