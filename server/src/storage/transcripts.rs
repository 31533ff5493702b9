//! Everything a chat's transcript shows, read as stored: the messages with
//! their chain links, every earlier version of each text, the files, the
//! disputes and who took part. The service turns it into the export.

use super::{Db, Result, on_pool};
use chrono::{DateTime, Utc};
use contract::model::ChatId;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct TranscriptRow {
    pub id: i64,
    pub seq: i64,
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    pub sender_role: Option<String>,
    pub kind: String,
    pub change: Option<String>,
    pub target_id: Option<i64>,
    pub content: String,
    pub original: Option<String>,
    pub event: Option<String>,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hidden: bool,
    pub chain: Option<String>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub message_id: i64,
    pub content: String,
    pub written_at: DateTime<Utc>,
    pub replaced_seq: i64,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FileRow {
    pub uploader_id: i64,
    pub client_id: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DisputeRecordRow {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub raised_by: String,
    pub reason: String,
    pub lsm: String,
    pub status: String,
    pub outcome: Option<String>,
    pub refund_cents: Option<i64>,
    pub currency: Option<String>,
    pub resolution: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChatRecordRow {
    pub job_id: i64,
    pub job_title: String,
    pub job_status: String,
    pub job_confirmed: bool,
    pub chain_from_seq: i64,
    pub chain_head: Option<String>,
}

/// A chat as stored, for its transcript.
pub struct ChatRecord {
    pub chat: ChatRecordRow,
    /// Everyone who ever took part: id, name, role.
    pub people: Vec<(i64, String, String)>,
    pub disputes: Vec<DisputeRecordRow>,
    /// In seq order; at most `limit` + 1 (so the caller can tell it is
    /// longer).
    pub messages: Vec<TranscriptRow>,
    pub versions: Vec<VersionRow>,
    pub files: Vec<FileRow>,
}

impl Db {
    /// The chat's record, or `None` when there is no such chat.
    pub async fn chat_record(&self, chat_id: ChatId, limit: usize) -> Result<Option<ChatRecord>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX - 1) + 1;
        on_pool!(self, pool => {
            let chat: Option<ChatRecordRow> = sqlx::query_as(
                "SELECT j.id AS job_id, j.title AS job_title, j.status AS job_status, \
                 j.confirmed_at IS NOT NULL AS job_confirmed, c.chain_from_seq, c.chain_head \
                 FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id = $1",
            )
            .bind(chat_id)
            .fetch_optional(pool)
            .await?;
            let Some(chat) = chat else { return Ok(None) };
            let people = sqlx::query_as(
                "SELECT u.id, u.name, p.role FROM chat_participants p JOIN users u ON u.id = p.user_id \
                 WHERE p.chat_id = $1 ORDER BY p.joined_at, u.id",
            )
            .bind(chat_id)
            .fetch_all(pool)
            .await?;
            let disputes = sqlx::query_as(
                "SELECT d.id, d.created_at, r.name AS raised_by, d.reason, l.name AS lsm, d.status, \
                 d.outcome, d.refund_cents, d.currency, d.resolution, d.resolved_at \
                 FROM disputes d JOIN users r ON r.id = d.raised_by JOIN users l ON l.id = d.lsm_id \
                 WHERE d.chat_id = $1 ORDER BY d.id",
            )
            .bind(chat_id)
            .fetch_all(pool)
            .await?;
            let messages = sqlx::query_as(
                "SELECT m.id, m.seq, m.sender_id, u.name AS sender_name, u.role AS sender_role, m.kind, \
                 m.change, m.target_id, m.content, m.original, m.event, m.client_id, m.created_at, \
                 m.edited_at, m.deleted_at, m.hidden_by IS NOT NULL AS hidden, m.chain \
                 FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
                 WHERE m.chat_id = $1 ORDER BY m.seq LIMIT $2",
            )
            .bind(chat_id)
            .bind(limit)
            .fetch_all(pool)
            .await?;
            let versions = sqlx::query_as(
                "SELECT v.message_id, v.content, v.written_at, v.replaced_seq FROM message_versions v \
                 JOIN messages m ON m.id = v.message_id WHERE m.chat_id = $1 ORDER BY v.id",
            )
            .bind(chat_id)
            .fetch_all(pool)
            .await?;
            let files = sqlx::query_as(
                "SELECT uploader_id, client_id, name, mime, size, sha256 FROM attachments \
                 WHERE chat_id = $1 ORDER BY id",
            )
            .bind(chat_id)
            .fetch_all(pool)
            .await?;
            Ok(Some(ChatRecord { chat, people, disputes, messages, versions, files }))
        })
    }
}
