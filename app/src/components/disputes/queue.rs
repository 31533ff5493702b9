//! The queue: open cases (or resolved ones, or all), newest first,
//! everyone's or only the viewer's, narrowed by words. Live: it reloads
//! whenever `disputes_rev` moves (a case opened, taken, handed over or
//! settled by anyone) and after the viewer's own actions.

use super::{ago, now_signal};
use crate::chat::use_chat;
use crate::components::clock::Clock;
use crate::components::moderation::{iso, said, when};
use crate::model::{CaseQuery, DisputeCase, DisputeStatus};
use leptos::prelude::*;

const STATUSES: [(&str, &str); 3] = [("open", "Open"), ("resolved", "Resolved"), ("all", "All")];

/// How many cases a page of the queue shows.
const PAGE: u32 = 50;

/// One case of the list: a button that shows it in the case panel.
#[component]
fn CaseRow(
    case: DisputeCase,
    selected: RwSignal<Option<i64>>,
    clock: Clock,
    now: RwSignal<Option<chrono::DateTime<chrono::Utc>>>,
) -> impl IntoView {
    let chat = use_chat();
    let mine = chat.me().is_some_and(|m| m.id == case.lsm.id);
    let id = case.id;
    let opened = case.opened_at;
    let last = case.last_activity_at;
    let age = move |at: chrono::DateTime<chrono::Utc>| match now.get() {
        Some(n) => ago(n, at),
        None => when(&clock, at),
    };
    let resolved = case.status == DisputeStatus::Resolved;
    let (pill, pill_text) = if resolved {
        ("pill pill-resolved", "Resolved")
    } else {
        ("pill pill-open", "Open")
    };
    let assigned = if mine {
        view! { "Assigned to "<b>"you"</b> }.into_any()
    } else {
        view! { "Assigned to "<b>{case.lsm.name.clone()}</b> }.into_any()
    };
    view! {
        <button type="button" class="case-row" data-case-id=id data-status={if resolved { "resolved" } else { "open" }}
            class:mine=mine
            aria-pressed=move || (selected.get() == Some(id)).to_string()
            aria-controls="case-panel"
            on:click=move |_| selected.set(Some(id))>
            <span class="case-row-head">
                <span class="case-title">{case.job_title.clone()}</span>
                <span class=pill>{pill_text}</span>
                <span class="pill pill-job" data-job-status=case.job_status.as_str()>{case.job_status.label()}</span>
            </span>
            <span class="case-reason">{case.reason.clone()}</span>
            <span class="case-meta">
                "Opened "<time datetime=iso(opened)>{move || age(opened)}</time>
                " by "{case.raised_by.name.clone()}
            </span>
            <span class="case-meta">{format!("{} (customer) · {} (provider)", case.customer.name, case.provider.name)}</span>
            <span class="case-meta">
                <span class="case-lsm">{assigned}</span>
                " · Last activity "<time datetime=iso(last)>{move || age(last)}</time>
            </span>
        </button>
    }
}

#[component]
pub fn CaseQueue(
    /// The case shown in the panel.
    selected: RwSignal<Option<i64>>,
    /// Moved after the viewer's own actions.
    reload: RwSignal<u32>,
) -> impl IntoView {
    let chat = use_chat();
    let clock = Clock::new();
    let now = now_signal();
    let status = RwSignal::new("open");
    let only_mine = RwSignal::new(false);
    // What is typed, and what was searched for (on Enter or "Search").
    let typed = RwSignal::new(String::new());
    let words = RwSignal::new(String::new());
    let cases = Resource::new(
        move || {
            (
                status.get(),
                only_mine.get(),
                words.get(),
                chat.disputes_rev.get(),
                reload.get(),
            )
        },
        |(status, mine, q, ..)| {
            crate::api::dispute_cases(CaseQuery {
                status: Some(status.to_owned()),
                assigned: mine.then(|| "mine".to_owned()),
                q: (!q.trim().is_empty()).then(|| q.trim().to_owned()),
                before: None,
                limit: Some(PAGE),
            })
        },
    );
    let tabs = STATUSES
        .into_iter()
        .map(|(s, name)| {
            view! {
                <button type="button" class="seg" data-status=s
                    aria-pressed=move || (status.get() == s).to_string()
                    on:click=move |_| status.set(s)>{name}</button>
            }
        })
        .collect_view();
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        words.set(typed.get_untracked());
    };
    let list = move || {
        cases.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{said(e)}</p> }.into_any(),
            Ok(list) if list.is_empty() => {
                let empty = if !words.get_untracked().trim().is_empty() {
                    "No case matches these words."
                } else {
                    match status.get_untracked() {
                        "open" => "No open disputes. New ones show up here as they are opened.",
                        "resolved" => "No resolved disputes yet.",
                        _ => "No disputes yet.",
                    }
                };
                view! { <p class="empty">{empty}</p> }.into_any()
            }
            Ok(list) => {
                let count = match list.len() {
                    1 => "1 case".to_owned(),
                    n if n as u32 >= PAGE => format!("The newest {n} cases"),
                    n => format!("{n} cases"),
                };
                view! {
                    <p class="muted mod-count" role="status">{count}</p>
                    <ul class="case-list">
                        <For each=move || list.clone() key=|c| format!("{c:?}") children=move |case| view! {
                            <li><CaseRow case selected clock now/></li>
                        }/>
                    </ul>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="panel case-queue" aria-labelledby="cases-title">
            <div class="row spread">
                <h2 id="cases-title" tabindex="-1">"Cases"</h2>
                <div class="segmented" role="group" aria-label="Show cases">{tabs}</div>
            </div>
            <div class="case-filters">
                <label class="check">
                    <input type="checkbox" prop:checked=move || only_mine.get()
                        on:change=move |ev| only_mine.set(event_target_checked(&ev))/>
                    "Only mine"
                </label>
                <form class="case-search" role="search" on:submit=search>
                    <label for="case-search" class="sr-only">"Search cases"</label>
                    <input id="case-search" type="search" placeholder="Job, reason, name" maxlength="100"
                        prop:value=move || typed.get()
                        on:input=move |ev| {
                            let v = event_target_value(&ev);
                            // Clearing the box shows every case again.
                            if v.is_empty() {
                                words.set(String::new());
                            }
                            typed.set(v);
                        }/>
                    <button type="submit" class="small secondary">"Search"</button>
                </form>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading the cases…"</p> }>
                {list}
            </Transition>
        </section>
    }
}
