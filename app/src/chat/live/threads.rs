//! Chat windows and their messages: opening and closing, joining a chat's
//! room (with a catch-up of what was missed), live messages in seq order,
//! read markers.

use super::connection::connected;
use super::{ACK_TIMEOUT_MS, backup, chats, history, me_id, presence, socket::Socket};
use crate::chat::outgoing::{JoinRetry, after_join_failure, retry_delay_ms};
use crate::chat::{ChatContext, Thread, typing};
use crate::model::{ChatId, Message, MessageId, UserId};
use crate::protocol::{JoinChat, JoinReply, LeaveChat, MarkRead, NewMessage, ReadMarker};
use leptos::prelude::*;
use leptos::task::spawn_local;

pub fn listen(ctx: ChatContext, s: &Socket) {
    s.on(move |NewMessage(m)| on_new_message(ctx, m));
    s.on(move |r: ReadMarker| {
        ctx.threads
            .update(|t| t.entry(r.chat_id).or_default().note_read(r.user_id, r.seq));
    });
}

/// Opens the windows that were open before the reload.
pub fn restore_open(ctx: ChatContext, me: UserId) {
    // Saved newest first: opened oldest first, so the newest ends up first.
    for chat in backup::load_open(me).into_iter().rev() {
        open_chat(ctx, chat);
    }
}

/// Whether the user is looking at the chat: open, not minimised, and the
/// tab itself in view (a chat open in a background tab is not being read).
pub fn is_visible(ctx: ChatContext, chat: ChatId) -> bool {
    !tab_hidden()
        && ctx
            .open
            .with_untracked(|o| o.iter().any(|o| o.chat_id == chat && !o.minimized))
}

/// How often the open chats are resynced by seq while the tab is in view.
const RESYNC_EVERY_MS: u32 = 30_000;

/// The tab came back into view (or the window got focus): the open chats
/// are resynced by seq (a join with `afterSeq`: whatever a slow or lost
/// broadcast never brought arrives in its ack) and their newest messages
/// read, and the badges and bell follow. The same resync runs every
/// `RESYNC_EVERY_MS` while a chat is open and the tab in view, so the last
/// message of a conversation is never stuck unseen.
pub fn watch_visibility(ctx: ChatContext) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let Some(w) = web_sys::window() else { return };
    let Some(doc) = w.document() else { return };
    let back = Closure::<dyn FnMut()>::new(move || {
        if tab_hidden() {
            return;
        }
        rejoin_open(ctx);
        let open: Vec<ChatId> = ctx
            .open
            .with_untracked(|o| o.iter().map(|o| o.chat_id).collect());
        for chat in open {
            mark_read_latest(ctx, chat);
        }
    });
    let _ = doc.add_event_listener_with_callback("visibilitychange", back.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("focus", back.as_ref().unchecked_ref());
    // The page's lifetime: the listeners stay for as long as the page.
    back.forget();
    spawn_local(async move {
        loop {
            gloo_timers::future::TimeoutFuture::new(RESYNC_EVERY_MS).await;
            let any_open = ctx.open.try_with_untracked(|o| !o.is_empty());
            match any_open {
                // The page is gone.
                None => break,
                Some(true) if !tab_hidden() => rejoin_open(ctx),
                Some(_) => {}
            }
        }
    });
}

fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

fn persist_open(ctx: ChatContext) {
    if let Some(me) = me_id(ctx) {
        let ids: Vec<ChatId> = ctx
            .open
            .with_untracked(|o| o.iter().map(|o| o.chat_id).collect());
        backup::save_open(me, &ids);
    }
}

pub fn open_chat(ctx: ChatContext, chat: ChatId) {
    let max = crate::chat::max_open(crate::chat::small_screen());
    let evicted = ctx
        .open
        .try_update(|open| crate::chat::put_first(open, chat, max))
        .unwrap_or_default();
    // Windows that no longer fit are closed for good: out of their rooms.
    for gone in evicted {
        close_chat(ctx, gone);
    }
    persist_open(ctx);
    let fresh = ctx
        .threads
        .with_untracked(|t| !t.get(&chat).is_some_and(|th| th.loaded));
    if fresh {
        // Render at once from the local cache; the server fills in once
        // the room is joined (see `join`).
        history::restore_cache(ctx, chat);
    }
    // Not connected: the (re)connect joins every open chat.
    join(ctx, chat);
    chats::clear_unread(ctx, chat);
}

pub fn close_chat(ctx: ChatContext, chat: ChatId) {
    ctx.open.update(|open| open.retain(|o| o.chat_id != chat));
    persist_open(ctx);
    presence::set_typing(ctx, chat, false);
    if let Some(s) = connected(ctx) {
        s.request(&LeaveChat { chat_id: chat }, ACK_TIMEOUT_MS, |_| {});
    }
}

/// Whether the chat list says the user left this chat.
fn has_left(ctx: ChatContext, chat: ChatId) -> bool {
    // The live list once loaded, else the server-rendered one.
    untrack(|| ctx.chat(chat)).is_some_and(|c| c.left)
}

fn is_loaded(ctx: ChatContext, chat: ChatId) -> bool {
    ctx.threads
        .with_untracked(|t| t.get(&chat).is_some_and(|th| th.loaded))
}

/// A chat whose window is open came back (the user was brought back into
/// it, e.g. an LSM for a new dispute): enter its room again.
pub fn rejoin(ctx: ChatContext, chat: ChatId) {
    let open = ctx
        .open
        .with_untracked(|o| o.iter().any(|o| o.chat_id == chat));
    if open {
        join(ctx, chat);
    }
}

/// After a (re)connect: every open chat's room again.
pub fn rejoin_open(ctx: ChatContext) {
    for o in ctx.open.get_untracked() {
        join(ctx, o.chat_id);
    }
}

/// Enters the chat's room. When history is loaded, the join asks for what
/// came after the newest seq held; when it is not, the newest page is read
/// only after the join's ack. Either way nothing falls in between: whatever
/// is stored after the join arrives as `new_message`, whatever before is in
/// the catch-up or the page, duplicates merge by id, and a message that
/// still went missing (a lost event) shows as a gap and is fetched.
fn join(ctx: ChatContext, chat: ChatId) {
    join_attempt(ctx, chat, 0);
}

fn join_attempt(ctx: ChatContext, chat: ChatId, attempt: u32) {
    if has_left(ctx, chat) {
        // A chat the user left has no live room: its transcript is read
        // over HTTP (the server caps it where they left).
        if !is_loaded(ctx, chat) {
            history::load_latest(ctx, chat);
        }
        return;
    }
    let Some(s) = connected(ctx) else { return };
    let after = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .filter(|th| th.loaded)
            .map(|th| th.last_seq().unwrap_or(0))
    });
    let req = JoinChat {
        chat_id: chat,
        after_seq: after,
        after_message_id: None,
    };
    s.request(&req, ACK_TIMEOUT_MS, move |res| match res {
        Ok(reply) => {
            on_joined(ctx, chat, reply);
            if after.is_none() {
                history::load_latest(ctx, chat);
            }
        }
        Err(failure) => match after_join_failure(failure, connected(ctx).is_some()) {
            // Refused because the user left it (the list said otherwise
            // when the join went out): show the transcript instead.
            JoinRetry::GiveUp(_) if has_left(ctx, chat) => join_attempt(ctx, chat, attempt),
            JoinRetry::GiveUp(reason) => ctx.toast.set(Some(reason)),
            // Refused for now (server trouble, rate limit) or unanswered
            // on a live connection: the chat would otherwise sit without
            // live messages until the next reconnect.
            JoinRetry::TryAgain => {
                spawn_local(async move {
                    gloo_timers::future::TimeoutFuture::new(retry_delay_ms(attempt)).await;
                    let still_open = ctx
                        .open
                        .with_untracked(|open| open.iter().any(|o| o.chat_id == chat));
                    if still_open {
                        join_attempt(ctx, chat, attempt.saturating_add(1));
                    }
                });
            }
            // The connection dropped: the reconnect joins every open chat.
            JoinRetry::OnReconnect => {}
        },
    });
}

fn on_joined(ctx: ChatContext, chat: ChatId, reply: JoinReply) {
    presence::note_online(ctx, reply.presence.iter().map(|p| (p.user_id, p.online)));
    ctx.threads.update(|t| {
        let th = t.entry(chat).or_default();
        for p in &reply.presence {
            th.note_read(p.user_id, p.last_read_seq);
        }
    });
    let Some(missed) = reply.messages else { return };
    if reply.has_more == Some(true) {
        // More than one catch-up page was missed: reload the latest (we
        // are in the room, so nothing newer can slip past the page).
        ctx.threads.update(|t| {
            if let Some(th) = t.get_mut(&chat) {
                th.reset_history();
            }
        });
        history::load_latest(ctx, chat);
        return;
    }
    // Also asks again for a gap whose fetch failed while disconnected.
    on_messages(ctx, chat, missed);
}

/// A stored message pushed live, or the ack of the user's own.
pub fn on_new_message(ctx: ChatContext, m: Message) {
    on_messages(ctx, m.chat_id, vec![m]);
}

/// Stored messages of one chat (live, or a join's catch-up): each shown
/// once, in seq order; then `arrived` for those new to the thread.
fn on_messages(ctx: ChatContext, chat: ChatId, messages: Vec<Message>) {
    // Kept even before the thread's first page arrives (a message may
    // land between the join and the history read).
    let fresh = ctx
        .threads
        .try_update(|t| {
            let th = t.entry(chat).or_default();
            messages
                .into_iter()
                .filter(|m| th.merge(m.clone()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    arrived(ctx, chat, &fresh);
}

/// Messages new to the chat's thread (live, caught up or filling a gap):
/// their chat moves up the list (counted unread unless in view, or the
/// user's own), they are read at once when the window is in view, and a
/// gap they reveal is fetched.
pub fn arrived(ctx: ChatContext, chat: ChatId, fresh: &[Message]) {
    if fresh.is_empty() {
        return;
    }
    let me = me_id(ctx);
    let visible = is_visible(ctx, chat);
    let mut from_others = false;
    for m in fresh {
        let mine = m.sender_id.is_some() && m.sender_id == me;
        if !mine {
            from_others = true;
            // An open window's message list is a live log that reads the
            // message out itself: announcing it here too would say it twice.
            if !visible && let Some(name) = &m.sender_name {
                ctx.announcement
                    .set(format!("New message from {name}: {}", m.content));
            }
            if let Some(sender) = m.sender_id {
                ctx.typing.update(|map| typing::stopped(map, chat, sender));
            }
        }
        // System lines are not counted unread (nor do they ring the bell).
        let counts = !mine && !visible && m.kind == crate::model::MessageKind::User;
        chats::bump(ctx, m, counts);
    }
    history::save_cache(ctx, chat);
    if from_others {
        mark_read_latest(ctx, chat);
    }
    history::fill_gaps(ctx, chat);
}

/// The user sees the chat's newest message: mark it read. Only what the
/// window shows counts, never a message beyond a gap.
pub fn mark_read_latest(ctx: ChatContext, chat: ChatId) {
    if !is_visible(ctx, chat) {
        return;
    }
    if let Some(last) = ctx
        .threads
        .with_untracked(|t| t.get(&chat).and_then(Thread::newest_shown).map(|m| m.id))
    {
        mark_read(ctx, chat, last);
    }
}

fn mark_read(ctx: ChatContext, chat: ChatId, message_id: MessageId) {
    chats::clear_unread(ctx, chat);
    if let Some(s) = connected(ctx) {
        s.request(
            &MarkRead {
                chat_id: chat,
                message_id,
            },
            ACK_TIMEOUT_MS,
            |_| {},
        );
    }
}
