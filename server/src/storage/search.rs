//! Search over the messages a user may read: SQLite's FTS5 index keyed by
//! chat (`message_words`, migration 0012, written here as messages are
//! stored, edited and deleted) or PostgreSQL's stored `messages.search`
//! tsvector (the 'simple' configuration, NULL for system lines) and its GIN
//! index (migration 0009). Both get the query as words only
//! (`SearchQuery`): every word must occur, the last one also as a prefix.
//!
//! What a user may read is what `list_messages` serves them: the chats they
//! take part in, and in a chat they left (an LSM after settling) only up to
//! `left_seq`. System lines are not indexed.

use super::messages::MessageRow;
use super::{Db, Result};
use contract::model::{ChatId, Message, SearchHit, UserId};
use contract::validate::SearchQuery;

#[derive(sqlx::FromRow)]
struct HitRow {
    #[sqlx(flatten)]
    message: MessageRow,
    job_title: String,
    /// bm25 on SQLite (lower is better), ts_rank on PostgreSQL.
    rank: f64,
}

/// The columns of a hit: `MESSAGE_SELECT`'s, and the chat's job title.
const HIT_COLUMNS: &str = "m.id, m.chat_id, m.seq, m.sender_id, u.name AS sender_name, \
     u.role AS sender_role, m.content, m.client_id, m.kind, m.event, m.created_at, \
     m.revised_seq, m.edited_at, m.deleted_at, m.original IS NOT NULL AS masked, j.title AS job_title";

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

/// SQLite's index (`message_words`, migration 0012) holds each word of a
/// message as one token `c<chat>x<word>`, so a word's entries are kept per
/// chat and a search reads only the caller's chats' entries, whatever the
/// size of the archive. (One token per word and chat, instead of the word
/// and the chat as two columns: FTS5 then had to walk the word's entries in
/// every chat, which grows with the archive: 38 ms p50 on 2,000,000
/// messages against 7 ms at 1/100, docs/benchmarks.md.) Words are what
/// `SearchQuery` takes from a query: runs of letters and digits, lowercase.
/// The chat's digits end at the first `x`, so no two chats' tokens meet.
pub(super) fn chat_words(chat: ChatId, text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("c{chat}x{}", word.to_lowercase()));
    }
    out
}

/// On SQLite a match names each of the caller's chats for each word, at
/// most this many chats per match; a caller in more (an LSM) is searched a
/// match per this many chats, and the hits merged by rank (bm25 scores a
/// message by its own tokens, so scores from two matches compare).
const FTS5_CHATS_PER_MATCH: usize = 500;

/// The chats searched for one caller on SQLite: their newest this many.
/// Beyond it a search would cost more than an answer is worth; an LSM
/// in more chats than this finds older cases through the dispute's chat.
pub(super) const FTS5_CHATS_MAX: i64 = 20_000;

/// `("c3xkitchen" OR "c14xkitchen") AND ("c3xsin"* OR "c14xsin"*)` for
/// FTS5: each word in each of the caller's chats, as quoted strings (chat
/// ids and words hold only letters and digits, so nothing in them is
/// syntax), every word required, the last also as a prefix. A message's
/// tokens all carry its own chat, so a hit has every word in one message.
fn fts5_match(q: &SearchQuery, chats: &[i64]) -> String {
    join_words(q, " AND ", |w, last| {
        let star = if last { "*" } else { "" };
        let terms: Vec<String> = chats
            .iter()
            .map(|c| format!("\"c{c}x{w}\"{star}"))
            .collect();
        format!("({})", terms.join(" OR "))
    })
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

/// Puts a message's words into SQLite's index (its text as stored, an
/// empty one too, so that a later 'delete' always finds what was put in).
macro_rules! index_words_tx {
    ($tx:expr, $id:expr, $chat:expr, $text:expr) => {
        sqlx::query("INSERT INTO message_words (rowid, words) VALUES ($1, $2)")
            .bind($id)
            .bind($crate::storage::search::chat_words($chat, $text))
            .execute(&mut *$tx)
            .await?
    };
}
pub(super) use index_words_tx;

/// Takes a message's words out of SQLite's index: FTS5's 'delete' command
/// with exactly the tokens put in (`text` is the message's stored text).
macro_rules! unindex_words_tx {
    ($tx:expr, $id:expr, $chat:expr, $text:expr) => {
        sqlx::query(
            "INSERT INTO message_words (message_words, rowid, words) VALUES ('delete', $1, $2)",
        )
        .bind($id)
        .bind($crate::storage::search::chat_words($chat, $text))
        .execute(&mut *$tx)
        .await?
    };
}
pub(super) use unindex_words_tx;

/// Messages indexed per transaction by `reindex_words`.
const REINDEX_BATCH: i64 = 5_000;

/// Indexes, on SQLite, the messages stored before migration 0012 made the
/// server write the index: from `search_reindex.next_id` on, a batch per
/// transaction (a crash resumes where it stopped), then drops the marker.
/// Runs in `Db::migrate`, before the server serves anyone, so no message
/// is stored meanwhile.
pub(super) async fn reindex_words(pool: &sqlx::SqlitePool) -> Result<()> {
    loop {
        let mut tx = pool.begin().await?;
        let next: Option<(i64,)> = sqlx::query_as("SELECT next_id FROM search_reindex")
            .fetch_optional(&mut *tx)
            .await?;
        let Some((next,)) = next else {
            return Ok(());
        };
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT id, chat_id, content FROM messages \
             WHERE id > $1 AND kind = 'user' AND target_id IS NULL ORDER BY id LIMIT $2",
        )
        .bind(next)
        .bind(REINDEX_BATCH)
        .fetch_all(&mut *tx)
        .await?;
        match rows.last() {
            None => {
                sqlx::query("DELETE FROM search_reindex")
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                tracing::info!("search index rebuilt");
                return Ok(());
            }
            Some(&(last, _, _)) => {
                for (id, chat, text) in &rows {
                    index_words_tx!(tx, id, *chat, text);
                }
                sqlx::query("UPDATE search_reindex SET next_id = $1")
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
    }
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
        let rows: Vec<HitRow> = match self {
            Db::Sqlite(pool) => {
                let chats: Vec<(i64,)> = sqlx::query_as(
                    "SELECT chat_id FROM chat_participants WHERE user_id = $1 \
                     ORDER BY chat_id DESC LIMIT $2",
                )
                .bind(user)
                .bind(FTS5_CHATS_MAX)
                .fetch_all(pool)
                .await?;
                let ids: Vec<i64> = chats.into_iter().map(|(id,)| id).collect();
                let sql = format!(
                    "SELECT {HIT_COLUMNS}, bm25(message_words) AS rank FROM message_words f \
                     JOIN messages m ON m.id = f.rowid {READABLE} \
                     WHERE message_words MATCH $2 AND m.kind = 'user' \
                       AND (p.left_seq IS NULL OR m.seq <= p.left_seq) \
                     ORDER BY rank, m.id DESC LIMIT $3"
                );
                let mut rows: Vec<HitRow> = Vec::new();
                for chunk in ids.chunks(FTS5_CHATS_PER_MATCH) {
                    let found: Vec<HitRow> = sqlx::query_as(&sql)
                        .bind(user)
                        .bind(fts5_match(q, chunk))
                        .bind(offset + limit)
                        .fetch_all(pool)
                        .await?;
                    rows.extend(found);
                }
                // Best first (bm25: lower is better), then newest.
                rows.sort_by(|a, b| {
                    a.rank
                        .total_cmp(&b.rank)
                        .then(b.message.id.cmp(&a.message.id))
                });
                rows.into_iter()
                    .skip(offset.max(0) as usize)
                    .take(limit.max(0) as usize)
                    .collect()
            }
            Db::Postgres(pool) => {
                let sql = format!(
                    "SELECT {HIT_COLUMNS}, CAST(ts_rank(m.search, query) AS DOUBLE PRECISION) AS rank \
                     FROM messages m {READABLE}, to_tsquery('simple', $2) query \
                     WHERE m.search @@ query \
                       AND (p.left_seq IS NULL OR m.seq <= p.left_seq) \
                     ORDER BY rank DESC, m.id DESC \
                     LIMIT $3 OFFSET $4"
                );
                sqlx::query_as(&sql)
                    .bind(user)
                    .bind(tsquery(q))
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await?
            }
        };
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
            fts5_match(&q, &[3, 14]),
            "(\"c3xkitchen\" OR \"c14xkitchen\") AND (\"c3xsin\" OR \"c14xsin\") \
             AND (\"c3xk\" OR \"c14xk\") AND (\"c3xor\" OR \"c14xor\") \
             AND (\"c3xnear\"* OR \"c14xnear\"*)"
        );
        assert_eq!(tsquery(&q), "kitchen & sin & k & or & near:*");
    }

    #[test]
    fn indexed_words_are_the_query_words_keyed_by_chat() {
        assert_eq!(
            chat_words(12, "Boiler/sink, ÄRGER\n3.5 bar — ok"),
            "c12xboiler c12xsink c12xärger c12x3 c12x5 c12xbar c12xok"
        );
        assert_eq!(chat_words(1, " ,; "), "");
        // Chat 1's "2xa" and chat 12's "a" stay apart.
        assert_ne!(chat_words(1, "2xa"), chat_words(12, "a"));
        let q = SearchQuery::parse("ärger").expect("valid");
        assert!(chat_words(12, "Ärger!").contains(&format!("c12x{}", q.words()[0])));
    }
}
