//! Search: what a client asks for and what it gets back.

use super::{ChatId, Message};
use crate::validate::SearchQuery;
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

impl TextRange {
    /// Where the query's words occur in `text`: each word of the text
    /// (split as the query is) that equals one of them, or starts with the
    /// last one, as a range of characters. Computed here, not by the
    /// database, so both backends mark the same words and no markup passes
    /// through message text.
    pub fn highlights(query: &SearchQuery, text: &str) -> Vec<TextRange> {
        let Some((last, rest)) = query.words().split_last() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut word = String::new();
        let mut start = 0u32;
        let mut at = 0u32;
        let mut close = |word: &mut String, start: u32, end: u32| {
            if word.is_empty() {
                return;
            }
            let lower = word.to_lowercase();
            if lower.starts_with(last.as_str()) || rest.contains(&lower) {
                out.push(TextRange { start, end });
            }
            word.clear();
        };
        for c in text.chars() {
            if c.is_alphanumeric() {
                if word.is_empty() {
                    start = at;
                }
                word.push(c);
            } else {
                close(&mut word, start, at);
            }
            at += 1;
        }
        close(&mut word, start, at);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_are_whole_words_in_characters() {
        let q = SearchQuery::parse("sink kit").expect("valid");
        let ranges: Vec<(u32, u32)> =
            TextRange::highlights(&q, "Größe: the Kitchen-SINK, sinks and kit.")
                .iter()
                .map(|r| (r.start, r.end))
                .collect();
        // "Kitchen" (prefix of the last word), "SINK"; not "sinks".
        assert_eq!(ranges, vec![(11, 18), (19, 23), (35, 38)]);
        assert!(TextRange::highlights(&q, "nothing here").is_empty());
    }
}
