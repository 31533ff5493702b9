//! Who is online and who is typing.

use super::connection::connected;
use super::runtime;
use super::socket::Socket;
use crate::chat::{ChatContext, typing};
use crate::model::{ChatId, UserId};
use crate::protocol::{PresenceChanged, SetTyping, Typing};
use leptos::prelude::*;

pub fn listen(ctx: ChatContext, s: &Socket) {
    s.on(move |t: Typing| ctx.typing.update(|map| typing::apply(map, t)));
    s.on(move |p: PresenceChanged| note_online(ctx, [(p.user_id, p.online)]));
}

/// Online states from an event, the chat list or a join ack.
pub fn note_online(ctx: ChatContext, states: impl IntoIterator<Item = (UserId, bool)>) {
    ctx.presence.update(|p| p.extend(states));
}

/// Tells the others the user is (or stopped) typing, throttled.
pub fn set_typing(ctx: ChatContext, chat: ChatId, is_typing: bool) {
    let Some(s) = connected(ctx) else { return };
    let now = js_sys::Date::now();
    let send = runtime(ctx, |r| r.typing.should_send(chat, is_typing, now)).unwrap_or(false);
    if send {
        s.emit(&SetTyping {
            chat_id: chat,
            is_typing,
        });
    }
}
