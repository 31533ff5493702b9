//! The bell: a user's notifications, read one by one or all at once.

use super::{AuthUser, Result, Service, ServiceError};
use contract::model::Notification;

impl Service {
    pub async fn notifications(
        &self,
        actor: &AuthUser,
        unread_only: bool,
    ) -> Result<Vec<Notification>> {
        Ok(self
            .inner
            .db
            .list_notifications(actor.id, unread_only)
            .await?)
    }

    pub async fn read_notification(&self, actor: &AuthUser, id: i64) -> Result<()> {
        if self.inner.db.mark_notification_read(actor.id, id).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("notification"))
        }
    }

    pub async fn read_all_notifications(&self, actor: &AuthUser) -> Result<()> {
        self.inner.db.mark_all_notifications_read(actor.id).await?;
        Ok(())
    }
}
