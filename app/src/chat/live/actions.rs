//! One-time actions through server functions: book a job (its chat opens),
//! add an LSM (open a dispute), resolve a dispute, the providers to book,
//! logout (which also clears everything stored locally).

use super::{backup, chats, connection, go_to, session_ended, threads};
use crate::api;
use crate::chat::ChatContext;
use crate::error::AppError;
use crate::model::{ChatId, UserId};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// What a form hears back: done, or the error to show.
pub type Done = Box<dyn FnOnce(Result<(), AppError>)>;

/// Tells the form; an ended session also leads to the sign-in page.
fn answer<T>(res: Result<T, AppError>, done: Done) -> Option<T> {
    match res {
        Ok(v) => {
            done(Ok(()));
            Some(v)
        }
        Err(e) => {
            session_ended(&e);
            done(Err(e));
            None
        }
    }
}

pub fn book_job(
    ctx: ChatContext,
    provider: UserId,
    title: String,
    description: String,
    done: Done,
) {
    spawn_local(async move {
        if let Some(booking) = answer(api::book_job(provider, title, description).await, done) {
            chats::refresh(ctx);
            // createConversation(chatId) in the seed: the chat opens at once.
            threads::open_chat(ctx, booking.chat_id);
        }
    });
}

/// "Add LSM": opens a dispute; the chat list shows the LSM once it is in.
pub fn add_lsm(ctx: ChatContext, chat: ChatId, reason: String, done: Done) {
    spawn_local(async move {
        if answer(api::open_dispute(chat, reason).await, done).is_some() {
            chats::refresh(ctx);
        }
    });
}

pub fn resolve_dispute(ctx: ChatContext, dispute: i64, resolution: String, done: Done) {
    spawn_local(async move {
        if answer(api::resolve_dispute(dispute, resolution).await, done).is_some() {
            chats::refresh(ctx);
        }
    });
}

/// The providers a customer can book (the form waits for them).
pub fn load_providers(ctx: ChatContext) {
    spawn_local(async move {
        match api::providers().await {
            Ok(p) => ctx.providers.set(p),
            Err(e) => {
                session_ended(&e);
            }
        }
    });
}

/// Closes the socket, forgets everything stored locally, ends the session.
pub fn logout(ctx: ChatContext) {
    connection::close(ctx);
    backup::clear_all();
    spawn_local(async move {
        // Signed out either way: the cookie is cleared or already invalid.
        let _ = api::logout().await;
        go_to("/login");
    });
}
