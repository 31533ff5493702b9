//! Booking a job: the job, its chat and the opening line, all or nothing.

use super::texts;
use super::{AuthUser, Result, Service, ServiceError};
use crate::metrics;
use contract::model::Booking;
use contract::model::{Role, SystemEvent, UserId};
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
}
