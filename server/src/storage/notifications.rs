//! Notifications: the bell. New-message notifications are coalesced: while a
//! user has an unread one for a chat, later messages bump it instead of
//! adding rows. They are written with the messages, in the same transaction
//! (`Db::insert_user_messages`).

use super::{Db, Result, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{Notification, UserId};

#[derive(sqlx::FromRow)]
pub(super) struct NotificationRow {
    id: i64,
    kind: String,
    chat_id: Option<i64>,
    title: String,
    body: String,
    count: i64,
    seq: Option<i64>,
    created_at: DateTime<Utc>,
    read_at: Option<DateTime<Utc>>,
}

impl From<NotificationRow> for Notification {
    fn from(r: NotificationRow) -> Self {
        Notification {
            id: r.id,
            kind: r.kind,
            chat_id: r.chat_id,
            title: r.title,
            body: r.body,
            count: r.count,
            seq: r.seq,
            created_at: r.created_at,
            read_at: r.read_at,
        }
    }
}

pub(super) const NOTIFICATION_COLUMNS: &str =
    "id, kind, chat_id, title, body, count, seq, created_at, read_at";

/// Kinds of notification (the `kind` column).
pub mod kind {
    pub const NEW_MESSAGE: &str = "new_message";
    pub const DISPUTE_OPENED: &str = "dispute_opened";
    pub const DISPUTE_RESOLVED: &str = "dispute_resolved";
}

/// Inserts a plain (never coalesced) notification inside a transaction.
macro_rules! insert_notification_tx {
    ($tx:expr, $user:expr, $kind:expr, $chat:expr, $title:expr, $body:expr) => {{
        let at = $crate::storage::now();
        let sql = format!(
            "INSERT INTO notifications (user_id, kind, chat_id, title, body, count, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $6) RETURNING {}",
            $crate::storage::notifications::NOTIFICATION_COLUMNS
        );
        let row: $crate::storage::notifications::NotificationRow =
            sqlx::query_as(&sql).bind($user).bind($kind).bind($chat).bind($title).bind($body).bind(at)
                .fetch_one(&mut *$tx).await?;
        contract::model::Notification::from(row)
    }};
}
pub(super) use insert_notification_tx;

impl Db {
    pub async fn list_notifications(
        &self,
        user_id: UserId,
        unread_only: bool,
    ) -> Result<Vec<Notification>> {
        let sql = format!(
            "SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE user_id = $1 \
             AND ($2 = FALSE OR read_at IS NULL) ORDER BY updated_at DESC, id DESC LIMIT 100"
        );
        let rows: Vec<NotificationRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user_id).bind(unread_only).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Marks one of the user's notifications read; false when it is not theirs.
    pub async fn mark_notification_read(&self, user_id: UserId, id: i64) -> Result<bool> {
        let affected = on_pool!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(affected > 0)
    }

    pub async fn mark_all_notifications_read(&self, user_id: UserId) -> Result<u64> {
        Ok(on_pool!(self, pool => {
            sqlx::query("UPDATE notifications SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL")
                .bind(user_id)
                .bind(now())
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    /// How many rows the user's notifications take (tests check coalescing).
    pub async fn count_notifications(&self, user_id: UserId) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM notifications WHERE user_id = $1")
                .bind(user_id)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }
}

/// A new-message bell's texts: its title, what follows the count in a
/// recounted title ("3 new messages from …"), and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BellText {
    pub title: String,
    pub suffix: String,
    pub body: String,
}

/// How new-message bells are worded. The service chooses the words
/// (`service::texts::BELLS`); storage stores them, and recounts a title in
/// SQL from its stored suffix, but words nothing itself.
#[derive(Clone, Copy, Debug)]
pub struct BellWording {
    /// A bell's texts for `count` messages from `sender` in the chat of
    /// `job_title`, the newest one's `content` quoted.
    pub compose: fn(sender: &str, job_title: &str, count: i64, content: &str) -> BellText,
    /// A one-message title before " from …" ("New message").
    pub one: &'static str,
    /// What a stored suffix starts with, before " from …" (" new messages").
    pub many: &'static str,
}
