//! A chat window's header: the job on a button that minimises, the people
//! in the chat (with presence) each on a button that opens their card
//! (Report, Block: `block`), then the window's actions (mute among them).

use super::block::{Blocks, CardState};
use crate::chat::{small_screen, use_chat};
use crate::components::focus;
use crate::model::{ChatId, DisputeStatus, Participant, Role, UserId};
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn PopupHead(
    chat_id: ChatId,
    minimized: Memo<bool>,
    /// Shows the "Add LSM" form.
    dispute_open: RwSignal<bool>,
    /// Whose card is open.
    card: CardState,
    title_id: String,
    /// Closes the window (and puts the focus back).
    close: Callback<()>,
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
            .map(|p| view! { <Person person=p card/> })
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
    // A title too long for the header is cut with "…"; then the whole of it
    // is a tooltip. Measured when it changes and again on hover or focus,
    // since the window's width may have changed since.
    let job_ref = NodeRef::<html::Span>::new();
    let cut = RwSignal::new(false);
    let measure = move || {
        if let Some(el) = job_ref.get_untracked() {
            cut.set(el.scroll_width() > el.client_width());
        }
    };
    Effect::new(move |_| {
        summary.track();
        measure();
    });
    let tooltip = move || cut.get().then(title);
    // The LSM's way to the settlement: beside the window on wide screens,
    // in place of it on small ones (one window fills the screen there).
    let settle = move || {
        (my_role == Some(Role::Lsm))
            .then(|| summary.get().and_then(|s| s.dispute))
            .flatten()
            .filter(|d| d.status == DisputeStatus::Open)
            .map(|d| d.id)
    };
    let navigate = leptos_router::hooks::use_navigate();
    let to_settlement = move |_| {
        let Some(dispute) = settle() else { return };
        if small_screen() {
            close.run(());
        }
        // The home page's form when it is there (open, or opened by its
        // button), else the console's case.
        let form = format!("[data-settle=\"settle-form-{dispute}\"]");
        if !focus::focus(&format!("{form} input:checked"))
            && !focus::focus(&format!("{form} input"))
            && !focus::press(&format!("#resolution-{dispute}"))
        {
            navigate(&format!("/disputes?case={dispute}"), Default::default());
        }
    };
    view! {
        <header class="popup-head">
            <button class="icon-button popup-back" aria-label="Back to chats" on:click=move |_| close.run(())>"←"</button>
            <div class="popup-heading">
                <button class="popup-title" id=title_id on:click=move |_| chat.toggle_minimized(chat_id) aria-expanded=move || (!minimized.get()).to_string()
                    on:mouseenter=move |_| measure() on:focus=move |_| measure()>
                    <span class="popup-job" node_ref=job_ref title=tooltip>{title}</span>
                </button>
                <span class="popup-people">{others}</span>
            </div>
            <div class="popup-actions">
                <Show when=move || settle().is_some()>
                    <button class="small" on:click=to_settlement.clone()>"Write resolution"</button>
                </Show>
                <Show when=can_add_lsm>
                    <button class="small" on:click=move |_| dispute_open.set(true) title="Bring in a local service manager to settle a disagreement">"Add LSM"</button>
                </Show>
                <MuteToggle chat_id muted=Signal::derive(move || summary.get().is_some_and(|s| s.muted))/>
                <button class="icon-button" aria-label=move || if minimized.get() { "Expand chat" } else { "Minimise chat" } on:click=move |_| chat.toggle_minimized(chat_id)>
                    {move || if minimized.get() { "▴" } else { "▾" }}
                </button>
                <button class="icon-button popup-close" aria-label="Close chat" on:click=move |_| close.run(())>"×"</button>
            </div>
        </header>
    }
}

/// "Mute" / "Unmute": no email and no bell for this chat. The list shows
/// it once reloaded.
#[component]
fn MuteToggle(chat_id: ChatId, muted: Signal<bool>) -> impl IntoView {
    let chat = use_chat();
    let busy = RwSignal::new(false);
    let failed = RwSignal::new(None::<String>);
    let toggle = move |_| {
        let to = !muted.get_untracked();
        busy.set(true);
        failed.set(None);
        leptos::task::spawn_local(async move {
            match crate::api::mute_chat(chat_id, to).await {
                Ok(()) => chat.reload_chats(),
                Err(e) => failed.set(Some(e.message)),
            }
            busy.set(false);
        });
    };
    view! {
        <button class="small mute-toggle" aria-pressed=move || muted.get().to_string() disabled=move || busy.get()
            title=move || failed.get().unwrap_or_else(|| "No email and no bell for this chat".into()) on:click=toggle>
            {move || if muted.get() { "Unmute" } else { "Mute" }}
        </button>
    }
}

/// Someone else in the chat, with a presence dot: a button that opens
/// their card (once the browser has taken over).
#[component]
fn Person(person: Participant, card: CardState) -> impl IntoView {
    let chat = use_chat();
    let blocks = Blocks::get();
    let pid: UserId = person.id;
    let online = move || {
        chat.presence
            .with(|m| m.get(&pid).copied().unwrap_or(false))
    };
    let open = move || {
        card.person
            .with(|p| p.as_ref().is_some_and(|p| p.id == pid))
    };
    let name = person.name.clone();
    let lsm = (person.role == Role::Lsm).then_some(" · LSM");
    let toggle = move |_| {
        if open() {
            card.person.set(None);
        } else {
            card.person.set(Some(person.clone()));
        }
    };
    view! {
        <button type="button" class="person" data-user-id=pid aria-haspopup="dialog"
            aria-expanded=move || open().to_string() on:click=toggle>
            <span class="presence" class:online=online aria-hidden="true"></span>
            {name}{lsm}
            <Show when=move || blocks.has(pid)>" · blocked"</Show>
            <span class="sr-only">{move || if online() { " (online)" } else { " (offline)" }}</span>
        </button>
    }
}
