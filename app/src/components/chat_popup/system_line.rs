//! A system line, rendered from its typed event: the product's words here,
//! and what people typed (names, job titles, reasons, settlements) each in
//! an element of its own. Typed text is quoted and boxed, so nothing typed
//! into a reason can look like the product speaking.

use crate::components::MessageText;
use crate::components::disputes::outcome_words;
use crate::model::{MessageId, SystemEvent};
use leptos::prelude::*;

/// Someone's name, as they typed it.
#[component]
fn Who(name: String) -> impl IntoView {
    view! { <b class="sys-who">{name}</b> }
}

/// A longer text someone typed (a reason, a settlement), quoted.
#[component]
fn Typed(text: String) -> impl IntoView {
    view! { <blockquote class="sys-typed"><MessageText text/></blockquote> }
}

#[component]
pub fn SystemLine(id: MessageId, event: Option<SystemEvent>, content: String) -> impl IntoView {
    let warning = matches!(event, Some(SystemEvent::Warning { .. }));
    let body = match event {
        Some(SystemEvent::JobBooked { title }) => view! {
            <span>"Job booked: "</span><q class="sys-title">{title}</q>
        }
        .into_any(),
        Some(SystemEvent::DisputeOpened {
            raised_by_name,
            lsm_name,
            reason,
            ..
        }) => view! {
            <span>
                <Who name=raised_by_name/>" opened a dispute and added "<Who name=lsm_name/>
                " (local service manager). Reason:"
            </span>
            <Typed text=reason/>
        }
        .into_any(),
        Some(SystemEvent::DisputeResolved {
            lsm_name,
            resolution,
            outcome,
            refund_cents,
            currency,
            ..
        }) => {
            // "…: Partial refund of 45.00 EUR." (older lines and "Other":
            // the note alone says what was decided).
            let settled = outcome
                .and_then(|o| outcome_words(o, refund_cents, currency.as_deref()))
                .map(|w| view! { " "<span class="sys-outcome">{format!("{w}.")}</span> });
            view! {
                <span><Who name=lsm_name/>" resolved the dispute:"{settled}</span>
                <Typed text=resolution/>
            }
            .into_any()
        }
        Some(SystemEvent::DisputeReassigned {
            from_name, to_name, ..
        }) => view! {
            <span>
                <Who name=to_name/>" (local service manager) took over the dispute from "
                <Who name=from_name/>
            </span>
        }
        .into_any(),
        Some(SystemEvent::Warning {
            user_name,
            lsm_name,
            reason,
            ..
        }) => view! {
            <span>
                <Who name=lsm_name/>" (local service manager) warned "<Who name=user_name/>
                " to keep to the platform's rules:"
            </span>
            <Typed text=reason/>
        }
        .into_any(),
        Some(SystemEvent::JobStatusChanged {
            status, by_name, ..
        }) => view! {
            <span><Who name=by_name/>{format!(" {}", status.step_words())}</span>
        }
        .into_any(),
        Some(SystemEvent::Note { text }) => view! { <Typed text/> }.into_any(),
        // A line from a server older than typed lines.
        None => view! { <MessageText text=content/> }.into_any(),
    };
    view! { <li class="msg system" class:warning=warning data-id=id>{body}</li> }
}
