//! Jobs, chats, history, read markers, disputes and notifications over HTTP.

use crate::both_backends;
use crate::helpers::{TestApp, TestUser, pair};
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(booking_rules, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let other_customer = app.register("customer").await;

    let chat = app.book(&customer, &provider).await;
    let (status, chats) = app.get("/api/chats", Some(&provider.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(chats[0]["id"], chat);
    assert_eq!(chats[0]["jobTitle"], "Fix the sink");
    assert_eq!(
        chats[0]["lastMessage"]["content"],
        "Job booked: Fix the sink"
    );
    assert_eq!(chats[0]["lastMessage"]["kind"], "system");
    assert_eq!(
        chats[0]["lastMessage"]["event"],
        json!({ "type": "job_booked", "title": "Fix the sink" })
    );
    // A system line is not counted unread.
    assert_eq!(chats[0]["unreadCount"], 0);
    assert_eq!(chats[0]["lsmInvited"], false);
    assert_eq!(chats[0]["dispute"], Value::Null);
    assert_eq!(chats[0]["participants"].as_array().map(Vec::len), Some(2));

    // Providers cannot book; the provider id must be a provider.
    let (status, _) = app
        .post(
            "/api/jobs",
            Some(&provider.token),
            json!({ "providerId": provider.id, "title": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            "/api/jobs",
            Some(&customer.token),
            json!({ "providerId": other_customer.id, "title": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = app
        .post(
            "/api/jobs",
            Some(&customer.token),
            json!({ "providerId": 999_999, "title": "x" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(
            "/api/jobs",
            Some(&customer.token),
            json!({ "providerId": provider.id, "title": "" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(
            "/api/jobs",
            Some(&customer.token),
            json!({ "providerId": provider.id, "title": "t", "description": "d".repeat(4001) }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(
            "/api/jobs",
            None,
            json!({ "providerId": provider.id, "title": "t" }),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, providers) = app.get("/api/providers", Some(&customer.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        providers
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["id"] == provider.id)
    );
    assert!(
        !providers
            .as_array()
            .expect("list")
            .iter()
            .any(|p| p["id"] == customer.id)
    );

    // Unknown fields are ignored.
    let (status, _) = app
        .post(
            "/api/jobs",
            Some(&customer.token),
            json!({ "providerId": provider.id, "title": "t", "extra": true }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Most recent activity first.
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    assert_eq!(chats.as_array().map(Vec::len), Some(2));
    assert_ne!(chats[0]["id"], chat);
    app.say(&customer, chat, "bump").await;
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    assert_eq!(chats[0]["id"], chat);
});

both_backends!(
    history_pages_through_500_messages,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        for i in 0..520 {
            let who = if i % 2 == 0 { &customer } else { &provider };
            app.say(who, chat, &format!("message {i}")).await;
        }
        let path = |q: &str| format!("/api/chats/{chat}/messages{q}");

        // Default page: the newest 50, oldest first.
        let (status, page) = app.get(&path(""), Some(&customer.token)).await;
        assert_eq!(status, StatusCode::OK);
        let msgs = page["messages"].as_array().expect("messages");
        assert_eq!(msgs.len(), 50);
        assert_eq!(page["hasMore"], true);
        assert_eq!(msgs.last().expect("last")["content"], "message 519");

        // Walk back with `before` at the maximum page size: no gaps, no duplicates.
        let mut ids: Vec<i64> = Vec::new();
        let mut before: Option<i64> = None;
        loop {
            let q = match before {
                Some(b) => format!("?limit=200&before={b}"),
                None => "?limit=200".into(),
            };
            let (status, page) = app.get(&path(&q), Some(&provider.token)).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let chunk: Vec<i64> = page["messages"]
                .as_array()
                .expect("m")
                .iter()
                .map(|m| m["id"].as_i64().expect("id"))
                .collect();
            assert!(chunk.len() <= 200);
            assert!(chunk.windows(2).all(|w| w[0] < w[1]));
            before = chunk.first().copied();
            ids.splice(0..0, chunk);
            if page["hasMore"] == false {
                break;
            }
        }
        assert_eq!(
            ids.len(),
            521,
            "every message once (520 + the booking message)"
        );
        assert!(ids.windows(2).all(|w| w[0] < w[1]));

        // `after` returns what came later, in order, with hasMore.
        let (_, page) = app
            .get(
                &path(&format!("?after={}&limit=10", ids[500])),
                Some(&customer.token),
            )
            .await;
        let got: Vec<i64> = page["messages"]
            .as_array()
            .expect("m")
            .iter()
            .map(|m| m["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(got, ids[501..511].to_vec());
        assert_eq!(page["hasMore"], true);
        let (_, page) = app
            .get(
                &path(&format!("?after={}", ids[510])),
                Some(&customer.token),
            )
            .await;
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(10));
        assert_eq!(page["hasMore"], false);
        let (_, page) = app
            .get(
                &path(&format!("?after={}", ids[520])),
                Some(&customer.token),
            )
            .await;
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(0));
        // `before` the first message: nothing.
        let (_, page) = app
            .get(&path(&format!("?before={}", ids[0])), Some(&customer.token))
            .await;
        assert_eq!(page["messages"].as_array().map(Vec::len), Some(0));
        assert_eq!(page["hasMore"], false);

        for bad in [
            "?limit=0",
            "?limit=201",
            "?limit=-5",
            "?before=abc",
            "?limit=1.5",
            "?before=0",
        ] {
            let (status, body) = app.get(&path(bad), Some(&customer.token)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
            assert_eq!(body["error"]["code"], "bad_request");
        }
        let (status, _) = app
            .get("/api/chats/abc/messages", Some(&customer.token))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
);

both_backends!(
    read_markers_drive_unread_counts,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        let m1 = app.say(&customer, chat, "one").await;
        let m2 = app.say(&customer, chat, "two").await;
        let unread = |v: &Value| v[0]["unreadCount"].as_i64();
        // The customer's two messages (the booking line is not counted).
        assert_eq!(
            unread(&app.get("/api/chats", Some(&provider.token)).await.1),
            Some(2)
        );
        let (status, _) = app
            .post(
                &format!("/api/chats/{chat}/read"),
                Some(&provider.token),
                json!({ "messageId": m2.id }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            unread(&app.get("/api/chats", Some(&provider.token)).await.1),
            Some(0)
        );
        // The customer sees how far the provider has read ("Read" ticks).
        let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
        let marker = chats[0]["participants"]
            .as_array()
            .expect("participants")
            .iter()
            .find(|p| p["id"] == provider.id)
            .expect("provider")["lastReadMessageId"]
            .clone();
        assert_eq!(marker, m2.id);
        // Never backwards.
        let (status, _) = app
            .post(
                &format!("/api/chats/{chat}/read"),
                Some(&provider.token),
                json!({ "messageId": m1.id }),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert_eq!(
            unread(&app.get("/api/chats", Some(&provider.token)).await.1),
            Some(0)
        );
        // The sender's own messages are never unread for them (nor is the
        // booking line).
        assert_eq!(
            unread(&app.get("/api/chats", Some(&customer.token)).await.1),
            Some(0)
        );
        // A message of another chat is refused.
        let other_chat = app.book(&customer, &provider).await;
        let (status, _) = app
            .post(
                &format!("/api/chats/{other_chat}/read"),
                Some(&provider.token),
                json!({ "messageId": m1.id }),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

both_backends!(authorization_matrix, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let outsider = app.register("customer").await;
    let lsm = app.create_lsm().await;
    let chat = app.book(&customer, &provider).await;
    let msg = app.say(&customer, chat, "hello").await;
    let expired = app.forge_token(&customer, contract::model::Role::Customer, -10, None);
    let forged = app.forge_token(
        &customer,
        contract::model::Role::Customer,
        600,
        Some(&[9u8; 40]),
    );

    let history = format!("/api/chats/{chat}/messages");
    let read = format!("/api/chats/{chat}/read");
    let dispute = format!("/api/chats/{chat}/dispute");

    // (who, token, expected status for history/read)
    let check = |token: Option<String>, expect: StatusCode, who: &'static str| {
        let (history, read) = (history.clone(), read.clone());
        let app = &app;
        async move {
            let (s, b) = app.get(&history, token.as_deref()).await;
            assert_eq!(s, expect, "{who} history: {b}");
            let (s, b) = app
                .post(&read, token.as_deref(), json!({ "messageId": msg.id }))
                .await;
            let want = if expect == StatusCode::OK {
                StatusCode::NO_CONTENT
            } else {
                expect
            };
            assert_eq!(s, want, "{who} read: {b}");
            if expect != StatusCode::OK {
                let (s, b) = app
                    .post(
                        &format!("/api/chats/{chat}/dispute"),
                        token.as_deref(),
                        json!({ "reason": "x" }),
                    )
                    .await;
                assert_eq!(s, expect, "{who} dispute: {b}");
            }
        }
    };
    check(Some(customer.token.clone()), StatusCode::OK, "customer").await;
    check(Some(provider.token.clone()), StatusCode::OK, "provider").await;
    // Outsiders are told "not found", as for a chat that does not exist.
    check(
        Some(outsider.token.clone()),
        StatusCode::NOT_FOUND,
        "outsider",
    )
    .await;
    check(
        Some(lsm.token.clone()),
        StatusCode::NOT_FOUND,
        "LSM before being added",
    )
    .await;
    check(None, StatusCode::UNAUTHORIZED, "no token").await;
    check(Some(expired), StatusCode::UNAUTHORIZED, "expired token").await;
    check(
        Some(forged),
        StatusCode::UNAUTHORIZED,
        "token signed with another secret",
    )
    .await;
    let (s, _) = app
        .get("/api/chats/999999/messages", Some(&customer.token))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The provider raises a dispute: the LSM is in from then on.
    let (s, body) = app
        .post(
            &dispute,
            Some(&provider.token),
            json!({ "reason": "Work not finished" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(body["lsm"]["id"], lsm.id);
    check(
        Some(lsm.token.clone()),
        StatusCode::OK,
        "LSM after being added",
    )
    .await;
    check(
        Some(outsider.token.clone()),
        StatusCode::NOT_FOUND,
        "outsider after dispute",
    )
    .await;
    // The outsider's chat list never shows it.
    let (_, chats) = app.get("/api/chats", Some(&outsider.token)).await;
    assert_eq!(chats, json!([]));
    let dispute_id = body["disputeId"].as_i64().expect("id");
    // Only the dispute's LSM may resolve it: the chat's people are told
    // why not, anyone else gets the answer of a dispute that does not exist.
    let other_lsm = app.create_lsm().await;
    let resolve = |who: &TestUser, id: i64| {
        let app = &app;
        let token = who.token.clone();
        async move {
            app.post(
                &format!("/api/disputes/{id}/resolve"),
                Some(&token),
                json!({ "resolution": "x" }),
            )
            .await
        }
    };
    for who in [&customer, &provider] {
        assert_eq!(resolve(who, dispute_id).await.0, StatusCode::FORBIDDEN);
    }
    let missing = resolve(&outsider, 999_999).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND, "{}", missing.1);
    for who in [&outsider, &other_lsm] {
        assert_eq!(resolve(who, dispute_id).await, missing, "{}", who.name);
    }
    let (s, _) = app
        .post(
            &format!("/api/disputes/{dispute_id}/resolve"),
            None,
            json!({ "resolution": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
});

both_backends!(dispute_flow, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat = app.book(&customer, &provider).await;
    let dispute = format!("/api/chats/{chat}/dispute");

    let (s, body) = app
        .post(
            &dispute,
            Some(&customer.token),
            json!({ "reason": "Leak is back" }),
        )
        .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");

    let lsm1 = app.create_lsm().await;
    let lsm2 = app.create_lsm().await;
    let (s, _) = app
        .post(&dispute, Some(&customer.token), json!({ "reason": "" }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, body) = app
        .post(
            &dispute,
            Some(&customer.token),
            json!({ "reason": "Leak is back" }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["lsm"]["id"], lsm1.id,
        "fewest open disputes, ties by lowest id"
    );
    let dispute_id = body["disputeId"].as_i64().expect("id");

    let (s, body) = app
        .post(
            &dispute,
            Some(&provider.token),
            json!({ "reason": "Me too" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["details"]["dispute"]["id"], dispute_id);

    // The chat shows it; the LSM got a notification and sees the chat.
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    assert_eq!(chats[0]["lsmInvited"], true);
    assert_eq!(
        chats[0]["dispute"],
        json!({ "id": dispute_id, "status": "open" })
    );
    assert_eq!(chats[0]["participants"].as_array().map(Vec::len), Some(3));
    assert!(
        chats[0]["lastMessage"]["content"]
            .as_str()
            .expect("text")
            .contains("Leak is back")
    );
    let (_, notes) = app
        .get("/api/notifications?unread=true", Some(&lsm1.token))
        .await;
    assert_eq!(notes.as_array().map(Vec::len), Some(1));
    assert_eq!(notes[0]["kind"], "dispute_opened");
    assert_eq!(notes[0]["chatId"], chat);
    let (_, lsm_chats) = app.get("/api/chats", Some(&lsm1.token)).await;
    assert_eq!(lsm_chats[0]["id"], chat);

    // A second chat's dispute goes to the less busy LSM.
    let chat2 = app.book(&customer, &provider).await;
    let (_, body) = app
        .post(
            &format!("/api/chats/{chat2}/dispute"),
            Some(&customer.token),
            json!({ "reason": "Again" }),
        )
        .await;
    assert_eq!(body["lsm"]["id"], lsm2.id);

    let resolve = format!("/api/disputes/{dispute_id}/resolve");
    let (s, body) = app
        .post(
            &resolve,
            Some(&lsm1.token),
            json!({ "resolution": "Provider returns Friday, no charge" }),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "resolved");
    let (s, _) = app
        .post(
            &resolve,
            Some(&lsm1.token),
            json!({ "resolution": "again" }),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, _) = app
        .post(
            "/api/disputes/999999/resolve",
            Some(&lsm1.token),
            json!({ "resolution": "x" }),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for who in [&customer, &provider] {
        let (_, notes) = app
            .get("/api/notifications?unread=true", Some(&who.token))
            .await;
        assert!(
            notes
                .as_array()
                .expect("list")
                .iter()
                .any(|n| n["kind"] == "dispute_resolved"),
            "{notes}"
        );
    }
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    let c = chats
        .as_array()
        .expect("l")
        .iter()
        .find(|c| c["id"] == chat)
        .expect("chat")
        .clone();
    assert_eq!(c["dispute"]["status"], "resolved");
});

both_backends!(
    notifications_coalesce_and_can_be_read,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        for i in 0..3 {
            app.say(&customer, chat, &format!("update {i}")).await;
        }
        let (s, notes) = app
            .get("/api/notifications?unread=true", Some(&provider.token))
            .await;
        assert_eq!(s, StatusCode::OK);
        let list = notes.as_array().expect("list");
        assert_eq!(list.len(), 1, "{notes}");
        assert_eq!(list[0]["count"], 3);
        assert_eq!(
            list[0]["title"],
            format!("3 new messages from {} — Fix the sink", customer.name)
        );
        assert_eq!(list[0]["body"], "update 2");
        // The sender gets none for their own messages.
        let (_, mine) = app.get("/api/notifications", Some(&customer.token)).await;
        assert_eq!(mine, json!([]));

        let id = list[0]["id"].as_i64().expect("id");
        let (s, _) = app
            .post(
                &format!("/api/notifications/{id}/read"),
                Some(&customer.token),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "not theirs");
        let (s, _) = app
            .post(
                &format!("/api/notifications/{id}/read"),
                Some(&provider.token),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, unread) = app
            .get("/api/notifications?unread=true", Some(&provider.token))
            .await;
        assert_eq!(unread, json!([]));
        app.say(&customer, chat, "one more").await;
        app.say(&customer, chat, "and another").await;
        let (_, all) = app.get("/api/notifications", Some(&provider.token)).await;
        assert_eq!(
            all.as_array().map(Vec::len),
            Some(2),
            "a fresh one after the read one"
        );
        let (s, _) = app
            .post(
                "/api/notifications/read-all",
                Some(&provider.token),
                json!({}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, unread) = app
            .get("/api/notifications?unread=true", Some(&provider.token))
            .await;
        assert_eq!(unread, json!([]));
    }
);

both_backends!(
    outsiders_cannot_tell_missing_chats_from_others,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        app.say(&customer, chat, "private").await;
        let outsider = app.register("customer").await;
        let missing = chat + 1_000;
        // The raw bodies: byte for byte the same for someone else's chat and
        // for one that does not exist, on every route that takes a chat id.
        let raw = |method: reqwest::Method, path: String, body: Option<Value>| {
            let app = &app;
            let token = outsider.token.clone();
            async move {
                let mut req = app
                    .client
                    .request(method, format!("{}{path}", app.addr))
                    .bearer_auth(token);
                if let Some(b) = body {
                    req = req.json(&b);
                }
                let res = req.send().await.expect("sent");
                (res.status(), res.text().await.expect("body"))
            }
        };
        for (method, path, body) in [
            (reqwest::Method::GET, "messages", None),
            (
                reqwest::Method::POST,
                "read",
                Some(json!({ "messageId": 1 })),
            ),
            (
                reqwest::Method::POST,
                "dispute",
                Some(json!({ "reason": "let me see" })),
            ),
        ] {
            let theirs = raw(
                method.clone(),
                format!("/api/chats/{chat}/{path}"),
                body.clone(),
            )
            .await;
            let nobodys = raw(method, format!("/api/chats/{missing}/{path}"), body).await;
            assert_eq!(theirs.0, StatusCode::NOT_FOUND, "{path}: {}", theirs.1);
            assert_eq!(theirs, nobodys, "{path}");
        }
        assert_eq!(
            raw(
                reqwest::Method::GET,
                format!("/api/chats/{chat}/messages"),
                None
            )
            .await
            .1,
            r#"{"error":{"code":"not_found","message":"chat not found"}}"#
        );
    }
);

// The chat list is read a page at a time (never every chat a user has);
// bad paging values are `bad_request`.
both_backends!(the_chat_list_is_paged, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let mut chats = Vec::new();
    for _ in 0..3 {
        chats.push(app.book(&customer, &provider).await);
    }
    let (status, first) = app.get("/api/chats?limit=2", Some(&customer.token)).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let first = first.as_array().expect("an array").clone();
    assert_eq!(first.len(), 2);
    let last = &first[1];
    let path = format!(
        "/api/chats?limit=2&beforeMessage={}&beforeChat={}",
        last["lastMessage"]["id"].as_i64().unwrap_or(0),
        last["id"].as_i64().expect("id")
    );
    let (status, rest) = app.get(&path, Some(&customer.token)).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    let rest = rest.as_array().expect("an array").clone();
    assert_eq!(rest.len(), 1, "fewer than the limit: the last page");
    let mut ids: Vec<i64> = first
        .iter()
        .chain(&rest)
        .map(|c| c["id"].as_i64().expect("id"))
        .collect();
    ids.sort_unstable();
    chats.sort_unstable();
    assert_eq!(ids, chats);

    for bad in [
        "limit=0",
        "limit=201",
        "beforeMessage=3",
        "beforeChat=3",
        "limit=x",
    ] {
        let (status, body) = app
            .get(&format!("/api/chats?{bad}"), Some(&customer.token))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
});

// Reads of the chat list and history are limited per user: a loop of
// 200-row pages is refused with 429 and Retry-After.
#[tokio::test]
async fn reads_are_rate_limited_per_user() {
    let app = crate::helpers::spawn_with_limits(crate::helpers::Backend::Sqlite, |l| {
        l.reads_per_user_per_min = 3
    })
    .await
    .expect("sqlite always runs");
    let (customer, provider, chat) = pair(&app).await;
    let history = format!("/api/chats/{chat}/messages?limit=200");
    for path in ["/api/chats", history.as_str(), "/api/chats"] {
        let (status, body) = app.get(path, Some(&customer.token)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
    }
    let res = app
        .client
        .get(format!("{}{history}", app.addr))
        .bearer_auth(&customer.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(crate::helpers::retry_after(&res) >= 1);
    // Counted per user: the provider reads on.
    let (status, _) = app.get("/api/chats", Some(&provider.token)).await;
    assert_eq!(status, StatusCode::OK);
}
