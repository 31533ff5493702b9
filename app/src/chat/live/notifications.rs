//! The bell: the list (`list_notifications`), live additions, read marks.

use super::socket::Socket;
use super::{chats, session_ended, threads};
use crate::api;
use crate::chat::ChatContext;
use crate::protocol::NewNotification;
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
        // A chat the user is looking at reads its messages out in its own
        // log; its notification would repeat them.
        if !n.chat_id.is_some_and(|c| threads::is_visible(ctx, c)) {
            ctx.announcement.set(n.title.clone());
        }
        ctx.notifications.update(|list| {
            list.retain(|x| x.id != n.id);
            list.insert(0, n);
        });
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
