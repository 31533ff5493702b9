//! Settling a case in two steps: the outcome (a partial refund's amount in
//! currency units) and the note both parties read; then "Resolve with
//! Partial refund of 45.00 EUR?", answered with "Confirm" or "Back".
//! The server's refusals of a field show next to that field. Escape
//! cancels.

use super::{outcome_words, parse_amount};
use crate::components::focus;
use crate::components::moderation::{said, sentence};
use crate::error::AppError;
use crate::model::{DisputeCase, Outcome, SettleCase};
use crate::validate::Resolution;
use leptos::prelude::*;

/// Errors by field: the outcome, the amount, the note, anything else.
#[derive(Clone, Debug, Default, PartialEq)]
struct Errors {
    outcome: Option<String>,
    amount: Option<String>,
    note: Option<String>,
    other: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.outcome.is_some() || self.amount.is_some() || self.note.is_some()
    }

    /// A refusal, put next to the field it names (`details.field`).
    fn from_server(e: AppError) -> Self {
        let field = e
            .details
            .as_ref()
            .and_then(|d| d.get("field"))
            .and_then(|f| f.as_str())
            .map(str::to_owned);
        let text = sentence(&e.message);
        match field.as_deref() {
            Some("note" | "resolution") => Self {
                note: Some(text),
                ..Self::default()
            },
            Some("outcome") => Self {
                outcome: Some(text),
                ..Self::default()
            },
            Some("refundCents") => Self {
                amount: Some(text),
                ..Self::default()
            },
            _ => Self {
                other: Some(said(e)),
                ..Self::default()
            },
        }
    }
}

/// What is sent, checked as the server will: `Err` names each field's
/// problem.
fn settlement(outcome: Outcome, amount: &str, note: &str) -> Result<SettleCase, Errors> {
    let mut errors = Errors::default();
    let refund_cents = if outcome == Outcome::PartialRefund {
        match parse_amount(amount) {
            Ok(c) => Some(c),
            Err(e) => {
                errors.amount = Some(e.to_owned());
                None
            }
        }
    } else {
        None
    };
    if let Err(e) = Resolution::parse(note) {
        errors.note = Some(if note.trim().is_empty() {
            "Write a note: both parties read what was decided.".to_owned()
        } else {
            format!("The note {}.", e.message)
        });
    }
    if errors.any() {
        return Err(errors);
    }
    Ok(SettleCase {
        outcome: Some(outcome.as_str().to_owned()),
        refund_cents,
        note: Some(note.to_owned()),
        resolution: None,
    })
}

/// "Resolve with Partial refund of 45.00 EUR?"
fn question(outcome: Outcome, refund_cents: Option<i64>, currency: &str) -> String {
    match outcome_words(outcome, refund_cents, Some(currency)) {
        Some(w) => format!("Resolve with {w}?"),
        None => "Resolve with Other? The note says what was decided.".to_owned(),
    }
}

#[component]
pub fn SettleForm(case: DisputeCase, done: Callback<Option<String>>) -> impl IntoView {
    let id = case.id;
    let currency = case.currency.clone();
    let outcome = RwSignal::new(None::<Outcome>);
    let amount = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let confirming = RwSignal::new(None::<SettleCase>);
    let busy = RwSignal::new(false);
    let errors = RwSignal::new(Errors::default());
    let key = format!("settle-form-{id}");
    // Each step takes the focus: the first outcome, the field at fault,
    // then the harmless "Back".
    let focus_on = move |what: &'static str| {
        let selector = format!("[data-settle=\"settle-form-{id}\"] {what}");
        request_animation_frame(move || {
            focus::focus(&selector);
        });
    };
    Effect::new(move |_| {
        if confirming.with(Option::is_some) {
            focus_on(".settle-back");
        } else {
            focus_on("input[type=radio]");
        }
    });
    let show_errors = move |e: Errors| {
        let first = if e.outcome.is_some() {
            "input[type=radio]"
        } else if e.amount.is_some() {
            "input.amount"
        } else if e.note.is_some() {
            "textarea"
        } else {
            ".settle-next"
        };
        errors.set(e);
        focus_on(first);
    };
    let next = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(o) = outcome.get_untracked() else {
            show_errors(Errors {
                outcome: Some("Choose how the dispute is settled.".into()),
                ..Errors::default()
            });
            return;
        };
        match settlement(o, &amount.get_untracked(), &note.get_untracked()) {
            Ok(s) => {
                errors.set(Errors::default());
                confirming.set(Some(s));
            }
            Err(e) => show_errors(e),
        }
    };
    let confirm = move |_| {
        let Some(s) = confirming.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        errors.set(Errors::default());
        leptos::task::spawn_local(async move {
            let answer = crate::api::settle_case(
                id,
                s.outcome.clone().unwrap_or_default(),
                s.refund_cents,
                s.note.clone().unwrap_or_default(),
            )
            .await;
            busy.try_set(false);
            match answer {
                Ok(_) => done.run(Some(
                    "Case resolved. Both parties see the settlement in their chat.".into(),
                )),
                Err(e) => {
                    let e = Errors::from_server(e);
                    // A field's refusal goes back to the form, next to it.
                    if e.any() {
                        confirming.try_set(None);
                    }
                    errors.try_set(e);
                }
            }
        });
    };
    // Escape closes the form, not the window or page around it.
    let on_keydown = focus::escape_closes(move || done.run(None));
    let group = format!("{key}-outcome");
    let amount_id = format!("{key}-amount");
    let note_id = format!("{key}-note");
    let note_hint = format!("{key}-note-hint");
    let outcome_err = format!("{key}-outcome-error");
    let amount_err = format!("{key}-amount-error");
    let note_err = format!("{key}-note-error");
    let question_id = format!("{key}-question");
    let cur = currency.clone();
    let ask = move || {
        confirming
            .get()
            .map(|s| {
                let o = s
                    .outcome
                    .as_deref()
                    .and_then(Outcome::parse)
                    .unwrap_or(Outcome::Other);
                question(o, s.refund_cents, &cur)
            })
            .unwrap_or_default()
    };
    let form = move || {
        let radios = Outcome::ALL
            .into_iter()
            .map(|o| {
                view! {
                    <label class="inline">
                        <input type="radio" name=group.clone() value=o.as_str()
                            prop:checked=move || outcome.get() == Some(o)
                            on:change=move |_| {
                                outcome.set(Some(o));
                                errors.update(|e| {
                                    e.outcome = None;
                                    e.amount = None;
                                });
                            }/>
                        {o.label()}
                    </label>
                }
            })
            .collect_view();
        let outcome_described = outcome_err.clone();
        // The amount's field comes and goes with "Partial refund".
        let (amount_id, amount_err, currency) =
            (amount_id.clone(), amount_err.clone(), currency.clone());
        view! {
            <fieldset class="settle-outcome"
                aria-describedby=move || errors.with(|e| e.outcome.is_some()).then(|| outcome_described.clone())>
                <legend>"Outcome"</legend>
                {radios}
            </fieldset>
            <p class="error" id=outcome_err.clone() hidden=move || errors.with(|e| e.outcome.is_none())>
                {move || errors.with(|e| e.outcome.clone())}
            </p>
            <Show when=move || outcome.get() == Some(Outcome::PartialRefund)>
                <label for=amount_id.clone()>{format!("Refund amount ({currency})")}</label>
                <input id=amount_id.clone() class="amount" type="text" inputmode="decimal" placeholder="45.00"
                    autocomplete="off"
                    aria-invalid=move || errors.with(|e| e.amount.is_some()).to_string()
                    aria-describedby=amount_err.clone()
                    prop:value=move || amount.get()
                    on:input=move |ev| {
                        amount.set(event_target_value(&ev));
                        if errors.with_untracked(|e| e.amount.is_some()) {
                            errors.update(|e| e.amount = None);
                        }
                    }/>
                <p class="error" id=amount_err.clone() hidden=move || errors.with(|e| e.amount.is_none())>
                    {move || errors.with(|e| e.amount.clone())}
                </p>
            </Show>
            <label for=note_id.clone()>"Note for both parties"</label>
            <textarea id=note_id.clone() rows="3" maxlength=Resolution::MAX.to_string() aria-required="true"
                aria-invalid=move || errors.with(|e| e.note.is_some()).to_string()
                aria-describedby=format!("{note_hint} {note_err}")
                prop:value=move || note.get()
                on:input=move |ev| {
                    note.set(event_target_value(&ev));
                    if errors.with_untracked(|e| e.note.is_some()) {
                        errors.update(|e| e.note = None);
                    }
                }></textarea>
            <p class="hint" id=note_hint.clone()>
                {move || format!("Shown in the chat with the outcome. {} of {} characters.", note.with(|n| n.chars().count()), Resolution::MAX)}
            </p>
            <p class="error" id=note_err.clone() hidden=move || errors.with(|e| e.note.is_none())>
                {move || errors.with(|e| e.note.clone())}
            </p>
            <div class="row">
                <button type="submit" class="small settle-next">"Continue"</button>
                <button type="button" class="small secondary" on:click=move |_| done.run(None)>"Cancel"</button>
            </div>
        }
    };
    view! {
        <form class="act-form settle-form" novalidate data-settle=key.clone() on:keydown=on_keydown on:submit=next
            aria-label="Resolve the dispute">
            <Show when=move || confirming.with(Option::is_some) fallback=form>
                <p class="act-question" id=question_id.clone()>{ask.clone()}</p>
                <blockquote class="act-reason">{move || note.get()}</blockquote>
                <div class="row">
                    <button type="button" class="small danger" aria-describedby=question_id.clone()
                        disabled=move || busy.get() on:click=confirm>
                        {move || if busy.get() { "Working…" } else { "Confirm" }}
                    </button>
                    <button type="button" class="small secondary settle-back" on:click=move |_| confirming.set(None)>"Back"</button>
                </div>
            </Show>
            <Show when=move || errors.with(|e| e.other.is_some())>
                <p class="error" role="alert">{move || errors.with(|e| e.other.clone())}</p>
            </Show>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_refund_needs_an_amount_and_every_settlement_a_note() {
        let e = settlement(Outcome::PartialRefund, "", "").expect_err("nothing typed");
        assert!(e.amount.is_some() && e.note.is_some() && e.outcome.is_none());
        let s = settlement(Outcome::PartialRefund, "45.00", "Half the call-out fee.")
            .expect("a partial refund with its amount and a note");
        assert_eq!(s.refund_cents, Some(4500));
        assert_eq!(s.outcome.as_deref(), Some("partial_refund"));
        assert!(s.parse().is_ok(), "what the server accepts");
        // An amount typed before switching to another outcome is not sent.
        let s = settlement(Outcome::FullRefund, "45.00", "All of it.").expect("a full refund");
        assert_eq!(s.refund_cents, None);
        assert!(s.parse().is_ok());
    }

    #[test]
    fn the_question_names_the_outcome_and_amount() {
        assert_eq!(
            question(Outcome::PartialRefund, Some(4500), "EUR"),
            "Resolve with Partial refund of 45.00 EUR?"
        );
        assert_eq!(
            question(Outcome::NoRefund, None, "EUR"),
            "Resolve with No refund?"
        );
    }

    #[test]
    fn refusals_go_next_to_their_field() {
        let refusal = |field: &str| AppError {
            code: crate::error::ErrorCode::BadRequest,
            message: "too long".into(),
            details: Some(serde_json::json!({ "field": field })),
        };
        assert_eq!(
            Errors::from_server(refusal("note")).note.as_deref(),
            Some("Too long.")
        );
        assert!(Errors::from_server(refusal("resolution")).note.is_some());
        assert!(Errors::from_server(refusal("refundCents")).amount.is_some());
        assert!(Errors::from_server(refusal("outcome")).outcome.is_some());
        let other = Errors::from_server(AppError::new(
            crate::error::ErrorCode::Conflict,
            "the dispute is already resolved",
        ));
        assert!(!other.any());
        assert_eq!(
            other.other.as_deref(),
            Some("The dispute is already resolved.")
        );
    }
}
