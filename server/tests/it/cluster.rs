//! Several nodes on one PostgreSQL and one Redis: node A is this process's
//! server, node B (and C) the server binary in its own process
//! (`TestApp::spawn_node`), each on a random port, all under a Redis prefix
//! of their own. Every client ends with the same gap-free seq list, closing
//! gaps through history as the browser does.

use crate::helpers::{
    Backend, Node, TestApp, TestSocket, TestUser, pair, spawn_clustered, test_redis,
};
use app::api::DisputeOpened;
use contract::error::ErrorCode;
use contract::model::{Message, MessagePage};
use contract::protocol::{
    DisputeResolved, JoinChat, LsmInvited, NewMessage, NewNotification, PresenceChanged, SetTyping,
    Typing, UserJoined, UserLeft,
};
use reqwest::{Method, StatusCode};
use serde_json::json;
use server::config::RedisTarget;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The chat's whole history by seq, through REST, paging by `afterSeq`.
pub(crate) async fn history(app: &TestApp, user: &TestUser, chat: i64) -> BTreeMap<i64, Message> {
    app.all_messages(user, chat)
        .await
        .into_iter()
        .map(|m| (m.seq, m))
        .collect()
}

async fn page_after(app: &TestApp, user: &TestUser, chat: i64, after: i64) -> MessagePage {
    let (status, body) = app
        .get(
            &format!("/api/chats/{chat}/messages?afterSeq={after}&limit=200"),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a page")
}

/// What a client ends with after hearing `heard` live (from seq `from` on):
/// the browser's rule, a gap before an arrival is fetched at once. Returns
/// the messages by seq and how many gaps it had to fetch. Panics on a
/// duplicate delivery.
pub(crate) async fn settle(
    app: &TestApp,
    user: &TestUser,
    chat: i64,
    from: i64,
    heard: Vec<Message>,
) -> (BTreeMap<i64, i64>, usize) {
    let mut held: BTreeMap<i64, i64> = BTreeMap::new();
    for m in heard.iter().filter(|m| m.seq > from) {
        assert!(
            held.insert(m.seq, m.id).is_none(),
            "seq {} delivered twice",
            m.seq
        );
    }
    let mut gaps = 0;
    let mut contiguous = from;
    let newest = held.keys().next_back().copied().unwrap_or(from);
    while contiguous < newest {
        if held.contains_key(&(contiguous + 1)) {
            contiguous += 1;
            continue;
        }
        gaps += 1;
        let page = page_after(app, user, chat, contiguous).await;
        assert!(!page.messages.is_empty(), "a gap the server cannot fill");
        for m in page.messages {
            held.entry(m.seq).or_insert(m.id);
        }
    }
    (held, gaps)
}

pub(crate) fn by_seq(history: &BTreeMap<i64, Message>, after: i64) -> BTreeMap<i64, i64> {
    history
        .range(after + 1..)
        .map(|(seq, m)| (*seq, m.id))
        .collect()
}

fn assert_gap_free(history: &BTreeMap<i64, Message>) {
    let seqs: Vec<i64> = history.keys().copied().collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "seqs are 1..n"
    );
}

const SETTLE: Duration = Duration::from_millis(700);

#[tokio::test]
async fn the_seed_flow_across_two_nodes() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let lsm = a.create_lsm().await;

    // Customer on A, provider on B: each hears the other come online.
    let mut c = a.socket(&customer).await;
    let mut p = b.socket(&provider).await;
    let online = c
        .expect_event_where(|e: &PresenceChanged| e.user_id == provider.id)
        .await;
    assert!(online.online);
    c.join(chat).await;
    let joined = p.join(chat).await;
    let customer_state = joined
        .presence
        .iter()
        .find(|s| s.user_id == customer.id)
        .expect("customer listed");
    assert!(customer_state.online, "B sees A's user online");
    c.expect_event_where(|j: &UserJoined| j.user.id == provider.id)
        .await;

    // Messages both ways, and typing.
    let hello = c.send(chat, "Hello from node A").await;
    let got = p
        .expect_event_where(|m: &NewMessage| m.0.id == hello.id)
        .await;
    assert_eq!(got.0.seq, hello.seq);
    let reply = p.send(chat, "Hi from node B").await;
    assert_eq!(reply.seq, hello.seq + 1);
    c.expect_event_where(|m: &NewMessage| m.0.id == reply.id)
        .await;
    p.request(&SetTyping {
        chat_id: chat,
        is_typing: true,
    })
    .await
    .expect("typing");
    let typing = c.expect_event::<Typing>().await;
    assert_eq!((typing.user_id, typing.is_typing), (provider.id, true));

    // A second tab on B keeps the customer online when the A tab closes:
    // nobody hears "offline".
    let c2 = b.socket(&customer).await;
    c.close().await;
    let offline = p
        .take_events::<PresenceChanged>(SETTLE)
        .await
        .into_iter()
        .filter(|e| e.user_id == customer.id && !e.online)
        .count();
    assert_eq!(offline, 0, "one tab left on B");
    let mut c = a.socket(&customer).await;
    let from = reply.seq;
    c.join(chat).await;

    // The LSM, on B, is told live of the dispute raised through node A.
    let mut l = b.socket(&lsm).await;
    let (status, body) = a
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&provider.token),
            json!({ "reason": "Customer refuses to pay for parts" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let opened: DisputeOpened = serde_json::from_value(body).expect("opened");
    assert_eq!(opened.lsm.id, lsm.id);
    l.expect_event_where(|i: &LsmInvited| i.chat_id == chat)
        .await;
    let note = l.expect_event::<NewNotification>().await;
    assert_eq!(note.0.kind, "dispute_opened");
    l.join(chat).await;
    for sock in [&mut c, &mut p] {
        sock.expect_event_where(|j: &UserJoined| j.user.id == lsm.id)
            .await;
    }
    let verdict = l.send(chat, "I have read both sides.").await;
    for sock in [&mut c, &mut p] {
        sock.expect_event_where(|m: &NewMessage| m.0.id == verdict.id)
            .await;
    }
    c.send(chat, "Thank you").await;

    // Everyone ends with the same gap-free list, equal to the history.
    let all = history(&a, &customer, chat).await;
    assert_gap_free(&all);
    for (who, sock, user) in [
        ("customer", &mut c, &customer),
        ("provider", &mut p, &provider),
        ("lsm", &mut l, &lsm),
    ] {
        let heard = sock.heard(chat, SETTLE).await;
        let (held, _) = settle(&a, user, chat, from, heard).await;
        let newest = *held.keys().next_back().expect("messages");
        assert_eq!(held, by_seq(&all, from), "{who}");
        assert_eq!(newest, *all.keys().next_back().expect("history"), "{who}");
    }

    // Settled through node A: the LSM's socket on node B leaves the room.
    let (status, body) = a
        .post(
            &format!("/api/disputes/{}/resolve", opened.dispute_id),
            Some(&lsm.token),
            json!({ "resolution": "Half the parts refunded" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    l.expect_event_where(|r: &DisputeResolved| r.chat_id == chat)
        .await;
    c.expect_event_where(|v: &UserLeft| v.user.id == lsm.id)
        .await;
    let after = c.send(chat, "Just us again").await;
    p.expect_event_where(|m: &NewMessage| m.0.id == after.id)
        .await;
    assert!(
        l.heard(chat, SETTLE)
            .await
            .iter()
            .all(|m| m.seq < after.seq),
        "the LSM on node B still heard the chat"
    );
    let refused = l
        .request(&JoinChat {
            chat_id: chat,
            after_seq: None,
            after_message_id: None,
        })
        .await
        .expect_err("a join after leaving");
    assert_eq!(refused.code, ErrorCode::Forbidden);
    drop(c2);
    drop(b);
}

#[tokio::test]
async fn concurrent_writers_on_two_nodes_share_one_order() {
    const EACH: usize = 40;
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let lsm = a.create_lsm().await;
    let mut on_a = a.socket(&customer).await;
    let mut on_b = b.socket(&provider).await;
    let mut watch_b = b.socket(&customer).await;
    for s in [&mut on_a, &mut on_b, &mut watch_b] {
        s.join(chat).await;
    }
    async fn send_many(sock: &TestSocket, chat: i64, tag: &str, n: usize) {
        for i in 0..n {
            sock.send(chat, &format!("{tag} {i}")).await;
        }
    }
    let disputes = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (status, body) = a
            .request_at(
                &b.addr,
                Method::POST,
                &format!("/api/chats/{chat}/dispute"),
                Some(&customer.token),
                Some(json!({ "reason": "Not what we agreed" })),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["disputeId"].as_i64().expect("dispute id");
        let (status, body) = a
            .post(
                &format!("/api/disputes/{id}/resolve"),
                Some(&lsm.token),
                json!({ "resolution": "Split the difference" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    };
    tokio::join!(
        send_many(&on_a, chat, "from A", EACH),
        send_many(&on_b, chat, "from B", EACH),
        disputes
    );

    let all = history(&a, &customer, chat).await;
    assert_gap_free(&all);
    assert_eq!(
        all.len(),
        1 + 2 * EACH + 2,
        "booking, sends, dispute, resolve"
    );
    for (who, sock, user) in [
        ("customer on A", &mut on_a, &customer),
        ("provider on B", &mut on_b, &provider),
        ("customer's tab on B", &mut watch_b, &customer),
    ] {
        let heard = sock.heard(chat, SETTLE).await;
        assert_eq!(heard.len(), all.len() - 1, "{who}: every message once");
        let (held, gaps) = settle(&a, user, chat, 1, heard).await;
        assert_eq!(gaps, 0, "{who}: nothing lost on the way");
        assert_eq!(held, by_seq(&all, 1), "{who}");
    }
}

#[tokio::test]
async fn lost_broadcasts_are_closed_by_seq() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    // Node B loses every third new_message it broadcasts (to everyone).
    let b = a
        .spawn_node_with(&[("JOBCHAT_FAULT_DROP_EVERY", "3")])
        .await;
    let (customer, provider, chat) = pair(&a).await;
    let mut c = a.socket(&customer).await;
    let mut p = b.socket(&provider).await;
    c.join(chat).await;
    p.join(chat).await;
    for i in 0..12 {
        p.send(chat, &format!("through the lossy node {i}")).await;
    }
    let all = history(&a, &customer, chat).await;
    assert_gap_free(&all);
    for (who, sock, user) in [
        ("customer", &mut c, &customer),
        ("provider", &mut p, &provider),
    ] {
        let heard = sock.heard(chat, SETTLE).await;
        assert_eq!(heard.len(), 8, "{who}: a third was dropped");
        let (held, gaps) = settle(&a, user, chat, 1, heard).await;
        assert!(gaps >= 1, "{who}: the gaps were seen and fetched");
        assert_eq!(held, by_seq(&all, 1), "{who}: the same gap-free list");
    }
}

#[tokio::test]
async fn a_killed_node_s_users_go_offline_and_its_clients_lose_nothing() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let mut b: Node = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut c = a.socket(&customer).await;
    c.join(chat).await;
    let mut p = b.socket(&provider).await;
    let seen = p.join(chat).await;
    assert!(seen.presence.iter().all(|s| s.online), "{seen:?}");
    let before = p.send(chat, "about to vanish").await;
    c.expect_event_where(|m: &NewMessage| m.0.id == before.id)
        .await;

    b.kill();
    let killed = Instant::now();
    // Customers keep writing while the provider's node is gone.
    let mut missed = Vec::new();
    for i in 0..3 {
        missed.push(c.send(chat, &format!("are you there? {i}")).await);
    }
    let left = c
        .expect_event_within(Duration::from_secs(35), |e: &UserLeft| {
            e.user.id == provider.id
        })
        .await;
    assert_eq!(left.chat_id, chat);
    let offline = c
        .expect_event_within(Duration::from_secs(5), |e: &PresenceChanged| {
            e.user_id == provider.id && !e.online
        })
        .await;
    assert!(offline.last_seen.is_some());
    let after = killed.elapsed();
    assert!(after < Duration::from_secs(30), "offline after {after:?}");

    // The provider's client reconnects to node A and catches up by seq.
    drop(p);
    let p = a.socket(&provider).await;
    let back = p
        .request(&contract::protocol::JoinChat {
            chat_id: chat,
            after_seq: Some(before.seq),
            after_message_id: None,
        })
        .await
        .expect("rejoined");
    assert_eq!(back.messages.as_deref(), Some(&missed[..]));
    c.expect_event_where(|e: &PresenceChanged| e.user_id == provider.id && e.online)
        .await;
    eprintln!("killed node's user shown offline after {after:?}");
}

#[tokio::test]
async fn login_attempts_add_up_across_nodes() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let body = json!({ "email": "victim@example.test", "password": "guess-guess" });
    // The per-email limit is 10 a minute on every node: 5 on each...
    for node in [&a.addr, &b.addr] {
        for _ in 0..5 {
            let res = a
                .client
                .post(format!("{node}/api/auth/login"))
                .json(&body)
                .send()
                .await
                .expect("sent");
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
    }
    // ...and the 11th is refused wherever it lands.
    for node in [&a.addr, &b.addr] {
        let res = a
            .client
            .post(format!("{node}/api/auth/login"))
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{node}");
    }
}

/// Logging out everywhere through node A closes the user's sockets on node
/// B at once (the adapter carries the disconnect to every node; B's own
/// revocation sweep is only the safety net), and B refuses the old token.
#[tokio::test]
async fn logging_out_everywhere_closes_sockets_on_every_node() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut on_b = b.socket(&customer).await;
    on_b.join(chat).await;
    let mut on_a = a.socket(&customer).await;
    let mut bystander = b.socket(&provider).await;
    bystander.join(chat).await;

    let (status, body) = a
        .post("/api/auth/logout-all", Some(&customer.token), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for (sock, node) in [(&mut on_b, "B"), (&mut on_a, "A")] {
        assert!(
            sock.next_of(&[crate::helpers::EV_CLOSE], Duration::from_secs(2))
                .await
                .is_some(),
            "the socket on node {node} is still open"
        );
    }
    let (status, _) = a
        .request_at(&b.addr, Method::GET, "/api/me", Some(&customer.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let again =
        TestSocket::connect(&b.addr, crate::helpers::SocketOpts::token(&customer.token)).await;
    assert!(again.is_err(), "node B accepted a revoked token");
    // The other participant's socket on B is untouched.
    bystander.send(chat, "still connected").await;
}

/// Sends `text` from `from` until `listener` (a socket on another node)
/// hears one of the sends: cross-node delivery has resumed (Redis is back).
/// Gives up after 30 s; returns the send that was heard.
pub(crate) async fn send_until_heard(
    from: &TestSocket,
    chat: i64,
    text: &str,
    listener: &mut TestSocket,
) -> Message {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent = from.send(chat, text).await;
        let got = listener
            .take_events::<NewMessage>(Duration::from_millis(500))
            .await;
        if got.iter().any(|m| m.0.id == sent.id) {
            return sent;
        }
        assert!(
            Instant::now() < deadline,
            "cross-node delivery did not resume"
        );
    }
}

/// A Redis of this test's own (a restart must not disturb the other tests).
pub(crate) struct PrivateRedis {
    pub(crate) port: u16,
    child: Option<std::process::Child>,
}

impl PrivateRedis {
    pub(crate) fn start(port: u16) -> Self {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            port,
            child: Some(child),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGSTOP (`true`) or SIGCONT (`false`): a Redis that is slow, not down
    /// (its connections stay open; nothing answers).
    pub(crate) fn pause(&self, paused: bool) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}");
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // A paused server would not die of SIGKILL's cleanup otherwise.
            let _ = std::process::Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A redis-server of the test's own on a free port, and node A of a
/// cluster on it (PostgreSQL); `None` (skipped) outside CI when Redis or
/// PostgreSQL is missing.
pub(crate) async fn private_cluster() -> Option<(PrivateRedis, TestApp)> {
    test_redis()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let redis = PrivateRedis::start(port);
    let a = spawn_clustered(Backend::Postgres, &RedisTarget::Single(redis.url())).await?;
    Some((redis, a))
}

#[tokio::test]
async fn redis_down_then_back() {
    let Some((mut redis, a)) = private_cluster().await else {
        return;
    };
    let port = redis.port;
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut c = a.socket(&customer).await;
    let mut p_a = a.socket(&provider).await;
    let mut p_b = b.socket(&provider).await;
    for s in [&mut c, &mut p_a, &mut p_b] {
        s.join(chat).await;
    }

    redis.stop();
    // Health says which dependency is down, within its 3 s bound.
    let (status, body) = a.get("/healthz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["details"]["redis"], "unavailable", "{body}");
    assert_eq!(body["error"]["details"]["database"], "ok", "{body}");
    // Node A keeps serving its own sockets: stored, acked, delivered on A.
    let started = Instant::now();
    let during = c.send(chat, "while redis is down").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "send took {:?}",
        started.elapsed()
    );
    p_a.expect_event_where(|m: &NewMessage| m.0.id == during.id)
        .await;

    // Redis comes back empty (nothing saved): both nodes reconnect, resubscribe
    // and write their presence back, by themselves.
    let _redis = PrivateRedis::start(port);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) = a.get("/healthz", None).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "healthz still failing");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let last = send_until_heard(&c, chat, "is node B hearing again?", &mut p_b).await;
    // The provider's tab on B closes what it missed through seq.
    let all = history(&a, &customer, chat).await;
    assert_gap_free(&all);
    let heard_b = p_b.heard(chat, SETTLE).await;
    let mut everything = heard_b;
    everything.push(last);
    everything.sort_by_key(|m| m.seq);
    everything.dedup_by_key(|m| m.seq);
    let (held, gaps) = settle(&a, &provider, chat, 1, everything).await;
    assert!(gaps >= 1, "B missed what was sent while redis was down");
    assert_eq!(held, by_seq(&all, 1));
    // Presence is written back within a heartbeat: both users online again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, list) = a.get("/api/chats", Some(&customer.token)).await;
        let participants = list[0]["participants"].as_array().expect("participants");
        if participants.iter().all(|p| p["online"] == true) {
            break;
        }
        assert!(Instant::now() < deadline, "{participants:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn joins_and_leaves_are_announced_once_per_user_across_nodes() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut p = a.socket(&provider).await;
    p.join(chat).await;

    let mut tab_a = a.socket(&customer).await;
    let mut tab_b = b.socket(&customer).await;
    tab_a.join(chat).await;
    tab_b.join(chat).await;
    let joined = p.take_events::<UserJoined>(SETTLE).await;
    assert_eq!(joined.len(), 1, "one user_joined for two tabs: {joined:?}");

    tab_a
        .request(&contract::protocol::LeaveChat { chat_id: chat })
        .await
        .expect("left");
    assert!(
        p.take_events::<UserLeft>(SETTLE).await.is_empty(),
        "the tab on B is still in the room"
    );
    tab_b.close().await;
    let left = p
        .expect_event_where(|e: &UserLeft| e.user.id == customer.id)
        .await;
    assert_eq!(left.chat_id, chat);
    // Still online through the tab on A: no offline presence.
    let gone = p
        .take_events::<PresenceChanged>(SETTLE)
        .await
        .into_iter()
        .any(|e| e.user_id == customer.id && !e.online);
    assert!(!gone, "tab A keeps the customer online");
}
