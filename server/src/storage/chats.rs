//! Jobs and their chats: booking (job + chat + participants in one
//! transaction), membership, and the chat list.

use super::message_inserts::insert_system_message_tx;
use super::messages::{MessageRow, fetch_message_tx};
use super::{Db, Result, StorageError, now, on_pool};
use chrono::{DateTime, Utc};
use contract::model::{
    ChatId, ChatSummary, DisputeRef, DisputeStatus, Message, MessageId, Participant, Role, Seq,
    UserId,
};
use std::collections::HashMap;

/// Someone's place in a chat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    /// The chat's seq when they left it (an LSM whose dispute was
    /// settled); `None` while they are in it.
    pub left_seq: Option<Seq>,
}

pub struct BookedJob {
    pub job_id: i64,
    pub chat_id: ChatId,
    /// The system message that opens the chat.
    pub message: Message,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    id: i64,
    job_id: i64,
    job_title: String,
    job_status: String,
    job_confirmed: bool,
    muted: bool,
    lsm_invited: bool,
    last_seq: i64,
    /// Set when the caller left the chat (an LSM after the dispute).
    left_seq: Option<i64>,
    unread_count: i64,
    dispute_id: Option<i64>,
    dispute_status: Option<String>,
    // The last message, flattened (NULL when the chat has none).
    m_id: Option<i64>,
    m_seq: Option<i64>,
    m_sender_id: Option<i64>,
    m_sender_name: Option<String>,
    m_sender_role: Option<String>,
    m_content: Option<String>,
    m_client_id: Option<String>,
    m_kind: Option<String>,
    m_event: Option<String>,
    m_created_at: Option<DateTime<Utc>>,
    m_revised_seq: Option<i64>,
    m_edited_at: Option<DateTime<Utc>>,
    m_deleted_at: Option<DateTime<Utc>>,
    #[sqlx(default)]
    m_masked: Option<bool>,
    #[sqlx(default)]
    m_hidden: Option<bool>,
}

#[derive(sqlx::FromRow)]
struct ParticipantRow {
    chat_id: i64,
    id: i64,
    name: String,
    role: String,
    last_read_message_id: i64,
    last_read_seq: i64,
}

/// Most chats one page of the chat list holds.
pub const MAX_CHAT_PAGE: i64 = 200;

/// Which page of a user's chat list: those before `before` (the last
/// message id and chat id of the previous page's last row), at most
/// `limit` (1–`MAX_CHAT_PAGE`).
#[derive(Clone, Copy, Debug)]
pub struct ChatPage {
    pub before: Option<(MessageId, ChatId)>,
    pub limit: i64,
}

impl ChatPage {
    /// The newest chats, as many as a page holds (the browser's list).
    pub fn newest() -> Self {
        Self {
            before: None,
            limit: MAX_CHAT_PAGE,
        }
    }
}

impl Db {
    /// Books a job: the job, its chat, both participants and the opening
    /// system message (`opening`, written by the caller), all or nothing.
    pub async fn book_job(
        &self,
        customer_id: UserId,
        provider_id: UserId,
        title: &str,
        description: &str,
        opening: &str,
        opening_event: &contract::model::SystemEvent,
    ) -> Result<BookedJob> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let at = now();
            let (job_id,): (i64,) = sqlx::query_as(
                "INSERT INTO jobs (customer_id, provider_id, title, description, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(customer_id)
            .bind(provider_id)
            .bind(title)
            .bind(description)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
            let (chat_id,): (i64,) =
                sqlx::query_as("INSERT INTO chats (job_id, created_at) VALUES ($1, $2) RETURNING id")
                    .bind(job_id)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?;
            for (user, role) in [(customer_id, Role::Customer), (provider_id, Role::Provider)] {
                sqlx::query(
                    "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(chat_id)
                .bind(user)
                .bind(role.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            let id = insert_system_message_tx!(tx, chat_id, opening, opening_event);
            let message = fetch_message_tx!(tx, id);
            tx.commit().await?;
            Ok(BookedJob { job_id, chat_id, message })
        })
    }

    /// The user's place in the chat, or `None` when they were never in it.
    pub async fn membership(&self, chat_id: ChatId, user_id: UserId) -> Result<Option<Membership>> {
        let row: Option<(String, Option<i64>)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT role, left_seq FROM chat_participants WHERE chat_id = $1 AND user_id = $2")
                .bind(chat_id)
                .bind(user_id)
                .fetch_optional(pool)
                .await?
        });
        Ok(row.and_then(|(r, left_seq)| {
            Some(Membership {
                role: Role::parse(&r)?,
                left_seq,
            })
        }))
    }

    pub async fn chat_job_title(&self, chat_id: ChatId) -> Result<String> {
        let row: (String,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT j.title FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id = $1")
                .bind(chat_id)
                .fetch_one(pool)
                .await?
        });
        Ok(row.0)
    }

    /// Everyone in a chat now, those who left aside (online flags are
    /// filled in by the caller).
    pub async fn chat_participants(&self, chat_id: ChatId) -> Result<Vec<Participant>> {
        let rows: Vec<ParticipantRow> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT p.chat_id, u.id, u.name, p.role, p.last_read_message_id, p.last_read_seq FROM chat_participants p \
                 JOIN users u ON u.id = p.user_id WHERE p.chat_id = $1 AND p.left_seq IS NULL \
                 ORDER BY p.joined_at, u.id",
            )
            .bind(chat_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(participant).collect()
    }

    /// The ids of every chat the user is in.
    pub async fn chat_ids_of(&self, user_id: UserId) -> Result<Vec<ChatId>> {
        let rows: Vec<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as("SELECT chat_id FROM chat_participants WHERE user_id = $1")
                .bind(user_id)
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Everyone who shares at least one chat with the user now (for presence).
    pub async fn contacts_of(&self, user_id: UserId) -> Result<Vec<UserId>> {
        let rows: Vec<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT DISTINCT o.user_id FROM chat_participants me \
                 JOIN chat_participants o ON o.chat_id = me.chat_id \
                 WHERE me.user_id = $1 AND o.user_id <> $1 \
                 AND me.left_seq IS NULL AND o.left_seq IS NULL",
            )
            .bind(user_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The caller's newest chats (`MAX_CHAT_PAGE`), as `list_chats_page`.
    pub async fn list_chats(&self, user_id: UserId) -> Result<Vec<ChatSummary>> {
        self.list_chats_page(user_id, ChatPage::newest()).await
    }

    /// A page of the caller's chats, most recent activity first (by the
    /// id of the last message they see, then the chat id), in two queries
    /// however many chats there are. `online` is left false for the caller
    /// to fill. A chat the caller left shows as it was when they left (its
    /// last message, seq and unread count stop there) and lists only the
    /// people still in it. Unread counts other people's messages; system
    /// lines are not counted (nor do they ring the bell).
    pub async fn list_chats_page(
        &self,
        user_id: UserId,
        page: ChatPage,
    ) -> Result<Vec<ChatSummary>> {
        const CHATS: &str = "SELECT c.id, c.job_id, j.title AS job_title, j.status AS job_status, \
            j.confirmed_at IS NOT NULL AS job_confirmed, me.muted, c.lsm_invited, \
            COALESCE(me.left_seq, c.last_seq) AS last_seq, me.left_seq, \
            (SELECT COUNT(*) FROM messages x WHERE x.chat_id = c.id AND x.seq > me.last_read_seq \
               AND x.seq <= COALESCE(me.left_seq, x.seq) \
               AND x.sender_id IS NOT NULL AND x.sender_id <> me.user_id AND x.target_id IS NULL) AS unread_count, \
            d.id AS dispute_id, d.status AS dispute_status, \
            m.id AS m_id, m.seq AS m_seq, m.sender_id AS m_sender_id, u.name AS m_sender_name, u.role AS m_sender_role, \
            m.content AS m_content, m.client_id AS m_client_id, m.kind AS m_kind, m.event AS m_event, m.created_at AS m_created_at, \
            m.revised_seq AS m_revised_seq, m.edited_at AS m_edited_at, m.deleted_at AS m_deleted_at, \
            m.original IS NOT NULL AS m_masked, m.hidden_by IS NOT NULL AS m_hidden \
            FROM chat_participants me \
            JOIN chats c ON c.id = me.chat_id \
            JOIN jobs j ON j.id = c.job_id \
            LEFT JOIN messages m ON m.id = CASE WHEN me.left_seq IS NULL THEN c.last_message_id \
              ELSE (SELECT l.id FROM messages l WHERE l.chat_id = c.id AND l.seq = me.left_seq) END \
            LEFT JOIN users u ON u.id = m.sender_id \
            LEFT JOIN disputes d ON d.id = (SELECT MAX(dd.id) FROM disputes dd WHERE dd.chat_id = c.id) \
            WHERE me.user_id = $1 \
              AND ($2 IS NULL OR COALESCE(m.id, 0) < $2 OR (COALESCE(m.id, 0) = $2 AND c.id < $3)) \
            ORDER BY COALESCE(m.id, 0) DESC, c.id DESC LIMIT $4";
        // Only the page's chats' people.
        const PARTICIPANTS: &str = "SELECT p.chat_id, u.id, u.name, p.role, p.last_read_message_id, p.last_read_seq FROM chat_participants p \
            JOIN users u ON u.id = p.user_id \
            WHERE p.chat_id IN (SELECT CAST(t.value AS BIGINT) FROM json_each($1) AS t) AND p.left_seq IS NULL \
            ORDER BY p.chat_id, p.joined_at, u.id";
        const PARTICIPANTS_PG: &str = "SELECT p.chat_id, u.id, u.name, p.role, p.last_read_message_id, p.last_read_seq FROM chat_participants p \
            JOIN users u ON u.id = p.user_id \
            WHERE p.chat_id = ANY(ARRAY(SELECT CAST(t.v AS BIGINT) FROM jsonb_array_elements_text(CAST($1 AS JSONB)) AS t(v))) \
              AND p.left_seq IS NULL \
            ORDER BY p.chat_id, p.joined_at, u.id";
        let (before_message, before_chat) = page.before.unzip();
        let limit = page.limit.clamp(1, MAX_CHAT_PAGE);
        let chats: Vec<ChatRow> = on_pool!(self, pool => {
            sqlx::query_as(CHATS)
                .bind(user_id)
                .bind(before_message)
                .bind(before_chat)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        let ids =
            serde_json::Value::from(chats.iter().map(|c| c.id).collect::<Vec<_>>()).to_string();
        let people: Vec<ParticipantRow> = match self {
            Db::Sqlite(pool) => {
                sqlx::query_as(PARTICIPANTS)
                    .bind(ids)
                    .fetch_all(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(PARTICIPANTS_PG)
                    .bind(ids)
                    .fetch_all(pool)
                    .await?
            }
        };
        let mut by_chat: HashMap<i64, Vec<Participant>> = HashMap::new();
        for p in people {
            let chat = p.chat_id;
            by_chat.entry(chat).or_default().push(participant(p)?);
        }
        chats
            .into_iter()
            .map(|c| {
                let last_message = match (c.m_id, c.m_seq, c.m_content, c.m_kind, c.m_created_at) {
                    (Some(id), Some(seq), Some(content), Some(kind), Some(created_at)) => {
                        Some(Message::try_from(MessageRow {
                            id,
                            chat_id: c.id,
                            seq,
                            sender_id: c.m_sender_id,
                            sender_name: c.m_sender_name,
                            sender_role: c.m_sender_role,
                            content,
                            client_id: c.m_client_id,
                            kind,
                            event: c.m_event,
                            created_at,
                            // The list's last message is never a change row.
                            change: None,
                            target_id: None,
                            revised_seq: c.m_revised_seq,
                            edited_at: c.m_edited_at,
                            deleted_at: c.m_deleted_at,
                            masked: c.m_masked.unwrap_or(false),
                            hidden: c.m_hidden.unwrap_or(false),
                        })?)
                    }
                    _ => None,
                };
                let dispute = match (
                    c.dispute_id,
                    c.dispute_status.as_deref().and_then(DisputeStatus::parse),
                ) {
                    (Some(id), Some(status)) => Some(DisputeRef { id, status }),
                    _ => None,
                };
                Ok(ChatSummary {
                    id: c.id,
                    job_id: c.job_id,
                    job_title: c.job_title,
                    job_status: super::jobs::job_status(&c.job_status, c.job_confirmed)?,
                    muted: c.muted,
                    participants: by_chat.remove(&c.id).unwrap_or_default(),
                    lsm_invited: c.lsm_invited,
                    dispute,
                    last_message,
                    last_seq: c.last_seq,
                    left: c.left_seq.is_some(),
                    unread_count: c.unread_count,
                })
            })
            .collect()
    }
}

fn participant(p: ParticipantRow) -> Result<Participant> {
    Ok(Participant {
        id: p.id,
        role: Role::parse(&p.role)
            .ok_or_else(|| StorageError::Corrupt(format!("role {:?}", p.role)))?,
        name: p.name,
        online: false,
        last_read_message_id: p.last_read_message_id,
        last_read_seq: p.last_read_seq,
    })
}

impl Db {
    /// Which of the `(chat, user)` pairs are participants now (not left):
    /// the live rooms' sweep takes everyone else out of them. One query
    /// per call; the caller passes at most a few hundred pairs.
    pub async fn current_members(
        &self,
        pairs: &[(ChatId, UserId)],
    ) -> Result<std::collections::HashSet<(ChatId, UserId)>> {
        if pairs.is_empty() {
            return Ok(Default::default());
        }
        let json = serde_json::Value::from(
            pairs
                .iter()
                .map(|(c, u)| serde_json::json!({ "c": c, "u": u }))
                .collect::<Vec<_>>(),
        )
        .to_string();
        let rows: Vec<(i64, i64)> = match self {
            Db::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT p.chat_id, p.user_id FROM json_each($1) AS x \
                     JOIN chat_participants p ON p.chat_id = x.value->>'c' AND p.user_id = x.value->>'u' \
                     WHERE p.left_seq IS NULL",
                )
                .bind(json)
                .fetch_all(pool)
                .await?
            }
            Db::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT p.chat_id, p.user_id FROM jsonb_to_recordset(CAST($1 AS JSONB)) AS x(c BIGINT, u BIGINT) \
                     CROSS JOIN LATERAL (SELECT q.chat_id, q.user_id FROM chat_participants q \
                       WHERE q.chat_id = x.c AND q.user_id = x.u AND q.left_seq IS NULL OFFSET 0) AS p",
                )
                .bind(json)
                .fetch_all(pool)
                .await?
            }
        };
        Ok(rows.into_iter().collect())
    }
}
