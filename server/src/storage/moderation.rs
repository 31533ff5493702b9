//! What moderators do, each with its line in the append-only log, in the
//! same transaction: closing an item, a warning in a chat, a suspension
//! and its lifting (removing a message goes through `revisions.rs`, which
//! records it likewise). Also what the auto-flags count.

use super::message_inserts::insert_system_message_tx;
use super::messages::fetch_message_tx;
use super::{Db, Result, StorageError, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{
    ActionKind, AuditEntry, ChatId, ItemStatus, Message, MessageId, SystemEvent, UserId, UserRef,
};

/// One moderation action as the log records it, and the item it closes.
#[derive(Clone, Debug)]
pub struct ActionRecord {
    pub actor: UserRef,
    pub action: ActionKind,
    /// The queue item acted on, and how it closes.
    pub item: Option<(i64, ItemStatus)>,
    pub subject: Option<UserRef>,
    pub chat_id: Option<ChatId>,
    pub message_id: Option<MessageId>,
    pub reason: String,
    pub detail: String,
}

/// What an action does besides being recorded.
#[derive(Clone, Debug)]
pub enum Effect<'a> {
    /// Nothing (dismissing an item).
    Nothing,
    /// A warning line in the chat.
    Warn {
        chat: ChatId,
        content: &'a str,
        event: &'a SystemEvent,
    },
    /// The account is suspended until then; every token of it ends.
    Suspend {
        user: UserId,
        until: DateTime<Utc>,
        reason: &'a str,
    },
    /// The suspension ends.
    Lift { user: UserId },
}

/// Why an action was not taken (nothing was written).
#[derive(Debug, PartialEq, Eq)]
pub enum ActionRefused {
    /// The item was closed already (another moderator was first).
    ItemClosed,
    /// No such live account (suspend, lift), or it is not suspended (lift).
    NoSuchUser,
}

/// Closes the record's item and appends its log line, inside an open
/// transaction; `Err(ActionRefused::ItemClosed)` (from the enclosing
/// function) when the item is no longer open.
macro_rules! record_action_tx {
    ($tx:expr, $rec:expr) => {{
        let rec: &$crate::storage::ActionRecord = $rec;
        let at = $crate::storage::now();
        if let Some((item, status)) = rec.item {
            let closed = sqlx::query(
                "UPDATE reports SET status = $2, closed_at = $3, closed_by = $4 WHERE id = $1 AND status = 'open'",
            )
            .bind(item)
            .bind(status.as_str())
            .bind(at)
            .bind(rec.actor.id)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if closed == 0 {
                return Ok(Err($crate::storage::ActionRefused::ItemClosed));
            }
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO moderation_log (at, actor_id, actor_name, action, item_id, subject_id, subject_name, \
             chat_id, message_id, reason, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(at)
        .bind(rec.actor.id)
        .bind(&rec.actor.name)
        .bind(rec.action.as_str())
        .bind(rec.item.map(|i| i.0))
        .bind(rec.subject.as_ref().map(|s| s.id))
        .bind(rec.subject.as_ref().map(|s| s.name.as_str()))
        .bind(rec.chat_id)
        .bind(rec.message_id)
        .bind(&rec.reason)
        .bind(&rec.detail)
        .fetch_one(&mut *$tx)
        .await?;
        contract::model::AuditEntry {
            id,
            at,
            actor: rec.actor.clone(),
            action: rec.action,
            item_id: rec.item.map(|i| i.0),
            subject: rec.subject.clone(),
            chat_id: rec.chat_id,
            message_id: rec.message_id,
            reason: rec.reason.clone(),
            detail: rec.detail.clone(),
        }
    }};
}
pub(super) use record_action_tx;

/// An action taken: its log line, and the chat line it wrote (a warning).
#[derive(Debug)]
pub struct Taken {
    pub entry: AuditEntry,
    pub message: Option<Message>,
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: i64,
    at: DateTime<Utc>,
    actor_id: i64,
    actor_name: String,
    action: String,
    item_id: Option<i64>,
    subject_id: Option<i64>,
    subject_name: Option<String>,
    chat_id: Option<i64>,
    message_id: Option<i64>,
    reason: String,
    detail: String,
}

impl TryFrom<LogRow> for AuditEntry {
    type Error = StorageError;
    fn try_from(r: LogRow) -> Result<Self> {
        Ok(AuditEntry {
            id: r.id,
            at: r.at,
            actor: UserRef {
                id: r.actor_id,
                name: r.actor_name,
            },
            action: ActionKind::parse(&r.action)
                .ok_or_else(|| StorageError::Corrupt(format!("action {:?}", r.action)))?,
            item_id: r.item_id,
            subject: r.subject_id.map(|id| UserRef {
                id,
                name: r.subject_name.unwrap_or_default(),
            }),
            chat_id: r.chat_id,
            message_id: r.message_id,
            reason: r.reason,
            detail: r.detail,
        })
    }
}

impl Db {
    /// Takes one action and records it, all or nothing.
    pub async fn take_action(
        &self,
        rec: &ActionRecord,
        effect: Effect<'_>,
    ) -> Result<std::result::Result<Taken, ActionRefused>> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut message = None;
            match effect {
                Effect::Nothing => {}
                Effect::Warn { chat, content, event } => {
                    let id = insert_system_message_tx!(tx, chat, content, event);
                    message = Some(fetch_message_tx!(tx, id));
                }
                Effect::Suspend { user, until, reason } => {
                    let changed = sqlx::query(
                        "UPDATE users SET suspended_until = $2, suspension_reason = $3, \
                         token_version = token_version + 1 WHERE id = $1 AND deleted_at IS NULL",
                    )
                    .bind(user)
                    .bind(until)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        return Ok(Err(ActionRefused::NoSuchUser));
                    }
                }
                Effect::Lift { user } => {
                    let changed = sqlx::query(
                        "UPDATE users SET suspended_until = NULL, suspension_reason = NULL \
                         WHERE id = $1 AND deleted_at IS NULL AND suspended_until IS NOT NULL",
                    )
                    .bind(user)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed == 0 {
                        return Ok(Err(ActionRefused::NoSuchUser));
                    }
                }
            }
            let entry = record_action_tx!(tx, rec);
            tx.commit().await?;
            Ok(Ok(Taken { entry, message }))
        })
    }

    /// The log, newest first, below id `before`.
    pub async fn moderation_log(&self, before: Option<i64>, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows: Vec<LogRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, at, actor_id, actor_name, action, item_id, subject_id, subject_name, chat_id, \
                 message_id, reason, detail FROM moderation_log WHERE id < $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(AuditEntry::try_from).collect()
    }

    /// The live LSMs (at most 1,000), who see the queue live.
    pub async fn lsm_ids(&self) -> Result<Vec<UserId>> {
        let rows: Vec<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM users WHERE role = 'lsm' AND deleted_at IS NULL ORDER BY id LIMIT 1000")
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A live account's name, role and suspension end.
    pub async fn account_standing(
        &self,
        user: UserId,
    ) -> Result<Option<(String, String, Option<DateTime<Utc>>)>> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT name, role, suspended_until FROM users WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(user)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// How many of `sender`'s messages in the chat masking changed.
    pub async fn masked_messages(&self, chat: ChatId, sender: UserId) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM messages WHERE chat_id = $1 AND sender_id = $2 AND original IS NOT NULL \
                 AND target_id IS NULL",
            )
            .bind(chat)
            .bind(sender)
            .fetch_one(pool)
            .await?
        });
        Ok(n)
    }

    /// When the account was made, and in how many chats it has written
    /// (counting up to `cap`, so the answer costs at most that). Accounts
    /// made before `made_after` are not counted (0): most senders are
    /// old, and the count reads messages on the committers' pool.
    pub async fn account_reach(
        &self,
        user: UserId,
        cap: i64,
        made_after: DateTime<Utc>,
    ) -> Result<Option<(DateTime<Utc>, i64)>> {
        let created: Option<(DateTime<Utc>,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT created_at FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(pool)
                .await?
        });
        let Some((created,)) = created else {
            return Ok(None);
        };
        if created < made_after {
            return Ok(Some((created, 0)));
        }
        let (chats,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT COUNT(*) FROM (SELECT p.chat_id FROM chat_participants p WHERE p.user_id = $1 \
                 AND EXISTS (SELECT 1 FROM messages m WHERE m.chat_id = p.chat_id AND m.sender_id = $1) LIMIT $2) AS x",
            )
            .bind(user)
            .bind(cap)
            .fetch_one(pool)
            .await?
        });
        Ok(Some((created, chats)))
    }

    /// Whether `user` is suspended now: until when, and why.
    pub async fn suspension(&self, user: UserId) -> Result<Option<(DateTime<Utc>, String)>> {
        let row: Option<(Option<DateTime<Utc>>, Option<String>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT suspended_until, suspension_reason FROM users WHERE id = $1")
                .bind(user)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(until, reason)| {
            until
                .filter(|u| *u > now())
                .map(|u| (u, reason.unwrap_or_default()))
        }))
    }
}
