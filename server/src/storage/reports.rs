//! Reports and auto-flags: the items of the LSMs' moderation queue, each
//! with the context a moderator judges it by.

use super::messages::{MESSAGE_SELECT, MessageRow};
use super::{Db, Result, StorageError, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{
    ChatId, ItemKind, ItemStatus, Message, MessageId, ModeratedUser, ModerationItem,
    ReportCategory, Role, Seq, UserId,
};

/// How many messages before and after a reported one the queue shows.
pub const CONTEXT_AROUND: i64 = 3;

/// An item to file, as the service decided it.
#[derive(Clone, Debug)]
pub struct NewItem<'a> {
    pub kind: ItemKind,
    pub category: ReportCategory,
    /// `None` for an auto-flag.
    pub reporter: Option<UserId>,
    pub subject: UserId,
    pub chat_id: ChatId,
    pub message_id: Option<MessageId>,
    pub evidence: &'a str,
    pub note: &'a str,
}

/// A reported message as the report keeps it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReportedMessage {
    pub sender_id: i64,
    /// What the chat saw (masked parts as markers).
    pub content: String,
    pub seq: Seq,
}

#[derive(sqlx::FromRow)]
struct ItemRow {
    id: i64,
    kind: String,
    category: String,
    status: String,
    created_at: DateTime<Utc>,
    note: String,
    chat_id: i64,
    message_id: Option<i64>,
    evidence: String,
    job_title: Option<String>,
    job_status: Option<String>,
    s_id: i64,
    s_name: String,
    s_role: String,
    s_until: Option<DateTime<Utc>>,
    s_against: i64,
    s_actioned: i64,
    s_filed: i64,
    r_id: Option<i64>,
    r_name: Option<String>,
    r_role: Option<String>,
    r_until: Option<DateTime<Utc>>,
    r_against: Option<i64>,
    r_actioned: Option<i64>,
    r_filed: Option<i64>,
}

/// One side of an item, with their history: the account in table `t`,
/// its columns named `{p}_…`, its id `user`.
fn person_columns(t: &str, p: &str, user: &str) -> String {
    format!(
        "{t}.id AS {p}_id, {t}.name AS {p}_name, {t}.role AS {p}_role, {t}.suspended_until AS {p}_until, \
         (SELECT COUNT(*) FROM reports x WHERE x.subject_id = {user}) AS {p}_against, \
         (SELECT COUNT(*) FROM reports x WHERE x.subject_id = {user} AND x.status = 'actioned') AS {p}_actioned, \
         (SELECT COUNT(*) FROM reports x WHERE x.reporter_id = {user}) AS {p}_filed"
    )
}

fn moderated(
    id: i64,
    name: String,
    role: &str,
    until: Option<DateTime<Utc>>,
    counts: (i64, i64, i64),
) -> Result<ModeratedUser> {
    let suspended = until.is_some_and(|u| u > Utc::now());
    Ok(ModeratedUser {
        id,
        name,
        role: Role::parse(role).ok_or_else(|| StorageError::Corrupt(format!("role {role:?}")))?,
        suspended,
        // A suspension for good is stored as year 9999: shown as none.
        suspended_until: until.filter(|u| suspended && u.timestamp() < FOR_GOOD_AFTER),
        reports_against: counts.0,
        reports_actioned: counts.1,
        reports_filed: counts.2,
    })
}

/// Suspensions ending after this (unix seconds, year 9000) are for good.
pub const FOR_GOOD_AFTER: i64 = 221_845_392_000;

impl Db {
    /// A user's message in a chat, as a report keeps it (none for a
    /// system line, a change row or another chat's message).
    pub async fn reported_message(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
    ) -> Result<Option<ReportedMessage>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT sender_id, content, seq FROM messages \
                 WHERE id = $1 AND chat_id = $2 AND kind = 'user' AND target_id IS NULL AND sender_id IS NOT NULL",
            )
            .bind(message_id)
            .bind(chat_id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Files an item; the same report (reporter and message) or flag
    /// (subject, reason and chat) a second time answers with the first:
    /// `(id, created_at, created)`.
    pub async fn insert_item(&self, new: &NewItem<'_>) -> Result<(i64, DateTime<Utc>, bool)> {
        let kind = match new.kind {
            ItemKind::Report => "report",
            ItemKind::Flag => "flag",
        };
        let at = now();
        let inserted: Option<(i64, DateTime<Utc>)> = on_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO reports (kind, category, reporter_id, subject_id, chat_id, message_id, evidence, note, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING id, created_at",
            )
            .bind(kind)
            .bind(new.category.as_str())
            .bind(new.reporter)
            .bind(new.subject)
            .bind(new.chat_id)
            .bind(new.message_id)
            .bind(new.evidence)
            .bind(new.note)
            .bind(at)
            .fetch_optional(pool)
            .await?
        });
        if let Some((id, created_at)) = inserted {
            return Ok((id, created_at, true));
        }
        let earlier: (i64, DateTime<Utc>) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, created_at FROM reports WHERE kind = $1 AND ( \
                   (kind = 'report' AND reporter_id = $2 AND message_id = $3) OR \
                   (kind = 'flag' AND subject_id = $4 AND category = $5 \
                    AND (chat_id = $6 OR category = 'new_account_burst'))) \
                 ORDER BY id LIMIT 1",
            )
            .bind(kind)
            .bind(new.reporter)
            .bind(new.message_id)
            .bind(new.subject)
            .bind(new.category.as_str())
            .bind(new.chat_id)
            .fetch_one(pool)
            .await?
        });
        Ok((earlier.0, earlier.1, false))
    }

    /// An item's status alone (`None`: no such item).
    pub async fn item_status(&self, item_id: i64) -> Result<Option<ItemStatus>> {
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT status FROM reports WHERE id = $1")
                .bind(item_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(s,)| ItemStatus::parse(&s)))
    }

    /// Items with `status`, newest first, below id `before`, with who
    /// they are about and by, the job, and the messages around.
    pub async fn moderation_items(
        &self,
        status: ItemStatus,
        before: Option<i64>,
        limit: i64,
        only: Option<i64>,
    ) -> Result<Vec<ModerationItem>> {
        let sql = format!(
            "SELECT r.id, r.kind, r.category, r.status, r.created_at, r.note, r.chat_id, r.message_id, r.evidence, \
             j.title AS job_title, j.status AS job_status, {}, {} \
             FROM reports r JOIN users s ON s.id = r.subject_id LEFT JOIN users rp ON rp.id = r.reporter_id \
             LEFT JOIN chats c ON c.id = r.chat_id LEFT JOIN jobs j ON j.id = c.job_id \
             WHERE r.status = $1 AND r.id < $2 AND ($4 = 0 OR r.id = $4) ORDER BY r.id DESC LIMIT $3",
            person_columns("s", "s", "r.subject_id"),
            person_columns("rp", "r", "r.reporter_id"),
        );
        let rows: Vec<ItemRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(status.as_str())
                .bind(before.unwrap_or(i64::MAX))
                .bind(limit)
                .bind(only.unwrap_or(0))
                .fetch_all(pool)
                .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let context = self.item_context(r.chat_id, r.message_id).await?;
            let reporter = match (r.r_id, r.r_name, r.r_role) {
                (Some(id), Some(name), Some(role)) => Some(moderated(
                    id,
                    name,
                    &role,
                    r.r_until,
                    (
                        r.r_against.unwrap_or(0),
                        r.r_actioned.unwrap_or(0),
                        r.r_filed.unwrap_or(0),
                    ),
                )?),
                _ => None,
            };
            out.push(ModerationItem {
                id: r.id,
                kind: if r.kind == "flag" {
                    ItemKind::Flag
                } else {
                    ItemKind::Report
                },
                category: ReportCategory::parse(&r.category)
                    .ok_or_else(|| StorageError::Corrupt(format!("category {:?}", r.category)))?,
                status: ItemStatus::parse(&r.status)
                    .ok_or_else(|| StorageError::Corrupt(format!("status {:?}", r.status)))?,
                created_at: r.created_at,
                reporter,
                subject: moderated(
                    r.s_id,
                    r.s_name,
                    &r.s_role,
                    r.s_until,
                    (r.s_against, r.s_actioned, r.s_filed),
                )?,
                note: r.note,
                chat_id: r.chat_id,
                job_title: r.job_title.unwrap_or_default(),
                job_status: r.job_status.unwrap_or_default(),
                message_id: r.message_id,
                evidence: r.evidence,
                context,
            });
        }
        Ok(out)
    }

    /// The messages around a reported one (or the chat's newest, for a
    /// report about a person), changes aside, oldest first.
    async fn item_context(&self, chat: ChatId, message: Option<MessageId>) -> Result<Vec<Message>> {
        let seq: Option<(i64,)> = match message {
            Some(id) => on_pool!(self, pool => {
                sqlx::query_as("SELECT seq FROM messages WHERE id = $1 AND chat_id = $2")
                    .bind(id)
                    .bind(chat)
                    .fetch_optional(pool)
                    .await?
            }),
            None => None,
        };
        let rows: Vec<MessageRow> = match seq {
            Some((seq,)) => {
                let sql = format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.target_id IS NULL \
                     AND m.seq BETWEEN $2 AND $3 ORDER BY m.seq"
                );
                on_pool!(self, pool => {
                    sqlx::query_as(&sql)
                        .bind(chat)
                        .bind(seq - 4 * CONTEXT_AROUND)
                        .bind(seq + 4 * CONTEXT_AROUND)
                        .fetch_all(pool)
                        .await?
                })
            }
            None => {
                let sql = format!(
                    "{MESSAGE_SELECT} WHERE m.chat_id = $1 AND m.target_id IS NULL \
                     ORDER BY m.seq DESC LIMIT $2"
                );
                let mut rows: Vec<MessageRow> = on_pool!(self, pool => {
                    sqlx::query_as(&sql).bind(chat).bind(2 * CONTEXT_AROUND).fetch_all(pool).await?
                });
                rows.reverse();
                rows
            }
        };
        let mut messages = rows
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<Vec<_>>>()?;
        // Changes take seqs too: keep CONTEXT_AROUND messages each side of
        // the reported one, however many changes lie between.
        if let Some(id) = message
            && let Some(at) = messages.iter().position(|m| m.id == id)
        {
            let from = at.saturating_sub(CONTEXT_AROUND as usize);
            let to = (at + 1 + CONTEXT_AROUND as usize).min(messages.len());
            messages = messages[from..to].to_vec();
        }
        Ok(messages)
    }
}
