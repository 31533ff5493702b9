//! Who is online in a chat, and telling a user's contacts when that changes.

use super::{Result, Service};
use chrono::{DateTime, Utc};
use contract::model::{ChatId, UserId};
use contract::protocol::{ParticipantState, PresenceChanged};

impl Service {
    /// Everyone in a chat with their online flag and read marker (the join
    /// ack's `presence`).
    pub async fn chat_presence(&self, chat: ChatId) -> Result<Vec<ParticipantState>> {
        let participants = self.inner.db.chat_participants(chat).await?;
        let ids: Vec<UserId> = participants.iter().map(|p| p.id).collect();
        let online = self.inner.broadcast.online(&ids).await;
        Ok(participants
            .into_iter()
            .map(|p| ParticipantState {
                online: online.contains(&p.id),
                user_id: p.id,
                name: p.name,
                role: p.role,
                last_read_message_id: p.last_read_message_id,
                last_read_seq: p.last_read_seq,
            })
            .collect())
    }

    /// Tells everyone who shares a chat with `user` that they came online or
    /// went offline. Best effort: a failure is logged.
    pub async fn announce_presence(
        &self,
        user: UserId,
        online: bool,
        last_seen: Option<DateTime<Utc>>,
    ) {
        // When they left counts for email to people who are away.
        if self.inner.mail.get().is_some()
            && let Err(e) = self
                .inner
                .db
                .set_last_seen(user, last_seen.filter(|_| !online))
                .await
        {
            tracing::warn!(user_id = user, error = %e, "last seen not stored");
        }
        match self.inner.db.contacts_of(user).await {
            Ok(contacts) => {
                let event = PresenceChanged {
                    user_id: user,
                    online,
                    last_seen,
                };
                self.inner.broadcast.to_users(&contacts, &event).await;
            }
            Err(e) => tracing::warn!(user_id = user, error = %e, "presence not announced"),
        }
    }
}
