//! A window's history: scrolls with new messages unless the user scrolled
//! up (then "↓ N new" counts what arrived and jumps back down), loads older
//! pages at the top, marks the newest read at the bottom. Day separators and
//! "Seen by …" come from `timeline`.

use super::message::MessageItem;
use super::timeline::{self, Row};
use crate::chat::{Line, Thread, use_chat};
use crate::components::clock::Clock;
use crate::model::{ChatId, Seq};
use leptos::html;
use leptos::prelude::*;

/// Pixels from an edge that still count as "at" it.
const EDGE: i32 = 40;

#[component]
pub fn MessageList(chat_id: ChatId, pinned: RwSignal<bool>) -> impl IntoView {
    let chat = use_chat();
    let my_id = chat.me().map(|m| m.id);
    let clock = Clock::new();
    let lines = Memo::new(move |_| chat.thread_lines(chat_id));
    // (loaded, has older, loading older)
    let paging = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| (th.loaded, th.has_older, th.loading_older))
                .unwrap_or_default()
        })
    });
    // The other participants now in the chat, for "Read" and "Seen by".
    let others = Memo::new(move |_| {
        chat.chat(chat_id)
            .map(|s| {
                s.participants
                    .into_iter()
                    .filter(|p| Some(p.id) != my_id)
                    .map(|p| (p.id, p.name))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    // An LSM who settled the dispute left the chat: their messages there
    // stay as they are.
    let writable = Memo::new(move |_| !chat.chat(chat_id).is_some_and(|c| c.left));
    let receipt = Memo::new(move |_| {
        let ids: Vec<_> = others.with(|o| o.iter().map(|(id, _)| *id).collect());
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| th.read_receipt_through(&ids))
                .unwrap_or(0)
        })
    });
    let states = Memo::new(move |_| lines.with(|l| timeline::line_states(l)));
    let seen = Memo::new(move |_| {
        let others = others.get();
        chat.threads.with(|t| {
            t.get(&chat_id)
                .and_then(|th| timeline::seen_by(&th.lines, my_id, &others, &th.read_up_to))
        })
    });
    let rows = Memo::new(move |_| {
        let seen = seen.get();
        lines.with(|l| timeline::rows(l, |at| clock.day_of(at), seen))
    });

    // The seq of the newest message shown when the user scrolled away from
    // the bottom: what came after it is "new".
    let left_at = RwSignal::new(None::<Seq>);
    let newest = move || {
        chat.threads
            .with_untracked(|t| {
                t.get(&chat_id)
                    .and_then(Thread::newest_shown)
                    .map(|m| m.seq)
            })
            .unwrap_or(0)
    };
    if !pinned.get_untracked() {
        left_at.set(Some(newest()));
    }
    let unseen = Memo::new(move |_| match (pinned.get(), left_at.get()) {
        (false, Some(since)) => lines.with(|l| timeline::arrived_since(l, since, my_id)),
        _ => 0,
    });

    let body_ref = NodeRef::<html::Div>::new();
    let prev_height = StoredValue::new(0i32);
    let prev_first = StoredValue::new(None::<String>);
    Effect::new(move |_| {
        // Every row counts: a "Seen by" line appearing at the bottom too.
        rows.track();
        let first = lines.with_untracked(|l| l.first().map(Line::key));
        if let Some(el) = body_ref.get() {
            let old_height = prev_height.get_value();
            let new_height = el.scroll_height();
            let prepended = prev_first.get_value().is_some() && prev_first.get_value() != first;
            if pinned.get_untracked() {
                el.set_scroll_top(new_height);
            } else if prepended && old_height > 0 {
                // Older history came in above: keep the same message in view.
                el.set_scroll_top(new_height - old_height + el.scroll_top());
            }
            prev_height.set_value(new_height);
        }
        prev_first.set_value(first);
        // A search hit opened here: once its line is on screen, scroll to
        // it (centred) and flash it; the state then forgets the jump.
        if let Some(jump) = chat.jump.get().filter(|j| j.chat_id == chat_id) {
            #[cfg(feature = "hydrate")]
            if let Some(target) = body_ref.get().and_then(|el| {
                el.query_selector(&format!("li[data-id=\"{}\"]", jump.message_id))
                    .ok()
                    .flatten()
            }) {
                pinned.set(false);
                let opts = web_sys::ScrollIntoViewOptions::new();
                opts.set_block(web_sys::ScrollLogicalPosition::Center);
                target.scroll_into_view_with_scroll_into_view_options(&opts);
                let _ = target.class_list().add_1("jumped");
                chat.jump_done(chat_id);
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = jump;
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = body_ref.get() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < EDGE;
            if !at_bottom && pinned.get_untracked() {
                left_at.set(Some(newest()));
            }
            pinned.set(at_bottom);
            if at_bottom {
                chat.mark_seen(chat_id);
            }
            if el.scroll_top() < EDGE {
                chat.load_older(chat_id);
            }
        }
    };
    let jump_to_newest = move |_| {
        if let Some(el) = body_ref.get() {
            el.set_scroll_top(el.scroll_height());
        }
        pinned.set(true);
        chat.mark_seen(chat_id);
    };

    view! {
        <div class="popup-scroll">
            // Focusable, so the history scrolls from the keyboard too.
            <div class="popup-body" node_ref=body_ref on:scroll=on_scroll tabindex="0">
                <Show when=move || paging.get().1>
                    <button class="link older" on:click=move |_| chat.load_older(chat_id)>
                        {move || if paging.get().2 { "Loading…" } else { "Load older messages" }}
                    </button>
                </Show>
                <Show when=move || !paging.get().0 && lines.with(|l| l.is_empty())>
                    <p class="muted center">"Loading messages…"</p>
                </Show>
                // A live log: each row is inserted once (stable keys), so
                // the newest message is read out once; not while a page of
                // history is being put in.
                <div role="log" aria-live="polite" aria-label="Conversation"
                    aria-busy=move || { let (loaded, _, older) = paging.get(); (!loaded || older).to_string() }>
                <ol class="messages">
                    <For
                        each=move || rows.get()
                        key=Row::key
                        children=move |row| match row {
                            Row::Day(day) => {
                                let label = move || timeline::day_label(day, clock.today());
                                view! {
                                    <li class="day-sep" data-day=day.to_string()>
                                        <span role="separator" aria-label=label>{label}</span>
                                    </li>
                                }
                                .into_any()
                            }
                            Row::Message(line) => {
                                view! { <MessageItem chat_id line my_id receipt states clock writable/> }.into_any()
                            }
                            Row::SeenBy { after, names } => {
                                view! {
                                    <li class="seen-by" data-message-id=after>{format!("Seen by {}", names.join(", "))}</li>
                                }
                                .into_any()
                            }
                        }
                    />
                </ol>
                </div>
            </div>
            <Show when=move || { unseen.get() > 0 }>
                <button class="jump-new" on:click=jump_to_newest
                    aria-label=move || format!("Jump to the newest messages: {} new", unseen.get())>
                    <span aria-hidden="true">"↓ "</span>{move || format!("{} new", unseen.get())}
                </button>
            </Show>
        </div>
    }
}
