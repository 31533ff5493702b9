//! `update`: which message does what. Each arm hands over to the module of
//! its concern; the few that cross concerns (a reload of the chat list
//! that rejoins rooms) are composed here, so those modules need not know
//! each other.

use super::msg::{Answer, Call, Effect, Env, Msg, Pushed};
use super::store::{State, reply, session_ended};
use super::{bell, chat_list, connection, outbox, revisions, rooms, search, uploads, windows};
use crate::chat::typing;
use crate::model::Role;

/// Changes the state for `msg`; returns what to do about it, in order.
pub fn update(s: &mut State, env: &Env, msg: Msg) -> Vec<Effect> {
    let mut out = Vec::new();
    let fx = &mut out;
    match msg {
        Msg::Started(r) => {
            s.drafts = r.drafts;
            s.first_chats = r.first_chats;
            outbox::show_queued(s, r.outbox);
            if r.offline {
                s.status = crate::model::ConnectionStatus::Offline;
            }
            fx.push(Effect::later(windows::RESYNC_EVERY_MS, Msg::ResyncTick));
            // Chats that were open before the reload come back.
            windows::restore(s, env, fx, r.open);
            chat_list::refresh(fx);
            bell::refresh(fx);
            if s.me.as_ref().is_some_and(|m| m.role == Role::Customer) {
                fx.push(Effect::Call(Call::Providers));
            }
        }

        Msg::Connected => {
            connection::connected(s, env, fx);
            // Queue items filed and cases changed while the socket was down
            // were not pushed: an LSM's moderation page and console reload.
            if s.me.as_ref().is_some_and(|m| m.role == Role::Lsm) {
                s.moderation_rev += 1;
                s.disputes_rev += 1;
            }
        }
        Msg::Disconnected(reason) => connection::disconnected(s, fx, &reason),
        Msg::ConnectFailed(why) => connection::connect_failed(s, fx, why),
        Msg::ReconnectAttempt(n) => connection::reconnect_attempt(s, n),
        Msg::Transport(name) => s.transport = Some(name),
        Msg::NetworkOffline => s.status = crate::model::ConnectionStatus::Offline,
        Msg::NetworkOnline => connection::network_online(s, env),
        Msg::ReconnectNow => fx.push(Effect::Reconnect),

        Msg::Pushed(p) => pushed(s, env, fx, p),
        Msg::ModerationChanged => s.moderation_rev += 1,
        Msg::DisputesChanged => s.disputes_rev += 1,

        Msg::Joined {
            chat,
            after,
            attempt,
            result,
        } => rooms::joined(s, env, fx, (chat, after, attempt), result),
        Msg::SendAnswered {
            chat,
            client_id,
            result,
        } => outbox::answered(s, env, fx, (chat, client_id), result),
        Msg::Revised { ticket, result } => revisions::answered(s, env, fx, ticket, result),
        Msg::Answered(a) => answered(s, env, fx, a),
        Msg::CacheLoaded(chat, cached) => rooms::cache_loaded(s, chat, cached),
        Msg::OutboxStored { change, saved } => outbox::stored(s, fx, saved, change),

        Msg::FlushNow => outbox::flush(s, env, fx),
        Msg::RetryJoin { chat, attempt } => {
            if s.is_open(chat) {
                rooms::join(s, env, fx, chat, attempt);
            }
        }
        Msg::FillGaps(chat) => rooms::fill_gaps(s, fx, chat),
        Msg::ExpireTyping => typing::expire(&mut s.typing, env.now_ms()),
        Msg::RefreshListNow => chat_list::refresh_now(s, fx),
        Msg::ResyncTick => windows::resync_tick(s, env, fx),
        Msg::TabBack => windows::tab_back(s, env, fx),

        Msg::OpenChat(chat) => windows::open(s, env, fx, chat),
        Msg::CloseChat(chat) => windows::close(s, env, fx, chat),
        Msg::ToggleMinimized(chat) => windows::toggle_minimized(s, env, fx, chat),
        Msg::MarkSeen(chat) => rooms::mark_read_latest(s, env, fx, chat),
        Msg::Send {
            chat,
            text,
            client_id,
            files,
        } => {
            outbox::send(s, env, fx, chat, text, client_id, files.clone());
            uploads::keep(s, fx, &files);
        }
        Msg::RemoveFile {
            chat,
            client_id,
            key,
        } => uploads::remove(s, env, fx, (chat, client_id, key)),
        Msg::Uploaded {
            chat,
            client_id,
            key,
            result,
        } => uploads::answered(s, env, fx, (chat, client_id, key), result),
        Msg::UploadProgress { key, percent } => uploads::progress(s, key, percent),
        Msg::Retry { chat, client_id } => outbox::retry(s, env, fx, chat, client_id),
        Msg::Discard { chat, client_id } => outbox::discard(s, fx, chat, client_id),
        Msg::Edit {
            ticket,
            chat,
            message,
            text,
            client_id,
        } => revisions::edit(s, env, fx, ticket, (chat, message), (text, client_id)),
        Msg::Delete {
            ticket,
            chat,
            message,
        } => revisions::delete(env, fx, ticket, (chat, message)),
        Msg::LoadOlder(chat) => rooms::load_older(s, fx, chat),
        Msg::ShowOlderChats => chat_list::show_older(s, fx),
        Msg::SetTyping { chat, typing } => outbox::set_typing(s, env, fx, chat, typing),
        Msg::SetDraft { chat, text } => {
            if text.is_empty() {
                s.drafts.remove(&chat);
            } else {
                s.drafts.insert(chat, text);
            }
            fx.push(Effect::SaveDrafts(s.drafts.clone()));
        }
        Msg::Submit { ticket, form } => fx.push(Effect::Call(Call::Submit { ticket, form })),
        Msg::ReadNotification(id) => bell::read(s, env, fx, id),
        Msg::Search(query) => search::start(s, fx, query),
        Msg::SearchMore => search::more(s, fx),
        Msg::JumpTo(chat, message, seq) => search::jump_to(s, env, fx, (chat, message, seq)),
        Msg::Jumped(chat) => search::jumped(s, chat),
        Msg::DismissToast => s.toast = None,
        Msg::Logout => {
            // Closes the socket, forgets everything stored locally, ends
            // the session (signed out either way: the cookie is cleared or
            // already invalid).
            fx.extend([
                Effect::Disconnect,
                Effect::ClearStorage,
                Effect::Call(Call::Logout),
            ]);
        }
    }
    out
}

fn pushed(s: &mut State, env: &Env, fx: &mut Vec<Effect>, p: Pushed) {
    match p {
        Pushed::NewMessage(m) => rooms::on_messages(s, env, fx, m.chat_id, vec![m]),
        Pushed::Read(r) => s
            .threads
            .entry(r.chat_id)
            .or_default()
            .note_read(r.user_id, r.seq),
        Pushed::Typing(t) => {
            let starts = t.is_typing;
            typing::apply(&mut s.typing, t, env.now_ms());
            if starts {
                // Unless refreshed, the flag goes after the TTL even when
                // its "stopped" never comes (the typer's node died). A
                // little late rather than a hair early (clock granularity).
                fx.push(Effect::later(
                    typing::TYPING_TTL_MS as u32 + 100,
                    Msg::ExpireTyping,
                ));
            }
        }
        Pushed::Presence(p) => s.note_online([(p.user_id, p.online)]),
        Pushed::UserJoined(j) => chat_list::user_joined(s, fx, j),
        Pushed::UserLeft(l) => chat_list::user_left(s, fx, l),
        // The list carries each chat's newest seq: reloading it finds any
        // message the server could not deliver, and fetches it.
        Pushed::ListChanged => chat_list::refresh(fx),
        Pushed::Notification(n) => bell::arrived(s, env, fx, n),
        Pushed::ChatRead(r) => bell::chat_read(s, r),
    }
}

fn answered(s: &mut State, env: &Env, fx: &mut Vec<Effect>, a: Answer) {
    match a {
        Answer::ChatList {
            before: None,
            result,
        } => match result {
            Ok(newest) => {
                let back = chat_list::loaded(s, env, newest);
                for o in s.open.clone() {
                    rooms::fill_gaps(s, fx, o.chat_id);
                }
                // Open chats the user was brought back into (an LSM for a
                // new dispute) are joined again; open chats they left are
                // read as transcripts if the join was refused first.
                for chat in back {
                    rooms::join(s, env, fx, chat, 0);
                }
            }
            Err(e) => s.report(fx, &e),
        },
        Answer::ChatList {
            before: Some(before),
            result,
        } => match result {
            Ok(page) => chat_list::older_loaded(s, before, page),
            Err(e) => s.report(fx, &e),
        },
        Answer::Messages {
            chat,
            purpose,
            result,
        } => {
            rooms::page_answered(s, env, fx, (chat, purpose), result);
            // A hit being opened may need the page before this one.
            search::reach(s, fx);
        }
        Answer::Notifications(result) => bell::loaded(s, fx, result),
        Answer::NotificationRead(result) => {
            if let Err(e) = result {
                session_ended(fx, &e);
            }
        }
        Answer::Providers(result) => match result {
            Ok(p) => s.providers = p,
            Err(e) => {
                session_ended(fx, &e);
            }
        },
        Answer::Searched {
            query,
            offset,
            result,
        } => search::answered(s, fx, (query, offset), result),
        Answer::Booked { ticket, result } => {
            let chat = result.as_ref().ok().map(|b| b.chat_id);
            reply(fx, ticket, result.map(|_| ()));
            if let Some(chat) = chat {
                chat_list::refresh(fx);
                // createConversation(chatId) in the seed: the chat opens.
                windows::open(s, env, fx, chat);
            }
        }
        Answer::Settled { ticket, result } => {
            // The chat list shows the LSM once in, or the chat settled.
            let ok = result.is_ok();
            reply(fx, ticket, result);
            if ok {
                chat_list::refresh(fx);
            }
        }
        Answer::LoggedOut => fx.push(Effect::GoTo("/login")),
    }
}
