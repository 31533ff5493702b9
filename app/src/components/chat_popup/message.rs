//! One message: sender (for others' messages), text, local time, and for the
//! user's own its delivery state (Sending… → Sent → Read, or Not sent with
//! Retry and Discard). "Read" only between two people; in a group chat
//! "Seen by …" under the messages names the readers instead.

use super::system_line::SystemLine;
use super::timeline::LineState;
use crate::chat::{Delivery, Line, use_chat};
use crate::components::MessageText;
use crate::components::clock::Clock;
use crate::model::{ChatId, MessageKind, Role, Seq, UserId};
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
) -> impl IntoView {
    let chat = use_chat();
    let key = line.key();
    let initial = LineState::of(&line);
    let message = line.message;
    if message.kind == MessageKind::System {
        return view! { <SystemLine id=message.id event=message.event.map(|e| *e) content=message.content/> }
            .into_any();
    }
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
    view! {
        <li class="msg" class:mine=mine class:theirs=!mine data-id=move || current.with(|c| c.id) data-state=move || state().0>
            {sender}
            <span class="msg-text"><MessageText text=message.content/></span>
            <span class="msg-meta">
                <time datetime=datetime>{time}</time>
                {mine.then(|| view! { <span class="msg-state">{move || state().1}</span> })}
            </span>
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
