//! Chat windows: opening (the room joined, the cache shown at once),
//! closing (out of the room), minimising, the windows restored after a
//! reload, and the resync of open chats while the tab is in view.

use super::chat_list;
use super::msg::{Effect, Env, Msg, open_ids};
use super::outbox;
use super::rooms;
use super::store::State;
use crate::chat::windows::{max_open, put_first};
use crate::model::ChatId;

/// How often the open chats are resynced by seq while the tab is in view.
pub const RESYNC_EVERY_MS: u32 = 30_000;

pub fn open(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId) {
    let evicted = put_first(&mut s.open, chat, max_open(env.small_screen));
    // Windows that no longer fit are closed for good: out of their rooms.
    for gone in evicted {
        close(s, env, fx, gone);
    }
    fx.push(Effect::SaveOpen(open_ids(&s.open)));
    if !s.is_loaded(chat) {
        // Render at once from the local cache; the server fills in once
        // the room is joined.
        fx.push(Effect::LoadCache(chat));
    }
    rooms::join(s, env, fx, chat, 0);
    chat_list::clear_unread(s, chat);
}

pub fn close(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId) {
    s.open.retain(|o| o.chat_id != chat);
    fx.push(Effect::SaveOpen(open_ids(&s.open)));
    outbox::set_typing(s, env, fx, chat, false);
    if env.connected {
        fx.push(Effect::Leave(chat));
    }
}

pub fn toggle_minimized(s: &mut State, env: &Env, fx: &mut Vec<Effect>, chat: ChatId) {
    if let Some(o) = s.open.iter_mut().find(|o| o.chat_id == chat) {
        o.minimized = !o.minimized;
    }
    rooms::mark_read_latest(s, env, fx, chat);
}

/// The windows open before the reload (saved newest first: opened oldest
/// first, so the newest ends up first).
pub fn restore(s: &mut State, env: &Env, fx: &mut Vec<Effect>, saved: Vec<ChatId>) {
    for chat in saved.into_iter().rev() {
        open(s, env, fx, chat);
    }
}

/// The tab came back into view (or the window got the focus): the open
/// chats are resynced by seq (a join with `afterSeq`: whatever a slow or
/// lost broadcast never brought arrives in its ack) and their newest
/// messages read, and the badges and bell follow.
pub fn tab_back(s: &mut State, env: &Env, fx: &mut Vec<Effect>) {
    if env.tab_hidden {
        return;
    }
    rooms::rejoin_open(s, env, fx);
    for chat in open_ids(&s.open) {
        rooms::mark_read_latest(s, env, fx, chat);
    }
}

/// The same resync runs every [`RESYNC_EVERY_MS`] while a chat is open and
/// the tab in view, so the last message of a conversation is never stuck
/// unseen.
pub fn resync_tick(s: &mut State, env: &Env, fx: &mut Vec<Effect>) {
    if !s.open.is_empty() && !env.tab_hidden {
        rooms::rejoin_open(s, env, fx);
    }
    fx.push(Effect::later(RESYNC_EVERY_MS, Msg::ResyncTick));
}
