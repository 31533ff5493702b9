//! Search over the messages a user may read: SQLite's FTS5 index
//! (`messages_fts`) or PostgreSQL's stored `messages.search` tsvector (the
//! 'simple' configuration, NULL for system lines) and its GIN index
//! (migrations 0009). Both get the query as words only
//! (`SearchQuery`): every word must occur, the last one also as a prefix.
//!
//! What a user may read is what `list_messages` serves them: the chats they
//! take part in, and in a chat they left (an LSM after settling) only up to
//! `left_seq`. System lines are not indexed.

use super::messages::MessageRow;
use super::{Db, Result, on_pool};
use contract::model::{Message, SearchHit, UserId};
use contract::validate::SearchQuery;

#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    message: MessageRow,
    job_title: String,
}

/// The columns of a hit: `MESSAGE_SELECT`'s, and the chat's job title.
const HIT_COLUMNS: &str = "m.id, m.chat_id, m.seq, m.sender_id, u.name AS sender_name, \
     u.role AS sender_role, m.content, m.client_id, m.kind, m.event, m.created_at, \
     m.revised_seq, m.edited_at, m.deleted_at, j.title AS job_title";

/// The chats the user reads, and how far: joined to `m`.
const READABLE: &str = "JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = $1 \
     JOIN chats c ON c.id = m.chat_id JOIN jobs j ON j.id = c.job_id \
     LEFT JOIN users u ON u.id = m.sender_id";

/// The query's words joined by `and`, each written by `word(w, is_last)`.
fn join_words(q: &SearchQuery, and: &str, word: impl Fn(&str, bool) -> String) -> String {
    let last = q.words().len().saturating_sub(1);
    q.words()
        .iter()
        .enumerate()
        .map(|(i, w)| word(w, i == last))
        .collect::<Vec<_>>()
        .join(and)
}

/// Callers in at most this many chats name them inside the FTS5 match, so
/// it reads only their entries; for many more, naming them costs more than
/// it saves (scripts/search-probe, 2,000,000 messages, a common word: 20
/// chats 10 ms named against 116 ms not; 5,000 chats 446 ms against 111 ms).
/// The bound lies between those two points.
const FTS5_CHAT_FILTER_MAX: usize = 1_000;

/// `content : ("kitchen" "sin"*)` for FTS5, each word a quoted string (the
/// words hold only letters and digits, so nothing in them is syntax), and
/// with `chats`, `chat : (c1 OR c2) AND …` first.
fn fts5_match(q: &SearchQuery, chats: Option<&[i64]>) -> String {
    let words = join_words(q, " ", |w, last| {
        if last {
            format!("\"{w}\"*")
        } else {
            format!("\"{w}\"")
        }
    });
    match chats {
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(|id| format!("c{id}")).collect();
            format!("chat : ({}) AND content : ({words})", ids.join(" OR "))
        }
        None => format!("content : ({words})"),
    }
}

/// `kitchen & sin:*` for PostgreSQL's `to_tsquery` (the same words, the
/// same rule).
fn tsquery(q: &SearchQuery) -> String {
    join_words(
        q,
        " & ",
        |w, last| {
            if last { format!("{w}:*") } else { w.to_owned() }
        },
    )
}

impl Db {
    /// Up to `limit` messages matching `q` that `user` may read, best
    /// first (then newest), skipping the first `offset`.
    pub async fn search_messages(
        &self,
        user: UserId,
        q: &SearchQuery,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<SearchHit>> {
        let (sql, text) = match self {
            Db::Sqlite(pool) => {
                let chats: Vec<(i64,)> = sqlx::query_as(
                    "SELECT chat_id FROM chat_participants WHERE user_id = $1 LIMIT $2",
                )
                .bind(user)
                .bind(FTS5_CHAT_FILTER_MAX as i64 + 1)
                .fetch_all(pool)
                .await?;
                if chats.is_empty() {
                    return Ok(Vec::new());
                }
                let ids: Vec<i64> = chats.into_iter().map(|(id,)| id).collect();
                let filter = (ids.len() <= FTS5_CHAT_FILTER_MAX).then_some(ids.as_slice());
                (
                    format!(
                        "SELECT {HIT_COLUMNS} FROM messages_fts f \
                     JOIN messages m ON m.id = f.rowid {READABLE} \
                     WHERE messages_fts MATCH $2 AND m.kind = 'user' \
                       AND (p.left_seq IS NULL OR m.seq <= p.left_seq) \
                     ORDER BY bm25(messages_fts, 1.0, 0.0), m.id DESC LIMIT $3 OFFSET $4"
                    ),
                    fts5_match(q, filter),
                )
            }
            Db::Postgres(_) => (
                format!(
                    "SELECT {HIT_COLUMNS} FROM messages m {READABLE}, \
                       to_tsquery('simple', $2) query \
                     WHERE m.search @@ query \
                       AND (p.left_seq IS NULL OR m.seq <= p.left_seq) \
                     ORDER BY ts_rank(m.search, query) DESC, m.id DESC \
                     LIMIT $3 OFFSET $4"
                ),
                tsquery(q),
            ),
        };
        let rows: Vec<HitRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user)
                .bind(&text)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|r| {
                let message = Message::try_from(r.message)?;
                Ok(SearchHit {
                    chat_id: message.chat_id,
                    job_title: r.job_title,
                    highlights: contract::model::TextRange::highlights(q, &message.content),
                    message,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_quoted_words_the_last_a_prefix() {
        let q = SearchQuery::parse("Kitchen sin\"k OR NEAR(").expect("valid");
        assert_eq!(
            fts5_match(&q, None),
            "content : (\"kitchen\" \"sin\" \"k\" \"or\" \"near\"*)"
        );
        assert_eq!(
            fts5_match(&q, Some(&[3, 14])),
            "chat : (c3 OR c14) AND content : (\"kitchen\" \"sin\" \"k\" \"or\" \"near\"*)"
        );
        assert_eq!(tsquery(&q), "kitchen & sin & k & or & near:*");
    }
}
