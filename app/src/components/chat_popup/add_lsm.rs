//! "Add LSM": the customer or provider says what the disagreement is about
//! and a local service manager joins the chat.

use crate::chat::use_chat;
use crate::model::ChatId;
use crate::validate::Reason;
use leptos::prelude::*;

/// The form's state, owned by the window so it survives minimising.
#[derive(Clone, Copy, Default)]
pub struct AddLsmState {
    pub open: RwSignal<bool>,
    reason: RwSignal<String>,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
}

#[component]
pub fn AddLsmForm(chat_id: ChatId, state: AddLsmState) -> impl IntoView {
    let chat = use_chat();
    let AddLsmState {
        open,
        reason,
        error,
        busy,
    } = state;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Reason::parse(&reason.get_untracked()) {
            Err(e) => error.set(Some(format!("Reason {}", e.message))),
            Ok(r) => {
                busy.set(true);
                chat.add_lsm(chat_id, r.as_str().to_owned(), move |res| {
                    busy.set(false);
                    match res {
                        Ok(()) => {
                            open.set(false);
                            reason.set(String::new());
                            error.set(None);
                        }
                        Err(e) => error.set(Some(e.message)),
                    }
                });
            }
        }
    };
    let field_id = format!("reason-{chat_id}");
    view! {
        <Show when=move || open.get()>
            <form class="dispute-form" on:submit=submit>
                <label for=field_id.clone()>"What is the disagreement about?"</label>
                <textarea id=field_id.clone() rows="3" maxlength="2000" required
                    prop:value=move || reason.get()
                    on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
                <div class="row">
                    <button type="submit" disabled=move || busy.get()>"Add LSM to this chat"</button>
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                </div>
            </form>
        </Show>
    }
}
