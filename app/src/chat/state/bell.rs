//! The bell: its list (`list_notifications`), live additions, reads. How
//! reads settle the number is `chat::bell`.

use super::msg::{Call, Effect, Env};
use super::store::{State, session_ended};
use super::{chat_list, desktop};
use crate::chat::bell;
use crate::error::AppError;
use crate::model::Notification;
use crate::protocol::ChatRead;

pub fn refresh(fx: &mut Vec<Effect>) {
    fx.push(Effect::Call(Call::Notifications));
}

pub fn loaded(s: &mut State, fx: &mut Vec<Effect>, result: Result<Vec<Notification>, AppError>) {
    match result {
        Ok(list) => s.notifications = list,
        // The bell keeps what it has; only an ended session matters.
        Err(e) => {
            session_ended(fx, &e);
        }
    }
}

pub fn arrived(s: &mut State, env: &Env, fx: &mut Vec<Effect>, n: Notification) {
    // The socket is only in the rooms of open chats; for the others this
    // (sent to the user's own room for every message) is the only news, so
    // the chat list catches up from the server.
    if let Some(chat) = n.chat_id
        && !s.is_open(chat)
    {
        chat_list::refresh_soon(s, fx);
    }
    // How far this user has read the chat, as this tab knows: a bell that
    // crossed a read on the way is already read.
    let read_up_to = n.chat_id.and_then(|chat| {
        let me = s.me_id()?;
        s.threads
            .get(&chat)
            .and_then(|th| th.read_up_to.get(&me).copied())
    });
    // A chat in view is read as its messages arrive: its bell is not rung,
    // only settled by the read that follows.
    if !n.chat_id.is_some_and(|chat| s.is_visible(env, chat)) {
        s.announcement = n.title.clone();
    }
    desktop::bell(s, env, fx, &n);
    bell::arrived(&mut s.notifications, n, read_up_to);
}

/// The user read a chat (in this tab or another): its badge, its bells.
pub fn chat_read(s: &mut State, r: ChatRead) {
    if let Some(me) = s.me_id() {
        s.threads.entry(r.chat_id).or_default().note_read(me, r.seq);
    }
    if let Some(c) = s.chats.iter_mut().find(|c| c.id == r.chat_id) {
        c.unread_count = r.unread;
    }
    bell::read(&mut s.notifications, &r);
}

/// Marks one notification (or, with `None`, all) read: at once on screen,
/// then on the server.
pub fn read(s: &mut State, env: &Env, fx: &mut Vec<Effect>, id: Option<i64>) {
    for n in s
        .notifications
        .iter_mut()
        .filter(|n| id.is_none() || Some(n.id) == id)
    {
        n.read_at.get_or_insert(env.now);
    }
    fx.push(Effect::Call(Call::ReadNotification(id)));
}
