//! Routed pages.

use crate::chat::use_chat;
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let chat = use_chat();
    let status = move || chat.status.get();
    view! {
        <section class="home">
            <h1>"jobchat"</h1>
            <p>"Real-time chat for booked jobs."</p>
            <p class="connection" data-status=move || status().key()>
                <span class="dot" aria-hidden="true"></span>
                <span role="status">{move || status().label()}</span>
            </p>
        </section>
    }
}
