//! Who is online and who is typing.

use super::connection::connected;
use super::runtime;
use super::socket::Socket;
use crate::chat::{ChatContext, typing};
use crate::model::{ChatId, UserId};
use crate::protocol::{PresenceChanged, SetTyping, Typing};
use leptos::prelude::*;
use leptos::task::spawn_local;

pub fn listen(ctx: ChatContext, s: &Socket) {
    s.on(move |t: Typing| {
        let starts = t.is_typing;
        ctx.typing
            .update(|map| typing::apply(map, t, js_sys::Date::now()));
        if starts {
            expire_typing_later(ctx);
        }
    });
    s.on(move |p: PresenceChanged| note_online(ctx, [(p.user_id, p.online)]));
}

/// A typing flag came: unless refreshed, it goes after `TYPING_TTL_MS`
/// even when its "stopped" never comes (the typer's server node died).
/// One timer per flag; one that finds its flag refreshed changes nothing.
fn expire_typing_later(ctx: ChatContext) {
    spawn_local(async move {
        // A little late rather than a hair early (clock granularity).
        gloo_timers::future::TimeoutFuture::new(typing::TYPING_TTL_MS as u32 + 100).await;
        let now = js_sys::Date::now();
        // Only a flag that actually expired re-renders the typing line.
        ctx.typing.try_maybe_update(|map| {
            let expired = typing::any_expired(map, now);
            if expired {
                typing::expire(map, now);
            }
            (expired, ())
        });
    });
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
