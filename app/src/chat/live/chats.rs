//! The chat list (`list_chats`) and the events that change it.

use super::socket::Socket;
use super::{history, presence, report, runtime, threads};
use crate::api;
use crate::chat::{ChatContext, list};
use crate::model::{ChatId, Message};
use crate::protocol::{ChatCreated, DisputeResolved, LsmInvited, Resync, UserJoined, UserLeft};
use leptos::prelude::*;
use leptos::task::spawn_local;

pub fn listen(ctx: ChatContext, s: &Socket) {
    s.on(move |j: UserJoined| {
        ctx.announcement
            .set(format!("{} joined the chat", j.user.name));
        // Someone already in the list opening the chat changes only their
        // presence: no reload, so a client toggling join/leave costs the
        // others nothing. A new participant (an LSM added) reloads the list.
        let known = ctx.chats.with_untracked(|chats| {
            chats
                .iter()
                .any(|c| c.id == j.chat_id && c.participants.iter().any(|p| p.id == j.user.id))
        });
        if known {
            presence::note_online(ctx, [(j.user.id, true)]);
        } else {
            refresh(ctx);
        }
    });
    // This user taken out of a chat's room by the server (its sweep found
    // they left, e.g. an LSM settled on another node while Redis failed):
    // the list marks the chat left, and its window turns into the transcript.
    s.on(move |l: UserLeft| {
        if Some(l.user.id) == super::me_id(ctx) {
            refresh(ctx);
        }
    });
    s.on(move |_: LsmInvited| refresh(ctx));
    s.on(move |_: DisputeResolved| refresh(ctx));
    s.on(move |_: ChatCreated| refresh(ctx));
    // The list carries each chat's newest seq: reloading it finds any
    // message the server could not deliver, and fetches it.
    s.on(move |_: Resync| refresh(ctx));
}

/// Reloads the list, with each participant's presence and read marker.
pub fn refresh(ctx: ChatContext) {
    spawn_local(async move {
        match api::list_chats(None).await {
            Ok(newest) => {
                let (mut chats, more) = ctx.chats.with_untracked(|old| {
                    list::merge_newest(old, ctx.chats_more.get_untracked(), newest, api::CHAT_PAGE)
                });
                presence::note_online(
                    ctx,
                    chats
                        .iter()
                        .flat_map(|c| c.participants.iter().map(|p| (p.id, p.online))),
                );
                // Read markers survive reloads: they come with the chat list.
                // So does each chat's newest seq: a lost last message shows
                // as a gap in its thread.
                ctx.threads.update(|t| {
                    for c in &chats {
                        if let Some(th) = t.get_mut(&c.id) {
                            for p in &c.participants {
                                th.note_read(p.id, p.last_read_seq);
                            }
                            th.note_last_seq(c.last_seq);
                        }
                    }
                });
                for c in &chats {
                    history::fill_gaps(ctx, c.id);
                }
                let visible: Vec<ChatId> = chats
                    .iter()
                    .map(|c| c.id)
                    .filter(|id| threads::is_visible(ctx, *id))
                    .collect();
                list::clear_unread(&mut chats, &visible);
                // Open chats the user was brought back into (an LSM for a
                // new dispute) are joined again; open chats they left are
                // loaded as transcripts if the join was refused first.
                let back: Vec<ChatId> = ctx.chats.with_untracked(|old| {
                    chats
                        .iter()
                        .filter(|c| c.left || old.iter().any(|o| o.id == c.id && o.left))
                        .map(|c| c.id)
                        .collect()
                });
                ctx.chats.set(chats);
                ctx.chats_more.set(more);
                for chat in back {
                    threads::rejoin(ctx, chat);
                }
                ctx.chats_loaded.set(true);
            }
            Err(e) => report(ctx, &e),
        }
    });
}

/// "Show older chats": the page after the list's last row goes below it.
/// Live events then keep those rows as they do the newest page (a message
/// moves its chat to the top); a reload keeps them (`list::merge_newest`).
pub fn show_older(ctx: ChatContext) {
    let Some(before) = ctx.chats_more.get_untracked() else {
        return;
    };
    spawn_local(async move {
        match api::list_chats(Some(before)).await {
            Ok(page) => {
                presence::note_online(
                    ctx,
                    page.iter()
                        .flat_map(|c| c.participants.iter().map(|p| (p.id, p.online))),
                );
                // A reload may have moved the list's end meanwhile: a page
                // for an end that is no longer the list's is dropped.
                if ctx.chats_more.get_untracked() != Some(before) {
                    return;
                }
                let mut more = None;
                ctx.chats
                    .update(|chats| more = list::append_older(chats, page, api::CHAT_PAGE));
                ctx.chats_more.set(more);
            }
            Err(e) => report(ctx, &e),
        }
    });
}

/// How long a burst of activity in chats the socket is not in (their
/// notifications) is gathered into one reload of the list.
const COALESCE_MS: u32 = 300;

/// Something changed in a chat whose room the socket is not in (its window
/// is closed): reload the list shortly, once for a whole burst.
pub fn refresh_soon(ctx: ChatContext) {
    let first = runtime(ctx, |r| {
        !std::mem::replace(&mut r.list_refresh_pending, true)
    })
    .unwrap_or(false);
    if !first {
        return;
    }
    spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(COALESCE_MS).await;
        runtime(ctx, |r| r.list_refresh_pending = false);
        refresh(ctx);
    });
}

/// A message arrived: its chat moves up (or the list reloads for a chat it
/// does not have yet).
pub fn bump(ctx: ChatContext, m: &Message, unread: bool) {
    let known = ctx
        .chats
        .try_update(|c| list::bump(c, m, unread))
        .unwrap_or(false);
    if !known {
        refresh(ctx);
    }
}

pub fn clear_unread(ctx: ChatContext, chat: ChatId) {
    ctx.chats.update(|c| list::clear_unread(c, &[chat]));
}
