//! Reports by participants and the server's own auto-flags: both become
//! items of the LSMs' moderation queue, which every LSM sees live.

use super::{AuthUser, Broadcaster, Result, Service, ServiceError};
use crate::storage::{Db, NewItem};
use contract::model::{
    ChatId, ItemKind, ItemStatus, Message, MessageKind, NewReport, ReportCategory, ReportReceipt,
    ReportTarget, UserId,
};
use contract::protocol::ModerationChanged;
use contract::validate::Invalid;
use std::collections::HashSet;
use tokio::sync::mpsc;

/// An account younger than this that writes in `NEW_ACCOUNT_CHATS` chats
/// or more is flagged.
const NEW_ACCOUNT_AGE: chrono::Duration = chrono::Duration::hours(24);
const NEW_ACCOUNT_CHATS: i64 = 5;
/// A sender whose messages in one chat were masked this often is flagged.
const MASKED_TIMES: i64 = 2;
/// Stored messages waiting to be looked at for flags; beyond it they are
/// skipped (flags are a help to moderators, never a reason to slow sends).
const FLAG_QUEUE: usize = 4_096;
/// (chat, sender) pairs this node already checked for the new-account
/// flag; forgotten all at once when full.
const SEEN_PAIRS: usize = 50_000;

impl Service {
    /// Files a participant's report about a message in a chat or a person
    /// in it. Reporting the same message again answers with the first
    /// receipt.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = report.chat_id))]
    pub async fn report(&self, actor: &AuthUser, report: &NewReport) -> Result<ReportReceipt> {
        let (target, note) = report.parse()?;
        self.inner.limits.report(actor.id).await?;
        let chat = report.chat_id;
        // Someone who left (a settled dispute's LSM) may still report what
        // they could read; outsiders learn nothing.
        let m = self.membership(actor, chat).await?;
        let (subject, message_id, evidence) = match target {
            ReportTarget::Message(id) => {
                let found = self
                    .inner
                    .db
                    .reported_message(chat, id)
                    .await?
                    .filter(|r| m.left_seq.is_none_or(|left| r.seq <= left))
                    .ok_or(ServiceError::NotFound("message"))?;
                (found.sender_id, Some(id), found.content)
            }
            ReportTarget::User(user) => {
                self.inner
                    .db
                    .membership(chat, user)
                    .await?
                    .ok_or(ServiceError::NotFound("user"))?;
                (user, None, String::new())
            }
        };
        if subject == actor.id {
            return Err(Invalid {
                field: "messageId",
                message: "you cannot report yourself".into(),
            }
            .into());
        }
        let item = NewItem {
            kind: ItemKind::Report,
            category: report.category,
            reporter: Some(actor.id),
            subject,
            chat_id: chat,
            message_id,
            evidence: &evidence,
            note: &note,
        };
        let (id, created_at, created) = self.inner.db.insert_item(&item).await?;
        if created {
            tracing::info!(
                item = id,
                category = report.category.as_str(),
                "report filed"
            );
            crate::metrics::moderation_item("report");
            tell_lsms(
                &self.inner.db,
                &self.inner.broadcast,
                Some(id),
                ItemStatus::Open,
            )
            .await;
        }
        Ok(ReportReceipt { id, created_at })
    }
}

/// Tells every LSM's sockets that an item was filed or changed.
pub(super) async fn tell_lsms(
    db: &Db,
    broadcast: &Broadcaster,
    item_id: Option<i64>,
    status: ItemStatus,
) {
    match db.lsm_ids().await {
        Ok(lsms) => {
            broadcast
                .to_users(&lsms, &ModerationChanged { item_id, status })
                .await
        }
        Err(e) => tracing::warn!(error = %e, "LSMs not told of a moderation item"),
    }
}

/// A stored user message, as the flagger needs it.
pub(super) struct Sent {
    chat: ChatId,
    sender: UserId,
    masked: bool,
}

/// Where the fan-out hands stored messages to the flagger (bounded; a
/// full queue skips, never waits).
#[derive(Clone)]
pub(super) struct Flags(mpsc::Sender<Sent>);

impl Flags {
    /// Starts the flagger (a task on the current runtime).
    pub(super) fn start(db: Db, broadcast: Broadcaster) -> Self {
        let (tx, rx) = mpsc::channel(FLAG_QUEUE);
        tokio::spawn(flagger(db, broadcast, rx));
        Self(tx)
    }

    /// Looks at one stored message later, if there is room.
    pub(super) fn offer(&self, m: &Message) {
        let (Some(sender), MessageKind::User) = (m.sender_id, m.kind) else {
            return;
        };
        let sent = Sent {
            chat: m.chat_id,
            sender,
            masked: m.masked,
        };
        if self.0.try_send(sent).is_err() {
            crate::metrics::flags_skipped();
        }
    }
}

/// Raises the two auto-flags: a sender masked `MASKED_TIMES` times in one
/// chat, and a new account writing in `NEW_ACCOUNT_CHATS` chats. Each is
/// raised once (a unique index, so two nodes never raise it twice).
async fn flagger(db: Db, broadcast: Broadcaster, mut queue: mpsc::Receiver<Sent>) {
    let mut seen: HashSet<(ChatId, UserId)> = HashSet::new();
    while let Some(sent) = queue.recv().await {
        if sent.masked {
            match db.masked_messages(sent.chat, sent.sender).await {
                Ok(n) if n >= MASKED_TIMES => {
                    let note = format!("{n} messages in this chat had contact details hidden");
                    flag(
                        &db,
                        &broadcast,
                        &sent,
                        ReportCategory::RepeatedContact,
                        &note,
                    )
                    .await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "masking flag not checked"),
            }
        }
        // The first message of a sender in a chat (as this node saw it).
        if seen.len() >= SEEN_PAIRS {
            seen.clear();
        }
        if !seen.insert((sent.chat, sent.sender)) {
            continue;
        }
        let made_after = chrono::Utc::now() - NEW_ACCOUNT_AGE;
        match db
            .account_reach(sent.sender, NEW_ACCOUNT_CHATS, made_after)
            .await
        {
            Ok(Some((created, chats)))
                if chrono::Utc::now() - created < NEW_ACCOUNT_AGE && chats >= NEW_ACCOUNT_CHATS =>
            {
                let note = format!(
                    "an account made {} wrote in {chats} chats",
                    created.format("%Y-%m-%d %H:%M UTC")
                );
                flag(
                    &db,
                    &broadcast,
                    &sent,
                    ReportCategory::NewAccountBurst,
                    &note,
                )
                .await;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "new-account flag not checked"),
        }
    }
}

async fn flag(db: &Db, broadcast: &Broadcaster, sent: &Sent, category: ReportCategory, note: &str) {
    let item = NewItem {
        kind: ItemKind::Flag,
        category,
        reporter: None,
        subject: sent.sender,
        chat_id: sent.chat,
        message_id: None,
        evidence: "",
        note,
    };
    match db.insert_item(&item).await {
        Ok((id, _, true)) => {
            tracing::info!(item = id, category = category.as_str(), "auto-flag raised");
            crate::metrics::moderation_item("flag");
            tell_lsms(db, broadcast, Some(id), ItemStatus::Open).await;
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "auto-flag not stored"),
    }
}
