//! The LSMs' dispute console: the queue of cases, taking a case, handing
//! it to another LSM. Settling is `disputes.rs`'s `resolve_dispute`.
//! Every change reaches every LSM's sockets (`dispute_case`), so the
//! queue is live on every node.

use super::{AuthUser, Result, Service, ServiceError, texts};
use crate::metrics;
use crate::storage::{CaseFilter, Notice, OpenedDispute, Reassignment, like_pattern};
use contract::model::{
    CaseQuery, ChatId, DisputeCase, DisputeStatus, Role, SystemEvent, UserId, UserRef,
};
use contract::protocol::{ChatUser, DisputeCaseChanged, LsmInvited, NewNotification, UserLeft};
use contract::validate::Invalid;

const PAGE_MAX: u32 = 100;
const QUERY_MAX_CHARS: usize = 100;

impl Service {
    /// The currency refunds are settled in.
    pub fn settle_in(&self, currency: &str) {
        let _ = self.inner.currency.set(currency.to_owned());
    }

    pub(super) fn currency(&self) -> &str {
        self.inner.currency.get().map_or("EUR", String::as_str)
    }

    /// Cases for the console, newest first. LSMs only.
    pub async fn dispute_cases(
        &self,
        actor: &AuthUser,
        query: &CaseQuery,
    ) -> Result<Vec<DisputeCase>> {
        self.moderator(actor)?;
        self.inner.limits.read(actor.id)?;
        let status = match query.status.as_deref() {
            None | Some("open") => Some(DisputeStatus::Open),
            Some("resolved") => Some(DisputeStatus::Resolved),
            Some("all") => None,
            Some(_) => {
                return Err(Invalid {
                    field: "status",
                    message: "must be open, resolved or all".into(),
                }
                .into());
            }
        };
        let limit = query.limit.unwrap_or(50);
        if !(1..=PAGE_MAX).contains(&limit) {
            return Err(Invalid {
                field: "limit",
                message: format!("must be 1 to {PAGE_MAX}"),
            }
            .into());
        }
        let words = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if words.is_some_and(|q| q.chars().count() > QUERY_MAX_CHARS) {
            return Err(Invalid {
                field: "q",
                message: format!("at most {QUERY_MAX_CHARS} characters"),
            }
            .into());
        }
        let pattern = words.map(like_pattern);
        let filter = CaseFilter {
            status,
            lsm: (query.assigned.as_deref() == Some("mine")).then_some(actor.id),
            pattern: pattern.as_deref(),
            id: None,
            before: query.before,
            limit,
        };
        Ok(self
            .inner
            .db
            .dispute_cases(&filter, self.currency())
            .await?)
    }

    /// One case. LSMs only.
    pub async fn dispute_case(&self, actor: &AuthUser, dispute_id: i64) -> Result<DisputeCase> {
        self.moderator(actor)?;
        self.case(dispute_id).await
    }

    async fn case(&self, dispute_id: i64) -> Result<DisputeCase> {
        let filter = CaseFilter {
            status: None,
            lsm: None,
            pattern: None,
            id: Some(dispute_id),
            before: None,
            limit: 1,
        };
        self.inner
            .db
            .dispute_cases(&filter, self.currency())
            .await?
            .pop()
            .ok_or(ServiceError::NotFound("dispute"))
    }

    /// The LSMs a case can go to.
    pub async fn lsm_accounts(&self, actor: &AuthUser) -> Result<Vec<UserRef>> {
        self.moderator(actor)?;
        Ok(self
            .inner
            .db
            .lsm_loads()
            .await?
            .into_iter()
            .map(|l| l.lsm)
            .collect())
    }

    /// The caller takes an open case from whoever has it. Taking one's own
    /// case changes nothing.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id))]
    pub async fn take_case(&self, actor: &AuthUser, dispute_id: i64) -> Result<DisputeCase> {
        let me = self.moderator(actor)?;
        let case = self.case(dispute_id).await?;
        if case.lsm.id == me.id && case.status == DisputeStatus::Open {
            return Ok(case);
        }
        self.move_case(case, me).await
    }

    /// The case's LSM hands it to another LSM.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id, to))]
    pub async fn hand_over_case(
        &self,
        actor: &AuthUser,
        dispute_id: i64,
        to: UserId,
    ) -> Result<DisputeCase> {
        let me = self.moderator(actor)?;
        let case = self.case(dispute_id).await?;
        if case.lsm.id != me.id {
            return Err(ServiceError::Forbidden(
                "only the LSM who has the case can hand it over; take it first",
            ));
        }
        if to == me.id {
            return Err(Invalid {
                field: "to",
                message: "the case is already yours".into(),
            }
            .into());
        }
        let target = self
            .lsm_accounts(actor)
            .await?
            .into_iter()
            .find(|l| l.id == to)
            .ok_or_else(|| Invalid {
                field: "to",
                message: "no local service manager with that id".into(),
            })?;
        self.move_case(case, target).await
    }

    /// Moves an open case to `to`: the old LSM leaves the chat, the new one
    /// joins, a system line says so, the new one's bell rings, and every
    /// LSM's console reloads.
    async fn move_case(&self, case: DisputeCase, to: UserRef) -> Result<DisputeCase> {
        if case.status != DisputeStatus::Open {
            return Err(ServiceError::Conflict {
                message: "the dispute is already resolved".into(),
                details: None,
            });
        }
        let from = case.lsm.clone();
        let event = SystemEvent::DisputeReassigned {
            from: Some(from.id),
            from_name: from.name.clone(),
            to: Some(to.id),
            to_name: to.name.clone(),
        };
        let announcement = texts::system_line(&event);
        let title = texts::added_to_dispute_title(&case.job_title);
        let body = texts::dispute_taken_over_body(&from.name, &case.reason);
        let taken = self
            .inner
            .db
            .reassign_dispute(Reassignment {
                dispute_id: case.id,
                chat_id: case.chat_id,
                from: from.id,
                to: to.id,
                announcement: &announcement,
                event: &event,
                notice: Notice {
                    title: &title,
                    body: &body,
                },
            })
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                message: "the case changed meanwhile; reload it".into(),
                details: None,
            })?;
        tracing::info!(
            dispute_id = case.id,
            from = from.id,
            to = to.id,
            "case moved"
        );
        self.announce_case_moved(case.id, case.chat_id, &from, &to, taken)
            .await;
        self.case(case.id).await
    }

    /// What everyone hears when a case moved from one LSM to another: the
    /// system line, `from` leaving the chat's room on every node, `to`
    /// joining it (and the bell), and every LSM's console.
    pub(super) async fn announce_case_moved(
        &self,
        dispute_id: i64,
        chat: ChatId,
        from: &UserRef,
        to: &UserRef,
        taken: OpenedDispute,
    ) {
        metrics::message_stored("system");
        self.fan_out_message(taken.message);
        let b = &self.inner.broadcast;
        b.remove_from_chat(from.id, chat).await;
        let left = UserLeft {
            chat_id: chat,
            user: ChatUser {
                id: from.id,
                name: from.name.clone(),
                role: Role::Lsm,
            },
        };
        b.to_chat(chat, &left).await;
        let invited = LsmInvited {
            chat_id: chat,
            dispute_id,
            lsm: to.clone(),
        };
        b.to_chat(chat, &invited).await;
        b.to_user(to.id, &invited).await;
        b.to_user(from.id, &invited).await;
        b.to_user(to.id, &NewNotification(taken.notification)).await;
        self.tell_lsms_of_case(dispute_id, DisputeStatus::Open)
            .await;
    }

    /// Every LSM's console reloads.
    pub(super) async fn tell_lsms_of_case(&self, dispute_id: i64, status: DisputeStatus) {
        match self.inner.db.lsm_ids().await {
            Ok(lsms) => {
                self.inner
                    .broadcast
                    .to_users(&lsms, &DisputeCaseChanged { dispute_id, status })
                    .await
            }
            Err(e) => tracing::warn!(error = %e, "LSMs not told of a case"),
        }
    }
}
