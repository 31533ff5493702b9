//! `/disputes`: the LSMs' dispute console, the queue of cases beside the
//! case picked. Others are sent home; signed-out visitors to sign in.

use crate::chat::use_chat;
use crate::components::{CasePanel, CaseQueue};
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DisputesPage() -> impl IntoView {
    let chat = use_chat();
    match chat.me() {
        None => view! { <Redirect path="/login"/> }.into_any(),
        Some(me) if me.role != Role::Lsm => view! {
            <section class="panel">
                <h1>"Disputes"</h1>
                <p>"Only local service managers settle disputes. " <a href="/">"Back to your chats"</a></p>
            </section>
        }
        .into_any(),
        Some(_) => {
            // Moved by this LSM's own actions (the socket's events move
            // `disputes_rev` for everyone's).
            let reload = RwSignal::new(0u32);
            // `?case=ID` opens that case (the chat window's "Write
            // resolution" links here).
            let query = use_query_map();
            let first = query.with_untracked(|q| q.get("case").and_then(|c| c.parse::<i64>().ok()));
            let selected = RwSignal::new(first);
            view! {
                <Title text="Disputes · jobchat"/>
                <h1 class="greeting">"Disputes"</h1>
                <p class="muted lead">"Every dispute customers and providers opened, whoever has it. Take a case, hand it over, or settle it with an outcome both parties see in their chat."</p>
                <div class="case-console">
                    <CaseQueue selected reload/>
                    <CasePanel selected reload/>
                </div>
            }
            .into_any()
        }
    }
}
