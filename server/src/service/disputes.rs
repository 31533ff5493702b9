//! Disputes: "Add LSM" opens one and brings the least busy LSM in; the LSM
//! settles it and leaves the chat; an LSM who is deleted or demoted hands
//! their open disputes on.

use super::texts;
use super::{AuthUser, Result, Service, ServiceError};
use crate::metrics;
use crate::storage::{LsmLoad, NewDispute, Notice, Reassignment, Settlement};
use chrono::Utc;
use contract::model::DisputeOpened;
use contract::model::Settlement as CaseSettlement;
use contract::model::{ChatId, Role, SystemEvent, UserId, UserRef};
use contract::protocol::{ChatUser, DisputeResolved, LsmInvited, NewNotification, UserLeft};
use contract::validate::Reason;

/// The LSM a new dispute goes to: the one with the fewest open disputes,
/// ties to the lowest id.
fn least_busy(loads: Vec<LsmLoad>) -> Option<UserRef> {
    loads
        .into_iter()
        .min_by_key(|l| (l.open_disputes, l.lsm.id))
        .map(|l| l.lsm)
}

impl Service {
    /// "Add LSM": opens a dispute and brings the least busy LSM into the chat.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn open_dispute(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        reason: Reason,
    ) -> Result<DisputeOpened> {
        if self.authorize_chat(actor, chat).await? == Role::Lsm {
            return Err(ServiceError::Forbidden(
                "an LSM settles disputes; the customer or the provider raises them",
            ));
        }
        let db = &self.inner.db;
        let cooldown = self.inner.limits.dispute_reopen_cooldown();
        if !cooldown.is_zero()
            && let Some(settled) = db.last_settled_at(chat).await?
        {
            let since = (Utc::now() - settled).to_std().unwrap_or_default();
            if since < cooldown {
                return Err(ServiceError::TooSoon {
                    message: "this chat's last dispute was settled moments ago; a new one can be raised later",
                    retry_after_secs: (cooldown - since).as_secs().max(1),
                });
            }
        }
        // The LSM who settled this chat's last dispute knows the case;
        // otherwise whoever has the fewest open disputes.
        let lsm = match db.former_lsm(chat).await? {
            Some(former) => former,
            None => least_busy(db.lsm_loads().await?).ok_or_else(|| {
                ServiceError::Unavailable(
                    "no local service manager account exists yet; ask an operator to create one"
                        .into(),
                )
            })?,
        };
        let job_title = db.chat_job_title(chat).await?;
        let event = SystemEvent::DisputeOpened {
            raised_by: Some(actor.id),
            raised_by_name: actor.name.clone(),
            lsm: Some(lsm.id),
            lsm_name: lsm.name.clone(),
            reason: reason.as_str().to_owned(),
        };
        let announcement = texts::system_line(&event);
        let title = texts::added_to_dispute_title(&job_title);
        let body = texts::added_to_dispute_body(&actor.name, reason.as_str());
        let opened = db
            .open_dispute(NewDispute {
                chat_id: chat,
                raised_by: actor.id,
                reason: reason.as_str(),
                lsm: lsm.id,
                announcement: &announcement,
                event: &event,
                notice: Notice {
                    title: &title,
                    body: &body,
                },
            })
            .await?;
        metrics::message_stored("system");
        self.fan_out_message(opened.message);
        let b = &self.inner.broadcast;
        let invited = LsmInvited {
            chat_id: chat,
            dispute_id: opened.dispute_id,
            lsm: lsm.clone(),
        };
        b.to_chat(chat, &invited).await;
        b.to_user(lsm.id, &invited).await;
        b.to_user(lsm.id, &NewNotification(opened.notification))
            .await;
        self.tell_lsms_of_case(opened.dispute_id, contract::model::DisputeStatus::Open)
            .await;
        Ok(DisputeOpened {
            dispute_id: opened.dispute_id,
            lsm,
        })
    }

    /// Settles a dispute. Only the LSM it was assigned to may.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id))]
    pub async fn resolve_dispute(
        &self,
        actor: &AuthUser,
        dispute_id: i64,
        settlement: CaseSettlement,
    ) -> Result<ChatId> {
        let db = &self.inner.db;
        let dispute = db
            .get_dispute(dispute_id)
            .await?
            .ok_or(ServiceError::NotFound("dispute"))?;
        if dispute.lsm_id != actor.id || actor.role != Role::Lsm {
            // The chat's own people know the dispute exists and are told
            // why not; anyone else gets the answer of a missing dispute.
            if db.membership(dispute.chat_id, actor.id).await?.is_none() {
                return Err(ServiceError::NotFound("dispute"));
            }
            return Err(ServiceError::Forbidden(
                "only the dispute's LSM can resolve it",
            ));
        }
        let chat = dispute.chat_id;
        let notify: Vec<UserId> = db
            .chat_participants(chat)
            .await?
            .into_iter()
            .map(|p| p.id)
            .filter(|&id| id != actor.id)
            .collect();
        let job_title = db.chat_job_title(chat).await?;
        let currency = self.currency().to_owned();
        let resolution = settlement.note.as_str();
        let event = SystemEvent::DisputeResolved {
            lsm: Some(actor.id),
            lsm_name: actor.name.clone(),
            resolution: resolution.to_owned(),
            outcome: Some(settlement.outcome),
            refund_cents: settlement.refund_cents,
            currency: settlement.refund_cents.map(|_| currency.clone()),
        };
        let announcement = texts::system_line(&event);
        let title = texts::dispute_resolved_title(&job_title);
        let body = texts::settlement_words(
            settlement.outcome,
            settlement.refund_cents,
            &currency,
            resolution,
        );
        let resolved = db
            .resolve_dispute(Settlement {
                dispute_id,
                chat_id: chat,
                lsm: actor.id,
                resolution,
                outcome: settlement.outcome,
                refund_cents: settlement.refund_cents,
                currency: &currency,
                announcement: &announcement,
                event: &event,
                notify: &notify,
                notice: Notice {
                    title: &title,
                    body: &body,
                },
            })
            .await?;
        metrics::message_stored("system");
        self.fan_out_message(resolved.message);
        let b = &self.inner.broadcast;
        let settled = DisputeResolved {
            chat_id: chat,
            dispute_id,
            resolution: resolution.to_owned(),
        };
        b.to_chat(chat, &settled).await;
        // The LSM has left: out of the live room on every node (their
        // browser reloads the list on `dispute_resolved` and shows the
        // transcript read-only); the others see them go.
        b.remove_from_chat(actor.id, chat).await;
        let left = UserLeft {
            chat_id: chat,
            user: ChatUser {
                id: actor.id,
                name: actor.name.clone(),
                role: actor.role,
            },
        };
        b.to_chat(chat, &left).await;
        for (user, n) in resolved.notifications {
            b.to_user(user, &NewNotification(n)).await;
        }
        self.tell_lsms_of_case(dispute_id, contract::model::DisputeStatus::Resolved)
            .await;
        Ok(chat)
    }

    /// Moves every open dispute whose LSM was deleted or is no longer an
    /// LSM to the least busy LSM there is; with none, they wait for the
    /// next LSM account (`create_user`, `set_role` run this again).
    /// Returns how many moved.
    #[tracing::instrument(skip_all)]
    pub async fn reassign_orphaned_disputes(&self) -> Result<usize> {
        let db = &self.inner.db;
        let mut moved = 0;
        for orphan in db.orphaned_disputes().await? {
            let Some(lsm) = least_busy(db.lsm_loads().await?) else {
                tracing::warn!(
                    dispute_id = orphan.id,
                    "no LSM to take over an open dispute"
                );
                break;
            };
            let event = SystemEvent::DisputeReassigned {
                from: Some(orphan.lsm_id),
                from_name: orphan.lsm_name.clone(),
                to: Some(lsm.id),
                to_name: lsm.name.clone(),
            };
            let announcement = texts::system_line(&event);
            let title = texts::added_to_dispute_title(&orphan.job_title);
            let body = texts::dispute_taken_over_body(&orphan.lsm_name, &orphan.reason);
            let Some(taken) = db
                .reassign_dispute(Reassignment {
                    dispute_id: orphan.id,
                    chat_id: orphan.chat_id,
                    from: orphan.lsm_id,
                    to: lsm.id,
                    announcement: &announcement,
                    event: &event,
                    notice: Notice {
                        title: &title,
                        body: &body,
                    },
                })
                .await?
            else {
                continue;
            };
            moved += 1;
            tracing::info!(
                dispute_id = orphan.id,
                from = orphan.lsm_id,
                to = lsm.id,
                "dispute reassigned"
            );
            let from = UserRef {
                id: orphan.lsm_id,
                name: orphan.lsm_name.clone(),
            };
            self.announce_case_moved(orphan.id, orphan.chat_id, &from, &lsm, taken)
                .await;
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LsmLoad;
    use contract::model::{UserId, UserRef};

    fn load(id: UserId, open: i64) -> LsmLoad {
        LsmLoad {
            lsm: UserRef {
                id,
                name: format!("L{id}"),
            },
            open_disputes: open,
        }
    }

    #[test]
    fn disputes_go_to_the_least_busy_lsm() {
        assert_eq!(least_busy(vec![]), None);
        let pick = |loads| least_busy(loads).map(|l| l.id);
        assert_eq!(
            pick(vec![load(3, 0), load(2, 0)]),
            Some(2),
            "ties: lowest id"
        );
        assert_eq!(pick(vec![load(2, 1), load(3, 0)]), Some(3));
    }
}
