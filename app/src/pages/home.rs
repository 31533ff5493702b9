//! The signed-in home: a dashboard per role, with the chat list.

use crate::chat::use_chat;
use crate::components::{ChatList, Searchable, SettleForm, focus};
use crate::model::DisputeCase;
use crate::model::{DisputeStatus, Role, UserId};
use crate::validate::{Description, Title};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

#[component]
pub fn HomePage() -> impl IntoView {
    let chat = use_chat();
    // `/?chat=ID` opens that chat's window (links from notifications,
    // bookmarks). Effects run only in the browser, after hydration.
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(id) = query.with(|q| q.get("chat").and_then(|v| v.parse::<i64>().ok())) {
            chat.open_chat(id);
        }
    });
    match chat.me() {
        None => view! { <Redirect path="/login"/> }.into_any(),
        Some(me) => {
            let greeting = format!(
                "Hello, {}",
                me.name.split_whitespace().next().unwrap_or(&me.name)
            );
            let board = match me.role {
                Role::Customer => view! { <CustomerBoard/> }.into_any(),
                Role::Provider => view! { <ProviderBoard/> }.into_any(),
                Role::Lsm => view! { <LsmBoard/> }.into_any(),
            };
            view! {
                <h1 class="greeting">{greeting}</h1>
                {board}
            }
            .into_any()
        }
    }
}

#[component]
fn CustomerBoard() -> impl IntoView {
    view! {
        <div class="board">
            <section class="panel">
                <h2>"Book a job"</h2>
                <BookJob/>
            </section>
            <section class="panel">
                <h2>"Your chats"</h2>
                <Searchable><ChatList empty_text="Book a job and its chat opens here."/></Searchable>
            </section>
        </div>
    }
}

#[component]
fn ProviderBoard() -> impl IntoView {
    view! {
        <div class="board single">
            <section class="panel">
                <h2>"Your jobs"</h2>
                <Searchable><ChatList empty_text="When a customer books you, the job's chat shows up here."/></Searchable>
            </section>
        </div>
    }
}

#[component]
fn LsmBoard() -> impl IntoView {
    let chat = use_chat();
    let open_disputes = move || {
        chat.chat_list()
            .unwrap_or_default()
            .iter()
            .filter_map(|c| {
                c.dispute
                    .as_ref()
                    .filter(|d| d.status == DisputeStatus::Open)
                    .map(|d| (d.id, c.id, c.job_title.clone()))
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="board">
            <section class="panel">
                <h2>"Disputes"</h2>
                <Searchable><ChatList disputes_only=true empty_text="No disputes yet. You will be notified when someone adds you to a chat."/></Searchable>
            </section>
            <section class="panel">
                <h2>"Settle a dispute"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading disputes…"</p> }>
                // Made once the first list is read (as the chat list is).
                {move || Suspend::new(async move {
                    if let Some(first) = chat.first_chats {
                        let _ = first.await;
                    }
                    view! {
                <Show when=move || !open_disputes().is_empty() fallback=|| view! { <p class="empty">"No open disputes."</p> }>
                    <ul class="resolve-list">
                        <For each=open_disputes key=|d| d.0 children=move |(dispute, chat_id, title)| view! {
                            <li><SettleRow dispute=dispute chat_id=chat_id title=title/></li>
                        }/>
                    </ul>
                </Show>
                    }
                })}
                </Suspense>
            </section>
        </div>
    }
}

/// One open dispute of the LSM's: its chat, and "Resolve" opening the
/// console's two-step form (an outcome, a note both parties read, then a
/// confirmation), so a settlement made here is the same as one made in
/// the console.
#[component]
fn SettleRow(dispute: i64, chat_id: i64, title: String) -> impl IntoView {
    let chat = use_chat();
    // The case, once "Resolve" read it (the form needs its currency).
    let case = RwSignal::new(None::<DisputeCase>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let button_id = format!("resolution-{dispute}");
    let open = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let read = crate::api::dispute_case(dispute).await;
            busy.try_set(false);
            match read {
                Ok(c) => {
                    case.try_set(Some(c));
                }
                Err(e) => {
                    error.try_set(Some(crate::components::moderation::said(e)));
                }
            }
        });
    };
    let again = button_id.clone();
    // Settled: the row goes once the chat list hears of it; cancelled:
    // back to the button.
    let done = Callback::new(move |_said: Option<String>| {
        case.set(None);
        let again = format!("#{again}");
        request_animation_frame(move || {
            focus::focus(&again);
        });
    });
    view! {
        <div class="resolve">
            <div class="row spread">
                <strong>{title}</strong>
                <button type="button" class="link" on:click=move |_| chat.open_chat(chat_id)>"Open chat"</button>
            </div>
            // Gone while the form is open (its Cancel closes it).
            <Show when=move || case.with(Option::is_none)>
                <button type="button" id=button_id.clone() class="small"
                    disabled=move || busy.get() on:click=open>
                    {move || if busy.get() { "Opening…" } else { "Resolve" }}
                </button>
            </Show>
            {move || case.get().map(|c| view! { <SettleForm case=c done/> })}
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
        </div>
    }
}

#[component]
fn BookJob() -> impl IntoView {
    let chat = use_chat();
    let provider = RwSignal::new(None::<UserId>);
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(p) = provider.get_untracked() else {
            error.set(Some("Choose a provider".into()));
            return;
        };
        let t = match Title::parse(&title.get_untracked()) {
            Ok(t) => t,
            Err(e) => return error.set(Some(format!("Title {}", e.message))),
        };
        let d = match Description::parse(Some(&description.get_untracked())) {
            Ok(d) => d,
            Err(e) => return error.set(Some(format!("Description {}", e.message))),
        };
        busy.set(true);
        chat.book_job(
            p,
            t.as_str().to_owned(),
            d.as_str().to_owned(),
            move |res| {
                busy.set(false);
                match res {
                    Ok(()) => {
                        title.set(String::new());
                        description.set(String::new());
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e.message)),
                }
            },
        );
    };
    view! {
        <form class="book" on:submit=on_submit>
            <fieldset class="providers">
                <legend>"Provider"</legend>
                <Suspense fallback=|| view! { <p class="muted">"Loading providers…"</p> }>
                <Show when=move || !chat.provider_list().is_empty() fallback=|| view! { <p class="muted">"No providers yet."</p> }>
                    <For each=move || chat.provider_list() key=|p| p.id children=move |p| {
                        let id = p.id;
                        view! {
                            <label class="provider">
                                <input type="radio" name="provider" value=id
                                    checked=move || provider.get() == Some(id)
                                    on:change=move |_| provider.set(Some(id))/>
                                <span>{p.name.clone()}</span>
                            </label>
                        }
                    }/>
                </Show>
                </Suspense>
            </fieldset>
            <label for="job-title">"What do you need done?"</label>
            <input id="job-title" maxlength="200" placeholder="e.g. Fix the kitchen sink"
                prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
            <label for="job-description">"Details (optional)"</label>
            <textarea id="job-description" rows="3" maxlength="4000"
                prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
            <Show when=move || error.get().is_some()><p class="error" role="alert">{move || error.get()}</p></Show>
            <button type="submit" disabled=move || busy.get()>{move || if busy.get() { "Booking…" } else { "Book and open chat" }}</button>
        </form>
    }
}
