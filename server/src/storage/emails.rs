//! Email to people who are away: the outbox. A message makes an email due
//! for each other participant in the transaction that stores it (one
//! pending row per person and chat holds a whole burst); each node's
//! sender claims due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite:
//! its one writer), so two nodes never send the same row, and a node that
//! dies holding a claim loses it when the claim runs out.

use super::{Db, Result, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{ChatId, Message, UserId};

/// How long a claim keeps other nodes off a row: longer than a send takes.
pub const CLAIM_FOR: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Schedules the email of each other participant of each chat in `$1`
/// (JSON `[{c, s}]`: chat, sender) for `$2`, inside the storing
/// transaction; a person already due for the chat keeps their row (one
/// email for the burst). Blockers are left out, as for bells.
macro_rules! schedule_emails_tx {
    ($tx:expr, $db:expr, $groups:expr, $due:expr, $at:expr) => {{
        let sql = match $db {
            $crate::storage::Db::Postgres(_) => {
                "INSERT INTO email_outbox (user_id, chat_id, due_at, state, attempts, created_at) \
                 SELECT DISTINCT p.user_id, x.c, CAST($2 AS TIMESTAMPTZ), 'pending', 0, CAST($3 AS TIMESTAMPTZ) \
                 FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, s BIGINT) \
                 CROSS JOIN LATERAL (SELECT q.user_id FROM chat_participants q \
                   WHERE q.chat_id = x.c AND q.user_id <> x.s AND q.left_seq IS NULL AND NOT q.muted \
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = q.user_id AND b.blocked_id = x.s) \
                   OFFSET 0) AS p \
                 ON CONFLICT (user_id, chat_id) WHERE state = 'pending' DO NOTHING"
            }
            $crate::storage::Db::Sqlite(_) => {
                "INSERT INTO email_outbox (user_id, chat_id, due_at, state, attempts, created_at) \
                 SELECT DISTINCT p.user_id, x.value->>'c', $2, 'pending', 0, $3 \
                 FROM json_each($1) AS x \
                 JOIN chat_participants p ON p.chat_id = x.value->>'c' AND p.user_id <> x.value->>'s' \
                   AND p.left_seq IS NULL AND NOT p.muted \
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = p.user_id AND b.blocked_id = x.value->>'s') \
                 WHERE true ON CONFLICT (user_id, chat_id) WHERE state = 'pending' DO NOTHING"
            }
        };
        sqlx::query(sql)
            .bind($groups)
            .bind($due)
            .bind($at)
            .execute(&mut *$tx)
            .await?;
    }};
}
pub(super) use schedule_emails_tx;

/// An outbox row claimed for sending.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DueEmail {
    pub id: i64,
    pub user_id: UserId,
    pub chat_id: ChatId,
    pub attempts: i32,
}

/// What an email about a chat says, read when it is sent.
#[derive(Clone, Debug)]
pub struct Digest {
    pub email: String,
    pub name: String,
    /// The person wants email (the unsubscribe link turns it off).
    pub wanted: bool,
    /// When their last tab closed (none: never, or still open).
    pub last_seen: Option<DateTime<Utc>>,
    pub job_title: String,
    /// Others' messages they have not read, oldest first (at most
    /// `limit`, the newest), as the person sees them (masked).
    pub unread: Vec<Message>,
    /// How many there are in all.
    pub unread_count: i64,
    /// When they were last emailed about this chat.
    pub last_emailed: Option<DateTime<Utc>>,
    /// Their choices: minutes away (none: the deployment's), quiet hours
    /// (minutes of the day) in their time zone, and the chat muted.
    pub prefs: Prefs,
    pub muted: bool,
}

/// A person's stored email choices.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Prefs {
    pub email_notifications: bool,
    pub email_delay_minutes: Option<i32>,
    pub quiet_start: Option<i32>,
    pub quiet_end: Option<i32>,
    pub time_zone: String,
}

#[derive(sqlx::FromRow)]
struct PersonRow {
    email: String,
    name: String,
    last_seen_at: Option<DateTime<Utc>>,
    last_read_seq: i64,
    left_seq: Option<i64>,
    muted: bool,
    title: String,
    #[sqlx(flatten)]
    prefs: Prefs,
}

const PREFS: &str =
    "u.email_notifications, u.email_delay_minutes, u.quiet_start, u.quiet_end, u.time_zone";

impl Db {
    /// Claims up to `limit` rows due by now that no live claim holds.
    pub async fn claim_due_emails(&self, limit: i64) -> Result<Vec<DueEmail>> {
        let at = now();
        let until = at + CLAIM_FOR;
        Ok(on_pool!(self, pool => {
            let sql = match self {
                Db::Postgres(_) => {
                    "UPDATE email_outbox SET claimed_until = $2 WHERE id IN ( \
                       SELECT id FROM email_outbox WHERE state = 'pending' AND due_at <= $1 \
                       AND (claimed_until IS NULL OR claimed_until < $1) \
                       ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, user_id, chat_id, attempts"
                }
                Db::Sqlite(_) => {
                    "UPDATE email_outbox SET claimed_until = $2 WHERE id IN ( \
                       SELECT id FROM email_outbox WHERE state = 'pending' AND due_at <= $1 \
                       AND (claimed_until IS NULL OR claimed_until < $1) \
                       ORDER BY due_at LIMIT $3) \
                     RETURNING id, user_id, chat_id, attempts"
                }
            };
            sqlx::query_as(sql).bind(at).bind(until).bind(limit).fetch_all(pool).await?
        }))
    }

    /// What the email about `chat` to `user` would say; `None` when they
    /// are no longer in the chat (or it is gone).
    pub async fn email_digest(
        &self,
        user: UserId,
        chat: ChatId,
        limit: i64,
    ) -> Result<Option<Digest>> {
        let sql = format!(
            "SELECT u.email, u.name, u.last_seen_at, p.last_read_seq, p.left_seq, p.muted, j.title, {PREFS} \
             FROM chat_participants p JOIN users u ON u.id = p.user_id \
             JOIN chats c ON c.id = p.chat_id JOIN jobs j ON j.id = c.job_id \
             WHERE p.chat_id = $1 AND p.user_id = $2 AND u.deleted_at IS NULL"
        );
        let person: Option<PersonRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
            .bind(chat)
            .bind(user)
            .fetch_optional(pool)
            .await?
        });
        let Some(p) = person.filter(|p| p.left_seq.is_none()) else {
            return Ok(None);
        };
        let others = "m.chat_id = $1 AND m.seq > $2 AND m.sender_id IS NOT NULL AND m.sender_id <> $3 \
                      AND m.target_id IS NULL AND m.deleted_at IS NULL";
        let (count,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(&format!("SELECT COUNT(*) FROM messages m WHERE {others}"))
                .bind(chat)
                .bind(p.last_read_seq)
                .bind(user)
                .fetch_one(pool)
                .await?
        });
        let sql = format!(
            "{} WHERE {others} ORDER BY m.seq DESC LIMIT $4",
            super::messages::MESSAGE_SELECT
        );
        let rows: Vec<super::messages::MessageRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(chat)
                .bind(p.last_read_seq)
                .bind(user)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        let mut unread = rows
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<Vec<_>>>()?;
        unread.reverse();
        let last: Option<(DateTime<Utc>,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT sent_at FROM email_outbox WHERE user_id = $1 AND chat_id = $2 AND state = 'sent' \
                 ORDER BY sent_at DESC LIMIT 1",
            )
            .bind(user)
            .bind(chat)
            .fetch_optional(pool)
            .await?
        });
        Ok(Some(Digest {
            email: p.email,
            name: p.name,
            wanted: p.prefs.email_notifications,
            last_seen: p.last_seen_at,
            job_title: p.title,
            unread,
            unread_count: count,
            last_emailed: last.map(|l| l.0),
            prefs: p.prefs,
            muted: p.muted,
        }))
    }

    /// The row was sent (`sent`) or will not be (`skipped`: read meanwhile,
    /// back online, unsubscribed; `failed`: given up).
    pub async fn close_email(&self, id: i64, state: &str, error: Option<&str>) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE email_outbox SET state = $2, sent_at = $3, claimed_until = NULL, last_error = $4 WHERE id = $1",
            )
            .bind(id)
            .bind(state)
            .bind(now())
            .bind(error)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The row waits until `due` (a retry, or the person is not away long
    /// enough yet); `failed` counts as an attempt.
    pub async fn postpone_email(
        &self,
        id: i64,
        due: DateTime<Utc>,
        failed: Option<&str>,
    ) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query(
                "UPDATE email_outbox SET due_at = $2, claimed_until = NULL, \
                 attempts = attempts + $3, last_error = COALESCE($4, last_error) WHERE id = $1",
            )
            .bind(id)
            .bind(due)
            .bind(i32::from(failed.is_some()))
            .bind(failed)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Whether `user` wants email (the unsubscribe link and the settings
    /// set it); `false` when there is no such live account.
    pub async fn set_email_notifications(&self, user: UserId, wanted: bool) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE users SET email_notifications = $2 WHERE id = $1 AND deleted_at IS NULL")
                .bind(user)
                .bind(wanted)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// `user`'s email choices (none: no such live account).
    pub async fn email_prefs(&self, user: UserId) -> Result<Option<Prefs>> {
        let sql = format!("SELECT {PREFS} FROM users u WHERE u.id = $1 AND u.deleted_at IS NULL");
        Ok(on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user).fetch_optional(pool).await?
        }))
    }

    /// Stores `user`'s email choices; `false` when there is no such live
    /// account.
    pub async fn set_email_prefs(&self, user: UserId, prefs: &Prefs) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query(
                "UPDATE users SET email_notifications = $2, email_delay_minutes = $3, quiet_start = $4, \
                 quiet_end = $5, time_zone = $6 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(user)
            .bind(prefs.email_notifications)
            .bind(prefs.email_delay_minutes)
            .bind(prefs.quiet_start)
            .bind(prefs.quiet_end)
            .bind(&prefs.time_zone)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Mutes or unmutes a chat for `user`; `false` when they are not in it.
    pub async fn set_muted(&self, chat: ChatId, user: UserId, muted: bool) -> Result<bool> {
        let n = on_pool!(self, pool => {
            sqlx::query("UPDATE chat_participants SET muted = $3 WHERE chat_id = $1 AND user_id = $2 AND left_seq IS NULL")
                .bind(chat)
                .bind(user)
                .bind(muted)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// The person's last tab closed (or opened: `None` clears it).
    pub async fn set_last_seen(&self, user: UserId, at: Option<DateTime<Utc>>) -> Result<()> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET last_seen_at = $2 WHERE id = $1")
                .bind(user)
                .bind(at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
