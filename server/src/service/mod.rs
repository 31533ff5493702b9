//! The service layer: every rule of the product lives here. REST handlers,
//! Socket.IO handlers and Leptos server functions are thin callers of it, and
//! it is the only caller of storage and of the emitter.

mod error;
mod limits;

pub use error::{Result, ServiceError};
pub use limits::LoginLimiter;

use crate::auth::{self, Claims, Keys};
use crate::realtime::{Emitter, Presence};
use crate::storage::{Db, NewUser, PageQuery, ProviderRow, StorageError};
use app::model::{
    ChatId, ChatSummary, Message, MessageId, MessagePage, Notification, Role, User, UserId, UserRef,
};
use app::validate::{
    ClientId, Description, Email, MessageText, Name, Password, Reason, Resolution, Title,
};
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Socket.IO event names the server emits (shared with the browser in `app`).
pub use app::model::events;

/// The authenticated caller, taken from a verified token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub name: String,
}

impl AuthUser {
    pub fn from_claims(c: &Claims) -> Option<Self> {
        Some(Self {
            id: c.user_id()?,
            role: c.role,
            name: c.name.clone(),
        })
    }
    fn as_ref(&self) -> UserRef {
        UserRef {
            id: self.id,
            name: self.name.clone(),
        }
    }
}

/// A signed-in session: the token and who it is for.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub token: String,
    pub user: User,
}

pub struct Booked {
    pub job_id: i64,
    pub chat_id: ChatId,
}

pub struct DisputeOpened {
    pub dispute_id: i64,
    pub lsm: UserRef,
}

#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    keys: Keys,
    emitter: Emitter,
    presence: Presence,
    login_limiter: LoginLimiter,
    chat_locks: ChatLocks,
}

impl Service {
    pub fn new(db: Db, keys: Keys, login_limiter: LoginLimiter) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                keys,
                emitter: Emitter::default(),
                presence: Presence::default(),
                login_limiter,
                chat_locks: ChatLocks::default(),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }
    pub fn keys(&self) -> &Keys {
        &self.inner.keys
    }
    pub fn emitter(&self) -> &Emitter {
        &self.inner.emitter
    }
    pub fn presence(&self) -> &Presence {
        &self.inner.presence
    }

    // ---- accounts -------------------------------------------------------

    /// Verifies a bearer token or session cookie value.
    pub fn authenticate(&self, token: &str) -> Result<(AuthUser, Claims)> {
        let claims = self
            .inner
            .keys
            .verify(token)
            .map_err(|_| ServiceError::Unauthorized)?;
        let user = AuthUser::from_claims(&claims).ok_or(ServiceError::Unauthorized)?;
        Ok((user, claims))
    }

    fn session(&self, user: User) -> Result<Session> {
        let (token, _) = self
            .inner
            .keys
            .issue(user.id, user.role, &user.name)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("signing failed: {e}")))?;
        Ok(Session { token, user })
    }

    /// Self-registration, for customers and providers. LSMs are created by
    /// operators with the CLI (`server user add`), never through the API.
    #[tracing::instrument(skip_all, fields(email = %email.as_str(), role = %role))]
    pub async fn register(
        &self,
        email: Email,
        password: Password,
        name: Name,
        role: Role,
    ) -> Result<Session> {
        if role == Role::Lsm {
            return Err(ServiceError::Forbidden(
                "LSM accounts are created by operators, not by registration",
            ));
        }
        let user = self.create_user(&email, &password, &name, role).await?;
        self.session(user)
    }

    /// Creates an account of any role (the CLI and the demo seed use this).
    pub async fn create_user(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        let hash = auth::hash_password(password.expose().to_owned())
            .await
            .map_err(ServiceError::Internal)?;
        self.inner
            .db
            .insert_user(NewUser {
                email: email.as_str(),
                name: name.as_str(),
                role,
                password_hash: &hash,
            })
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => ServiceError::Conflict {
                    message: "an account with this email already exists".into(),
                    details: Some(serde_json::json!({ "field": "email" })),
                },
                e => e.into(),
            })
    }

    /// Checks credentials; an unknown email costs the same time as a wrong
    /// password and gets the same answer.
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn login(&self, email: &str, password: &str, ip: IpAddr) -> Result<Session> {
        let email_key = email.trim().to_lowercase();
        self.inner.login_limiter.check(&email_key, ip)?;
        // Over-long input is refused before it reaches argon2.
        if email_key.len() > 254 || password.len() > 1024 {
            return Err(ServiceError::BadCredentials);
        }
        let creds = self.inner.db.user_credentials(&email_key).await?;
        let (user, hash) = match creds {
            Some(c) => (Some(c.user), Some(c.password_hash)),
            None => (None, None),
        };
        let ok = auth::verify_password(password.to_owned(), hash)
            .await
            .map_err(ServiceError::Internal)?;
        match (ok, user) {
            (true, Some(user)) => self.session(user),
            _ => Err(ServiceError::BadCredentials),
        }
    }

    pub async fn me(&self, actor: &AuthUser) -> Result<User> {
        self.inner
            .db
            .get_user(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)
    }

    pub async fn providers(&self) -> Result<Vec<ProviderRow>> {
        Ok(self.inner.db.list_providers().await?)
    }

    // ---- jobs and chats --------------------------------------------------

    /// Books a job with a provider; its chat opens at once.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, provider_id))]
    pub async fn book_job(
        &self,
        actor: &AuthUser,
        provider_id: UserId,
        title: Title,
        description: Description,
    ) -> Result<Booked> {
        if actor.role != Role::Customer {
            return Err(ServiceError::Forbidden("only customers can book jobs"));
        }
        let provider = self.inner.db.get_user(provider_id).await?;
        if provider.map(|p| p.role) != Some(Role::Provider) {
            return Err(ServiceError::Invalid(app::validate::Invalid {
                field: "providerId",
                message: "is not a provider".into(),
            }));
        }
        let booked = self
            .inner
            .db
            .book_job(actor.id, provider_id, title.as_str(), description.as_str())
            .await?;
        let payload = serde_json::json!({ "chatId": booked.chat_id, "jobId": booked.job_id });
        self.inner
            .emitter
            .to_users(&[actor.id, provider_id], events::CHAT_CREATED, &payload)
            .await;
        Ok(Booked {
            job_id: booked.job_id,
            chat_id: booked.chat_id,
        })
    }

    /// The caller's role in a chat: `not_found` for no such chat,
    /// `forbidden` when they are not in it.
    pub async fn authorize_chat(&self, actor: &AuthUser, chat: ChatId) -> Result<Role> {
        match self.inner.db.participant_role(chat, actor.id).await? {
            Some(role) => Ok(role),
            None if self.inner.db.chat_exists(chat).await? => {
                Err(ServiceError::Forbidden("you are not in this chat"))
            }
            None => Err(ServiceError::NotFound("chat")),
        }
    }

    pub async fn list_chats(&self, actor: &AuthUser) -> Result<Vec<ChatSummary>> {
        let mut chats = self.inner.db.list_chats(actor.id).await?;
        for chat in &mut chats {
            for p in &mut chat.participants {
                p.online = self.inner.presence.is_online(p.id);
            }
        }
        Ok(chats)
    }

    pub async fn history(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        query: PageQuery,
    ) -> Result<MessagePage> {
        self.authorize_chat(actor, chat).await?;
        self.history_authorized(chat, query).await
    }

    /// History for a caller already known to be in the chat.
    pub async fn history_authorized(&self, chat: ChatId, query: PageQuery) -> Result<MessagePage> {
        let (messages, has_more) = self.inner.db.list_messages(chat, query).await?;
        Ok(MessagePage { messages, has_more })
    }

    /// Stores and delivers a message from a caller already known to be in the
    /// chat. Durable before anyone hears of it; a resend with the same client
    /// id returns the stored message and repeats nothing.
    ///
    /// Sends to one chat are serialised so `new_message` leaves this node in
    /// id order.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn post_message(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        text: MessageText,
        client_id: ClientId,
    ) -> Result<Message> {
        let lock = self.inner.chat_locks.get(chat);
        let guard = lock.lock().await;
        let sent = self
            .inner
            .db
            .insert_user_message(chat, actor.id, text.as_str(), client_id.as_str())
            .await?;
        if sent.created {
            self.inner
                .emitter
                .to_chat(chat, events::NEW_MESSAGE, &sent.message)
                .await;
        }
        drop(guard);
        self.inner.chat_locks.release(chat, lock);
        if sent.created {
            self.notify_new_message(actor, chat, &sent.message).await;
        }
        Ok(sent.message)
    }

    async fn notify_new_message(&self, actor: &AuthUser, chat: ChatId, message: &Message) {
        let result: Result<()> = async {
            let participants = self.inner.db.chat_participants(chat).await?;
            let job_title = self.inner.db.chat_job_title(chat).await?;
            let preview: String = message.content.chars().take(140).collect();
            for p in participants.iter().filter(|p| p.id != actor.id) {
                let n = self
                    .inner
                    .db
                    .bump_message_notification(p.id, chat, &actor.name, &job_title, &preview)
                    .await?;
                self.inner
                    .emitter
                    .to_user(p.id, events::NOTIFICATION, &n)
                    .await;
            }
            Ok(())
        }
        .await;
        if let Err(e) = result {
            // The message itself is stored and delivered; a lost bell is logged.
            tracing::error!(chat_id = chat, error = %e, "notifying participants failed");
        }
    }

    pub async fn mark_read(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<()> {
        self.authorize_chat(actor, chat).await?;
        self.mark_read_authorized(actor, chat, message).await
    }

    pub async fn mark_read_authorized(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        message: MessageId,
    ) -> Result<()> {
        if !self.inner.db.message_in_chat(chat, message).await? {
            return Err(ServiceError::NotFound("message"));
        }
        if self.inner.db.mark_read(chat, actor.id, message).await? {
            let payload =
                serde_json::json!({ "chatId": chat, "userId": actor.id, "messageId": message });
            self.inner
                .emitter
                .to_chat(chat, events::READ, &payload)
                .await;
        }
        Ok(())
    }

    // ---- disputes --------------------------------------------------------

    /// "Add LSM": opens a dispute and brings the least busy LSM into the chat.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn open_dispute(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        reason: Reason,
    ) -> Result<DisputeOpened> {
        self.authorize_chat(actor, chat).await?;
        let opened = self
            .inner
            .db
            .open_dispute(chat, actor.as_ref(), reason.as_str())
            .await?;
        let e = &self.inner.emitter;
        e.to_chat(chat, events::NEW_MESSAGE, &opened.message).await;
        let invited = serde_json::json!({ "chatId": chat, "disputeId": opened.dispute_id, "lsm": opened.lsm });
        e.to_chat(chat, events::LSM_INVITED, &invited).await;
        e.to_user(opened.lsm.id, events::LSM_INVITED, &invited)
            .await;
        e.to_user(opened.lsm.id, events::NOTIFICATION, &opened.notification)
            .await;
        Ok(DisputeOpened {
            dispute_id: opened.dispute_id,
            lsm: opened.lsm,
        })
    }

    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id))]
    pub async fn resolve_dispute(
        &self,
        actor: &AuthUser,
        dispute_id: i64,
        resolution: Resolution,
    ) -> Result<ChatId> {
        if actor.role != Role::Lsm {
            return Err(ServiceError::Forbidden(
                "only the dispute's LSM can resolve it",
            ));
        }
        let resolved = self
            .inner
            .db
            .resolve_dispute(dispute_id, actor.as_ref(), resolution.as_str())
            .await?;
        let e = &self.inner.emitter;
        e.to_chat(resolved.chat_id, events::NEW_MESSAGE, &resolved.message)
            .await;
        let payload = serde_json::json!({
            "chatId": resolved.chat_id, "disputeId": dispute_id, "resolution": resolution.as_str()
        });
        e.to_chat(resolved.chat_id, events::DISPUTE_RESOLVED, &payload)
            .await;
        for (user, n) in &resolved.notifications {
            e.to_user(*user, events::NOTIFICATION, n).await;
        }
        Ok(resolved.chat_id)
    }

    // ---- notifications ---------------------------------------------------

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

/// One async mutex per chat with traffic, dropped when nobody holds it.
#[derive(Default)]
struct ChatLocks {
    map: Mutex<HashMap<ChatId, Arc<tokio::sync::Mutex<()>>>>,
}

impl ChatLocks {
    fn get(&self, chat: ChatId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(chat).or_default().clone()
    }

    fn release(&self, chat: ChatId, lock: Arc<tokio::sync::Mutex<()>>) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        drop(lock);
        // Clones are only made under `map`'s lock, so a count of one here
        // means no task holds or waits for this chat's mutex.
        if map.get(&chat).is_some_and(|l| Arc::strong_count(l) == 1) {
            map.remove(&chat);
        }
    }
}
