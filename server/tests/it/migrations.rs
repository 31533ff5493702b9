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
