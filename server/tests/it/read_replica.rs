//! Heavy reads on a PostgreSQL streaming replica (`DATABASE_READ_URL`):
//! a primary and its replica of this test's own (initdb, then
//! `pg_basebackup -R`), so pausing and stopping the replica disturbs no
//! other test.
//!
//! Caught up, the replica serves history, the chat list and search. Paused
//! (lagging), every read still holds every acked message: it goes to the
//! primary. Stopped, reads fall back to the primary and the app answers as
//! before; started again, the replica is used again.

use crate::helpers::{TestApp, TestDb, TestUser, pair, spawn_app_on};
use crate::private_pg::PrivatePg;
use reqwest::StatusCode;
use server::Tuning;
use server::config::DatabaseUrl;
use std::time::{Duration, Instant};

/// (replica, primary because the replica lagged, primary because it failed)
fn routes(app: &TestApp) -> (u64, u64, u64) {
    app.service.read_routes().expect("a replica is configured")
}

/// Reads the chat's history until a read is served by the replica (it
/// replays what the primary wrote within moments), at most 20 s.
async fn until_the_replica_serves(app: &TestApp, user: &TestUser, chat: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let before = routes(app).0;
    while routes(app).0 == before {
        app.all_messages(user, chat).await;
        assert!(
            Instant::now() < deadline,
            "no read went to the replica: {:?}",
            routes(app)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn on_replica(url: &str, sql: &str) {
    let pool = sqlx::PgPool::connect(url)
        .await
        .expect("the replica answers");
    sqlx::query(sql).execute(&pool).await.expect(sql);
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_use_a_caught_up_replica_and_never_miss_an_acked_message() {
    let Some(primary) = PrivatePg::start() else {
        return;
    };
    let replica = primary.replica();
    let replica_url = replica.url();
    let app = spawn_app_on(
        TestDb::external(DatabaseUrl::Postgres(primary.url())),
        Tuning {
            seed_demo_data: false,
        },
        |c| c.database_read = Some(DatabaseUrl::Postgres(replica_url.clone())),
    )
    .await;
    let (customer, provider, chat) = pair(&app).await;
    let mut c = app.socket(&customer).await;
    c.join(chat).await;

    // Caught up: history, the chat list and search come from the replica.
    until_the_replica_serves(&app, &provider, chat).await;
    let first = c.send(chat, "the quote for the kitchen").await;
    until_the_replica_serves(&app, &provider, chat).await;
    let replica_reads = routes(&app).0;
    let (status, list) = app.get("/api/chats", Some(&provider.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let (status, hits) = app
        .get("/api/search?q=kitchen", Some(&provider.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{hits}");
    assert!(hits.to_string().contains(&first.id.to_string()), "{hits}");
    assert!(routes(&app).0 >= replica_reads + 2, "{:?}", routes(&app));

    // Lagging: replay paused, so the replica misses what is sent now. Every
    // read right after an ack still holds it: it goes to the primary.
    on_replica(&replica_url, "SELECT pg_wal_replay_pause()").await;
    let lagged_before = routes(&app).1;
    for i in 0..5 {
        let sent = c.send(chat, &format!("while the replica lags {i}")).await;
        let history = app.all_messages(&provider, chat).await;
        assert!(
            history.iter().any(|m| m.id == sent.id),
            "an acked message is missing from a read"
        );
        let (_, list) = app.get("/api/chats", Some(&provider.token)).await;
        assert_eq!(list[0]["lastMessage"]["id"], sent.id, "{list}");
    }
    assert!(routes(&app).1 >= lagged_before + 10, "{:?}", routes(&app));
    on_replica(&replica_url, "SELECT pg_wal_replay_resume()").await;
    until_the_replica_serves(&app, &provider, chat).await;
    let history = app.all_messages(&provider, chat).await;
    assert_eq!(
        history.len(),
        1 + 1 + 5,
        "the booking line and six messages"
    );

    // Stopped: reads fall back to the primary and answer as before.
    replica.stop();
    let during = c.send(chat, "while the replica is down").await;
    let history = app.all_messages(&provider, chat).await;
    assert!(history.iter().any(|m| m.id == during.id));
    let (status, _) = app.get("/api/chats", Some(&provider.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(routes(&app).2 >= 1, "{:?}", routes(&app));

    // Started again: used again once its retry interval is over.
    replica.up();
    until_the_replica_serves(&app, &provider, chat).await;
    let history = app.all_messages(&provider, chat).await;
    assert!(history.iter().any(|m| m.id == during.id));
}
