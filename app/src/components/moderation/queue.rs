//! The queue: open items (or the dismissed or actioned ones), newest
//! first. Live: it reloads whenever `moderation_rev` moves (a report filed
//! or an item closed by any LSM), and after this LSM's own actions.

use super::item::Item;
use super::said;
use crate::chat::use_chat;
use crate::components::clock::Clock;
use crate::components::focus;
use crate::model::{ItemStatus, ModerationPage};
use leptos::prelude::*;

const STATUSES: [(ItemStatus, &str); 3] = [
    (ItemStatus::Open, "Open"),
    (ItemStatus::Dismissed, "Dismissed"),
    (ItemStatus::Actioned, "Actioned"),
];

/// How many items a page of the queue shows.
const PAGE: u32 = 50;

#[component]
pub fn ModerationQueue(
    /// Moved after an action here, so the log reloads too.
    reload: RwSignal<u32>,
) -> impl IntoView {
    let chat = use_chat();
    let clock = Clock::new();
    let status = RwSignal::new(ItemStatus::Open);
    let announcement = RwSignal::new(String::new());
    let items = Resource::new(
        move || (status.get(), chat.moderation_rev.get(), reload.get()),
        |(status, ..)| {
            crate::api::moderation_items(ModerationPage {
                status: Some(status.as_str().to_owned()),
                before: None,
                limit: Some(PAGE),
            })
        },
    );
    let acted = Callback::new(move |said: String| {
        announcement.set(said);
        reload.update(|r| *r += 1);
        // The item is gone from the open queue: the heading takes the focus.
        focus::focus("#queue-title");
    });
    let tabs = STATUSES
        .into_iter()
        .map(|(s, name)| {
            view! {
                <button type="button" class="seg" data-status=s.as_str()
                    aria-pressed=move || (status.get() == s).to_string()
                    on:click=move |_| status.set(s)>{name}</button>
            }
        })
        .collect_view();
    let list = move || {
        items.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{said(e)}</p> }.into_any(),
            Ok(list) if list.is_empty() => {
                let empty = match status.get_untracked() {
                    ItemStatus::Open => "Nothing to review. New reports show up here as they come in.",
                    ItemStatus::Dismissed => "No dismissed items.",
                    ItemStatus::Actioned => "No items acted on yet.",
                };
                view! { <p class="empty">{empty}</p> }.into_any()
            }
            Ok(list) => {
                let count = list.len();
                view! {
                    <p class="muted mod-count">{match count {
                        1 => "1 item".to_owned(),
                        n if n as u32 >= PAGE => format!("The newest {n} items"),
                        n => format!("{n} items"),
                    }}</p>
                    <ul class="mod-items">
                        <For each=move || list.clone() key=|i| format!("{i:?}") children=move |i| view! {
                            <li><Item item=i clock acted/></li>
                        }/>
                    </ul>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="panel mod-queue" aria-labelledby="queue-title">
            <div class="row spread">
                <h2 id="queue-title" tabindex="-1">"Queue"</h2>
                <div class="segmented" role="group" aria-label="Show items">{tabs}</div>
            </div>
            <p class="sr-only" role="status" aria-live="polite">{move || announcement.get()}</p>
            <Transition fallback=|| view! { <p class="muted">"Loading the queue…"</p> }>
                {list}
            </Transition>
        </section>
    }
}
