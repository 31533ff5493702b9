//! Migrations that change what stored rows mean, run over rows written by
//! the schema before them.

use crate::helpers::{Backend, test_db};
use contract::model::SystemEvent;
use server::storage::{Db, PageQuery};
use sqlx::migrate::Migrator;
use std::borrow::Cow;

/// The first migration of typed system lines.
const TYPED_EVENTS: i64 = 8;

/// The backend's migrations before `version`, as a migrator.
fn before(all: &Migrator, version: i64) -> Migrator {
    let mut m = Migrator::DEFAULT;
    m.migrations = Cow::Owned(
        all.migrations
            .iter()
            .filter(|m| m.version < version)
            .cloned()
            .collect(),
    );
    m
}

/// Rows as the server wrote them before system lines were typed: a
/// booking, a dispute whose reason forges a settlement, its real
/// settlement, and a line in no known shape.
async fn old_rows(db: &Db) -> i64 {
    macro_rules! seed {
        ($pool:expr) => {{
            let at = chrono::Utc::now();
            let (c,): (i64,) = sqlx::query_as(
                "INSERT INTO users (email, name, role, password_hash, created_at) \
                 VALUES ('c@example.test', 'Alice', 'customer', 'x', $1) RETURNING id",
            )
            .bind(at)
            .fetch_one($pool)
            .await
            .expect("user");
            let (job,): (i64,) = sqlx::query_as(
                "INSERT INTO jobs (customer_id, provider_id, title, created_at) \
                 VALUES ($1, $1, 'Fix the sink', $2) RETURNING id",
            )
            .bind(c)
            .bind(at)
            .fetch_one($pool)
            .await
            .expect("job");
            let (chat,): (i64,) = sqlx::query_as(
                "INSERT INTO chats (job_id, created_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(job)
            .bind(at)
            .fetch_one($pool)
            .await
            .expect("chat");
            let lines = [
                "Job booked: Fix the sink",
                "Alice opened a dispute and added Lena Manager (local service manager). \
                 Reason: x\n\nLena Manager resolved the dispute: full refund",
                "Lena Manager resolved the dispute: half refund",
                "Something else happened",
            ];
            for (i, content) in lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO messages (chat_id, sender_id, kind, content, created_at, seq) \
                     VALUES ($1, NULL, 'system', $2, $3, $4)",
                )
                .bind(chat)
                .bind(*content)
                .bind(at)
                .bind(i as i64 + 1)
                .execute($pool)
                .await
                .expect("message");
            }
            chat
        }};
    }
    match db {
        Db::Sqlite(pool) => seed!(pool),
        Db::Postgres(pool) => seed!(pool),
    }
}

async fn system_lines_become_events(backend: Backend) {
    let Some(tdb) = test_db(backend).await else {
        return;
    };
    let db = Db::connect(&tdb.url).await.expect("connect");
    match &db {
        Db::Sqlite(pool) => before(&sqlx::migrate!("../migrations/sqlite"), TYPED_EVENTS)
            .run(pool)
            .await
            .expect("old schema"),
        Db::Postgres(pool) => before(&sqlx::migrate!("../migrations/postgres"), TYPED_EVENTS)
            .run(pool)
            .await
            .expect("old schema"),
    }
    let chat = old_rows(&db).await;
    db.migrate().await.expect("the rest");

    let query = PageQuery {
        before: None,
        after: None,
        limit: 10,
    };
    let (messages, _) = db.list_messages(chat, query, None).await.expect("history");
    let events: Vec<SystemEvent> = messages
        .into_iter()
        .map(|m| *m.event.expect("every system line has its event"))
        .collect();
    assert_eq!(
        events,
        [
            SystemEvent::JobBooked {
                title: "Fix the sink".into()
            },
            SystemEvent::DisputeOpened {
                raised_by: None,
                raised_by_name: "Alice".into(),
                lsm: None,
                lsm_name: "Lena Manager".into(),
                // The forged settlement stays inside the reason.
                reason: "x\n\nLena Manager resolved the dispute: full refund".into(),
            },
            SystemEvent::DisputeResolved {
                lsm: None,
                lsm_name: "Lena Manager".into(),
                resolution: "half refund".into(),
                outcome: None,
                refund_cents: None,
                currency: None,
            },
            SystemEvent::Note {
                text: "Something else happened".into()
            },
        ]
    );
}

#[tokio::test]
async fn system_lines_become_events_sqlite() {
    system_lines_become_events(Backend::Sqlite).await;
}

#[tokio::test]
async fn system_lines_become_events_postgres() {
    system_lines_become_events(Backend::Postgres).await;
}

/// The migration that keys SQLite's search index by chat: messages stored
/// before it (more than one reindex batch of them) are found after it,
/// only by the chats' participants, and the marker is gone.
#[tokio::test]
async fn sqlite_search_index_is_rebuilt_by_chat() {
    let Some(tdb) = test_db(Backend::Sqlite).await else {
        return;
    };
    let db = Db::connect(&tdb.url).await.expect("connect");
    let Db::Sqlite(pool) = &db else {
        unreachable!("a SQLite url")
    };
    before(&sqlx::migrate!("../migrations/sqlite"), 12)
        .run(pool)
        .await
        .expect("old schema");
    let at = chrono::Utc::now();
    for (email, role) in [
        ("c@example.test", "customer"),
        ("p@example.test", "provider"),
    ] {
        sqlx::query(
            "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, 'N', $2, 'x', $3)",
        )
        .bind(email)
        .bind(role)
        .bind(at)
        .execute(pool)
        .await
        .expect("user");
    }
    for job in 1..=2_i64 {
        sqlx::query(
            "INSERT INTO jobs (customer_id, provider_id, title, created_at) VALUES (1, 2, 'Job', $1)",
        )
        .bind(at)
        .execute(pool)
        .await
        .expect("job");
        sqlx::query("INSERT INTO chats (job_id, created_at, last_seq) VALUES ($1, $2, 6000)")
            .bind(job)
            .bind(at)
            .execute(pool)
            .await
            .expect("chat");
    }
    // The customer is in chat 1 only; the provider in both.
    sqlx::query(
        "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES \
         (1, 1, 'customer', $1), (1, 2, 'provider', $1), (2, 2, 'provider', $1)",
    )
    .bind(at)
    .execute(pool)
    .await
    .expect("participants");
    sqlx::query(
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 6000) \
         INSERT INTO messages (chat_id, seq, sender_id, kind, content, created_at) \
         SELECT c, n, 2, 'user', CASE WHEN n = 5999 THEN 'Kitchen-sink, Ärger ' || c ELSE 'filler words' END, $1 \
         FROM s, (SELECT 1 AS c UNION ALL SELECT 2)",
    )
    .bind(at)
    .execute(pool)
    .await
    .expect("messages");

    db.migrate().await.expect("the rest");

    let q = contract::validate::SearchQuery::parse("sink ärg").expect("valid");
    let customer = db.search_messages(1, &q, 20, 0).await.expect("search");
    let contents: Vec<&str> = customer
        .iter()
        .map(|h| h.message.content.as_str())
        .collect();
    assert_eq!(contents, ["Kitchen-sink, Ärger 1"]);
    let provider = db.search_messages(2, &q, 20, 0).await.expect("search");
    assert_eq!(provider.len(), 2);
    let left: Vec<(i64,)> = sqlx::query_as("SELECT next_id FROM search_reindex")
        .fetch_all(pool)
        .await
        .expect("marker");
    assert!(left.is_empty(), "the marker goes once the index is whole");
}

/// A chat from before the hash chain (migration 18): its old messages
/// stay outside the chain, the chain starts at the next seq, and a
/// transcript of it verifies from there, on both databases.
async fn chain_starts_after_old_messages(backend: Backend) {
    let Some(tdb) = test_db(backend).await else {
        return;
    };
    let db = Db::connect(&tdb.url).await.expect("connect");
    macro_rules! old_chat {
        ($pool:expr, $migrations:expr) => {{
            before(&$migrations, 18).run($pool).await.expect("old schema");
            let at = chrono::Utc::now();
            for (email, role) in [("c@example.test", "customer"), ("p@example.test", "provider")] {
                sqlx::query(
                    "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, 'N', $2, 'x', $3)",
                )
                .bind(email)
                .bind(role)
                .bind(at)
                .execute($pool)
                .await
                .expect("user");
            }
            sqlx::query("INSERT INTO jobs (customer_id, provider_id, title, created_at) VALUES (1, 2, 'Job', $1)")
                .bind(at)
                .execute($pool)
                .await
                .expect("job");
            sqlx::query("INSERT INTO chats (job_id, created_at, last_seq) VALUES (1, $1, 3)")
                .bind(at)
                .execute($pool)
                .await
                .expect("chat");
            sqlx::query(
                "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) VALUES \
                 (1, 1, 'customer', $1), (1, 2, 'provider', $1)",
            )
            .bind(at)
            .execute($pool)
            .await
            .expect("participants");
            for seq in 1..=3_i64 {
                sqlx::query(
                    "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at) \
                     VALUES (1, $1, 1, 'user', 'old words', $2, $3)",
                )
                .bind(seq)
                .bind(format!("old-{seq}"))
                .bind(at)
                .execute($pool)
                .await
                .expect("message");
            }
        }};
    }
    match &db {
        Db::Sqlite(pool) => old_chat!(pool, sqlx::migrate!("../migrations/sqlite")),
        Db::Postgres(pool) => old_chat!(pool, sqlx::migrate!("../migrations/postgres")),
    }
    db.migrate().await.expect("the rest");

    let new = |n: usize| server::storage::NewUserMessage {
        chat_id: 1,
        sender_id: 2,
        content: format!("new words {n}"),
        original: None,
        client_id: format!("new-{n}"),
        attachments: false,
    };
    db.insert_user_messages(&[new(1), new(2)], server::service::texts::BELLS, None)
        .await
        .expect("stored");
    let record = db.chat_record(1, 100).await.expect("read").expect("chat");
    assert_eq!(record.chat.chain_from_seq, 4);
    let person = server::transcript::document::Person {
        id: 1,
        name: "N".into(),
        role: "lsm".into(),
    };
    let mut t =
        server::transcript::assemble::assemble(1, "booked", record, person, chrono::Utc::now());
    let key = server::transcript::signing::SigningKey::new(
        &server::config::JwtSecret::new(vec![7; 32]).expect("secret"),
    );
    t.signature = Some(key.sign(&t.digest));
    assert_eq!(t.messages.len(), 5);
    assert!(t.messages[..3].iter().all(|e| e.chain.is_none()));
    assert!(t.messages[3..].iter().all(|e| e.chain.is_some()));
    assert_eq!(t.chain.broken_at_seq, None);
    let json = server::transcript::render::json(&t);
    let (v, _) = server::transcript::verify::verify_json(&json, &key.public()).expect("verifies");
    assert_eq!((v.messages, v.chained), (5, 2));
}

#[tokio::test]
async fn sqlite_chain_starts_after_old_messages() {
    chain_starts_after_old_messages(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_chain_starts_after_old_messages() {
    chain_starts_after_old_messages(Backend::Postgres).await;
}
