//! Disputes: storing that an LSM joined a chat, and that a dispute was
//! settled (and the LSM left it, keeping the transcript up to then). Who is picked and what the messages say are the service's
//! decisions; here each write is one transaction, and the database settles
//! races (a unique index for "one open dispute per chat", a status guard
//! for "resolved once").

use super::message_inserts::insert_system_message_tx;
use super::messages::fetch_message_tx;
use super::notifications::{insert_notification_tx, kind};
use super::{Db, Result, StorageError, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{ChatId, Message, Notification, SystemEvent, UserId, UserRef};

/// A dispute to open, as the service decided it.
pub struct NewDispute<'a> {
    pub chat_id: ChatId,
    pub raised_by: UserId,
    pub reason: &'a str,
    /// The LSM who joins the chat.
    pub lsm: UserId,
    /// The system message posted in the chat, in words and as its event.
    pub announcement: &'a str,
    pub event: &'a SystemEvent,
    /// The LSM's notification.
    pub notice: Notice<'a>,
}

/// The settlement of a dispute, as the service decided it.
pub struct Settlement<'a> {
    pub dispute_id: i64,
    pub chat_id: ChatId,
    /// The dispute's LSM, who leaves the chat with the settlement.
    pub lsm: UserId,
    /// The note both parties read.
    pub resolution: &'a str,
    pub outcome: contract::model::Outcome,
    pub refund_cents: Option<i64>,
    pub currency: &'a str,
    /// The system message posted in the chat, in words and as its event.
    pub announcement: &'a str,
    pub event: &'a SystemEvent,
    /// Who is notified, and with what.
    pub notify: &'a [UserId],
    pub notice: Notice<'a>,
}

/// A notification's text.
#[derive(Clone, Copy)]
pub struct Notice<'a> {
    pub title: &'a str,
    pub body: &'a str,
}

/// An open dispute moved from an LSM who can no longer settle it (deleted,
/// or no longer an LSM) to another, as the service decided it.
pub struct Reassignment<'a> {
    pub dispute_id: i64,
    pub chat_id: ChatId,
    pub from: UserId,
    pub to: UserId,
    /// The system message posted in the chat, in words and as its event.
    pub announcement: &'a str,
    pub event: &'a SystemEvent,
    /// The new LSM's notification.
    pub notice: Notice<'a>,
}

/// An open dispute whose LSM can no longer settle it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OrphanedDispute {
    pub id: i64,
    pub chat_id: i64,
    pub lsm_id: i64,
    pub lsm_name: String,
    pub job_title: String,
    pub reason: String,
}

pub struct OpenedDispute {
    pub dispute_id: i64,
    pub message: Message,
    pub notification: Notification,
}

pub struct ResolvedDispute {
    pub message: Message,
    pub notifications: Vec<(UserId, Notification)>,
}

#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    #[error("dispute {0} is already open in this chat")]
    AlreadyOpen(i64),
    #[error("dispute already resolved")]
    AlreadyResolved,
    /// Still open, but with another LSM now.
    #[error("dispute moved to another LSM")]
    Moved,
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

/// An LSM and how many disputes they have open.
#[derive(Clone, Debug)]
pub struct LsmLoad {
    pub lsm: UserRef,
    pub open_disputes: i64,
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

    /// Every LSM account (deleted ones aside) with its number of open disputes.
    pub async fn lsm_loads(&self) -> Result<Vec<LsmLoad>> {
        let rows: Vec<(i64, String, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.name, COUNT(d.id) FROM users u \
                 LEFT JOIN disputes d ON d.lsm_id = u.id AND d.status = 'open' \
                 WHERE u.role = 'lsm' AND u.deleted_at IS NULL \
                 GROUP BY u.id, u.name ORDER BY u.id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(id, name, open_disputes)| LsmLoad {
                lsm: UserRef { id, name },
                open_disputes,
            })
            .collect())
    }

    /// Opens a dispute: the dispute row, the LSM as a participant (back in
    /// the chat if they had left it), the system message and the LSM's
    /// notification, all or nothing. A second
    /// open dispute in the chat, concurrent or not, is `AlreadyOpen`.
    pub async fn open_dispute(&self, new: NewDispute<'_>) -> Result<OpenedDispute, DisputeError> {
        let chat_id = new.chat_id;
        // In an async block so that `?` ends the transaction attempt, not
        // this function: a conflict still has to become `AlreadyOpen` below.
        let result: Result<OpenedDispute, DisputeError> = async {
            on_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let at = now();
                // The insert comes first and the unique index
                // `disputes_one_open_per_chat` decides: a read before it
                // would make SQLite refuse the later write ("database is
                // locked") instead of waiting for the other writer.
                let (dispute_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO disputes (chat_id, raised_by, lsm_id, reason, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(chat_id)
                .bind(new.raised_by)
                .bind(new.lsm)
                .bind(new.reason)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("UPDATE chats SET lsm_invited = TRUE WHERE id = $1")
                    .bind(chat_id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES ($1, $2, 'lsm', $3) \
                     ON CONFLICT (chat_id, user_id) DO UPDATE SET left_seq = NULL",
                )
                .bind(chat_id)
                .bind(new.lsm)
                .bind(at)
                .execute(&mut *tx)
                .await?;
                let id = insert_system_message_tx!(tx, chat_id, new.announcement, new.event);
                let message = fetch_message_tx!(tx, id);
                let notification = insert_notification_tx!(
                    tx, new.lsm, kind::DISPUTE_OPENED, Some(chat_id), new.notice.title, new.notice.body
                );
                tx.commit().await?;
                Ok(OpenedDispute { dispute_id, message, notification })
            })
        }
        .await;
        match result {
            Err(DisputeError::Storage(StorageError::Conflict(_))) => {
                // Another dispute is open in this chat (or won the race).
                let id = self.open_dispute_id(chat_id).await?.unwrap_or_default();
                Err(DisputeError::AlreadyOpen(id))
            }
            other => other,
        }
    }

    /// The LSM who last settled a dispute in this chat and left it, if
    /// they are still an LSM: a new dispute goes back to them, who know
    /// the case.
    pub async fn former_lsm(&self, chat_id: ChatId) -> Result<Option<UserRef>> {
        let row: Option<(i64, String)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.name FROM chat_participants p JOIN users u ON u.id = p.user_id \
                 WHERE p.chat_id = $1 AND p.role = 'lsm' AND p.left_seq IS NOT NULL \
                 AND u.role = 'lsm' AND u.deleted_at IS NULL \
                 ORDER BY p.left_seq DESC LIMIT 1",
            )
            .bind(chat_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.map(|(id, name)| UserRef { id, name }))
    }

    pub async fn get_dispute(&self, id: i64) -> Result<Option<DisputeRow>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as("SELECT id, chat_id, lsm_id, status FROM disputes WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// Settles an open dispute: its status, the system message, the LSM
    /// leaving the chat right after that message (read up to it) and the
    /// notifications, all or nothing. `AlreadyResolved` when it is not open
    /// (a concurrent second resolve finds the status already changed).
    pub async fn resolve_dispute(
        &self,
        s: Settlement<'_>,
    ) -> Result<ResolvedDispute, DisputeError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE disputes SET status = 'resolved', resolution = $2, resolved_at = $3, \
                 outcome = $5, refund_cents = $6, currency = $7 \
                 WHERE id = $1 AND chat_id = $4 AND status = 'open' AND lsm_id = $8",
            )
            .bind(s.dispute_id)
            .bind(s.resolution)
            .bind(now())
            .bind(s.chat_id)
            .bind(s.outcome.as_str())
            .bind(s.refund_cents)
            .bind(s.currency)
            .bind(s.lsm)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated == 0 {
                let open: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM disputes WHERE id = $1 AND status = 'open'")
                        .bind(s.dispute_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(if open.is_some() {
                    DisputeError::Moved
                } else {
                    DisputeError::AlreadyResolved
                });
            }
            let id = insert_system_message_tx!(tx, s.chat_id, s.announcement, s.event);
            let message = fetch_message_tx!(tx, id);
            sqlx::query(
                "UPDATE chat_participants SET left_seq = $3, last_read_seq = $3, last_read_message_id = $4 \
                 WHERE chat_id = $1 AND user_id = $2 AND role = 'lsm'",
            )
            .bind(s.chat_id)
            .bind(s.lsm)
            .bind(message.seq)
            .bind(message.id)
            .execute(&mut *tx)
            .await?;
            let mut notifications = Vec::with_capacity(s.notify.len());
            for &user in s.notify {
                let n = insert_notification_tx!(
                    tx, user, kind::DISPUTE_RESOLVED, Some(s.chat_id), s.notice.title, s.notice.body
                );
                notifications.push((user, n));
            }
            tx.commit().await?;
            Ok(ResolvedDispute { message, notifications })
        })
    }

    /// Open disputes whose LSM was deleted or is no longer an LSM.
    pub async fn orphaned_disputes(&self) -> Result<Vec<OrphanedDispute>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT d.id, d.chat_id, d.lsm_id, u.name AS lsm_name, j.title AS job_title, d.reason \
                 FROM disputes d JOIN users u ON u.id = d.lsm_id \
                 JOIN chats c ON c.id = d.chat_id JOIN jobs j ON j.id = c.job_id \
                 WHERE d.status = 'open' AND (u.deleted_at IS NOT NULL OR u.role <> 'lsm') \
                 ORDER BY d.id LIMIT 1000",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    /// Moves an open dispute to another LSM: the dispute row, the system
    /// message, the old LSM leaving the chat right after it (their
    /// transcript ends there), the new one joining, and the new one's
    /// notification, all or nothing. `None` when the dispute is no longer
    /// open with `from` (settled or moved meanwhile).
    pub async fn reassign_dispute(&self, r: Reassignment<'_>) -> Result<Option<OpenedDispute>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(
                "UPDATE disputes SET lsm_id = $3 WHERE id = $1 AND status = 'open' AND lsm_id = $2",
            )
            .bind(r.dispute_id)
            .bind(r.from)
            .bind(r.to)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            let id = insert_system_message_tx!(tx, r.chat_id, r.announcement, r.event);
            let message = fetch_message_tx!(tx, id);
            sqlx::query(
                "UPDATE chat_participants SET left_seq = $3, last_read_seq = $3, last_read_message_id = $4 \
                 WHERE chat_id = $1 AND user_id = $2 AND left_seq IS NULL",
            )
            .bind(r.chat_id)
            .bind(r.from)
            .bind(message.seq)
            .bind(message.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES ($1, $2, 'lsm', $3) \
                 ON CONFLICT (chat_id, user_id) DO UPDATE SET left_seq = NULL",
            )
            .bind(r.chat_id)
            .bind(r.to)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            let notification = insert_notification_tx!(
                tx, r.to, kind::DISPUTE_OPENED, Some(r.chat_id), r.notice.title, r.notice.body
            );
            tx.commit().await?;
            Ok(Some(OpenedDispute { dispute_id: r.dispute_id, message, notification }))
        })
    }

    /// When the chat's last dispute was settled, if one was.
    pub async fn last_settled_at(&self, chat_id: ChatId) -> Result<Option<DateTime<Utc>>> {
        let row: Option<(Option<DateTime<Utc>>,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT MAX(resolved_at) FROM disputes WHERE chat_id = $1 AND status = 'resolved'",
            )
            .bind(chat_id)
            .fetch_optional(pool)
            .await?
        });
        Ok(row.and_then(|r| r.0))
    }
}
