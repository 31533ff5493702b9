//! What is known about each uploaded file (migrations 0011): who uploaded
//! it into which chat, for which message (its client id), its checked type,
//! size, digest, and where its bytes are in the object store. A message's
//! files are those uploaded by its sender, in its chat, under its client id.

use super::{Db, Result, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{Attachment, AttachmentId, ChatId, Message, MessageKind, Seq, UserId};
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct AttachmentRow {
    id: i64,
    chat_id: i64,
    uploader_id: i64,
    client_id: String,
    name: String,
    mime: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    sha256: String,
    thumbnail_key: Option<String>,
}

impl From<AttachmentRow> for Attachment {
    fn from(r: AttachmentRow) -> Self {
        Attachment {
            id: r.id,
            name: r.name,
            mime: r.mime,
            size: r.size,
            width: r.width,
            height: r.height,
            thumbnail: r.thumbnail_key.is_some(),
            sha256: r.sha256,
        }
    }
}

const COLUMNS: &str =
    "id, chat_id, uploader_id, client_id, name, mime, size, width, height, sha256, thumbnail_key";

/// A checked file to record (its objects are already stored).
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub chat_id: ChatId,
    pub uploader_id: UserId,
    pub client_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub dimensions: Option<(u32, u32)>,
    pub sha256: String,
    pub object_key: String,
    pub thumbnail: Option<(String, String)>,
    pub created_at: DateTime<Utc>,
}

/// One file as a download needs it: where its bytes are and the message it
/// belongs to, if that was sent.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredFile {
    pub chat_id: i64,
    pub uploader_id: i64,
    pub name: String,
    pub mime: String,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
    pub thumbnail_mime: Option<String>,
    /// The message's seq, once it was sent.
    pub message_seq: Option<Seq>,
    pub message_deleted: Option<DateTime<Utc>>,
}

/// An upload to sweep: the objects to delete, then its row.
#[derive(Debug, sqlx::FromRow)]
pub struct Orphan {
    pub id: i64,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
}

/// Files uploaded for one message: their ids and when.
pub type Uploaded = Vec<(AttachmentId, DateTime<Utc>)>;

impl Db {
    pub async fn insert_attachment(&self, a: &NewAttachment) -> Result<Attachment> {
        let (width, height) = a.dimensions.map(|(w, h)| (w as i32, h as i32)).unzip();
        let (thumbnail_key, thumbnail_mime) = a.thumbnail.clone().unzip();
        let sql = format!(
            "INSERT INTO attachments (chat_id, uploader_id, client_id, name, mime, size, width, height, \
             sha256, object_key, thumbnail_key, thumbnail_mime, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {COLUMNS}"
        );
        let row: AttachmentRow = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(a.chat_id)
                .bind(a.uploader_id)
                .bind(&a.client_id)
                .bind(&a.name)
                .bind(&a.mime)
                .bind(a.size)
                .bind(width)
                .bind(height)
                .bind(&a.sha256)
                .bind(&a.object_key)
                .bind(&thumbnail_key)
                .bind(&thumbnail_mime)
                .bind(a.created_at)
                .fetch_one(pool)
                .await?
        });
        Ok(row.into())
    }

    /// The files uploaded for one message so far.
    pub async fn uploaded_for(
        &self,
        chat: ChatId,
        uploader: UserId,
        client_id: &str,
    ) -> Result<Uploaded> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, created_at FROM attachments \
                 WHERE chat_id = $1 AND client_id = $2 AND uploader_id = $3 ORDER BY id",
            )
            .bind(chat)
            .bind(client_id)
            .bind(uploader)
            .fetch_all(pool)
            .await?
        }))
    }

    /// The file already uploaded for this message with these bytes (a
    /// retried upload whose answer was lost) and this name, if any.
    pub async fn same_upload(
        &self,
        chat: ChatId,
        uploader: UserId,
        client_id: &str,
        sha256: &str,
        name: &str,
    ) -> Result<Option<Attachment>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM attachments WHERE chat_id = $1 AND client_id = $2 \
             AND uploader_id = $3 AND sha256 = $4 AND name = $5 ORDER BY id LIMIT 1"
        );
        let row: Option<AttachmentRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(chat)
                .bind(client_id)
                .bind(uploader)
                .bind(sha256)
                .bind(name)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(Into::into))
    }

    /// Bytes uploaded into a chat since `since` (its daily quota).
    pub async fn uploaded_bytes_since(&self, chat: ChatId, since: DateTime<Utc>) -> Result<i64> {
        let (bytes,): (Option<i64>,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT CAST(SUM(size) AS BIGINT) FROM attachments WHERE chat_id = $1 AND created_at >= $2",
            )
            .bind(chat)
            .bind(since)
            .fetch_one(pool)
            .await?
        });
        Ok(bytes.unwrap_or(0))
    }

    /// Whether the sender's message with this client id was stored.
    pub async fn message_exists(
        &self,
        chat: ChatId,
        sender: UserId,
        client_id: &str,
    ) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM messages WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3",
            )
            .bind(chat)
            .bind(sender)
            .bind(client_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.is_some())
    }

    /// Puts each user message's files on it (none on a deleted one): one
    /// query for all of them.
    pub async fn fill_attachments(&self, messages: &mut [Message]) -> Result<()> {
        let wanted =
            |m: &Message| m.kind == MessageKind::User && m.client_id.is_some() && !m.is_deleted();
        let chats: Vec<i64> = messages
            .iter()
            .filter(|m| wanted(m))
            .map(|m| m.chat_id)
            .collect();
        if chats.is_empty() {
            return Ok(());
        }
        let keys: Vec<&str> = messages
            .iter()
            .filter(|m| wanted(m))
            .filter_map(|m| m.client_id.as_deref())
            .collect();
        let chats = serde_json::Value::from(chats).to_string();
        let keys = serde_json::Value::from(keys).to_string();
        let rows: Vec<AttachmentRow> = match self {
            Db::Sqlite(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM attachments \
                     WHERE chat_id IN (SELECT value FROM json_each($1)) \
                       AND client_id IN (SELECT value FROM json_each($2)) ORDER BY id"
                );
                sqlx::query_as(&sql)
                    .bind(chats)
                    .bind(keys)
                    .fetch_all(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM attachments \
                     WHERE chat_id = ANY(ARRAY(SELECT CAST(t.v AS BIGINT) FROM jsonb_array_elements_text(CAST($1 AS JSONB)) AS t(v))) \
                       AND client_id = ANY(ARRAY(SELECT t.v FROM jsonb_array_elements_text(CAST($2 AS JSONB)) AS t(v))) ORDER BY id"
                );
                sqlx::query_as(&sql)
                    .bind(chats)
                    .bind(keys)
                    .fetch_all(pool)
                    .await?
            }
        };
        let mut by_message: HashMap<(i64, i64, String), Vec<Attachment>> = HashMap::new();
        for r in rows {
            let key = (r.chat_id, r.uploader_id, r.client_id.clone());
            by_message.entry(key).or_default().push(r.into());
        }
        for m in messages.iter_mut().filter(|m| wanted(m)) {
            let key = (
                m.chat_id,
                m.sender_id.unwrap_or(0),
                m.client_id.clone().unwrap_or_default(),
            );
            if let Some(files) = by_message.remove(&key) {
                m.attachments = files;
            }
        }
        Ok(())
    }

    /// One file with its message's seq and deletion, for a download.
    pub async fn stored_file(&self, id: AttachmentId) -> Result<Option<StoredFile>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT a.chat_id, a.uploader_id, a.name, a.mime, a.object_key, a.thumbnail_key, \
                 a.thumbnail_mime, m.seq AS message_seq, m.deleted_at AS message_deleted \
                 FROM attachments a LEFT JOIN messages m ON m.chat_id = a.chat_id \
                   AND m.sender_id = a.uploader_id AND m.client_id = a.client_id \
                 WHERE a.id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Uploads older than `before` whose message never came, at most
    /// `limit` (the sweep deletes their objects, then `forget_attachments`).
    pub async fn orphans(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<Orphan>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT a.id, a.object_key, a.thumbnail_key FROM attachments a \
                 WHERE a.created_at < $1 AND NOT EXISTS ( \
                   SELECT 1 FROM messages m WHERE m.chat_id = a.chat_id \
                     AND m.sender_id = a.uploader_id AND m.client_id = a.client_id) \
                 ORDER BY a.id LIMIT $2",
            )
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Every file a user uploaded (their account is being deleted).
    pub async fn uploads_of(&self, user: UserId) -> Result<Vec<Orphan>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, object_key, thumbnail_key FROM attachments WHERE uploader_id = $1 ORDER BY id",
            )
            .bind(user)
            .fetch_all(pool)
            .await?
        }))
    }

    /// Removes a swept upload's row (after its objects). A send refuses
    /// files older than half the sweep's age, so no message can arrive for
    /// one being swept.
    pub async fn forget_attachment(&self, id: AttachmentId) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM attachments WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
