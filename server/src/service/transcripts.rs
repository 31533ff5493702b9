//! A dispute's transcript for an LSM (`transcript/` builds and checks it).

use super::{AuthUser, Result, Service, ServiceError};
use crate::storage::now;
use crate::transcript::Transcript;
use crate::transcript::assemble::assemble;
use crate::transcript::document::{MAX_MESSAGES, Person};

impl Service {
    /// The whole chat of a dispute, sealed with its digest and signed
    /// with the server's key. Any LSM may export any case (the console
    /// shows them all).
    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id))]
    pub async fn transcript(&self, actor: &AuthUser, dispute_id: i64) -> Result<Transcript> {
        self.moderator(actor)?;
        self.inner.limits.read(actor.id)?;
        let case = self.dispute_case(actor, dispute_id).await?;
        let chat = case.chat_id;
        let record = self
            .read(|db| async move { db.chat_record(chat, MAX_MESSAGES).await })
            .await?
            .ok_or(ServiceError::NotFound("dispute"))?;
        if record.messages.len() > MAX_MESSAGES {
            return Err(ServiceError::Unavailable(format!(
                "this chat has more than {MAX_MESSAGES} messages, too many for one transcript"
            )));
        }
        let by = Person {
            id: actor.id,
            name: actor.name.clone(),
            role: actor.role.as_str().to_owned(),
        };
        let mut t = assemble(case.chat_id, case.job_status.as_str(), record, by, now());
        t.signature = Some(self.inner.keys.transcripts().sign(&t.digest));
        if let Some(seq) = t.chain.broken_at_seq {
            tracing::error!(
                chat_id = case.chat_id,
                seq,
                "a chat's stored hash chain does not hold"
            );
            crate::metrics::chain_broken();
        }
        Ok(t)
    }

    /// The public key transcripts are signed with (the same on every
    /// node; anyone may ask for it).
    pub fn transcript_key(&self) -> crate::transcript::signing::PublicKey {
        self.inner.keys.transcripts().public()
    }
}
