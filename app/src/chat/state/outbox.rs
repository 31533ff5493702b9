//! Optimistic sending. A message shows at once as "Sending…", joins the
//! outbox (each change also made to the copy in localStorage, which other
//! tabs of the same user share, so it survives reloads and lost
//! connections) and goes out when connected: in order, one at a time, each
//! after the previous one's ack. Resends are safe: the server de-duplicates
//! by client id. What happens after each answer is `outgoing::after_send`:
//! only a definite refusal stops retrying, and then the message stays in
//! the outbox as "Not sent" (text kept across reloads) until the user
//! retries or discards it.

use super::msg::{Effect, Env, Msg};
use super::rooms;
use super::store::State;
use crate::chat::Delivery;
use crate::chat::outgoing::{
    self, FileUpload, OutboxChange, Outgoing, RequestFailure, SendOutcome, UploadState, after_send,
    retry_delay_ms,
};
use crate::model::ChatId;
use crate::protocol::{SendReply, SetTyping};

/// Changes the outbox here and, through the runtime, in localStorage.
pub fn change(s: &mut State, fx: &mut Vec<Effect>, c: OutboxChange) {
    if c.apply(&mut s.outbox) {
        fx.push(Effect::Outbox(c));
    }
}

/// Shows what was unsent before the reload: queued ones as "Sending…",
/// refused ones as "Not sent" with their reason.
pub fn show_queued(s: &mut State, outbox: Vec<Outgoing>) {
    if let Some(me) = &s.me {
        for o in &outbox {
            let th = s.threads.entry(o.chat_id).or_default();
            th.push_pending(o.pending_message(me));
            if let Some(reason) = &o.failed {
                th.set_delivery(&o.client_id, Delivery::Failed, Some(reason.clone()));
            }
        }
    }
    s.outbox = outbox;
}

pub fn send(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    chat: ChatId,
    text: String,
    client_id: String,
    files: Vec<FileUpload>,
) {
    let Some(me) = &s.me else { return };
    let out = Outgoing {
        chat_id: chat,
        client_id,
        content: text,
        created_at: env.now,
        failed: None,
        files,
    };
    s.threads
        .entry(chat)
        .or_default()
        .push_pending(out.pending_message(me));
    // The draft goes once the outbox is safely stored (`stored`).
    change(s, fx, OutboxChange::Push(out));
    set_typing(s, env, fx, chat, false);
    flush(s, env, fx);
}

/// localStorage took (or refused) a change. The draft of a message just
/// queued goes only once it is stored; if storage refused it, the draft
/// keeps the text for the next reload.
pub fn stored(s: &mut State, fx: &mut Vec<Effect>, saved: bool, c: OutboxChange) {
    if let OutboxChange::Push(o) = c
        && saved
        && s.drafts.remove(&o.chat_id).is_some()
    {
        fx.push(Effect::SaveDrafts(s.drafts.clone()));
    }
}

/// Sends a "Not sent" message again (the user pressed Retry).
pub fn retry(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId, client_id: String) {
    let Some(th) = s.threads.get_mut(&chat) else {
        return;
    };
    let Some(line) = th.pending(&client_id).cloned() else {
        return;
    };
    th.set_delivery(&client_id, Delivery::Sending, None);
    // Refused files are tried again too (a quota may have passed); the
    // user removes the ones they give up on.
    let files: Vec<FileUpload> = s
        .outbox
        .iter()
        .find(|o| o.client_id == client_id)
        .map(|o| o.files.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|f| match f.state {
            UploadState::Refused(_) => FileUpload {
                state: UploadState::Waiting,
                ..f
            },
            _ => f,
        })
        .collect();
    let again = Outgoing {
        chat_id: chat,
        client_id: client_id.clone(),
        content: line.message.content,
        created_at: line.message.created_at,
        failed: None,
        files: files.clone(),
    };
    change(s, fx, OutboxChange::Requeue(again));
    change(s, fx, OutboxChange::Files { client_id, files });
    flush(s, env, fx);
}

/// Forgets a "Not sent" message (the user pressed Discard).
pub fn discard(s: &mut State, fx: &mut Vec<Effect>, chat: ChatId, client_id: String) {
    if let Some(th) = s.threads.get_mut(&chat) {
        th.remove_pending(&client_id);
    }
    forget_files(s, fx, &client_id);
    change(s, fx, OutboxChange::Remove(client_id));
}

/// The bytes of a message's files are no longer needed.
fn forget_files(s: &State, fx: &mut Vec<Effect>, client_id: &str) {
    let keys: Vec<String> = s
        .outbox
        .iter()
        .filter(|o| o.client_id == client_id)
        .flat_map(Outgoing::file_keys)
        .collect();
    if !keys.is_empty() {
        fx.push(Effect::ForgetFiles(keys));
    }
}

/// The connection dropped: a send in flight is answered by the resend
/// after reconnecting.
pub fn connection_lost(s: &mut State) {
    s.flushing = false;
}

/// Sends the first queued message, if connected and nothing is in flight;
/// its answer sends the next.
pub fn flush(s: &mut State, env: &Env, fx: &mut Vec<Effect>) {
    if s.me.is_none() || !env.connected || s.flushing || s.uploading.is_some() {
        return;
    }
    if let Some(next) = outgoing::next_to_send(&s.outbox) {
        // Its files first, one at a time, each under its client id; the
        // send names them once all are stored.
        match next.waiting_file() {
            Some(f) => {
                s.uploading = Some(f.key.clone());
                fx.push(Effect::Upload {
                    chat: next.chat_id,
                    client_id: next.client_id.clone(),
                    key: f.key.clone(),
                    name: f.name.clone(),
                });
            }
            None => {
                fx.push(Effect::Send(next.clone()));
                s.flushing = true;
            }
        }
    }
}

/// The ack of a send (or why there was none).
pub fn answered(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat, client_id): (ChatId, String),
    result: Result<SendReply, RequestFailure>,
) {
    s.flushing = false;
    let outcome = after_send(result, env.connected);
    if outcome != SendOutcome::TryAgain {
        s.send_attempts = 0;
    }
    match outcome {
        SendOutcome::Stored(m) => {
            forget_files(s, fx, &client_id);
            change(s, fx, OutboxChange::Remove(client_id));
            rooms::on_messages(s, env, fx, m.chat_id, vec![m]);
            flush(s, env, fx);
        }
        SendOutcome::Refused(reason) => {
            // Not allowed or invalid: kept as "Not sent" for the user to
            // retry or discard; the rest of the queue goes on.
            if let Some(th) = s.threads.get_mut(&chat) {
                th.set_delivery(&client_id, Delivery::Failed, Some(reason.clone()));
            }
            change(s, fx, OutboxChange::Failed { client_id, reason });
            flush(s, env, fx);
        }
        SendOutcome::TryAgain => {
            // Still first in line ("Sending…"): the same message goes again
            // after the back-off, or sooner on a reconnect.
            let attempt = s.send_attempts;
            s.send_attempts += 1;
            fx.push(Effect::later(retry_delay_ms(attempt), Msg::FlushNow));
        }
        // Stays queued (and "Sending…") until the next connect.
        SendOutcome::Queued => {}
    }
}

/// Tells the others the user is (or stopped) typing, throttled.
pub fn set_typing(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId, is_typing: bool) {
    if env.connected && s.typing_sent.should_send(chat, is_typing, env.now_ms()) {
        fx.push(Effect::Typing(SetTyping {
            chat_id: chat,
            is_typing,
        }));
    }
}
