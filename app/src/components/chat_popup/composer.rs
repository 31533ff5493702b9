//! Writing a message: who else is typing, the message box (Enter sends,
//! Shift+Enter breaks the line), drafts kept per chat.

use super::attach::{AttachButton, ChosenFiles, Staging};
use crate::chat::{typing, use_chat};
use crate::model::ChatId;
use crate::validate::{Caption, MessageText};
use leptos::prelude::*;

/// "Bob is typing…" under the messages.
#[component]
pub fn TypingLine(chat_id: ChatId) -> impl IntoView {
    let chat = use_chat();
    let text = move || {
        chat.typing
            .with(|t| typing::describe(&typing::names(t, chat_id)))
    };
    view! { <p class="typing" aria-live="polite">{text}</p> }
}

#[component]
pub fn Composer(chat_id: ChatId, pinned: RwSignal<bool>, staging: Staging) -> impl IntoView {
    let chat = use_chat();
    let draft = RwSignal::new(
        chat.drafts
            .with_untracked(|d| d.get(&chat_id).cloned().unwrap_or_default()),
    );
    Effect::new(move |_| {
        // Drafts arrive from localStorage after hydration.
        if let Some(d) = chat.drafts.with(|d| d.get(&chat_id).cloned())
            && draft.get_untracked().is_empty()
        {
            draft.set(d);
        }
    });
    let error = RwSignal::new(None::<String>);
    // "Remove the files that cannot be sent" holds only until the files
    // change.
    Effect::new(move |_| {
        staging.chosen.track();
        error.set(None);
    });
    let send_now = move || {
        let text = draft.get_untracked();
        if staging.chosen.with_untracked(|c| !c.is_empty()) {
            // With files the text is a caption, and may be empty.
            if staging.has_errors() {
                error.set(Some("Remove the files that cannot be sent".into()));
                return;
            }
            match Caption::parse(&text) {
                Ok(valid) => {
                    chat.send_with_files(chat_id, valid.as_str().to_owned(), staging.take());
                    draft.set(String::new());
                    error.set(None);
                    pinned.set(true);
                }
                Err(e) => error.set(Some(format!("Caption {}", e.message))),
            }
            return;
        }
        match MessageText::parse(&text) {
            Ok(valid) => {
                // `send` clears the stored draft itself, once the message is
                // safely in the outbox; the box empties at once.
                chat.send(chat_id, valid.as_str().to_owned());
                draft.set(String::new());
                error.set(None);
                pinned.set(true);
            }
            // An empty box sends nothing and says nothing.
            Err(_) if text.trim().is_empty() => {}
            Err(e) => error.set(Some(format!("Message {}", e.message))),
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send_now();
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        let v = event_target_value(&ev);
        chat.set_typing(chat_id, !v.trim().is_empty());
        chat.set_draft(chat_id, v.clone());
        draft.set(v);
    };
    // A picture pasted into the box is attached (text pastes as usual).
    let on_paste = move |ev: leptos::ev::ClipboardEvent| {
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.clipboard_data().and_then(|d| d.files())
            && files.length() > 0
        {
            ev.prevent_default();
            staging.add(Some(files));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    view! {
        <ChosenFiles staging/>
        <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send_now(); }>
            <AttachButton staging/>
            <textarea
                rows="1"
                placeholder="Write a message…"
                aria-label="Message"
                maxlength="4000"
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown
                on:paste=on_paste
            ></textarea>
            <button type="submit" aria-label="Send">"Send"</button>
        </form>
        <Show when=move || error.get().is_some()>
            <p class="error" role="alert">{move || error.get()}</p>
        </Show>
    }
}
