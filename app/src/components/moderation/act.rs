//! Every moderator action in two steps: first the reason (and a
//! suspension's length), then "Suspend Bob for 7 days?" with what it does,
//! answered with the action's own button or "Back". Escape cancels.

use super::said;
use crate::components::focus;
use crate::model::{ActionKind, ModerationAction, UserAction, UserId};
use leptos::prelude::*;

/// Who and what an action is about.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// The queue item (none for lifting a suspension).
    pub item_id: Option<i64>,
    pub user_id: UserId,
    pub name: String,
}

/// The action's button, its confirming question and what is announced
/// once done.
fn words(kind: ActionKind, name: &str, days: Option<u32>) -> (&'static str, String, String) {
    match kind {
        ActionKind::Dismiss => (
            "Dismiss",
            format!("Dismiss this item? Nothing happens to {name}; the item moves to Dismissed."),
            "Item dismissed.".into(),
        ),
        ActionKind::Hide => (
            "Remove message",
            "Remove this message for everyone in the chat? They see \u{201c}Removed by a moderator\u{201d}; its text stays in the audit log.".into(),
            "Message removed.".into(),
        ),
        ActionKind::Warn => (
            "Warn",
            format!("Warn {name}? A notice with your reason appears in the chat, for everyone in it."),
            format!("{name} was warned."),
        ),
        ActionKind::Suspend => {
            let length = match days {
                Some(1) => "for 1 day".to_owned(),
                Some(d) => format!("for {d} days"),
                None => "for good".to_owned(),
            };
            (
                "Suspend",
                format!("Suspend {name} {length}? They are signed out everywhere at once and cannot sign in until the suspension ends."),
                format!("{name} is suspended {length}."),
            )
        }
        ActionKind::Lift => (
            "Lift suspension",
            format!("Lift {name}'s suspension? They can sign in again at once."),
            format!("{name}'s suspension was lifted."),
        ),
    }
}

/// The verb on the button that opens the form.
pub fn label(kind: ActionKind) -> &'static str {
    words(kind, "", None).0
}

/// The two-step form. `done` hears what to announce when the action was
/// taken, `None` when cancelled.
#[component]
pub fn ActForm(target: Target, kind: ActionKind, done: Callback<Option<String>>) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let for_good = RwSignal::new(false);
    let days = RwSignal::new("7".to_owned());
    let confirming = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let key = format!(
        "act-{}-{}",
        target
            .item_id
            .map_or_else(|| format!("u{}", target.user_id), |i| i.to_string()),
        kind.as_str()
    );
    let here = format!("[data-act=\"{key}\"]");
    // Each step takes the focus: the reason first, then the harmless "Back".
    Effect::new(move |_| {
        let selector = if confirming.get() {
            format!("{here} .act-back")
        } else {
            format!("{here} textarea")
        };
        request_animation_frame(move || {
            focus::focus(&selector);
        });
    });
    let length = move || -> Result<Option<u32>, String> {
        if kind != ActionKind::Suspend || for_good.get() {
            return Ok(None);
        }
        match days.get().trim().parse::<u32>() {
            Ok(d) if (1..=ModerationAction::DAYS_MAX).contains(&d) => Ok(Some(d)),
            _ => Err(format!(
                "Days must be a whole number from 1 to {}.",
                ModerationAction::DAYS_MAX
            )),
        }
    };
    let action = move || -> Result<ModerationAction, String> {
        let a = ModerationAction {
            action: kind,
            reason: reason.get_untracked(),
            days: length()?,
        };
        match a.parse() {
            Ok(_) => Ok(a),
            Err(e) if e.field == "reason" => Err(format!("The reason {}.", e.message)),
            Err(e) => Err(format!("{} {}.", e.field, e.message)),
        }
    };
    let name = target.name.clone();
    let question = move || words(kind, &name, length().ok().flatten()).1;
    let next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match action() {
            Ok(_) => {
                error.set(None);
                confirming.set(true);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let t = target.clone();
    let act = move |_| {
        let Ok(a) = action() else { return };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let t = t.clone();
        let announce = words(kind, &t.name, a.days).2;
        leptos::task::spawn_local(async move {
            let answer = match t.item_id {
                Some(item) if kind != ActionKind::Lift => crate::api::moderate(item, a).await,
                _ => {
                    let u = UserAction {
                        action: a.action,
                        reason: a.reason,
                        days: a.days,
                    };
                    crate::api::moderate_user(t.user_id, u).await
                }
            };
            busy.try_set(false);
            match answer {
                Ok(_) => done.run(Some(announce)),
                Err(e) => {
                    error.try_set(Some(said(e)));
                }
            }
        });
    };
    // Escape closes the form, not the window or page around it.
    let on_keydown = focus::escape_closes(move || done.run(None));
    let (verb, ..) = words(kind, "", None);
    let act_class = if kind == ActionKind::Dismiss {
        "small"
    } else {
        "small danger"
    };
    let reason_id = format!("{key}-reason");
    let days_id = format!("{key}-days");
    let question_id = format!("{key}-question");
    let hint = match kind {
        ActionKind::Warn => "Shown in the chat with the warning, and kept in the audit log.",
        _ => "Kept in the audit log with your name.",
    };
    let hint_id = format!("{key}-hint");
    let group = format!("{key}-length");
    view! {
        <form class="act-form" novalidate data-act=key.clone() data-kind=kind.as_str() on:keydown=on_keydown on:submit=next>
            <Show
                when=move || confirming.get()
                fallback={
                    let (reason_id, days_id, hint_id, group) = (reason_id.clone(), days_id.clone(), hint_id.clone(), group.clone());
                    move || view! {
                        <label for=reason_id.clone()>{format!("Reason to {}", verb.to_lowercase())}</label>
                        <textarea id=reason_id.clone() rows="2" maxlength=ModerationAction::REASON_MAX.to_string() aria-required="true"
                            aria-describedby=hint_id.clone()
                            prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))></textarea>
                        <p class="hint" id=hint_id.clone()>{hint}</p>
                        {(kind == ActionKind::Suspend).then(|| view! {
                            <fieldset class="act-length">
                                <legend>"How long"</legend>
                                <label class="inline">
                                    <input type="radio" name=group.clone() prop:checked=move || !for_good.get()
                                        on:change=move |_| for_good.set(false)/>
                                    "For"
                                </label>
                                <input id=days_id.clone() class="days" type="number" min="1" max=ModerationAction::DAYS_MAX.to_string()
                                    aria-label="Days" disabled=move || for_good.get()
                                    prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
                                <span aria-hidden="true">"days"</span>
                                <label class="inline">
                                    <input type="radio" name=group.clone() prop:checked=move || for_good.get()
                                        on:change=move |_| for_good.set(true)/>
                                    "For good"
                                </label>
                            </fieldset>
                        })}
                        <div class="row">
                            <button type="submit" class="small">"Continue"</button>
                            <button type="button" class="small secondary" on:click=move |_| done.run(None)>"Cancel"</button>
                        </div>
                    }
                }
            >
                <p class="act-question" id=question_id.clone()>{question.clone()}</p>
                <blockquote class="act-reason">{move || reason.get()}</blockquote>
                <div class="row">
                    <button type="button" class=act_class
                        aria-describedby=question_id.clone() disabled=move || busy.get() on:click=act.clone()>
                        {move || if busy.get() { "Working…".to_owned() } else { verb.to_owned() }}
                    </button>
                    <button type="button" class="small secondary act-back" on:click=move |_| confirming.set(false)>"Back"</button>
                </div>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
        </form>
    }
}
