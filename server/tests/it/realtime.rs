//! The Socket.IO gateway with real clients (rust_socketio) against the real
//! server: handshake, rooms, access, idempotency, ordering, typing, presence,
//! the LSM flow, catch-up, token expiry, bad payloads, polling, rate limits.
//! Wire contract: docs/realtime.md and `contract::protocol`; every event a test
//! socket receives is decoded into its protocol type (see `helpers`), and
//! requests and acks go through the same types. Only the bad-payload cases
//! send raw JSON. Every wait is bounded (`SOCKET_WAIT` or shorter), so a
//! missing event fails the test instead of hanging it.

use crate::both_backends;
use crate::helpers::{
    EV_CLOSE, EV_ERROR, EV_OPEN, SocketOpts, TestApp, TestSocket, TestUser, pair, refusal,
    uuid_like,
};
use app::api::DisputeOpened;
use contract::error::ErrorCode;
use contract::model::{ChatSummary, Message, MessageKind, MessagePage, Role, UserRef};
use contract::protocol::{
    ChatUser, Connected, DisputeResolved, Empty, JoinChat, JoinedChat, LeaveChat, LeaveReply,
    LsmInvited, MarkRead, NewMessage, NewNotification, PresenceChanged, ReadMarker, Request,
    SendMessage, ServerEvent, SetTyping, Typing, UserJoined, UserLeft,
};
use reqwest::StatusCode;
use rust_socketio::Payload;
use serde_json::{Value, json};
use server::service::texts::BELLS;
use std::collections::HashSet;
use std::time::{Duration, Instant};

/// How long to keep listening before concluding that an event did not come.
/// Only used after a positive event proved the broadcast already happened.
const QUIET: Duration = Duration::from_millis(400);

/// The chat's history over REST (oldest first), up to 200 messages.
async fn history(app: &TestApp, user: &TestUser, chat: i64) -> Vec<Message> {
    let (status, page) = app
        .get(
            &format!("/api/chats/{chat}/messages?limit=200"),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    serde_json::from_value::<MessagePage>(page)
        .expect("a message page")
        .messages
}

fn ids(messages: &[Message]) -> Vec<i64> {
    messages.iter().map(|m| m.id).collect()
}

fn new_ids(events: &[NewMessage]) -> Vec<i64> {
    events.iter().map(|m| m.0.id).collect()
}

/// The code of a refused request (panics when it succeeded).
fn refused_with<T: std::fmt::Debug>(result: Result<T, contract::error::AppError>) -> ErrorCode {
    match result {
        Ok(reply) => panic!("expected a refusal, got {reply:?}"),
        Err(e) => {
            assert!(!e.message.is_empty(), "error without message: {e:?}");
            e.code
        }
    }
}

fn join(chat: i64) -> JoinChat {
    JoinChat {
        chat_id: chat,
        after_seq: None,
        after_message_id: None,
    }
}

fn message(chat: i64, content: &str) -> SendMessage {
    SendMessage {
        chat_id: chat,
        content: content.to_owned(),
        client_id: uuid_like(),
        attachments: Vec::new(),
    }
}

fn typing(chat: i64, on: bool) -> SetTyping {
    SetTyping {
        chat_id: chat,
        is_typing: on,
    }
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
            by_token.expect_event::<Connected>().await,
            Connected {
                user_id: customer.id
            }
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
                by_cookie.expect_event::<Connected>().await,
                Connected {
                    user_id: provider.id
                }
            );
            // The cookie identifies the user for everything afterwards.
            by_cookie.join(chat).await;
            let sent = by_cookie.send(chat, "via cookie").await;
            assert_eq!(sent.sender_id, Some(provider.id));
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
            both.expect_event::<Connected>().await,
            Connected {
                user_id: customer.id
            }
        );
    }
);

// 2 ---------------------------------------------------------------------------

/// Whether `sock` got any message or typing event of chat `from`.
async fn heard_from(sock: &mut TestSocket, from: i64) -> bool {
    let messages = sock.take_events::<NewMessage>(QUIET).await;
    let typing = sock.take_events::<Typing>(Duration::ZERO).await;
    messages.iter().any(|m| m.0.chat_id == from) || typing.iter().any(|t| t.chat_id == from)
}

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

    a.request(&typing(chat_a, true)).await.expect("typing");
    let sent = a.send(chat_a, "only for A").await;
    a.expect_event_where(|m: &NewMessage| m.0.id == sent.id)
        .await;
    a_second_tab
        .expect_event_where(|m: &NewMessage| m.0.id == sent.id)
        .await;

    // And B's traffic stays in B.
    let sent_b = b.send(chat_b, "only for B").await;
    p.expect_event_where(|m: &NewMessage| m.0.id == sent_b.id)
        .await;

    assert!(!heard_from(&mut b, chat_a).await, "B got chat A's traffic");
    assert!(
        !heard_from(&mut p, chat_a).await,
        "provider in B got chat A's traffic"
    );
    assert!(!heard_from(&mut a, chat_b).await, "A got chat B's traffic");
});

// 3 ---------------------------------------------------------------------------

both_backends!(outsiders_are_refused, |app: TestApp| async move {
    let (customer, _provider, chat) = pair(&app).await;
    let outsider = app.register("customer").await;
    let before = history(&app, &customer, chat).await;

    let mut member = app.socket(&customer).await;
    member.join(chat).await;

    // Someone else's chat answers as one that does not exist.
    let mut o = app.socket(&outsider).await;
    assert_eq!(
        refused_with(o.request(&join(chat)).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        refused_with(o.request(&message(chat, "let me in")).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        refused_with(o.request(&typing(chat, true)).await),
        ErrorCode::NotFound
    );
    let read = MarkRead {
        chat_id: chat,
        message_id: before[0].id,
    };
    assert_eq!(refused_with(o.request(&read).await), ErrorCode::NotFound);

    for chat in [999_999, 0, -3] {
        assert_eq!(
            refused_with(o.request(&join(chat)).await),
            ErrorCode::NotFound,
            "join {chat}"
        );
        assert_eq!(
            refused_with(o.request(&message(chat, "hello?")).await),
            ErrorCode::NotFound,
            "send {chat}"
        );
    }

    // The raw acks, byte for byte: someone else's chat and a missing one
    // get the same answer, so an outsider cannot probe which ids exist.
    let missing = chat + 1_000;
    for (event, payload) in [
        (JoinChat::NAME, json!({ "chatId": chat })),
        (
            SendMessage::NAME,
            json!({ "chatId": chat, "content": "probe", "clientId": "probe-1" }),
        ),
        (SetTyping::NAME, json!({ "chatId": chat, "isTyping": true })),
        (
            MarkRead::NAME,
            json!({ "chatId": chat, "messageId": before[0].id }),
        ),
    ] {
        let mut probe = payload.clone();
        probe["chatId"] = json!(missing);
        let theirs = o.ack(event, payload).await.to_string();
        let nobodys = o.ack(event, probe).await.to_string();
        assert_eq!(theirs, nobodys, "{event}");
        assert_eq!(
            serde_json::from_str::<Value>(&theirs).expect("json"),
            json!({ "ok": false, "error": { "code": "not_found", "message": "chat not found" } }),
            "{event}"
        );
    }

    // Nothing stored, nothing delivered, no room joined.
    assert_eq!(history(&app, &customer, chat).await, before);
    let got = o.drain(QUIET).await;
    assert!(
        got.iter()
            .all(|(n, _)| n != JoinedChat::NAME && n != NewMessage::NAME),
        "{got:?}"
    );
    let leaked = member.take_events::<NewMessage>(QUIET).await;
    assert!(leaked.is_empty(), "{leaked:?}");
    let typing = member.take_events::<Typing>(Duration::ZERO).await;
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

        let send = message(chat, "exactly once");
        let first = c.request(&send).await.expect("first send");
        // The same send again (a retry after a lost ack), also from another tab.
        let second = c.request(&send).await.expect("resend");
        let other_tab = app.socket(&customer).await;
        let third = other_tab.request(&send).await.expect("resend from a tab");
        assert_eq!(first.message, second.message);
        assert_eq!(first.message, third.message);
        assert_eq!(
            first.message.client_id.as_deref(),
            Some(send.client_id.as_str())
        );
        assert_eq!(first.message.content, "exactly once");
        let id = first.message.id;

        let p_got = p.take_events::<NewMessage>(QUIET).await;
        assert_eq!(
            p_got,
            vec![NewMessage(first.message.clone())],
            "one broadcast"
        );
        let c_got = c.take_events::<NewMessage>(Duration::ZERO).await;
        assert_eq!(new_ids(&c_got), vec![id]);
        let notes = p.take_events::<NewNotification>(Duration::ZERO).await;
        assert_eq!(notes.len(), 1, "one notification: {notes:?}");

        let h = history(&app, &provider, chat).await;
        assert_eq!(h.len(), 2, "booking message + one: {h:?}");
        assert_eq!(h[1].id, id);

        // A different clientId is a different message.
        let again = c.send(chat, "exactly once").await;
        assert_ne!(again.id, id);
        assert_eq!(history(&app, &provider, chat).await.len(), 3);
    }
);

// 5 ---------------------------------------------------------------------------

/// Sends `n` messages one after the other (each acked before the next), the
/// way a client does; waits and resends (same clientId) when rate limited.
async fn send_many(sock: &TestSocket, chat: i64, tag: &str, n: usize) -> Vec<i64> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let send = message(chat, &format!("{tag} {i}"));
        loop {
            match sock.request(&send).await {
                Ok(reply) => {
                    out.push(reply.message.id);
                    break;
                }
                Err(e) => {
                    assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
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

        let kept = history(&app, &customer, chat).await;
        assert_eq!(kept.len(), 3 * EACH + 1, "booking message + all");
        assert_eq!(
            kept.iter().map(|m| m.seq).collect::<Vec<_>>(),
            (1..=(3 * EACH as i64 + 1)).collect::<Vec<_>>(),
            "one gap-free order"
        );
        // History in seq order; ids need not follow it (PostgreSQL hands
        // out ids before the commits that decide the order).
        let stored = ids(&kept);
        let mut acked_and_stored = stored[1..].to_vec();
        acked_and_stored.sort_unstable();
        assert_eq!(
            acked_and_stored, sent,
            "history holds exactly what was acked"
        );

        for (who, sock) in [
            ("tab one", &mut c1),
            ("tab two", &mut c2),
            ("provider", &mut p),
        ] {
            let mut got: Vec<(i64, i64)> = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(10);
            while got.len() < 3 * EACH && Instant::now() < deadline {
                let NewMessage(m) = sock.expect_event::<NewMessage>().await;
                assert_eq!(m.chat_id, chat);
                got.push((m.seq, m.id));
            }
            let extra = sock.take_events::<NewMessage>(QUIET).await;
            assert!(extra.is_empty(), "{who}: duplicates or strays: {extra:?}");
            // Concurrent sends may be announced out of order; the seq puts
            // them back in the stored order, with nothing missing.
            got.sort_unstable();
            let seqs: Vec<i64> = got.iter().map(|g| g.0).collect();
            assert_eq!(
                seqs,
                (2..=(3 * EACH as i64 + 1)).collect::<Vec<_>>(),
                "{who}: every seq after the booking message, once"
            );
            let by_seq: Vec<i64> = got.iter().map(|g| g.1).collect();
            assert_eq!(
                by_seq,
                stored[1..].to_vec(),
                "{who}: seq order is history order"
            );
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

        // Explicit start and stop.
        assert_eq!(typer.request(&typing(chat, true)).await, Ok(Empty {}));
        assert_eq!(
            other.expect_event::<Typing>().await,
            Typing {
                chat_id: chat,
                user_id: customer.id,
                name: customer.name.clone(),
                is_typing: true
            }
        );
        assert_eq!(typer.request(&typing(chat, false)).await, Ok(Empty {}));
        let v = other.expect_event::<Typing>().await;
        assert!(!v.is_typing, "{v:?}");

        // Start and let it lapse: the server clears it after ~5 s. The timer of
        // the first (already stopped) flag must not produce a second `false`.
        let started = Instant::now();
        assert_eq!(typer.request(&typing(chat, true)).await, Ok(Empty {}));
        let v = other.expect_event::<Typing>().await;
        assert!(v.is_typing, "{v:?}");
        let v = other.expect_event::<Typing>().await;
        let elapsed = started.elapsed();
        assert!(!v.is_typing, "{v:?}");
        assert_eq!(v.user_id, customer.id);
        assert!(
            elapsed >= Duration::from_millis(4500) && elapsed < Duration::from_secs(8),
            "expired after {elapsed:?}"
        );
        let more = other.take_events::<Typing>(QUIET).await;
        assert!(more.is_empty(), "stray typing events: {more:?}");

        // Never to the typer's own sockets.
        for (who, sock) in [
            ("typer", &mut typer),
            ("typer's second tab", &mut typer_tab2),
        ] {
            let own = sock.take_events::<Typing>(Duration::ZERO).await;
            assert!(own.is_empty(), "{who} got its own typing: {own:?}");
        }

        // Leaving while typing clears the flag for the others; `user_left`
        // comes when the user's last tab leaves, not before.
        assert_eq!(typer.request(&typing(chat, true)).await, Ok(Empty {}));
        assert!(other.expect_event::<Typing>().await.is_typing);
        let leave = LeaveChat { chat_id: chat };
        assert_eq!(
            typer.request(&leave).await,
            Ok(LeaveReply { chat_id: chat })
        );
        assert!(!other.expect_event::<Typing>().await.is_typing);
        let early = other.take_events::<UserLeft>(QUIET).await;
        assert!(early.is_empty(), "a tab is still in: {early:?}");
        typer_tab2.request(&leave).await.expect("left");
        assert_eq!(
            other.expect_event::<UserLeft>().await,
            UserLeft {
                chat_id: chat,
                user: ChatUser {
                    id: customer.id,
                    name: customer.name.clone(),
                    role: Role::Customer
                }
            }
        );
        // Out of the room: no more messages.
        let after = other.send(chat, "anyone there?").await;
        other
            .expect_event_where(|m: &NewMessage| m.0.id == after.id)
            .await;
        for sock in [&mut typer, &mut typer_tab2] {
            let got = sock.take_events::<NewMessage>(QUIET).await;
            assert!(got.is_empty(), "{got:?}");
        }
    }
);

// 7 ---------------------------------------------------------------------------

both_backends!(presence_counts_tabs, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut contact = app.socket(&provider).await;

    let tab1 = app.socket(&customer).await;
    let v = contact.expect_event::<PresenceChanged>().await;
    assert_eq!((v.user_id, v.online), (customer.id, true));
    let tab2 = app.socket(&customer).await;

    // Closing one tab keeps the user online: no presence event at all.
    tab1.close().await;
    let got = contact
        .take_events::<PresenceChanged>(Duration::from_millis(800))
        .await;
    assert!(got.is_empty(), "one tab closed: {got:?}");
    let ack = contact.join(chat).await;
    let me = ack
        .presence
        .iter()
        .find(|p| p.user_id == customer.id)
        .cloned()
        .expect("customer listed");
    assert!(me.online, "{ack:?}");
    assert_eq!(me.role, Role::Customer);

    // Closing the last one takes them offline, with a lastSeen time.
    tab2.close().await;
    let v = contact.expect_event::<PresenceChanged>().await;
    assert_eq!((v.user_id, v.online), (customer.id, false));
    assert!(v.last_seen.is_some(), "{v:?}");
    let (_, chats) = app.get("/api/chats", Some(&provider.token)).await;
    let chats: Vec<ChatSummary> = serde_json::from_value(chats).expect("chat list");
    let online = chats[0]
        .participants
        .iter()
        .find(|p| p.id == customer.id)
        .map(|p| p.online);
    assert_eq!(online, Some(false), "{chats:?}");
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
    assert_eq!(
        refused_with(l.request(&join(chat)).await),
        ErrorCode::NotFound
    );

    let raised = Instant::now();
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&provider.token),
            json!({ "reason": "Customer refuses to pay for parts" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let opened: DisputeOpened = serde_json::from_value(body).expect("dispute opened");
    let dispute_id = opened.dispute_id;

    let invited = l.expect_event::<LsmInvited>().await;
    assert_eq!(
        invited,
        LsmInvited {
            chat_id: chat,
            dispute_id,
            lsm: UserRef {
                id: lsm.id,
                name: lsm.name.clone()
            }
        }
    );
    let NewNotification(note) = l.expect_event::<NewNotification>().await;
    assert_eq!(note.chat_id, Some(chat), "{note:?}");
    assert_eq!(note.kind, "dispute_opened", "{note:?}");
    assert!(
        raised.elapsed() < Duration::from_secs(3),
        "the LSM heard late: {:?}",
        raised.elapsed()
    );
    for sock in [&mut c, &mut p] {
        assert_eq!(sock.expect_event::<LsmInvited>().await, invited);
        let NewMessage(sys) = sock
            .expect_event_where(|m: &NewMessage| m.0.kind == MessageKind::System)
            .await;
        assert_eq!(sys.chat_id, chat);
        assert_eq!(sys.sender_id, None);
    }

    let ack = l.join(chat).await;
    let people: HashSet<i64> = ack.presence.iter().map(|p| p.user_id).collect();
    assert_eq!(people, HashSet::from([customer.id, provider.id, lsm.id]));
    for sock in [&mut c, &mut p] {
        let v = sock
            .expect_event_where(|v: &UserJoined| v.user.id == lsm.id)
            .await;
        assert_eq!(
            v,
            UserJoined {
                chat_id: chat,
                user: ChatUser {
                    id: lsm.id,
                    name: lsm.name.clone(),
                    role: Role::Lsm
                }
            }
        );
    }

    let said = l.send(chat, "I'll look into it").await;
    assert_eq!(said.sender_role, Some(Role::Lsm));
    for sock in [&mut c, &mut p] {
        let NewMessage(v) = sock
            .expect_event_where(|m: &NewMessage| m.0.id == said.id)
            .await;
        assert_eq!(v.content, "I'll look into it");
        assert_eq!(v.sender_id, Some(lsm.id));
    }
    // The parties answer and the LSM hears them.
    let reply = c.send(chat, "Thanks").await;
    l.expect_event_where(|m: &NewMessage| m.0.id == reply.id)
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
        assert_eq!(
            sock.expect_event::<DisputeResolved>().await,
            DisputeResolved {
                chat_id: chat,
                dispute_id,
                resolution: "Parts refunded by half".into()
            }
        );
    }
    lsm_leaves_with_the_settlement(&app, chat, (&customer, &provider, &lsm), (c, p, l)).await;
});

/// After settling, the LSM has left: out of the live room, reads the
/// transcript up to the settlement, cannot post, type, join or raise a
/// dispute; a new dispute brings the same LSM back.
async fn lsm_leaves_with_the_settlement(
    app: &TestApp,
    chat: i64,
    (customer, provider, lsm): (&TestUser, &TestUser, &TestUser),
    (mut c, mut p, mut l): (TestSocket, TestSocket, TestSocket),
) {
    for sock in [&mut c, &mut p] {
        sock.expect_event_where(|v: &UserLeft| v.user.id == lsm.id && v.chat_id == chat)
            .await;
    }
    let settled = history(app, customer, chat).await;
    let settlement = settled.last().expect("the settlement").clone();
    assert_eq!(settlement.kind, MessageKind::System);

    let bells = || app.get("/api/notifications", Some(&lsm.token));
    let bells_before = bells().await.1;
    let private = c.send(chat, "Between the two of us now").await;
    p.expect_event_where(|m: &NewMessage| m.0.id == private.id)
        .await;
    assert!(
        l.take_events::<NewMessage>(QUIET)
            .await
            .iter()
            .all(|m| m.0.seq <= settlement.seq),
        "the LSM is out of the live room"
    );
    assert_eq!(
        history(app, lsm, chat).await,
        settled,
        "the transcript up to the settlement, nothing after"
    );
    let (_, list) = app.get("/api/chats", Some(&lsm.token)).await;
    let list: Vec<ChatSummary> = serde_json::from_value(list).expect("chats");
    let theirs = list.iter().find(|s| s.id == chat).expect("still listed");
    assert!(theirs.left);
    assert_eq!(theirs.last_seq, settlement.seq);
    assert_eq!(theirs.unread_count, 0);
    assert!(theirs.participants.iter().all(|x| x.id != lsm.id));
    assert_eq!(
        bells().await.1,
        bells_before,
        "no bell for a chat they left"
    );
    assert_eq!(
        refused_with(l.request(&message(chat, "One more thing")).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused_with(l.request(&join(chat)).await),
        ErrorCode::Forbidden
    );
    assert_eq!(
        refused_with(
            l.request(&SetTyping {
                chat_id: chat,
                is_typing: true
            })
            .await
        ),
        ErrorCode::Forbidden
    );
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&lsm.token),
            json!({ "reason": "I disagree with myself" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        p.take_events::<Typing>(QUIET).await.is_empty(),
        "no typing from someone who left"
    );

    // A new dispute: the LSM who knows the case comes back, though another
    // is less busy.
    let other_chat = app.book(customer, provider).await;
    let (status, body) = app
        .post(
            &format!("/api/chats/{other_chat}/dispute"),
            Some(&customer.token),
            json!({ "reason": "A different job" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let idle = app.create_lsm().await;
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&provider.token),
            json!({ "reason": "The fix did not hold" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reopened: DisputeOpened = serde_json::from_value(body).expect("opened");
    assert_eq!(reopened.lsm.id, lsm.id, "not {}", idle.id);
    l.expect_event_where(|i: &LsmInvited| i.chat_id == chat)
        .await;
    l.join(chat).await;
    let back = c.send(chat, "Welcome back").await;
    l.expect_event_where(|m: &NewMessage| m.0.id == back.id)
        .await;
    assert!(
        history(app, lsm, chat)
            .await
            .iter()
            .any(|m| m.id == private.id),
        "back in the chat, the whole history is theirs again"
    );
}

// 9 ---------------------------------------------------------------------------

both_backends!(rejoin_catches_up_after_a_gap, |app: TestApp| async move {
    let (customer, provider, chat) = pair(&app).await;
    let mut c = app.socket(&customer).await;
    c.join(chat).await;
    let newest = c.send(chat, "before the tunnel").await.id;
    c.close().await;

    let mut p = app.socket(&provider).await;
    p.join(chat).await;
    let mut missed = Vec::new();
    for i in 0..5 {
        missed.push(p.send(chat, &format!("while you were away {i}")).await);
    }
    missed.push(app.say(&provider, chat, "and one more").await);

    let mut back = app.socket(&customer).await;
    let catch_up = |after: i64| JoinChat {
        chat_id: chat,
        after_seq: None,
        after_message_id: Some(after),
    };
    let ack = back.request(&catch_up(newest)).await.expect("rejoined");
    assert_eq!(ack.chat_id, chat);
    assert_eq!(ack.has_more, Some(false));
    assert_eq!(
        ack.messages.as_ref(),
        Some(&missed),
        "exactly the missed messages, in order"
    );
    back.expect_event::<JoinedChat>().await;

    // Nothing missed: an empty catch-up.
    let last = missed.last().expect("last").id;
    let ack = back.request(&catch_up(last)).await.expect("rejoined");
    assert_eq!(ack.messages, Some(vec![]), "{ack:?}");
    // Without afterMessageId the ack has no `messages` key at all (a wire
    // detail the typed reply cannot show, so read raw).
    let raw = back.ack(JoinChat::NAME, json!({ "chatId": chat })).await;
    assert_eq!(raw["ok"], true, "{raw}");
    assert!(raw.get("messages").is_none(), "{raw}");

    // And live delivery continues after the rejoin.
    let live = p.send(chat, "welcome back").await;
    back.expect_event_where(|m: &NewMessage| m.0.id == live.id)
        .await;

    // Read markers: the room hears it; moving back is accepted but silent.
    let read = |message_id| MarkRead {
        chat_id: chat,
        message_id,
    };
    assert_eq!(back.request(&read(live.id)).await, Ok(Empty {}));
    assert_eq!(
        p.expect_event::<ReadMarker>().await,
        ReadMarker {
            chat_id: chat,
            user_id: customer.id,
            message_id: live.id,
            seq: live.seq,
        }
    );
    assert_eq!(back.request(&read(newest)).await, Ok(Empty {}));
    let back_reads = p.take_events::<ReadMarker>(QUIET).await;
    assert!(back_reads.is_empty(), "{back_reads:?}");

    // A gap longer than the catch-up limit: one page (200) in the ack,
    // `hasMore`, and REST `after=` gives the rest.
    back.close().await;
    let mark = live.id;
    // Straight into storage (no notifications): only the gap matters here.
    for i in 0..203 {
        app.service
            .db()
            .insert_user_message(
                chat,
                provider.id,
                &format!("long gap {i}"),
                &uuid_like(),
                BELLS,
            )
            .await
            .expect("stored")
            .expect("a participant");
    }
    let again = app.socket(&customer).await;
    let ack = again.request(&catch_up(mark)).await.expect("rejoined");
    let caught = ack.messages.expect("messages");
    assert_eq!(caught.len(), 200);
    assert_eq!(ack.has_more, Some(true));
    assert_eq!(caught[0].content, "long gap 0");
    assert_eq!(caught[199].content, "long gap 199");
    let last = caught[199].id;
    let (_, rest) = app
        .get(
            &format!("/api/chats/{chat}/messages?after={last}"),
            Some(&customer.token),
        )
        .await;
    let rest: MessagePage = serde_json::from_value(rest).expect("a page");
    let rest: Vec<&str> = rest.messages.iter().map(|m| m.content.as_str()).collect();
    assert_eq!(rest, ["long gap 200", "long gap 201", "long gap 202"]);
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
    watcher.expect_event::<UserJoined>().await;
    s.send(chat, "still valid").await;

    let closed = s.next_of(&[EV_CLOSE], Duration::from_secs(6)).await;
    let after = connected_at.elapsed();
    assert!(closed.is_some(), "not disconnected at token expiry");
    assert!(
        after >= Duration::from_secs(1),
        "closed too early: {after:?}"
    );

    // The others see the user leave and go offline.
    let left = watcher.expect_event::<UserLeft>().await;
    assert_eq!(left.user.id, customer.id);
    let v = watcher
        .expect_event_where(|v: &PresenceChanged| v.user_id == customer.id && !v.online)
        .await;
    assert!(v.last_seen.is_some(), "{v:?}");
    // Nothing sent on the dead socket gets through, and the token no longer works.
    let dead = s
        .try_request(&message(chat, "too late"), Duration::from_millis(500))
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
            .all(|m| m.content != "too late")
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
                refusal(&ack).code,
                ErrorCode::BadRequest,
                "{event} with {what}: {ack}"
            );
        }

        // Well-formed but pointing at nothing.
        assert_eq!(
            refused_with(c.request(&message(999_999, "x")).await),
            ErrorCode::NotFound
        );
        let read = MarkRead {
            chat_id: chat,
            message_id: 999_999,
        };
        assert_eq!(refused_with(c.request(&read).await), ErrorCode::NotFound);

        // Unknown events are refused with `bad_request` (when they ask for
        // an ack), never a disconnect.
        let unknown = c
            .try_ack(
                "no_such_event",
                json!({ "chatId": chat }),
                Duration::from_millis(2000),
            )
            .await
            .expect("an ack");
        assert_eq!(refusal(&unknown).code, ErrorCode::BadRequest);
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
        assert_eq!(at_limit.content, long);
        let ok = c.send(chat, "  still here  ").await;
        assert_eq!(ok.content, "still here", "trimmed");
        let closes = c.take(EV_CLOSE, Duration::ZERO).await;
        assert!(closes.is_empty(), "the server closed the socket");

        // Exactly those two were stored and broadcast.
        let h = history(&app, &customer, chat).await;
        assert_eq!(ids(&h), [ids(&booking), vec![at_limit.id, ok.id]].concat());
        let got = p.take_events::<NewMessage>(QUIET).await;
        assert_eq!(new_ids(&got), ids(&h[1..]));
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
        polled.expect_event::<UserJoined>().await.user.id,
        provider.id
    );

    let from_polling = polled.send(chat, "sent over long-polling").await;
    let NewMessage(v) = ws
        .expect_event_where(|m: &NewMessage| m.0.id == from_polling.id)
        .await;
    assert_eq!(v.content, "sent over long-polling");
    let from_ws = ws.send(chat, "sent over websocket").await;
    let NewMessage(v) = polled
        .expect_event_where(|m: &NewMessage| m.0.id == from_ws.id)
        .await;
    assert_eq!(v.content, "sent over websocket");
    assert_eq!(polled.request(&typing(chat, true)).await, Ok(Empty {}));
    assert_eq!(ws.expect_event::<Typing>().await.user_id, customer.id);

    // A burst in order over polling too.
    let mut sent = Vec::new();
    for i in 0..10 {
        sent.push(ws.send(chat, &format!("burst {i}")).await.id);
    }
    let mut got = Vec::new();
    for _ in 0..10 {
        let NewMessage(m) = polled
            .expect_event_where(|m: &NewMessage| m.0.id > from_ws.id)
            .await;
        got.push(m.id);
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
        match c.request(&message(chat, &format!("spam {i}"))).await {
            Ok(reply) => ok.push(reply.message.id),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
                limited += 1;
            }
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
    let got = p.take_events::<NewMessage>(QUIET).await;
    assert_eq!(new_ids(&got), ok);

    // The socket recovers once the bucket refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let after = c.send(chat, "calm again").await;
    p.expect_event_where(|m: &NewMessage| m.0.id == after.id)
        .await;

    // Typing has its own, smaller limit (5/s, bursts of 10).
    let mut typing_limited = 0;
    for _ in 0..30 {
        if let Err(e) = c.request(&typing(chat, true)).await {
            assert_eq!(e.code, ErrorCode::RateLimited, "{e:?}");
            typing_limited += 1;
        }
    }
    assert!(typing_limited > 0);
});

/// `JOBCHAT_SEND_LIMIT_PER_SEC` moves the send limit (benchmarks lift it).
#[tokio::test]
async fn the_send_limit_is_a_setting() {
    use crate::helpers::{Backend, spawn_app_configured};
    let tuning = server::Tuning {
        seed_demo_data: false,
    };
    let app = spawn_app_configured(Backend::Sqlite, tuning, |c| c.send_limit_per_sec = 3)
        .await
        .expect("sqlite always runs");
    let (customer, _, chat) = pair(&app).await;
    let c = app.socket(&customer).await;
    let started = Instant::now();
    let mut ok = 0;
    for i in 0..12 {
        if c.request(&message(chat, &format!("m{i}"))).await.is_ok() {
            ok += 1;
        }
    }
    let allowed = 7 + (started.elapsed().as_secs_f64() * 3.0).ceil() as usize;
    assert!(
        (6..=allowed).contains(&ok),
        "a burst of 6 (twice 3), then 3 a second: {ok}"
    );
}

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
            let sent = s
                .try_request(
                    &message(chat, &format!("at connect {round}")),
                    Duration::from_secs(5),
                )
                .await
                .unwrap_or_else(|| panic!("round {round}: send_message at connect got no ack"))
                .expect("sent");
            s.try_request(&join(chat), Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("round {round}: join_chat at connect got no ack"))
                .expect("joined");
            p.expect_event_where(|m: &NewMessage| m.0.id == sent.message.id)
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
        // Their departure is announced after its grace, once every
        // disconnect handler has run: wait for it, then ask.
        p.expect_event_where(|v: &PresenceChanged| v.user_id == customer.id && !v.online)
            .await;
        let ack = p.request(&join(chat)).await.expect("joined");
        let online = ack
            .presence
            .iter()
            .find(|x| x.user_id == customer.id)
            .map(|x| x.online);
        assert_eq!(online, Some(false), "{ack:?}");
    }
);
