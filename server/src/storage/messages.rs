//! Chat messages: idempotent inserts, each numbered with its chat's next
//! `seq` under the chat row's lock, and keyset paging by seq.

use super::notifications::{BellWording, NOTIFICATION_COLUMNS, NotificationRow};
use super::{Db, Result, StorageError, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{
    ChatId, Message, MessageId, MessageKind, Notification, Revision, Role, Seq, UserId,
};

#[derive(sqlx::FromRow)]
pub(super) struct MessageRow {
    pub(super) id: i64,
    pub(super) chat_id: i64,
    pub(super) seq: i64,
    pub(super) sender_id: Option<i64>,
    pub(super) sender_name: Option<String>,
    pub(super) sender_role: Option<String>,
    pub(super) content: String,
    pub(super) client_id: Option<String>,
    pub(super) kind: String,
    /// A system line's `SystemEvent`, as JSON.
    pub(super) event: Option<String>,
    pub(super) created_at: DateTime<Utc>,
    /// `edit` or `delete` for a change row (`kind` is `user`); then the
    /// columns below are its target's.
    #[sqlx(default)]
    pub(super) change: Option<String>,
    #[sqlx(default)]
    pub(super) target_id: Option<i64>,
    #[sqlx(default)]
    pub(super) revised_seq: Option<i64>,
    #[sqlx(default)]
    pub(super) edited_at: Option<DateTime<Utc>>,
    #[sqlx(default)]
    pub(super) deleted_at: Option<DateTime<Utc>>,
    /// Masking changed the text (for a change row: its target's).
    #[sqlx(default)]
    pub(super) masked: bool,
    /// A moderator removed it (for a change row: its target).
    #[sqlx(default)]
    pub(super) hidden: bool,
}

impl TryFrom<MessageRow> for Message {
    type Error = StorageError;
    fn try_from(r: MessageRow) -> Result<Self> {
        let kind = match (r.kind.as_str(), r.change.as_deref()) {
            ("user", None) => MessageKind::User,
            ("user", Some("edit")) => MessageKind::Edit,
            ("user", Some("delete")) => MessageKind::Delete,
            ("system", None) => MessageKind::System,
            (kind, change) => {
                return Err(StorageError::Corrupt(format!(
                    "message kind {kind:?}, change {change:?}"
                )));
            }
        };
        let event = match (&kind, r.event.as_deref()) {
            (MessageKind::System, Some(json)) => {
                Some(Box::new(serde_json::from_str(json).map_err(|e| {
                    StorageError::Corrupt(format!("system event {json:?}: {e}"))
                })?))
            }
            _ => None,
        };
        Ok(Message {
            id: r.id,
            chat_id: r.chat_id,
            seq: r.seq,
            sender_id: r.sender_id,
            sender_name: r.sender_name,
            sender_role: r.sender_role.as_deref().and_then(Role::parse),
            content: r.content,
            client_id: r.client_id,
            kind,
            event,
            created_at: r.created_at,
            target_id: r.target_id,
            revision: r.revised_seq.map(|seq| {
                Box::new(Revision {
                    seq,
                    edited_at: r.edited_at,
                    deleted_at: r.deleted_at,
                    hidden: r.hidden,
                })
            }),
            // Filled in by `Db::fill_attachments` where they are wanted.
            attachments: Vec::new(),
            masked: r.masked,
        })
    }
}

/// What reading a chat up to a message did.
#[derive(Debug)]
pub struct ReadOutcome {
    /// The marker moved (false: it was already there or beyond).
    pub moved: bool,
    /// The message's seq.
    pub seq: Seq,
    /// Other people's messages after it (the chat's unread badge).
    pub unread: i64,
    /// The user's new-message bell entries for the chat that changed.
    pub bells: Vec<Notification>,
}

/// Selects messages with their sender's name and role in the chat; an edit
/// or deletion carries its target's current text and revision (`t`), so a
/// client catching up sees the message as it is now, and never a version
/// that was edited away.
pub(super) const MESSAGE_SELECT: &str = "SELECT m.id, m.chat_id, m.seq, m.sender_id, u.name AS sender_name, \
     u.role AS sender_role, COALESCE(t.content, m.content) AS content, m.client_id, m.kind, m.event, \
     m.created_at, m.change, m.target_id, COALESCE(t.revised_seq, m.revised_seq) AS revised_seq, \
     COALESCE(t.edited_at, m.edited_at) AS edited_at, COALESCE(t.deleted_at, m.deleted_at) AS deleted_at, \
     (CASE WHEN m.target_id IS NULL THEN m.original ELSE t.original END) IS NOT NULL AS masked, \
     COALESCE(t.hidden_by, m.hidden_by) IS NOT NULL AS hidden \
     FROM messages m LEFT JOIN users u ON u.id = m.sender_id LEFT JOIN messages t ON t.id = m.target_id";

/// Loads one message (with sender details) inside a transaction.
macro_rules! fetch_message_tx {
    ($tx:expr, $id:expr) => {{
        let sql = format!(
            "{} WHERE m.id = $1",
            $crate::storage::messages::MESSAGE_SELECT
        );
        let row: $crate::storage::messages::MessageRow =
            sqlx::query_as(&sql).bind($id).fetch_one(&mut *$tx).await?;
        contract::model::Message::try_from(row)?
    }};
}
pub(super) use fetch_message_tx;

/// A user's message to store.
#[derive(Clone, Debug)]
pub struct NewUserMessage {
    pub chat_id: ChatId,
    pub sender_id: UserId,
    /// What everyone sees (masked, when masking is on).
    pub content: String,
    /// What the sender wrote, when masking changed it.
    pub original: Option<String>,
    pub client_id: String,
    /// Files were uploaded for it (the stored message is read back with
    /// them).
    pub attachments: bool,
}

/// What a send produced: the stored message, and whether this call stored it
/// (false for an idempotent resend of a message stored before).
pub struct SentMessage {
    pub message: Message,
    pub created: bool,
}

/// Where a page starts or ends: a seq, or (for clients written before seqs)
/// a message id, which is read as that message's seq.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cursor {
    Seq(Seq),
    Id(MessageId),
}

/// Which slice of history to read.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageQuery {
    pub before: Option<Cursor>,
    pub after: Option<Cursor>,
    pub limit: i64,
}

impl Db {
    /// Stores a user's message once per `client_id`: a resend returns the
    /// message stored the first time and writes nothing. `None` (nothing
    /// written) when there is no such chat or the sender is not in it.
    pub async fn insert_user_message(
        &self,
        chat_id: ChatId,
        sender_id: UserId,
        content: &str,
        client_id: &str,
        wording: BellWording,
    ) -> Result<Option<SentMessage>> {
        let one = NewUserMessage {
            chat_id,
            sender_id,
            content: content.to_owned(),
            original: None,
            client_id: client_id.to_owned(),
            attachments: false,
        };
        let mut stored = self
            .insert_user_messages(std::slice::from_ref(&one), wording, None)
            .await?;
        Ok(stored.results.pop().flatten())
    }

    /// The seq a cursor stands for. A message id is that message's seq; an
    /// id that is not in the chat falls to the nearest message below it
    /// (`after`) or above it (`before`).
    async fn resolve_cursor(&self, chat_id: ChatId, cursor: Cursor, after: bool) -> Result<Seq> {
        let id = match cursor {
            Cursor::Seq(seq) => return Ok(seq),
            Cursor::Id(id) => id,
        };
        let sql = if after {
            "SELECT seq FROM messages WHERE chat_id = $1 AND id <= $2 ORDER BY id DESC LIMIT 1"
        } else {
            "SELECT seq FROM messages WHERE chat_id = $1 AND id >= $2 ORDER BY id ASC LIMIT 1"
        };
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(chat_id).bind(id).fetch_optional(pool).await?
        });
        Ok(match row {
            Some((seq,)) => seq,
            None if after => 0,
            None => i64::MAX,
        })
    }

    /// A page of a chat's history, oldest first.
    ///
    /// * `before` — the newest `limit` messages below its seq (scrolling up);
    /// * `after` — the oldest `limit` messages above its seq (catching up);
    /// * neither — the newest `limit` messages.
    ///
    /// `has_more` says whether more exist beyond the page in the direction read.
    /// `upto` caps the history at that seq (what someone who left may read).
    pub async fn list_messages(
        &self,
        chat_id: ChatId,
        q: PageQuery,
        upto: Option<Seq>,
    ) -> Result<(Vec<Message>, bool)> {
        let fetch = q.limit + 1;
        let (sql, ascending) = match q.after {
            Some(_) => (
                format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq ASC LIMIT $4"
                ),
                true,
            ),
            None => (
                format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.seq > $2 AND m.seq < $3 ORDER BY m.seq DESC LIMIT $4"
                ),
                false,
            ),
        };
        let lower = match q.after {
            Some(c) => self.resolve_cursor(chat_id, c, true).await?,
            None => 0,
        };
        let upper = match q.before {
            Some(c) => self.resolve_cursor(chat_id, c, false).await?,
            None => i64::MAX,
        };
        let upper = upper.min(upto.map_or(i64::MAX, |seq| seq.saturating_add(1)));
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
        self.fill_attachments(&mut messages).await?;
        Ok((messages, has_more))
    }
    /// One message of a chat (with its files), if it is there at or below
    /// `upto`.
    pub async fn get_message(
        &self,
        chat_id: ChatId,
        id: MessageId,
        upto: Option<Seq>,
    ) -> Result<Option<Message>> {
        let sql = format!("{MESSAGE_SELECT} WHERE m.id = $1 AND m.chat_id = $2 AND m.seq <= $3");
        let row: Option<MessageRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id)
                .bind(chat_id)
                .bind(upto.unwrap_or(Seq::MAX))
                .fetch_optional(pool)
                .await?
        });
        let Some(row) = row else { return Ok(None) };
        let mut one = [Message::try_from(row)?];
        self.fill_attachments(&mut one).await?;
        let [message] = one;
        Ok(Some(message))
    }

    /// Moves the user's read marker in `chat_id` up to `message_id` (never
    /// back) and, when it moved, settles their new-message bell for that
    /// chat in the same transaction: an unread bell entry that stands for
    /// messages up to the new marker is read; one that also stands for
    /// newer messages is recounted to just those. `None`: no such message
    /// in the chat.
    pub async fn mark_read(
        &self,
        chat_id: ChatId,
        user_id: UserId,
        message_id: MessageId,
        wording: BellWording,
    ) -> Result<Option<ReadOutcome>> {
        let bells = format!(
            "UPDATE notifications SET \
               read_at = CASE WHEN seq IS NULL OR seq <= $3 OR $4 = 0 THEN $5 ELSE read_at END, \
               count = CASE WHEN seq IS NULL OR seq <= $3 OR $4 = 0 THEN count ELSE $4 END, \
               title = CASE WHEN seq IS NULL OR seq <= $3 OR $4 = 0 OR title_suffix IS NULL THEN title \
                 WHEN $4 = 1 THEN $6 || SUBSTR(title_suffix, {after}) \
                 ELSE CAST($4 AS TEXT) || title_suffix END \
             WHERE user_id = $1 AND chat_id = $2 AND kind = 'new_message' AND read_at IS NULL \
             RETURNING {NOTIFICATION_COLUMNS}",
            // `title_suffix` is " new messages from …": what follows "N"
            // in a count's title; after " new messages" it fits "New message".
            after = wording.many.chars().count() + 1,
        );
        on_pool!(self, pool => {
            // A message's seq never changes: read it before the
            // transaction, whose first statement must be its write (on
            // SQLite a transaction that reads first cannot wait for the
            // write lock later; it fails "database is locked" at once).
            let seq: Option<(i64,)> =
                sqlx::query_as("SELECT seq FROM messages WHERE id = $1 AND chat_id = $2")
                    .bind(message_id)
                    .bind(chat_id)
                    .fetch_optional(pool)
                    .await?;
            let Some((seq,)) = seq else { return Ok(None) };
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE chat_participants SET last_read_message_id = $3, last_read_seq = $4 \
                 WHERE chat_id = $1 AND user_id = $2 AND last_read_seq < $4",
            )
            .bind(chat_id)
            .bind(user_id)
            .bind(message_id)
            .bind(seq)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if !moved {
                tx.commit().await?;
                return Ok(Some(ReadOutcome { moved, seq, unread: 0, bells: Vec::new() }));
            }
            // As the chat list counts unread: other people's messages.
            let (unread,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND seq > $2 \
                 AND sender_id IS NOT NULL AND sender_id <> $3 AND target_id IS NULL",
            )
            .bind(chat_id)
            .bind(seq)
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            let rows: Vec<NotificationRow> = sqlx::query_as(&bells)
                .bind(user_id)
                .bind(chat_id)
                .bind(seq)
                .bind(unread)
                .bind(now())
                .bind(wording.one)
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(ReadOutcome {
                moved,
                seq,
                unread,
                bells: rows.into_iter().map(Into::into).collect(),
            }))
        })
    }
}
