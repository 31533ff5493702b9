//! Group commit for users' messages. Sends from every socket of this node
//! queue here; one task stores whatever has queued in ONE transaction (one
//! commit, one fsync, for tens or hundreds of messages), answers each
//! sender as soon as that commit is durable, then hands the new messages,
//! in seq order, and the bells bumped with them to the fan-out that
//! broadcasts them.
//!
//! No time window is waited for: a batch is whatever queued while the
//! previous commit ran, so a lone message goes at once and a busy node
//! batches by itself. On PostgreSQL two committers take turns at the queue,
//! so a message that arrives while one batch is in flight goes out in the
//! next at once instead of waiting for that commit (a batch is about ten
//! round trips; this halves what a message waits under steady load). SQLite
//! has one writer, so it gets one committer. A batch locks chats in
//! chat-id order, the same in every committer on every node, so batches
//! committing at once cannot deadlock; two batches with messages of one
//! chat take its seqs in lock order. If a batch fails, its messages are
//! retried one by one, so one bad message never fails the others.

use super::FanOut;
use crate::metrics;
use crate::storage::{Db, NewUserMessage, SentMessage, StorageError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

/// Most messages in one transaction.
const MAX_BATCH: usize = 512;

/// How long a sender waits for its commit before it is answered
/// `unavailable` (the client resends with the same clientId, so a commit
/// that lands after all is found, not doubled).
const SEND_DEADLINE: Duration = Duration::from_secs(5);

/// How long one batch may take before the committer gives up on it (a
/// database that stopped answering) and moves on to the next.
const COMMIT_DEADLINE: Duration = Duration::from_secs(10);

type Reply = oneshot::Sender<Result<Option<SentMessage>, StorageError>>;

struct Pending {
    message: NewUserMessage,
    reply: Reply,
    queued: Instant,
}

#[derive(Clone)]
pub(super) struct Sends {
    queue: mpsc::UnboundedSender<Pending>,
}

impl Sends {
    /// Starts the committer over `db`; every message it stores (not the
    /// resends) goes to the fan-out, in commit order.
    pub(super) fn start(db: Db, stored: mpsc::UnboundedSender<FanOut>) -> Self {
        let (queue, rx) = mpsc::unbounded_channel();
        let rx = Arc::new(Mutex::new(rx));
        let committers = match db {
            Db::Postgres(_) => 2,
            Db::Sqlite(_) => 1,
        };
        for _ in 0..committers {
            tokio::spawn(run(db.clone(), rx.clone(), stored.clone()));
        }
        Self { queue }
    }

    /// Stores one message as `Db::insert_user_message` does, in whichever
    /// batch it joins; resolves once that batch is committed.
    pub(super) async fn store(
        &self,
        message: NewUserMessage,
    ) -> Result<Option<SentMessage>, StorageError> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            message,
            reply,
            queued: Instant::now(),
        };
        if self.queue.send(pending).is_err() {
            return Err(StorageError::Unavailable("the message committer stopped"));
        }
        match tokio::time::timeout(SEND_DEADLINE, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(StorageError::Unavailable("the message committer stopped")),
            Err(_) => Err(StorageError::Unavailable(
                "the database did not answer in time; send again",
            )),
        }
    }
}

/// One committer: takes whatever has queued (holding the queue only while
/// taking), commits it, repeats.
async fn run(
    db: Db,
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Pending>>>,
    stored: mpsc::UnboundedSender<FanOut>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else {
                return;
            };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
        }
        commit(&db, &mut batch, &stored).await;
    }
}

/// `Db::insert_user_messages`, given up after `COMMIT_DEADLINE`.
async fn store_within_deadline(
    db: &Db,
    messages: &[NewUserMessage],
) -> Result<crate::storage::StoredBatch, StorageError> {
    tokio::time::timeout(COMMIT_DEADLINE, db.insert_user_messages(messages))
        .await
        .unwrap_or(Err(StorageError::Unavailable(
            "the database did not answer in time",
        )))
}

async fn commit(db: &Db, batch: &mut Vec<Pending>, stored: &mpsc::UnboundedSender<FanOut>) {
    // Stable: a chat's messages keep their arrival order.
    batch.sort_by_key(|p| p.message.chat_id);
    let started = Instant::now();
    for p in batch.iter() {
        metrics::commit_waited(started - p.queued);
    }
    metrics::commit_batch(batch.len());
    let messages: Vec<NewUserMessage> = batch.iter().map(|p| p.message.clone()).collect();
    let mut bells = Vec::new();
    let attempt = store_within_deadline(db, &messages).await;
    let results: Vec<Result<Option<SentMessage>, StorageError>> = match attempt {
        Ok(stored) => {
            bells = stored.bells;
            stored.results.into_iter().map(Ok).collect()
        }
        // Down, not refusing: one by one would only wait longer.
        Err(e @ StorageError::Unavailable(_)) => {
            batch.iter().map(|_| Err(e.clone_unavailable())).collect()
        }
        Err(e) if batch.len() > 1 => {
            tracing::warn!(error = %e, size = batch.len(), "batch failed; storing its messages one by one");
            let mut one_by_one = Vec::with_capacity(batch.len());
            for m in &messages {
                one_by_one.push(
                    match store_within_deadline(db, std::slice::from_ref(m)).await {
                        Ok(mut stored) => {
                            bells.append(&mut stored.bells);
                            Ok(stored.results.pop().flatten())
                        }
                        Err(e) => Err(e),
                    },
                );
            }
            one_by_one
        }
        Err(e) => vec![Err(e)],
    };
    // To the fan-out before the senders hear back, so that whatever a
    // sender does next (`Service::settle`) queues behind it.
    let new: Vec<_> = results
        .iter()
        .filter_map(|r| match r {
            Ok(Some(sent)) if sent.created => Some(sent.message.clone()),
            _ => None,
        })
        .collect();
    if !new.is_empty() || !bells.is_empty() {
        let _ = stored.send(FanOut::Stored(new, bells));
    }
    for (p, result) in batch.drain(..).zip(results) {
        // The sender may have gone (socket closed): the message is stored
        // anyway, and its resend will find it.
        let _ = p.reply.send(result);
    }
}
