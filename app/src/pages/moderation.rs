//! `/moderation`: the LSMs' moderation queue and audit log. Others are
//! sent home; signed-out visitors to sign in.

use crate::chat::use_chat;
use crate::components::{ModerationLog, ModerationQueue};
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

#[component]
pub fn ModerationPage() -> impl IntoView {
    let chat = use_chat();
    match chat.me() {
        None => view! { <Redirect path="/login"/> }.into_any(),
        Some(me) if me.role != Role::Lsm => view! {
            <section class="panel">
                <h1>"Moderation"</h1>
                <p>"Only local service managers moderate. " <a href="/">"Back to your chats"</a></p>
            </section>
        }
        .into_any(),
        Some(_) => {
            // Moved by this LSM's own actions (the socket's events move
            // `moderation_rev` for everyone's).
            let reload = RwSignal::new(0u32);
            view! {
                <Title text="Moderation · jobchat"/>
                <h1 class="greeting">"Moderation"</h1>
                <p class="muted lead">"Reports from customers and providers, and what jobchat flagged by itself. Every action needs a reason and goes to the audit log."</p>
                <div class="mod-page">
                    <ModerationQueue reload/>
                    <ModerationLog reload/>
                </div>
            }
            .into_any()
        }
    }
}
