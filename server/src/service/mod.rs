//! The service layer: every rule of the product lives here. REST handlers,
//! Socket.IO handlers and Leptos server functions (through
//! `crate::backend`) are thin callers of it. It is the only caller of
//! storage, decides what storage writes (which LSM joins a dispute, the text
//! of system messages and notifications, see `texts`), and announces what
//! happened through a [`Broadcaster`]: an interface defined here and
//! implemented by `realtime`, so the service never depends on a transport.
//!
//! One module per resource, as in `http/` and `storage/`: `accounts`, `attachments`,
//! `jobs`, `chats`, `messages` (with `sends`, the group commit), `disputes`,
//! `notifications`, `presence`, `revisions` (edits and deletions), `search`,
//! `reports` (reports and auto-flags), `blocks` and `moderation` (the LSMs'
//! queue, actions and log); each adds its methods to [`Service`]. This
//! file holds the service itself, the caller (`AuthUser`) and the fan-out
//! that broadcasts what was stored.

mod accounts;
mod attachments;
mod blocks;
mod broadcast;
mod cases;
mod chats;
mod disputes;
mod emails;
mod error;
mod jobs;
mod limits;
mod masking;
mod messages;
mod moderation;
mod notifications;
mod presence;
mod reports;
mod retention;
mod revisions;
mod search;
mod sends;
pub mod texts;
mod transcripts;

pub use attachments::{Download, Upload};
pub use broadcast::{Audience, Broadcaster, EventSink};
pub use chats::chat_page;
pub use error::{ConflictDetails, Result, ServiceError};
pub use limits::Limiters;
pub use messages::{
    CATCH_UP_LIMIT, DEFAULT_PAGE, MAX_PAGE, Send, cursor, history_page, page_query,
};
pub use moderation::{EXPORT_MAX, suspension_end};
pub use search::Search;

use crate::auth::Keys;
use crate::files::Files;
use crate::storage::{Bell, Db};
use chrono::Utc;
use contract::model::{Me, Message, Role, User, UserId};
use contract::protocol::{NewMessage, NewNotification};
use std::sync::Arc;

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
fn fan_out(
    broadcast: Broadcaster,
    flags: reports::Flags,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<FanOut>,
) {
    tokio::spawn(async move {
        while let Some(job) = queue.recv().await {
            match job {
                FanOut::Stored(messages, bells) => {
                    // The auto-flags look at what was stored, later.
                    for m in &messages {
                        flags.offer(m);
                    }
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
    /// Attachments' bytes.
    files: Files,
    keys: Keys,
    broadcast: Broadcaster,
    limits: Limiters,
    /// Contact details hidden before a message is stored for the others.
    masking: masking::Masking,
    sends: sends::Sends,
    fan_out: tokio::sync::mpsc::UnboundedSender<FanOut>,
    /// Email to people who are away, once `send_emails` turned it on.
    mail: std::sync::OnceLock<Arc<emails::Mailer>>,
    /// The currency refunds are settled in (`JOBCHAT_CURRENCY`), once
    /// `settle_in` set it; `EUR` before.
    currency: std::sync::OnceLock<String>,
    /// A PostgreSQL replica for heavy reads, once `read_from` set it.
    replica: std::sync::OnceLock<crate::storage::Replica>,
}

impl Service {
    /// Starts the message committer and its fan-out (tasks on the current
    /// Tokio runtime).
    pub fn new(
        db: Db,
        files: Files,
        keys: Keys,
        limits: Limiters,
        masking: &crate::config::MaskingConfig,
        broadcast: Broadcaster,
    ) -> Self {
        let (fan_out_tx, fan_out_rx) = tokio::sync::mpsc::unbounded_channel();
        let sends = sends::Sends::start(db.clone(), fan_out_tx.clone());
        let flags = reports::Flags::start(db.clone(), broadcast.clone());
        fan_out(broadcast.clone(), flags, fan_out_rx);
        let inner = Arc::new(Inner {
            db,
            files,
            keys,
            broadcast,
            limits,
            masking: masking::Masking::new(masking),
            sends,
            fan_out: fan_out_tx,
            mail: std::sync::OnceLock::new(),
            currency: std::sync::OnceLock::new(),
            replica: std::sync::OnceLock::new(),
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
        // Uploads whose message never came are swept (objects, then rows),
        // and objects queued for deletion deleted.
        let weak = Arc::downgrade(&inner);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(attachments::SWEEP_EVERY);
            loop {
                every.tick().await;
                let Some(inner) = weak.upgrade() else { break };
                let before = Utc::now() - attachments::ORPHAN_AGE;
                attachments::sweep(&inner.db, &inner.files, before).await;
                // Objects a deleted chat left queued (retention.rs).
                retention::delete_queued_objects(&inner.db, &inner.files).await;
            }
        });
        Self { inner }
    }

    /// The storage below the rules: for tests that arrange data directly.
    /// Application code goes through the methods of `Service`.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Sends history pages, search, the chat list and transcript exports to
    /// this replica whenever it has caught up (`storage/replica.rs`).
    pub fn read_from(&self, replica: crate::storage::Replica) {
        let _ = self.inner.replica.set(replica);
    }

    /// Where heavy reads went so far, `None` without a replica: (replica,
    /// primary because it lagged, primary because it failed).
    pub fn read_routes(&self) -> Option<(u64, u64, u64)> {
        self.inner.replica.get().map(|r| r.counts())
    }

    /// Runs a heavy read on the replica when it has caught up, else on the
    /// primary; a read that fails on the replica is run again on the
    /// primary (the replica stopped in between).
    pub(crate) async fn read<T, F, Fut>(&self, read: F) -> Result<T, crate::storage::StorageError>
    where
        F: Fn(Db) -> Fut,
        Fut: std::future::Future<Output = Result<T, crate::storage::StorageError>>,
    {
        let Some(replica) = self.inner.replica.get() else {
            return read(self.inner.db.clone()).await;
        };
        let (db, route) = replica.choose(&self.inner.db).await;
        match read(db).await {
            Err(e) if route == crate::storage::Route::Replica => {
                tracing::warn!(error = %e, "a read failed on the replica; reading the primary");
                replica.leave_alone();
                read(self.inner.db.clone()).await
            }
            done => done,
        }
    }

    /// The file store below the rules, likewise (tests count what is left).
    pub fn files(&self) -> &Files {
        &self.inner.files
    }

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

    /// What an upload may be.
    pub fn file_limits(&self) -> &crate::config::FileLimits {
        self.inner.files.limits()
    }

    /// The rate limits (socket events are checked by the gateway).
    pub fn limits(&self) -> &Limiters {
        &self.inner.limits
    }

    /// Whether any account exists (the demo seed only fills an empty database).
    pub async fn has_accounts(&self) -> Result<bool> {
        Ok(self.inner.db.count_users().await? > 0)
    }

    /// Whether contact masking applies to the chat's messages now: always,
    /// never, or (`until_started`) until its job starts, read from the
    /// database when not known.
    pub(crate) async fn masking_on(&self, chat: contract::model::ChatId) -> Result<bool> {
        use masking::Applies;
        Ok(match self.inner.masking.applies(chat) {
            Applies::Yes => true,
            Applies::No => false,
            Applies::AskTheJob => {
                let started = self
                    .inner
                    .db
                    .job_of_chat(chat)
                    .await?
                    .is_some_and(|j| j.status.is_started());
                self.inner.masking.note_job(chat, started);
                !started
            }
        })
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
}
