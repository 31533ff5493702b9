//! A synthetic archive for the scale benchmark (`server archive seed`,
//! docs/benchmarks.md): users, booked jobs with their chats, and years of
//! messages, written in bulk by the database itself (`generate_series` on
//! PostgreSQL, a recursive CTE on SQLite), a block of chats per
//! transaction. Never used by the product; it exists so that history,
//! search and the chat list are measured on the data they will meet.
//!
//! Shape: half the users are customers, half providers, plus one LSM in the
//! first `LSM_CHATS` chats; chat `c` is customer `c mod customers`'s job
//! with a provider; each chat holds `per_chat` messages, and every
//! `LONG_EVERY`th chat ten times as many (the long chats deep history is
//! read from, each a different customer's). A message is eight words of a job vocabulary picked by
//! arithmetic on (chat, seq), so runs are repeatable; times run back two
//! years from now, one chat after another.

use super::{Db, Result, on_pool};

/// Indexes the archive's messages of chats `$1..=$2` for search on SQLite.
const ARCHIVE_WORDS_SQLITE: &str = "INSERT INTO message_words (rowid, words) \
     SELECT id, 'c' || chat_id || 'x' || replace(content, ' ', ' c' || chat_id || 'x') \
     FROM messages WHERE chat_id BETWEEN $1 AND $2 AND kind = 'user' ORDER BY id";

/// One chat in this many is long (ten times the messages). Prime, so the
/// long chats' customers (`1 + chat mod customers`) are all different.
pub const LONG_EVERY: i64 = 997;
/// The archive's LSM takes part in the first this many chats.
pub const LSM_CHATS: i64 = 5000;
/// Chats written per transaction.
const BLOCK: i64 = 2000;

/// 108 words a job chat uses; each is in about 7% of messages.
const VOCABULARY: &str = "the a to and is for of on at it we you i can will be this that with your my have \
tomorrow today friday monday morning afternoon price quote invoice payment euros hours job work pipe tap leak \
boiler heater wall paint door window roof tile floor kitchen bathroom garden fence light socket wire fuse cable \
drain gutter ladder parts materials arrive late early delay cancel confirm booked address street number gate code \
parking key neighbour photo picture broken fixed done finished thanks please sorry okay great sure yes no maybe \
later soon week next last time start end half full total extra discount receipt warranty guarantee";

#[derive(Clone, Debug)]
pub struct ArchiveSpec {
    /// Customers and providers (half each); emails `archive-{n}@example.test`.
    pub users: i64,
    pub chats: i64,
    /// Messages in an ordinary chat.
    pub per_chat: i64,
    /// Every account's password hash (one hash: argon2 for millions of
    /// accounts would take hours).
    pub password_hash: String,
}

impl ArchiveSpec {
    /// Messages the spec writes.
    pub fn messages(&self) -> i64 {
        let long = self.chats / LONG_EVERY;
        (self.chats - long) * self.per_chat + long * self.per_chat * 10
    }
}

/// Lifts the pool's `statement_timeout` (5 s, `Db::connect`) for one
/// transaction: a block of 200,000 rows takes longer.
async fn no_time_limit(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) -> Result<()> {
    sqlx::query("SET LOCAL statement_timeout = 0")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The SQL expression of message `s` of chat `c`'s text: eight words.
fn words(c: &str, s: &str) -> String {
    let n = VOCABULARY.split(' ').count();
    (0..8)
        .map(|k| {
            format!(
                "v[1 + (({c} * {a} + {s} * {b} + {k}) % {n})]",
                a = 7 + 6 * k,
                b = 13 + 4 * k
            )
        })
        .collect::<Vec<_>>()
        .join(" || ' ' || ")
}

impl Db {
    /// Writes the archive into an empty database (after its migrations),
    /// calling `progress(chats_done)` after each block. `Conflict` when the
    /// database already has accounts (the archive's ids start at 1).
    pub async fn seed_archive(&self, spec: &ArchiveSpec, progress: impl Fn(i64)) -> Result<()> {
        let (accounts,): (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await?
        });
        if accounts > 0 {
            return Err(super::StorageError::Conflict(
                "the archive is written into an empty database only".into(),
            ));
        }
        let customers = (spec.users / 2).max(1);
        let providers = (spec.users - customers).max(1);
        let pg = matches!(self, Db::Postgres(_));
        let now = if pg {
            "now()"
        } else {
            "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let users = if pg {
                "INSERT INTO users (email, name, role, password_hash, created_at) \
                 SELECT 'archive-' || g || '@example.test', 'Archive user ' || g, \
                   CASE WHEN g <= $1 THEN 'customer' ELSE 'provider' END, $3, now() \
                 FROM generate_series(1, $1 + $2) g"
            } else {
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < $1 + $2) \
                 INSERT INTO users (email, name, role, password_hash, created_at) \
                 SELECT 'archive-' || n || '@example.test', 'Archive user ' || n, \
                   CASE WHEN n <= $1 THEN 'customer' ELSE 'provider' END, $3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM g"
            };
            sqlx::query(users).bind(customers).bind(providers).bind(&spec.password_hash).execute(&mut *tx).await?;
            sqlx::query(&format!(
                "INSERT INTO users (email, name, role, password_hash, created_at) \
                 VALUES ('archive-lsm@example.test', 'Archive LSM', 'lsm', $1, {now})"
            ))
            .bind(&spec.password_hash)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        let vocabulary = if pg {
            format!("string_to_array('{VOCABULARY}', ' ')")
        } else {
            String::new()
        };
        let mut done = 0;
        while done < spec.chats {
            let last = (done + BLOCK).min(spec.chats);
            self.seed_block(spec, customers, providers, done + 1, last, &vocabulary)
                .await?;
            done = last;
            progress(done);
        }
        match self {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                no_time_limit(&mut tx).await?;
                sqlx::query("ANALYZE").execute(&mut *tx).await?;
                tx.commit().await?;
            }
            Db::Sqlite(pool) => {
                sqlx::query("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    /// Chats `first..=last`: their jobs, chats, people and messages.
    async fn seed_block(
        &self,
        spec: &ArchiveSpec,
        customers: i64,
        providers: i64,
        first: i64,
        last: i64,
        vocabulary: &str,
    ) -> Result<()> {
        let total_minutes = 2 * 365 * 24 * 60;
        match self {
            Db::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                no_time_limit(&mut tx).await?;
                // Ids follow the chat number: the database is empty, and
                // identity columns count from 1.
                sqlx::query(
                    "INSERT INTO jobs (customer_id, provider_id, title, created_at) \
                     SELECT 1 + (g % $3), 1 + $3 + ((g * 7) % $4), 'Archive job ' || g, now() \
                     FROM generate_series($1, $2) g ORDER BY g",
                )
                .bind(first)
                .bind(last)
                .bind(customers)
                .bind(providers)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO chats (job_id, created_at, last_seq) \
                     SELECT g, now(), CASE WHEN g % $4 = 0 THEN $3 * 10 ELSE $3 END \
                     FROM generate_series($1, $2) g ORDER BY g",
                )
                .bind(first)
                .bind(last)
                .bind(spec.per_chat)
                .bind(LONG_EVERY)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO chat_participants (chat_id, user_id, role, joined_at, last_read_seq) \
                     SELECT c.id, j.customer_id, 'customer', now(), c.last_seq FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id BETWEEN $1 AND $2 \
                     UNION ALL SELECT c.id, j.provider_id, 'provider', now(), c.last_seq - 1 FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id BETWEEN $1 AND $2 \
                     UNION ALL SELECT c.id, (SELECT id FROM users WHERE role = 'lsm' ORDER BY id LIMIT 1), 'lsm', now(), 0 \
                       FROM chats c WHERE c.id BETWEEN $1 AND $2 AND c.id <= $3",
                )
                .bind(first)
                .bind(last)
                .bind(LSM_CHATS)
                .execute(&mut *tx)
                .await?;
                let sql = format!(
                    "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at) \
                     SELECT c.id, s, CASE WHEN s % 2 = 1 THEN j.customer_id ELSE j.provider_id END, 'user', \
                       {words}, 'archive-' || c.id || '-' || s, \
                       now() - make_interval(mins => CAST({total_minutes} - c.id * {total_minutes} / $3 AS INTEGER)) \
                         + make_interval(secs => s) \
                     FROM (SELECT {vocabulary} AS v) vocab, chats c JOIN jobs j ON j.id = c.job_id, \
                       generate_series(1, c.last_seq) s \
                     WHERE c.id BETWEEN $1 AND $2",
                    words = words("c.id", "s"),
                );
                sqlx::query(&sql)
                    .bind(first)
                    .bind(last)
                    .bind(spec.chats)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    // The archive's messages are written by the database,
                    // outside any hash chain: a chat's chain starts after them.
                    "UPDATE chats c SET last_message_id = m.id, last_message_at = m.created_at, chain_from_seq = c.last_seq + 1 \
                     FROM messages m WHERE m.chat_id = c.id AND m.seq = c.last_seq AND c.id BETWEEN $1 AND $2",
                )
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE chat_participants p SET last_read_message_id = m.id \
                     FROM messages m WHERE m.chat_id = p.chat_id AND m.seq = p.last_read_seq AND p.chat_id BETWEEN $1 AND $2",
                )
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
            Db::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query(
                    "WITH RECURSIVE g(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM g WHERE n < $2) \
                     INSERT INTO jobs (customer_id, provider_id, title, created_at) \
                     SELECT 1 + (n % $3), 1 + $3 + ((n * 7) % $4), 'Archive job ' || n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM g",
                )
                .bind(first)
                .bind(last)
                .bind(customers)
                .bind(providers)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "WITH RECURSIVE g(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM g WHERE n < $2) \
                     INSERT INTO chats (job_id, created_at, last_seq) \
                     SELECT n, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), CASE WHEN n % $4 = 0 THEN $3 * 10 ELSE $3 END FROM g",
                )
                .bind(first)
                .bind(last)
                .bind(spec.per_chat)
                .bind(LONG_EVERY)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO chat_participants (chat_id, user_id, role, joined_at, last_read_seq) \
                     SELECT c.id, j.customer_id, 'customer', c.created_at, c.last_seq FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id BETWEEN $1 AND $2 \
                     UNION ALL SELECT c.id, j.provider_id, 'provider', c.created_at, c.last_seq - 1 FROM chats c JOIN jobs j ON j.id = c.job_id WHERE c.id BETWEEN $1 AND $2 \
                     UNION ALL SELECT c.id, (SELECT id FROM users WHERE role = 'lsm' ORDER BY id LIMIT 1), 'lsm', c.created_at, 0 \
                       FROM chats c WHERE c.id BETWEEN $1 AND $2 AND c.id <= $3",
                )
                .bind(first)
                .bind(last)
                .bind(LSM_CHATS)
                .execute(&mut *tx)
                .await?;
                let words: Vec<&str> = VOCABULARY.split(' ').collect();
                let n = words.len();
                // SQLite has no arrays: the word is picked by a CASE on
                // its index, built once here.
                let pick = |expr: String| {
                    let arms: String = words
                        .iter()
                        .enumerate()
                        .map(|(i, w)| format!(" WHEN {i} THEN '{w}'"))
                        .collect();
                    format!("(CASE ({expr}) % {n}{arms} END)")
                };
                let text = (0..8)
                    .map(|k| pick(format!("c.id * {} + s.n * {} + {k}", 7 + 6 * k, 13 + 4 * k)))
                    .collect::<Vec<_>>()
                    .join(" || ' ' || ");
                let sql = format!(
                    "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < $3 * 10) \
                     INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at) \
                     SELECT c.id, s.n, CASE WHEN s.n % 2 = 1 THEN j.customer_id ELSE j.provider_id END, 'user', \
                       {text}, 'archive-' || c.id || '-' || s.n, \
                       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ({total_minutes} - c.id * {total_minutes} / $4) || ' minutes', '+' || s.n || ' seconds') \
                     FROM chats c JOIN jobs j ON j.id = c.job_id JOIN s ON s.n <= c.last_seq \
                     WHERE c.id BETWEEN $1 AND $2 ORDER BY c.id, s.n"
                );
                sqlx::query(&sql)
                    .bind(first)
                    .bind(last)
                    .bind(spec.per_chat)
                    .bind(spec.chats)
                    .execute(&mut *tx)
                    .await?;
                // The search index (the server writes it as it stores a
                // message): the archive's words are lowercase vocabulary
                // words joined by single spaces, so putting the chat's
                // `c<chat>x` before each is `chat_words` (a test holds the
                // two equal).
                sqlx::query(ARCHIVE_WORDS_SQLITE)
                    .bind(first)
                    .bind(last)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "UPDATE chats SET last_message_id = (SELECT m.id FROM messages m WHERE m.chat_id = chats.id AND m.seq = chats.last_seq), \
                     last_message_at = (SELECT m.created_at FROM messages m WHERE m.chat_id = chats.id AND m.seq = chats.last_seq), \
                     chain_from_seq = last_seq + 1 \
                     WHERE id BETWEEN $1 AND $2",
                )
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE chat_participants SET last_read_message_id = COALESCE((SELECT m.id FROM messages m \
                       WHERE m.chat_id = chat_participants.chat_id AND m.seq = chat_participants.last_read_seq), 0) \
                     WHERE chat_id BETWEEN $1 AND $2",
                )
                .bind(first)
                .bind(last)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
