//! A Redis that is slow, not down: paused with SIGSTOP for 10 s while a
//! conversation goes on across two nodes. Publishing to the other nodes
//! must hold up neither this node's own sockets nor requests; once Redis
//! answers again the other node hears new messages within 5 s, and nothing
//! is lost (what it missed, its clients fetch by seq).

use crate::cluster::private_cluster;
use crate::helpers::pair;
use contract::protocol::NewMessage;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};

const PAUSE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_paused_redis_holds_up_neither_local_delivery_nor_requests() {
    let Some((redis, a)) = private_cluster().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let _lsm = a.create_lsm().await;
    let mut c = a.socket(&customer).await;
    let mut p_a = a.socket(&provider).await;
    let mut p_b = b.socket(&provider).await;
    for s in [&mut c, &mut p_a, &mut p_b] {
        s.join(chat).await;
    }
    let before = c.send(chat, "before the pause").await;
    p_b.expect_event_where(|m: &NewMessage| m.0.id == before.id)
        .await;

    redis.pause(true);
    let paused = Instant::now();
    // Messages keep coming; each is acked and reaches node A's own socket
    // at once (each publish used to wait for Redis's answer first).
    for i in 0..40 {
        let started = Instant::now();
        let m = c.send(chat, &format!("while paused {i}")).await;
        p_a.expect_event_where(|e: &NewMessage| e.0.id == m.id)
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "message {i} took {:?} to be acked and delivered on its node",
            started.elapsed()
        );
    }
    // A request that broadcasts answers in time too.
    let started = Instant::now();
    let (status, body) = a
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&customer.token),
            json!({ "reason": "The tap still drips" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "dispute took {:?}",
        started.elapsed()
    );
    assert!(paused.elapsed() < PAUSE, "the load outlasted the pause");
    // The fault's length, not a wait for an event: Redis stays paused 10 s.
    tokio::time::sleep(PAUSE.saturating_sub(paused.elapsed())).await;

    redis.pause(false);
    let resumed = Instant::now();
    let deadline = resumed + Duration::from_secs(5);
    loop {
        let m = c.send(chat, "is node B hearing again?").await;
        let heard = p_b
            .take_events::<NewMessage>(Duration::from_millis(250))
            .await;
        if heard.iter().any(|e| e.0.id == m.id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node B did not hear new messages within 5 s of SIGCONT"
        );
    }

    // Nothing lost: every message is stored once, in a gap-free order, and
    // node B's tab gets whatever it missed by joining with its newest seq.
    let all = a.all_messages(&customer, chat).await;
    for (i, m) in all.iter().enumerate() {
        assert_eq!(m.seq, i as i64 + 1, "gap-free");
    }
    for i in 0..40 {
        let text = format!("while paused {i}");
        assert_eq!(
            all.iter().filter(|m| m.content == text).count(),
            1,
            "{text}"
        );
    }
    let late = b.socket(&provider).await;
    let reply = late
        .request(&contract::protocol::JoinChat {
            chat_id: chat,
            after_seq: Some(before.seq),
            after_message_id: None,
        })
        .await
        .expect("joined");
    let caught = reply.messages.expect("a catch-up");
    assert_eq!(
        caught.len(),
        all.iter().filter(|m| m.seq > before.seq).count(),
        "the catch-up holds everything after the last message B heard"
    );
}
