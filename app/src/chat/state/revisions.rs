//! The user's edits and deletions of their own messages. Unlike a send
//! there is no outbox and nothing optimistic: a change is asked for only
//! on a live connection, and its answer goes straight back to the form
//! that asked (as a form's does, by ticket). The stored change the ack
//! carries is merged like a live one (`rooms::on_messages`), so the window
//! shows it before the form closes. Whose message it is and whether the
//! edit window is still open are the server's to decide.

use super::msg::{Effect, Env, Ticket};
use super::rooms;
use super::store::{State, reply};
use crate::chat::outgoing::RequestFailure;
use crate::error::{AppError, ErrorCode};
use crate::model::{ChatId, MessageId};
use crate::protocol::{DeleteMessage, EditMessage, SendReply};
use crate::validate::{ClientId, MessageText};

/// What an edit or deletion asked for offline is told.
pub const OFFLINE: &str =
    "You are offline: editing and deleting need the connection. Try again once it is back.";

/// What an edit or deletion that got no answer is told (it may still have
/// been stored: the window then shows it once it arrives).
pub const NO_ANSWER: &str = "No answer from the server. Try again.";

fn refuse(fx: &mut Vec<Effect>, ticket: Ticket, code: ErrorCode, why: impl Into<String>) {
    reply(fx, ticket, Err(AppError::new(code, why)));
}

/// "Save": checked here with the server's own rules (text, client id), then
/// `edit_message`. The same text again stores nothing and is done at once.
pub fn edit(
    s: &State,
    env: &Env,
    fx: &mut Vec<Effect>,
    ticket: Ticket,
    (chat, message): (ChatId, MessageId),
    (text, client_id): (String, String),
) {
    if !env.connected {
        return refuse(fx, ticket, ErrorCode::Unavailable, OFFLINE);
    }
    let text = match MessageText::parse(&text) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                fx,
                ticket,
                ErrorCode::BadRequest,
                format!("Message {}", e.message),
            );
        }
    };
    let client_id = match ClientId::parse(&client_id) {
        Ok(c) => c,
        Err(e) => return refuse(fx, ticket, ErrorCode::BadRequest, e.to_string()),
    };
    let unchanged = s
        .threads
        .get(&chat)
        .and_then(|th| th.lines.iter().find(|l| l.message.id == message))
        .is_some_and(|l| l.message.content == text.as_str());
    if unchanged {
        return reply(fx, ticket, Ok(()));
    }
    fx.push(Effect::Edit {
        ticket,
        request: EditMessage {
            chat_id: chat,
            message_id: message,
            content: text.as_str().to_owned(),
            client_id: client_id.as_str().to_owned(),
        },
    });
}

/// "Delete", confirmed: `delete_message` (deleting twice answers with the
/// first deletion, so a repeat is harmless).
pub fn delete(
    env: &Env,
    fx: &mut Vec<Effect>,
    ticket: Ticket,
    (chat, message): (ChatId, MessageId),
) {
    if !env.connected {
        return refuse(fx, ticket, ErrorCode::Unavailable, OFFLINE);
    }
    fx.push(Effect::Delete {
        ticket,
        request: DeleteMessage {
            chat_id: chat,
            message_id: message,
        },
    });
}

/// The ack of an edit or deletion: the stored change goes into its thread,
/// then the form hears how it went (a refusal's words, for the user).
pub fn answered(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    ticket: Ticket,
    result: Result<SendReply, RequestFailure>,
) {
    match result {
        Ok(SendReply { message }) => {
            rooms::on_messages(s, env, fx, message.chat_id, vec![message]);
            reply(fx, ticket, Ok(()));
        }
        Err(RequestFailure::Refused(e)) => reply(fx, ticket, Err(e)),
        Err(RequestFailure::TimedOut) => refuse(fx, ticket, ErrorCode::Unavailable, NO_ANSWER),
        Err(RequestFailure::Undecodable(why)) => refuse(
            fx,
            ticket,
            ErrorCode::Internal,
            format!("Unreadable answer from the server: {why}"),
        ),
    }
}
