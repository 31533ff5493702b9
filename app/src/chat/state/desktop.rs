//! Desktop notifications: when one is due. Only while the tab is in the
//! background (in view, the page itself shows the message), never for a
//! muted chat, never for the user's own messages or system lines. Whether
//! the browser may show it (the user's permission) is the runtime's.

use super::msg::{Effect, Env};
use super::store::State;
use crate::model::{ChatId, Message, MessageKind, Notification};

/// Whether the chat is muted, as the list (live, else server-rendered)
/// says.
fn muted(s: &State, chat: ChatId) -> bool {
    let list = if s.chats_loaded {
        &s.chats
    } else {
        &s.first_chats
    };
    list.iter().any(|c| c.id == chat && c.muted)
}

fn job_title(s: &State, chat: ChatId) -> Option<String> {
    s.chats
        .iter()
        .chain(&s.first_chats)
        .find(|c| c.id == chat)
        .map(|c| c.job_title.clone())
}

/// A message from someone else arrived in a chat whose room the tab is in.
pub fn message(s: &State, env: &Env, fx: &mut Vec<Effect>, m: &Message) {
    let mine = m.sender_id.is_some() && m.sender_id == s.me_id();
    if !env.tab_hidden || mine || m.kind != MessageKind::User || muted(s, m.chat_id) {
        return;
    }
    let sender = m
        .sender_name
        .clone()
        .unwrap_or_else(|| "New message".into());
    let title = match job_title(s, m.chat_id) {
        Some(job) => format!("{sender} · {job}"),
        None => sender,
    };
    fx.push(Effect::Notify {
        chat: m.chat_id,
        title,
        body: crate::chat::attachments::text_of(m),
    });
}

/// The bell rang for a chat not open here (its messages do not reach this
/// tab; the bell is the news).
pub fn bell(s: &State, env: &Env, fx: &mut Vec<Effect>, n: &Notification) {
    let Some(chat) = n.chat_id else { return };
    if !env.tab_hidden || s.is_open(chat) || muted(s, chat) || n.read_at.is_some() {
        return;
    }
    let title = match job_title(s, chat) {
        Some(job) if !n.title.contains(&job) => format!("{} · {job}", n.title),
        _ => n.title.clone(),
    };
    fx.push(Effect::Notify {
        chat,
        title,
        body: n.body.clone(),
    });
}
