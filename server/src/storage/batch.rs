//! Group commit's storage half: many users' messages stored in ONE
//! transaction (one commit, one fsync, for all of them), with the bells
//! they ring.
//!
//! Every statement is per batch, not per message, and its text does not
//! depend on the batch's size: the rows travel as one JSON array parameter,
//! expanded by the database (`jsonb_to_recordset` in PostgreSQL,
//! `json_each` in SQLite). So each backend prepares its statements
//! once, instead of parsing and planning a new multi-row statement, or a
//! chain of hundreds of `OR`s, for every batch size.

use super::emails::schedule_emails_tx;
use super::messages::{MESSAGE_SELECT, MessageRow, NewUserMessage, SentMessage};
use super::notifications::{BellWording, NOTIFICATION_COLUMNS, NotificationRow};
use super::search::chat_words;
use super::{Db, Result, StorageError, now, on_pool};
use crate::transcript::chain;
use contract::model::{ChatId, Message, MessageKind, Seq, UserId};
use serde_json::json;
use std::collections::HashMap;

/// A new-message notification written with a batch, for `user_id`'s bell.
#[derive(Clone, Debug)]
pub struct Bell {
    pub user_id: UserId,
    pub notification: contract::model::Notification,
}

/// What `insert_user_messages` stored: per message (in the batch's order)
/// as `insert_user_message` answers, and the bells it bumped.
pub struct StoredBatch {
    pub results: Vec<Option<SentMessage>>,
    pub bells: Vec<Bell>,
}

#[derive(sqlx::FromRow)]
struct BellRow {
    user_id: i64,
    #[sqlx(flatten)]
    notification: NotificationRow,
}

/// The batch's statements in one backend's dialect. `$1` is always the
/// JSON array of rows.
struct Statements {
    /// Locks the chats (ids) in id order; returns `id, last_seq`, the
    /// job's title (for the bells) and the chain's head.
    lock: &'static str,
    /// `{c, u}` pairs that are participants; returns `chat_id, user_id` and
    /// the user's name and role (for the stored messages).
    members: &'static str,
    /// `{c, s, k}` already stored; returns `chat_id, sender_id, client_id, id`.
    existing: &'static str,
    /// `{c, q, s, t, k, o, h}` rows (`h` the chain link); `$2` created_at, `$3` kind. Returns `chat_id, seq, id`.
    insert: &'static str,
    /// `{c, q, i, h}`: each chat's newest seq, message id and chain link;
    /// `$2` its time.
    pointers: &'static str,
    /// Ids of messages stored before (resends); returns `MESSAGE_SELECT` rows.
    read_back: String,
    /// `{c, s, n, q, t, sfx, b}` bell groups; `$2` the time. Returns `user_id` +
    /// the notification.
    bells: String,
}

fn statements(db: &Db) -> Statements {
    const BELL_UPSERT: &str = "ON CONFLICT (user_id, chat_id, kind) WHERE read_at IS NULL AND kind = 'new_message' \
         DO UPDATE SET count = notifications.count + excluded.count, \
           title = CAST(notifications.count + excluded.count AS TEXT) || excluded.title_suffix, \
           title_suffix = excluded.title_suffix, body = excluded.body, seq = excluded.seq, \
           updated_at = excluded.updated_at";
    match db {
        // Every table is reached through its index, never scanned: the
        // planner takes a JSON function for 100 rows and would hash-join
        // against a sequential scan of chats or participants, a cost that
        // grows with the tables (it did: p50 3 → 9 ms over four runs).
        // Ids go through `= ANY(ARRAY(…))`, row sets through a LATERAL
        // subquery per row (`OFFSET 0` keeps it from being flattened back
        // into a hash join).
        Db::Postgres(_) => Statements {
            lock: "SELECT c.id, c.last_seq, j.title, c.chain_head FROM chats c JOIN jobs j ON j.id = c.job_id \
                   WHERE c.id = ANY(ARRAY(SELECT CAST(t.v AS BIGINT) FROM jsonb_array_elements_text(CAST($1 AS JSONB)) AS t(v))) \
                   ORDER BY c.id FOR UPDATE OF c",
            members: "SELECT p.chat_id, p.user_id, p.name, p.role \
                      FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, u BIGINT) \
                      CROSS JOIN LATERAL (SELECT q.chat_id, q.user_id, u.name, u.role \
                        FROM chat_participants q JOIN users u ON u.id = q.user_id \
                        WHERE q.chat_id = x.c AND q.user_id = x.u AND q.left_seq IS NULL OFFSET 0) AS p",
            existing: "SELECT m.chat_id, m.sender_id, m.client_id, m.id \
                       FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, s BIGINT, k TEXT) \
                       CROSS JOIN LATERAL (SELECT y.chat_id, y.sender_id, y.client_id, y.id FROM messages y \
                         WHERE y.chat_id = x.c AND y.sender_id = x.s AND y.client_id = x.k OFFSET 0) AS m",
            insert: "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at, original, chain) \
                     SELECT x.c, x.q, x.s, $3, x.t, x.k, $2, x.o, x.h \
                     FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, q BIGINT, s BIGINT, t TEXT, k TEXT, o TEXT, h TEXT) \
                     RETURNING chat_id, seq, id",
            pointers: "UPDATE chats SET last_seq = x.q, last_message_id = x.i, last_message_at = $2, chain_head = x.h \
                       FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, q BIGINT, i BIGINT, h TEXT) \
                       WHERE chats.id = x.c AND chats.id = ANY(ARRAY( \
                         SELECT CAST(e->>'c' AS BIGINT) FROM jsonb_array_elements(CAST($1 AS JSONB)) AS e))",
            read_back: format!(
                "{MESSAGE_SELECT} WHERE m.id = ANY(ARRAY( \
                 SELECT CAST(t.v AS BIGINT) FROM jsonb_array_elements_text(CAST($1 AS JSONB)) AS t(v)))"
            ),
            bells: format!(
                "INSERT INTO notifications (user_id, kind, chat_id, title, title_suffix, body, count, seq, created_at, updated_at) \
                 SELECT p.user_id, 'new_message', x.c, x.t, x.sfx, x.b, x.n, x.q, $2, $2 \
                 FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, s BIGINT, n BIGINT, q BIGINT, t TEXT, sfx TEXT, b TEXT) \
                 CROSS JOIN LATERAL (SELECT q.user_id FROM chat_participants q \
                   WHERE q.chat_id = x.c AND q.user_id <> x.s AND q.left_seq IS NULL AND NOT q.muted \
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = q.user_id AND b.blocked_id = x.s) \
                   OFFSET 0) AS p \
                 {BELL_UPSERT} RETURNING user_id, {NOTIFICATION_COLUMNS}"
            ),
        },
        Db::Sqlite(_) => Statements {
            // SQLite has one writer: the lock is taken by the first write
            // (`insert_user_messages` issues a no-op UPDATE first).
            lock: "SELECT c.id, c.last_seq, j.title, c.chain_head FROM chats c JOIN jobs j ON j.id = c.job_id \
                   WHERE c.id IN (SELECT value FROM json_each($1))",
            members: "SELECT p.chat_id, p.user_id, u.name, u.role FROM json_each($1) AS x \
                      JOIN chat_participants p ON p.chat_id = x.value->>'c' AND p.user_id = x.value->>'u' \
                      AND p.left_seq IS NULL JOIN users u ON u.id = p.user_id",
            existing: "SELECT m.chat_id, m.sender_id, m.client_id, m.id FROM json_each($1) AS x \
                       JOIN messages m ON m.chat_id = x.value->>'c' AND m.sender_id = x.value->>'s' \
                       AND m.client_id = x.value->>'k'",
            insert: "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at, original, chain) \
                     SELECT x.value->>'c', x.value->>'q', x.value->>'s', $3, x.value->>'t', x.value->>'k', $2, x.value->>'o', x.value->>'h' \
                     FROM json_each($1) AS x WHERE true \
                     RETURNING chat_id, seq, id",
            pointers: "UPDATE chats SET last_seq = x.value->>'q', last_message_id = x.value->>'i', \
                       last_message_at = $2, chain_head = x.value->>'h' FROM json_each($1) AS x WHERE chats.id = x.value->>'c'",
            read_back: format!("{MESSAGE_SELECT} WHERE m.id IN (SELECT value FROM json_each($1))"),
            bells: format!(
                "INSERT INTO notifications (user_id, kind, chat_id, title, title_suffix, body, count, seq, created_at, updated_at) \
                 SELECT p.user_id, 'new_message', x.value->>'c', x.value->>'t', x.value->>'sfx', x.value->>'b', \
                   x.value->>'n', x.value->>'q', $2, $2 \
                 FROM json_each($1) AS x \
                 JOIN chat_participants p ON p.chat_id = x.value->>'c' AND p.user_id <> x.value->>'s' \
                   AND p.left_seq IS NULL AND NOT p.muted \
                   AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.blocker_id = p.user_id AND b.blocked_id = x.value->>'s') \
                 WHERE true {BELL_UPSERT} RETURNING user_id, {NOTIFICATION_COLUMNS}"
            ),
        },
    }
}

/// One chat's new messages from one sender in a batch.
struct BellGroup<'a> {
    chat: ChatId,
    sender: UserId,
    count: i64,
    newest: &'a Message,
}

impl Db {
    /// Stores many users' messages in ONE transaction, each as
    /// `insert_user_message` would, answering in the same order: lock the
    /// chats (reading their job titles with them), read which senders are
    /// in them (with their names) and which client ids are already stored,
    /// insert every new message, move each chat's pointers, read back only
    /// the resends, then bump every other participant's new-message bell
    /// (in the same transaction: a crash after the commit cannot lose a
    /// bell, and a resend finds both message and bell stored).
    ///
    /// Chats are locked in id order (PostgreSQL: `ORDER BY id FOR UPDATE OF c`;
    /// SQLite: its one writer lock, taken by the first statement), so two
    /// nodes committing batches at once cannot deadlock, and no other writer
    /// can add a message to these chats until the commit: the seqs handed
    /// out here are the next ones and the duplicate check cannot race.
    ///
    /// With `email_after`, each other participant's email about the chat
    /// becomes due that long after (`storage/emails.rs`), in the same
    /// transaction, so a crash cannot lose it.
    pub async fn insert_user_messages(
        &self,
        batch: &[NewUserMessage],
        wording: BellWording,
        email_after: Option<std::time::Duration>,
    ) -> Result<StoredBatch> {
        if batch.is_empty() {
            return Ok(StoredBatch {
                results: Vec::new(),
                bells: Vec::new(),
            });
        }
        let sql = statements(self);
        let mut chats: Vec<ChatId> = batch.iter().map(|m| m.chat_id).collect();
        chats.sort_unstable();
        chats.dedup();
        let chats_json = json!(chats).to_string();
        let mut pairs: Vec<(ChatId, UserId)> =
            batch.iter().map(|m| (m.chat_id, m.sender_id)).collect();
        pairs.sort_unstable();
        pairs.dedup();
        let pairs_json =
            serde_json::Value::Array(pairs.iter().map(|(c, u)| json!({"c": c, "u": u})).collect())
                .to_string();
        let keys_json = serde_json::Value::Array(
            batch
                .iter()
                .map(|m| json!({"c": m.chat_id, "s": m.sender_id, "k": m.client_id}))
                .collect(),
        )
        .to_string();
        let at = now();

        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if matches!(self, Db::Sqlite(_)) {
                // Take SQLite's writer lock first: a read-then-write
                // transaction could find another writer committed meanwhile.
                sqlx::query("UPDATE chats SET last_seq = last_seq WHERE id IN (SELECT value FROM json_each($1))")
                    .bind(chats_json.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            let mut last_seq: HashMap<ChatId, Seq> = HashMap::with_capacity(chats.len());
            let mut job_titles: HashMap<ChatId, String> = HashMap::with_capacity(chats.len());
            let mut heads: HashMap<ChatId, String> = HashMap::with_capacity(chats.len());
            for (chat, seq, title, head) in sqlx::query_as::<_, (i64, i64, String, Option<String>)>(sql.lock)
                .bind(chats_json.as_str())
                .fetch_all(&mut *tx)
                .await?
            {
                last_seq.insert(chat, seq);
                job_titles.insert(chat, title);
                heads.insert(chat, head.unwrap_or_else(|| chain::GENESIS.to_owned()));
            }
            // Each sender that is a participant, with the name and role its
            // messages carry.
            let members: HashMap<(ChatId, UserId), (String, String)> =
                sqlx::query_as::<_, (i64, i64, String, String)>(sql.members)
                    .bind(pairs_json.as_str())
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(c, u, name, role)| ((c, u), (name, role)))
                    .collect();
            let mut known: HashMap<(ChatId, UserId, String), i64> =
                sqlx::query_as::<_, (i64, i64, String, i64)>(sql.existing)
                    .bind(keys_json.as_str())
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .map(|(c, u, k, id)| ((c, u, k), id))
                    .collect();

            // Decide each message: refused, a resend, or new with its seq.
            enum Plan { Refused, Known(i64), New(Seq), SameAs(usize) }
            let mut plan = Vec::with_capacity(batch.len());
            let mut first_of: HashMap<(ChatId, UserId, &str), usize> = HashMap::new();
            for (i, m) in batch.iter().enumerate() {
                let key = (m.chat_id, m.sender_id, m.client_id.as_str());
                plan.push(if !members.contains_key(&(m.chat_id, m.sender_id)) || !last_seq.contains_key(&m.chat_id) {
                    Plan::Refused
                } else if let Some(id) = known.get(&(m.chat_id, m.sender_id, m.client_id.clone())) {
                    Plan::Known(*id)
                } else if let Some(&first) = first_of.get(&key) {
                    Plan::SameAs(first)
                } else {
                    first_of.insert(key, i);
                    let seq = last_seq.get_mut(&m.chat_id).map(|s| { *s += 1; *s }).unwrap_or_default();
                    Plan::New(seq)
                });
            }

            // Every new message in one INSERT, each with its chain link
            // (the plan numbers a chat's messages in batch order, so
            // each link follows the one before).
            let user = MessageKind::User.as_str();
            let new_rows: Vec<serde_json::Value> = plan
                .iter()
                .enumerate()
                .filter_map(|(i, p)| match p {
                    Plan::New(seq) => {
                        let m = &batch[i];
                        let head = heads.entry(m.chat_id).or_insert_with(|| chain::GENESIS.to_owned());
                        let link = chain::next(head, &chain::Link {
                            chat: m.chat_id,
                            seq: *seq,
                            kind: user,
                            change: None,
                            target: None,
                            sender: Some(m.sender_id),
                            at,
                            text: m.original.as_deref().unwrap_or(&m.content),
                            event: None,
                        });
                        head.clone_from(&link);
                        Some(json!({"c": m.chat_id, "q": seq, "s": m.sender_id, "t": m.content, "k": m.client_id, "o": m.original, "h": link}))
                    }
                    _ => None,
                })
                .collect();
            let mut new_ids: HashMap<(ChatId, Seq), i64> = HashMap::with_capacity(new_rows.len());
            if !new_rows.is_empty() {
                let rows = sqlx::query_as::<_, (i64, i64, i64)>(sql.insert)
                    .bind(serde_json::Value::Array(new_rows).to_string())
                    .bind(at)
                    .bind(user)
                    .fetch_all(&mut *tx)
                    .await?;
                for (c, seq, id) in rows {
                    new_ids.insert((c, seq), id);
                }
            }
            // Each chat that got messages: its newest seq and message.
            let mut newest: HashMap<ChatId, (Seq, i64)> = HashMap::new();
            for (&(c, seq), &id) in &new_ids {
                let e = newest.entry(c).or_insert((seq, id));
                if seq > e.0 {
                    *e = (seq, id);
                }
            }
            if !newest.is_empty() {
                let rows: Vec<serde_json::Value> = newest
                    .iter()
                    .map(|(c, (q, i))| json!({"c": c, "q": q, "i": i, "h": heads.get(c)}))
                    .collect();
                sqlx::query(sql.pointers)
                    .bind(serde_json::Value::Array(rows).to_string())
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }

            // Each message's id, and whether this call stored it.
            let mut outcome: Vec<Option<(i64, bool)>> = Vec::with_capacity(batch.len());
            for (i, p) in plan.iter().enumerate() {
                outcome.push(match p {
                    Plan::Refused => None,
                    Plan::Known(id) => Some((*id, false)),
                    Plan::New(seq) => {
                        let id = new_ids.get(&(batch[i].chat_id, *seq)).copied().ok_or_else(|| {
                            StorageError::Corrupt(format!("message {} of chat {} not stored", seq, batch[i].chat_id))
                        })?;
                        known.insert((batch[i].chat_id, batch[i].sender_id, batch[i].client_id.clone()), id);
                        Some((id, true))
                    }
                    Plan::SameAs(first) => outcome[*first].map(|(id, _)| (id, false)),
                });
            }

            // SQLite's search index, in one statement (PostgreSQL's stored
            // column follows the text by itself).
            if matches!(self, Db::Sqlite(_)) && !new_ids.is_empty() {
                let words: Vec<serde_json::Value> = plan
                    .iter()
                    .zip(&outcome)
                    .enumerate()
                    .filter_map(|(i, (p, o))| match (p, o) {
                        (Plan::New(_), Some((id, true))) => {
                            Some(json!({"i": id, "w": chat_words(batch[i].chat_id, &batch[i].content)}))
                        }
                        _ => None,
                    })
                    .collect();
                sqlx::query(
                    "INSERT INTO message_words (rowid, words) \
                     SELECT x.value->>'i', x.value->>'w' FROM json_each($1) AS x",
                )
                .bind(serde_json::Value::Array(words).to_string())
                .execute(&mut *tx)
                .await?;
            }

            // Every message of the batch as clients see it: the new ones
            // from what was just written (no read back), the resends from
            // the database, in one query.
            let mut by_id = HashMap::with_capacity(batch.len());
            for (i, p) in plan.iter().enumerate() {
                let (Plan::New(seq), Some(Some((id, _)))) = (p, outcome.get(i)) else { continue };
                let m = &batch[i];
                let (name, role) = members.get(&(m.chat_id, m.sender_id)).cloned().unzip();
                let row = MessageRow {
                    id: *id,
                    chat_id: m.chat_id,
                    seq: *seq,
                    sender_id: Some(m.sender_id),
                    sender_name: name,
                    sender_role: role,
                    content: m.content.clone(),
                    client_id: Some(m.client_id.clone()),
                    kind: MessageKind::User.as_str().to_owned(),
                    event: None,
                    created_at: at,
                    change: None,
                    target_id: None,
                    revised_seq: None,
                    edited_at: None,
                    deleted_at: None,
                    masked: m.original.is_some(),
                    hidden: false,
                };
                by_id.insert(*id, Message::try_from(row)?);
            }
            let resent: Vec<i64> = outcome
                .iter()
                .flatten()
                .filter(|(id, _)| !by_id.contains_key(id))
                .map(|(id, _)| *id)
                .collect();
            if !resent.is_empty() {
                let rows = sqlx::query_as::<_, MessageRow>(&sql.read_back)
                    .bind(json!(resent).to_string())
                    .fetch_all(&mut *tx)
                    .await?;
                for row in rows {
                    by_id.insert(row.id, Message::try_from(row)?);
                }
            }

            // The bells: per chat and sender, the count of new messages and
            // the newest one (the batch is in seq order within each chat).
            let mut groups: Vec<BellGroup<'_>> = Vec::new();
            for o in &outcome {
                let Some((id, true)) = o else { continue };
                let Some(m) = by_id.get(id) else { continue };
                let Some(sender) = m.sender_id else { continue };
                match groups.iter_mut().find(|g| g.chat == m.chat_id && g.sender == sender) {
                    Some(g) => {
                        g.count += 1;
                        if m.seq > g.newest.seq {
                            g.newest = m;
                        }
                    }
                    None => groups.push(BellGroup { chat: m.chat_id, sender, count: 1, newest: m }),
                }
            }
            let mut bells = Vec::new();
            if !groups.is_empty() {
                // One upsert per round; a round holds at most one group per
                // chat, or one statement would bump the same row twice.
                let mut rounds: Vec<Vec<serde_json::Value>> = Vec::new();
                let mut seen: HashMap<ChatId, usize> = HashMap::new();
                for g in &groups {
                    let round = seen.entry(g.chat).or_insert(0);
                    if rounds.len() <= *round {
                        rounds.push(Vec::new());
                    }
                    let job = job_titles.get(&g.chat).map_or("", String::as_str);
                    let sender = g.newest.sender_name.as_deref().unwrap_or_default();
                    let text = (wording.compose)(sender, job, g.count, &g.newest.content);
                    rounds[*round].push(json!({
                        "c": g.chat, "s": g.sender, "n": g.count, "q": g.newest.seq,
                        "t": text.title, "sfx": text.suffix, "b": text.body,
                    }));
                    *round += 1;
                }
                for round in rounds {
                    let rows = sqlx::query_as::<_, BellRow>(&sql.bells)
                        .bind(serde_json::Value::Array(round).to_string())
                        .bind(at)
                        .fetch_all(&mut *tx)
                        .await?;
                    bells.extend(rows.into_iter().map(|r| Bell {
                        user_id: r.user_id,
                        notification: r.notification.into(),
                    }));
                }
                if let Some(after) = email_after {
                    let due = at + chrono::TimeDelta::from_std(after).unwrap_or_default();
                    let senders: Vec<serde_json::Value> =
                        groups.iter().map(|g| json!({"c": g.chat, "s": g.sender})).collect();
                    schedule_emails_tx!(tx, self, serde_json::Value::Array(senders).to_string(), due, at);
                }
            }
            tx.commit().await?;
            if batch.iter().any(|m| m.attachments) {
                let mut with_files: Vec<Message> = by_id.values().cloned().collect();
                self.fill_attachments(&mut with_files).await?;
                by_id.extend(with_files.into_iter().map(|m| (m.id, m)));
            }
            let results = outcome
                .into_iter()
                .map(|o| match o {
                    None => Ok(None),
                    Some((id, created)) => by_id
                        .get(&id)
                        .cloned()
                        .map(|message| Some(SentMessage { message, created }))
                        .ok_or_else(|| StorageError::Corrupt(format!("message {id} vanished"))),
                })
                .collect::<Result<_>>()?;
            Ok(StoredBatch { results, bells })
        })
    }
}
