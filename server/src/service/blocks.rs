//! Blocks: one person stops another from booking them again and from
//! ringing their bell. Private: only the blocker ever sees a block, and a
//! refused booking does not say why.

use super::{AuthUser, Result, Service, ServiceError};
use crate::storage::{BlockRefused, MAX_BLOCKS};
use contract::model::{BlockedUser, Role, UserId};
use contract::validate::Invalid;

impl Service {
    /// Blocks `user` for the caller; blocking again changes nothing.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, blocked = user))]
    pub async fn block(&self, actor: &AuthUser, user: UserId) -> Result<()> {
        self.inner.limits.report(actor.id).await?;
        if user == actor.id {
            return Err(Invalid {
                field: "userId",
                message: "you cannot block yourself".into(),
            }
            .into());
        }
        match self.inner.db.active_user(user).await? {
            None => return Err(ServiceError::NotFound("user")),
            // An LSM settles disputes; one cannot be silenced by a party.
            Some((u, _)) if u.role == Role::Lsm => {
                return Err(ServiceError::Forbidden(
                    "a local service manager cannot be blocked; report them instead",
                ));
            }
            Some(_) => {}
        }
        match self.inner.db.add_block(actor.id, user).await? {
            Ok(()) => Ok(()),
            Err(BlockRefused::NoSuchUser) => Err(ServiceError::NotFound("user")),
            Err(BlockRefused::TooMany) => Err(ServiceError::Conflict {
                message: format!("you can block at most {MAX_BLOCKS} people"),
                details: None,
            }),
        }
    }

    /// Lifts the caller's block of `user` (none there: not found).
    #[tracing::instrument(skip_all, fields(user_id = actor.id, blocked = user))]
    pub async fn unblock(&self, actor: &AuthUser, user: UserId) -> Result<()> {
        self.inner.limits.report(actor.id).await?;
        if self.inner.db.remove_block(actor.id, user).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("block"))
        }
    }

    /// Whom the caller blocks, newest first.
    pub async fn blocks(&self, actor: &AuthUser) -> Result<Vec<BlockedUser>> {
        self.inner.limits.read(actor.id)?;
        Ok(self.inner.db.blocks_of(actor.id).await?)
    }

    /// Whether either of the two blocks the other (a booking between them
    /// is refused).
    pub(super) async fn blocked_between(&self, a: UserId, b: UserId) -> Result<bool> {
        Ok(self.inner.db.blocked_between(a, b).await?)
    }
}
