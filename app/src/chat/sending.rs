//! `ChatContext`'s operations on what the user sends: messages and their
//! files, retries and discards, edits and deletions. Each only dispatches a
//! message into the live state (`state::update`), like the rest.

#[cfg(feature = "hydrate")]
use super::live;
use super::state::Msg;
use super::{ChatContext, new_id, outgoing};
use crate::error::AppError;
use crate::model::{ChatId, MessageId};

impl ChatContext {
    pub fn send(&self, chat_id: ChatId, text: String) {
        self.send_with_files(chat_id, text, Vec::new());
    }

    /// Sends a message with files kept by `keep_file` (uploaded first, under
    /// the message's client id; `text` is then its caption).
    pub fn send_with_files(&self, chat_id: ChatId, text: String, files: Vec<outgoing::FileUpload>) {
        self.dispatch(Msg::Send {
            chat: chat_id,
            text,
            client_id: new_id(),
            files,
        });
        self.offer_desktop();
    }

    /// Keeps a chosen file's bytes until its message is stored or
    /// discarded; the key names them.
    #[cfg(feature = "hydrate")]
    pub fn keep_file(&self, file: &web_sys::Blob) -> String {
        let key = new_id();
        live::keep_file(*self, key.clone(), file.clone());
        key
    }

    /// Drops chosen files' bytes (removed before sending).
    pub fn forget_files(&self, keys: Vec<String>) {
        #[cfg(feature = "hydrate")]
        live::forget_files(*self, &keys);
        #[cfg(not(feature = "hydrate"))]
        let _ = keys;
    }

    /// Removes a refused file from a queued message; the rest then go.
    pub fn remove_file(&self, chat_id: ChatId, client_id: String, key: String) {
        self.dispatch(Msg::RemoveFile {
            chat: chat_id,
            client_id,
            key,
        });
    }

    pub fn retry(&self, chat_id: ChatId, client_id: String) {
        self.dispatch(Msg::Retry {
            chat: chat_id,
            client_id,
        });
    }

    /// Drops a "Not sent" message for good (the user pressed Discard).
    pub fn discard(&self, chat_id: ChatId, client_id: String) {
        self.dispatch(Msg::Discard {
            chat: chat_id,
            client_id,
        });
    }

    /// Replaces the text of the user's own message (`done` hears how it
    /// went; a refusal's `message` is for the user). Needs the connection.
    pub fn edit_message(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
        text: String,
        done: impl FnOnce(Result<(), AppError>) + 'static,
    ) {
        #[cfg(feature = "hydrate")]
        if let Some(ticket) = live::form(*self, Box::new(done)) {
            self.dispatch(Msg::Edit {
                ticket,
                chat: chat_id,
                message: message_id,
                text,
                client_id: uuid::Uuid::new_v4().to_string(),
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, message_id, text, done);
    }

    /// Deletes the user's own message, as `edit_message`.
    pub fn delete_message(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
        done: impl FnOnce(Result<(), AppError>) + 'static,
    ) {
        #[cfg(feature = "hydrate")]
        if let Some(ticket) = live::form(*self, Box::new(done)) {
            self.dispatch(Msg::Delete {
                ticket,
                chat: chat_id,
                message: message_id,
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, message_id, done);
    }
}
