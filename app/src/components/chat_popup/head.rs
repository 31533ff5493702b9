//! A chat window's header: the job and the people in the chat (with
//! presence) on a button that minimises, then the window's actions.

use crate::chat::use_chat;
use crate::model::{ChatId, DisputeStatus, Participant, Role, UserId};
use leptos::prelude::*;

#[component]
pub fn PopupHead(
    chat_id: ChatId,
    minimized: Memo<bool>,
    /// Shows the "Add LSM" form.
    dispute_open: RwSignal<bool>,
    title_id: String,
) -> impl IntoView {
    let chat = use_chat();
    let me = chat.me();
    let my_id = me.as_ref().map(|m| m.id);
    let my_role = me.as_ref().map(|m| m.role);
    let summary = Memo::new(move |_| chat.chat(chat_id));
    let title = move || {
        summary
            .get()
            .map(|s| s.job_title)
            .unwrap_or_else(|| "Chat".into())
    };
    let others = move || {
        summary
            .get()
            .map(|s| s.participants)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| Some(p.id) != my_id)
            .map(|p| view! { <Person person=p/> })
            .collect_view()
    };
    // Customers and providers bring in an LSM, once per open dispute.
    let can_add_lsm = move || {
        matches!(my_role, Some(Role::Customer) | Some(Role::Provider))
            && !summary
                .get()
                .and_then(|s| s.dispute)
                .is_some_and(|d| d.status == DisputeStatus::Open)
    };
    view! {
        <header class="popup-head">
            <button class="popup-title" id=title_id on:click=move |_| chat.toggle_minimized(chat_id) aria-expanded=move || (!minimized.get()).to_string()>
                <span class="popup-job">{title}</span>
                <span class="popup-people">{others}</span>
            </button>
            <div class="popup-actions">
                <Show when=can_add_lsm>
                    <button class="small" on:click=move |_| dispute_open.set(true) title="Bring in a local service manager to settle a disagreement">"Add LSM"</button>
                </Show>
                <button class="icon-button" aria-label=move || if minimized.get() { "Expand chat" } else { "Minimise chat" } on:click=move |_| chat.toggle_minimized(chat_id)>
                    {move || if minimized.get() { "▴" } else { "▾" }}
                </button>
                <button class="icon-button" aria-label="Close chat" on:click=move |_| chat.close_chat(chat_id)>"×"</button>
            </div>
        </header>
    }
}

/// Someone else in the chat, with a presence dot.
#[component]
fn Person(person: Participant) -> impl IntoView {
    let chat = use_chat();
    let pid: UserId = person.id;
    let online = move || {
        chat.presence
            .with(|m| m.get(&pid).copied().unwrap_or(false))
    };
    view! {
        <span class="person" data-user-id=pid>
            <span class="presence" class:online=online aria-hidden="true"></span>
            {person.name}{(person.role == Role::Lsm).then_some(" · LSM")}
            <span class="sr-only">{move || if online() { " (online)" } else { " (offline)" }}</span>
        </span>
    }
}
