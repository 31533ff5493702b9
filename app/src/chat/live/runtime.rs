//! The one place the live state changes. `dispatch` queues a message;
//! messages are handled one at a time, in order: `state::update` changes the
//! state, the shown parts are published to `ChatContext`'s signals (each
//! only when it changed), then the effects run. What an effect brings back
//! (an ack, a server function's answer, a timer) is dispatched in turn, so
//! nothing here decides anything: it only touches the world.

use super::backup;
use super::file_store;
use super::socket::Socket;
use super::upload;
use crate::api;
use crate::chat::outgoing::{RequestFailure, UploadFailure};
use crate::chat::state::{self, Answer, Call, Effect, Env, Form, Msg, State, Ticket};
use crate::chat::{ChatContext, OpenChat};
use crate::error::AppError;
use crate::model::Me;
use crate::protocol::{JoinChat, LeaveChat, MarkRead, Request, SendReply};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::{HashMap, VecDeque};

/// How long a socket request may wait for its ack.
const ACK_TIMEOUT_MS: u32 = 10_000;

/// What a form hears back: done, or the error to show.
pub type Done = Box<dyn FnOnce(Result<(), AppError>)>;

/// The page's live state and what runs it.
pub struct Runtime {
    state: State,
    queue: VecDeque<Msg>,
    /// A message is being handled: new ones wait in the queue.
    busy: bool,
    socket: Option<Socket>,
    /// Forms waiting for their answer (one per submitted form, each
    /// answered once).
    forms: HashMap<Ticket, Done>,
    next_ticket: Ticket,
    /// The bytes of files chosen for messages not stored yet, by key.
    files: HashMap<String, web_sys::Blob>,
}

/// The runtime as `ChatContext` holds it (JS values: this thread only).
pub type RuntimeCell = StoredValue<Runtime, LocalStorage>;

pub fn new_runtime(me: Option<Me>, open: Vec<OpenChat>) -> RuntimeCell {
    StoredValue::new_local(Runtime {
        state: State::new(me, open),
        queue: VecDeque::new(),
        busy: false,
        socket: None,
        forms: HashMap::new(),
        next_ticket: 0,
        files: HashMap::new(),
    })
}

/// Keeps a chosen file's bytes under `key` until its message is stored.
pub fn keep_file(ctx: ChatContext, key: String, file: web_sys::Blob) {
    ctx.live.update_value(|r| {
        r.files.insert(key, file);
    });
}

pub fn forget_files(ctx: ChatContext, keys: &[String]) {
    ctx.live.update_value(|r| {
        for k in keys {
            r.files.remove(k);
        }
    });
}

pub fn set_socket(ctx: ChatContext, s: Socket) {
    ctx.live.update_value(|r| r.socket = Some(s));
}

/// Keeps a form's callback until its answer; the ticket names it.
pub fn form(ctx: ChatContext, done: Done) -> Option<Ticket> {
    ctx.live.try_update_value(|r| {
        r.next_ticket += 1;
        r.forms.insert(r.next_ticket, done);
        r.next_ticket
    })
}

fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.hidden())
}

/// Handles `msg` (after any queued before it), and what it brings about.
/// Does nothing once the page is torn down.
pub fn dispatch(ctx: ChatContext, msg: Msg) {
    let first = ctx.live.try_update_value(|r| {
        r.queue.push_back(msg);
        !std::mem::replace(&mut r.busy, true)
    });
    if first != Some(true) {
        return;
    }
    loop {
        let step = ctx.live.try_update_value(|r| {
            let Some(msg) = r.queue.pop_front() else {
                r.busy = false;
                return None;
            };
            let env = Env {
                now: chrono::Utc::now(),
                connected: r.socket.as_ref().is_some_and(Socket::connected),
                tab_hidden: tab_hidden(),
                small_screen: crate::chat::small_screen(),
            };
            let effects = state::update(&mut r.state, &env, msg);
            publish(ctx, &r.state);
            Some((effects, r.socket.clone()))
        });
        let Some(Some((effects, socket))) = step else {
            return;
        };
        for e in effects {
            run(ctx, socket.as_ref(), e);
        }
    }
}

/// Sets `signal` to `value` if it differs (views re-render only then).
fn put<T: Clone + PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: &T) {
    signal.try_maybe_update(|v| {
        let changed = v != value;
        if changed {
            *v = value.clone();
        }
        (changed, ())
    });
}

fn publish(ctx: ChatContext, s: &State) {
    put(ctx.status, &s.status);
    put(ctx.transport, &s.transport);
    put(ctx.chats, &s.chats);
    put(ctx.chats_loaded, &s.chats_loaded);
    put(ctx.chats_more, &s.chats_more);
    put(ctx.threads, &s.threads);
    put(ctx.open, &s.open);
    put(ctx.typing, &s.typing);
    put(ctx.presence, &s.presence);
    put(ctx.notifications, &s.notifications);
    put(ctx.providers, &s.providers);
    put(ctx.drafts, &s.drafts);
    put(ctx.announcement, &s.announcement);
    put(ctx.toast, &s.toast);
    put(ctx.search, &s.search);
    put(ctx.jump, &s.jump);
    put(ctx.uploads, &s.uploads());
    put(ctx.progress, &s.progress);
    put(ctx.moderation_rev, &s.moderation_rev);
    put(ctx.disputes_rev, &s.disputes_rev);
}

fn me(ctx: ChatContext) -> Option<crate::model::UserId> {
    ctx.me.get_value().map(|m| m.id)
}

fn run(ctx: ChatContext, socket: Option<&Socket>, e: Effect) {
    match e {
        Effect::Join {
            chat,
            after,
            attempt,
        } => {
            let req = JoinChat {
                chat_id: chat,
                after_seq: after,
                after_message_id: None,
            };
            if let Some(s) = socket {
                s.request(&req, ACK_TIMEOUT_MS, move |result| {
                    dispatch(
                        ctx,
                        Msg::Joined {
                            chat,
                            after,
                            attempt,
                            result,
                        },
                    )
                });
            }
        }
        Effect::Send(out) => {
            if let Some(s) = socket {
                let (chat, client_id) = (out.chat_id, out.client_id.clone());
                s.request(&out.request(), ACK_TIMEOUT_MS, move |result| {
                    dispatch(
                        ctx,
                        Msg::SendAnswered {
                            chat,
                            client_id,
                            result,
                        },
                    )
                });
            }
        }
        Effect::Upload {
            chat,
            client_id,
            key,
            name,
        } => {
            let blob = ctx
                .live
                .try_with_value(|r| r.files.get(&key).cloned())
                .flatten();
            let key_again = key.clone();
            let answer = {
                let key = key.clone();
                let client_id = client_id.clone();
                move |result| {
                    dispatch(
                        ctx,
                        Msg::Uploaded {
                            chat,
                            client_id,
                            key,
                            result,
                        },
                    )
                }
            };
            let url = upload::url(chat, &client_id, &name);
            let go = move |blob: Option<web_sys::Blob>| match blob {
                None => answer(Err(UploadFailure::Missing)),
                Some(blob) => {
                    let for_progress = key.clone();
                    upload::start(
                        &url,
                        &blob,
                        move |percent| {
                            dispatch(
                                ctx,
                                Msg::UploadProgress {
                                    key: for_progress.clone(),
                                    percent,
                                },
                            )
                        },
                        answer,
                    );
                }
            };
            match blob {
                Some(blob) => go(Some(blob)),
                // Chosen before a reload: from IndexedDB, if kept there.
                None => file_store::load(key_again, go),
            }
        }
        Effect::KeepFiles(keys) => {
            let files: Vec<(String, web_sys::Blob)> = ctx
                .live
                .try_with_value(|r| {
                    keys.iter()
                        .filter_map(|k| r.files.get(k).map(|b| (k.clone(), b.clone())))
                        .collect()
                })
                .unwrap_or_default();
            file_store::save(files);
        }
        Effect::ForgetFiles(keys) => {
            forget_files(ctx, &keys);
            file_store::delete(keys);
        }
        Effect::Edit { ticket, request } => revise(ctx, socket, ticket, &request),
        Effect::Delete { ticket, request } => revise(ctx, socket, ticket, &request),
        Effect::Leave(chat) => {
            if let Some(s) = socket {
                s.request(&LeaveChat { chat_id: chat }, ACK_TIMEOUT_MS, |_| {});
            }
        }
        Effect::MarkRead { chat, message } => {
            if let Some(s) = socket {
                let req = MarkRead {
                    chat_id: chat,
                    message_id: message,
                };
                s.request(&req, ACK_TIMEOUT_MS, |_| {});
            }
        }
        Effect::Typing(req) => {
            if let Some(s) = socket {
                s.emit(&req);
            }
        }
        Effect::Call(call) => spawn_local(async move {
            let answer = call_server(call).await;
            dispatch(ctx, Msg::Answered(answer));
        }),
        Effect::Outbox(change) => {
            let Some(me) = me(ctx) else { return };
            let mut outbox = backup::load_outbox(me);
            change.apply(&mut outbox);
            let saved = backup::save_outbox(me, &outbox);
            dispatch(ctx, Msg::OutboxStored { change, saved });
        }
        Effect::SaveCache(chat, messages) => {
            if let Some(me) = me(ctx) {
                backup::save_cache(me, chat, &messages);
            }
        }
        Effect::LoadCache(chat) => {
            if let Some(me) = me(ctx) {
                dispatch(ctx, Msg::CacheLoaded(chat, backup::load_cache(me, chat)));
            }
        }
        Effect::SaveDrafts(drafts) => {
            if let Some(me) = me(ctx) {
                backup::save_drafts(me, &drafts);
            }
        }
        Effect::SaveOpen(open) => {
            if let Some(me) = me(ctx) {
                backup::save_open(me, &open);
            }
        }
        Effect::ClearStorage => {
            backup::clear_all();
            file_store::clear();
        }
        Effect::Later { ms, msg } => spawn_local(async move {
            gloo_timers::future::TimeoutFuture::new(ms).await;
            dispatch(ctx, *msg);
        }),
        Effect::Reconnect => {
            if let Some(s) = socket {
                s.reconnect();
            }
        }
        Effect::Disconnect => {
            if let Some(s) = socket {
                s.disconnect();
            }
        }
        Effect::GoTo(path) => {
            if let Some(w) = web_sys::window() {
                let _ = w.location().assign(path);
            }
        }
        Effect::Notify { chat, title, body } => super::desktop::show(ctx, chat, &title, &body),
        Effect::Reply { ticket, result } => {
            if let Some(done) = ctx
                .live
                .try_update_value(|r| r.forms.remove(&ticket))
                .flatten()
            {
                done(result);
            }
        }
    }
}

/// Sends an edit or deletion; its ack (or why there was none) comes back as
/// `Msg::Revised`, so the form that asked always hears an answer.
fn revise<R>(ctx: ChatContext, socket: Option<&Socket>, ticket: Ticket, request: &R)
where
    R: Request<Reply = SendReply>,
{
    let answer = move |result| dispatch(ctx, Msg::Revised { ticket, result });
    match socket {
        Some(s) => s.request(request, ACK_TIMEOUT_MS, answer),
        None => answer(Err(RequestFailure::TimedOut)),
    }
}

/// Calls the server function and says what the answer was for.
async fn call_server(call: Call) -> Answer {
    match call {
        Call::ListChats(before) => Answer::ChatList {
            before,
            result: api::list_chats(before).await,
        },
        Call::Messages {
            chat,
            page,
            purpose,
        } => Answer::Messages {
            chat,
            purpose,
            result: api::list_messages(chat, page).await,
        },
        Call::Notifications => Answer::Notifications(api::list_notifications(false).await),
        Call::ReadNotification(id) => Answer::NotificationRead(match id {
            Some(id) => api::read_notification(id).await,
            None => api::read_all_notifications().await,
        }),
        Call::Providers => Answer::Providers(api::providers().await),
        Call::Search(request) => Answer::Searched {
            query: request.q.clone(),
            offset: request.offset.unwrap_or(0),
            result: api::search_messages(request).await,
        },
        Call::Submit { ticket, form } => match form {
            Form::BookJob {
                provider,
                title,
                description,
            } => Answer::Booked {
                ticket,
                result: api::book_job(provider, title, description).await,
            },
            Form::AddLsm { chat, reason } => Answer::Settled {
                ticket,
                result: api::open_dispute(chat, reason).await.map(|_| ()),
            },
            Form::JobStep { job, to } => Answer::Settled {
                ticket,
                result: api::change_job_status(job, to).await.map(|_| ()),
            },
        },
        Call::Logout => {
            let _ = api::logout().await;
            Answer::LoggedOut
        }
    }
}
