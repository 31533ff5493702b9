//! One message: sender (for others' messages), text, local time, and for the
//! user's own its delivery state (Sending… → Sent → Read, or Not sent with
//! Retry and Discard).

use super::clock::Clock;
use super::system_line::SystemLine;
use crate::chat::{Delivery, Line, use_chat};
use crate::components::MessageText;
use crate::model::{ChatId, MessageKind, Role, Seq, UserId};
use leptos::prelude::*;

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
    /// The furthest seq the others have read.
    others_read: Memo<Seq>,
    clock: Clock,
) -> impl IntoView {
    let chat = use_chat();
    let Line {
        message,
        delivery,
        error,
    } = line;
    let id = message.id;
    if message.kind == MessageKind::System {
        return view! { <SystemLine id event=message.event content=message.content/> }.into_any();
    }
    let mine = message.sender_id == my_id;
    let seq = message.seq;
    let state = move || state_of(delivery, seq, others_read.get());
    let created_at = message.created_at;
    let time = move || clock.time_of(created_at);
    let datetime = created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let sender = (!mine).then(|| {
        let lsm = (message.sender_role == Some(Role::Lsm)).then_some(" · LSM");
        view! { <span class="msg-sender">{message.sender_name.clone().unwrap_or_default()}{lsm}</span> }
    });
    let failed = (delivery == Delivery::Failed).then(|| {
        let client_id = message.client_id.clone().unwrap_or_default();
        let discard_id = client_id.clone();
        view! {
            <span class="msg-failed">
                {error}
                <button class="link" on:click=move |_| chat.retry(chat_id, client_id.clone())>"Retry"</button>
                <button class="link" on:click=move |_| chat.discard(chat_id, discard_id.clone())>"Discard"</button>
            </span>
        }
    });
    view! {
        <li class="msg" class:mine=mine class:theirs=!mine data-id=id data-state=move || state().0>
            {sender}
            <span class="msg-text"><MessageText text=message.content/></span>
            <span class="msg-meta">
                <time datetime=datetime>{time}</time>
                {mine.then(|| view! { <span class="msg-state">{move || state().1}</span> })}
            </span>
            {failed}
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
