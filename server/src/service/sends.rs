//! Group commit for users' messages. Sends from every socket of this node
//! queue here; a committer stores whatever has queued in ONE transaction
//! (one commit, one fsync, for tens or hundreds of messages), answers each
//! sender as soon as that commit is durable, then hands the new messages,
//! in seq order, and the bells bumped with them to the fan-out that
//! broadcasts them.
//!
//! No time window is waited for: a batch is whatever queued while the
//! previous commit ran, so a lone message goes at once and a busy node
//! batches by itself. On PostgreSQL several committers work side by side,
//! and no two of them ever hold messages of the same chat: a committer
//! takes every queued message whose chat no other committer has in flight,
//! and leaves the rest, in order, for later. So their transactions never
//! wait for each other's chat locks (they used to, which made two
//! committers little faster than one), a chat's messages still go out in
//! arrival order, and an idle committer takes new work at once. SQLite has
//! one writer, so it gets one committer.
//!
//! Across nodes, a batch locks its chats in chat-id order, the same on every
//! node, so batches committing at once cannot deadlock; two batches with
//! messages of one chat take its seqs in lock order. If a batch fails, its
//! messages are retried one by one, so one bad message never fails the
//! others.

use super::{FanOut, texts};
use crate::metrics;
use crate::storage::{Db, NewUserMessage, SentMessage, StorageError};
use contract::model::ChatId;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};

/// Most messages in one transaction.
const MAX_BATCH: usize = 512;

/// Committers on PostgreSQL. Each holds one pooled connection while it
/// commits; measured in docs/benchmarks.md ("Committers side by side").
const POSTGRES_COMMITTERS: usize = 4;

/// How long a sender waits for its commit before it is answered
/// `unavailable` (the client resends with the same clientId, so a commit
/// that lands after all is found, not doubled).
const SEND_DEADLINE: Duration = Duration::from_secs(5);

/// Most messages waiting for a committer on this node. A stalled
/// database fills the queue in seconds under load; past this, sends are
/// answered `unavailable` at once (the client keeps the message and
/// resends it) instead of piling up memory.
const MAX_QUEUED: usize = 10_000;

/// How long one batch may take before the committer gives up on it (a
/// database that stopped answering) and moves on to the next.
const COMMIT_DEADLINE: Duration = Duration::from_secs(10);

type Reply = oneshot::Sender<Result<Option<SentMessage>, StorageError>>;

struct Pending {
    message: NewUserMessage,
    reply: Reply,
    queued: Instant,
}

/// The queue the committers share.
struct Queue {
    state: Mutex<State>,
    /// Rung when a message is queued, when a committer leaves messages
    /// behind or frees chats that messages wait for, and when the queue
    /// closes.
    ready: Notify,
    /// Set when email goes to people who are away: how long after a
    /// message its email is due (scheduled in the storing transaction).
    email_after: std::sync::OnceLock<std::time::Duration>,
}

#[derive(Default)]
struct State {
    pending: VecDeque<Pending>,
    /// Chats some committer has messages of in flight.
    busy: HashSet<ChatId>,
    /// No more sends will come (the service is gone): committers drain
    /// what is left, then stop.
    closed: bool,
}

impl Queue {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing under this lock awaits or panics (short of running out
        // of memory), so a poisoned lock still holds consistent data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for messages this committer may take, moves them into `batch`
    /// (marking their chats busy) and returns true; false once the queue
    /// is closed and empty.
    async fn take(&self, batch: &mut Vec<Pending>) -> bool {
        loop {
            {
                let mut state = self.state();
                let State {
                    pending,
                    busy,
                    closed,
                } = &mut *state;
                let mut mine: HashSet<ChatId> = HashSet::new();
                let mut blocked: HashSet<ChatId> = HashSet::new();
                let mut left = VecDeque::new();
                for p in pending.drain(..) {
                    if p.reply.is_closed() {
                        // Its sender gave up (deadline passed, socket gone)
                        // and will resend under the same clientId: storing
                        // this copy too would only queue the retry behind it.
                        continue;
                    }
                    let chat = p.message.chat_id;
                    if busy.contains(&chat) || blocked.contains(&chat) || batch.len() >= MAX_BATCH {
                        // Once a chat's message stays, its later ones stay
                        // too, or they would overtake it.
                        blocked.insert(chat);
                        left.push_back(p);
                    } else {
                        mine.insert(chat);
                        batch.push(p);
                    }
                }
                *pending = left;
                if !batch.is_empty() {
                    busy.extend(mine);
                    if !pending.is_empty() {
                        // More than one batch holds, or other committers'
                        // chats: whoever is free takes the rest.
                        self.ready.notify_one();
                    }
                    return true;
                }
                if *closed && pending.is_empty() {
                    // Wake the next committer so it stops too.
                    self.ready.notify_one();
                    return false;
                }
            }
            // A ring between the look above and this wait leaves a permit
            // (or wakes another committer, who looks instead): none is lost.
            self.ready.notified().await;
        }
    }

    /// Queues one message, unless `MAX_QUEUED` are waiting even after
    /// those whose senders gave up are dropped.
    fn push(&self, pending: Pending) -> Result<(), StorageError> {
        {
            let mut state = self.state();
            if state.pending.len() >= MAX_QUEUED {
                state.pending.retain(|p| !p.reply.is_closed());
            }
            if state.pending.len() >= MAX_QUEUED {
                return Err(StorageError::Unavailable(
                    "too many messages are waiting to be stored; send again shortly",
                ));
            }
            state.pending.push_back(pending);
        }
        self.ready.notify_one();
        Ok(())
    }

    /// The chats of a committed batch are free again.
    fn done(&self, batch: &[Pending]) {
        let mut state = self.state();
        for p in batch {
            state.busy.remove(&p.message.chat_id);
        }
        if !state.pending.is_empty() {
            self.ready.notify_one();
        }
    }
}

/// Closes the queue when the last `Sends` handle goes.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.state().closed = true;
        self.0.ready.notify_one();
    }
}

#[derive(Clone)]
pub(super) struct Sends {
    queue: Arc<Closer>,
}

impl Sends {
    /// Starts the committers over `db`; every message they store (not the
    /// resends) goes to the fan-out, each chat's in commit order.
    pub(super) fn start(db: Db, stored: mpsc::UnboundedSender<FanOut>) -> Self {
        let queue = Arc::new(Queue {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            email_after: std::sync::OnceLock::new(),
        });
        let committers = match db {
            Db::Postgres(_) => POSTGRES_COMMITTERS,
            Db::Sqlite(_) => 1,
        };
        for _ in 0..committers {
            tokio::spawn(run(db.clone(), queue.clone(), stored.clone()));
        }
        Self {
            queue: Arc::new(Closer(queue)),
        }
    }

    /// From now on each stored message makes the others' email due this
    /// long after it (once: set when the server starts).
    pub(super) fn email_after(&self, after: std::time::Duration) {
        let _ = self.queue.0.email_after.set(after);
    }

    /// Stores one message as `Db::insert_user_message` does, in whichever
    /// batch it joins; resolves once that batch is committed.
    pub(super) async fn store(
        &self,
        message: NewUserMessage,
    ) -> Result<Option<SentMessage>, StorageError> {
        let (reply, answer) = oneshot::channel();
        self.queue.0.push(Pending {
            message,
            reply,
            queued: Instant::now(),
        })?;
        match tokio::time::timeout(SEND_DEADLINE, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(StorageError::Unavailable("the message committer stopped")),
            Err(_) => Err(StorageError::Unavailable(
                "the database did not answer in time; send again",
            )),
        }
    }
}

/// One committer: takes what it may, commits it, frees its chats, repeats.
async fn run(db: Db, queue: Arc<Queue>, stored: mpsc::UnboundedSender<FanOut>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.take(&mut batch).await {
        commit(&db, &mut batch, &stored, &queue).await;
    }
}

/// `Db::insert_user_messages`, given up after `COMMIT_DEADLINE`.
async fn store_within_deadline(
    db: &Db,
    messages: &[NewUserMessage],
    email_after: Option<std::time::Duration>,
) -> Result<crate::storage::StoredBatch, StorageError> {
    tokio::time::timeout(
        COMMIT_DEADLINE,
        db.insert_user_messages(messages, texts::BELLS, email_after),
    )
    .await
    .unwrap_or(Err(StorageError::Unavailable(
        "the database did not answer in time",
    )))
}

async fn commit(
    db: &Db,
    batch: &mut Vec<Pending>,
    stored: &mpsc::UnboundedSender<FanOut>,
    queue: &Queue,
) {
    // Stable: a chat's messages keep their arrival order.
    batch.sort_by_key(|p| p.message.chat_id);
    let started = Instant::now();
    for p in batch.iter() {
        metrics::commit_waited(started - p.queued);
    }
    metrics::commit_batch(batch.len());
    let messages: Vec<NewUserMessage> = batch.iter().map(|p| p.message.clone()).collect();
    let mut bells = Vec::new();
    let attempt = store_within_deadline(db, &messages, queue.email_after.get().copied()).await;
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
                    match store_within_deadline(
                        db,
                        std::slice::from_ref(m),
                        queue.email_after.get().copied(),
                    )
                    .await
                    {
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
    // Only now may another committer take these chats' next messages:
    // their broadcasts queue behind these.
    queue.done(batch);
    for (p, result) in batch.drain(..).zip(results) {
        // The sender may have gone (socket closed): the message is stored
        // anyway, and its resend will find it.
        let _ = p.reply.send(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Answer = oneshot::Receiver<Result<Option<SentMessage>, StorageError>>;

    /// Queues message `m{i}` of `chat_id` for each `(i, chat_id)`; the
    /// senders wait on the answers returned (a dropped one gave up).
    #[must_use]
    fn push(queue: &Queue, messages: impl IntoIterator<Item = (usize, ChatId)>) -> Vec<Answer> {
        let mut answers = Vec::new();
        for (i, chat_id) in messages {
            let (reply, answer) = oneshot::channel();
            answers.push(answer);
            queue
                .push(Pending {
                    message: NewUserMessage {
                        chat_id,
                        sender_id: 1,
                        content: format!("m{i}"),
                        original: None,
                        client_id: format!("c{i}"),
                        attachments: false,
                    },
                    reply,
                    queued: Instant::now(),
                })
                .expect("room in the queue");
        }
        answers
    }

    fn empty_queue() -> Queue {
        Queue {
            state: Mutex::new(State::default()),
            ready: Notify::new(),
            email_after: std::sync::OnceLock::new(),
        }
    }

    fn queue_of(chats: &[ChatId]) -> (Queue, Vec<Answer>) {
        let queue = empty_queue();
        let answers = push(&queue, chats.iter().copied().enumerate());
        (queue, answers)
    }

    fn contents(batch: &[Pending]) -> Vec<&str> {
        batch.iter().map(|p| p.message.content.as_str()).collect()
    }

    #[tokio::test]
    async fn committers_never_share_a_chat_and_keep_each_chats_order() {
        let (queue, _waiting) = queue_of(&[1, 2, 1, 3, 2]);
        let mut first = Vec::new();
        assert!(queue.take(&mut first).await);
        assert_eq!(contents(&first), ["m0", "m1", "m2", "m3", "m4"]);

        // While the first batch is in flight, new messages of its chats
        // wait; another chat's go to the second committer at once.
        let _more = push(&queue, [(5, 2), (6, 4), (7, 1)]);
        let mut second = Vec::new();
        assert!(queue.take(&mut second).await);
        assert_eq!(contents(&second), ["m6"]);
        assert_eq!(queue.state().pending.len(), 2);

        // The first commits: its chats are free, their messages next.
        queue.done(&first);
        let mut third = Vec::new();
        assert!(queue.take(&mut third).await);
        assert_eq!(contents(&third), ["m5", "m7"]);
    }

    #[tokio::test]
    async fn a_message_left_behind_holds_back_its_chats_later_ones() {
        let (queue, _waiting) = queue_of(&[1]);
        let mut held = Vec::new();
        assert!(queue.take(&mut held).await);
        // Chat 1 is busy: m1 stays; m2 (chat 2) goes; m3 (chat 1) stays.
        let _more = push(&queue, [(1, 1), (2, 2), (3, 1)]);
        let mut next = Vec::new();
        assert!(queue.take(&mut next).await);
        assert_eq!(contents(&next), ["m2"]);
        queue.done(&held);
        let mut last = Vec::new();
        assert!(queue.take(&mut last).await);
        assert_eq!(contents(&last), ["m1", "m3"]);
    }

    #[tokio::test]
    async fn a_closed_queue_is_drained_before_the_committers_stop() {
        let (queue, _waiting) = queue_of(&[1, 1]);
        let queue = Arc::new(queue);
        let closer = Closer(queue.clone());
        drop(closer);
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch).await);
        assert_eq!(batch.len(), 2);
        queue.done(&batch);
        batch.clear();
        assert!(!queue.take(&mut batch).await);
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_max_batch() {
        let chats: Vec<ChatId> = (0..MAX_BATCH as i64 + 3).collect();
        let (queue, _waiting) = queue_of(&chats);
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch).await);
        assert_eq!(batch.len(), MAX_BATCH);
        let mut rest = Vec::new();
        assert!(queue.take(&mut rest).await);
        assert_eq!(rest.len(), 3);
    }

    #[tokio::test]
    async fn messages_whose_senders_gave_up_are_not_stored() {
        let queue = empty_queue();
        let mut answers = push(&queue, [(0, 1), (1, 2), (2, 3)]);
        // The sender of m1 passed its deadline: its answer is dropped.
        drop(answers.remove(1));
        let mut batch = Vec::new();
        assert!(queue.take(&mut batch).await);
        assert_eq!(contents(&batch), ["m0", "m2"]);
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_makes_room_from_abandoned_sends() {
        let queue = empty_queue();
        let chats = (0..MAX_QUEUED).map(|i| (i, 1));
        let mut waiting = push(&queue, chats);
        let (reply, _answer) = oneshot::channel();
        let one_more = |reply| Pending {
            message: NewUserMessage {
                chat_id: 2,
                sender_id: 1,
                content: "late".into(),
                original: None,
                client_id: "late".into(),
                attachments: false,
            },
            reply,
            queued: Instant::now(),
        };
        match queue.push(one_more(reply)) {
            Err(StorageError::Unavailable(_)) => {}
            other => panic!("a full queue took a message: {other:?}"),
        }
        // Ten senders give up: their places are free for new sends.
        waiting.truncate(MAX_QUEUED - 10);
        let (reply, _answer) = oneshot::channel();
        assert!(queue.push(one_more(reply)).is_ok());
        assert_eq!(queue.state().pending.len(), MAX_QUEUED - 10 + 1);
    }
}
