//! What LSMs do with the moderation queue: dismiss an item, remove a
//! message for everyone, warn a person in the chat, suspend an account
//! (for a time or for good) and lift a suspension. Each action is written
//! to the append-only moderation log in the same transaction; nothing a
//! moderator does is silent.

use super::reports::tell_lsms;
use super::{AuthUser, Result, Service, ServiceError, texts};
use crate::storage::{
    ActionRecord, ActionRefused, Change, ChangeRefused, Effect, FOR_GOOD_AFTER, NewChange,
};
use chrono::{DateTime, SubsecRound, Utc};
use contract::model::{
    ActionKind, AuditEntry, Decision, ItemStatus, ModerationAction, ModerationItem, ModerationPage,
    Role, SystemEvent, UserAction, UserId, UserRef,
};
use contract::protocol::NewMessage;
use contract::validate::Invalid;

const LSMS_ONLY: &str = "only local service managers moderate";
const NOT_AN_LSM_TARGET: &str = "local service manager accounts are managed by operators";

/// Items or log lines a page holds by default, and at most (the log's CSV
/// export takes up to `EXPORT_MAX` lines at once).
const PAGE: u32 = 50;
const PAGE_MAX: u32 = 100;
pub const EXPORT_MAX: u32 = 10_000;

/// A suspension for good ends in year 9999.
fn for_good() -> DateTime<Utc> {
    DateTime::from_timestamp(253_402_214_400, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How a suspension's end reads ("until 2026-12-10 14:00 UTC", "for good").
pub fn suspension_end(until: DateTime<Utc>) -> String {
    if until.timestamp() >= FOR_GOOD_AFTER {
        "for good".into()
    } else {
        format!("until {}", until.format("%Y-%m-%d %H:%M UTC"))
    }
}

fn page_limit(page: &ModerationPage, max: u32) -> Result<i64> {
    match page.limit {
        None => Ok(i64::from(PAGE.min(max))),
        Some(n) if (1..=max).contains(&n) => Ok(i64::from(n)),
        Some(_) => Err(Invalid {
            field: "limit",
            message: format!("must be 1–{max}"),
        }
        .into()),
    }
}

impl Service {
    pub(super) fn moderator(&self, actor: &AuthUser) -> Result<UserRef> {
        if actor.role != Role::Lsm {
            return Err(ServiceError::Forbidden(LSMS_ONLY));
        }
        Ok(UserRef {
            id: actor.id,
            name: actor.name.clone(),
        })
    }

    /// The queue: items with a status (open by default), newest first.
    pub async fn moderation_queue(
        &self,
        actor: &AuthUser,
        page: &ModerationPage,
    ) -> Result<Vec<ModerationItem>> {
        self.moderator(actor)?;
        self.inner.limits.read(actor.id)?;
        let status = match page.status.as_deref() {
            None => ItemStatus::Open,
            Some(s) => ItemStatus::parse(s).ok_or_else(|| Invalid {
                field: "status",
                message: "must be open, dismissed or actioned".into(),
            })?,
        };
        let limit = page_limit(page, PAGE_MAX)?;
        Ok(self
            .inner
            .db
            .moderation_items(status, page.before, limit, None)
            .await?)
    }

    /// Acts on an open item: dismiss, hide its message, warn or suspend
    /// the person it is about. Answers with the log line.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, item = item_id))]
    pub async fn act_on_item(
        &self,
        actor: &AuthUser,
        item_id: i64,
        action: &ModerationAction,
    ) -> Result<AuditEntry> {
        let me = self.moderator(actor)?;
        let decision = action.parse()?;
        let item = self
            .inner
            .db
            .moderation_items(ItemStatus::Open, None, 1, Some(item_id))
            .await?
            .pop();
        let Some(item) = item else {
            // Not open: closed already, or no such item.
            return Err(match self.inner.db.item_status(item_id).await? {
                Some(_) => ServiceError::Conflict {
                    message: "the item was already closed".into(),
                    details: None,
                },
                None => ServiceError::NotFound("item"),
            });
        };
        let subject = UserRef {
            id: item.subject.id,
            name: item.subject.name.clone(),
        };
        let record = |status: ItemStatus, detail: String| ActionRecord {
            actor: me.clone(),
            action: decision.action,
            item: Some((item.id, status)),
            subject: Some(subject.clone()),
            chat_id: Some(item.chat_id),
            message_id: item.message_id,
            reason: decision.reason.clone(),
            detail,
        };
        let entry = match decision.action {
            ActionKind::Dismiss => {
                self.take(
                    record(ItemStatus::Dismissed, String::new()),
                    Effect::Nothing,
                )
                .await?
                .entry
            }
            ActionKind::Hide => {
                let message = item.message_id.ok_or_else(|| Invalid {
                    field: "action",
                    message: "this item names no message to remove".into(),
                })?;
                self.hide(record(ItemStatus::Actioned, item.evidence.clone()), message)
                    .await?
            }
            ActionKind::Warn => {
                let event = SystemEvent::Warning {
                    user: Some(subject.id),
                    user_name: subject.name.clone(),
                    lsm_name: me.name.clone(),
                    reason: decision.reason.clone(),
                };
                let content = texts::system_line(&event);
                let taken = self
                    .take(
                        record(ItemStatus::Actioned, String::new()),
                        Effect::Warn {
                            chat: item.chat_id,
                            content: &content,
                            event: &event,
                        },
                    )
                    .await?;
                if let Some(m) = taken.message {
                    crate::metrics::message_stored("system");
                    self.fan_out_message(m);
                }
                taken.entry
            }
            ActionKind::Suspend => {
                self.suspend(
                    &me,
                    subject.id,
                    &decision,
                    Some(item.id),
                    Some(item.chat_id),
                )
                .await?
            }
            ActionKind::Lift => {
                return Err(Invalid {
                    field: "action",
                    message: "a suspension is lifted on the person, not an item".into(),
                }
                .into());
            }
        };
        tell_lsms(
            &self.inner.db,
            &self.inner.broadcast,
            Some(item.id),
            match decision.action {
                ActionKind::Dismiss => ItemStatus::Dismissed,
                _ => ItemStatus::Actioned,
            },
        )
        .await;
        Ok(entry)
    }

    /// Suspends or lifts the suspension of a person directly.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, subject = user))]
    pub async fn act_on_user(
        &self,
        actor: &AuthUser,
        user: UserId,
        action: &UserAction,
    ) -> Result<AuditEntry> {
        let me = self.moderator(actor)?;
        let decision = action.parse()?;
        let entry = match decision.action {
            ActionKind::Suspend => self.suspend(&me, user, &decision, None, None).await,
            _ => {
                let (name, _, _) = self
                    .inner
                    .db
                    .account_standing(user)
                    .await?
                    .ok_or(ServiceError::NotFound("user"))?;
                let rec = ActionRecord {
                    actor: me,
                    action: ActionKind::Lift,
                    item: None,
                    subject: Some(UserRef { id: user, name }),
                    chat_id: None,
                    message_id: None,
                    reason: decision.reason,
                    detail: String::new(),
                };
                match self.take(rec, Effect::Lift { user }).await {
                    Err(ServiceError::NotFound(_)) => Err(ServiceError::Conflict {
                        message: "the account is not suspended".into(),
                        details: None,
                    }),
                    other => other.map(|t| t.entry),
                }
            }
        }?;
        // Other LSMs' queues show the person's standing: they reload.
        tell_lsms(
            &self.inner.db,
            &self.inner.broadcast,
            None,
            ItemStatus::Actioned,
        )
        .await;
        Ok(entry)
    }

    /// The log, newest first.
    pub async fn moderation_log(
        &self,
        actor: &AuthUser,
        page: &ModerationPage,
        max: u32,
    ) -> Result<Vec<AuditEntry>> {
        self.moderator(actor)?;
        self.inner.limits.read(actor.id)?;
        let limit = page_limit(page, max)?;
        Ok(self.inner.db.moderation_log(page.before, limit).await?)
    }

    async fn take(&self, rec: ActionRecord, effect: Effect<'_>) -> Result<crate::storage::Taken> {
        match self.inner.db.take_action(&rec, effect).await? {
            Ok(taken) => {
                tracing::info!(action = rec.action.as_str(), "moderation action");
                Ok(taken)
            }
            Err(ActionRefused::ItemClosed) => Err(ServiceError::Conflict {
                message: "the item was closed by another moderator".into(),
                details: None,
            }),
            Err(ActionRefused::NoSuchUser) => Err(ServiceError::NotFound("user")),
        }
    }

    /// Removes a message for everyone, as a deletion the moderator made.
    async fn hide(&self, rec: ActionRecord, message: i64) -> Result<AuditEntry> {
        let chat = rec.chat_id.ok_or(ServiceError::NotFound("chat"))?;
        let new = NewChange {
            chat_id: chat,
            sender_id: rec.actor.id,
            target_id: message,
            change: Change::Delete,
            client_id: None,
            edit_window: std::time::Duration::ZERO,
            original: None,
            moderation: Some(rec.clone()),
        };
        let (stored, entry) = match self.inner.db.change_message_logged(&new).await? {
            Ok(done) => done,
            Err(ChangeRefused::Deleted) => {
                return Err(ServiceError::Conflict {
                    message: "its sender deleted the message already (the report keeps its text)"
                        .into(),
                    details: None,
                });
            }
            Err(ChangeRefused::ItemClosed) => {
                return Err(ServiceError::Conflict {
                    message: "the item was closed by another moderator".into(),
                    details: None,
                });
            }
            Err(_) => return Err(ServiceError::NotFound("message")),
        };
        crate::metrics::message_stored("delete");
        self.inner
            .broadcast
            .to_chat(chat, &NewMessage(stored.message.clone()))
            .await;
        tracing::info!(message, "message removed by a moderator");
        entry.ok_or_else(|| ServiceError::Internal(anyhow::anyhow!("removal not logged")))
    }

    /// Suspends `user` until `days` from now or for good: every token of
    /// theirs ends and their sockets close on every node.
    async fn suspend(
        &self,
        me: &UserRef,
        user: UserId,
        decision: &Decision,
        item: Option<i64>,
        chat: Option<contract::model::ChatId>,
    ) -> Result<AuditEntry> {
        let (name, role, _) = self
            .inner
            .db
            .account_standing(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        if role == Role::Lsm.as_str() {
            return Err(ServiceError::Forbidden(NOT_AN_LSM_TARGET));
        }
        let until = match decision.days {
            Some(d) => Utc::now() + chrono::Duration::days(i64::from(d)),
            None => for_good(),
        };
        let until = until.trunc_subsecs(6);
        let rec = ActionRecord {
            actor: me.clone(),
            action: ActionKind::Suspend,
            item: item.map(|i| (i, ItemStatus::Actioned)),
            subject: Some(UserRef { id: user, name }),
            chat_id: chat,
            message_id: None,
            reason: decision.reason.clone(),
            detail: suspension_end(until),
        };
        let taken = self
            .take(
                rec,
                Effect::Suspend {
                    user,
                    until,
                    reason: &decision.reason,
                },
            )
            .await?;
        self.sessions_ended(user).await;
        Ok(taken.entry)
    }
}
