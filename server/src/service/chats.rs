//! The chat list and who may act in a chat: membership (a participant, or
//! an LSM who left and may only read), the list's pages with presence.

use super::{AuthUser, Result, Service, ServiceError};
use crate::storage::{ChatPage, MAX_CHAT_PAGE, Membership};
use contract::model::{ChatId, ChatSummary, MessageId, Role, UserId};

/// The refusal for an LSM acting in a chat they left.
const LEFT_CHAT: &str =
    "you left this chat when its dispute was settled; its transcript stays readable";

/// Which page of the chat list, checked: `limit` 1–`MAX_CHAT_PAGE`
/// (default all of it), `before` given whole (message and chat) or not at
/// all.
pub fn chat_page(
    before_message: Option<MessageId>,
    before_chat: Option<ChatId>,
    limit: Option<i64>,
) -> Result<ChatPage> {
    let limit = limit.unwrap_or(MAX_CHAT_PAGE);
    if !(1..=MAX_CHAT_PAGE).contains(&limit) {
        return Err(ServiceError::BadRequest(format!(
            "limit must be between 1 and {MAX_CHAT_PAGE}"
        )));
    }
    let before = match (before_message, before_chat) {
        (Some(m), Some(c)) if m >= 0 && c >= 1 => Some((m, c)),
        (None, None) => None,
        _ => {
            return Err(ServiceError::BadRequest(
                "give beforeMessage (0 or more) and beforeChat (1 or more) together".into(),
            ));
        }
    };
    Ok(ChatPage { before, limit })
}

impl Service {
    /// The caller's role in a chat they are in now (to post, join the
    /// live room, type, raise a dispute). Someone never in it gets
    /// `not_found`, the very answer of a chat that does not exist (same
    /// message, one query either way), so outsiders cannot probe which
    /// chat ids exist; an LSM who left it gets `forbidden`.
    pub async fn authorize_chat(&self, actor: &AuthUser, chat: ChatId) -> Result<Role> {
        let m = self.membership(actor, chat).await?;
        if m.left_seq.is_some() {
            return Err(ServiceError::Forbidden(LEFT_CHAT));
        }
        Ok(m.role)
    }

    /// The caller's place in a chat they are or were in (to read it).
    pub(super) async fn membership(&self, actor: &AuthUser, chat: ChatId) -> Result<Membership> {
        self.inner
            .db
            .membership(chat, actor.id)
            .await?
            .ok_or(ServiceError::NotFound("chat"))
    }

    /// The caller's newest chats (the browser's list: at most
    /// `MAX_CHAT_PAGE`).
    pub async fn list_chats(&self, actor: &AuthUser) -> Result<Vec<ChatSummary>> {
        self.list_chats_page(actor, ChatPage::newest()).await
    }

    /// A page of the caller's chats, with everyone's online flag.
    pub async fn list_chats_page(
        &self,
        actor: &AuthUser,
        page: ChatPage,
    ) -> Result<Vec<ChatSummary>> {
        self.inner.limits.read(actor.id)?;
        let me = actor.id;
        let mut chats = self
            .read(|db| async move { db.list_chats_page(me, page).await })
            .await?;
        let mut people: Vec<UserId> = chats
            .iter()
            .flat_map(|c| c.participants.iter().map(|p| p.id))
            .collect();
        people.sort_unstable();
        people.dedup();
        let online = self.inner.broadcast.online(&people).await;
        for chat in &mut chats {
            for p in &mut chat.participants {
                p.online = online.contains(&p.id);
            }
        }
        Ok(chats)
    }

    /// Which of the `(chat, user)` pairs are in their chat now (the live
    /// rooms' sweep).
    pub async fn current_members(
        &self,
        pairs: &[(ChatId, UserId)],
    ) -> Result<std::collections::HashSet<(ChatId, UserId)>> {
        Ok(self.inner.db.current_members(pairs).await?)
    }
}
