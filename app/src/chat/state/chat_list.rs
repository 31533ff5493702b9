//! The chat list: reloads (`list_chats`), its older pages, and the events
//! that change it. How rows merge is `chat::list`.

use super::msg::{Call, Effect, Env, Msg};
use super::store::State;
use crate::api::CHAT_PAGE;
use crate::chat::list;
use crate::model::{ChatCursor, ChatId, ChatSummary, Message};
use crate::protocol::{UserJoined, UserLeft};

/// How long a burst of activity in chats the socket is not in (their
/// notifications) is gathered into one reload of the list.
pub const COALESCE_MS: u32 = 300;

/// Reloads the list, with each participant's presence and read marker.
pub fn refresh(fx: &mut Vec<Effect>) {
    fx.push(Effect::Call(Call::ListChats(None)));
}

/// Something changed in a chat whose room the socket is not in (its window
/// is closed): reload the list shortly, once for a whole burst.
pub fn refresh_soon(s: &mut State, fx: &mut Vec<Effect>) {
    if !std::mem::replace(&mut s.list_refresh_pending, true) {
        fx.push(Effect::later(COALESCE_MS, Msg::RefreshListNow));
    }
}

/// The coalesced reload is due.
pub fn refresh_now(s: &mut State, fx: &mut Vec<Effect>) {
    s.list_refresh_pending = false;
    refresh(fx);
}

/// A message arrived: its chat moves up (or the list reloads for a chat it
/// does not have yet).
pub fn bump(s: &mut State, fx: &mut Vec<Effect>, m: &Message, unread: bool) {
    if !list::bump(&mut s.chats, m, unread) {
        refresh(fx);
    }
}

/// An edit or deletion arrived: the chat stays where it is, its preview
/// follows (or the list reloads for a chat it does not have yet).
pub fn revise(s: &mut State, fx: &mut Vec<Effect>, change: &Message) {
    if !list::revise(&mut s.chats, change) {
        refresh(fx);
    }
}

pub fn clear_unread(s: &mut State, chat: ChatId) {
    list::clear_unread(&mut s.chats, &[chat]);
}

/// The newest page arrived. Read markers and each chat's newest seq come
/// with it (so a lost last message shows as a gap in its thread).
/// Returns the open chats the user was brought back into (an LSM for a new
/// dispute) or left, to be joined again or read as transcripts.
pub fn loaded(s: &mut State, env: &Env, newest: Vec<ChatSummary>) -> Vec<ChatId> {
    let (mut chats, more) = list::merge_newest(&s.chats, s.chats_more, newest, CHAT_PAGE);
    s.note_online(
        chats
            .iter()
            .flat_map(|c| c.participants.iter().map(|p| (p.id, p.online))),
    );
    for c in &chats {
        if let Some(th) = s.threads.get_mut(&c.id) {
            for p in &c.participants {
                th.note_read(p.id, p.last_read_seq);
            }
            th.note_last_seq(c.last_seq);
        }
    }
    let visible: Vec<ChatId> = chats
        .iter()
        .map(|c| c.id)
        .filter(|id| s.is_visible(env, *id))
        .collect();
    list::clear_unread(&mut chats, &visible);
    let back = chats
        .iter()
        .filter(|c| c.left || s.chats.iter().any(|o| o.id == c.id && o.left))
        .map(|c| c.id)
        .filter(|id| s.is_open(*id))
        .collect();
    s.chats = chats;
    s.chats_more = more;
    s.chats_loaded = true;
    back
}

/// "Show older chats": the page after the list's last row goes below it.
pub fn show_older(s: &State, fx: &mut Vec<Effect>) {
    if let Some(before) = s.chats_more {
        fx.push(Effect::Call(Call::ListChats(Some(before))));
    }
}

/// An older page arrived. Live events then keep its rows as they do the
/// newest page's; a reload keeps them (`list::merge_newest`).
pub fn older_loaded(s: &mut State, before: ChatCursor, page: Vec<ChatSummary>) {
    s.note_online(
        page.iter()
            .flat_map(|c| c.participants.iter().map(|p| (p.id, p.online))),
    );
    // A reload may have moved the list's end meanwhile: a page for an end
    // that is no longer the list's is dropped.
    if s.chats_more != Some(before) {
        return;
    }
    s.chats_more = list::append_older(&mut s.chats, page, CHAT_PAGE);
}

/// Someone entered a chat's room. Someone already in the list opening the
/// chat changes only their presence: no reload, so a client toggling
/// join/leave costs the others nothing. A new participant (an LSM added)
/// reloads the list.
pub fn user_joined(s: &mut State, fx: &mut Vec<Effect>, j: UserJoined) {
    s.announcement = format!("{} joined the chat", j.user.name);
    let known = s
        .chats
        .iter()
        .any(|c| c.id == j.chat_id && c.participants.iter().any(|p| p.id == j.user.id));
    if known {
        s.note_online([(j.user.id, true)]);
    } else {
        refresh(fx);
    }
}

/// This user taken out of a chat's room by the server (its sweep found
/// they left, e.g. an LSM settled on another node while Redis failed): the
/// list marks the chat left, and its window turns into the transcript.
pub fn user_left(s: &State, fx: &mut Vec<Effect>, l: UserLeft) {
    if Some(l.user.id) == s.me_id() {
        refresh(fx);
    }
}
