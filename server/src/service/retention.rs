//! A chat's retention rule (`JOBCHAT_CHAT_RETENTION_DAYS`): chats with
//! nothing written for longer, and no dispute open, are deleted with
//! everything in them, their files' objects included. Off by default.
//!
//! A chat's rows go in one transaction that queues its objects
//! (`Db::delete_chat`); the objects are deleted from the store after it,
//! then forgotten. A crash in between leaves keys queued, which the next
//! run deletes: no object outlives its chat for longer than one run.

use super::{Result, Service};
use crate::files::Files;
use crate::storage::Db;
use chrono::{DateTime, TimeDelta, Utc};
use std::time::Duration;

/// How often due chats are looked for.
pub const EXPIRE_EVERY: Duration = Duration::from_secs(10 * 60);

/// Chats deleted per run, and queued objects deleted per run (the rest
/// wait for the next: a run stays short however much fell due at once).
const EXPIRE_BATCH: i64 = 100;
const OBJECTS_BATCH: i64 = 1_000;

impl Service {
    /// Deletes, under the rule "keep chats until `before`", up to a batch
    /// of due chats and then the queued objects; how many chats went.
    #[tracing::instrument(skip(self))]
    pub async fn expire_chats(&self, before: DateTime<Utc>) -> Result<usize> {
        let db = &self.inner.db;
        let mut deleted = 0;
        for chat in db.chats_due(before, EXPIRE_BATCH).await? {
            if db.delete_chat(chat, before).await? {
                deleted += 1;
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "chats past their retention deleted");
        }
        delete_queued_objects(db, &self.inner.files).await;
        Ok(deleted)
    }

    /// Runs the rule every `EXPIRE_EVERY` for as long as the service
    /// lives: chats quiet for `days` are deleted.
    pub fn keep_chats_for(&self, days: u32) {
        let weak = std::sync::Arc::downgrade(&self.inner);
        let keep = TimeDelta::days(i64::from(days));
        tokio::spawn(async move {
            let mut every = tokio::time::interval(EXPIRE_EVERY);
            loop {
                every.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let service = Service { inner };
                if let Err(e) = service.expire_chats(Utc::now() - keep).await {
                    tracing::warn!(error = %e, "chats not expired this run");
                }
            }
        });
    }
}

/// Deletes queued objects from the store, then their keys; a key whose
/// object could not be deleted stays queued for the next run.
pub(super) async fn delete_queued_objects(db: &Db, files: &Files) -> usize {
    let keys = match db.queued_object_deletions(OBJECTS_BATCH).await {
        Ok(keys) => keys,
        Err(e) => {
            tracing::warn!(error = %e, "queued objects not deleted");
            return 0;
        }
    };
    let mut deleted = 0;
    for key in keys {
        match files.delete(&key).await {
            Ok(()) if db.object_deleted(&key).await.is_ok() => deleted += 1,
            Ok(()) => {}
            Err(e) => tracing::warn!(key, error = %e, "object not deleted"),
        }
    }
    deleted
}
