//! Optimistic sending. A message shows at once as "Sending…", joins the
//! outbox in localStorage (so it survives reloads and lost connections) and
//! goes out when connected: in order, one at a time, each after the
//! previous one's ack. Resends are safe: the server de-duplicates by client
//! id. What happens after each answer is `outgoing::after_send`.

use super::connection::connected;
use super::{ACK_TIMEOUT_MS, backup, presence, runtime, threads};
use crate::chat::outgoing::{Outgoing, SendOutcome, after_send, retry_delay_ms};
use crate::chat::{ChatContext, Delivery};
use crate::model::{ChatId, Me, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Shows what was unsent before the reload, as "Sending…".
pub fn show_queued(ctx: ChatContext, me: &Me) {
    for o in backup::load_outbox(me.id) {
        ctx.threads.update(|t| {
            t.entry(o.chat_id)
                .or_default()
                .push_pending(o.pending_message(me))
        });
    }
}

pub fn send(ctx: ChatContext, chat: ChatId, text: String) {
    let Some(me) = ctx.me() else { return };
    let out = Outgoing {
        chat_id: chat,
        client_id: uuid::Uuid::new_v4().to_string(),
        content: text,
        created_at: chrono::Utc::now(),
    };
    ctx.threads.update(|t| {
        t.entry(chat)
            .or_default()
            .push_pending(out.pending_message(&me))
    });
    let mut outbox = backup::load_outbox(me.id);
    outbox.push(out);
    backup::save_outbox(me.id, &outbox);
    presence::set_typing(ctx, chat, false);
    flush(ctx);
}

/// Sends a "Not sent" message again (the user pressed Retry).
pub fn retry(ctx: ChatContext, chat: ChatId, client_id: String) {
    let Some(me) = ctx.me() else { return };
    let line = ctx
        .threads
        .with_untracked(|t| t.get(&chat).and_then(|th| th.pending(&client_id).cloned()));
    let Some(line) = line else { return };
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.set_delivery(&client_id, Delivery::Sending, None);
        }
    });
    let mut outbox = backup::load_outbox(me.id);
    if !outbox.iter().any(|o| o.client_id == client_id) {
        outbox.push(Outgoing {
            chat_id: chat,
            client_id,
            content: line.message.content,
            created_at: line.message.created_at,
        });
        backup::save_outbox(me.id, &outbox);
    }
    flush(ctx);
}

/// The connection dropped: a send in flight is answered by the resend
/// after reconnecting.
pub fn connection_lost(ctx: ChatContext) {
    runtime(ctx, |r| r.flushing = false);
}

fn remove(me: UserId, client_id: &str) {
    let mut outbox = backup::load_outbox(me);
    outbox.retain(|o| o.client_id != client_id);
    backup::save_outbox(me, &outbox);
}

fn mark_failed(ctx: ChatContext, next: &Outgoing, reason: String) {
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&next.chat_id) {
            th.set_delivery(&next.client_id, Delivery::Failed, Some(reason));
        }
    });
}

/// Sends the first queued message, if connected and nothing is in flight;
/// its answer sends the next.
pub fn flush(ctx: ChatContext) {
    let Some(me) = ctx.me().map(|m| m.id) else {
        return;
    };
    let Some(s) = connected(ctx) else { return };
    let Some(next) = backup::load_outbox(me).into_iter().next() else {
        return;
    };
    let start = runtime(ctx, |r| !std::mem::replace(&mut r.flushing, true)).unwrap_or(false);
    if !start {
        return;
    }
    s.request(&next.request(), ACK_TIMEOUT_MS, move |res| {
        runtime(ctx, |r| r.flushing = false);
        let outcome = after_send(res, connected(ctx).is_some());
        if outcome != SendOutcome::TryAgain {
            runtime(ctx, |r| r.send_attempts = 0);
        }
        match outcome {
            SendOutcome::Stored(m) => {
                remove(me, &next.client_id);
                threads::on_new_message(ctx, m);
                flush(ctx);
            }
            SendOutcome::Refused(reason) => {
                // Not allowed or invalid: the user decides (Retry).
                remove(me, &next.client_id);
                mark_failed(ctx, &next, reason);
                flush(ctx);
            }
            SendOutcome::TryAgain => {
                let attempt = runtime(ctx, |r| {
                    r.send_attempts += 1;
                    r.send_attempts - 1
                })
                .unwrap_or(0);
                spawn_local(async move {
                    gloo_timers::future::TimeoutFuture::new(retry_delay_ms(attempt)).await;
                    flush(ctx);
                });
            }
            SendOutcome::NoAnswer => {
                remove(me, &next.client_id);
                mark_failed(ctx, &next, "No answer from the server".into());
            }
            // Stays queued (and "Sending…") until the next connect.
            SendOutcome::Queued => {}
        }
    });
}
