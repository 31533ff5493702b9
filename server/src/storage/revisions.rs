//! Edits and deletions of messages, and the versions they leave behind.
//!
//! A change is a row of its own in `messages` (`change` = `edit` or
//! `delete`, `target_id` the message changed, empty `content`), numbered
//! with the chat's next seq in the transaction that rewrites its target, so
//! it travels like any message: in seq order, in a join's catch-up, and
//! idempotent by the sender's client id. The target keeps its current text
//! and the seq of its newest change; the text it had before goes to
//! `message_versions` (migrations 0010).

use super::messages::{SentMessage, fetch_message_tx};
use super::moderation::record_action_tx;
use super::search::{index_words_tx, unindex_words_tx};
use super::{Db, Result, now, on_pool};
use crate::transcript::chain;
use chrono::{DateTime, Utc};
use contract::model::{
    AuditEntry, ChatId, MessageHistory, MessageId, MessageKind, MessageVersion, Seq, UserId,
};
use std::time::Duration;

/// What a change does to its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Replace the text (already validated).
    Edit(String),
    Delete,
}

impl Change {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Edit(_) => "edit",
            Self::Delete => "delete",
        }
    }
}

/// One change to store.
#[derive(Clone, Debug)]
pub struct NewChange {
    pub chat_id: ChatId,
    pub sender_id: UserId,
    pub target_id: MessageId,
    pub change: Change,
    /// The sender's idempotency key (edits); a deletion needs none, as
    /// deleting twice answers with the first deletion.
    pub client_id: Option<String>,
    /// How long after sending a message may still be edited.
    pub edit_window: Duration,
    /// An edit's text as its sender wrote it, when masking changed it
    /// (`Change::Edit` holds what everyone sees).
    pub original: Option<String>,
    /// A moderator removing the message (`Change::Delete`; `sender_id` is
    /// the moderator, who need not be in the chat), recorded with it.
    pub moderation: Option<super::ActionRecord>,
}

/// Why a change was not stored (nothing was written).
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeRefused {
    /// No such chat, or the sender is not (or no longer) in it.
    NotInChat,
    /// No such message in the chat (or it is itself a change).
    NoSuchMessage,
    /// Someone else's message, or a system line.
    NotYours,
    /// The message was deleted: there is nothing left to edit.
    Deleted,
    /// The edit window passed.
    TooLate,
    /// The moderation item was closed already (another moderator acted).
    ItemClosed,
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    #[sqlx(default)]
    seq: i64,
    sender_id: Option<i64>,
    kind: String,
    target_id: Option<i64>,
    /// As the sender wrote it (masking kept it apart from what is shown).
    content: String,
    created_at: DateTime<Utc>,
    edited_at: Option<DateTime<Utc>>,
    deleted_at: Option<DateTime<Utc>>,
    /// What everyone sees (what the search index holds).
    #[sqlx(default)]
    shown: String,
}

impl Db {
    /// Stores an edit or deletion of the sender's own message, with the
    /// chat's next seq, and rewrites the message; `Ok(Err(_))` when the
    /// change is refused (nothing written). A resend (same client id, or a
    /// second deletion) answers with the change stored the first time,
    /// `created` false, even after the edit window.
    pub async fn change_message(
        &self,
        new: &NewChange,
    ) -> Result<std::result::Result<SentMessage, ChangeRefused>> {
        Ok(self
            .change_message_logged(new)
            .await?
            .map(|(stored, _)| stored))
    }

    /// `change_message`, answering also with the moderation log's line
    /// when a moderator removed the message (`new.moderation`).
    pub async fn change_message_logged(
        &self,
        new: &NewChange,
    ) -> Result<std::result::Result<(SentMessage, Option<AuditEntry>), ChangeRefused>> {
        let at = now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            // The seq first: it is a write, which SQLite needs first in a
            // transaction, and its row lock (or SQLite's one writer) orders
            // this change with every message of the chat.
            // A moderator removes messages of chats they are not in.
            let taken: Option<(i64, Option<String>)> = sqlx::query_as(
                "UPDATE chats SET last_seq = last_seq + 1 \
                 WHERE id = $1 AND ($3 OR EXISTS ( \
                     SELECT 1 FROM chat_participants WHERE chat_id = $1 AND user_id = $2 AND left_seq IS NULL)) \
                 RETURNING last_seq, chain_head",
            )
            .bind(new.chat_id)
            .bind(new.sender_id)
            .bind(new.moderation.is_some())
            .fetch_optional(&mut *tx)
            .await?;
            let Some((seq, head)) = taken else {
                return Ok(Err(ChangeRefused::NotInChat));
            };
            // Stored before? Dropping the transaction gives the seq back.
            let earlier: Option<(i64,)> = match &new.change {
                Change::Edit(_) => {
                    sqlx::query_as(
                        "SELECT id FROM messages WHERE chat_id = $1 AND sender_id = $2 AND client_id = $3",
                    )
                    .bind(new.chat_id)
                    .bind(new.sender_id)
                    .bind(&new.client_id)
                    .fetch_optional(&mut *tx)
                    .await?
                }
                Change::Delete => {
                    sqlx::query_as(
                        "SELECT id FROM messages WHERE target_id = $1 AND chat_id = $2 AND change = 'delete'",
                    )
                    .bind(new.target_id)
                    .bind(new.chat_id)
                    .fetch_optional(&mut *tx)
                    .await?
                }
            };
            if let Some((id,)) = earlier {
                if new.moderation.is_some() {
                    // Its sender deleted it first: nothing left to remove.
                    return Ok(Err(ChangeRefused::Deleted));
                }
                let message = fetch_message_tx!(tx, id);
                // An earlier message under the same client id that is not
                // an edit of this target is a misused key, not a resend.
                if message.target_id != Some(new.target_id) {
                    return Ok(Err(ChangeRefused::NoSuchMessage));
                }
                return Ok(Ok((SentMessage { message, created: false }, None)));
            }
            let target: Option<TargetRow> = sqlx::query_as(
                "SELECT sender_id, kind, target_id, COALESCE(original, content) AS content, created_at, edited_at, deleted_at, \
                 content AS shown \
                 FROM messages WHERE id = $1 AND chat_id = $2",
            )
            .bind(new.target_id)
            .bind(new.chat_id)
            .fetch_optional(&mut *tx)
            .await?;
            let target = match target {
                Some(t) if t.target_id.is_none() => t,
                _ => return Ok(Err(ChangeRefused::NoSuchMessage)),
            };
            let yours = target.sender_id == Some(new.sender_id) || new.moderation.is_some();
            if target.kind != "user" || !yours {
                return Ok(Err(ChangeRefused::NotYours));
            }
            if target.deleted_at.is_some() {
                return Ok(Err(ChangeRefused::Deleted));
            }
            let window = chrono::Duration::from_std(new.edit_window).unwrap_or(chrono::Duration::MAX);
            if matches!(new.change, Change::Edit(_)) && at - target.created_at >= window {
                return Ok(Err(ChangeRefused::TooLate));
            }
            // The chain covers the change with the text it brings (what
            // its sender wrote; a deletion brings none).
            let written = match &new.change {
                Change::Edit(text) => new.original.as_deref().unwrap_or(text),
                Change::Delete => "",
            };
            let link = chain::next(head.as_deref().unwrap_or(chain::GENESIS), &chain::Link {
                chat: new.chat_id,
                seq,
                kind: "user",
                change: Some(new.change.as_str()),
                target: Some(new.target_id),
                sender: Some(new.sender_id),
                at,
                text: written,
                event: None,
            });
            sqlx::query("UPDATE chats SET chain_head = $2 WHERE id = $1")
                .bind(new.chat_id)
                .bind(&link)
                .execute(&mut *tx)
                .await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at, change, target_id, chain) \
                 VALUES ($1, $2, $3, 'user', '', $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(new.chat_id)
            .bind(seq)
            .bind(new.sender_id)
            .bind(&new.client_id)
            .bind(at)
            .bind(new.change.as_str())
            .bind(new.target_id)
            .bind(&link)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO message_versions (message_id, content, written_at, replaced_seq) \
                 VALUES ($1, $2, $3, $4)",
            )
                .bind(new.target_id)
                .bind(&target.content)
                .bind(target.edited_at.unwrap_or(target.created_at))
                .bind(seq)
                .execute(&mut *tx)
                .await?;
            let rewrite = match &new.change {
                Change::Edit(_) => {
                    "UPDATE messages SET content = $2, edited_at = $3, revised_seq = $4, original = $5 WHERE id = $1"
                }
                Change::Delete => {
                    "UPDATE messages SET content = $2, deleted_at = $3, revised_seq = $4, original = $5 WHERE id = $1"
                }
            };
            let text = match &new.change {
                Change::Edit(text) => text.as_str(),
                Change::Delete => "",
            };
            let original = match &new.change {
                Change::Edit(_) => new.original.as_deref(),
                Change::Delete => None,
            };
            sqlx::query(rewrite)
                .bind(new.target_id)
                .bind(text)
                .bind(at)
                .bind(seq)
                .bind(original)
                .execute(&mut *tx)
                .await?;
            if matches!(self, Db::Sqlite(_)) {
                // The search index follows the text (PostgreSQL's stored
                // column does so by itself).
                unindex_words_tx!(tx, new.target_id, new.chat_id, &target.shown);
                index_words_tx!(tx, new.target_id, new.chat_id, text);
            }
            let mut entry = None;
            if let Some(rec) = &new.moderation {
                sqlx::query("UPDATE messages SET hidden_by = $2 WHERE id = $1")
                    .bind(new.target_id)
                    .bind(new.sender_id)
                    .execute(&mut *tx)
                    .await?;
                let logged = async {
                    let line = record_action_tx!(tx, rec);
                    Ok::<_, super::StorageError>(Ok::<_, super::ActionRefused>(line))
                }
                .await?;
                match logged {
                    Ok(line) => entry = Some(line),
                    Err(_) => return Ok(Err(ChangeRefused::ItemClosed)),
                }
            }
            let message = fetch_message_tx!(tx, id);
            tx.commit().await?;
            Ok(Ok((SentMessage { message, created: true }, entry)))
        })
    }

    /// Every version of a message in the chat, oldest first: each text it
    /// had (as sent, then each edit), then the deletion if any. With
    /// `upto`, as it stood at that seq (what someone who left the chat
    /// then may read). `None` when there is no such message (or it is a
    /// change row, or came after `upto`).
    pub async fn message_history(
        &self,
        chat_id: ChatId,
        message_id: MessageId,
        upto: Option<Seq>,
    ) -> Result<Option<MessageHistory>> {
        let target: Option<TargetRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT seq, sender_id, kind, target_id, COALESCE(original, content) AS content, created_at, edited_at, deleted_at \
                 FROM messages WHERE id = $1 AND chat_id = $2",
            )
            .bind(message_id)
            .bind(chat_id)
            .fetch_optional(pool)
            .await?
        });
        let upto = upto.unwrap_or(Seq::MAX);
        let Some(target) = target.filter(|t| t.target_id.is_none() && t.seq <= upto) else {
            return Ok(None);
        };
        let earlier: Vec<(String, DateTime<Utc>, i64)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT content, written_at, replaced_seq FROM message_versions \
                 WHERE message_id = $1 ORDER BY id",
            )
            .bind(message_id)
            .fetch_all(pool)
            .await?
        });
        Ok(Some(MessageHistory {
            message_id,
            versions: versions(target, earlier, upto),
        }))
    }
}

/// The versions seen up to `upto`: version k appeared with the change that
/// replaced version k − 1 (the first with the message itself).
fn versions(
    target: TargetRow,
    earlier: Vec<(String, DateTime<Utc>, Seq)>,
    upto: Seq,
) -> Vec<MessageVersion> {
    let kind_at = |i: usize| {
        if i == 0 {
            MessageKind::User
        } else {
            MessageKind::Edit
        }
    };
    let mut out = Vec::new();
    let mut appeared = target.seq;
    for (i, (content, at, replaced)) in earlier.into_iter().enumerate() {
        if appeared > upto {
            return out;
        }
        out.push(MessageVersion {
            content,
            at,
            kind: kind_at(i),
        });
        appeared = replaced;
    }
    if appeared > upto {
        return out;
    }
    out.push(match target.deleted_at {
        Some(at) => MessageVersion {
            content: String::new(),
            at,
            kind: MessageKind::Delete,
        },
        None => MessageVersion {
            kind: kind_at(out.len()),
            content: target.content,
            at: target.edited_at.unwrap_or(target.created_at),
        },
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minute * 60, 0).expect("a time")
    }

    fn target(seq: Seq, content: &str, edited: Option<i64>, deleted: Option<i64>) -> TargetRow {
        TargetRow {
            seq,
            sender_id: Some(1),
            kind: "user".into(),
            target_id: None,
            content: content.into(),
            created_at: at(0),
            edited_at: edited.map(at),
            deleted_at: deleted.map(at),
            shown: content.into(),
        }
    }

    fn shown(v: &[MessageVersion]) -> Vec<(&str, MessageKind)> {
        v.iter().map(|v| (v.content.as_str(), v.kind)).collect()
    }

    #[test]
    fn a_message_never_changed_has_one_version() {
        let v = versions(target(3, "hi", None, None), vec![], Seq::MAX);
        assert_eq!(shown(&v), vec![("hi", MessageKind::User)]);
        assert_eq!(v[0].at, at(0));
    }

    #[test]
    fn edits_then_a_deletion_each_with_their_time() {
        // Sent at seq 3 ("a"), edited at seq 5 to "b" (minute 2), at seq
        // 8 to "c" (minute 4), deleted at seq 9 (minute 6).
        let earlier = vec![
            ("a".into(), at(0), 5),
            ("b".into(), at(2), 8),
            ("c".into(), at(4), 9),
        ];
        let full = versions(target(3, "", Some(4), Some(6)), earlier.clone(), Seq::MAX);
        assert_eq!(
            shown(&full),
            vec![
                ("a", MessageKind::User),
                ("b", MessageKind::Edit),
                ("c", MessageKind::Edit),
                ("", MessageKind::Delete)
            ]
        );
        assert_eq!(
            full.iter().map(|v| v.at).collect::<Vec<_>>(),
            vec![at(0), at(2), at(4), at(6)]
        );
        // Someone who left at seq 7 saw "a" then "b", nothing after.
        let left = versions(target(3, "", Some(4), Some(6)), earlier.clone(), 7);
        assert_eq!(
            shown(&left),
            vec![("a", MessageKind::User), ("b", MessageKind::Edit)]
        );
        // At seq 4, only the text as sent.
        let early = versions(target(3, "", Some(4), Some(6)), earlier, 4);
        assert_eq!(shown(&early), vec![("a", MessageKind::User)]);
    }

    #[test]
    fn an_edited_message_ends_with_its_current_text() {
        let earlier = vec![("a".into(), at(0), 5)];
        let v = versions(target(3, "b", Some(2), None), earlier, Seq::MAX);
        assert_eq!(
            shown(&v),
            vec![("a", MessageKind::User), ("b", MessageKind::Edit)]
        );
        assert_eq!(v[1].at, at(2));
    }
}
