//! A window's history: scrolls with new messages unless the user scrolled
//! up, loads older pages at the top, marks the newest read at the bottom.

use super::message::MessageItem;
use crate::chat::use_chat;
use crate::model::ChatId;
use leptos::html;
use leptos::prelude::*;

/// Pixels from an edge that still count as "at" it.
const EDGE: i32 = 40;

#[component]
pub fn MessageList(chat_id: ChatId, pinned: RwSignal<bool>) -> impl IntoView {
    let chat = use_chat();
    let my_id = chat.me().map(|m| m.id);
    let lines = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| th.lines.clone())
                .unwrap_or_default()
        })
    });
    // (loaded, has older, loading older)
    let paging = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| (th.loaded, th.has_older, th.loading_older))
                .unwrap_or_default()
        })
    });
    let others_read = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| th.read_by_others(my_id))
                .unwrap_or(0)
        })
    });

    let body_ref = NodeRef::<html::Div>::new();
    let prev_height = StoredValue::new(0i32);
    Effect::new(move |_| {
        lines.track();
        if let Some(el) = body_ref.get() {
            let old_height = prev_height.get_value();
            let new_height = el.scroll_height();
            if pinned.get_untracked() {
                el.set_scroll_top(new_height);
            } else if el.scroll_top() < EDGE && old_height > 0 {
                // Older history was prepended: keep the same message in view.
                el.set_scroll_top(new_height - old_height + el.scroll_top());
            }
            prev_height.set_value(new_height);
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = body_ref.get() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < EDGE;
            pinned.set(at_bottom);
            if at_bottom {
                chat.mark_seen(chat_id);
            }
            if el.scroll_top() < EDGE {
                chat.load_older(chat_id);
            }
        }
    };

    view! {
        <div class="popup-body" node_ref=body_ref on:scroll=on_scroll>
            <Show when=move || paging.get().1>
                <button class="link older" on:click=move |_| chat.load_older(chat_id)>
                    {move || if paging.get().2 { "Loading…" } else { "Load older messages" }}
                </button>
            </Show>
            <Show when=move || !paging.get().0 && lines.with(|l| l.is_empty())>
                <p class="muted center">"Loading messages…"</p>
            </Show>
            <ol class="messages">
                <For
                    each=move || lines.get()
                    key=|l| (l.key(), l.delivery, l.error.clone())
                    children=move |line| view! { <MessageItem chat_id line my_id others_read/> }
                />
            </ol>
        </div>
    }
}
