//! A chat's messages: sending (through the commit queue in `sends`),
//! history pages and a join's catch-up, read markers.

use super::texts;
use super::{AuthUser, Result, Service, ServiceError};
use crate::metrics;
use crate::storage::{Cursor, NewUserMessage, PageQuery};
use contract::model::{AttachmentId, ChatId, Message, MessageId, MessagePage, PageRequest, Seq};
use contract::protocol::{ChatRead, ReadMarker, SendMessage};
use contract::validate::{Caption, ClientId, MessageText};

/// History pages: this many messages unless asked otherwise…
pub const DEFAULT_PAGE: i64 = 50;

/// …and never more than this.
pub const MAX_PAGE: i64 = 200;

/// Most messages a join's catch-up returns (`hasMore` says if there are
/// more; the browser then loads the newest page). One history page: a join
/// may come often (reconnects, reopened windows), so it never reads more
/// than a page does.
pub const CATCH_UP_LIMIT: i64 = MAX_PAGE;

/// One end of a history page as a client gave it: by seq, or (older
/// clients) by message id. Both at once is refused.
pub fn cursor(seq: Option<Seq>, id: Option<MessageId>, name: &str) -> Result<Option<Cursor>> {
    match (seq, id) {
        (Some(_), Some(_)) => Err(ServiceError::BadRequest(format!(
            "give {name}Seq or {name}, not both"
        ))),
        (Some(seq), None) => Ok(Some(Cursor::Seq(seq))),
        (None, Some(id)) => Ok(Some(Cursor::Id(id))),
        (None, None) => Ok(None),
    }
}

/// Which slice of a chat's history to read, checked: `limit` 1–200
/// (default 50), `before` at least 1 and `after` at least 0.
pub fn history_page(
    before: Option<Cursor>,
    after: Option<Cursor>,
    limit: Option<i64>,
) -> Result<PageQuery> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let value = |c: Cursor| match c {
        Cursor::Seq(v) | Cursor::Id(v) => v,
    };
    if before.is_some_and(|b| value(b) < 1) || after.is_some_and(|a| value(a) < 0) {
        return Err(ServiceError::BadRequest(
            "before must be at least 1 and after at least 0".into(),
        ));
    }
    Ok(PageQuery {
        before,
        after,
        limit,
    })
}

/// A client's page request (REST query or server-function argument),
/// checked once: `cursor` for each end, then `history_page`.
pub fn page_query(page: &PageRequest) -> Result<PageQuery> {
    let before = cursor(page.before_seq, page.before, "before")?;
    let after = cursor(page.after_seq, page.after, "after")?;
    history_page(before, after, page.limit)
}

/// A message to send, parsed once at the boundary: its text (a caption,
/// possibly empty, when it carries files), its client id, and the files
/// uploaded for it.
#[derive(Clone, Debug)]
pub struct Send {
    content: String,
    client_id: ClientId,
    attachments: Vec<AttachmentId>,
}

impl Send {
    pub fn parse(req: &SendMessage) -> Result<Self> {
        let content = if req.attachments.is_empty() {
            MessageText::parse(&req.content)?.as_str().to_owned()
        } else {
            Caption::parse(&req.content)?.as_str().to_owned()
        };
        Ok(Self {
            content,
            client_id: ClientId::parse(&req.client_id)?,
            attachments: req.attachments.clone(),
        })
    }

    /// A text message.
    pub fn text(text: MessageText, client_id: ClientId) -> Self {
        Self {
            content: text.as_str().to_owned(),
            client_id,
            attachments: Vec::new(),
        }
    }
}

impl Service {
    pub async fn history(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        query: PageQuery,
    ) -> Result<MessagePage> {
        self.inner.limits.read(actor.id)?;
        // Someone who left reads the transcript up to their leaving.
        let m = self.membership(actor, chat).await?;
        let (messages, has_more) = self
            .read(|db| async move { db.list_messages(chat, query, m.left_seq).await })
            .await?;
        Ok(MessagePage { messages, has_more })
    }

    /// One message, as history has it (someone who left: up to then).
    pub async fn message(&self, actor: &AuthUser, chat: ChatId, id: MessageId) -> Result<Message> {
        self.inner.limits.read(actor.id)?;
        let m = self.membership(actor, chat).await?;
        self.inner
            .db
            .get_message(chat, id, m.left_seq)
            .await?
            .ok_or(ServiceError::NotFound("message"))
    }

    /// History for a caller already known to be in the chat.
    pub async fn history_authorized(&self, chat: ChatId, query: PageQuery) -> Result<MessagePage> {
        let (messages, has_more) = self
            .read(|db| async move { db.list_messages(chat, query, None).await })
            .await?;
        Ok(MessagePage { messages, has_more })
    }

    /// What a rejoining client missed after `after`, for a caller already
    /// known to be in the chat: at most `CATCH_UP_LIMIT` messages, `has_more`
    /// says when there are more.
    pub async fn catch_up(&self, chat: ChatId, after: Cursor) -> Result<MessagePage> {
        let query = PageQuery {
            before: None,
            after: Some(after),
            limit: CATCH_UP_LIMIT,
        };
        self.history_authorized(chat, query).await
    }

    /// Stores a message and answers once it is durable (group commit, see
    /// `sends`); a resend with the same client id returns the stored
    /// message and repeats nothing. Membership is checked inside the storing
    /// transaction, so a participant removed on another node is refused at
    /// once. Broadcasting and notifying happen after the answer, in commit
    /// order on this node (`fan_out`; one chat's messages in seq order, as
    /// a later batch with the same chat waits for the earlier one's commit);
    /// concurrent sends from other nodes may still overtake them, and
    /// clients put them in seq order. A message with files is checked to
    /// name every file uploaded for it first (`attachments`).
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn post_message(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        send: Send,
    ) -> Result<Message> {
        if !send.attachments.is_empty() {
            self.check_send_files(actor, chat, send.client_id.as_str(), &send.attachments)
                .await?;
        }
        let on = self.masking_on(chat).await?;
        let text = self
            .inner
            .masking
            .message(chat, actor.id, &send.content, on);
        let new = NewUserMessage {
            chat_id: chat,
            sender_id: actor.id,
            content: text.shown,
            original: text.original,
            client_id: send.client_id.as_str().to_owned(),
            attachments: !send.attachments.is_empty(),
        };
        let Some(sent) = self.inner.sends.store(new).await? else {
            // Not in the chat, or no such chat: one answer for both, as for
            // reads; someone who left it is told so (`authorize_chat`).
            self.authorize_chat(actor, chat).await?;
            return Err(ServiceError::NotFound("chat"));
        };
        if sent.created {
            metrics::message_stored("user");
        }
        Ok(sent.message)
    }

    pub async fn mark_read(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<()> {
        if self.membership(actor, chat).await?.left_seq.is_some() {
            // They left having read it all (the settlement moved their
            // marker); there is nothing more for them to read.
            return Ok(());
        }
        self.mark_read_authorized(actor, chat, message).await
    }

    pub async fn mark_read_authorized(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<()> {
        let read = self
            .inner
            .db
            .mark_read(chat, actor.id, message, texts::BELLS)
            .await?
            .ok_or(ServiceError::NotFound("message"))?;
        if read.moved {
            let marker = ReadMarker {
                chat_id: chat,
                user_id: actor.id,
                message_id: message,
                seq: read.seq,
            };
            let b = &self.inner.broadcast;
            b.to_chat(chat, &marker).await;
            // Every tab of the reader's, on every node, drops the badge and
            // the bell entries this read settled (one rule: reading up to N
            // clears the chat's bell up to N).
            let own = ChatRead {
                chat_id: chat,
                seq: read.seq,
                unread: read.unread,
                notifications: read.bells,
            };
            b.to_user(actor.id, &own).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_pages_are_checked() {
        assert_eq!(
            history_page(None, None, None).map(|q| q.limit).ok(),
            Some(50)
        );
        assert!(history_page(None, None, Some(0)).is_err());
        assert!(history_page(None, None, Some(MAX_PAGE + 1)).is_err());
        assert!(history_page(Some(Cursor::Seq(0)), None, None).is_err());
        assert!(history_page(Some(Cursor::Id(0)), None, None).is_err());
        assert!(history_page(None, Some(Cursor::Seq(-1)), None).is_err());
        assert!(history_page(Some(Cursor::Id(5)), Some(Cursor::Seq(0)), Some(MAX_PAGE)).is_ok());
        assert!(cursor(Some(1), Some(1), "after").is_err());
        assert_eq!(
            cursor(None, Some(7), "after").ok(),
            Some(Some(Cursor::Id(7)))
        );
        assert_eq!(
            cursor(Some(3), None, "after").ok(),
            Some(Some(Cursor::Seq(3)))
        );
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any paging values (negative, zero, huge) are a page or a
            /// `bad_request`, never a panic, and an accepted page is in range.
            #[test]
            fn paging_values_are_a_page_or_bad_request(
                before_seq in proptest::option::of(any::<i64>()),
                before_id in proptest::option::of(any::<i64>()),
                after_seq in proptest::option::of(any::<i64>()),
                after_id in proptest::option::of(any::<i64>()),
                limit in proptest::option::of(any::<i64>()),
            ) {
                let page = cursor(before_seq, before_id, "before").and_then(|before| {
                    let after = cursor(after_seq, after_id, "after")?;
                    history_page(before, after, limit)
                });
                match page {
                    Ok(q) => {
                        prop_assert!((1..=MAX_PAGE).contains(&q.limit));
                        prop_assert!(before_seq.is_none() || before_id.is_none());
                        prop_assert!(after_seq.is_none() || after_id.is_none());
                        if let Some(Cursor::Seq(v) | Cursor::Id(v)) = q.before {
                            prop_assert!(v >= 1);
                        }
                        if let Some(Cursor::Seq(v) | Cursor::Id(v)) = q.after {
                            prop_assert!(v >= 0);
                        }
                    }
                    Err(e) => prop_assert!(matches!(e, ServiceError::BadRequest(_)), "{e:?}"),
                }
            }
        }
    }
}
