//! The browser side of `ChatContext`: socket events in, user actions out.
//! Runs only after hydration (WASM is single-threaded, so the socket lives in
//! a thread-local).

use super::api::{self, ApiFailure};
use super::backup::{self, Outgoing};
use super::socket::{self, Socket, from_js};
use super::{ChatContext, Delivery, OpenChat, Thread};
use crate::model::{
    ChatId, ChatSummary, ConnectionStatus, Message, MessageKind, MessagePage, Notification, UserId,
    UserRef, events,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;
use serde_json::{Value, json};
use std::cell::RefCell;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

thread_local! {
    static SOCKET: RefCell<Option<Socket>> = const { RefCell::new(None) };
    /// Sends go out one at a time, in order; this guards the queue runner.
    static FLUSHING: RefCell<bool> = const { RefCell::new(false) };
}

const ACK_TIMEOUT_MS: u32 = 10_000;

fn socket() -> Option<Socket> {
    SOCKET.with(|s| s.borrow().clone())
}

fn connected() -> Option<Socket> {
    socket().filter(|s| s.connected())
}

fn me_id(ctx: ChatContext) -> Option<UserId> {
    ctx.me.get_value().map(|m| m.id)
}

fn ack_ok(v: &Value) -> bool {
    v.get("ok").and_then(Value::as_bool) == Some(true)
}

fn ack_error(v: &Value) -> (String, String) {
    (
        v["error"]["code"].as_str().unwrap_or("error").to_owned(),
        v["error"]["message"]
            .as_str()
            .unwrap_or("failed")
            .to_owned(),
    )
}

pub fn start(ctx: ChatContext) {
    let Some(me) = ctx.me.get_value() else {
        return;
    };
    ctx.drafts.set(backup::load_drafts(me.id));
    // Show what was unsent before the reload at once, as "sending".
    let outbox = backup::load_outbox(me.id);
    for o in &outbox {
        ctx.threads.update(|t| {
            t.entry(o.chat_id)
                .or_default()
                .push_pending(pending_message(ctx, o))
        });
    }

    let s = socket::connect();
    SOCKET.with(|cell| *cell.borrow_mut() = Some(s.clone()));

    s.listen("connect", move |_| {
        ctx.status.set(ConnectionStatus::Connected);
        // The seed's recovery: re-join every open chat with what we last
        // saw, so the gap closes in one round trip, then send what waited.
        for o in ctx.open.get_untracked() {
            join(ctx, o.chat_id);
        }
        flush_outbox(ctx);
        refresh_chats(ctx);
        refresh_notifications(ctx);
    });
    s.listen("disconnect", move |reason| {
        // A send in flight is answered by the resend after reconnecting.
        FLUSHING.with(|f| *f.borrow_mut() = false);
        if ctx.status.get_untracked() != ConnectionStatus::Offline {
            ctx.status.set(ConnectionStatus::Reconnecting(0));
        }
        ctx.typing.set(Default::default());
        // socket.io-client does not retry after the server closed the
        // connection on purpose; a restarting server does exactly that, so
        // reconnect anyway (an ended session then fails the handshake with
        // `unauthorized`, which leads to the sign-in page).
        if reason.as_string().as_deref() == Some("io server disconnect") {
            spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(1_000).await;
                if let Some(s) = socket() {
                    s.reconnect();
                }
            });
        }
    });
    s.listen("connect_error", move |err| {
        let message = js_sys::Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        if message == "unauthorized" {
            // The session ended (expired or logged out elsewhere).
            go_to("/login?expired=1");
            return;
        }
        if ctx.status.get_untracked() == ConnectionStatus::Connected {
            ctx.status.set(ConnectionStatus::Reconnecting(0));
        }
    });
    s.listen_manager("reconnect_attempt", move |attempt| {
        if ctx.status.get_untracked() != ConnectionStatus::Offline {
            ctx.status.set(ConnectionStatus::Reconnecting(
                attempt.as_f64().unwrap_or(0.0) as u32,
            ));
        }
    });

    s.listen(events::NEW_MESSAGE, move |v| {
        if let Some(m) = from_js::<Message>(v) {
            on_new_message(ctx, m);
        }
    });
    s.listen(events::TYPING, move |v| {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Typing {
            chat_id: ChatId,
            user_id: UserId,
            name: String,
            is_typing: bool,
        }
        if let Some(t) = from_js::<Typing>(v) {
            ctx.typing.update(|map| {
                let list = map.entry(t.chat_id).or_default();
                list.retain(|(id, _)| *id != t.user_id);
                if t.is_typing {
                    list.push((t.user_id, t.name));
                }
            });
        }
    });
    s.listen(events::PRESENCE, move |v| {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Presence {
            user_id: UserId,
            online: bool,
        }
        if let Some(p) = from_js::<Presence>(v) {
            ctx.presence.update(|m| {
                m.insert(p.user_id, p.online);
            });
        }
    });
    s.listen(events::READ, move |v| {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Read {
            chat_id: ChatId,
            user_id: UserId,
            message_id: i64,
        }
        if let Some(r) = from_js::<Read>(v) {
            ctx.threads.update(|t| {
                let th = t.entry(r.chat_id).or_default();
                let e = th.read_up_to.entry(r.user_id).or_insert(0);
                *e = (*e).max(r.message_id);
            });
        }
    });
    s.listen(events::NOTIFICATION, move |v| {
        if let Some(n) = from_js::<Notification>(v) {
            ctx.announcement.set(n.title.clone());
            ctx.notifications.update(|list| {
                list.retain(|x| x.id != n.id);
                list.insert(0, n);
            });
        }
    });
    s.listen(events::USER_JOINED, move |v| {
        let v: Value = from_js(v).unwrap_or_default();
        if let Some(name) = v["user"]["name"].as_str() {
            ctx.announcement.set(format!("{name} joined the chat"));
        }
        refresh_chats(ctx);
    });
    for event in [
        events::LSM_INVITED,
        events::DISPUTE_RESOLVED,
        events::CHAT_CREATED,
    ] {
        s.listen(event, move |_| refresh_chats(ctx));
    }

    // The browser's own view of the network.
    if let Some(w) = web_sys::window() {
        let offline =
            Closure::<dyn FnMut()>::new(move || ctx.status.set(ConnectionStatus::Offline));
        let online = Closure::<dyn FnMut()>::new(move || {
            if ctx.status.get_untracked() == ConnectionStatus::Offline {
                ctx.status.set(if socket().is_some_and(|s| s.connected()) {
                    ConnectionStatus::Connected
                } else {
                    ConnectionStatus::Reconnecting(0)
                });
            }
        });
        let _ = w.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        offline.forget();
        online.forget();
        if !w.navigator().on_line() {
            ctx.status.set(ConnectionStatus::Offline);
        }
    }

    // Chats that were open before the reload come back.
    for chat in backup::load_open(me.id) {
        open_chat(ctx, chat);
    }
    refresh_chats(ctx);
    refresh_notifications(ctx);
    if me.role == crate::model::Role::Customer {
        spawn_local(async move {
            if let Ok(p) = api::get::<Vec<UserRef>>("/api/providers").await {
                ctx.providers.set(p);
            }
        });
    }
}

fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}

fn pending_message(ctx: ChatContext, o: &Outgoing) -> Message {
    let me = ctx.me.get_value();
    Message {
        id: 0,
        chat_id: o.chat_id,
        sender_id: me.as_ref().map(|m| m.id),
        sender_name: me.as_ref().map(|m| m.name.clone()),
        sender_role: me.as_ref().map(|m| m.role),
        content: o.content.clone(),
        client_id: Some(o.client_id.clone()),
        kind: MessageKind::User,
        created_at: o.created_at,
    }
}

/// Whether the user is looking at the chat (open and not minimised).
fn is_visible(ctx: ChatContext, chat: ChatId) -> bool {
    ctx.open
        .with_untracked(|o| o.iter().any(|o| o.chat_id == chat && !o.minimized))
}

fn on_new_message(ctx: ChatContext, m: Message) {
    let chat = m.chat_id;
    let mine = m.sender_id.is_some() && m.sender_id == me_id(ctx);
    let visible = is_visible(ctx, chat);
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.merge(m.clone());
        }
    });
    if !mine {
        if let Some(name) = &m.sender_name {
            ctx.announcement
                .set(format!("New message from {name}: {}", m.content));
        }
        // Whoever sent it has stopped typing.
        ctx.typing.update(|map| {
            if let Some(list) = map.get_mut(&chat) {
                list.retain(|(id, _)| Some(*id) != m.sender_id);
            }
        });
    }
    let known = ctx.chats.with_untracked(|c| c.iter().any(|c| c.id == chat));
    if !known {
        refresh_chats(ctx);
    }
    ctx.chats.update(|chats| {
        if let Some(pos) = chats.iter().position(|c| c.id == chat) {
            let mut c = chats.remove(pos);
            if !mine && !visible {
                c.unread_count += 1;
            }
            c.last_message = Some(m.clone());
            chats.insert(0, c);
        }
    });
    save_cache(ctx, chat);
    if visible && !mine {
        mark_read(ctx, chat, m.id);
    }
}

fn save_cache(ctx: ChatContext, chat: ChatId) {
    let Some(me) = me_id(ctx) else { return };
    let stored: Vec<Message> = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .map(|th| {
                th.lines
                    .iter()
                    .filter(|l| l.message.id > 0)
                    .map(|l| l.message.clone())
                    .collect()
            })
            .unwrap_or_default()
    });
    if !stored.is_empty() {
        backup::save_cache(me, chat, &stored);
    }
}

fn refresh_chats(ctx: ChatContext) {
    spawn_local(async move {
        match api::get::<Vec<ChatSummary>>("/api/chats").await {
            Ok(list) => {
                ctx.presence.update(|p| {
                    for c in &list {
                        for part in &c.participants {
                            p.insert(part.id, part.online);
                        }
                    }
                });
                // Read markers survive reloads: they come with the chat list.
                ctx.threads.update(|t| {
                    for c in &list {
                        if let Some(th) = t.get_mut(&c.id) {
                            for part in &c.participants {
                                let e = th.read_up_to.entry(part.id).or_insert(0);
                                *e = (*e).max(part.last_read_message_id);
                            }
                        }
                    }
                });
                let visible: Vec<ChatId> = ctx.open.with_untracked(|o| {
                    o.iter()
                        .filter(|o| !o.minimized)
                        .map(|o| o.chat_id)
                        .collect()
                });
                let mut list = list;
                for c in list.iter_mut().filter(|c| visible.contains(&c.id)) {
                    c.unread_count = 0;
                }
                ctx.chats.set(list);
                ctx.chats_loaded.set(true);
            }
            Err(e) => handle_failure(ctx, &e),
        }
    });
}

fn refresh_notifications(ctx: ChatContext) {
    spawn_local(async move {
        if let Ok(list) = api::get::<Vec<Notification>>("/api/notifications").await {
            ctx.notifications.set(list);
        }
    });
}

fn handle_failure(ctx: ChatContext, e: &ApiFailure) {
    if e.status == 401 {
        go_to("/login?expired=1");
    } else if e.status != 0 {
        ctx.toast.set(Some(e.message.clone()));
    }
}

fn persist_open(ctx: ChatContext) {
    if let Some(me) = me_id(ctx) {
        let ids: Vec<ChatId> = ctx
            .open
            .with_untracked(|o| o.iter().map(|o| o.chat_id).collect());
        backup::save_open(me, &ids);
    }
}

pub fn open_chat(ctx: ChatContext, chat: ChatId) {
    ctx.open.update(|open| {
        open.retain(|o| o.chat_id != chat);
        open.insert(
            0,
            OpenChat {
                chat_id: chat,
                minimized: false,
            },
        );
        // Three windows at most; the oldest one closes.
        open.truncate(3);
    });
    persist_open(ctx);
    let fresh = ctx
        .threads
        .with_untracked(|t| !t.get(&chat).is_some_and(|th| th.loaded));
    if fresh {
        // Render at once from the local cache, then let the server fill in.
        if let Some(me) = me_id(ctx) {
            let cached = backup::load_cache(me, chat);
            ctx.threads.update(|t| {
                let th = t.entry(chat).or_default();
                for m in cached {
                    th.merge(m);
                }
            });
        }
        load_latest(ctx, chat);
    }
    if connected().is_some() {
        join(ctx, chat);
    }
    ctx.chats.update(|c| {
        if let Some(c) = c.iter_mut().find(|c| c.id == chat) {
            c.unread_count = 0;
        }
    });
}

pub fn close_chat(ctx: ChatContext, chat: ChatId) {
    ctx.open.update(|open| open.retain(|o| o.chat_id != chat));
    persist_open(ctx);
    set_typing(chat, false);
    if let Some(s) = connected() {
        s.request(
            events::LEAVE_CHAT,
            &json!({ "chatId": chat }),
            ACK_TIMEOUT_MS,
            |_| {},
        );
    }
}

fn load_latest(ctx: ChatContext, chat: ChatId) {
    spawn_local(async move {
        match api::get::<MessagePage>(&format!("/api/chats/{chat}/messages?limit=50")).await {
            Ok(page) => {
                ctx.threads.update(|t| {
                    let th = t.entry(chat).or_default();
                    let had_older = th.first_stored_id();
                    for m in page.messages.iter().cloned() {
                        th.merge(m);
                    }
                    // The cache may hold messages older than this page; the
                    // server is the truth about what is further back.
                    th.has_older = page.has_more
                        || had_older
                            .is_some_and(|f| page.messages.first().is_some_and(|p| f < p.id));
                    th.loaded = true;
                });
                save_cache(ctx, chat);
                mark_read_latest(ctx, chat);
            }
            Err(e) => handle_failure(ctx, &e),
        }
    });
}

fn join(ctx: ChatContext, chat: ChatId) {
    let Some(s) = connected() else { return };
    let after = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .filter(|th| th.loaded)
            .and_then(Thread::last_stored_id)
    });
    let payload = match after {
        Some(a) => json!({ "chatId": chat, "afterMessageId": a }),
        None => json!({ "chatId": chat }),
    };
    s.request(events::JOIN_CHAT, &payload, ACK_TIMEOUT_MS, move |resp| {
        let Some(v) = resp.and_then(from_js::<Value>) else {
            return;
        };
        if !ack_ok(&v) {
            let (_, message) = ack_error(&v);
            ctx.toast.set(Some(message));
            return;
        }
        if let Some(list) = v["presence"].as_array() {
            ctx.presence.update(|p| {
                for e in list {
                    if let (Some(id), Some(online)) = (e["userId"].as_i64(), e["online"].as_bool())
                    {
                        p.insert(id, online);
                    }
                }
            });
            ctx.threads.update(|t| {
                let th = t.entry(chat).or_default();
                for e in list {
                    if let (Some(id), Some(read)) =
                        (e["userId"].as_i64(), e["lastReadMessageId"].as_i64())
                    {
                        let m = th.read_up_to.entry(id).or_insert(0);
                        *m = (*m).max(read);
                    }
                }
            });
        }
        if let Some(msgs) = v.get("messages").cloned() {
            let missed: Vec<Message> = serde_json::from_value(msgs).unwrap_or_default();
            let more = v["hasMore"].as_bool() == Some(true);
            for m in missed {
                on_new_message(ctx, m);
            }
            if more {
                // More than one catch-up page was missed: reload the latest.
                ctx.threads.update(|t| {
                    t.remove(&chat);
                });
                load_latest(ctx, chat);
            }
        }
    });
}

pub fn mark_read_latest(ctx: ChatContext, chat: ChatId) {
    if !is_visible(ctx, chat) {
        return;
    }
    if let Some(last) = ctx
        .threads
        .with_untracked(|t| t.get(&chat).and_then(Thread::last_stored_id))
    {
        mark_read(ctx, chat, last);
    }
}

fn mark_read(ctx: ChatContext, chat: ChatId, message_id: i64) {
    ctx.chats.update(|c| {
        if let Some(c) = c.iter_mut().find(|c| c.id == chat) {
            c.unread_count = 0;
        }
    });
    if let Some(s) = connected() {
        s.request(
            events::MARK_READ,
            &json!({ "chatId": chat, "messageId": message_id }),
            ACK_TIMEOUT_MS,
            |_| {},
        );
    }
}

fn save_outbox_now(ctx: ChatContext, outbox: &[Outgoing]) {
    if let Some(me) = me_id(ctx) {
        backup::save_outbox(me, outbox);
    }
}

fn new_client_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn send(ctx: ChatContext, chat: ChatId, text: String) {
    let Some(me) = me_id(ctx) else { return };
    let out = Outgoing {
        chat_id: chat,
        client_id: new_client_id(),
        content: text,
        created_at: chrono::Utc::now(),
    };
    ctx.threads.update(|t| {
        t.entry(chat)
            .or_default()
            .push_pending(pending_message(ctx, &out))
    });
    let mut outbox = backup::load_outbox(me);
    outbox.push(out);
    save_outbox_now(ctx, &outbox);
    set_typing(chat, false);
    flush_outbox(ctx);
}

pub fn retry(ctx: ChatContext, chat: ChatId, client_id: String) {
    let Some(me) = me_id(ctx) else { return };
    let line = ctx.threads.with_untracked(|t| {
        t.get(&chat).and_then(|th| {
            th.lines
                .iter()
                .find(|l| l.message.id <= 0 && l.message.client_id.as_deref() == Some(&client_id))
                .cloned()
        })
    });
    let Some(line) = line else { return };
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.set_delivery(&client_id, Delivery::Sending, None);
        }
    });
    let mut outbox = backup::load_outbox(me);
    if !outbox.iter().any(|o| o.client_id == client_id) {
        outbox.push(Outgoing {
            chat_id: chat,
            client_id,
            content: line.message.content,
            created_at: line.message.created_at,
        });
        save_outbox_now(ctx, &outbox);
    }
    flush_outbox(ctx);
}

/// Sends the outbox in order, one message at a time (the next only after the
/// previous one's ack), so messages keep the order they were typed in. Safe
/// to repeat after any failure: the server de-duplicates by client id.
fn flush_outbox(ctx: ChatContext) {
    if FLUSHING.with(|f| *f.borrow()) {
        return;
    }
    let Some(me) = me_id(ctx) else { return };
    let Some(s) = connected() else { return };
    let Some(next) = backup::load_outbox(me).into_iter().next() else {
        return;
    };
    FLUSHING.with(|f| *f.borrow_mut() = true);
    let payload =
        json!({ "chatId": next.chat_id, "content": next.content, "clientId": next.client_id });
    s.request(
        events::SEND_MESSAGE,
        &payload,
        ACK_TIMEOUT_MS,
        move |resp| {
            FLUSHING.with(|f| *f.borrow_mut() = false);
            let remove = |ctx: ChatContext| {
                let mut outbox = backup::load_outbox(me);
                outbox.retain(|o| o.client_id != next.client_id);
                save_outbox_now(ctx, &outbox);
            };
            match resp.and_then(from_js::<Value>) {
                Some(v) if ack_ok(&v) => {
                    remove(ctx);
                    if let Ok(m) = serde_json::from_value::<Message>(v["message"].clone()) {
                        on_new_message(ctx, m);
                    }
                    flush_outbox(ctx);
                }
                Some(v) => {
                    let (code, message) = ack_error(&v);
                    if code == "rate_limited" {
                        // Try again shortly; order is kept.
                        spawn_local(async move {
                            gloo_timers::future::TimeoutFuture::new(1_000).await;
                            flush_outbox(ctx);
                        });
                        return;
                    }
                    // Refused for good (not allowed, invalid): the user decides.
                    remove(ctx);
                    ctx.threads.update(|t| {
                        if let Some(th) = t.get_mut(&next.chat_id) {
                            th.set_delivery(&next.client_id, Delivery::Failed, Some(message));
                        }
                    });
                    flush_outbox(ctx);
                }
                None => {
                    // Timed out: it stays queued (and "sending") until the next
                    // connect; if still connected, mark it failed so the user sees.
                    if connected().is_some() {
                        ctx.threads.update(|t| {
                            if let Some(th) = t.get_mut(&next.chat_id) {
                                th.set_delivery(
                                    &next.client_id,
                                    Delivery::Failed,
                                    Some("No answer from the server".into()),
                                );
                            }
                        });
                        remove(ctx);
                    }
                }
            }
        },
    );
}

pub fn load_older(ctx: ChatContext, chat: ChatId) {
    let (first, busy, more) = ctx.threads.with_untracked(|t| {
        t.get(&chat)
            .map(|th| (th.first_stored_id(), th.loading_older, th.has_older))
            .unwrap_or((None, true, false))
    });
    let Some(first) = first else { return };
    if busy || !more {
        return;
    }
    ctx.threads.update(|t| {
        if let Some(th) = t.get_mut(&chat) {
            th.loading_older = true;
        }
    });
    spawn_local(async move {
        let res = api::get::<MessagePage>(&format!(
            "/api/chats/{chat}/messages?before={first}&limit=50"
        ))
        .await;
        ctx.threads.update(|t| {
            if let Some(th) = t.get_mut(&chat) {
                th.loading_older = false;
                if let Ok(page) = &res {
                    th.has_older = page.has_more;
                    for m in page.messages.iter().cloned() {
                        th.merge(m);
                    }
                }
            }
        });
        if let Err(e) = res {
            handle_failure(ctx, &e);
        }
    });
}

thread_local! {
    /// Chats where we told the others we are typing.
    static TYPING_SENT: RefCell<std::collections::HashMap<ChatId, f64>> = RefCell::new(Default::default());
}

pub fn set_typing(chat: ChatId, typing: bool) {
    let Some(s) = connected() else { return };
    let now = js_sys::Date::now();
    let should_send = TYPING_SENT.with(|t| {
        let mut t = t.borrow_mut();
        match (typing, t.get(&chat).copied()) {
            // Refresh at most every 3 s (the server forgets after 5 s).
            (true, Some(at)) if now - at < 3_000.0 => false,
            (true, _) => {
                t.insert(chat, now);
                true
            }
            (false, Some(_)) => {
                t.remove(&chat);
                true
            }
            (false, None) => false,
        }
    });
    if should_send {
        s.send(
            events::TYPING,
            &json!({ "chatId": chat, "isTyping": typing }),
        );
    }
}

pub fn save_drafts(ctx: ChatContext) {
    if let Some(me) = me_id(ctx) {
        ctx.drafts.with_untracked(|d| backup::save_drafts(me, d));
    }
}

/// A REST action that changes chats: on success the chat list is reloaded.
fn post_and_refresh(
    ctx: ChatContext,
    path: String,
    body: Value,
    done: impl Fn(Result<(), String>) + 'static,
) {
    spawn_local(async move {
        match api::post::<_, Value>(&path, &body).await {
            Ok(_) => {
                refresh_chats(ctx);
                done(Ok(()))
            }
            Err(e) => done(Err(e.message)),
        }
    });
}

pub fn add_lsm(
    ctx: ChatContext,
    chat: ChatId,
    reason: String,
    done: impl Fn(Result<(), String>) + 'static,
) {
    post_and_refresh(
        ctx,
        format!("/api/chats/{chat}/dispute"),
        json!({ "reason": reason }),
        done,
    );
}

pub fn resolve_dispute(
    ctx: ChatContext,
    dispute: i64,
    resolution: String,
    done: impl Fn(Result<(), String>) + 'static,
) {
    post_and_refresh(
        ctx,
        format!("/api/disputes/{dispute}/resolve"),
        json!({ "resolution": resolution }),
        done,
    );
}

pub fn book_job(
    ctx: ChatContext,
    provider: UserId,
    title: String,
    description: String,
    done: impl Fn(Result<(), String>) + 'static,
) {
    spawn_local(async move {
        let body = json!({ "providerId": provider, "title": title, "description": description });
        match api::post::<_, Value>("/api/jobs", &body).await {
            Ok(v) => {
                if let Some(chat) = v["chatId"].as_i64() {
                    refresh_chats(ctx);
                    // createConversation(chatId) in the seed: the chat opens at once.
                    open_chat(ctx, chat);
                }
                done(Ok(()))
            }
            Err(e) => done(Err(e.message)),
        }
    });
}

pub fn read_notification(ctx: ChatContext, id: Option<i64>) {
    let now = chrono::Utc::now();
    ctx.notifications.update(|list| {
        for n in list.iter_mut().filter(|n| id.is_none() || Some(n.id) == id) {
            n.read_at.get_or_insert(now);
        }
    });
    spawn_local(async move {
        let path = match id {
            Some(id) => format!("/api/notifications/{id}/read"),
            None => "/api/notifications/read-all".to_owned(),
        };
        let _ = api::post::<_, Value>(&path, &json!({})).await;
    });
}

pub fn logout() {
    if let Some(s) = socket() {
        s.disconnect();
    }
    backup::clear_all();
    spawn_local(async move {
        let _ = api::post::<_, Value>("/api/auth/logout", &json!({})).await;
        go_to("/login");
    });
}
