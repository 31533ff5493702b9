//! The service layer: every rule of the product lives here. REST handlers,
//! Socket.IO handlers and Leptos server functions (through
//! `crate::backend`) are thin callers of it. It is the only caller of
//! storage, decides what storage writes (which LSM joins a dispute, the text
//! of system messages and notifications, see `texts`), and announces what
//! happened through a [`Broadcaster`]: an interface defined here and
//! implemented by `realtime`, so the service never depends on a transport.

mod broadcast;
mod error;
mod limits;
mod sends;
use crate::texts;

pub use broadcast::{Audience, Broadcaster, EventSink};
pub use error::{ConflictDetails, Result, ServiceError};
pub use limits::Limiters;

use crate::auth::{self, Claims, Keys};
use crate::metrics;
use crate::storage::{
    Bell, ChatPage, Cursor, Db, LsmLoad, MAX_CHAT_PAGE, Membership, NewDispute, NewUser,
    NewUserMessage, Notice, PageQuery, Reassignment, Settlement, StorageError,
};
use app::api::{Booking, DisputeOpened};
use app::model::{
    ChatId, ChatSummary, Me, Message, MessageId, MessagePage, Notification, Role, Seq, SystemEvent,
    User, UserId, UserRef,
};
use app::protocol::{
    ChatCreated, ChatRead, ChatUser, DisputeResolved, LsmInvited, NewMessage, NewNotification,
    ParticipantState, PresenceChanged, ReadMarker, UserLeft,
};
use app::validate::{
    ClientId, Description, Email, MessageText, Name, Password, Reason, Resolution, Title,
};
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::sync::Arc;

/// History pages: this many messages unless asked otherwise…
pub const DEFAULT_PAGE: i64 = 50;
/// …and never more than this.
pub const MAX_PAGE: i64 = 200;
/// Most messages a join's catch-up returns (`hasMore` says if there are
/// more; the browser then loads the newest page). One history page: a join
/// may come often (reconnects, reopened windows), so it never reads more
/// than a page does.
pub const CATCH_UP_LIMIT: i64 = MAX_PAGE;

/// The refusal for an LSM acting in a chat they left.
const LEFT_CHAT: &str =
    "you left this chat when its dispute was settled; its transcript stays readable";

/// The authenticated caller: a verified token whose version is still the
/// account's, with the account's role and name as stored now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthUser {
    pub id: UserId,
    pub role: Role,
    pub name: String,
}

impl AuthUser {
    /// Who is signed in, as pages and server functions know it.
    pub fn me(&self) -> Me {
        Me {
            id: self.id,
            name: self.name.clone(),
            role: self.role,
        }
    }
}

impl From<&Me> for AuthUser {
    fn from(me: &Me) -> Self {
        Self {
            id: me.id,
            role: me.role,
            name: me.name.clone(),
        }
    }
}

/// A signed-in session: the token and who it is for.
#[derive(Clone, Debug)]
pub struct Session {
    pub token: String,
    pub user: User,
}

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

/// What the fan-out is asked to do.
pub(crate) enum FanOut {
    /// Broadcast one commit's new messages (in seq order), then the bells
    /// that commit bumped.
    Stored(Vec<Message>, Vec<Bell>),
    /// Answer once everything queued before has been done.
    Settle(tokio::sync::oneshot::Sender<()>),
}

/// Broadcasts each stored message (in the order the committer stored them)
/// and the bells written with them, off the senders' path. Nothing here
/// writes: a crash loses only broadcasts, which clients recover by seq
/// (messages) or with the next list load (bells).
fn fan_out(broadcast: Broadcaster, mut queue: tokio::sync::mpsc::UnboundedReceiver<FanOut>) {
    tokio::spawn(async move {
        while let Some(job) = queue.recv().await {
            match job {
                FanOut::Stored(messages, bells) => {
                    // Chats side by side, each chat's messages in seq order
                    // (the batch is sorted by chat, then seq): one publish
                    // at a time would cap a cluster at one Redis round trip
                    // per message.
                    let per_chat = messages
                        .chunk_by(|a, b| a.chat_id == b.chat_id)
                        .map(|chat| {
                            let broadcast = &broadcast;
                            async move {
                                for m in chat {
                                    broadcast.to_chat(m.chat_id, &NewMessage(m.clone())).await;
                                }
                            }
                        });
                    futures_util::future::join_all(per_chat).await;
                    let to_users = bells.into_iter().map(|b| {
                        let broadcast = &broadcast;
                        async move {
                            broadcast
                                .to_user(b.user_id, &NewNotification(b.notification))
                                .await
                        }
                    });
                    futures_util::future::join_all(to_users).await;
                }
                FanOut::Settle(done) => {
                    let _ = done.send(());
                }
            }
        }
    });
}

/// A wrong current password on a password change: a field error, not
/// `unauthorized` (the session is fine; clients must not sign the user out).
fn wrong_current_password() -> ServiceError {
    ServiceError::Invalid(app::validate::Invalid {
        field: "currentPassword",
        message: "is not the account's password".into(),
    })
}

/// The LSM a new dispute goes to: the one with the fewest open disputes,
/// ties to the lowest id.
fn least_busy(loads: Vec<LsmLoad>) -> Option<UserRef> {
    loads
        .into_iter()
        .min_by_key(|l| (l.open_disputes, l.lsm.id))
        .map(|l| l.lsm)
}

/// Revoked sessions deleted per statement, and statements per sweep: a
/// sweep stays short however many sign-outs expired at once, and the rest
/// wait for the next minute (an expired row is harmless, only kept).
const PRUNE_BATCH: i64 = 1000;
const PRUNE_BATCHES: usize = 10;

/// Forgets signed-out sessions whose tokens have expired.
async fn prune_revoked_sessions(db: &Db) {
    let now = Utc::now().timestamp();
    let mut pruned = 0;
    for _ in 0..PRUNE_BATCHES {
        match db.prune_revoked_sessions(now, PRUNE_BATCH).await {
            Ok(n) => {
                pruned += n;
                if n < PRUNE_BATCH as u64 {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "revoked sessions not pruned");
                break;
            }
        }
    }
    tracing::debug!(pruned, "expired revoked sessions pruned");
}

#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    keys: Keys,
    broadcast: Broadcaster,
    limits: Limiters,
    sends: sends::Sends,
    fan_out: tokio::sync::mpsc::UnboundedSender<FanOut>,
}

impl Service {
    /// Starts the message committer and its fan-out (tasks on the current
    /// Tokio runtime).
    pub fn new(db: Db, keys: Keys, limits: Limiters, broadcast: Broadcaster) -> Self {
        let (fan_out_tx, fan_out_rx) = tokio::sync::mpsc::unbounded_channel();
        let sends = sends::Sends::start(db.clone(), fan_out_tx.clone());
        fan_out(broadcast.clone(), fan_out_rx);
        let inner = Arc::new(Inner {
            db,
            keys,
            broadcast,
            limits,
            sends,
            fan_out: fan_out_tx,
        });
        // Rate-limit counters that are back to full are forgotten once a
        // minute, so one-off emails and addresses do not pile up.
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let kept = inner.limits.prune();
                tracing::debug!(kept, "rate-limit counters pruned");
                prune_revoked_sessions(&inner.db).await;
            }
        });
        Self { inner }
    }

    /// The storage below the rules: for tests that arrange data directly.
    /// Application code goes through the methods of `Service`.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    // ---- operations -------------------------------------------------------

    /// A database round trip (health checks); the backend's name on success.
    pub async fn ping(&self) -> Result<&'static str> {
        self.inner.db.ping().await?;
        Ok(self.inner.db.backend())
    }

    /// The database pool: connections open, and idle (metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        self.inner.db.pool_stats()
    }

    /// Resolves once every message stored so far has been broadcast and
    /// its bells bumped (tests; shutdown, before the pool closes).
    pub async fn settle(&self) {
        let (done, settled) = tokio::sync::oneshot::channel();
        if self.inner.fan_out.send(FanOut::Settle(done)).is_ok() {
            let _ = settled.await;
        }
    }

    /// Closes the database pool (shutdown), after the fan-out's pending
    /// bells (for at most 5 s).
    pub async fn close(&self) {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), self.settle()).await;
        self.inner.db.close().await
    }

    /// The rate limits (socket events are checked by the gateway).
    pub fn limits(&self) -> &Limiters {
        &self.inner.limits
    }

    /// Whether any account exists (the demo seed only fills an empty database).
    pub async fn has_accounts(&self) -> Result<bool> {
        Ok(self.inner.db.count_users().await? > 0)
    }

    // ---- accounts -------------------------------------------------------

    /// Verifies a bearer token or session cookie value: signature and
    /// expiry, then, against the account's row (one primary-key read, on
    /// every call, so a revocation holds from the next request on), that
    /// the account is live and the token's version is still its own.
    pub async fn authenticate(&self, token: &str) -> Result<(AuthUser, Claims)> {
        let claims = self
            .inner
            .keys
            .verify(token)
            .map_err(|_| ServiceError::Unauthorized)?;
        let id = claims.user_id().ok_or(ServiceError::Unauthorized)?;
        let found = self
            .inner
            .db
            .session_user(id, &claims.sid)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if found.token_version != claims.ver || found.revoked {
            return Err(ServiceError::Unauthorized);
        }
        let user = AuthUser {
            id,
            role: found.user.role,
            name: found.user.name,
        };
        Ok((user, claims))
    }

    /// Signs one session out: the token's session is revoked (its tokens
    /// are refused from now on, by every node, until they would have
    /// expired anyway) and its open sockets are closed; the user's other
    /// sessions go on. A token that is no longer valid has nothing left to
    /// end: that is not an error.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let Ok(claims) = self.inner.keys.verify(token) else {
            return Ok(());
        };
        let Some(user) = claims.user_id() else {
            return Ok(());
        };
        if claims.sid.is_empty() {
            return Ok(());
        }
        self.inner
            .db
            .revoke_session(&claims.sid, user, claims.exp)
            .await?;
        tracing::info!(user_id = user, "session signed out");
        self.inner.broadcast.disconnect_session(&claims.sid).await;
        Ok(())
    }

    /// Which of `sessions` (token `sid`s) were signed out (the gateway's
    /// sweep closes their sockets).
    pub async fn revoked_sessions(
        &self,
        sessions: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        Ok(self.inner.db.revoked_among(sessions).await?)
    }

    fn session(&self, user: User, version: i64) -> Result<Session> {
        let (token, _) = self
            .inner
            .keys
            .issue(user.id, user.role, &user.name, version)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("signing failed: {e}")))?;
        Ok(Session { token, user })
    }

    /// Which of `users` hold a live account, with each one's token version
    /// (the gateway's sweep closes sockets whose token is older).
    pub async fn token_versions(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>> {
        Ok(self.inner.db.token_versions(users).await?)
    }

    /// After a version bump: closes the user's open sockets on every node
    /// (their tokens are refused from now on, so they cannot come back).
    async fn sessions_ended(&self, user: UserId) {
        tracing::info!(user_id = user, "sessions revoked");
        self.inner.broadcast.disconnect_user(user).await;
    }

    /// "Log out everywhere": every token of the caller's is refused from now
    /// on, this one included, and their open sockets are closed.
    #[tracing::instrument(skip_all, fields(user_id = actor.id))]
    pub async fn revoke_sessions(&self, actor: &AuthUser) -> Result<()> {
        self.inner
            .db
            .bump_token_version(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        self.sessions_ended(actor.id).await;
        Ok(())
    }

    /// Changes the caller's password after checking the current one (with
    /// the login limits, so a stolen session cannot guess it quickly). Every
    /// other session ends; the returned one is the caller's new session.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, ip = %ip))]
    pub async fn change_password(
        &self,
        actor: &AuthUser,
        current: &str,
        new: Password,
        ip: IpAddr,
    ) -> Result<Session> {
        let creds = self
            .inner
            .db
            .credentials_of(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if current.len() > 1024 {
            return Err(wrong_current_password());
        }
        self.inner
            .limits
            .login(&creds.user.email.to_lowercase(), ip)
            .await?;
        let ok = auth::verify_password(current.to_owned(), Some(creds.password_hash))
            .await
            .map_err(ServiceError::Internal)?;
        if !ok {
            return Err(wrong_current_password());
        }
        auth::check_strength(
            &new,
            creds.user.role,
            &[creds.user.email.as_str(), creds.user.name.as_str()],
            "newPassword",
        )
        .await?;
        let hash = auth::hash_password(new.expose().to_owned())
            .await
            .map_err(ServiceError::Internal)?;
        let version = self
            .inner
            .db
            .set_password(actor.id, &hash)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        self.sessions_ended(actor.id).await;
        self.session(creds.user, version)
    }

    /// A live account by email (operators' CLI).
    pub async fn account(&self, email: &Email) -> Result<Option<User>> {
        Ok(self
            .inner
            .db
            .user_credentials(email.as_str())
            .await?
            .map(|c| c.user))
    }

    /// Gives an account another role (operators). Its tokens, which name the
    /// old role, end, and its open sockets are closed.
    #[tracing::instrument(skip(self))]
    pub async fn set_role(&self, user: UserId, role: Role) -> Result<User> {
        self.inner
            .db
            .set_role(user, role)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        self.sessions_ended(user).await;
        // A demoted LSM's open disputes go to another LSM; a new LSM takes
        // disputes no LSM could have before.
        self.reassign_orphaned_disputes().await?;
        self.inner
            .db
            .get_user(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Deletes an account (operators): it can no longer sign in, every token
    /// ends and its open sockets are closed. Its messages and chats stay.
    #[tracing::instrument(skip(self))]
    pub async fn delete_user(&self, user: UserId) -> Result<()> {
        self.inner
            .db
            .delete_user(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        self.sessions_ended(user).await;
        // A deleted LSM's open disputes go to another LSM, or no new dispute
        // could ever be opened in those chats.
        self.reassign_orphaned_disputes().await?;
        Ok(())
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
        ip: IpAddr,
    ) -> Result<Session> {
        if role == Role::Lsm {
            return Err(ServiceError::Forbidden(
                "LSM accounts are created by operators, not by registration",
            ));
        }
        // Counted before argon2 runs: every sign-up costs a hash and an account.
        self.inner.limits.register(ip).await?;
        let user = self.create_user(&email, &password, &name, role).await?;
        // A new account's tokens start at version 0 (the column's default).
        self.session(user, 0)
    }

    /// Creates an account of any role (registration and the operators'
    /// CLI use this). A password too easy to guess for the role is refused
    /// (`invalid`, field `password`, with the estimator's advice). A new
    /// LSM takes the open disputes no LSM could settle.
    pub async fn create_user(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        auth::check_strength(password, role, &[email.as_str(), name.as_str()], "password").await?;
        self.insert_account(email, password, name, role).await
    }

    /// Creates a demo account (development only: `Application::build`
    /// seeds only then) with the public demo password, which is weak on
    /// purpose and so skips the strength check every real account passes.
    pub(crate) async fn create_demo_user(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        self.insert_account(email, password, name, role).await
    }

    /// Stores the account; a new LSM then takes the open disputes no LSM
    /// could settle.
    async fn insert_account(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        let user = self.store_account(email, password, name, role).await?;
        if role == Role::Lsm {
            self.reassign_orphaned_disputes().await?;
        }
        Ok(user)
    }

    async fn store_account(
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
                    details: Some(ConflictDetails::Field { field: "email" }),
                },
                e => e.into(),
            })
    }

    /// Checks credentials; an unknown email costs the same time as a wrong
    /// password and gets the same answer.
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn login(&self, email: &str, password: &str, ip: IpAddr) -> Result<Session> {
        let email_key = email.trim().to_lowercase();
        // Over-long input is refused before it is counted or reaches argon2.
        if email_key.len() > 254 || password.len() > 1024 {
            return Err(ServiceError::BadCredentials);
        }
        self.inner.limits.login(&email_key, ip).await?;
        let creds = self.inner.db.user_credentials(&email_key).await?;
        let (user, hash) = match creds {
            Some(c) => (Some((c.user, c.token_version)), Some(c.password_hash)),
            None => (None, None),
        };
        let ok = auth::verify_password(password.to_owned(), hash)
            .await
            .map_err(ServiceError::Internal)?;
        match (ok, user) {
            (true, Some((user, version))) => self.session(user, version),
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

    /// A user as the real-time side names them (`user_left` after a node
    /// died); `None` for an unknown id.
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.inner.db.get_user(id).await?)
    }

    /// Providers a customer can book.
    pub async fn providers(&self) -> Result<Vec<UserRef>> {
        let rows = self.inner.db.list_providers().await?;
        Ok(rows
            .into_iter()
            .map(|p| UserRef {
                id: p.id,
                name: p.name,
            })
            .collect())
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
        ip: IpAddr,
    ) -> Result<Booking> {
        if actor.role != Role::Customer {
            return Err(ServiceError::Forbidden("only customers can book jobs"));
        }
        self.inner.limits.book(actor.id, ip).await?;
        let booked_event = SystemEvent::JobBooked {
            title: title.as_str().to_owned(),
        };
        let provider = self.inner.db.active_user(provider_id).await?;
        if provider.map(|(p, _)| p.role) != Some(Role::Provider) {
            return Err(ServiceError::Invalid(app::validate::Invalid {
                field: "providerId",
                message: "is not a provider".into(),
            }));
        }
        let booked = self
            .inner
            .db
            .book_job(
                actor.id,
                provider_id,
                title.as_str(),
                description.as_str(),
                &texts::system_line(&booked_event),
                &booked_event,
            )
            .await?;
        metrics::message_stored("system");
        let created = ChatCreated {
            chat_id: booked.chat_id,
            job_id: booked.job_id,
        };
        self.inner
            .broadcast
            .to_users(&[actor.id, provider_id], &created)
            .await;
        Ok(Booking {
            job_id: booked.job_id,
            chat_id: booked.chat_id,
        })
    }

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
    async fn membership(&self, actor: &AuthUser, chat: ChatId) -> Result<Membership> {
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
        let mut chats = self.inner.db.list_chats_page(actor.id, page).await?;
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

    pub async fn history(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        query: PageQuery,
    ) -> Result<MessagePage> {
        self.inner.limits.read(actor.id)?;
        // Someone who left reads the transcript up to their leaving.
        let m = self.membership(actor, chat).await?;
        let (messages, has_more) = self.inner.db.list_messages(chat, query, m.left_seq).await?;
        Ok(MessagePage { messages, has_more })
    }

    /// History for a caller already known to be in the chat.
    pub async fn history_authorized(&self, chat: ChatId, query: PageQuery) -> Result<MessagePage> {
        let (messages, has_more) = self.inner.db.list_messages(chat, query, None).await?;
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

    /// Which of the `(chat, user)` pairs are in their chat now (the live
    /// rooms' sweep).
    pub async fn current_members(
        &self,
        pairs: &[(ChatId, UserId)],
    ) -> Result<std::collections::HashSet<(ChatId, UserId)>> {
        Ok(self.inner.db.current_members(pairs).await?)
    }

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

    /// Stores a message and answers once it is durable (group commit, see
    /// `sends`); a resend with the same client id returns the stored
    /// message and repeats nothing. Membership is checked inside the storing
    /// transaction, so a participant removed on another node is refused at
    /// once. Broadcasting and notifying happen after the answer, in commit
    /// order on this node (`fan_out`; one chat's messages in seq order, as
    /// a later batch with the same chat waits for the earlier one's commit);
    /// concurrent sends from other nodes may still overtake them, and
    /// clients put them in seq order.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn post_message(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        text: MessageText,
        client_id: ClientId,
    ) -> Result<Message> {
        let new = NewUserMessage {
            chat_id: chat,
            sender_id: actor.id,
            content: text.as_str().to_owned(),
            client_id: client_id.as_str().to_owned(),
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
            .mark_read(chat, actor.id, message)
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

    // ---- disputes --------------------------------------------------------

    /// "Add LSM": opens a dispute and brings the least busy LSM into the chat.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat))]
    pub async fn open_dispute(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        reason: Reason,
    ) -> Result<DisputeOpened> {
        if self.authorize_chat(actor, chat).await? == Role::Lsm {
            return Err(ServiceError::Forbidden(
                "an LSM settles disputes; the customer or the provider raises them",
            ));
        }
        let db = &self.inner.db;
        let cooldown = self.inner.limits.dispute_reopen_cooldown();
        if !cooldown.is_zero()
            && let Some(settled) = db.last_settled_at(chat).await?
        {
            let since = (Utc::now() - settled).to_std().unwrap_or_default();
            if since < cooldown {
                return Err(ServiceError::TooSoon {
                    message: "this chat's last dispute was settled moments ago; a new one can be raised later",
                    retry_after_secs: (cooldown - since).as_secs().max(1),
                });
            }
        }
        // The LSM who settled this chat's last dispute knows the case;
        // otherwise whoever has the fewest open disputes.
        let lsm = match db.former_lsm(chat).await? {
            Some(former) => former,
            None => least_busy(db.lsm_loads().await?).ok_or_else(|| {
                ServiceError::Unavailable(
                    "no local service manager account exists yet; ask an operator to create one"
                        .into(),
                )
            })?,
        };
        let job_title = db.chat_job_title(chat).await?;
        let event = SystemEvent::DisputeOpened {
            raised_by: Some(actor.id),
            raised_by_name: actor.name.clone(),
            lsm: Some(lsm.id),
            lsm_name: lsm.name.clone(),
            reason: reason.as_str().to_owned(),
        };
        let announcement = texts::system_line(&event);
        let title = texts::added_to_dispute_title(&job_title);
        let body = texts::added_to_dispute_body(&actor.name, reason.as_str());
        let opened = db
            .open_dispute(NewDispute {
                chat_id: chat,
                raised_by: actor.id,
                reason: reason.as_str(),
                lsm: lsm.id,
                announcement: &announcement,
                event: &event,
                notice: Notice {
                    title: &title,
                    body: &body,
                },
            })
            .await?;
        metrics::message_stored("system");
        self.fan_out_message(opened.message);
        let b = &self.inner.broadcast;
        let invited = LsmInvited {
            chat_id: chat,
            dispute_id: opened.dispute_id,
            lsm: lsm.clone(),
        };
        b.to_chat(chat, &invited).await;
        b.to_user(lsm.id, &invited).await;
        b.to_user(lsm.id, &NewNotification(opened.notification))
            .await;
        Ok(DisputeOpened {
            dispute_id: opened.dispute_id,
            lsm,
        })
    }

    /// Settles a dispute. Only the LSM it was assigned to may.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, dispute_id))]
    pub async fn resolve_dispute(
        &self,
        actor: &AuthUser,
        dispute_id: i64,
        resolution: Resolution,
    ) -> Result<ChatId> {
        let db = &self.inner.db;
        let dispute = db
            .get_dispute(dispute_id)
            .await?
            .ok_or(ServiceError::NotFound("dispute"))?;
        if dispute.lsm_id != actor.id || actor.role != Role::Lsm {
            // The chat's own people know the dispute exists and are told
            // why not; anyone else gets the answer of a missing dispute.
            if db.membership(dispute.chat_id, actor.id).await?.is_none() {
                return Err(ServiceError::NotFound("dispute"));
            }
            return Err(ServiceError::Forbidden(
                "only the dispute's LSM can resolve it",
            ));
        }
        let chat = dispute.chat_id;
        let notify: Vec<UserId> = db
            .chat_participants(chat)
            .await?
            .into_iter()
            .map(|p| p.id)
            .filter(|&id| id != actor.id)
            .collect();
        let job_title = db.chat_job_title(chat).await?;
        let event = SystemEvent::DisputeResolved {
            lsm: Some(actor.id),
            lsm_name: actor.name.clone(),
            resolution: resolution.as_str().to_owned(),
        };
        let announcement = texts::system_line(&event);
        let title = texts::dispute_resolved_title(&job_title);
        let resolved = db
            .resolve_dispute(Settlement {
                dispute_id,
                chat_id: chat,
                lsm: actor.id,
                resolution: resolution.as_str(),
                announcement: &announcement,
                event: &event,
                notify: &notify,
                notice: Notice {
                    title: &title,
                    body: resolution.as_str(),
                },
            })
            .await?;
        metrics::message_stored("system");
        self.fan_out_message(resolved.message);
        let b = &self.inner.broadcast;
        let settled = DisputeResolved {
            chat_id: chat,
            dispute_id,
            resolution: resolution.as_str().to_owned(),
        };
        b.to_chat(chat, &settled).await;
        // The LSM has left: out of the live room on every node (their
        // browser reloads the list on `dispute_resolved` and shows the
        // transcript read-only); the others see them go.
        b.remove_from_chat(actor.id, chat).await;
        let left = UserLeft {
            chat_id: chat,
            user: ChatUser {
                id: actor.id,
                name: actor.name.clone(),
                role: actor.role,
            },
        };
        b.to_chat(chat, &left).await;
        for (user, n) in resolved.notifications {
            b.to_user(user, &NewNotification(n)).await;
        }
        Ok(chat)
    }

    /// Moves every open dispute whose LSM was deleted or is no longer an
    /// LSM to the least busy LSM there is; with none, they wait for the
    /// next LSM account (`create_user`, `set_role` run this again).
    /// Returns how many moved.
    #[tracing::instrument(skip_all)]
    pub async fn reassign_orphaned_disputes(&self) -> Result<usize> {
        let db = &self.inner.db;
        let mut moved = 0;
        for orphan in db.orphaned_disputes().await? {
            let Some(lsm) = least_busy(db.lsm_loads().await?) else {
                tracing::warn!(
                    dispute_id = orphan.id,
                    "no LSM to take over an open dispute"
                );
                break;
            };
            let event = SystemEvent::DisputeReassigned {
                from: Some(orphan.lsm_id),
                from_name: orphan.lsm_name.clone(),
                to: Some(lsm.id),
                to_name: lsm.name.clone(),
            };
            let announcement = texts::system_line(&event);
            let title = texts::added_to_dispute_title(&orphan.job_title);
            let body = texts::dispute_taken_over_body(&orphan.lsm_name, &orphan.reason);
            let Some(taken) = db
                .reassign_dispute(Reassignment {
                    dispute_id: orphan.id,
                    chat_id: orphan.chat_id,
                    from: orphan.lsm_id,
                    to: lsm.id,
                    announcement: &announcement,
                    event: &event,
                    notice: Notice {
                        title: &title,
                        body: &body,
                    },
                })
                .await?
            else {
                continue;
            };
            moved += 1;
            metrics::message_stored("system");
            tracing::info!(
                dispute_id = orphan.id,
                from = orphan.lsm_id,
                to = lsm.id,
                "dispute reassigned"
            );
            let chat = orphan.chat_id;
            self.fan_out_message(taken.message);
            let b = &self.inner.broadcast;
            b.remove_from_chat(orphan.lsm_id, chat).await;
            let left = UserLeft {
                chat_id: chat,
                user: ChatUser {
                    id: orphan.lsm_id,
                    name: orphan.lsm_name.clone(),
                    role: Role::Lsm,
                },
            };
            b.to_chat(chat, &left).await;
            let invited = LsmInvited {
                chat_id: chat,
                dispute_id: orphan.id,
                lsm: lsm.clone(),
            };
            b.to_chat(chat, &invited).await;
            b.to_user(lsm.id, &invited).await;
            b.to_user(lsm.id, &NewNotification(taken.notification))
                .await;
        }
        Ok(moved)
    }

    /// Hands a message stored outside the committers (a system line) to
    /// the same fan-out as users' messages, so each chat's messages leave
    /// this node in one queue, in commit order.
    fn fan_out_message(&self, message: Message) {
        let _ = self
            .inner
            .fan_out
            .send(FanOut::Stored(vec![message], Vec::new()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load(id: UserId, open: i64) -> LsmLoad {
        LsmLoad {
            lsm: UserRef {
                id,
                name: format!("L{id}"),
            },
            open_disputes: open,
        }
    }

    #[test]
    fn disputes_go_to_the_least_busy_lsm() {
        assert_eq!(least_busy(vec![]), None);
        let pick = |loads| least_busy(loads).map(|l| l.id);
        assert_eq!(
            pick(vec![load(3, 0), load(2, 0)]),
            Some(2),
            "ties: lowest id"
        );
        assert_eq!(pick(vec![load(2, 1), load(3, 0)]), Some(3));
    }

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
