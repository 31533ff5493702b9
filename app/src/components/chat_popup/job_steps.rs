//! The job's status in a chat window, and the next steps the viewer may
//! take: the provider confirms, starts and completes the job; the customer
//! cancels before it starts (after a confirmation). Each step posts a
//! system line in the chat, which moves the status on for everyone.

use crate::chat::use_chat;
use crate::model::{ChatId, JobStatus, Role};
use leptos::prelude::*;

/// What a step's button says.
fn button_text(to: JobStatus) -> &'static str {
    match to {
        JobStatus::Confirmed => "Confirm booking",
        JobStatus::InProgress => "Start job",
        JobStatus::Completed => "Mark completed",
        JobStatus::Cancelled => "Cancel booking",
        JobStatus::Booked => "",
    }
}

#[component]
pub fn JobSteps(chat_id: ChatId) -> impl IntoView {
    let chat = use_chat();
    let my_role = chat.me().map(|m| m.role);
    let summary = Memo::new(move |_| chat.chat(chat_id).map(|s| (s.job_id, s.job_status)));
    let status = move || summary.get().map(|(_, s)| s).unwrap_or_default();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // Cancelling asks first: it cannot be undone.
    let confirming_cancel = RwSignal::new(false);
    let take = move |to: JobStatus| {
        let Some((job, _)) = summary.get_untracked() else {
            return;
        };
        busy.set(true);
        error.set(None);
        chat.change_job_status(job, to, move |res| {
            busy.set(false);
            confirming_cancel.set(false);
            if let Err(e) = res {
                error.set(Some(e.message));
            }
        });
    };
    let steps = move || {
        status()
            .next()
            .iter()
            .filter(|(_, owner)| Some(*owner) == my_role && my_role != Some(Role::Lsm))
            .map(|(to, _)| *to)
            .collect::<Vec<_>>()
    };
    view! {
        <div class="job-steps">
            <span class="pill pill-job" data-job-status=move || status().as_str()>
                <span class="sr-only">"Job status: "</span>{move || status().label()}
            </span>
            <For each=steps key=|to| *to let:to>
                {
                    let cancel = to == JobStatus::Cancelled;
                    view! {
                        <button type="button" class="small" class:secondary=cancel disabled=move || busy.get()
                            on:click=move |_| if cancel { confirming_cancel.set(true) } else { take(to) }>
                            {button_text(to)}
                        </button>
                    }
                }
            </For>
            <Show when=move || confirming_cancel.get()>
                <span class="job-cancel" role="group" aria-label="Cancel this booking?">
                    "Cancel this booking? This cannot be undone. "
                    <button type="button" class="small danger" disabled=move || busy.get()
                        on:click=move |_| take(JobStatus::Cancelled)>"Yes, cancel it"</button>
                    <button type="button" class="small secondary" on:click=move |_| confirming_cancel.set(false)>"Keep it"</button>
                </span>
            </Show>
            <Show when=move || error.get().is_some()>
                <p class="error" role="alert">{move || error.get()}</p>
            </Show>
        </div>
    }
}
