//! Floating chat windows (the seed's ChatPopup): several at once, each with
//! participants and presence, "Add LSM", history paging, typing, and
//! per-message delivery state.
//!
//! * `head` — title, participants with presence, Add LSM / minimise / close
//! * `add_lsm` — the dispute form "Add LSM" opens
//! * `block` — a person's card from the header: Report, Block / Unblock
//! * `report` — the report form (a message's "Report", a person's card)
//! * `messages` — the scrolling history: paging older messages, pinning,
//!   "↓ N new"
//! * `timeline` — day separators, "Seen by …", the new-message count (pure)
//! * `message` — one message with its delivery state and Retry, "edited",
//!   "This message was deleted" / "Removed by a moderator", "Report"
//! * `revise` — Edit and Delete on the user's own messages
//! * `versions` — every version of a changed message, for the LSM
//! * `system_line` — a system line from its typed event, typed parts set apart
//! * `attach` — files chosen for the next message: button, drop, paste
//! * `attachments` — a message's files (thumbnails, cards) and its uploads
//! * `lightbox` — a message's images at full size, in a modal dialog
//! * `composer` — who is typing, the message box, Enter to send

mod add_lsm;
mod attach;
mod attachments;
mod block;
mod composer;
mod head;
mod job_steps;
mod lightbox;
mod message;
mod messages;
mod report;
mod revise;
mod system_line;
mod timeline;
mod versions;

use super::focus;
use crate::chat::use_chat;
use crate::model::ChatId;
use add_lsm::{AddLsmForm, AddLsmState};
use attach::Staging;
use block::{Blocks, CardState, PersonCard};
use composer::{Composer, TypingLine};
use head::PopupHead;
use job_steps::JobSteps;
use leptos::prelude::*;
use messages::MessageList;

#[component]
pub fn ChatDock() -> impl IntoView {
    let chat = use_chat();
    // Whom the user blocks, read once for every window.
    Blocks::provide();
    view! {
        <div class="dock" role="region" aria-label="Open chats">
            // Server rendering waits for a linked chat's first page (a
            // blocking resource), so its window arrives filled in.
            <Suspense>
                <For
                    each=move || chat.open.get()
                    key=|o| o.chat_id
                    children=move |o| view! { <ChatPopup chat_id=o.chat_id/> }
                />
            </Suspense>
        </div>
    }
}

/// A drag that carries files (not text or a link).
fn drags_files(ev: &leptos::ev::DragEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        ev.data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

/// A `dragleave` into one of the window's own elements is no leaving.
fn still_inside(ev: &leptos::ev::DragEvent) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let here = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        let to = ev
            .related_target()
            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        matches!((here, to), (Some(h), Some(t)) if h.contains(Some(&t)))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

#[component]
fn ChatPopup(chat_id: ChatId) -> impl IntoView {
    let chat = use_chat();
    let minimized = Memo::new(move |_| {
        chat.open
            .with(|o| o.iter().any(|o| o.chat_id == chat_id && o.minimized))
    });
    let add_lsm = AddLsmState::default();
    let card = CardState::default();
    // Customers and providers bring in an LSM, once per open dispute (and
    // not in a transcript they left).
    let can_dispute = Signal::derive(move || {
        let role = chat.me().map(|m| m.role);
        matches!(
            role,
            Some(crate::model::Role::Customer | crate::model::Role::Provider)
        ) && chat.chat(chat_id).is_some_and(|c| {
            !c.left
                && !c
                    .dispute
                    .is_some_and(|d| d.status == crate::model::DisputeStatus::Open)
        })
    });
    // Stay on the newest message unless the user scrolled up; sending
    // brings the view back down.
    let pinned = RwSignal::new(true);
    // An LSM who settled the chat's dispute has left it: the transcript
    // stays to read, with no box to write in.
    let left = Memo::new(move |_| chat.chat(chat_id).is_some_and(|c| c.left));
    let label_id = format!("chat-{chat_id}-title");
    let staging = Staging::new();
    // Files dragged over the window show where they go; dropped, they join
    // the message being written (not in a transcript the user left).
    let on_dragover = move |ev: leptos::ev::DragEvent| {
        if !left.get_untracked() && drags_files(&ev) {
            ev.prevent_default();
            staging.dragging.set(true);
        }
    };
    let on_dragleave = move |ev: leptos::ev::DragEvent| {
        if !still_inside(&ev) {
            staging.dragging.set(false);
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        staging.dragging.set(false);
        if !left.get_untracked() && drags_files(&ev) {
            ev.prevent_default();
            #[cfg(feature = "hydrate")]
            staging.add(ev.data_transfer().and_then(|d| d.files()));
        }
    };
    let title_id = label_id.clone();

    // Opened by the user from a control: focus moves into the window, to
    // its message box (its title when it has none), and goes back to that
    // control when it closes. A window restored at load leaves it alone.
    let here = format!(".popup[data-chat-id=\"{chat_id}\"]");
    Effect::new(move |_| {
        if chat.focus_request.get() == Some(chat_id) {
            chat.focus_request.set(None);
            let here = here.clone();
            // Once the window is on the page.
            request_animation_frame(move || {
                if !focus::focus(&format!("{here} textarea[aria-label=\"Message\"]")) {
                    focus::focus(&format!("{here} .popup-title"));
                }
            });
        }
    });
    let close = Callback::new(move |()| {
        let back = chat.take_opener(chat_id);
        chat.close_chat(chat_id);
        // What opened it may be gone (a notification in the closed bell, a
        // row redrawn since): then the chat's row in the list.
        if !back.is_some_and(|f| f.restore()) {
            focus::focus(&format!(".chat-row[data-chat-id=\"{chat_id}\"]"));
        }
    });
    // Escape closes the dispute form if open, else the window.
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            if card.person.get_untracked().is_some() {
                card.person.set(None);
            } else if add_lsm.open.get_untracked() {
                add_lsm.open.set(false);
            } else {
                close.run(());
            }
        }
    };
    view! {
        <section class="popup" class:minimized=move || minimized.get() class:dropping=move || staging.dragging.get()
            data-chat-id=chat_id aria-labelledby=label_id on:keydown=on_keydown
            on:dragover=on_dragover on:dragleave=on_dragleave on:drop=on_drop>
            <Show when=move || staging.dragging.get()>
                <div class="drop-zone" aria-hidden="true">"Drop files to attach them"</div>
            </Show>
            <PopupHead chat_id minimized dispute_open=add_lsm.open card title_id close/>
            <Show when=move || !minimized.get()>
                <JobSteps chat_id/>
                <PersonCard chat_id state=card can_dispute dispute_open=add_lsm.open/>
                <AddLsmForm chat_id state=add_lsm/>
                <MessageList chat_id pinned/>
                <Show
                    when=move || !left.get()
                    fallback=|| view! {
                        <p class="left-note" role="status">"You settled this chat's dispute and left it. The conversation up to then stays here to read."</p>
                    }
                >
                    <TypingLine chat_id/>
                    <Composer chat_id pinned staging/>
                </Show>
            </Show>
        </section>
    }
    // Type-erased: under the dock's Suspense the full view type is too deep
    // for the compiler's query limit in the server build.
    .into_any()
}
