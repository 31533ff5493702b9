//! "Search messages": a search box over the chat list; while a search is
//! shown its hits replace the list, each with its chat, sender, time and
//! the matched words marked. Opening a hit opens its chat scrolled to it.

use crate::chat::use_chat;
use crate::components::clock::Clock;
use crate::model::{SearchHit, TextRange};
use leptos::prelude::*;

/// `text` cut into runs, each marked or not, at the character ranges.
pub fn marked_runs(text: &str, ranges: &[TextRange]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut runs = Vec::new();
    let mut at = 0usize;
    for r in ranges {
        let (start, end) = (r.start as usize, (r.end as usize).min(chars.len()));
        if start < at || start >= end {
            // Out of order or empty: the server never sends one; skip it.
            continue;
        }
        if start > at {
            runs.push((chars[at..start].iter().collect(), false));
        }
        runs.push((chars[start..end].iter().collect(), true));
        at = end;
    }
    if at < chars.len() {
        runs.push((chars[at..].iter().collect(), false));
    }
    runs
}

#[component]
fn Hit(hit: SearchHit, clock: Clock) -> impl IntoView {
    let chat = use_chat();
    let at = hit.message.created_at;
    let datetime = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let runs = marked_runs(&hit.message.content, &hit.highlights);
    let sender = hit.message.sender_name.clone().unwrap_or_default();
    let title = hit.job_title.clone();
    let open = move |_| chat.jump_to(&hit);
    view! {
        <li>
            <button class="search-hit" on:click=open>
                <span class="hit-head">
                    <span class="hit-title">{title}</span>
                    <time datetime=datetime>{move || {
                        let local = clock.local(at);
                        format!("{} {}", local.format("%-d %b"), local.format("%H:%M"))
                    }}</time>
                </span>
                <span class="hit-sender">{sender}</span>
                <span class="hit-text">
                    {runs
                        .into_iter()
                        .map(|(text, mark)| if mark {
                            view! { <mark>{text}</mark> }.into_any()
                        } else {
                            text.into_any()
                        })
                        .collect_view()}
                </span>
            </button>
        </li>
    }
}

#[component]
fn MessageSearch() -> impl IntoView {
    let chat = use_chat();
    let clock = Clock::new();
    let query = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        chat.search(query.get_untracked());
    };
    let clear = move |_| {
        query.set(String::new());
        chat.search(String::new());
    };
    let status = move || {
        chat.search.with(|s| match s {
            None => String::new(),
            Some(s) if s.loading && s.hits.is_empty() => "Searching…".into(),
            Some(s) if s.error.is_some() => s.error.clone().unwrap_or_default(),
            Some(s) if s.hits.is_empty() => format!("No messages found for “{}”.", s.query),
            Some(s) if s.more => format!("{}+ messages found for “{}”.", s.hits.len(), s.query),
            Some(s) => match s.hits.len() {
                1 => format!("1 message found for “{}”.", s.query),
                n => format!("{n} messages found for “{}”.", s.query),
            },
        })
    };
    view! {
        <form class="search" role="search" on:submit=submit>
            <label for="search-q" class="sr-only">"Search messages"</label>
            <input id="search-q" type="search" placeholder="Search messages" maxlength="200"
                autocomplete="off" prop:value=query
                on:input=move |ev| query.set(event_target_value(&ev))/>
            <button type="submit">"Search"</button>
        </form>
        <Show when=move || chat.search.with(Option::is_some)>
            <div class="search-results">
                <p class="search-status" role="status">{status}</p>
                <ul class="search-hits">
                    <For
                        each=move || chat.search.with(|s| s.as_ref().map(|s| s.hits.clone()).unwrap_or_default())
                        key=|h| h.message.id
                        children=move |hit| view! { <Hit hit clock/> }
                    />
                </ul>
                <Show when=move || chat.search.with(|s| s.as_ref().is_some_and(|s| s.more))>
                    <button class="link" on:click=move |_| chat.search_more()>
                        {move || if chat.search.with(|s| s.as_ref().is_some_and(|s| s.loading)) { "Loading…" } else { "More results" }}
                    </button>
                </Show>
                <button class="link" on:click=clear>"Back to the chats"</button>
            </div>
        </Show>
    }
}

/// The search box above a chat list; while a search is shown, its hits
/// take the list's place.
#[component]
pub fn Searchable(children: ChildrenFn) -> impl IntoView {
    let chat = use_chat();
    view! {
        <MessageSearch/>
        <Show when=move || chat.search.with(Option::is_none)>{children()}</Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u32, end: u32) -> TextRange {
        TextRange { start, end }
    }

    #[test]
    fn runs_mark_the_ranges_in_characters() {
        let runs = marked_runs("Größe sink, Sink!", &[r(6, 10), r(12, 16)]);
        let expected = vec![
            ("Größe ".to_owned(), false),
            ("sink".to_owned(), true),
            (", ".to_owned(), false),
            ("Sink".to_owned(), true),
            ("!".to_owned(), false),
        ];
        assert_eq!(runs, expected);
        assert_eq!(marked_runs("abc", &[]), vec![("abc".to_owned(), false)]);
        // Ranges past the end or out of order never panic.
        assert_eq!(
            marked_runs("abc", &[r(1, 9), r(0, 1)]),
            vec![("a".to_owned(), false), ("bc".to_owned(), true)]
        );
    }
}
