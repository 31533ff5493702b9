//! The in-page offer of desktop notifications, shown after the user's
//! first message in a session (see `chat::desktop`): the browser's own
//! question only follows "Turn on".

use crate::chat::use_chat;
use leptos::prelude::*;

#[component]
pub fn DesktopPrompt() -> impl IntoView {
    let chat = use_chat();
    view! {
        <Show when=move || chat.desktop.prompt.get()>
            <div class="desktop-prompt" role="region" aria-label="Desktop notifications offer">
                <p>"Get a desktop notification when a message arrives while jobchat is in the background?"</p>
                <div class="desktop-prompt-actions">
                    <button type="button" class="small" on:click=move |_| chat.turn_on_desktop()>"Turn on"</button>
                    <button type="button" class="small secondary" on:click=move |_| chat.decline_desktop()>"Not now"</button>
                </div>
            </div>
        </Show>
    }
}
