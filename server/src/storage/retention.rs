//! A chat's retention rule: chats quiet for longer than the deployment
//! keeps them are deleted with everything in them (messages, versions,
//! files, bells, disputes, the job). One chat per transaction, which
//! checks again under the chat's lock that it is still due (a message may
//! have arrived since it was listed) and queues its files' objects in
//! `object_deletions` (migration 0013); the service deletes those from the
//! store afterwards.

use super::search::unindex_words_tx;
use super::{Db, Result, on_pool};
use chrono::{DateTime, Utc};
use contract::model::ChatId;

/// Due: nothing written since `$1` (the newest message, else when the chat
/// was opened), no dispute open (an LSM must settle it first) and no
/// report or flag waiting in the moderation queue (its context is the chat).
const DUE: &str = "COALESCE(c.last_message_at, c.created_at) < $1 \
     AND NOT EXISTS (SELECT 1 FROM disputes d WHERE d.chat_id = c.id AND d.status = 'open') \
     AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.chat_id = c.id AND r.status = 'open')";

impl Db {
    /// Chats due for deletion under a rule keeping them until `before`,
    /// quietest first, at most `limit`.
    pub async fn chats_due(&self, before: DateTime<Utc>, limit: i64) -> Result<Vec<ChatId>> {
        let rows: Vec<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT c.id FROM chats c WHERE {DUE} \
                 ORDER BY COALESCE(c.last_message_at, c.created_at), c.id LIMIT $2"
            ))
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Deletes a chat that is still due under `before`, and everything in
    /// it, queueing its files' objects for deletion; false when it is no
    /// longer due (or gone).
    pub async fn delete_chat(&self, chat: ChatId, before: DateTime<Utc>) -> Result<bool> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let lock = match self {
                // SQLite's one writer lock, taken by the first write.
                Db::Sqlite(_) => {
                    sqlx::query("UPDATE chats SET last_seq = last_seq WHERE id = $1")
                        .bind(chat)
                        .execute(&mut *tx)
                        .await?;
                    format!("SELECT c.id, c.job_id FROM chats c WHERE c.id = $2 AND {DUE}")
                }
                // The lock every send takes on the chat's row.
                Db::Postgres(_) => {
                    format!("SELECT c.id, c.job_id FROM chats c WHERE c.id = $2 AND {DUE} FOR UPDATE")
                }
            };
            let due: Option<(i64, i64)> = sqlx::query_as(&lock)
                .bind(before)
                .bind(chat)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((_, job)) = due else {
                return Ok(false);
            };
            sqlx::query(
                "INSERT INTO object_deletions (object_key, queued_at) \
                 SELECT k, $2 FROM (SELECT object_key AS k FROM attachments WHERE chat_id = $1 \
                   UNION SELECT thumbnail_key FROM attachments WHERE chat_id = $1 AND thumbnail_key IS NOT NULL) AS keys \
                 WHERE true ON CONFLICT (object_key) DO NOTHING",
            )
            .bind(chat)
            .bind(super::now())
            .execute(&mut *tx)
            .await?;
            if matches!(self, Db::Sqlite(_)) {
                let texts: Vec<(i64, String)> = sqlx::query_as(
                    "SELECT id, content FROM messages \
                     WHERE chat_id = $1 AND kind = 'user' AND target_id IS NULL",
                )
                .bind(chat)
                .fetch_all(&mut *tx)
                .await?;
                for (id, text) in &texts {
                    unindex_words_tx!(tx, id, chat, text);
                }
            }
            for sql in [
                "DELETE FROM attachments WHERE chat_id = $1",
                "DELETE FROM message_versions WHERE message_id IN (SELECT id FROM messages WHERE chat_id = $1)",
                "DELETE FROM notifications WHERE chat_id = $1",
                "DELETE FROM email_outbox WHERE chat_id = $1",
                "DELETE FROM disputes WHERE chat_id = $1",
                "DELETE FROM messages WHERE chat_id = $1",
                "DELETE FROM chat_participants WHERE chat_id = $1",
                "DELETE FROM chats WHERE id = $1",
            ] {
                sqlx::query(sql).bind(chat).execute(&mut *tx).await?;
            }
            sqlx::query("DELETE FROM jobs WHERE id = $1")
                .bind(job)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Object keys queued for deletion, oldest first, at most `limit`.
    pub async fn queued_object_deletions(&self, limit: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT object_key FROM object_deletions ORDER BY queued_at, object_key LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|(k,)| k).collect())
    }

    /// Forgets a queued key once its object is gone from the store.
    pub async fn object_deleted(&self, key: &str) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM object_deletions WHERE object_key = $1")
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
