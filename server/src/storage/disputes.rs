//! Disputes: bringing an LSM into a chat, and settling.

use super::messages::{fetch_message_tx, insert_message_tx};
use super::notifications::{insert_notification_tx, kind};
use super::{Db, Result, StorageError, now, on_pool};
use app::model::{ChatId, Message, MessageKind, Notification, UserId, UserRef};

pub struct OpenedDispute {
    pub dispute_id: i64,
    pub lsm: UserRef,
    pub message: Message,
    pub notification: Notification,
}

pub struct ResolvedDispute {
    pub chat_id: ChatId,
    pub message: Message,
    pub notifications: Vec<(UserId, Notification)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error("dispute {0} is already open in this chat")]
    AlreadyOpen(i64),
    #[error("no LSM account exists")]
    NoLsm,
    #[error("only the dispute's LSM can resolve it")]
    NotTheLsm,
    #[error("dispute already resolved")]
    AlreadyResolved,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<sqlx::Error> for DisputeError {
    fn from(e: sqlx::Error) -> Self {
        Self::Storage(e.into())
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DisputeRow {
    pub id: i64,
    pub chat_id: i64,
    pub lsm_id: i64,
    pub status: String,
}

impl Db {
    pub async fn open_dispute_id(&self, chat_id: ChatId) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM disputes WHERE chat_id = $1 AND status = 'open'")
                .bind(chat_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.map(|r| r.0))
    }

    /// Opens a dispute: the LSM with the fewest open disputes (ties: lowest id)
    /// joins the chat, which gets a system message; the LSM a notification.
    /// All or nothing; a concurrent second dispute loses on the unique index.
    pub async fn open_dispute(
        &self,
        chat_id: ChatId,
        raised_by: UserRef,
        reason: &str,
    ) -> Result<OpenedDispute, DisputeError> {
        let result: Result<OpenedDispute, DisputeError> = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let open: Option<(i64,)> =
                sqlx::query_as("SELECT id FROM disputes WHERE chat_id = $1 AND status = 'open'")
                    .bind(chat_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((id,)) = open {
                return Err(DisputeError::AlreadyOpen(id));
            }
            let lsm: Option<(i64, String)> = sqlx::query_as(
                "SELECT u.id, u.name FROM users u \
                 LEFT JOIN disputes d ON d.lsm_id = u.id AND d.status = 'open' \
                 WHERE u.role = 'lsm' GROUP BY u.id, u.name ORDER BY COUNT(d.id), u.id LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            let (lsm_id, lsm_name) = lsm.ok_or(DisputeError::NoLsm)?;
            let at = now();
            let (dispute_id,): (i64,) = sqlx::query_as(
                "INSERT INTO disputes (chat_id, raised_by, lsm_id, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(chat_id)
            .bind(raised_by.id)
            .bind(lsm_id)
            .bind(reason)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE chats SET lsm_invited = TRUE WHERE id = $1")
                .bind(chat_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES ($1, $2, 'lsm', $3) \
                 ON CONFLICT (chat_id, user_id) DO NOTHING",
            )
            .bind(chat_id)
            .bind(lsm_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let text = format!(
                "{} opened a dispute and added {} (local service manager). Reason: {}",
                raised_by.name, lsm_name, reason
            );
            let id = insert_message_tx!(tx, chat_id, None::<i64>, MessageKind::System.as_str(), &text, None::<String>)
                .ok_or_else(|| StorageError::Corrupt("system message not stored".into()))?;
            let message = fetch_message_tx!(tx, id);
            let (job_title,): (String,) =
                sqlx::query_as("SELECT j.title FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id = $1")
                    .bind(chat_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let title = format!("You were added to a dispute — {job_title}");
            let body = format!("{}: {}", raised_by.name, reason);
            let notification =
                insert_notification_tx!(tx, lsm_id, kind::DISPUTE_OPENED, Some(chat_id), &title, &body);
            tx.commit().await?;
            Ok(OpenedDispute { dispute_id, lsm: UserRef { id: lsm_id, name: lsm_name }, message, notification })
        });
        match result {
            Err(DisputeError::Storage(StorageError::Conflict(_))) => {
                // Lost a race with another dispute on the same chat.
                let id = self.open_dispute_id(chat_id).await?.unwrap_or_default();
                Err(DisputeError::AlreadyOpen(id))
            }
            other => other,
        }
    }

    pub async fn get_dispute(&self, id: i64) -> Result<Option<DisputeRow>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT id, chat_id, lsm_id, status FROM disputes WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Settles a dispute: only its LSM may; everyone else in the chat is told.
    pub async fn resolve_dispute(
        &self,
        dispute_id: i64,
        lsm: UserRef,
        resolution: &str,
    ) -> Result<ResolvedDispute, DisputeError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row: Option<DisputeRow> =
                sqlx::query_as("SELECT id, chat_id, lsm_id, status FROM disputes WHERE id = $1")
                    .bind(dispute_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let row = row.ok_or(DisputeError::Storage(StorageError::NotFound))?;
            if row.lsm_id != lsm.id {
                return Err(DisputeError::NotTheLsm);
            }
            // The status guard makes a concurrent second resolve a no-op.
            let updated = sqlx::query(
                "UPDATE disputes SET status = 'resolved', resolution = $2, resolved_at = $3 \
                 WHERE id = $1 AND status = 'open'",
            )
            .bind(dispute_id)
            .bind(resolution)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                return Err(DisputeError::AlreadyResolved);
            }
            let text = format!("{} resolved the dispute: {}", lsm.name, resolution);
            let id = insert_message_tx!(tx, row.chat_id, None::<i64>, MessageKind::System.as_str(), &text, None::<String>)
                .ok_or_else(|| StorageError::Corrupt("system message not stored".into()))?;
            let message = fetch_message_tx!(tx, id);
            let others: Vec<(i64,)> =
                sqlx::query_as("SELECT user_id FROM chat_participants WHERE chat_id = $1 AND user_id <> $2")
                    .bind(row.chat_id)
                    .bind(lsm.id)
                    .fetch_all(&mut *tx)
                    .await?;
            let (job_title,): (String,) =
                sqlx::query_as("SELECT j.title FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id = $1")
                    .bind(row.chat_id)
                    .fetch_one(&mut *tx)
                    .await?;
            let title = format!("Dispute resolved — {job_title}");
            let mut notifications = Vec::with_capacity(others.len());
            for (user,) in others {
                let n = insert_notification_tx!(tx, user, kind::DISPUTE_RESOLVED, Some(row.chat_id), &title, resolution);
                notifications.push((user, n));
            }
            tx.commit().await?;
            Ok(ResolvedDispute { chat_id: row.chat_id, message, notifications })
        })
    }
}
