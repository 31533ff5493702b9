//! Pages of a chat's history from the server (`list_messages`), and the
//! local cache of each chat's latest messages that windows render from at
//! once.

use super::{backup, me_id, report, threads};
use crate::api::{self, PageRequest};
use crate::chat::ChatContext;
use crate::model::ChatId;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Messages per history page.
const PAGE: i64 = 50;

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
            }
            Err(e) => report(ctx, &e),
        }
    });
}

/// The page before the oldest message shown (scrolling up).
pub fn load_older(ctx: ChatContext, chat: ChatId) {
    let (first, busy, more) = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .map(|th| (th.first_stored_id(), th.loading_older, th.has_older))
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
            before: Some(first),
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
