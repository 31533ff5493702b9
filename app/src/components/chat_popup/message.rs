//! One message: sender (for others' messages), text, local time, and for the
//! user's own its delivery state (Sending… → Sent → Read, or Not sent with
//! Retry and Discard). "Read" only between two people; in a group chat
//! "Seen by …" under the messages names the readers instead.
//!
//! An edited message says "edited" by its time; a deleted one keeps its
//! place and time as "This message was deleted". The user's own offer Edit
//! (within the server's edit window) and Delete (`revise`); the LSM of a
//! dispute reads every version of a changed one (`versions`).

use super::attachments::{Files, Uploads};
use super::report::{RECEIVED, ReportForm, Reported};
use super::revise::{Actions, ConfirmDelete, EditForm, Revise};
use super::system_line::SystemLine;
use super::timeline::{self, LineState};
use super::versions::Versions;
use crate::chat::{Delivery, Line, use_chat};
use crate::components::MessageText;
use crate::components::clock::Clock;
use crate::model::{ChatId, MessageKind, Role, Seq, UserId};
use leptos::html;
use leptos::prelude::*;
use std::collections::HashMap;

/// The `data-state` test hook and the words shown for it.
fn state_of(delivery: Delivery, seq: Seq, read_up_to: Seq) -> (&'static str, &'static str) {
    match delivery {
        Delivery::Sending => ("sending", "Sending…"),
        Delivery::Failed => ("failed", "Not sent"),
        Delivery::Sent if seq > 0 && read_up_to >= seq => ("read", "Read"),
        Delivery::Sent => ("sent", "Sent"),
    }
}

#[component]
pub fn MessageItem(
    chat_id: ChatId,
    line: Line,
    my_id: Option<UserId>,
    /// Own messages up to this seq say "Read" (see
    /// `Thread::read_receipt_through`).
    receipt: Memo<Seq>,
    /// Every line's current state by key: the row stays, its state moves.
    states: Memo<HashMap<String, LineState>>,
    clock: Clock,
    /// The user may still write here (not an LSM who left): their own
    /// messages may be edited and deleted.
    writable: Memo<bool>,
) -> impl IntoView {
    let chat = use_chat();
    let key = line.key();
    let initial = LineState::of(&line);
    let message = line.message;
    if message.kind == MessageKind::System {
        return view! { <SystemLine id=message.id event=message.event.map(|e| *e) content=message.content/> }
            .into_any();
    }
    let text_id = format!("text-{chat_id}-{key}");
    let described_by = text_id.clone();
    let current = Memo::new(move |_| {
        states
            .with(|m| m.get(&key).cloned())
            .unwrap_or_else(|| initial.clone())
    });
    let mine = message.sender_id == my_id;
    let state = move || current.with(|c| state_of(c.delivery, c.seq, receipt.get()));
    let time = move || clock.time_of(current.with(|c| c.created_at));
    let datetime = move || {
        current.with(|c| {
            c.created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    let sender = (!mine).then(|| {
        let lsm = (message.sender_role == Some(Role::Lsm)).then_some(" · LSM");
        view! { <span class="msg-sender">{message.sender_name.clone().unwrap_or_default()}{lsm}</span> }
    });
    let client_id = message.client_id.clone().unwrap_or_default();
    let failed = move || current.with(|c| c.delivery == Delivery::Failed);
    let content = Memo::new(move |_| current.with(|c| c.content.clone()));
    let deleted = Memo::new(move |_| current.with(LineState::is_deleted));
    // Deleted by a moderator rather than by its sender.
    let hidden = Memo::new(move |_| current.with(LineState::is_hidden));
    let edited_at = Memo::new(move |_| current.with(LineState::edited_at));
    let files = Memo::new(move |_| current.with(|c| c.attachments.clone()));
    let going_out = Memo::new(move |_| mine && current.with(|c| c.id == 0));
    let uploads_id = client_id.clone();

    let bubble = NodeRef::<html::Li>::new();
    let revise = Revise::new(bubble);
    // The user's own stored message, not deleted, in a chat they still
    // write in, once the browser has taken over: Delete at any time, Edit
    // while the server's edit window is open (by this browser's clock; a
    // timer hides it when the window closes).
    let revisable = Memo::new(move |_| {
        mine && message.kind == MessageKind::User
            && clock.live()
            && writable.get()
            && current.with(|c| c.id > 0 && !c.is_deleted())
    });
    let within_window = RwSignal::new(false);
    if mine {
        let window = chat.settings.edit_window();
        Effect::new(move |_| {
            let sent_at = current.with(|c| c.created_at);
            let left = revisable
                .get()
                .then(|| timeline::edit_time_left(sent_at, chrono::Utc::now(), window))
                .flatten();
            within_window.set(left.is_some());
            #[cfg(feature = "hydrate")]
            if let Some(ms) = left.and_then(|l| u64::try_from(l.num_milliseconds()).ok())
                && ms < i32::MAX as u64
                && let Ok(timer) = set_timeout_with_handle(
                    move || {
                        within_window.try_set(false);
                    },
                    std::time::Duration::from_millis(ms),
                )
            {
                on_cleanup(move || timer.clear());
            }
        });
    }
    let editable = Signal::derive(move || within_window.get() && revisable.get());
    // Someone else's stored message, not deleted, once the browser has
    // taken over: "Report" opens the report form under it.
    let reportable = Memo::new(move |_| {
        !mine
            && message.kind == MessageKind::User
            && my_id.is_some()
            && clock.live()
            && current.with(|c| c.id > 0 && !c.is_deleted())
    });
    let reporting = RwSignal::new(false);
    let reported = RwSignal::new(false);
    let report_done = Callback::new(move |sent: bool| {
        reporting.try_set(false);
        if sent {
            reported.try_set(true);
        }
        if let Some(li) = bubble.try_get_untracked().flatten() {
            let _ = li.focus();
        }
    });
    let report_described_by = text_id.clone();
    // An LSM reads every version of a changed message, and what was
    // written before contact details were hidden.
    let lsm = chat.me().is_some_and(|m| m.role == Role::Lsm);
    let masked = Memo::new(move |_| current.with(|c| c.masked));
    let changed = move || deleted.get() || edited_at.get().is_some() || masked.get();
    // The sender is told once, by the first of their messages the server
    // masked (an effect: only in the browser, after hydration).
    let masking_notice = RwSignal::new(false);
    if mine {
        Effect::new(move |_| {
            if masked.get() && !masking_notice.get_untracked() && chat.take_masking_notice() {
                masking_notice.set(true);
            }
        });
    }

    view! {
        <li class="msg" class:mine=mine class:theirs=!mine class:deleted=move || deleted.get()
            class:editing=move || revise.editing.get()
            node_ref=bubble tabindex="-1"
            data-id=move || current.with(|c| c.id) data-state=move || state().0>
            {sender}
            <Show
                when=move || !revise.editing.get()
                fallback=move || view! { <EditForm chat_id current revise/> }
            >
                {
                    let text_id = text_id.clone();
                    move || if hidden.get() {
                        view! { <span class="msg-text msg-deleted msg-removed">"Removed by a moderator"</span> }.into_any()
                    } else if deleted.get() {
                        view! { <span class="msg-text msg-deleted">"This message was deleted"</span> }.into_any()
                    } else if content.with(|c| c.trim().is_empty()) {
                        // Files alone: no empty line of text.
                        ().into_any()
                    } else {
                        view! { <span class="msg-text" id=text_id.clone()><MessageText text=content.get()/></span> }.into_any()
                    }
                }
            </Show>
            <Files files/>
            <Show when=move || going_out.get()>
                <Uploads chat_id client_id=uploads_id.clone()/>
            </Show>
            <span class="msg-meta">
                <Show when=move || revisable.get() && !revise.editing.get() && !revise.confirming.get()>
                    <Actions revise current editable text_id=described_by.clone()/>
                </Show>
                <Show when=move || reportable.get() && !reporting.get()>
                    <span class="msg-actions" aria-live="off">
                        <button type="button" class="link" aria-describedby=report_described_by.clone()
                            on:click=move |_| { reported.set(false); reporting.set(true); }>"Report"</button>
                    </span>
                </Show>
                {move || edited_at.get().map(|at| {
                    let title = format!("Edited at {}", clock.time_of(at));
                    view! { <span class="msg-edited" title=title>"edited"</span> }
                })}
                <time datetime=datetime>{time}</time>
                {mine.then(|| view! { <span class="msg-state">{move || state().1}</span> })}
            </span>
            <Show when=move || revise.confirming.get() && revisable.get()>
                <ConfirmDelete chat_id current revise/>
            </Show>
            <Show when=move || reporting.get() && reportable.get()>
                <ReportForm chat_id about=Reported::Message(current.with_untracked(|c| c.id)) done=report_done/>
            </Show>
            <Show when=move || reported.get()>
                <p class="msg-note msg-reported" role="status">{RECEIVED}</p>
            </Show>
            <Show when=move || masking_notice.get()>
                <p class="msg-note" role="note">
                    "Phone numbers, emails and links are hidden in this chat. Keep talking and paying here: that is what keeps you both covered if something goes wrong."
                </p>
            </Show>
            <Show when=move || revise.error().is_some()>
                <p class="msg-error" role="alert">{move || revise.error()}</p>
            </Show>
            {lsm.then(|| view! {
                <Show when=move || changed() && clock.live()>
                    <Versions chat_id current clock/>
                </Show>
            })}
            <Show when=failed>
                {
                    let retry_id = client_id.clone();
                    let discard_id = client_id.clone();
                    view! {
                        <span class="msg-failed">
                            {move || current.with(|c| c.error.clone())}
                            <button class="link" on:click=move |_| chat.retry(chat_id, retry_id.clone())>"Retry"</button>
                            <button class="link" on:click=move |_| chat.discard(chat_id, discard_id.clone())>"Discard"</button>
                        </span>
                    }
                }
            </Show>
        </li>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_states() {
        assert_eq!(state_of(Delivery::Sending, 0, 9).0, "sending");
        assert_eq!(state_of(Delivery::Failed, 0, 9), ("failed", "Not sent"));
        assert_eq!(state_of(Delivery::Sent, 5, 4), ("sent", "Sent"));
        assert_eq!(state_of(Delivery::Sent, 5, 5), ("read", "Read"));
    }
}
