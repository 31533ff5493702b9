//! The browser tab's title counts unread messages across chats:
//! "(3) jobchat", back to "jobchat" at zero. A `<Title formatter>`, so it
//! wraps whatever title the page sets.

use crate::chat::use_chat;
use crate::model::ChatSummary;
use leptos::prelude::*;
use leptos_meta::Title;

/// Unread messages over all chats.
pub fn total_unread(chats: &[ChatSummary]) -> i64 {
    chats.iter().map(|c| c.unread_count.max(0)).sum()
}

/// `title` with the unread count in front, as other chat apps do.
pub fn with_unread(title: &str, unread: i64) -> String {
    if unread > 0 {
        format!("({unread}) {title}")
    } else {
        title.to_owned()
    }
}

#[component]
pub fn TabTitle() -> impl IntoView {
    let chats = use_chat().chats;
    // Runs inside leptos_meta's title effect, so reading the chats here
    // re-titles the tab whenever a count changes.
    let formatter = move |title: String| with_unread(&title, chats.with(|c| total_unread(c)));
    view! { <Title formatter/> }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: i64, unread_count: i64) -> ChatSummary {
        ChatSummary {
            unread_count,
            ..crate::chat::list::tests::summary(id)
        }
    }

    #[test]
    fn counts_every_chat_and_shows_only_when_any() {
        assert_eq!(total_unread(&[]), 0);
        assert_eq!(total_unread(&[chat(1, 2), chat(2, 0), chat(3, 1)]), 3);
        assert_eq!(
            total_unread(&[chat(1, -1), chat(2, 1)]),
            1,
            "never below zero"
        );
        assert_eq!(with_unread("jobchat", 3), "(3) jobchat");
        assert_eq!(with_unread("jobchat", 0), "jobchat");
    }
}
