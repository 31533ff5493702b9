//! Who may do what with reports, blocks and moderation: every new REST
//! route and server function against customers and providers of the chat,
//! an LSM, a suspended account, an outsider and no one at all, as a table;
//! and the `moderation_item` socket event, which only LSMs receive.

use crate::both_backends;
use crate::helpers::{SocketOpts, TestApp, TestSocket, TestUser, pair};
use contract::protocol::ModerationChanged;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Actor {
    Customer,
    Provider,
    Lsm,
    Suspended,
    Outsider,
    Nobody,
}

const ACTORS: [Actor; 6] = [
    Actor::Customer,
    Actor::Provider,
    Actor::Suspended,
    Actor::Outsider,
    Actor::Nobody,
    // Last: the LSM's actions change what the others would act on.
    Actor::Lsm,
];

/// The chat and the people around it.
struct World {
    customer: TestUser,
    provider: TestUser,
    lsm: TestUser,
    suspended: TestUser,
    outsider: TestUser,
    chat: i64,
    /// The provider's and the customer's messages in the chat.
    providers_message: i64,
    customers_message: i64,
    /// An open report about the provider's message.
    item: i64,
    /// Someone nobody is in a chat with (blocked and unblocked).
    stranger: i64,
    /// Someone the LSM suspends and lets back in.
    target: i64,
}

impl World {
    fn token(&self, a: Actor) -> Option<&str> {
        Some(match a {
            Actor::Customer => &self.customer.token,
            Actor::Provider => &self.provider.token,
            Actor::Lsm => &self.lsm.token,
            Actor::Suspended => &self.suspended.token,
            Actor::Outsider => &self.outsider.token,
            Actor::Nobody => return None,
        })
    }

    /// The message of the other party (the one an actor would report).
    fn others_message(&self, a: Actor) -> i64 {
        match a {
            Actor::Provider => self.customers_message,
            _ => self.providers_message,
        }
    }
}

async fn world(app: &TestApp) -> World {
    let lsm = app.create_lsm().await;
    let (customer, provider, chat) = pair(app).await;
    let suspended = app.register("customer").await;
    let suspended_chat = app.book(&suspended, &provider).await;
    let outsider = app.register("customer").await;
    let stranger = app.register("provider").await;
    let target = app.register("customer").await;
    let providers_message = app.say(&provider, chat, "pay me in cash").await.id;
    let customers_message = app.say(&customer, chat, "no").await.id;
    let (status, body) = app
        .post(
            "/api/reports",
            Some(&customer.token),
            json!({ "chatId": chat, "messageId": providers_message, "category": "off_platform_payment" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let item = body["id"].as_i64().expect("id");
    let said = app.say(&suspended, suspended_chat, "hello").await.id;
    let (status, body) = app
        .post(
            "/api/reports",
            Some(&provider.token),
            json!({ "chatId": suspended_chat, "messageId": said, "category": "spam" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/moderation/users/{}/actions", suspended.id),
            Some(&lsm.token),
            json!({ "action": "suspend", "reason": "spam", "days": 30 }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    World {
        customer,
        provider,
        lsm,
        suspended,
        outsider,
        chat,
        providers_message,
        customers_message,
        item,
        stranger: stranger.id,
        target: target.id,
    }
}

/// Each case: a name, the call as REST and then as a server function for
/// an actor, and what each actor gets from each (in `ACTORS` order:
/// customer, provider, suspended, outsider, nobody, LSM). A server
/// function answers 200 for any success.
struct Case {
    name: &'static str,
    rest: fn(&World, Actor) -> (Method, String, Option<Value>),
    sfn: fn(&World, Actor) -> (&'static str, Value),
    expect: [u16; 6],
    expect_sfn: [u16; 6],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "report the other party's message",
            rest: |w, a| {
                (
                    Method::POST,
                    "/api/reports".into(),
                    Some(
                        json!({ "chatId": w.chat, "messageId": w.others_message(a), "category": "spam" }),
                    ),
                )
            },
            sfn: |w, a| {
                (
                    "report",
                    json!({ "report": { "chatId": w.chat, "messageId": w.others_message(a), "category": "spam" } }),
                )
            },
            expect: [201, 201, 401, 404, 401, 404],
            expect_sfn: [200, 200, 401, 404, 401, 404],
        },
        Case {
            name: "list one's blocks",
            rest: |_, _| (Method::GET, "/api/blocks".into(), None),
            sfn: |_, _| ("blocks", json!({})),
            expect: [200, 200, 401, 200, 401, 200],
            expect_sfn: [200, 200, 401, 200, 401, 200],
        },
        Case {
            name: "block someone",
            rest: |w, _| (Method::PUT, format!("/api/blocks/{}", w.stranger), None),
            sfn: |w, _| ("set_block", json!({ "user_id": w.stranger, "block": true })),
            expect: [204, 204, 401, 204, 401, 204],
            expect_sfn: [200, 200, 401, 200, 401, 200],
        },
        Case {
            name: "unblock them",
            rest: |w, _| (Method::DELETE, format!("/api/blocks/{}", w.stranger), None),
            sfn: |w, _| {
                (
                    "set_block",
                    json!({ "user_id": w.stranger, "block": false }),
                )
            },
            expect: [204, 204, 401, 204, 401, 204],
            // REST lifted the block first: the server function finds none.
            expect_sfn: [404, 404, 401, 404, 401, 404],
        },
        Case {
            name: "read the queue",
            rest: |_, _| (Method::GET, "/api/moderation/items".into(), None),
            sfn: |_, _| ("moderation_items", json!({ "page": {} })),
            expect: [403, 403, 401, 403, 401, 200],
            expect_sfn: [403, 403, 401, 403, 401, 200],
        },
        Case {
            name: "read the log",
            rest: |_, _| (Method::GET, "/api/moderation/log".into(), None),
            sfn: |_, _| ("moderation_log", json!({ "page": {} })),
            expect: [403, 403, 401, 403, 401, 200],
            expect_sfn: [403, 403, 401, 403, 401, 200],
        },
        Case {
            name: "export the log",
            rest: |_, _| (Method::GET, "/api/moderation/log.csv".into(), None),
            sfn: |_, _| ("moderation_log", json!({ "page": { "limit": 100 } })),
            expect: [403, 403, 401, 403, 401, 200],
            expect_sfn: [403, 403, 401, 403, 401, 200],
        },
        Case {
            name: "warn on an item",
            rest: |w, _| {
                (
                    Method::POST,
                    format!("/api/moderation/items/{}/actions", w.item),
                    Some(json!({ "action": "warn", "reason": "Payments stay on the platform" })),
                )
            },
            // The REST call (first) closed the item: the LSM's second
            // call is told so.
            sfn: |w, _| {
                (
                    "moderate",
                    json!({ "item_id": w.item, "action": { "action": "warn", "reason": "again" } }),
                )
            },
            expect: [403, 403, 401, 403, 401, 200],
            expect_sfn: [403, 403, 401, 403, 401, 409],
        },
        Case {
            name: "suspend someone",
            rest: |w, _| {
                (
                    Method::POST,
                    format!("/api/moderation/users/{}/actions", w.target),
                    Some(json!({ "action": "suspend", "reason": "test", "days": 1 })),
                )
            },
            sfn: |w, _| {
                (
                    "moderate_user",
                    json!({ "user_id": w.target, "action": { "action": "lift", "reason": "test over" } }),
                )
            },
            expect: [403, 403, 401, 403, 401, 200],
            expect_sfn: [403, 403, 401, 403, 401, 200],
        },
    ]
}

async fn rest_status(app: &TestApp, w: &World, a: Actor, case: &Case) -> u16 {
    let (method, path, body) = (case.rest)(w, a);
    let mut req = app.client.request(method, format!("{}{path}", app.addr));
    if let Some(t) = w.token(a) {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.expect("sent").status().as_u16()
}

async fn sfn_status(app: &TestApp, w: &World, a: Actor, case: &Case) -> u16 {
    let (endpoint, args) = (case.sfn)(w, a);
    let mut req = app
        .client
        .post(format!("{}/sfn/{endpoint}", app.addr))
        .json(&args);
    if let Some(t) = w.token(a) {
        req = req.header("cookie", format!("jobchat_session={t}"));
    }
    req.send().await.expect("sent").status().as_u16()
}

both_backends!(
    every_route_and_server_function_by_every_kind_of_caller,
    |app: TestApp| async move {
        let w = world(&app).await;
        let mut wrong = Vec::new();
        for case in cases() {
            for (i, a) in ACTORS.into_iter().enumerate() {
                let want = case.expect[i];
                let got = rest_status(&app, &w, a, &case).await;
                if got != want {
                    wrong.push(format!(
                        "REST {} as {a:?}: {got}, expected {want}",
                        case.name
                    ));
                }
                let want = case.expect_sfn[i];
                let got = sfn_status(&app, &w, a, &case).await;
                if got != want {
                    wrong.push(format!(
                        "sfn {} as {a:?}: {got}, expected {want}",
                        case.name
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
);

both_backends!(
    only_lsms_hear_of_the_queue_and_suspended_accounts_cannot_connect,
    |app: TestApp| async move {
        let w = world(&app).await;
        let mut lsm = app.socket(&w.lsm).await;
        let mut others = Vec::new();
        for u in [&w.customer, &w.provider, &w.outsider] {
            others.push(app.socket(u).await);
        }
        let (status, body) = app
            .post(
                "/api/reports",
                Some(&w.provider.token),
                json!({ "chatId": w.chat, "messageId": w.customers_message, "category": "harassment" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().expect("id");
        lsm.expect_event_where::<ModerationChanged>(|e| e.item_id == Some(id))
            .await;
        for s in &mut others {
            assert!(
                s.take_events::<ModerationChanged>(Duration::from_millis(200))
                    .await
                    .is_empty()
            );
        }
        assert!(
            TestSocket::connect(&app.addr, SocketOpts::token(&w.suspended.token))
                .await
                .is_err()
        );
    }
);
