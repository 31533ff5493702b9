//! Chat messages: idempotent inserts and keyset paging by id.

use super::{Db, Result, StorageError, on_pool};
use app::model::{ChatId, Message, MessageId, MessageKind, Role, UserId};
use chrono::{DateTime, Utc};

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub(super) id: i64,
    pub(super) chat_id: i64,
    pub(super) sender_id: Option<i64>,
    pub(super) sender_name: Option<String>,
    pub(super) sender_role: Option<String>,
    pub(super) content: String,
    pub(super) client_id: Option<String>,
    pub(super) kind: String,
    pub(super) created_at: DateTime<Utc>,
}

impl TryFrom<MessageRow> for Message {
    type Error = StorageError;
    fn try_from(r: MessageRow) -> Result<Self> {
        let kind = match r.kind.as_str() {
            "user" => MessageKind::User,
            "system" => MessageKind::System,
            other => return Err(StorageError::Corrupt(format!("message kind {other:?}"))),
        };
        Ok(Message {
            id: r.id,
            chat_id: r.chat_id,
            sender_id: r.sender_id,
            sender_name: r.sender_name,
            sender_role: r.sender_role.as_deref().and_then(Role::parse),
            content: r.content,
            client_id: r.client_id,
            kind,
            created_at: r.created_at,
        })
    }
}

/// Selects messages with their sender's name and role in the chat.
pub(super) const MESSAGE_SELECT: &str = "SELECT m.id, m.chat_id, m.sender_id, u.name AS sender_name, \
     u.role AS sender_role, m.content, m.client_id, m.kind, m.created_at \
     FROM messages m LEFT JOIN users u ON u.id = m.sender_id";

/// Appends a message to a chat inside an open transaction and moves the
/// chat's last-message pointer. Used by every write path that adds a message.
macro_rules! insert_message_tx {
    ($tx:expr, $chat:expr, $sender:expr, $kind:expr, $content:expr, $client_id:expr) => {{
        let at = $crate::storage::now();
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO messages (chat_id, sender_id, kind, content, client_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (chat_id, sender_id, client_id) DO NOTHING RETURNING id",
        )
        .bind($chat)
        .bind($sender)
        .bind($kind)
        .bind($content)
        .bind($client_id)
        .bind(at)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some((id,)) = inserted {
            sqlx::query(
                "UPDATE chats SET last_message_id = $1, last_message_at = $2 WHERE id = $3",
            )
            .bind(id)
            .bind(at)
            .bind($chat)
            .execute(&mut *$tx)
            .await?;
        }
        inserted.map(|r| r.0)
    }};
}
pub(super) use insert_message_tx;

/// Loads one message (with sender details) inside a transaction.
macro_rules! fetch_message_tx {
    ($tx:expr, $id:expr) => {{
        let sql = format!(
            "{} WHERE m.id = $1",
            $crate::storage::messages::MESSAGE_SELECT
        );
        let row: $crate::storage::messages::MessageRow =
            sqlx::query_as(&sql).bind($id).fetch_one(&mut *$tx).await?;
        app::model::Message::try_from(row)?
    }};
}
pub(super) use fetch_message_tx;

/// What a send produced: the stored message, and whether this call stored it
/// (false for an idempotent resend of a message stored before).
pub struct SentMessage {
    pub message: Message,
    pub created: bool,
}

/// Which slice of history to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageQuery {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub limit: i64,
}

impl Db {
    /// Stores a user's message once per `client_id`: a resend returns the
    /// message stored the first time and writes nothing.
    pub async fn insert_user_message(
        &self,
        chat_id: ChatId,
        sender_id: UserId,
        content: &str,
        client_id: &str,
    ) -> Result<SentMessage> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let id = insert_message_tx!(tx, chat_id, Some(sender_id), MessageKind::User.as_str(), content, Some(client_id));
            let (id, created) = match id {
                Some(id) => (id, true),
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "SELECT id FROM messages WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3",
                    )
                    .bind(chat_id)
                    .bind(sender_id)
                    .bind(client_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    (id, false)
                }
            };
            let message = fetch_message_tx!(tx, id);
            tx.commit().await?;
            Ok(SentMessage { message, created })
        })
    }

    /// A page of a chat's history, oldest first.
    ///
    /// * `before` — the newest `limit` messages older than it (scrolling up);
    /// * `after` — the oldest `limit` messages newer than it (catching up);
    /// * neither — the newest `limit` messages.
    ///
    /// `has_more` says whether more exist beyond the page in the direction read.
    pub async fn list_messages(
        &self,
        chat_id: ChatId,
        q: PageQuery,
    ) -> Result<(Vec<Message>, bool)> {
        let fetch = q.limit + 1;
        let (sql, ascending) = match q.after {
            Some(_) => (
                format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.id > $2 AND m.id < $3 ORDER BY m.id ASC LIMIT $4"
                ),
                true,
            ),
            None => (
                format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.id > $2 AND m.id < $3 ORDER BY m.id DESC LIMIT $4"
                ),
                false,
            ),
        };
        let lower = q.after.unwrap_or(0);
        let upper = q.before.unwrap_or(i64::MAX);
        let rows: Vec<MessageRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(chat_id).bind(lower).bind(upper).bind(fetch).fetch_all(pool).await?
        });
        let has_more = rows.len() as i64 > q.limit;
        let mut messages = rows
            .into_iter()
            .take(q.limit as usize)
            .map(Message::try_from)
            .collect::<Result<Vec<_>>>()?;
        if !ascending {
            messages.reverse();
        }
        Ok((messages, has_more))
    }

    /// Whether `message_id` belongs to `chat_id`.
    pub async fn message_in_chat(&self, chat_id: ChatId, message_id: MessageId) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM messages WHERE id = $1 AND chat_id = $2")
                .bind(message_id)
                .bind(chat_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.is_some())
    }

    /// Moves a participant's read marker forward (never back). Returns whether it moved.
    pub async fn mark_read(
        &self,
        chat_id: ChatId,
        user_id: UserId,
        message_id: MessageId,
    ) -> Result<bool> {
        let done = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE chat_participants SET last_read_message_id = $3 \
                 WHERE chat_id = $1 AND user_id = $2 AND last_read_message_id < $3",
            )
            .bind(chat_id)
            .bind(user_id)
            .bind(message_id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }
}
