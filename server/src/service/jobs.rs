//! Booking a job (the job, its chat and the opening line, all or nothing)
//! and its steps after: the provider confirms, starts and completes it, the
//! customer may cancel it before it starts; each step is a system line in
//! the chat, in its seq order, live on every node.

use super::texts;
use super::{AuthUser, Result, Service, ServiceError};
use crate::metrics;
use contract::model::Booking;
use contract::model::{JobStatus, Message, Role, SystemEvent, UserId};
use contract::protocol::ChatCreated;
use contract::validate::{Description, Title};
use std::net::IpAddr;

impl Service {
    /// Books a job with a provider; its chat opens at once.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, provider_id))]
    pub async fn book_job(
        &self,
        actor: &AuthUser,
        provider_id: UserId,
        title: Title,
        description: Description,
        ip: IpAddr,
    ) -> Result<Booking> {
        if actor.role != Role::Customer {
            return Err(ServiceError::Forbidden("only customers can book jobs"));
        }
        self.inner.limits.book(actor.id, ip).await?;
        let booked_event = SystemEvent::JobBooked {
            title: title.as_str().to_owned(),
        };
        let provider = self.inner.db.active_user(provider_id).await?;
        if provider.map(|(p, _)| p.role) != Some(Role::Provider) {
            return Err(ServiceError::Invalid(contract::validate::Invalid {
                field: "providerId",
                message: "is not a provider".into(),
            }));
        }
        // Either side's block stops a new booking; which side is private.
        if self.blocked_between(actor.id, provider_id).await? {
            return Err(ServiceError::Forbidden(
                "this provider cannot be booked from your account",
            ));
        }
        let booked = self
            .inner
            .db
            .book_job(
                actor.id,
                provider_id,
                title.as_str(),
                description.as_str(),
                &texts::system_line(&booked_event),
                &booked_event,
            )
            .await?;
        metrics::message_stored("system");
        let created = ChatCreated {
            chat_id: booked.chat_id,
            job_id: booked.job_id,
        };
        self.inner
            .broadcast
            .to_users(&[actor.id, provider_id], &created)
            .await;
        Ok(Booking {
            job_id: booked.job_id,
            chat_id: booked.chat_id,
        })
    }

    /// Takes a job one step on (`to`), if the caller is the one who takes
    /// that step and the job stands where it leaves from. Answers with the
    /// step's system line.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, job_id = job_id, to = to.as_str()))]
    pub async fn change_job_status(
        &self,
        actor: &AuthUser,
        job_id: i64,
        to: JobStatus,
    ) -> Result<Message> {
        let job = self
            .inner
            .db
            .job(job_id)
            .await?
            .filter(|j| actor.id == j.customer_id || actor.id == j.provider_id)
            .ok_or(ServiceError::NotFound("job"))?;
        let role = if actor.id == job.provider_id {
            Role::Provider
        } else {
            Role::Customer
        };
        let Some((_, owner)) = job.status.next().iter().find(|(step, _)| *step == to) else {
            return Err(ServiceError::Conflict {
                message: format!(
                    "a job that is {} cannot become {}",
                    job.status.label().to_lowercase(),
                    to.label().to_lowercase()
                ),
                details: None,
            });
        };
        if *owner != role {
            return Err(ServiceError::Forbidden(match to {
                JobStatus::Cancelled => "only the customer cancels a booking",
                _ => "only the provider confirms, starts and completes a job",
            }));
        }
        let event = SystemEvent::JobStatusChanged {
            status: to,
            by: Some(actor.id),
            by_name: actor.name.clone(),
        };
        let line = texts::system_line(&event);
        let message = self
            .inner
            .db
            .change_job_status(&job, to, &line, &event)
            .await?
            .ok_or_else(|| ServiceError::Conflict {
                message: "the job changed meanwhile; reload it".into(),
                details: None,
            })?;
        metrics::message_stored("system");
        if to.is_started() {
            self.inner.masking.started(job.chat_id);
        }
        self.fan_out_message(message.clone());
        Ok(message)
    }
}
