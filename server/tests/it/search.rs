//! Search over HTTP and the server function: who finds what, ranking,
//! highlights, query syntax that must stay inert, and bad input.

use crate::both_backends;
use crate::helpers::{TestApp, TestUser, pair};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn search(app: &TestApp, user: &TestUser, q: &str) -> Vec<Value> {
    let (status, body) = app
        .get(
            &format!("/api/search?q={}", urlencode(q)),
            Some(&user.token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q:?}: {body}");
    body.as_array().cloned().expect("a list of hits")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn contents(hits: &[Value]) -> Vec<&str> {
    hits.iter()
        .map(|h| h["message"]["content"].as_str().expect("content"))
        .collect()
}

both_backends!(
    participants_find_their_messages,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let (stranger, other_provider, other_chat) = pair(&app).await;
        app.say(&customer, chat, "The kitchen sink leaks under the cabinet")
            .await;
        app.say(&provider, chat, "I can fix the sink on Friday at 10")
            .await;
        app.say(&customer, chat, "Friday works").await;
        app.say(&stranger, other_chat, "My kitchen sink is fine, thanks")
            .await;

        // Both words, the last as a prefix; ranked, with the chat's title.
        let hits = search(&app, &customer, "kitchen sin").await;
        assert_eq!(
            contents(&hits),
            vec!["The kitchen sink leaks under the cabinet"],
            "only this chat's message with both words"
        );
        assert_eq!(hits[0]["chatId"], chat);
        assert_eq!(hits[0]["jobTitle"], "Fix the sink");
        assert_eq!(hits[0]["message"]["senderId"], customer.id);
        assert_eq!(
            hits[0]["highlights"],
            json!([{ "start": 4, "end": 11 }, { "start": 12, "end": 16 }]),
            "\"kitchen\" and \"sink\", in characters"
        );
        let mut friday = contents(&search(&app, &provider, "FRIDAY").await)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        friday.sort();
        assert_eq!(
            friday,
            vec!["Friday works", "I can fix the sink on Friday at 10"]
        );

        // The other chat's people see only theirs; nobody sees system lines.
        assert_eq!(
            contents(&search(&app, &other_provider, "sink").await),
            vec!["My kitchen sink is fine, thanks"]
        );
        assert!(search(&app, &stranger, "friday").await.is_empty());
        assert!(
            search(&app, &customer, "booked").await.is_empty(),
            "\"Job booked\" is a system line"
        );

        // Query syntax of either database is only word separators here.
        for q in [
            "\"kitchen",
            "sink*",
            "kitchen OR friday",
            "NEAR(kitchen sink)",
            "kitchen & !sink",
            "sink:*",
            "'; DROP TABLE messages; --",
        ] {
            let (status, body) = app
                .get(
                    &format!("/api/search?q={}", urlencode(q)),
                    Some(&customer.token),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{q:?}: {body}");
        }
        assert_eq!(
            search(&app, &customer, "kitchen OR friday").await.len(),
            0,
            "OR is a word"
        );

        // Paging.
        for i in 0..5 {
            app.say(&customer, chat, &format!("pipe number {i}")).await;
        }
        let (_, first) = app
            .get("/api/search?q=pipe&limit=3", Some(&customer.token))
            .await;
        let (_, rest) = app
            .get("/api/search?q=pipe&limit=3&offset=3", Some(&customer.token))
            .await;
        let mut all: Vec<i64> = first
            .as_array()
            .into_iter()
            .chain(rest.as_array())
            .flatten()
            .map(|h| h["message"]["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(all.len(), 5);
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 5, "no hit on two pages");
    }
);

both_backends!(
    an_lsm_after_settling_finds_only_up_to_it,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let lsm = app.create_lsm().await;
        app.say(&customer, chat, "The invoice says 300 euros").await;
        let (status, body) = app
            .post(
                &format!("/api/chats/{chat}/dispute"),
                Some(&customer.token),
                json!({ "reason": "Overcharged" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let dispute = body["disputeId"].as_i64().expect("dispute id");
        app.say(&provider, chat, "The invoice was agreed").await;
        assert_eq!(search(&app, &lsm, "invoice").await.len(), 2);
        let (status, _) = app
            .post(
                &format!("/api/disputes/{dispute}/resolve"),
                Some(&lsm.token),
                json!({ "resolution": "Half refunded" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        app.say(&customer, chat, "Thanks, the invoice is paid")
            .await;
        assert_eq!(
            search(&app, &lsm, "invoice").await.len(),
            2,
            "nothing after the settlement"
        );
        assert_eq!(search(&app, &customer, "invoice").await.len(), 3);
    }
);

both_backends!(
    bad_searches_are_refused_clearly,
    |app: TestApp| async move {
        let (customer, _, _) = pair(&app).await;
        // A broken request is 400; a well-formed q the rules refuse is 422,
        // naming the field (as every REST input).
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        let long = format!("q={}", "x".repeat(201));
        for (query, expected, why) in [
            ("", StatusCode::BAD_REQUEST, "missing q"),
            ("q=sink&limit=0", StatusCode::BAD_REQUEST, "limit 0"),
            ("q=sink&limit=51", StatusCode::BAD_REQUEST, "limit 51"),
            (
                "q=sink&offset=-1",
                StatusCode::BAD_REQUEST,
                "negative offset",
            ),
            ("q=sink&offset=201", StatusCode::BAD_REQUEST, "deep offset"),
            (
                "q=sink&limit=x",
                StatusCode::BAD_REQUEST,
                "limit not a number",
            ),
            ("q=", unprocessable, "empty"),
            ("q=%20%20", unprocessable, "blank"),
            ("q=***", unprocessable, "no word"),
            ("q=a+b+c+d+e+f+g+h+i", unprocessable, "nine words"),
            ("q=two%0Alines", unprocessable, "a line break"),
            (long.as_str(), unprocessable, "201 characters"),
        ] {
            let (status, body) = app
                .get(&format!("/api/search?{query}"), Some(&customer.token))
                .await;
            assert_eq!(status, expected, "{why}: {body}");
            assert_eq!(body["error"]["code"], "bad_request", "{why}: {body}");
            if expected == unprocessable {
                assert_eq!(body["error"]["details"]["field"], "q", "{why}: {body}");
            }
        }
        let (status, _) = app.get("/api/search?q=sink", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // The server function answers the same way, and finds the same.
        let sfn = |q: &str| {
            app.client
                .post(format!("{}/sfn/search", app.addr))
                .header("cookie", format!("jobchat_session={}", customer.token))
                .json(&json!({ "request": { "q": q } }))
                .send()
        };
        let res = sfn("***").await.expect("server function");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = sfn("fix").await.expect("server function");
        assert_eq!(res.status(), StatusCode::OK);
        let hits: Vec<contract::model::SearchHit> = res.json().await.expect("hits");
        assert!(hits.is_empty(), "only a system line says it");
    }
);
