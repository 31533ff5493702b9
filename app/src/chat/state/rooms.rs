//! A chat's messages as they reach the page: joining its room with a
//! catch-up of what was missed, live messages in seq order, reads, pages of
//! history (newest, older, those that fill a gap) and the local cache. The
//! merge rules themselves (never twice, never out of order, never a hole)
//! are `chat::thread`'s.

use super::msg::{Call, Effect, Env, Msg, PageFor};
use super::store::State;
use super::{chat_list, desktop};
use crate::chat::outgoing::{JoinRetry, RequestFailure, after_join_failure, retry_delay_ms};
use crate::chat::{Thread, typing};
use crate::error::AppError;
use crate::model::{ChatId, Message, MessageKind, MessagePage, PageRequest, Seq};
use crate::protocol::JoinReply;

/// Messages per history page.
pub const PAGE: i64 = 50;

/// Wait before asking again for a gap whose fetch failed for now.
pub const GAP_RETRY_MS: u32 = 3_000;

/// Enters the chat's room. When history is loaded, the join asks for what
/// came after the newest seq held; when it is not, the newest page is read
/// only after the join's ack. Either way nothing falls in between: whatever
/// is stored after the join arrives as `new_message`, whatever before is in
/// the catch-up or the page, duplicates merge by id, and a message that
/// still went missing (a lost event) shows as a gap and is fetched.
pub fn join(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId, attempt: u32) {
    if s.has_left(chat) {
        // A chat the user left has no live room: its transcript is read
        // over HTTP (the server caps it where they left).
        if !s.is_loaded(chat) {
            load_latest(fx, chat);
        }
        return;
    }
    if !env.connected {
        // The (re)connect joins every open chat.
        return;
    }
    let after = s
        .threads
        .get(&chat)
        .filter(|th| th.loaded)
        .map(|th| th.last_seq().unwrap_or(0));
    fx.push(Effect::Join {
        chat,
        after,
        attempt,
    });
}

/// After a (re)connect, or to resync: every open chat's room again.
pub fn rejoin_open(s: &mut State, env: &Env, fx: &mut Vec<Effect>) {
    let open: Vec<ChatId> = s.open.iter().map(|o| o.chat_id).collect();
    for chat in open {
        join(s, env, fx, chat, 0);
    }
}

/// The join's ack (or why there was none).
pub fn joined(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat, after, attempt): (ChatId, Option<Seq>, u32),
    result: Result<JoinReply, RequestFailure>,
) {
    match result {
        Ok(reply) => {
            on_joined(s, env, fx, chat, reply);
            if after.is_none() {
                load_latest(fx, chat);
            }
        }
        Err(failure) => match after_join_failure(failure, env.connected) {
            // Refused because the user left it (the list said otherwise
            // when the join went out): show the transcript instead.
            JoinRetry::GiveUp(_) if s.has_left(chat) => join(s, env, fx, chat, attempt),
            JoinRetry::GiveUp(reason) => s.toast = Some(reason),
            // Refused for now (server trouble, rate limit) or unanswered on
            // a live connection: the chat would otherwise sit without live
            // messages until the next reconnect.
            JoinRetry::TryAgain => fx.push(Effect::later(
                retry_delay_ms(attempt),
                Msg::RetryJoin {
                    chat,
                    attempt: attempt.saturating_add(1),
                },
            )),
            // The connection dropped: the reconnect joins every open chat.
            JoinRetry::OnReconnect => {}
        },
    }
}

fn on_joined(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId, reply: JoinReply) {
    s.note_online(reply.presence.iter().map(|p| (p.user_id, p.online)));
    let th = s.threads.entry(chat).or_default();
    for p in &reply.presence {
        th.note_read(p.user_id, p.last_read_seq);
    }
    let Some(missed) = reply.messages else { return };
    if reply.has_more == Some(true) {
        // More than one catch-up page was missed: reload the latest (we
        // are in the room, so nothing newer can slip past the page).
        th.reset_history();
        load_latest(fx, chat);
        return;
    }
    // Also asks again for a gap whose fetch failed while disconnected.
    on_messages(s, env, fx, chat, missed);
}

/// Stored messages of one chat (live, the ack of the user's own, or a
/// join's catch-up): each shown once, in seq order; then `arrived` for
/// those new to the thread. Kept even before the thread's first page
/// arrives (a message may land between the join and the history read).
pub fn on_messages(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    chat: ChatId,
    messages: Vec<Message>,
) {
    let th = s.threads.entry(chat).or_default();
    let fresh: Vec<Message> = messages
        .into_iter()
        .filter(|m| th.merge(m.clone()))
        .collect();
    arrived(s, env, fx, chat, &fresh);
}

/// Messages new to the chat's thread (live, caught up or filling a gap):
/// their chat moves up the list (counted unread unless in view, or the
/// user's own), they are read at once when the window is in view, and a
/// gap they reveal is fetched. An edit or deletion is no new message: it
/// is not counted, announced or read, and moves nothing up; only the
/// list's preview follows it.
fn arrived(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId, fresh: &[Message]) {
    if fresh.is_empty() {
        return;
    }
    let me = s.me_id();
    let visible = s.is_visible(env, chat);
    let mut from_others = false;
    for m in fresh {
        if m.kind.is_change() {
            chat_list::revise(s, fx, m);
            continue;
        }
        let mine = m.sender_id.is_some() && m.sender_id == me;
        if !mine {
            from_others = true;
            // An open window's message list is a live log that reads the
            // message out itself: announcing it here too would say it twice.
            if !visible && let Some(name) = &m.sender_name {
                s.announcement = format!(
                    "New message from {name}: {}",
                    crate::chat::attachments::text_of(m)
                );
            }
            if let Some(sender) = m.sender_id {
                typing::stopped(&mut s.typing, chat, sender);
            }
            desktop::message(s, env, fx, m);
        }
        // System lines are not counted unread (nor do they ring the bell).
        let counts = !mine && !visible && m.kind == MessageKind::User;
        chat_list::bump(s, fx, m, counts);
    }
    save_cache(s, fx, chat);
    if from_others {
        mark_read_latest(s, env, fx, chat);
    }
    fill_gaps(s, fx, chat);
}

/// The user sees the chat's newest message: mark it read. Only what the
/// window shows counts, never a message beyond a gap.
pub fn mark_read_latest(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId) {
    if !s.is_visible(env, chat) {
        return;
    }
    let Some(last) = s
        .threads
        .get(&chat)
        .and_then(Thread::newest_shown)
        .map(|m| m.id)
    else {
        return;
    };
    chat_list::clear_unread(s, chat);
    if env.connected {
        fx.push(Effect::MarkRead {
            chat,
            message: last,
        });
    }
}

/// The local cache keeps each chat's latest stored messages.
fn save_cache(s: &State, fx: &mut Vec<Effect>, chat: ChatId) {
    let stored = s.threads.get(&chat).map(Thread::stored).unwrap_or_default();
    if !stored.is_empty() {
        fx.push(Effect::SaveCache(chat, stored));
    }
}

/// What the cache had: shown at once, until the server's pages come.
pub fn cache_loaded(s: &mut State, chat: ChatId, cached: Vec<Message>) {
    let th = s.threads.entry(chat).or_default();
    for m in cached {
        th.merge(m);
    }
}

fn page_call(chat: ChatId, purpose: PageFor) -> Effect {
    let (before_seq, after_seq) = match purpose {
        PageFor::Latest => (None, None),
        PageFor::Older(before) => (Some(before), None),
        PageFor::Gap(after) => (None, Some(after)),
    };
    let page = PageRequest {
        before_seq,
        after_seq,
        limit: Some(PAGE),
        ..PageRequest::default()
    };
    Effect::Call(Call::Messages {
        chat,
        page,
        purpose,
    })
}

/// The newest page: the thread counts as loaded from its answer on.
pub fn load_latest(fx: &mut Vec<Effect>, chat: ChatId) {
    fx.push(page_call(chat, PageFor::Latest));
}

/// The page before the oldest message held (scrolling up), one at a time.
pub fn load_older(s: &mut State, fx: &mut Vec<Effect>, chat: ChatId) {
    let Some(th) = s.threads.get_mut(&chat) else {
        return;
    };
    let Some(first) = th.first_seq() else { return };
    if th.loading_older || !th.has_older {
        return;
    }
    th.loading_older = true;
    fx.push(page_call(chat, PageFor::Older(first)));
}

/// Fetches a gap in an open chat's thread at once: what came after the
/// highest seq it holds without a gap, page by page until none is left
/// (`Thread::start_gap_fetch` says where, and that no fetch is in flight).
/// Closed chats wait for their re-join's catch-up.
pub fn fill_gaps(s: &mut State, fx: &mut Vec<Effect>, chat: ChatId) {
    if !s.is_open(chat) {
        return;
    }
    if let Some(after) = s.threads.get_mut(&chat).and_then(Thread::start_gap_fetch) {
        fx.push(page_call(chat, PageFor::Gap(after)));
    }
}

/// A page of history answered.
pub fn page_answered(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat, purpose): (ChatId, PageFor),
    result: Result<MessagePage, AppError>,
) {
    match (purpose, result) {
        (PageFor::Latest, Ok(page)) => {
            s.threads.entry(chat).or_default().merge_latest(page);
            save_cache(s, fx, chat);
            mark_read_latest(s, env, fx, chat);
            // A live message beyond the page may have left a gap.
            fill_gaps(s, fx, chat);
        }
        (PageFor::Older(_), Ok(page)) => {
            if let Some(th) = s.threads.get_mut(&chat) {
                th.merge_older(page);
            }
        }
        (PageFor::Gap(after), Ok(page)) => {
            // What the page brings is treated as arrived.
            let fresh = s
                .threads
                .get_mut(&chat)
                .map(|th| th.merge_gap(after, page))
                .unwrap_or_default();
            arrived(s, env, fx, chat, &fresh);
            // The next page, or a gap opened meanwhile, if any.
            fill_gaps(s, fx, chat);
        }
        (PageFor::Latest, Err(e)) => s.report(fx, &e),
        (PageFor::Older(_), Err(e)) => {
            if let Some(th) = s.threads.get_mut(&chat) {
                th.loading_older = false;
            }
            s.report(fx, &e);
        }
        (PageFor::Gap(after), Err(e)) => {
            // A refusal (not in the chat any more…) will not change by
            // asking again: the window then shows what it has, hole and
            // all, rather than hide it for good.
            let for_good = e.code.is_definite();
            if let Some(th) = s.threads.get_mut(&chat) {
                th.gap_fetch_failed(after, for_good);
            }
            if for_good {
                s.report(fx, &e);
            } else {
                // Unreachable or busy for now: asked again shortly and
                // quietly (the status badge tells about the connection; a
                // re-join after a reconnect asks too).
                fx.push(Effect::later(GAP_RETRY_MS, Msg::FillGaps(chat)));
            }
        }
    }
}
