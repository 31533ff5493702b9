//! The list of the user's chats.

use crate::chat::use_chat;
use crate::model::{ChatSummary, DisputeStatus, MessageKind, Role};
use leptos::prelude::*;

fn preview(c: &ChatSummary) -> String {
    match &c.last_message {
        None => "No messages yet".into(),
        Some(m) if m.kind == MessageKind::System => m.content.clone(),
        Some(m) => format!(
            "{}: {}",
            m.sender_name.clone().unwrap_or_default(),
            m.content
        ),
    }
}

/// `filter` keeps only some chats (the LSM's disputes view).
#[component]
pub fn ChatList(
    #[prop(optional, into)] empty_text: Option<String>,
    #[prop(optional)] disputes_only: bool,
) -> impl IntoView {
    let chat = use_chat();
    let me = chat.me().map(|m| m.id);
    let chats = move || {
        let mut list = chat.chat_list().unwrap_or_default();
        if disputes_only {
            list.retain(|c| c.dispute.is_some());
            // Open disputes first, then by recent activity (already sorted).
            list.sort_by_key(|c| c.dispute.as_ref().map(|d| d.status != DisputeStatus::Open));
        }
        list
    };
    let empty_text = empty_text.unwrap_or_else(|| "No chats yet.".into());
    let loading = || view! { <p class="muted">"Loading chats…"</p> };
    // Suspense makes server rendering wait for the first list (a blocking
    // resource), so the page arrives with the chats in it.
    view! {
        <Suspense fallback=loading>
        <Show
            when=move || chat.chat_list().is_some()
            fallback=loading
        >
            <Show when=move || !chats().is_empty() fallback={
                let t = empty_text.clone();
                move || view! { <p class="empty">{t.clone()}</p> }
            }>
                <ul class="chat-list">
                    <For
                        each=chats
                        key=|c| (c.id, c.last_message.as_ref().map(|m| m.id), c.unread_count, c.participants.len(), c.dispute.clone().map(|d| d.status == DisputeStatus::Open))
                        children=move |c| {
                            let id = c.id;
                            let others: Vec<_> = c.participants.iter().filter(|p| Some(p.id) != me).cloned().collect();
                            let names = others.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", ");
                            let text = preview(&c);
                            let unread = c.unread_count;
                            let open_dispute = c.dispute.as_ref().is_some_and(|d| d.status == DisputeStatus::Open);
                            let resolved = c.dispute.as_ref().is_some_and(|d| d.status == DisputeStatus::Resolved);
                            view! {
                                <li>
                                    <button class="chat-row" data-chat-id=id on:click=move |_| chat.open_chat(id)>
                                        <span class="chat-row-main">
                                            <span class="chat-title">{c.job_title.clone()}
                                                {c.lsm_invited.then(|| view! { <span class="pill pill-lsm">"LSM"</span> })}
                                                {open_dispute.then(|| view! { <span class="pill pill-open">"Dispute open"</span> })}
                                                {resolved.then(|| view! { <span class="pill pill-resolved">"Resolved"</span> })}
                                            </span>
                                            <span class="chat-people">
                                                {others.into_iter().map(|p| {
                                                    let (pid, listed) = (p.id, p.online);
                                                    // Live presence once known, else what the list said.
                                                    let online = move || chat.presence.with(|m| m.get(&pid).copied().unwrap_or(listed));
                                                    let lsm = p.role == Role::Lsm;
                                                    view! {
                                                        <span class="person">
                                                            <span class="presence" class:online=online aria-hidden="true"></span>
                                                            {p.name.clone()}{lsm.then_some(" (LSM)")}
                                                        </span>
                                                    }
                                                }).collect_view()}
                                            </span>
                                            <span class="chat-preview">{text}</span>
                                        </span>
                                        <Show when=move || { unread > 0 }>
                                            <span class="badge"><span aria-hidden="true">{unread}</span><span class="sr-only">{format!("{unread} unread")}</span></span>
                                        </Show>
                                        <span class="sr-only">{format!("Chat with {names}")}</span>
                                    </button>
                                </li>
                            }
                        }
                    />
                </ul>
            </Show>
        </Show>
        </Suspense>
    }
}
