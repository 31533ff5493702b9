//! Pages of a chat's history from the server (`list_messages`, by seq):
//! the newest page, older pages, the pages that fill a gap; and the local
//! cache of each chat's latest messages that windows render from at once.

use super::{backup, me_id, report, threads};
use crate::api::{self, PageRequest};
use crate::chat::{ChatContext, Thread};
use crate::model::ChatId;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Messages per history page.
const PAGE: i64 = 50;

/// Wait before asking again for a gap whose fetch failed for now.
const GAP_RETRY_MS: u32 = 3_000;

/// Shows what the cache has for the chat.
pub fn restore_cache(ctx: ChatContext, chat: ChatId) {
    let Some(me) = me_id(ctx) else { return };
    let cached = backup::load_cache(me, chat);
    ctx.threads.update(|t| {
        let th = t.entry(chat).or_default();
        for m in cached {
            th.merge(m);
        }
    });
}

pub fn save_cache(ctx: ChatContext, chat: ChatId) {
    let Some(me) = me_id(ctx) else { return };
    let stored = ctx
        .threads
        .with_untracked(|t| t.get(&chat).map(|th| th.stored()).unwrap_or_default());
    if !stored.is_empty() {
        backup::save_cache(me, chat, &stored);
    }
}

/// The newest page: the thread is loaded from here on.
pub fn load_latest(ctx: ChatContext, chat: ChatId) {
    spawn_local(async move {
        let page = PageRequest {
            limit: Some(PAGE),
            ..PageRequest::default()
        };
        match api::list_messages(chat, page).await {
            Ok(page) => {
                ctx.threads
                    .update(|t| t.entry(chat).or_default().merge_latest(page));
                save_cache(ctx, chat);
                threads::mark_read_latest(ctx, chat);
                // A live message beyond the page may have left a gap.
                fill_gaps(ctx, chat);
            }
            Err(e) => report(ctx, &e),
        }
    });
}

/// The page before the oldest message held (scrolling up).
pub fn load_older(ctx: ChatContext, chat: ChatId) {
    let (first, busy, more) = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .map(|th| (th.first_seq(), th.loading_older, th.has_older))
            .unwrap_or((None, true, false))
    });
    let Some(first) = first else { return };
    if busy || !more {
        return;
    }
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.loading_older = true;
        }
    });
    spawn_local(async move {
        let page = PageRequest {
            before_seq: Some(first),
            limit: Some(PAGE),
            ..PageRequest::default()
        };
        let res = api::list_messages(chat, page).await;
        ctx.threads.update(|t| {
            if let Some(th) = t.get_mut(&chat) {
                match &res {
                    Ok(page) => th.merge_older(page.clone()),
                    Err(_) => th.loading_older = false,
                }
            }
        });
        if let Err(e) = res {
            report(ctx, &e);
        }
    });
}

/// Fetches a gap in an open chat's thread at once: what came after the
/// highest seq it holds without a gap, page by page until none is left
/// (`Thread::start_gap_fetch` says where, and that no fetch is in flight).
/// What the pages bring is treated as arrived. Closed chats wait for their
/// re-join's catch-up.
pub fn fill_gaps(ctx: ChatContext, chat: ChatId) {
    if !ctx
        .open
        .with_untracked(|o| o.iter().any(|o| o.chat_id == chat))
    {
        return;
    }
    // The in-flight mark is bookkeeping no view reads: nobody is told.
    let after = ctx
        .threads
        .try_maybe_update(|t| {
            let after = t.get_mut(&chat).and_then(Thread::start_gap_fetch);
            (false, after)
        })
        .flatten();
    let Some(after) = after else { return };
    spawn_local(async move {
        let page = PageRequest {
            after_seq: Some(after),
            limit: Some(PAGE),
            ..PageRequest::default()
        };
        match api::list_messages(chat, page).await {
            Ok(page) => {
                let fresh = ctx
                    .threads
                    .try_update(|t| {
                        t.get_mut(&chat)
                            .map(|th| th.merge_gap(after, page))
                            .unwrap_or_default()
                    })
                    .unwrap_or_default();
                threads::arrived(ctx, chat, &fresh);
                // The next page, or a gap opened meanwhile, if any.
                fill_gaps(ctx, chat);
            }
            Err(e) => {
                // A refusal (not in the chat any more…) will not change by
                // asking again: the window then shows what it has, hole
                // and all, rather than hide it for good.
                let for_good = e.code.is_definite();
                ctx.threads.try_maybe_update(|t| {
                    if let Some(th) = t.get_mut(&chat) {
                        th.gap_fetch_failed(after, for_good);
                    }
                    (for_good, ())
                });
                if for_good {
                    report(ctx, &e);
                    return;
                }
                // Unreachable or busy for now: asked again shortly and
                // quietly (the status badge tells about the connection; a
                // re-join after a reconnect asks too).
                gloo_timers::future::TimeoutFuture::new(GAP_RETRY_MS).await;
                fill_gaps(ctx, chat);
            }
        }
    });
}
