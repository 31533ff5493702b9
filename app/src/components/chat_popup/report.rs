//! "Report": what is wrong with a message (or a person, from their card)
//! as one of the chosen categories, an optional note, and "Send report".
//! The form opens in place, takes the focus (the first category), and
//! Escape or Cancel closes it; a refusal is said inside it. Sent, the
//! caller closes it and says "Report received…".

use crate::components::focus;
use crate::components::moderation::said;
use crate::model::{ChatId, MessageId, NewReport, ReportCategory, UserId};
use leptos::prelude::*;

/// What the reporter is told once the server took the report.
pub const RECEIVED: &str = "Report received. A local service manager will review it.";

/// What a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reported {
    Message(MessageId),
    Person(UserId),
}

impl Reported {
    fn key(self) -> String {
        match self {
            Self::Message(id) => format!("m{id}"),
            Self::Person(id) => format!("u{id}"),
        }
    }
}

/// The report form. `done` hears `true` once the report was received,
/// `false` when the reporter cancelled.
#[component]
pub fn ReportForm(chat_id: ChatId, about: Reported, done: Callback<bool>) -> impl IntoView {
    let category = RwSignal::new(None::<ReportCategory>);
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let key = format!("report-{chat_id}-{}", about.key());
    // Opened: the first category takes the focus (once on the page).
    let first = format!("form[data-report=\"{key}\"] input");
    Effect::new(move |_| {
        let first = first.clone();
        request_animation_frame(move || {
            focus::focus(&first);
        });
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let Some(category) = category.get_untracked() else {
            error.set(Some("Choose what is wrong.".into()));
            return;
        };
        let text = note.get_untracked();
        if text.chars().count() > NewReport::NOTE_MAX {
            error.set(Some(format!(
                "The note can be at most {} characters.",
                NewReport::NOTE_MAX
            )));
            return;
        }
        let (message_id, user_id) = match about {
            Reported::Message(m) => (Some(m), None),
            Reported::Person(u) => (None, Some(u)),
        };
        let report = NewReport {
            chat_id,
            message_id,
            user_id,
            category,
            note: (!text.trim().is_empty()).then(|| text.trim().to_owned()),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let answer = crate::api::report(report).await;
            busy.try_set(false);
            match answer {
                Ok(_) => done.run(true),
                Err(e) => {
                    error.try_set(Some(said(e)));
                }
            }
        });
    };
    // Escape closes the form, not the window or page around it.
    let on_keydown = focus::escape_closes(move || done.run(false));
    let legend = match about {
        Reported::Message(_) => "What is wrong with this message?",
        Reported::Person(_) => "What is wrong?",
    };
    let note_id = format!("{key}-note");
    let count = move || note.with(|n| n.chars().count());
    let options = ReportCategory::CHOSEN
        .into_iter()
        .map(|c| {
            view! {
                <label class="report-option">
                    <input type="radio" name=key.clone() value=c.as_str()
                        prop:checked=move || category.get() == Some(c)
                        on:change=move |_| category.set(Some(c))/>
                    <span>{c.label()}</span>
                </label>
            }
        })
        .collect_view();
    view! {
        <form class="report-form" data-report=key.clone() aria-live="off" on:keydown=on_keydown on:submit=submit>
            <fieldset>
                <legend>{legend}</legend>
                <div class="report-options">{options}</div>
            </fieldset>
            <label for=note_id.clone()>"Anything to add? (optional)"</label>
            <textarea id=note_id rows="2" maxlength=NewReport::NOTE_MAX.to_string()
                prop:value=move || note.get()
                on:input=move |ev| note.set(event_target_value(&ev))></textarea>
            <span class="report-count" aria-hidden="true">{count}" / "{NewReport::NOTE_MAX}</span>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
            <span class="msg-form-buttons">
                <button type="submit" class="small danger" disabled=move || busy.get()>
                    {move || if busy.get() { "Sending…" } else { "Send report" }}
                </button>
                <button type="button" class="small secondary" on:click=move |_| done.run(false)>"Cancel"</button>
            </span>
        </form>
    }
}
