//! The audit log: every moderator action, newest first (who, what, about
//! whom, why, and what it left: a removed message's text, a suspension's
//! end), paged by 50, and its CSV export.

use super::{iso, said, when};
use crate::chat::use_chat;
use crate::components::clock::Clock;
use crate::model::{ActionKind, AuditEntry, ModerationPage};
use leptos::prelude::*;

/// Where the CSV export is served (the session cookie signs it in).
pub const CSV: &str = "/api/moderation/log.csv";

const PAGE: u32 = 50;

fn action_label(a: ActionKind) -> &'static str {
    match a {
        ActionKind::Dismiss => "Dismissed",
        ActionKind::Hide => "Removed message",
        ActionKind::Warn => "Warned",
        ActionKind::Suspend => "Suspended",
        ActionKind::Lift => "Lifted suspension",
    }
}

#[component]
fn Row(entry: AuditEntry, clock: Clock) -> impl IntoView {
    let at = entry.at;
    let item = entry.item_id.map(|i| format!(" (item {i})"));
    view! {
        <tr data-action=entry.action.as_str()>
            <td><time datetime=iso(at)>{move || when(&clock, at)}</time></td>
            <td>{entry.actor.name.clone()}</td>
            <td>{action_label(entry.action)}{item}</td>
            <td>{entry.subject.as_ref().map(|s| s.name.clone()).unwrap_or_else(|| "—".into())}</td>
            <td class="log-text">{entry.reason.clone()}</td>
            <td class="log-text">{entry.detail.clone()}</td>
        </tr>
    }
}

#[component]
pub fn ModerationLog(reload: RwSignal<u32>) -> impl IntoView {
    let chat = use_chat();
    let clock = Clock::new();
    // The pages walked through so far: each one's `before` (none: newest).
    let pages = RwSignal::new(Vec::<i64>::new());
    let entries = Resource::new(
        move || {
            (
                pages.get().last().copied(),
                chat.moderation_rev.get(),
                reload.get(),
            )
        },
        |(before, ..)| {
            crate::api::moderation_log(ModerationPage {
                status: None,
                before,
                limit: Some(PAGE),
            })
        },
    );
    let table = move || {
        entries.get().map(|r| match r {
            Err(e) => view! { <p class="error" role="alert">{said(e)}</p> }.into_any(),
            Ok(list) if list.is_empty() => {
                view! { <p class="empty">"No actions yet."</p> }.into_any()
            }
            Ok(list) => {
                let oldest = list.last().map(|e| e.id);
                let full = list.len() as u32 >= PAGE;
                let rows = list
                    .into_iter()
                    .map(|entry| view! { <Row entry clock/> })
                    .collect_view();
                view! {
                    <div class="table-wrap" role="region" aria-label="Moderation log entries" tabindex="0">
                        <table class="log">
                            <thead>
                                <tr>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"Who"</th>
                                    <th scope="col">"Action"</th>
                                    <th scope="col">"Subject"</th>
                                    <th scope="col">"Reason"</th>
                                    <th scope="col">"Detail"</th>
                                </tr>
                            </thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                    <div class="row">
                        <Show when=move || !pages.with(Vec::is_empty)>
                            <button type="button" class="small secondary" on:click=move |_| pages.set(Vec::new())>"Newest"</button>
                        </Show>
                        {(full && oldest.is_some()).then(|| view! {
                            <button type="button" class="small secondary"
                                on:click=move |_| pages.update(|p| p.extend(oldest))>"Older entries"</button>
                        })}
                    </div>
                }
                .into_any()
            }
        })
    };
    view! {
        <section class="panel mod-log" aria-labelledby="log-title">
            <div class="row spread">
                <h2 id="log-title">"Audit log"</h2>
                <a class="button secondary small" href=CSV download="moderation-log.csv">"Export CSV"</a>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading the log…"</p> }>
                {table}
            </Transition>
        </section>
    }
}
