//! Edit and Delete on the user's own messages: the two actions under the
//! bubble, the inline form that edits the text in its place (Enter saves,
//! Shift+Enter breaks the line, Escape cancels), the inline "Delete this
//! message?" confirmation, and the server's refusal said in the bubble.
//! Whichever closes, the focus goes back to the bubble. Each action waits
//! for the server's answer (no outbox: it needs the connection).

use super::timeline::LineState;
use crate::chat::use_chat;
use crate::error::AppError;
use crate::model::ChatId;
use leptos::ev::KeyboardEvent;
use leptos::html;
use leptos::prelude::*;

/// One bubble's edit and delete, owned by the bubble.
#[derive(Clone, Copy)]
pub struct Revise {
    /// The edit form is open, in the text's place.
    pub editing: RwSignal<bool>,
    /// "Delete this message?" is asked.
    pub confirming: RwSignal<bool>,
    draft: RwSignal<String>,
    /// An edit or deletion is on its way.
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
    /// The bubble, which takes the focus back.
    bubble: NodeRef<html::Li>,
}

impl Revise {
    pub fn new(bubble: NodeRef<html::Li>) -> Self {
        Self {
            editing: RwSignal::new(false),
            confirming: RwSignal::new(false),
            draft: RwSignal::new(String::new()),
            busy: RwSignal::new(false),
            error: RwSignal::new(None),
            bubble,
        }
    }

    pub fn error(&self) -> Option<String> {
        self.error.get()
    }

    /// Brings the whole bubble into view, once a form opened in it (the
    /// history may end half way through it).
    fn reveal(self) {
        #[cfg(feature = "hydrate")]
        if let Some(li) = self.bubble.get_untracked() {
            let opts = web_sys::ScrollIntoViewOptions::new();
            opts.set_block(web_sys::ScrollLogicalPosition::Nearest);
            li.scroll_into_view_with_scroll_into_view_options(&opts);
        }
    }

    /// Closes the form or the confirmation; the bubble takes the focus.
    /// (The bubble may be gone by the time an answer comes.)
    fn close(self) {
        self.editing.try_set(false);
        self.confirming.try_set(false);
        self.error.try_set(None);
        if let Some(li) = self.bubble.try_get_untracked().flatten() {
            let _ = li.focus();
        }
    }

    /// What the server answered: done, or its refusal in the bubble.
    fn answered(self, result: Result<(), AppError>) {
        self.busy.try_set(false);
        match result {
            Ok(()) => self.close(),
            Err(e) => {
                self.error.try_set(Some(sentence(&e.message)));
            }
        }
    }
}

/// The server's words as a sentence ("a message can be edited…" →
/// "A message can be edited…").
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "Edit" (while the edit window is open) and "Delete", by the time.
/// `text_id` names the text they act on, read out with them.
///
/// The history is a live log: what is put into it is read out. These
/// controls, the form and the confirmation come and go with the user's own
/// actions (the ack of a send brings the first two), so they are kept out
/// of it (`aria-live="off"`); a refusal is an alert of its own.
#[component]
pub fn Actions(
    revise: Revise,
    current: Memo<LineState>,
    editable: Signal<bool>,
    text_id: String,
) -> impl IntoView {
    let start_edit = move |_| {
        revise
            .draft
            .set(current.with_untracked(|c| c.content.clone()));
        revise.error.set(None);
        revise.confirming.set(false);
        revise.editing.set(true);
    };
    let ask_delete = move |_| {
        revise.error.set(None);
        revise.confirming.set(true);
    };
    let edit_described_by = text_id.clone();
    view! {
        <span class="msg-actions" aria-live="off">
            <Show when=move || editable.get()>
                <button type="button" class="link" aria-describedby=edit_described_by.clone() on:click=start_edit>"Edit"</button>
            </Show>
            <button type="button" class="link" aria-describedby=text_id on:click=ask_delete>"Delete"</button>
        </span>
    }
}

/// The text in an editable box, in place of the text.
#[component]
pub fn EditForm(chat_id: ChatId, current: Memo<LineState>, revise: Revise) -> impl IntoView {
    let chat = use_chat();
    let area = NodeRef::<html::Textarea>::new();
    // Opened: the box takes the focus, the caret after the text.
    Effect::new(move |_| {
        if let Some(el) = area.get() {
            let _ = el.focus();
            let end = el.value().encode_utf16().count() as u32;
            let _ = el.set_selection_range(end, end);
            revise.reveal();
        }
    });
    let save = move || {
        if revise.busy.get_untracked() {
            return;
        }
        revise.busy.set(true);
        let message = current.with_untracked(|c| c.id);
        let text = revise.draft.get_untracked();
        chat.edit_message(chat_id, message, text, move |r| revise.answered(r));
    };
    let on_text_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            save();
        }
    };
    // Escape cancels the edit, not the window around it.
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            revise.close();
        }
    };
    view! {
        <form class="msg-form" aria-live="off" on:keydown=on_keydown
            on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); save(); }>
            <textarea node_ref=area rows="3" maxlength="4000" aria-label="Edit text"
                prop:value=move || revise.draft.get()
                on:input=move |ev| revise.draft.set(event_target_value(&ev))
                on:keydown=on_text_keydown></textarea>
            <span class="msg-form-buttons">
                <button type="submit" class="small" disabled=move || revise.busy.get()>
                    {move || if revise.busy.get() { "Saving…" } else { "Save" }}
                </button>
                <button type="button" class="small secondary" on:click=move |_| revise.close()>"Cancel"</button>
            </span>
        </form>
    }
}

/// "Delete this message? Delete / Cancel", under the text.
#[component]
pub fn ConfirmDelete(chat_id: ChatId, current: Memo<LineState>, revise: Revise) -> impl IntoView {
    let chat = use_chat();
    let question_id = format!("delete-{chat_id}-{}", current.with_untracked(|c| c.id));
    let cancel = NodeRef::<html::Button>::new();
    // Asked: the focus goes to the harmless answer.
    Effect::new(move |_| {
        if let Some(el) = cancel.get() {
            let _ = el.focus();
            revise.reveal();
        }
    });
    let delete = move |_| {
        if revise.busy.get_untracked() {
            return;
        }
        revise.busy.set(true);
        let message = current.with_untracked(|c| c.id);
        chat.delete_message(chat_id, message, move |r| revise.answered(r));
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            ev.stop_propagation();
            revise.close();
        }
    };
    let described_by = question_id.clone();
    view! {
        <span class="msg-confirm" aria-live="off" on:keydown=on_keydown>
            <span id=question_id.clone()>"Delete this message?"</span>
            <span class="msg-form-buttons">
                <button type="button" class="small danger" aria-describedby=described_by
                    disabled=move || revise.busy.get() on:click=delete>
                    {move || if revise.busy.get() { "Deleting…" } else { "Delete" }}
                </button>
                <button type="button" class="small secondary" node_ref=cancel
                    aria-describedby=question_id on:click=move |_| revise.close()>"Cancel"</button>
            </span>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn refusals_read_as_sentences() {
        assert_eq!(
            sentence("a message can be edited for 15 min after it is sent"),
            "A message can be edited for 15 min after it is sent"
        );
        assert_eq!(sentence("Already one"), "Already one");
        assert_eq!(sentence(""), "");
    }
}
