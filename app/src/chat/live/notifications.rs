//! The bell: the list (`list_notifications`), live additions, read marks.

use super::socket::Socket;
use super::{chats, session_ended, threads};
use crate::api;
use crate::chat::ChatContext;
use crate::chat::bell;
use crate::protocol::{ChatRead, NewNotification};
use leptos::prelude::*;
use leptos::task::spawn_local;

pub fn listen(ctx: ChatContext, s: &Socket) {
    s.on(move |NewNotification(n)| {
        // The socket is only in the rooms of open chats; for the others
        // this (sent to the user's own room for every message) is the only
        // news, so the chat list catches up from the server.
        if let Some(chat) = n.chat_id
            && !ctx
                .open
                .with_untracked(|o| o.iter().any(|o| o.chat_id == chat))
        {
            chats::refresh_soon(ctx);
        }
        // How far this user has read the chat, as this tab knows: a bell
        // that crossed a read on the way is already read.
        let read_up_to = n.chat_id.and_then(|chat| {
            let me = super::me_id(ctx)?;
            ctx.threads
                .with_untracked(|t| t.get(&chat).and_then(|th| th.read_up_to.get(&me).copied()))
        });
        // A chat in view is read as its messages arrive (`threads::arrived`):
        // its bell is not rung, only settled by the read that follows.
        let in_view = n.chat_id.is_some_and(|chat| threads::is_visible(ctx, chat));
        if !in_view {
            ctx.announcement.set(n.title.clone());
        }
        ctx.notifications
            .update(|list| bell::arrived(list, n, read_up_to));
    });
    s.on(move |r: ChatRead| {
        if let Some(me) = super::me_id(ctx) {
            ctx.threads
                .update(|t| t.entry(r.chat_id).or_default().note_read(me, r.seq));
        }
        ctx.chats.update(|chats| {
            if let Some(c) = chats.iter_mut().find(|c| c.id == r.chat_id) {
                c.unread_count = r.unread;
            }
        });
        ctx.notifications.update(|list| bell::read(list, &r));
    });
}

pub fn refresh(ctx: ChatContext) {
    spawn_local(async move {
        match api::list_notifications(false).await {
            Ok(list) => ctx.notifications.set(list),
            // The bell keeps what it has; only an ended session matters.
            Err(e) => {
                session_ended(&e);
            }
        }
    });
}

/// Marks one notification (or, with `None`, all) read: at once on screen,
/// then on the server.
pub fn read(ctx: ChatContext, id: Option<i64>) {
    let now = chrono::Utc::now();
    ctx.notifications.update(|list| {
        for n in list.iter_mut().filter(|n| id.is_none() || Some(n.id) == id) {
            n.read_at.get_or_insert(now);
        }
    });
    spawn_local(async move {
        let res = match id {
            Some(id) => api::read_notification(id).await,
            None => api::read_all_notifications().await,
        };
        if let Err(e) = res {
            session_ended(&e);
        }
    });
}
