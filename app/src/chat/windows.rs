//! Chat windows on screen: how many fit, the order they stand in, and the
//! one a `/?chat=ID` link opens.

use crate::model::ChatId;

/// A chat window on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenChat {
    pub chat_id: ChatId,
    pub minimized: bool,
}

/// The chat a `/?chat=ID` link asks to open: from the request on the
/// server, from the address bar in the browser (the same URL, so both
/// render the same first frame).
pub(crate) fn linked_chat() -> Option<ChatId> {
    #[cfg(feature = "ssr")]
    let query = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|p| p.uri.query().map(str::to_owned))
        .unwrap_or_default();
    #[cfg(feature = "hydrate")]
    let query = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let query = String::new();
    chat_param(&query)
}

/// `chat=ID` from a query string (with or without the leading `?`).
fn chat_param(query: &str) -> Option<ChatId> {
    query
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("chat="))
        .and_then(|v| v.parse::<ChatId>().ok())
        .filter(|id| *id > 0)
}
/// Whether the screen is as narrow as a phone's: the stylesheet's 600 px
/// breakpoint, where one chat window fills the screen. Never on the server.
pub fn small_screen() -> bool {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.inner_width().ok())
            .and_then(|w| w.as_f64())
            .is_some_and(|w| w <= 600.0)
    }
    #[cfg(not(feature = "hydrate"))]
    false
}

/// Windows on screen at most: side by side on wide screens; one on small
/// ones, where it fills the screen and a second would sit out of sight.
pub fn max_open(small: bool) -> usize {
    if small { 1 } else { 3 }
}

/// Puts `chat` first among the open windows (newest first) and keeps at
/// most `max`; returns the chats that no longer fit (to be closed).
pub fn put_first(open: &mut Vec<OpenChat>, chat: ChatId, max: usize) -> Vec<ChatId> {
    open.retain(|o| o.chat_id != chat);
    open.insert(
        0,
        OpenChat {
            chat_id: chat,
            minimized: false,
        },
    );
    open.split_off(max.min(open.len()))
        .into_iter()
        .map(|o| o.chat_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{OpenChat, chat_param, max_open, put_first};

    fn ids(open: &[OpenChat]) -> Vec<i64> {
        open.iter().map(|o| o.chat_id).collect()
    }

    #[test]
    fn one_window_at_a_time_on_small_screens() {
        let mut open = Vec::new();
        assert!(put_first(&mut open, 1, max_open(true)).is_empty());
        assert_eq!(put_first(&mut open, 2, max_open(true)), vec![1]);
        assert_eq!(ids(&open), vec![2], "only the latest");
        // Wide: three side by side, the newest first; a fourth closes the
        // oldest, and reopening one brings it to the front expanded.
        let mut wide = Vec::new();
        for chat in 1..=3 {
            assert!(put_first(&mut wide, chat, max_open(false)).is_empty());
        }
        wide[2].minimized = true;
        assert!(put_first(&mut wide, 1, max_open(false)).is_empty());
        assert_eq!(ids(&wide), vec![1, 3, 2]);
        assert_eq!(put_first(&mut wide, 4, max_open(false)), vec![2]);
        assert_eq!(ids(&wide), vec![4, 1, 3]);
        assert!(!wide[0].minimized);
    }

    #[test]
    fn chat_links() {
        assert_eq!(chat_param("?chat=12"), Some(12));
        assert_eq!(chat_param("a=1&chat=7&b=2"), Some(7));
        assert_eq!(chat_param(""), None);
        assert_eq!(chat_param("?chat=x"), None);
        assert_eq!(chat_param("?chat=-3"), None);
        assert_eq!(chat_param("?mychat=4"), None);
    }
}
