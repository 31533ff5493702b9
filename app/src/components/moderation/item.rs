//! One item of the queue, with what an LSM needs to judge it: who reported
//! whom (their role, whether suspended, their history), the job, the
//! reported text as it was, the reporter's note and the conversation
//! around it (the reported message marked), then the actions.

use super::act::{ActForm, Target, label};
use super::{iso, role_label, when};
use crate::components::MessageText;
use crate::components::clock::Clock;
use crate::model::{
    ActionKind, ItemKind, ItemStatus, Message, MessageKind, ModeratedUser, ModerationItem,
};
use leptos::prelude::*;

/// "3 reports against (1 acted on) · 0 filed".
fn history(u: &ModeratedUser) -> String {
    let against = match u.reports_against {
        1 => "1 report against".to_owned(),
        n => format!("{n} reports against"),
    };
    format!(
        "{against} ({} acted on) · {} filed",
        u.reports_actioned, u.reports_filed
    )
}

/// A person as the queue shows them. The item's subject, when suspended,
/// can be lifted; on a closed item, suspended (an open item has its own
/// "Suspend").
#[component]
fn Person(
    user: ModeratedUser,
    clock: Clock,
    /// The item's subject: their suspension can be managed here.
    liftable: bool,
    /// The item is closed.
    closed: bool,
    /// Said once a suspension was lifted (then the queue reloads).
    acted: Callback<String>,
) -> impl IntoView {
    let lifting = RwSignal::new(false);
    // Lift a suspension, or suspend (closed items only).
    let kind = if user.suspended {
        ActionKind::Lift
    } else {
        ActionKind::Suspend
    };
    let until = user.suspended_until;
    let suspended = user.suspended.then(|| {
        let text = move || match until {
            Some(at) => format!("Suspended until {}", when(&clock, at)),
            None => "Suspended for good".to_owned(),
        };
        view! { <span class="tag tag-danger">{text}</span> }
    });
    let target = Target {
        item_id: None,
        user_id: user.id,
        name: user.name.clone(),
    };
    let done = Callback::new(move |said: Option<String>| {
        lifting.set(false);
        if let Some(s) = said {
            acted.run(s);
        }
    });
    let lift = (liftable && (user.suspended || closed)).then(|| {
        view! {
            <Show when=move || !lifting.get()>
                <button type="button" class="small secondary" on:click=move |_| lifting.set(true)>
                    {label(kind)}
                </button>
            </Show>
            <Show when=move || lifting.get()>
                <ActForm target=target.clone() kind done/>
            </Show>
        }
    });
    view! {
        <span class="mod-person" data-user-id=user.id>
            <span class="mod-name">{user.name.clone()}</span>
            <span class="muted">" · "{role_label(user.role)}</span>
            " "{suspended}
            <span class="mod-history">{history(&user)}</span>
            {lift}
        </span>
    }
}

/// A message of the conversation around the reported one.
#[component]
fn ContextLine(m: Message, reported: bool, clock: Clock) -> impl IntoView {
    let who = if m.kind == MessageKind::System {
        "jobchat".to_owned()
    } else {
        m.sender_name.clone().unwrap_or_else(|| "Someone".into())
    };
    let at = m.created_at;
    let system = m.kind == MessageKind::System;
    let text = if m.is_hidden() {
        view! { <em class="muted">"Removed by a moderator"</em> }.into_any()
    } else if m.is_deleted() {
        view! { <em class="muted">"Deleted by its sender"</em> }.into_any()
    } else if m.content.trim().is_empty() && !m.attachments.is_empty() {
        view! { <em class="muted">{format!("{} file(s)", m.attachments.len())}</em> }.into_any()
    } else {
        view! { <MessageText text=m.content.clone()/> }.into_any()
    };
    view! {
        <li class="mod-line" class:reported=reported class:system=system
            aria-current=reported.then_some("true") data-id=m.id>
            <span class="mod-line-head">
                <b>{who}</b>
                <time datetime=iso(at)>{move || clock.time_of(at)}</time>
                {reported.then(|| view! { <span class="tag tag-warn">"Reported"</span> })}
            </span>
            <span class="mod-line-text">{text}</span>
        </li>
    }
}

#[component]
pub fn Item(
    item: ModerationItem,
    clock: Clock,
    /// An action was taken: what to announce (the queue reloads).
    acted: Callback<String>,
) -> impl IntoView {
    let id = item.id;
    let open = item.status == ItemStatus::Open;
    let acting = RwSignal::new(None::<ActionKind>);
    let title_id = format!("item-{id}-title");
    let labelled_by = title_id.clone();
    let kind = match item.kind {
        ItemKind::Report => "Report",
        ItemKind::Flag => "Auto-flag",
    };
    let at = item.created_at;
    let reporter = match item.reporter.clone() {
        Some(u) => view! { <Person user=u clock liftable=false closed=!open acted/> }.into_any(),
        None => view! { <span class="muted">"jobchat (automatic)"</span> }.into_any(),
    };
    let subject_name = item.subject.name.clone();
    let subject_id = item.subject.id;
    let subject =
        view! { <Person user=item.subject.clone() clock liftable=true closed=!open acted/> };
    let job = if item.job_title.is_empty() {
        "The chat was deleted".to_owned()
    } else {
        format!("{} ({})", item.job_title, item.job_status)
    };
    let evidence = (!item.evidence.trim().is_empty()).then(|| {
        view! {
            <figure class="mod-evidence">
                <figcaption>"Reported message, as written"</figcaption>
                <blockquote><MessageText text=item.evidence.clone()/></blockquote>
            </figure>
        }
    });
    let note = (!item.note.trim().is_empty()).then(|| {
        view! {
            <figure class="mod-note">
                <figcaption>"Reporter's note"</figcaption>
                <blockquote><MessageText text=item.note.clone()/></blockquote>
            </figure>
        }
    });
    let reported = item.message_id;
    let context_count = item.context.len();
    let context = (context_count > 0).then(|| {
        let lines = item
            .context
            .clone()
            .into_iter()
            .map(|m| {
                let is = Some(m.id) == reported;
                view! { <ContextLine m reported=is clock/> }
            })
            .collect_view();
        view! {
            <details class="mod-context" open=true>
                <summary>{format!("The conversation around it ({context_count} messages)")}</summary>
                <ol>{lines}</ol>
            </details>
        }
    });
    let mut kinds = vec![ActionKind::Dismiss];
    if reported.is_some() {
        kinds.push(ActionKind::Hide);
    }
    kinds.extend([ActionKind::Warn, ActionKind::Suspend]);
    let buttons = kinds
        .into_iter()
        .map(|k| {
            let class = match k {
                ActionKind::Dismiss => "small secondary",
                _ => "small",
            };
            view! {
                <button type="button" class=class data-action=k.as_str()
                    aria-pressed=move || (acting.get() == Some(k)).to_string()
                    on:click=move |_| acting.set(Some(k))>{label(k)}</button>
            }
        })
        .collect_view();
    let done = Callback::new(move |said: Option<String>| match said {
        Some(s) => acted.run(s),
        None => acting.set(None),
    });
    let actions = open.then(|| {
        view! {
            <div class="mod-actions" role="group" aria-label="Actions">{buttons}</div>
            {move || acting.get().map(|k| {
                let target = Target {
                    item_id: Some(id),
                    user_id: subject_id,
                    name: subject_name.clone(),
                };
                view! { <ActForm target kind=k done/> }
            })}
        }
    });
    view! {
        <article class="mod-item" data-item-id=id data-status=item.status.as_str() aria-labelledby=labelled_by>
            <header class="mod-item-head">
                <h3 id=title_id>
                    <span class=format!("tag tag-{}", if item.kind == ItemKind::Flag { "flag" } else { "report" })>{kind}</span>
                    " "{item.category.label()}
                </h3>
                <time datetime=iso(at)>{move || when(&clock, at)}</time>
            </header>
            <dl class="mod-facts">
                <dt>"About"</dt><dd>{subject}</dd>
                <dt>"Reported by"</dt><dd>{reporter}</dd>
                <dt>"Job"</dt><dd>{job}</dd>
            </dl>
            {evidence}
            {note}
            {context}
            {actions}
        </article>
    }
}
