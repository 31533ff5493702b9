//! The Socket.IO gateway with real clients (rust_socketio) against the real
//! server: handshake, rooms, access, idempotency, ordering, typing, presence,
//! the LSM flow, catch-up, token expiry, bad payloads, polling, rate limits.
//! Wire contract: docs/realtime.md. Every wait is bounded (`SOCKET_WAIT` or
//! shorter), so a missing event fails the test instead of hanging it.

use crate::both_backends;
use crate::helpers::{
    EV_CLOSE, EV_ERROR, EV_OPEN, SocketOpts, TestApp, TestSocket, TestUser, uuid_like,
};
use app::model::Role;
use reqwest::StatusCode;
use rust_socketio::Payload;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long to keep listening before concluding that an event did not come.
/// Only used after a positive event proved the broadcast already happened.
const QUIET: Duration = Duration::from_millis(400);

async fn pair(app: &TestApp) -> (TestUser, TestUser, i64) {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat = app.book(&customer, &provider).await;
    (customer, provider, chat)
}

/// The chat's history over REST (oldest first), up to 200 messages.
async fn history(app: &TestApp, user: &TestUser, chat: i64) -> Vec<Value> {
    let (status, page) = app
        .get(
            &format!("/api/chats/{chat}/messages?limit=200"),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["messages"].as_array().expect("messages").clone()
}

fn ids(messages: &[Value]) -> Vec<i64> {
    messages
        .iter()
        .map(|m| m["id"].as_i64().expect("message id"))
        .collect()
}

fn error_code(ack: &Value) -> &str {
    assert_eq!(ack["ok"], false, "expected an error ack, got {ack}");
    assert!(
        ack["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "error without message: {ack}"
    );
    ack["error"]["code"].as_str().expect("error code")
}

fn refused(result: Result<TestSocket, String>, what: &str) {
    match result {
        Ok(_) => panic!("{what}: the handshake was accepted"),
        Err(e) => assert!(e.contains("unauthorized"), "{what}: {e}"),
    }
}

// 1 ---------------------------------------------------------------------------

both_backends!(
    handshake_refuses_bad_credentials,
    |app: TestApp| async move {
        let (customer, _provider, _chat) = pair(&app).await;
        let addr = app.addr.clone();

        refused(
            TestSocket::connect(&addr, SocketOpts::default()).await,
            "no credentials",
        );
        refused(
            TestSocket::connect(
                &addr,
                SocketOpts {
                    auth: Some(json!({})),
                    ..SocketOpts::default()
                },
            )
            .await,
            "auth without token",
        );
        refused(
            TestSocket::connect(
                &addr,
                SocketOpts {
                    auth: Some(json!({ "token": 42 })),
                    ..SocketOpts::default()
                },
            )
            .await,
            "token of the wrong type",
        );
        refused(
            TestSocket::connect(&addr, SocketOpts::token("not-a-jwt")).await,
            "garbage token",
        );
        let forged = app.forge_token(&customer, Role::Customer, 600, Some(&[7u8; 40]));
        refused(
            TestSocket::connect(&addr, SocketOpts::token(&forged)).await,
            "forged token",
        );
        let expired = app.forge_token(&customer, Role::Customer, -5, None);
        refused(
            TestSocket::connect(&addr, SocketOpts::token(&expired)).await,
            "expired token",
        );
        refused(
            TestSocket::connect(
                &addr,
                SocketOpts {
                    cookie: Some(format!("jobchat_session={forged}")),
                    ..SocketOpts::default()
                },
            )
            .await,
            "forged cookie",
        );
        refused(
            TestSocket::connect(
                &addr,
                SocketOpts {
                    cookie: Some(format!("jobchat_session={expired}")),
                    ..SocketOpts::default()
                },
            )
            .await,
            "expired cookie",
        );
    }
);

both_backends!(
    handshake_accepts_token_and_cookie,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;

        let mut by_token = TestSocket::connect(&app.addr, SocketOpts::token(&customer.token))
            .await
            .expect("token accepted");
        assert_eq!(
            by_token.expect("connected").await,
            json!({ "userId": customer.id })
        );

        // The browser's HttpOnly cookie, sent as a header on the Engine.IO
        // requests (polling and the WebSocket upgrade).
        for polling in [false, true] {
            let mut by_cookie = TestSocket::connect(
                &app.addr,
                SocketOpts {
                    cookie: Some(format!("theme=dark; jobchat_session={}", provider.token)),
                    polling,
                    ..SocketOpts::default()
                },
            )
            .await
            .expect("cookie accepted");
            assert_eq!(
                by_cookie.expect("connected").await,
                json!({ "userId": provider.id })
            );
            // The cookie identifies the user for everything afterwards.
            by_cookie.join(chat).await;
            let sent = by_cookie.send(chat, "via cookie").await;
            assert_eq!(sent["senderId"], provider.id);
            by_cookie.close().await;
        }

        // The auth payload wins over a cookie.
        let mut both = TestSocket::connect(
            &app.addr,
            SocketOpts {
                token: Some(customer.token.clone()),
                cookie: Some(format!("jobchat_session={}", provider.token)),
                ..SocketOpts::default()
            },
        )
        .await
        .expect("accepted");
        assert_eq!(
            both.expect("connected").await,
            json!({ "userId": customer.id })
        );
    }
);

// 2 ---------------------------------------------------------------------------

both_backends!(rooms_are_isolated, |app: TestApp| async move {
    let customer_a = app.register("customer").await;
    let customer_b = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat_a = app.book(&customer_a, &provider).await;
    let chat_b = app.book(&customer_b, &provider).await;

    let mut a = app.socket(&customer_a).await;
    a.join(chat_a).await;
    let mut b = app.socket(&customer_b).await;
    b.join(chat_b).await;
    // The provider is a participant of both chats but this socket joined only
    // B: membership alone must not leak A's room traffic.
    let mut p = app.socket(&provider).await;
    p.join(chat_b).await;
    let mut a_second_tab = app.socket(&customer_a).await;
    a_second_tab.join(chat_a).await;

    let ack = a
        .ack("typing", json!({ "chatId": chat_a, "isTyping": true }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let sent = a.send(chat_a, "only for A").await;
    a.expect_where("new_message", |m| m["id"] == sent["id"])
        .await;
    a_second_tab
        .expect_where("new_message", |m| m["id"] == sent["id"])
        .await;

    // And B's traffic stays in B.
    let sent_b = b.send(chat_b, "only for B").await;
    p.expect_where("new_message", |m| m["id"] == sent_b["id"])
        .await;

    for (who, sock) in [("B", &mut b), ("provider in B", &mut p)] {
        for (name, v) in sock.drain(QUIET).await {
            assert!(
                !(v["chatId"] == chat_a && (name == "new_message" || name == "typing")),
                "{who} got chat A's {name}: {v}"
            );
        }
    }
    for (name, v) in a.drain(QUIET).await {
        assert!(
            !(v["chatId"] == chat_b && (name == "new_message" || name == "typing")),
            "A got chat B's {name}: {v}"
        );
    }
});

// 3 ---------------------------------------------------------------------------

both_backends!(outsiders_are_refused, |app: TestApp| async move {
    let (customer, _provider, chat) = pair(&app).await;
    let outsider = app.register("customer").await;
    let before = history(&app, &customer, chat).await;

    let mut member = app.socket(&customer).await;
    member.join(chat).await;

    let mut o = app.socket(&outsider).await;
    let ack = o.ack("join_chat", json!({ "chatId": chat })).await;
    assert_eq!(error_code(&ack), "forbidden", "{ack}");
    let msg = json!({ "chatId": chat, "content": "let me in", "clientId": uuid_like() });
    let ack = o.ack("send_message", msg).await;
    assert_eq!(error_code(&ack), "forbidden", "{ack}");
    let ack = o
        .ack("typing", json!({ "chatId": chat, "isTyping": true }))
        .await;
    assert_eq!(error_code(&ack), "forbidden", "{ack}");
    let ack = o
        .ack(
            "mark_read",
            json!({ "chatId": chat, "messageId": before[0]["id"] }),
        )
        .await;
    assert_eq!(error_code(&ack), "forbidden", "{ack}");

    for chat in [999_999, 0, -3] {
        let ack = o.ack("join_chat", json!({ "chatId": chat })).await;
        assert_eq!(error_code(&ack), "not_found", "join {chat}: {ack}");
        let msg = json!({ "chatId": chat, "content": "hello?", "clientId": uuid_like() });
        let ack = o.ack("send_message", msg).await;
        assert_eq!(error_code(&ack), "not_found", "send {chat}: {ack}");
    }

    // Nothing stored, nothing delivered, no room joined.
    assert_eq!(history(&app, &customer, chat).await, before);
    let got = o.drain(QUIET).await;
    assert!(
        got.iter()
            .all(|(n, _)| n != "joined_chat" && n != "new_message"),
        "{got:?}"
    );
    let leaked = member.take("new_message", QUIET).await;
    assert!(leaked.is_empty(), "{leaked:?}");
    let typing = member.take("typing", Duration::ZERO).await;
    assert!(typing.is_empty(), "{typing:?}");
});

// 4 ---------------------------------------------------------------------------

both_backends!(
    resend_with_same_client_id_is_idempotent,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let mut c = app.socket(&customer).await;
        c.join(chat).await;
        let mut p = app.socket(&provider).await;
        p.join(chat).await;

        let client_id = uuid_like();
        let payload = json!({ "chatId": chat, "content": "exactly once", "clientId": client_id });
        let first = c.ack("send_message", payload.clone()).await;
        assert_eq!(first["ok"], true, "{first}");
        // The same send again (a retry after a lost ack), also from another tab.
        let second = c.ack("send_message", payload.clone()).await;
        assert_eq!(second["ok"], true, "{second}");
        let other_tab = app.socket(&customer).await;
        let third = other_tab.ack("send_message", payload).await;
        assert_eq!(third["ok"], true, "{third}");
        assert_eq!(first["message"], second["message"]);
        assert_eq!(first["message"], third["message"]);
        assert_eq!(first["message"]["clientId"], client_id.as_str());
        assert_eq!(first["message"]["content"], "exactly once");
        let id = first["message"]["id"].clone();

        let p_got = p.take("new_message", QUIET).await;
        assert_eq!(p_got, vec![first["message"].clone()], "one broadcast");
        let c_got = c.take("new_message", Duration::ZERO).await;
        assert_eq!(c_got.len(), 1, "{c_got:?}");
        assert_eq!(c_got[0]["id"], id);
        let notes = p.take("notification", Duration::ZERO).await;
        assert_eq!(notes.len(), 1, "one notification: {notes:?}");

        let h = history(&app, &provider, chat).await;
        assert_eq!(h.len(), 2, "booking message + one: {h:?}");
        assert_eq!(h[1]["id"], id);

        // A different clientId is a different message.
        let again = c.send(chat, "exactly once").await;
        assert_ne!(again["id"], id);
        assert_eq!(history(&app, &provider, chat).await.len(), 3);
    }
);

// 5 ---------------------------------------------------------------------------

/// Sends `n` messages one after the other (each acked before the next), the
/// way a client does; waits and resends (same clientId) when rate limited.
async fn send_many(sock: &TestSocket, chat: i64, tag: &str, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let payload =
            json!({ "chatId": chat, "content": format!("{tag} {i}"), "clientId": uuid_like() });
        loop {
            let ack = sock.ack("send_message", payload.clone()).await;
            if ack["ok"] == true {
                out.push(ack["message"]["id"].as_i64().expect("id"));
                break;
            }
            assert_eq!(error_code(&ack), "rate_limited", "{ack}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    out
}

both_backends!(
    concurrent_senders_see_one_order,
    |app: TestApp| async move {
        const EACH: usize = 50;
        let (customer, provider, chat) = pair(&app).await;
        let mut c1 = app.socket(&customer).await;
        let mut c2 = app.socket(&customer).await;
        let mut p = app.socket(&provider).await;
        for s in [&mut c1, &mut c2, &mut p] {
            s.join(chat).await;
        }

        let (a, b, c) = tokio::join!(
            send_many(&c1, chat, "tab one", EACH),
            send_many(&c2, chat, "tab two", EACH),
            send_many(&p, chat, "provider", EACH),
        );
        let mut sent: Vec<i64> = a.into_iter().chain(b).chain(c).collect();
        sent.sort_unstable();
        assert_eq!(sent.len(), 3 * EACH);
        assert_eq!(
            sent.iter().collect::<HashSet<_>>().len(),
            3 * EACH,
            "distinct ids"
        );

        let stored = ids(&history(&app, &customer, chat).await);
        assert_eq!(stored.len(), 3 * EACH + 1, "booking message + all");
        assert_eq!(
            &stored[1..],
            &sent[..],
            "history holds exactly what was acked"
        );

        for (who, sock) in [
            ("tab one", &mut c1),
            ("tab two", &mut c2),
            ("provider", &mut p),
        ] {
            let mut got: Vec<i64> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(10);
            while got.len() < 3 * EACH && Instant::now() < deadline {
                let v = sock.expect("new_message").await;
                assert_eq!(v["chatId"], chat);
                got.push(v["id"].as_i64().expect("id"));
            }
            let extra = sock.take("new_message", QUIET).await;
            assert!(extra.is_empty(), "{who}: duplicates or strays: {extra:?}");
            assert!(
                got.windows(2).all(|w| w[0] < w[1]),
                "{who}: new_message out of order: {got:?}"
            );
            assert_eq!(got, sent, "{who}: every message exactly once");
        }
    }
);

// 6 ---------------------------------------------------------------------------

both_backends!(
    typing_reaches_others_and_expires,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let mut typer = app.socket(&customer).await;
        let mut typer_tab2 = app.socket(&customer).await;
        let mut other = app.socket(&provider).await;
        for s in [&mut typer, &mut typer_tab2, &mut other] {
            s.join(chat).await;
        }
        let typing = |on: bool| json!({ "chatId": chat, "isTyping": on });

        // Explicit start and stop.
        assert_eq!(typer.ack("typing", typing(true)).await["ok"], true);
        let v = other.expect("typing").await;
        assert_eq!(
            v,
            json!({ "chatId": chat, "userId": customer.id, "name": customer.name, "isTyping": true })
        );
        assert_eq!(typer.ack("typing", typing(false)).await["ok"], true);
        let v = other.expect("typing").await;
        assert_eq!(v["isTyping"], false, "{v}");

        // Start and let it lapse: the server clears it after ~5 s. The timer of
        // the first (already stopped) flag must not produce a second `false`.
        let started = Instant::now();
        assert_eq!(typer.ack("typing", typing(true)).await["ok"], true);
        let v = other.expect("typing").await;
        assert_eq!(v["isTyping"], true, "{v}");
        let v = other.expect_where("typing", |_| true).await;
        let elapsed = started.elapsed();
        assert_eq!(v["isTyping"], false, "{v}");
        assert_eq!(v["userId"], customer.id);
        assert!(
            elapsed >= Duration::from_millis(4500) && elapsed < Duration::from_secs(8),
            "expired after {elapsed:?}"
        );
        let more = other.take("typing", QUIET).await;
        assert!(more.is_empty(), "stray typing events: {more:?}");

        // Never to the typer's own sockets.
        for (who, sock) in [
            ("typer", &mut typer),
            ("typer's second tab", &mut typer_tab2),
        ] {
            let own = sock.take("typing", Duration::ZERO).await;
            assert!(own.is_empty(), "{who} got its own typing: {own:?}");
        }

        // Leaving while typing clears the flag for the others; `user_left`
        // comes when the user's last tab leaves, not before.
        assert_eq!(typer.ack("typing", typing(true)).await["ok"], true);
        assert_eq!(other.expect("typing").await["isTyping"], true);
        let ack = typer.ack("leave_chat", json!({ "chatId": chat })).await;
        assert_eq!(ack, json!({ "ok": true, "chatId": chat }));
        assert_eq!(other.expect("typing").await["isTyping"], false);
        let early = other.take("user_left", QUIET).await;
        assert!(early.is_empty(), "a tab is still in: {early:?}");
        let ack = typer_tab2
            .ack("leave_chat", json!({ "chatId": chat }))
            .await;
        assert_eq!(ack["ok"], true);
        let left = other.expect("user_left").await;
        assert_eq!(
            left,
            json!({ "chatId": chat, "user": { "id": customer.id, "name": customer.name, "role": "customer" } })
        );
        // Out of the room: no more messages.
        let after = other.send(chat, "anyone there?").await;
        other
            .expect_where("new_message", |m| m["id"] == after["id"])
            .await;
        for sock in [&mut typer, &mut typer_tab2] {
            let got = sock.take("new_message", QUIET).await;
            assert!(got.is_empty(), "{got:?}");
        }
    }
);

// 7 ---------------------------------------------------------------------------

both_backends!(presence_counts_tabs, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut contact = app.socket(&provider).await;

    let tab1 = app.socket(&customer).await;
    let v = contact.expect("presence").await;
    assert_eq!(v["userId"], customer.id);
    assert_eq!(v["online"], true);
    let tab2 = app.socket(&customer).await;

    // Closing one tab keeps the user online: no presence event at all.
    tab1.close().await;
    let got = contact.take("presence", Duration::from_millis(800)).await;
    assert!(got.is_empty(), "one tab closed: {got:?}");
    let ack = contact.join(chat).await;
    let me = ack["presence"]
        .as_array()
        .expect("presence list")
        .iter()
        .find(|p| p["userId"] == customer.id)
        .cloned()
        .expect("customer listed");
    assert_eq!(me["online"], true, "{ack}");
    assert_eq!(me["role"], "customer");

    // Closing the last one takes them offline, with a lastSeen time.
    tab2.close().await;
    let v = contact.expect("presence").await;
    assert_eq!(v["userId"], customer.id);
    assert_eq!(v["online"], false);
    assert!(
        v["lastSeen"]
            .as_str()
            .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()),
        "{v}"
    );
    let (_, chats) = app.get("/api/chats", Some(&provider.token)).await;
    let online = chats[0]["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["id"] == customer.id)
        .map(|p| p["online"].clone());
    assert_eq!(online, Some(json!(false)), "{chats}");
});

// 8 ---------------------------------------------------------------------------

both_backends!(lsm_joins_a_dispute_live, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let lsm = app.create_lsm().await;
    let mut c = app.socket(&customer).await;
    let mut p = app.socket(&provider).await;
    c.join(chat).await;
    p.join(chat).await;
    let mut l = app.socket(&lsm).await;

    // Before the dispute the LSM is an outsider.
    let ack = l.ack("join_chat", json!({ "chatId": chat })).await;
    assert_eq!(error_code(&ack), "forbidden");

    let raised = Instant::now();
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&provider.token),
            json!({ "reason": "Customer refuses to pay for parts" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let dispute_id = body["disputeId"].as_i64().expect("dispute id");

    let invited = l.expect("lsm_invited").await;
    assert_eq!(
        invited,
        json!({ "chatId": chat, "disputeId": dispute_id, "lsm": { "id": lsm.id, "name": lsm.name } })
    );
    let note = l.expect("notification").await;
    assert_eq!(note["chatId"], chat, "{note}");
    assert_eq!(note["kind"], "dispute_opened", "{note}");
    assert!(
        raised.elapsed() < Duration::from_secs(3),
        "the LSM heard late: {:?}",
        raised.elapsed()
    );
    for sock in [&mut c, &mut p] {
        let v = sock.expect("lsm_invited").await;
        assert_eq!(v, invited);
        let sys = sock
            .expect_where("new_message", |m| m["kind"] == "system")
            .await;
        assert_eq!(sys["chatId"], chat);
        assert_eq!(sys["senderId"], Value::Null);
    }

    let ack = l.join(chat).await;
    let people: HashSet<i64> = ack["presence"]
        .as_array()
        .expect("presence")
        .iter()
        .map(|p| p["userId"].as_i64().expect("id"))
        .collect();
    assert_eq!(people, HashSet::from([customer.id, provider.id, lsm.id]));
    for sock in [&mut c, &mut p] {
        let v = sock
            .expect_where("user_joined", |v| v["user"]["id"] == lsm.id)
            .await;
        assert_eq!(
            v,
            json!({ "chatId": chat, "user": { "id": lsm.id, "name": lsm.name, "role": "lsm" } })
        );
    }

    let said = l.send(chat, "I'll look into it").await;
    assert_eq!(said["senderRole"], "lsm");
    for sock in [&mut c, &mut p] {
        let v = sock
            .expect_where("new_message", |m| m["id"] == said["id"])
            .await;
        assert_eq!(v["content"], "I'll look into it");
        assert_eq!(v["senderId"], lsm.id);
    }
    // The parties answer and the LSM hears them.
    let reply = c.send(chat, "Thanks").await;
    l.expect_where("new_message", |m| m["id"] == reply["id"])
        .await;

    // Resolution reaches the whole room.
    let (status, body) = app
        .post(
            &format!("/api/disputes/{dispute_id}/resolve"),
            Some(&lsm.token),
            json!({ "resolution": "Parts refunded by half" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for sock in [&mut c, &mut p, &mut l] {
        let v = sock.expect("dispute_resolved").await;
        assert_eq!(
            v,
            json!({ "chatId": chat, "disputeId": dispute_id, "resolution": "Parts refunded by half" })
        );
    }
});

// 9 ---------------------------------------------------------------------------

both_backends!(rejoin_catches_up_after_a_gap, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut c = app.socket(&customer).await;
    c.join(chat).await;
    let seen = c.send(chat, "before the tunnel").await;
    let newest = seen["id"].as_i64().expect("id");
    c.close().await;

    let mut p = app.socket(&provider).await;
    p.join(chat).await;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(p.send(chat, &format!("while you were away {i}")).await);
    }
    missed
        .push(serde_json::to_value(app.say(&provider, chat, "and one more").await).expect("json"));

    let mut back = app.socket(&customer).await;
    let ack = back
        .ack(
            "join_chat",
            json!({ "chatId": chat, "afterMessageId": newest }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    assert_eq!(ack["chatId"], chat);
    assert_eq!(ack["hasMore"], false);
    assert_eq!(
        ack["messages"].as_array().expect("messages"),
        &missed,
        "exactly the missed messages, in order"
    );
    back.expect("joined_chat").await;

    // Nothing missed: an empty catch-up. Without afterMessageId: no messages field.
    let ack = back
        .ack(
            "join_chat",
            json!({ "chatId": chat, "afterMessageId": missed.last().expect("last")["id"] }),
        )
        .await;
    assert_eq!(ack["messages"], json!([]), "{ack}");
    let ack = back.ack("join_chat", json!({ "chatId": chat })).await;
    assert_eq!(ack["ok"], true);
    assert!(ack.get("messages").is_none(), "{ack}");

    // And live delivery continues after the rejoin.
    let live = p.send(chat, "welcome back").await;
    back.expect_where("new_message", |m| m["id"] == live["id"])
        .await;

    // Read markers: the room hears it; moving back is accepted but silent.
    let ack = back
        .ack(
            "mark_read",
            json!({ "chatId": chat, "messageId": live["id"] }),
        )
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let read = p.expect("read").await;
    assert_eq!(
        read,
        json!({ "chatId": chat, "userId": customer.id, "messageId": live["id"] })
    );
    let ack = back
        .ack("mark_read", json!({ "chatId": chat, "messageId": newest }))
        .await;
    assert_eq!(ack["ok"], true, "{ack}");
    let back_reads = p.take("read", QUIET).await;
    assert!(back_reads.is_empty(), "{back_reads:?}");

    // A gap longer than the catch-up limit: 500 in the ack, `hasMore`, and
    // REST `after=` gives the rest.
    back.close().await;
    let mark = live["id"].as_i64().expect("id");
    // Straight into storage (no notifications): only the gap matters here.
    for i in 0..503 {
        app.service
            .db()
            .insert_user_message(chat, provider.id, &format!("long gap {i}"), &uuid_like())
            .await
            .expect("stored");
    }
    let again = app.socket(&customer).await;
    let ack = again
        .ack(
            "join_chat",
            json!({ "chatId": chat, "afterMessageId": mark }),
        )
        .await;
    let caught = ack["messages"].as_array().expect("messages");
    assert_eq!(caught.len(), 500);
    assert_eq!(ack["hasMore"], true);
    assert_eq!(caught[0]["content"], "long gap 0");
    assert_eq!(caught[499]["content"], "long gap 499");
    let last = caught[499]["id"].as_i64().expect("id");
    let (_, rest) = app
        .get(
            &format!("/api/chats/{chat}/messages?after={last}"),
            Some(&customer.token),
        )
        .await;
    let rest: Vec<&str> = rest["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["content"].as_str().expect("content"))
        .collect();
    assert_eq!(rest, ["long gap 500", "long gap 501", "long gap 502"]);
});

// 10 --------------------------------------------------------------------------

both_backends!(token_expiry_disconnects, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut watcher = app.socket(&provider).await;
    watcher.join(chat).await;

    let short = app.forge_token(&customer, Role::Customer, 2, None);
    let connected_at = Instant::now();
    let mut s = app.socket_with(SocketOpts::token(&short)).await;
    s.join(chat).await;
    watcher.expect("user_joined").await;
    s.send(chat, "still valid").await;

    let closed = s.next_of(&[EV_CLOSE], Duration::from_secs(6)).await;
    let after = connected_at.elapsed();
    assert!(closed.is_some(), "not disconnected at token expiry");
    assert!(
        after >= Duration::from_secs(1),
        "closed too early: {after:?}"
    );

    // The others see the user leave and go offline.
    let left = watcher.expect("user_left").await;
    assert_eq!(left["user"]["id"], customer.id);
    let v = watcher
        .expect_where("presence", |v| {
            v["userId"] == customer.id && v["online"] == false
        })
        .await;
    assert!(v["lastSeen"].is_string(), "{v}");
    // Nothing sent on the dead socket gets through, and the token no longer works.
    let dead = s
        .try_ack(
            "send_message",
            json!({ "chatId": chat, "content": "too late", "clientId": uuid_like() }),
            Duration::from_millis(500),
        )
        .await;
    assert!(dead.is_none(), "{dead:?}");
    refused(
        TestSocket::connect(&app.addr, SocketOpts::token(&short)).await,
        "reconnect with the expired token",
    );
    assert!(
        history(&app, &provider, chat)
            .await
            .iter()
            .all(|m| m["content"] != "too late")
    );
});

// 11 --------------------------------------------------------------------------

both_backends!(
    bad_payloads_are_refused_without_harm,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let mut c = app.socket(&customer).await;
        c.join(chat).await;
        let mut p = app.socket(&provider).await;
        p.join(chat).await;
        let booking = history(&app, &customer, chat).await;

        let send = |content: Value, client_id: Value| json!({ "chatId": chat, "content": content, "clientId": client_id });
        let cid = || Value::String(uuid_like());
        let bad: Vec<(&str, &str, Payload)> = vec![
            ("send_message", "no payload", Payload::Text(vec![])),
            ("send_message", "null", json!(null).into()),
            ("send_message", "a string", json!("hello").into()),
            ("send_message", "a number", json!(12).into()),
            ("send_message", "an array", json!([chat, "hi"]).into()),
            ("send_message", "empty object", json!({}).into()),
            (
                "send_message",
                "chatId as text",
                json!({ "chatId": "abc", "content": "x", "clientId": uuid_like() }).into(),
            ),
            (
                "send_message",
                "chatId fractional",
                json!({ "chatId": 1.5, "content": "x", "clientId": uuid_like() }).into(),
            ),
            (
                "send_message",
                "chatId missing",
                json!({ "content": "x", "clientId": uuid_like() }).into(),
            ),
            (
                "send_message",
                "content missing",
                json!({ "chatId": chat, "clientId": uuid_like() }).into(),
            ),
            (
                "send_message",
                "clientId missing",
                json!({ "chatId": chat, "content": "x" }).into(),
            ),
            (
                "send_message",
                "content a number",
                send(json!(5), cid()).into(),
            ),
            (
                "send_message",
                "content null",
                send(Value::Null, cid()).into(),
            ),
            (
                "send_message",
                "empty content",
                send(json!(""), cid()).into(),
            ),
            (
                "send_message",
                "blank content",
                send(json!(" \n\t "), cid()).into(),
            ),
            (
                "send_message",
                "content over 4,000",
                send(json!("x".repeat(4001)), cid()).into(),
            ),
            (
                "send_message",
                "empty clientId",
                send(json!("x"), json!("")).into(),
            ),
            (
                "send_message",
                "clientId with spaces",
                send(json!("x"), json!("not ok")).into(),
            ),
            (
                "send_message",
                "clientId over 64",
                send(json!("x"), json!("a".repeat(65))).into(),
            ),
            (
                "send_message",
                "clientId a number",
                send(json!("x"), json!(7)).into(),
            ),
            ("join_chat", "no payload", Payload::Text(vec![])),
            ("join_chat", "null", json!(null).into()),
            ("join_chat", "a string", json!("chat").into()),
            (
                "join_chat",
                "chatId as text",
                json!({ "chatId": "abc" }).into(),
            ),
            ("join_chat", "chatId missing", json!({}).into()),
            (
                "join_chat",
                "afterMessageId as text",
                json!({ "chatId": chat, "afterMessageId": "x" }).into(),
            ),
            (
                "join_chat",
                "afterMessageId negative",
                json!({ "chatId": chat, "afterMessageId": -1 }).into(),
            ),
            ("leave_chat", "null", json!(null).into()),
            (
                "leave_chat",
                "chatId as text",
                json!({ "chatId": "abc" }).into(),
            ),
            ("typing", "no payload", Payload::Text(vec![])),
            (
                "typing",
                "isTyping as text",
                json!({ "chatId": chat, "isTyping": "yes" }).into(),
            ),
            (
                "typing",
                "isTyping missing",
                json!({ "chatId": chat }).into(),
            ),
            ("mark_read", "null", json!(null).into()),
            (
                "mark_read",
                "messageId as text",
                json!({ "chatId": chat, "messageId": "x" }).into(),
            ),
            (
                "mark_read",
                "messageId missing",
                json!({ "chatId": chat }).into(),
            ),
        ];
        for (event, what, payload) in bad {
            let ack = c
                .try_ack(event, payload, Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("{event} with {what}: no ack"));
            assert_eq!(
                error_code(&ack),
                "bad_request",
                "{event} with {what}: {ack}"
            );
        }

        // Well-formed but pointing at nothing.
        let ack = c
            .ack(
                "send_message",
                json!({ "chatId": 999_999, "content": "x", "clientId": uuid_like() }),
            )
            .await;
        assert_eq!(error_code(&ack), "not_found", "{ack}");
        let ack = c
            .ack("mark_read", json!({ "chatId": chat, "messageId": 999_999 }))
            .await;
        assert_eq!(error_code(&ack), "not_found", "{ack}");

        // Unknown events are ignored: no ack, no disconnect.
        let none = c
            .try_ack(
                "no_such_event",
                json!({ "chatId": chat }),
                Duration::from_millis(500),
            )
            .await;
        assert!(none.is_none(), "{none:?}");
        c.client
            .emit("also_unknown", json!(null))
            .await
            .expect("emit");

        // Binary data where JSON is expected. (rust_socketio 0.6 encodes a
        // binary emit with an ack as a BINARY_ACK packet, which a server must
        // treat as an answer, not an event; so this one goes without ack.)
        c.client
            .emit("send_message", Payload::Binary(vec![1u8, 2, 3].into()))
            .await
            .expect("emit");

        // The socket still works, and the 4,000-character boundary is accepted
        // (characters, not bytes).
        let long = "é".repeat(4000);
        let at_limit = c.send(chat, &long).await;
        assert_eq!(at_limit["content"], long.as_str());
        let ok = c.send(chat, "  still here  ").await;
        assert_eq!(ok["content"], "still here", "trimmed");
        let closes = c.take(EV_CLOSE, Duration::ZERO).await;
        assert!(closes.is_empty(), "the server closed the socket");

        // Exactly those two were stored and broadcast.
        let h = history(&app, &customer, chat).await;
        assert_eq!(
            ids(&h),
            [
                ids(&booking),
                vec![
                    at_limit["id"].as_i64().expect("id"),
                    ok["id"].as_i64().expect("id")
                ]
            ]
            .concat()
        );
        let got = p.take("new_message", QUIET).await;
        assert_eq!(ids(&got), ids(&h[1..]));
    }
);

// 12 --------------------------------------------------------------------------

both_backends!(polling_transport_works, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut polled = app
        .socket_with(SocketOpts {
            polling: true,
            ..SocketOpts::token(&customer.token)
        })
        .await;
    let mut ws = app.socket(&provider).await;
    polled.join(chat).await;
    ws.join(chat).await;
    assert_eq!(
        polled.expect("user_joined").await["user"]["id"],
        provider.id
    );

    let from_polling = polled.send(chat, "sent over long-polling").await;
    let v = ws
        .expect_where("new_message", |m| m["id"] == from_polling["id"])
        .await;
    assert_eq!(v["content"], "sent over long-polling");
    let from_ws = ws.send(chat, "sent over websocket").await;
    let v = polled
        .expect_where("new_message", |m| m["id"] == from_ws["id"])
        .await;
    assert_eq!(v["content"], "sent over websocket");
    assert_eq!(
        polled
            .ack("typing", json!({ "chatId": chat, "isTyping": true }))
            .await["ok"],
        true
    );
    assert_eq!(ws.expect("typing").await["userId"], customer.id);

    // A burst in order over polling too.
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(ws.send(chat, &format!("burst {i}")).await["id"].clone());
    }
    let mut got = Vec::new();
    for _ in 0..10 {
        let m = polled
            .expect_where("new_message", |m| m["id"].as_i64() > from_ws["id"].as_i64())
            .await;
        got.push(m["id"].clone());
    }
    assert_eq!(got, sent);
});

// 13 --------------------------------------------------------------------------

both_backends!(send_rate_limit, |app: TestApp| async move {
    const BURST: usize = 80;
    let (customer, provider, chat) = pair(&app).await;
    let mut c = app.socket(&customer).await;
    c.join(chat).await;
    let mut p = app.socket(&provider).await;
    p.join(chat).await;

    let started = Instant::now();
    let (mut ok, mut limited) = (Vec::new(), 0usize);
    for i in 0..BURST {
        let ack = c
            .ack(
                "send_message",
                json!({ "chatId": chat, "content": format!("spam {i}"), "clientId": uuid_like() }),
            )
            .await;
        if ack["ok"] == true {
            ok.push(ack["message"]["id"].as_i64().expect("id"));
        } else {
            assert_eq!(error_code(&ack), "rate_limited", "{ack}");
            limited += 1;
        }
    }
    let took = started.elapsed();
    // 40 at once, then 20 a second.
    let allowed = 41 + (took.as_secs_f64() * 20.0).ceil() as usize;
    assert!(ok.len() >= 40, "burst of 40 allowed, got {}", ok.len());
    assert!(
        ok.len() <= allowed,
        "{} accepted in {took:?}, at most {allowed}",
        ok.len()
    );
    assert!(
        limited > 0,
        "no rate_limited in {BURST} sends within {took:?}"
    );

    // Refused sends are neither stored nor broadcast.
    let stored = ids(&history(&app, &customer, chat).await);
    assert_eq!(&stored[1..], &ok[..]);
    let got = p.take("new_message", QUIET).await;
    assert_eq!(ids(&got), ok);

    // The socket recovers once the bucket refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = c.send(chat, "calm again").await;
    p.expect_where("new_message", |m| m["id"] == after["id"])
        .await;

    // Typing has its own, smaller limit (5/s, bursts of 10).
    let mut typing_limited = 0;
    for _ in 0..30 {
        let ack = c
            .ack("typing", json!({ "chatId": chat, "isTyping": true }))
            .await;
        if ack["ok"] != true {
            assert_eq!(error_code(&ack), "rate_limited", "{ack}");
            typing_limited += 1;
        }
    }
    assert!(typing_limited > 0);
});

// 14 --------------------------------------------------------------------------

both_backends!(
    events_sent_at_connect_are_handled,
    |app: TestApp| async move {
        // Browsers join their chats and resend their outbox on Socket.IO's
        // `connect` (the CONNECT packet), not on our `connected` event. Those
        // first events must be handled, not dropped for want of a handler.
        let (customer, provider, chat) = pair(&app).await;
        let mut p = app.socket(&provider).await;
        p.join(chat).await;
        for round in 0..15 {
            let mut s = TestSocket::open(&app.addr, SocketOpts::token(&customer.token))
                .await
                .expect("open");
            let opened = s
                .next_of(&[EV_OPEN, EV_ERROR], Duration::from_secs(5))
                .await;
            assert_eq!(opened.map(|(n, _)| n).as_deref(), Some(EV_OPEN));
            let msg = json!({ "chatId": chat, "content": format!("at connect {round}"), "clientId": uuid_like() });
            let sent = s
                .try_ack("send_message", msg, Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("round {round}: send_message at connect got no ack"));
            assert_eq!(sent["ok"], true, "{sent}");
            let joined = s
                .try_ack(
                    "join_chat",
                    json!({ "chatId": chat }),
                    Duration::from_secs(5),
                )
                .await
                .unwrap_or_else(|| panic!("round {round}: join_chat at connect got no ack"));
            assert_eq!(joined["ok"], true, "{joined}");
            p.expect_where("new_message", |m| m["id"] == sent["message"]["id"])
                .await;
            s.close().await;
        }

        // Sockets closed the moment they open leave the user offline: presence
        // counts each socket once and uncounts it once, whatever the order in
        // which the server sees connect and disconnect.
        for _ in 0..15 {
            let mut s = TestSocket::open(&app.addr, SocketOpts::token(&customer.token))
                .await
                .expect("open");
            let _ = s.next_of(&[EV_OPEN], Duration::from_secs(5)).await;
            s.close().await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let ack = p.ack("join_chat", json!({ "chatId": chat })).await;
        let online: Vec<(Value, Value)> = ack["presence"]
            .as_array()
            .expect("presence")
            .iter()
            .map(|x| (x["userId"].clone(), x["online"].clone()))
            .collect();
        assert_eq!(
            online
                .iter()
                .find(|(id, _)| *id == customer.id)
                .map(|(_, o)| o.clone()),
            Some(json!(false)),
            "{online:?}"
        );
    }
);
