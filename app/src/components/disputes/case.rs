//! The case picked in the queue: what it is about, who is in it, who has
//! it, how it ended; and what its LSM does with it (take it, hand it
//! over, open its chat, settle it). The transcript is always there to
//! print or download.

use super::settle::SettleForm;
use super::{ago, now_signal, outcome_words, transcript_url};
use crate::chat::use_chat;
use crate::components::MessageText;
use crate::components::clock::Clock;
use crate::components::focus;
use crate::components::moderation::{iso, said, when};
use crate::model::{DisputeCase, DisputeStatus};
use leptos::prelude::*;

/// The panel, which takes the focus after an action.
const PANEL: &str = "#case-panel";

#[component]
pub fn CasePanel(
    selected: RwSignal<Option<i64>>,
    /// Moved after an action here, so the queue reloads too.
    reload: RwSignal<u32>,
) -> impl IntoView {
    let chat = use_chat();
    let announcement = RwSignal::new(String::new());
    let case = Resource::new(
        move || (selected.get(), chat.disputes_rev.get(), reload.get()),
        |(id, ..)| async move {
            match id {
                Some(id) => crate::api::dispute_case(id).await.map(Some),
                None => Ok(None),
            }
        },
    );
    // After an action the case is read again and drawn anew (more than
    // once: the socket's event follows): the panel, which stays, takes
    // the focus, not the button that went away.
    let acted = Callback::new(move |said: String| {
        announcement.set(said);
        reload.update(|r| *r += 1);
        focus::focus(PANEL);
    });
    let body = move || {
        case.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{said(e)}</p> }.into_any(),
            Ok(None) => view! {
                <h2 id="case-title" tabindex="-1">"Case"</h2>
                <p class="empty">"Pick a case in the list to see it here."</p>
            }
            .into_any(),
            Ok(Some(c)) => view! { <Case case=c acted/> }.into_any(),
        })
    };
    view! {
        <section id="case-panel" class="panel case-panel" tabindex="-1" aria-labelledby="case-panel-name case-title">
            // "Case Fix the kitchen sink": not the same name as the case's
            // chat window beside it.
            <span id="case-panel-name" class="sr-only">"Case"</span>
            <p class="sr-only" role="status" aria-live="polite">{move || announcement.get()}</p>
            <Transition fallback=|| view! { <p class="muted">"Loading the case…"</p> }>
                {body}
            </Transition>
        </section>
    }
}

#[component]
fn Case(case: DisputeCase, acted: Callback<String>) -> impl IntoView {
    let chat = use_chat();
    let clock = Clock::new();
    let now = now_signal();
    let me = chat.me().map(|m| m.id);
    let id = case.id;
    let chat_id = case.chat_id;
    let open = case.status == DisputeStatus::Open;
    let mine = Some(case.lsm.id) == me;
    let settling = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let age = move |at: chrono::DateTime<chrono::Utc>| match now.get() {
        Some(n) => ago(n, at),
        None => when(&clock, at),
    };
    let opened = case.opened_at;
    let last = case.last_activity_at;
    let lsm = if mine {
        "You".to_owned()
    } else {
        case.lsm.name.clone()
    };

    let take = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = crate::api::take_case(id).await;
            busy.try_set(false);
            match answer {
                Ok(_) => acted.run("You have the case now.".into()),
                Err(e) => {
                    error.try_set(Some(said(e)));
                }
            }
        });
    };

    // Hand over: to any other LSM.
    let to = RwSignal::new(String::new());
    let lsms = Resource::new(|| (), |_| crate::api::lsm_accounts());
    let hand_over = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(who) = to.get_untracked().parse::<i64>() else {
            error.set(Some(
                "Pick the local service manager to hand the case to.".into(),
            ));
            focus::focus(&format!("#handover-{id}"));
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = crate::api::hand_over_case(id, who).await;
            busy.try_set(false);
            match answer {
                Ok(c) => acted.run(format!("The case is with {} now.", c.lsm.name)),
                Err(e) => {
                    error.try_set(Some(said(e)));
                }
            }
        });
    };
    let select_id = format!("handover-{id}");
    let handover = move || {
        let options = lsms.get().and_then(Result::ok).map(|all| {
            all.into_iter()
                .filter(|u| Some(u.id) != me)
                .map(|u| view! { <option value=u.id.to_string()>{u.name}</option> })
                .collect_view()
        });
        let select_id = select_id.clone();
        view! {
            <form class="case-handover" on:submit=hand_over>
                <label for=select_id.clone()>"Hand over to"</label>
                <select id=select_id prop:value=move || to.get()
                    on:change=move |ev| to.set(event_target_value(&ev))>
                    <option value="">"Choose a local service manager"</option>
                    {options}
                </select>
                <button type="submit" class="small secondary" disabled=move || busy.get()>"Hand over"</button>
            </form>
        }
    };

    let done = Callback::new(move |said: Option<String>| {
        settling.set(false);
        match said {
            Some(s) => acted.run(s),
            None => {
                focus::focus(&format!("#settle-{id}"));
            }
        }
    });
    let actions = open.then(|| {
        if mine {
            view! {
                <div class="case-actions" role="group" aria-label="Actions">
                    <button type="button" class="small" on:click=move |_| chat.open_chat(chat_id)>"Open chat"</button>
                    <button type="button" id=format!("settle-{id}") class="small"
                        aria-expanded=move || settling.get().to_string()
                        on:click=move |_| settling.update(|s| *s = !*s)>"Resolve"</button>
                </div>
                {handover}
            }
            .into_any()
        } else {
            view! {
                <div class="case-actions" role="group" aria-label="Actions">
                    <button type="button" class="small" disabled=move || busy.get() on:click=take>"Take case"</button>
                </div>
                <p class="hint">"Take the case to join its chat and settle it."</p>
            }
            .into_any()
        }
    });
    let case_for_form = case.clone();
    let settle = move || {
        settling
            .get()
            .then(|| view! { <SettleForm case=case_for_form.clone() done/> })
    };

    let settled = (!open).then(|| {
        let words = case.outcome.and_then(|o| {
            outcome_words(o, case.refund_cents, Some(case.currency.as_str()))
        });
        let outcome = words.unwrap_or_else(|| "Other (see the note)".into());
        let resolved = case.resolved_at.map(|at| {
            view! { <dt>"Resolved"</dt><dd><time datetime=iso(at)>{move || when(&clock, at)}</time></dd> }
        });
        let note = case.note.clone().unwrap_or_default();
        view! {
            <div class="case-settled">
                <h3>"Settlement"</h3>
                <dl class="mod-facts">
                    <dt>"Outcome"</dt><dd class="case-outcome">{outcome}</dd>
                    {resolved}
                </dl>
                <figure class="mod-note">
                    <figcaption>"Note to both parties"</figcaption>
                    <blockquote class="case-note"><MessageText text=note/></blockquote>
                </figure>
            </div>
        }
    });

    let status = if open { "Open" } else { "Resolved" };
    view! {
        <article class="case" data-case-id=id data-status={if open { "open" } else { "resolved" }}>
            <header class="mod-item-head">
                <h2 id="case-title" tabindex="-1">{case.job_title.clone()}</h2>
                <span class={if open { "pill pill-open" } else { "pill pill-resolved" }}>{status}</span>
            </header>
            <dl class="mod-facts">
                <dt>"Opened"</dt>
                <dd>
                    <time datetime=iso(opened)>{move || age(opened)}</time>
                    " by "{case.raised_by.name.clone()}
                </dd>
                <dt>"Job"</dt>
                <dd>
                    {case.job_title.clone()}" "
                    <span class="pill pill-job" data-job-status=case.job_status.as_str()>{case.job_status.label()}</span>
                </dd>
                <dt>"Customer"</dt><dd>{case.customer.name.clone()}</dd>
                <dt>"Provider"</dt><dd>{case.provider.name.clone()}</dd>
                <dt>"Assigned to"</dt><dd class="case-assigned">{lsm}</dd>
                <dt>"Last activity"</dt><dd><time datetime=iso(last)>{move || age(last)}</time></dd>
            </dl>
            <figure class="mod-evidence">
                <figcaption>"Reason given"</figcaption>
                <blockquote><MessageText text=case.reason.clone()/></blockquote>
            </figure>
            {settled}
            {actions}
            {settle}
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <nav class="case-transcript" aria-label="Transcript">
                <a href=transcript_url(id, "html")>"Transcript (print)"</a>
                <a href=transcript_url(id, "csv") download="">"CSV"</a>
                <a href=transcript_url(id, "json") download="">"JSON"</a>
            </nav>
        </article>
    }
}
