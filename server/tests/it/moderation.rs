//! Reports, blocks, auto-flags and the LSMs' moderation queue (issue #23):
//! a report reaches every LSM live with its evidence; each action does what
//! it says and is written to the append-only log; a suspension ends the
//! account's sessions and sockets (on every node) and sign-in says why;
//! blocks stop bookings and bells and stay private.

use crate::both_backends;
use crate::helpers::{EV_CLOSE, TEST_PASSWORD, TestApp, TestSocket, TestUser, pair};
use contract::model::{
    AuditEntry, ItemKind, ItemStatus, Message, MessageKind, ModerationItem, ReportCategory,
    ReportReceipt, SystemEvent,
};
use contract::protocol::ModerationChanged;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

pub(crate) async fn report_message(
    app: &TestApp,
    who: &TestUser,
    chat: i64,
    message: i64,
    category: &str,
) -> (StatusCode, Value) {
    app.post(
        "/api/reports",
        Some(&who.token),
        json!({ "chatId": chat, "messageId": message, "category": category, "note": "He keeps asking" }),
    )
    .await
}

pub(crate) async fn queue(app: &TestApp, lsm: &TestUser, status: &str) -> Vec<ModerationItem> {
    let (code, body) = app
        .get(
            &format!("/api/moderation/items?status={status}"),
            Some(&lsm.token),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("items")
}

pub(crate) async fn act(
    app: &TestApp,
    lsm: &TestUser,
    item: i64,
    action: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/moderation/items/{item}/actions"),
        Some(&lsm.token),
        action,
    )
    .await
}

async fn log(app: &TestApp, lsm: &TestUser) -> Vec<AuditEntry> {
    let (code, body) = app.get("/api/moderation/log", Some(&lsm.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("log")
}

/// Waits for the next `moderation_item` event about a new open item.
async fn filed(sock: &mut TestSocket) -> i64 {
    sock.expect_event_where::<ModerationChanged>(|e| e.status == ItemStatus::Open)
        .await
        .item_id
        .expect("an item")
}

async fn sign_in(app: &TestApp, email: &str) -> (StatusCode, Value) {
    app.post(
        "/api/auth/login",
        None,
        json!({ "email": email, "password": TEST_PASSWORD }),
    )
    .await
}

both_backends!(
    a_report_reaches_every_lsm_live_with_its_evidence,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let other_lsm = app.create_lsm().await;
        let (customer, provider, chat) = pair(&app).await;
        let mut lsm_sock = app.socket(&lsm).await;
        let mut other_sock = app.socket(&other_lsm).await;
        let mut customer_sock = app.socket(&customer).await;
        app.say(&customer, chat, "When can you come?").await;
        let rude = app
            .say(&provider, chat, "Stop whining, pay double or nothing")
            .await;
        app.say(&customer, chat, "That is not what we agreed").await;

        let (status, body) = report_message(&app, &customer, chat, rude.id, "harassment").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let receipt: ReportReceipt = serde_json::from_value(body).expect("receipt");
        assert_eq!(filed(&mut lsm_sock).await, receipt.id);
        assert_eq!(filed(&mut other_sock).await, receipt.id);
        // Only LSMs hear of the queue.
        assert!(
            customer_sock
                .take_events::<ModerationChanged>(Duration::from_millis(300))
                .await
                .is_empty()
        );
        // Reporting it again files nothing new.
        let (status, body) = report_message(&app, &customer, chat, rude.id, "harassment").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["id"].as_i64(), Some(receipt.id));

        // Its sender deletes it; the report keeps what it said.
        let (status, body) = app
            .request(
                Method::DELETE,
                &format!("/api/chats/{chat}/messages/{}", rude.id),
                Some(&provider.token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");

        let items = queue(&app, &lsm, "open").await;
        assert_eq!(items.len(), 1, "{items:?}");
        let item = &items[0];
        assert_eq!(item.id, receipt.id);
        assert_eq!(item.kind, ItemKind::Report);
        assert_eq!(item.category, ReportCategory::Harassment);
        assert_eq!(item.evidence, "Stop whining, pay double or nothing");
        assert_eq!(item.note, "He keeps asking");
        assert_eq!(item.job_title, "Fix the sink");
        assert_eq!(item.job_status, "booked");
        assert_eq!(item.subject.id, provider.id);
        assert_eq!(item.subject.reports_against, 1);
        let reporter = item.reporter.as_ref().expect("a reporter");
        assert_eq!((reporter.id, reporter.reports_filed), (customer.id, 1));
        // The context: the message before, the reported one, the one after.
        let ids: Vec<i64> = item.context.iter().map(|m| m.id).collect();
        assert!(ids.contains(&rude.id), "{ids:?}");
        assert!(item.context.len() >= 4, "{:?}", item.context);
    }
);

both_backends!(
    every_action_does_what_it_says_and_is_logged,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let (customer, provider, chat) = pair(&app).await;
        let mut lsm_sock = app.socket(&lsm).await;
        let mut provider_sock = app.socket(&provider).await;
        let mut customer_sock = app.socket(&customer).await;
        customer_sock.join(chat).await;
        let first = app.say(&provider, chat, "you will regret booking me").await;
        let second = app
            .say(&provider, chat, "pay me in cash, it is cheaper")
            .await;
        let third = app.say(&provider, chat, "last warning").await;
        let mut items = Vec::new();
        for (m, category) in [
            (&first, "harassment"),
            (&second, "off_platform_payment"),
            (&third, "other"),
        ] {
            let (status, body) = report_message(&app, &customer, chat, m.id, category).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            items.push(filed(&mut lsm_sock).await);
        }

        // A reason is required.
        let (status, _) = act(
            &app,
            &lsm,
            items[2],
            json!({ "action": "dismiss", "reason": " " }),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // Dismiss: the item closes; acting on it again is refused.
        let (status, body) = act(
            &app,
            &lsm,
            items[2],
            json!({ "action": "dismiss", "reason": "Not abusive" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = act(
            &app,
            &lsm,
            items[2],
            json!({ "action": "warn", "reason": "again" }),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // Hide: the message is removed for everyone, live and in history.
        let (status, body) = act(
            &app,
            &lsm,
            items[0],
            json!({ "action": "hide", "reason": "Threat" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let entry: AuditEntry = serde_json::from_value(body).expect("a log line");
        assert_eq!(entry.detail, "you will regret booking me");
        let live = customer_sock
            .expect_event_where::<contract::protocol::NewMessage>(|e| {
                e.0.target_id == Some(first.id)
            })
            .await
            .0;
        assert_eq!(live.kind, MessageKind::Delete);
        assert!(live.is_hidden() && live.is_deleted(), "{live:?}");
        let history = app.all_messages(&customer, chat).await;
        let gone = history
            .iter()
            .find(|m| m.id == first.id)
            .expect("still listed");
        assert!(gone.is_hidden() && gone.content.is_empty(), "{gone:?}");
        // The LSM of no dispute reads nothing of it; the report keeps it.
        assert!(search_hits(&app, &customer, "regret").await == 0);

        // Warn: a system line in the chat, with the reason, live.
        let (status, body) = act(
            &app,
            &lsm,
            items[1],
            json!({ "action": "warn", "reason": "Payments go through the platform" }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let warning: Message = customer_sock
            .expect_event_where::<contract::protocol::NewMessage>(|e| {
                e.0.kind == MessageKind::System
            })
            .await
            .0;
        match warning.event.as_deref() {
            Some(SystemEvent::Warning { user, reason, .. }) => {
                assert_eq!(*user, Some(provider.id));
                assert_eq!(reason, "Payments go through the platform");
            }
            other => panic!("not a warning: {other:?}"),
        }

        // Suspend: sessions end, sockets close, sign-in says why.
        let (status, body) = app
            .post(
                &format!("/api/moderation/users/{}/actions", provider.id),
                Some(&lsm.token),
                json!({ "action": "suspend", "reason": "Threats to a customer", "days": 7 }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // Every LSM's queue hears of it (no item: the person's standing).
        lsm_sock
            .expect_event_where::<ModerationChanged>(|e| e.item_id.is_none())
            .await;
        assert!(
            provider_sock
                .next_of(&[EV_CLOSE], Duration::from_secs(2))
                .await
                .is_some(),
            "the suspended account's socket is still open"
        );
        let (status, _) = app.get("/api/me", Some(&provider.token)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, body) = sign_in(&app, &provider.email).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("suspended until") && message.contains("Threats to a customer"),
            "{message}"
        );
        // A wrong password learns nothing of the suspension.
        let (status, _) = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": provider.email, "password": "not the password at all" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let suspended = queue(&app, &lsm, "dismissed").await;
        assert_eq!(suspended.len(), 1);
        assert!(suspended[0].subject.suspended);

        // An LSM cannot be suspended by another.
        let other = app.create_lsm().await;
        let (status, _) = app
            .post(
                &format!("/api/moderation/users/{}/actions", other.id),
                Some(&lsm.token),
                json!({ "action": "suspend", "reason": "no" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Lift: sign-in works again.
        let (status, body) = app
            .post(
                &format!("/api/moderation/users/{}/actions", provider.id),
                Some(&lsm.token),
                json!({ "action": "lift", "reason": "Apologised" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = sign_in(&app, &provider.email).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = app
            .post(
                &format!("/api/moderation/users/{}/actions", provider.id),
                Some(&lsm.token),
                json!({ "action": "lift", "reason": "twice" }),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        // The log has every action, newest first, with who and why.
        let lines = log(&app, &lsm).await;
        let actions: Vec<&str> = lines.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["lift", "suspend", "warn", "hide", "dismiss"]);
        assert!(lines.iter().all(|e| e.actor.id == lsm.id));
        assert!(lines[1].detail.starts_with("until "), "{}", lines[1].detail);
        // The CSV export has them too.
        let res = app
            .client
            .get(format!("{}/api/moderation/log.csv", app.addr))
            .bearer_auth(&lsm.token)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap_or("")
                .starts_with("text/csv")
        );
        let csv = res.text().await.expect("body");
        assert_eq!(csv.lines().count(), 1 + lines.len(), "{csv}");
        assert!(csv.contains("Threats to a customer"));

        // Append-only: the database refuses to change or delete a line.
        for sql in [
            "UPDATE moderation_log SET reason = 'nothing happened'",
            "DELETE FROM moderation_log",
        ] {
            let refused = match app.service.db() {
                server::storage::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
                server::storage::Db::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
            };
            assert!(refused, "{sql} went through");
        }
        assert_eq!(log(&app, &lsm).await.len(), lines.len());
    }
);

async fn search_hits(app: &TestApp, user: &TestUser, q: &str) -> usize {
    let (status, body) = app
        .get(&format!("/api/search?q={q}"), Some(&user.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().map_or(0, Vec::len)
}

both_backends!(
    blocks_stop_bookings_and_bells_and_stay_private,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let (customer, provider, chat) = pair(&app).await;
        let block = |who: &TestUser, whom: i64, method: Method| {
            let token = who.token.clone();
            let app = &app;
            async move {
                app.request(method, &format!("/api/blocks/{whom}"), Some(&token), None)
                    .await
            }
        };
        assert_eq!(
            block(&customer, customer.id, Method::PUT).await.0,
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            block(&customer, lsm.id, Method::PUT).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            block(&customer, 999_999, Method::PUT).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, body) = block(&customer, provider.id, Method::PUT).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        // Again: nothing changes.
        assert_eq!(
            block(&customer, provider.id, Method::PUT).await.0,
            StatusCode::NO_CONTENT
        );

        // Messages still arrive (the job goes on), but ring no bell.
        let unread_before = unread_bells(&app, &customer).await;
        let m = app
            .say(&provider, chat, "I am still coming on Tuesday")
            .await;
        let history = app.all_messages(&customer, chat).await;
        assert!(history.iter().any(|h| h.id == m.id));
        assert_eq!(unread_bells(&app, &customer).await, unread_before);
        // The provider's own bell still rings for the customer's messages.
        let provider_before = unread_bells(&app, &provider).await;
        app.say(&customer, chat, "ok").await;
        assert!(unread_bells(&app, &provider).await > provider_before);

        // No new booking, whoever blocked whom; the refusal says no more.
        let (status, body) = app
            .post(
                "/api/jobs",
                Some(&customer.token),
                json!({ "providerId": provider.id, "title": "Again" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

        // Private: only the blocker sees it.
        let (_, mine) = app.get("/api/blocks", Some(&customer.token)).await;
        assert_eq!(mine[0]["user"]["id"].as_i64(), Some(provider.id), "{mine}");
        let (_, theirs) = app.get("/api/blocks", Some(&provider.token)).await;
        assert_eq!(theirs, json!([]));

        // Unblocking restores booking.
        assert_eq!(
            block(&customer, provider.id, Method::DELETE).await.0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            block(&customer, provider.id, Method::DELETE).await.0,
            StatusCode::NOT_FOUND
        );
        app.book(&customer, &provider).await;

        // The provider blocking the customer stops the customer's booking too.
        assert_eq!(
            block(&provider, customer.id, Method::PUT).await.0,
            StatusCode::NO_CONTENT
        );
        let (status, _) = app
            .post(
                "/api/jobs",
                Some(&customer.token),
                json!({ "providerId": provider.id, "title": "Third" }),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
);

async fn unread_bells(app: &TestApp, user: &TestUser) -> i64 {
    let (status, body) = app
        .get("/api/notifications?unread=true", Some(&user.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .map(|b| b.iter().filter_map(|n| n["count"].as_i64()).sum())
        .unwrap_or(0)
}

both_backends!(
    the_server_flags_repeated_contact_and_new_accounts_in_a_hurry,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let mut lsm_sock = app.socket(&lsm).await;
        let (_customer, provider, chat) = pair(&app).await;
        app.say(&provider, chat, "call me on 0176 1234 5678").await;
        app.say(&provider, chat, "hello?").await;
        app.say(&provider, chat, "or mail bob.fixes at gmail dot com")
            .await;
        let flag = filed(&mut lsm_sock).await;
        let items = queue(&app, &lsm, "open").await;
        let item = items.iter().find(|i| i.id == flag).expect("the flag");
        assert_eq!(
            (item.kind, item.category, item.subject.id),
            (ItemKind::Flag, ReportCategory::RepeatedContact, provider.id)
        );
        assert!(item.reporter.is_none());

        // A new account writing in five chats is flagged, once.
        let hurried = app.register("customer").await;
        for n in 0..6 {
            let p = app.register("provider").await;
            let chat = app.book(&hurried, &p).await;
            app.say(&hurried, chat, &format!("hi number {n}")).await;
        }
        let flag = filed(&mut lsm_sock).await;
        let items = queue(&app, &lsm, "open").await;
        let burst: Vec<&ModerationItem> = items
            .iter()
            .filter(|i| i.category == ReportCategory::NewAccountBurst)
            .collect();
        assert_eq!(burst.len(), 1, "{burst:?}");
        assert_eq!((burst[0].id, burst[0].subject.id), (flag, hurried.id));
    }
);

/// A suspension through node A closes the account's sockets on node B at
/// once, and node B refuses its token and its sign-in.
#[tokio::test]
async fn a_suspension_closes_sockets_on_every_node() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let lsm = a.create_lsm().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut on_b = b.socket(&provider).await;
    on_b.join(chat).await;
    let mut lsm_on_b = b.socket(&lsm).await;
    let rude = a.say(&provider, chat, "you will regret this").await;
    let (status, body) = report_message(&a, &customer, chat, rude.id, "harassment").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The LSM on node B hears of the report filed on node A.
    let item = filed(&mut lsm_on_b).await;
    let (status, body) = act(
        &a,
        &lsm,
        item,
        json!({ "action": "suspend", "reason": "Threats", "days": 3 }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        on_b.next_of(&[EV_CLOSE], Duration::from_secs(2))
            .await
            .is_some(),
        "the socket on node B is still open"
    );
    let (status, _) = a
        .request_at(&b.addr, Method::GET, "/api/me", Some(&provider.token), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = a
        .request_at(
            &b.addr,
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({ "email": provider.email, "password": TEST_PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        TestSocket::connect(&b.addr, crate::helpers::SocketOpts::token(&provider.token))
            .await
            .is_err()
    );
}
