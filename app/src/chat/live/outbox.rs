//! Optimistic sending. A message shows at once as "Sending…", joins the
//! outbox in localStorage (so it survives reloads and lost connections) and
//! goes out when connected: in order, one at a time, each after the
//! previous one's ack. Resends are safe: the server de-duplicates by client
//! id. What happens after each answer is `outgoing::after_send`: only a
//! definite refusal stops retrying, and then the message stays in the
//! outbox as "Not sent" (text kept across reloads) until the user retries
//! or discards it.

use super::connection::connected;
use super::{ACK_TIMEOUT_MS, backup, presence, runtime, threads};
use crate::chat::outgoing::{self, Outgoing, SendOutcome, after_send, retry_delay_ms};
use crate::chat::{ChatContext, Delivery};
use crate::model::{ChatId, Me, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Shows what was unsent before the reload: queued ones as "Sending…",
/// refused ones as "Not sent" with their reason.
pub fn show_queued(ctx: ChatContext, me: &Me) {
    for o in backup::load_outbox(me.id) {
        ctx.threads.update(|t| {
            let th = t.entry(o.chat_id).or_default();
            th.push_pending(o.pending_message(me));
            if let Some(reason) = &o.failed {
                th.set_delivery(&o.client_id, Delivery::Failed, Some(reason.clone()));
            }
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
        failed: None,
    };
    ctx.threads.update(|t| {
        t.entry(chat)
            .or_default()
            .push_pending(out.pending_message(&me))
    });
    let mut outbox = backup::load_outbox(me.id);
    outbox.push(out);
    // The draft goes only once the message is safely in the outbox; if
    // storage refused it, the draft keeps the text for the next reload.
    if backup::save_outbox(me.id, &outbox) {
        ctx.drafts.update(|d| {
            d.remove(&chat);
        });
        super::save_drafts(ctx);
    }
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
    let again = Outgoing {
        chat_id: chat,
        client_id,
        content: line.message.content,
        created_at: line.message.created_at,
        failed: None,
    };
    if outgoing::requeue(&mut outbox, again) {
        backup::save_outbox(me.id, &outbox);
    }
    flush(ctx);
}

/// Forgets a "Not sent" message (the user pressed Discard).
pub fn discard(ctx: ChatContext, chat: ChatId, client_id: String) {
    let Some(me) = me_of(ctx) else { return };
    remove(me, &client_id);
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.remove_pending(&client_id);
        }
    });
}

fn me_of(ctx: ChatContext) -> Option<UserId> {
    ctx.me().map(|m| m.id)
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

fn mark_failed(ctx: ChatContext, me: UserId, next: &Outgoing, reason: String) {
    let mut outbox = backup::load_outbox(me);
    outgoing::mark_failed(&mut outbox, &next.client_id, &reason);
    backup::save_outbox(me, &outbox);
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&next.chat_id) {
            th.set_delivery(&next.client_id, Delivery::Failed, Some(reason));
        }
    });
}

/// Sends the first queued message, if connected and nothing is in flight;
/// its answer sends the next.
pub fn flush(ctx: ChatContext) {
    let Some(me) = me_of(ctx) else {
        return;
    };
    let Some(s) = connected(ctx) else { return };
    let Some(next) = outgoing::next_to_send(&backup::load_outbox(me)).cloned() else {
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
                // Not allowed or invalid: kept as "Not sent" for the user
                // to retry or discard; the rest of the queue goes on.
                mark_failed(ctx, me, &next, reason);
                flush(ctx);
            }
            SendOutcome::TryAgain => {
                // Still first in line ("Sending…"): the same message goes
                // again after the back-off, or sooner on a reconnect.
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
            // Stays queued (and "Sending…") until the next connect.
            SendOutcome::Queued => {}
        }
    });
}
