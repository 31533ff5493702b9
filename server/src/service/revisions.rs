//! Editing and deleting one's own messages, and the versions an LSM reads.
//!
//! Each change is stored as a message of its own with the chat's next seq
//! (`storage::revisions`) and broadcast as `new_message`, so every node's
//! clients apply it in the chat's order and a client that was away catches
//! up on it by seq like on anything else.

use super::{AuthUser, Result, Service, ServiceError};
use crate::metrics;
use crate::storage::{Change, ChangeRefused, NewChange};
use contract::model::{ChatId, Message, MessageHistory, MessageId, Role};
use contract::protocol::NewMessage;
use contract::validate::{ClientId, MessageText};

const NOT_YOURS: &str = "only its sender can edit or delete a message";
const NOT_AN_LSM: &str = "only the LSM of a dispute on this chat sees a message's versions";

impl Service {
    /// Replaces the text of the caller's own message, within the edit
    /// window; a resend with the same client id answers with the edit
    /// stored the first time.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat, message_id = message))]
    pub async fn edit_message(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
        text: MessageText,
        client_id: ClientId,
    ) -> Result<Message> {
        let on = self.masking_on(chat).await?;
        let text = self.inner.masking.edit(text.as_str(), on);
        let change = Change::Edit(text.shown);
        self.change(actor, chat, message, change, Some(client_id), text.original)
            .await
    }

    /// Deletes the caller's own message (at any time); deleting it again
    /// answers with the first deletion.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat, message_id = message))]
    pub async fn delete_message(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<Message> {
        self.change(actor, chat, message, Change::Delete, None, None)
            .await
    }

    async fn change(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
        change: Change,
        client_id: Option<ClientId>,
        original: Option<String>,
    ) -> Result<Message> {
        let window = self.inner.limits.edit_window();
        let kind = match change {
            Change::Edit(_) => "edit",
            Change::Delete => "delete",
        };
        let new = NewChange {
            chat_id: chat,
            sender_id: actor.id,
            target_id: message,
            change,
            client_id: client_id.map(|c| c.as_str().to_owned()),
            edit_window: window,
            original,
            moderation: None,
        };
        let stored = match self.inner.db.change_message(&new).await? {
            Ok(stored) => stored,
            Err(ChangeRefused::NotInChat) => {
                // Someone who left is told so; an outsider learns nothing.
                self.authorize_chat(actor, chat).await?;
                return Err(ServiceError::NotFound("chat"));
            }
            Err(ChangeRefused::NoSuchMessage) => return Err(ServiceError::NotFound("message")),
            Err(ChangeRefused::NotYours) => return Err(ServiceError::Forbidden(NOT_YOURS)),
            Err(ChangeRefused::Deleted) => {
                return Err(ServiceError::Conflict {
                    message: "the message was deleted".into(),
                    details: None,
                });
            }
            Err(ChangeRefused::ItemClosed) => {
                return Err(ServiceError::Conflict {
                    message: "the item was closed by another moderator".into(),
                    details: None,
                });
            }
            Err(ChangeRefused::TooLate) => {
                let minutes = window.as_secs() / 60;
                return Err(ServiceError::Conflict {
                    message: match window.as_secs() {
                        0 => "messages cannot be edited here".into(),
                        s if s % 60 == 0 => {
                            format!("a message can be edited for {minutes} min after it is sent")
                        }
                        s => format!("a message can be edited for {s} s after it is sent"),
                    },
                    details: None,
                });
            }
        };
        if stored.created {
            metrics::message_stored(kind);
            self.inner
                .broadcast
                .to_chat(chat, &NewMessage(stored.message.clone()))
                .await;
        }
        Ok(stored.message)
    }

    /// Every version of a message, for the LSM of a dispute on its chat
    /// (one who left it after the settlement sees them as they stood
    /// then). Anyone else in the chat is refused; outsiders learn nothing.
    pub async fn message_history(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<MessageHistory> {
        self.inner.limits.read(actor.id)?;
        let m = self.membership(actor, chat).await?;
        if m.role != Role::Lsm {
            return Err(ServiceError::Forbidden(NOT_AN_LSM));
        }
        self.inner
            .db
            .message_history(chat, message, m.left_seq)
            .await?
            .ok_or(ServiceError::NotFound("message"))
    }
}
