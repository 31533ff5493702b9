//! Floating chat windows (the seed's ChatPopup): several at once, each with
//! participants and presence, "Add LSM", history paging, typing, and
//! per-message delivery state.

use super::MessageText;
use crate::chat::{Delivery, Line, use_chat};
use crate::model::{ChatId, DisputeStatus, MessageKind, Role};
use crate::validate::{MessageText as MessageTextRule, Reason};
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn ChatDock() -> impl IntoView {
    let chat = use_chat();
    view! {
        <div class="dock" role="region" aria-label="Open chats">
            <For
                each=move || chat.open.get()
                key=|o| o.chat_id
                children=move |o| view! { <ChatPopup chat_id=o.chat_id/> }
            />
        </div>
    }
}

fn time_of(line: &Line) -> String {
    line.message.created_at.format("%H:%M").to_string()
}

#[component]
fn ChatPopup(chat_id: ChatId) -> impl IntoView {
    let chat = use_chat();
    let me = chat.me();
    let my_id = me.as_ref().map(|m| m.id);
    let my_role = me.as_ref().map(|m| m.role);
    let summary = Memo::new(move |_| chat.chat(chat_id));
    let minimized = Memo::new(move |_| {
        chat.open
            .with(|o| o.iter().any(|o| o.chat_id == chat_id && o.minimized))
    });
    let title = move || {
        summary
            .get()
            .map(|s| s.job_title)
            .unwrap_or_else(|| "Chat".into())
    };
    let lines = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| th.lines.clone())
                .unwrap_or_default()
        })
    });
    let thread_state = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| (th.loaded, th.has_older, th.loading_older))
                .unwrap_or_default()
        })
    });
    let others_read = Memo::new(move |_| {
        chat.threads.with(|t| {
            t.get(&chat_id)
                .map(|th| {
                    th.read_up_to
                        .iter()
                        .filter(|(u, _)| Some(**u) != my_id)
                        .map(|(_, m)| *m)
                        .max()
                        .unwrap_or(0)
                })
                .unwrap_or(0)
        })
    });
    let typing = move || {
        chat.typing.with(|t| {
            let names: Vec<String> = t
                .get(&chat_id)
                .map(|l| l.iter().map(|(_, n)| n.clone()).collect())
                .unwrap_or_default();
            match names.len() {
                0 => String::new(),
                1 => format!("{} is typing…", names[0]),
                _ => format!("{} are typing…", names.join(", ")),
            }
        })
    };

    // Scrolling: stay pinned to the newest message unless the user scrolled up.
    let body_ref = NodeRef::<html::Div>::new();
    let pinned = RwSignal::new(true);
    let prev_height = StoredValue::new(0i32);
    Effect::new(move |_| {
        let count = lines.with(|l| l.len());
        let _ = count;
        if let Some(el) = body_ref.get() {
            let old_height = prev_height.get_value();
            let new_height = el.scroll_height();
            if pinned.get_untracked() {
                el.set_scroll_top(new_height);
            } else if el.scroll_top() < 40 && old_height > 0 {
                // Older history was prepended: keep the same message in view.
                el.set_scroll_top(new_height - old_height + el.scroll_top());
            }
            prev_height.set_value(new_height);
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = body_ref.get() {
            let at_bottom = el.scroll_height() - el.scroll_top() - el.client_height() < 40;
            pinned.set(at_bottom);
            if at_bottom {
                chat.mark_seen(chat_id);
            }
            if el.scroll_top() < 40 {
                chat.load_older(chat_id);
            }
        }
    };

    // Composer.
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
    let send_now = move || {
        let text = draft.get_untracked();
        match MessageTextRule::parse(&text) {
            Ok(valid) => {
                chat.send(chat_id, valid.as_str().to_owned());
                draft.set(String::new());
                chat.set_draft(chat_id, String::new());
                error.set(None);
                pinned.set(true);
            }
            Err(e) if text.trim().is_empty() => {
                let _ = e;
            }
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

    // "Add LSM" dialog.
    let dispute_open = RwSignal::new(false);
    let reason = RwSignal::new(String::new());
    let dispute_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let can_add_lsm = move || {
        matches!(my_role, Some(Role::Customer) | Some(Role::Provider))
            && !summary
                .get()
                .and_then(|s| s.dispute)
                .is_some_and(|d| d.status == DisputeStatus::Open)
    };
    let submit_dispute = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Reason::parse(&reason.get_untracked()) {
            Err(e) => dispute_error.set(Some(format!("Reason {}", e.message))),
            Ok(r) => {
                busy.set(true);
                chat.add_lsm(chat_id, r.as_str().to_owned(), move |res| {
                    busy.set(false);
                    match res {
                        Ok(()) => {
                            dispute_open.set(false);
                            reason.set(String::new());
                            dispute_error.set(None);
                        }
                        Err(e) => dispute_error.set(Some(e)),
                    }
                });
            }
        }
    };

    let label_id = format!("chat-{chat_id}-title");
    let title_id = label_id.clone();
    view! {
        <section class="popup" class:minimized=move || minimized.get() data-chat-id=chat_id aria-labelledby=label_id>
            <header class="popup-head">
                <button class="popup-title" id=title_id on:click=move |_| chat.toggle_minimized(chat_id) aria-expanded=move || (!minimized.get()).to_string()>
                    <span class="popup-job">{title}</span>
                    <span class="popup-people">
                        {move || summary.get().map(|s| s.participants.into_iter().filter(|p| Some(p.id) != my_id).map(|p| {
                            let pid = p.id;
                            let online = move || chat.presence.with(|m| m.get(&pid).copied().unwrap_or(false));
                            view! {
                                <span class="person" data-user-id=pid>
                                    <span class="presence" class:online=online aria-hidden="true"></span>
                                    {p.name.clone()}{(p.role == Role::Lsm).then_some(" · LSM")}
                                    <span class="sr-only">{move || if online() { " (online)" } else { " (offline)" }}</span>
                                </span>
                            }
                        }).collect_view())}
                    </span>
                </button>
                <div class="popup-actions">
                    <Show when=can_add_lsm>
                        <button class="small" on:click=move |_| dispute_open.set(true) title="Bring in a local service manager to settle a disagreement">"Add LSM"</button>
                    </Show>
                    <button class="icon-button" aria-label=move || if minimized.get() { "Expand chat" } else { "Minimise chat" } on:click=move |_| chat.toggle_minimized(chat_id)>
                        {move || if minimized.get() { "▴" } else { "▾" }}
                    </button>
                    <button class="icon-button" aria-label="Close chat" on:click=move |_| chat.close_chat(chat_id)>"×"</button>
                </div>
            </header>
            <Show when=move || !minimized.get()>
                <Show when=move || dispute_open.get()>
                    <form class="dispute-form" on:submit=submit_dispute>
                        <label for=format!("reason-{chat_id}")>"What is the disagreement about?"</label>
                        <textarea id=format!("reason-{chat_id}") rows="3" maxlength="2000" required
                            prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        <Show when=move || dispute_error.get().is_some()>
                            <p class="error" role="alert">{move || dispute_error.get()}</p>
                        </Show>
                        <div class="row">
                            <button type="submit" disabled=move || busy.get()>"Add LSM to this chat"</button>
                            <button type="button" class="secondary" on:click=move |_| dispute_open.set(false)>"Cancel"</button>
                        </div>
                    </form>
                </Show>
                <div class="popup-body" node_ref=body_ref on:scroll=on_scroll>
                    <Show when=move || thread_state.get().1>
                        <button class="link older" on:click=move |_| chat.load_older(chat_id)>
                            {move || if thread_state.get().2 { "Loading…" } else { "Load older messages" }}
                        </button>
                    </Show>
                    <Show when=move || !thread_state.get().0 && lines.with(|l| l.is_empty())>
                        <p class="muted center">"Loading messages…"</p>
                    </Show>
                    <ol class="messages">
                        <For
                            each=move || lines.get()
                            key=|l| (l.key(), l.delivery, l.error.clone())
                            children=move |l| {
                                let system = l.message.kind == MessageKind::System;
                                let mine = !system && l.message.sender_id == my_id;
                                let id = l.message.id;
                                let client_id = l.message.client_id.clone().unwrap_or_default();
                                let delivery = l.delivery;
                                let time = time_of(&l);
                                let sender = l.message.sender_name.clone().unwrap_or_default();
                                let role = l.message.sender_role;
                                let state = move || match delivery {
                                    Delivery::Sending => "sending",
                                    Delivery::Failed => "failed",
                                    Delivery::Sent if id > 0 && others_read.get() >= id => "read",
                                    Delivery::Sent => "sent",
                                };
                                if system {
                                    view! { <li class="msg system" data-id=id><MessageText text=l.message.content.clone()/></li> }.into_any()
                                } else {
                                    view! {
                                        <li class="msg" class:mine=mine class:theirs=!mine data-id=id data-state=state>
                                            {(!mine).then(|| view! {
                                                <span class="msg-sender">{sender.clone()}{(role == Some(Role::Lsm)).then_some(" · LSM")}</span>
                                            })}
                                            <span class="msg-text"><MessageText text=l.message.content.clone()/></span>
                                            <span class="msg-meta">
                                                <time>{time}</time>
                                                {mine.then(|| view! { <span class="msg-state">{move || match state() {
                                                    "sending" => "Sending…",
                                                    "failed" => "Not sent",
                                                    "read" => "Read",
                                                    _ => "Sent",
                                                }}</span> })}
                                            </span>
                                            {(delivery == Delivery::Failed).then(|| {
                                                let cid = client_id.clone();
                                                view! {
                                                    <span class="msg-failed">
                                                        {l.error.clone()}
                                                        <button class="link" on:click=move |_| chat.retry(chat_id, cid.clone())>"Retry"</button>
                                                    </span>
                                                }
                                            })}
                                        </li>
                                    }.into_any()
                                }
                            }
                        />
                    </ol>
                </div>
                <p class="typing" aria-live="polite">{typing}</p>
                <form class="composer" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); send_now(); }>
                    <textarea
                        rows="1"
                        placeholder="Write a message…"
                        aria-label="Message"
                        maxlength="4000"
                        prop:value=move || draft.get()
                        on:input=on_input
                        on:keydown=on_keydown
                    ></textarea>
                    <button type="submit" aria-label="Send">"Send"</button>
                </form>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
            </Show>
        </section>
    }
}
