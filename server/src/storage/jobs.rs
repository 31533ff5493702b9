//! A job's status after booking (booking itself, with its chat, is in
//! `chats.rs`). Each step is guarded by the status it leaves, so two
//! clicks or two nodes take it once, and posts its system line in the
//! same transaction.

use super::message_inserts::insert_system_message_tx;
use super::messages::fetch_message_tx;
use super::{Db, Result, StorageError, now, on_pool};
use contract::model::{ChatId, JobStatus, Message, SystemEvent, UserId};

/// A job as its steps need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobState {
    pub id: i64,
    pub chat_id: ChatId,
    pub customer_id: UserId,
    pub provider_id: UserId,
    pub status: JobStatus,
}

/// The stored status and whether it was confirmed, as one `JobStatus`.
pub(super) fn job_status(status: &str, confirmed: bool) -> Result<JobStatus> {
    match (status, confirmed) {
        ("booked", false) => Ok(JobStatus::Booked),
        ("booked", true) => Ok(JobStatus::Confirmed),
        ("in_progress", _) => Ok(JobStatus::InProgress),
        ("completed", _) => Ok(JobStatus::Completed),
        ("cancelled", _) => Ok(JobStatus::Cancelled),
        (other, _) => Err(StorageError::Corrupt(format!("job status {other:?}"))),
    }
}

/// The row's change for a step, and the status it leaves from: `UPDATE
/// jobs SET {set} WHERE id = $1 AND {guard}` (`$2` is the time).
fn step(to: JobStatus) -> Option<(&'static str, &'static str)> {
    Some(match to {
        JobStatus::Confirmed => (
            "confirmed_at = $2",
            "status = 'booked' AND confirmed_at IS NULL",
        ),
        JobStatus::InProgress => (
            "status = 'in_progress', started_at = $2",
            "status = 'booked'",
        ),
        JobStatus::Completed => (
            "status = 'completed', completed_at = $2",
            "status = 'in_progress'",
        ),
        JobStatus::Cancelled => (
            "status = 'cancelled', cancelled_at = $2",
            "status = 'booked'",
        ),
        JobStatus::Booked => return None,
    })
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    chat_id: i64,
    customer_id: i64,
    provider_id: i64,
    status: String,
    confirmed: bool,
}

impl Db {
    /// A job by id, with its chat.
    pub async fn job(&self, id: i64) -> Result<Option<JobState>> {
        self.job_where("j.id = $1", id).await
    }

    /// The job a chat was opened for.
    pub async fn job_of_chat(&self, chat: ChatId) -> Result<Option<JobState>> {
        self.job_where("c.id = $1", chat).await
    }

    async fn job_where(&self, filter: &str, id: i64) -> Result<Option<JobState>> {
        let sql = format!(
            "SELECT j.id, c.id AS chat_id, j.customer_id, j.provider_id, j.status, \
             j.confirmed_at IS NOT NULL AS confirmed \
             FROM jobs j JOIN chats c ON c.job_id = j.id WHERE {filter}"
        );
        let row: Option<JobRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(|r| {
            Ok(JobState {
                id: r.id,
                chat_id: r.chat_id,
                customer_id: r.customer_id,
                provider_id: r.provider_id,
                status: job_status(&r.status, r.confirmed)?,
            })
        })
        .transpose()
    }

    /// Moves a job to `to` if it still stands where that step leaves from,
    /// and posts the step's system line in its chat; `None` (nothing
    /// written) when it no longer does.
    pub async fn change_job_status(
        &self,
        job: &JobState,
        to: JobStatus,
        line: &str,
        event: &SystemEvent,
    ) -> Result<Option<Message>> {
        let Some((set, guard)) = step(to) else {
            return Ok(None);
        };
        let sql = format!("UPDATE jobs SET {set} WHERE id = $1 AND {guard}");
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let moved = sqlx::query(&sql)
                .bind(job.id)
                .bind(now())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if moved == 0 {
                return Ok(None);
            }
            let id = insert_system_message_tx!(tx, job.chat_id, line, event);
            let message = fetch_message_tx!(tx, id);
            tx.commit().await?;
            Ok(Some(message))
        })
    }
}
