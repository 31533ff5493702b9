//! The dispute console and the verifiable transcript (issue #24): the
//! queue reaches every LSM live, a case is taken and handed over, settled
//! with a structured outcome, found by words; its transcript (JSON, CSV,
//! HTML) verifies, and refuses one changed character, a message changed
//! in the database behind jobchat's back, and a link rewritten.

use crate::both_backends;
use crate::helpers::{TestApp, TestUser, pair, uuid_like};
use contract::model::{DisputeCase, DisputeStatus, Outcome};
use contract::protocol::DisputeCaseChanged;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::transcript::verify::{verify_html, verify_json};

async fn open(app: &TestApp, user: &TestUser, chat: i64) -> i64 {
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&user.token),
            json!({ "reason": "The tap still drips after the visit" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["disputeId"].as_i64().expect("dispute id")
}

async fn cases(app: &TestApp, lsm: &TestUser, query: &str) -> Vec<DisputeCase> {
    let (status, body) = app
        .get(&format!("/api/disputes{query}"), Some(&lsm.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("cases")
}

both_backends!(
    the_console_takes_hands_over_and_settles,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let lena = app.create_lsm().await;
        let mark = app.create_lsm().await;
        let mut marks_socket = app.socket(&mark).await;
        let dispute = open(&app, &customer, chat).await;

        // Live: every LSM hears of the new case, not only its LSM.
        let heard = marks_socket
            .expect_event_where::<DisputeCaseChanged>(|e| e.dispute_id == dispute)
            .await;
        assert_eq!(heard.status, DisputeStatus::Open);

        let open_cases = cases(&app, &mark, "").await;
        let case = open_cases.iter().find(|c| c.id == dispute).expect("listed");
        assert_eq!(case.lsm.id, lena.id, "the least busy LSM, lowest id");
        assert_eq!(case.raised_by.id, customer.id);
        assert_eq!(case.customer.id, customer.id);
        assert_eq!(case.provider.id, provider.id);
        assert_eq!(case.chat_id, chat);
        assert!(case.reason.contains("drips"));
        assert!(cases(&app, &mark, "?assigned=mine").await.is_empty());

        // Only LSMs see the console.
        for outsider in [&customer, &provider] {
            let (status, _) = app.get("/api/disputes", Some(&outsider.token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }

        // Mark takes it: Lena can no longer settle it.
        let (status, body) = app
            .post(
                &format!("/api/disputes/{dispute}/take"),
                Some(&mark.token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["lsm"]["id"], mark.id);
        let (status, _) = app
            .post(
                &format!("/api/disputes/{dispute}/resolve"),
                Some(&lena.token),
                json!({"outcome": "no_refund", "note": "Fine as it is"}),
            )
            .await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "{status}"
        );
        let history = app.all_messages(&customer, chat).await;
        assert!(
            history.last().expect("line").content.contains(&mark.name),
            "the chat says who has the case"
        );

        // Handing over: only to an LSM, only by the one who has it.
        let (status, body) = app
            .post(
                &format!("/api/disputes/{dispute}/handover"),
                Some(&mark.token),
                json!({"to": customer.id}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, _) = app
            .post(
                &format!("/api/disputes/{dispute}/handover"),
                Some(&lena.token),
                json!({"to": lena.id}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = app
            .post(
                &format!("/api/disputes/{dispute}/handover"),
                Some(&mark.token),
                json!({"to": lena.id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["lsm"]["id"], lena.id);

        // A partial refund names its amount; nothing else does.
        for (bad, field) in [
            (
                json!({"outcome": "partial_refund", "note": "Half"}),
                "refundCents",
            ),
            (
                json!({"outcome": "partial_refund", "refundCents": 0, "note": "x"}),
                "refundCents",
            ),
            (
                json!({"outcome": "full_refund", "refundCents": 10, "note": "x"}),
                "refundCents",
            ),
            (json!({"outcome": "sometimes", "note": "x"}), "outcome"),
            (json!({"outcome": "no_refund"}), "note"),
        ] {
            let (status, body) = app
                .post(
                    &format!("/api/disputes/{dispute}/resolve"),
                    Some(&lena.token),
                    bad,
                )
                .await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["error"]["details"]["field"], field, "{body}");
        }
        let (status, body) = app
        .post(
            &format!("/api/disputes/{dispute}/resolve"),
            Some(&lena.token),
            json!({"outcome": "partial_refund", "refundCents": 4500, "note": "The washer was not replaced"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let line = app.all_messages(&customer, chat).await;
        let settled = line
            .iter()
            .rev()
            .find(|m| m.content.contains("resolved the dispute"))
            .expect("settlement line");
        assert!(
            settled
                .content
                .contains("Partial refund of 45.00 EUR. The washer was not replaced"),
            "{}",
            settled.content
        );

        let resolved = cases(&app, &mark, "?status=resolved").await;
        let case = resolved.iter().find(|c| c.id == dispute).expect("resolved");
        assert_eq!(case.outcome, Some(Outcome::PartialRefund));
        assert_eq!(case.refund_cents, Some(4500));
        assert_eq!(case.currency, "EUR");
        assert_eq!(case.note.as_deref(), Some("The washer was not replaced"));
        assert!(case.resolved_at.is_some());
        assert!(cases(&app, &mark, "").await.iter().all(|c| c.id != dispute));

        // Words: the job's title, a name, the note; literally (a `%` is a `%`).
        assert!(
            cases(&app, &mark, "?status=all&q=WASHER")
                .await
                .iter()
                .any(|c| c.id == dispute)
        );
        assert!(
            cases(
                &app,
                &mark,
                &format!("?status=all&q={}", customer.name.replace(' ', "%20"))
            )
            .await
            .iter()
            .any(|c| c.id == dispute)
        );
        assert!(cases(&app, &mark, "?status=all&q=%25").await.is_empty());
        let (status, _) = app
            .get(
                &format!("/api/disputes?q={}", "x".repeat(101)),
                Some(&mark.token),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = app
            .get("/api/disputes?status=closed", Some(&mark.token))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // A path without its case id meets the case route with a method it
        // has not: 405, with the JSON error every refusal has.
        let (status, body) = app
            .post("/api/disputes/take", Some(&mark.token), json!({}))
            .await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(body["error"]["code"], "bad_request", "{body}");
        // Settled: neither taken nor settled again.
        let (status, _) = app
            .post(
                &format!("/api/disputes/{dispute}/take"),
                Some(&mark.token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
    }
);

both_backends!(
    a_transcript_verifies_and_refuses_any_change,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let lsm = app.create_lsm().await;
        let first = app.say(&customer, chat, "Hello, when can you come?").await;
        app.say(&provider, chat, "Call me on 0176 1234 5678").await;
        let plain = app.say(&provider, chat, "I can come at nine").await;
        let (status, body) = app
        .request(
            Method::PATCH,
            &format!("/api/chats/{chat}/messages/{}", first.id),
            Some(&customer.token),
            Some(json!({"content": "Hello, when can you come tomorrow?", "clientId": uuid_like()})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let gone = app
            .say(&customer, chat, "<script>alert(1)</script> & more")
            .await;
        let (status, body) = app
            .request(
                Method::DELETE,
                &format!("/api/chats/{chat}/messages/{}", gone.id),
                Some(&customer.token),
                None,
            )
            .await;
        assert!(status.is_success(), "{status} {body}");
        let dispute = open(&app, &customer, chat).await;

        let json_export = app.transcript(&lsm, dispute, "json").await;
        let key = app.service.transcript_key();
        let (verified, transcript) = verify_json(&json_export, &key).expect("intact");
        assert!(verified.chained >= 6, "{verified:?}");
        assert_eq!(transcript.chain.from_seq, 1);
        assert_eq!(transcript.chain.broken_at_seq, None);
        let edited = transcript
            .messages
            .iter()
            .find(|e| e.id == first.id)
            .expect("first");
        assert_eq!(
            edited.written, "Hello, when can you come?",
            "as first written"
        );
        assert_eq!(edited.versions.len(), 1);
        assert!(
            transcript
                .messages
                .iter()
                .any(|e| e.masked && e.written.contains("0176"))
        );
        assert!(
            transcript
                .messages
                .iter()
                .any(|e| e.change.as_deref() == Some("delete"))
        );

        // One character changed anywhere: refused.
        let tampered = json_export.replacen("when can you come?", "when can you come!", 1);
        assert_ne!(tampered, json_export);
        assert!(verify_json(&tampered, &key).is_err());
        // Even with the digest recomputed, the chain gives it away.
        let mut v: Value = serde_json::from_str(&tampered).expect("json");
        v["digest"] = json!(server::transcript::document::digest_of(&v));
        let err = verify_json(&v.to_string(), &key).expect_err("chain");
        assert!(err.contains("chain breaks"), "{err}");
        // A message removed, digest recomputed: the chain gives it away too.
        let mut v: Value = serde_json::from_str(&json_export).expect("json");
        v["messages"].as_array_mut().expect("messages").remove(2);
        v["digest"] = json!(server::transcript::document::digest_of(&v));
        assert!(verify_json(&v.to_string(), &key).is_err());

        let html = app.transcript(&lsm, dispute, "html").await;
        assert!(html.contains("&lt;script&gt;") || !html.contains("<script>alert"));
        verify_html(&html, &key).expect("the page verifies");
        let changed = html.replacen("Hello, when can you come?", "Hello, when can you come!", 1);
        assert!(verify_html(&changed, &key).is_err());

        let csv = app.transcript(&lsm, dispute, "csv").await;
        assert!(csv.starts_with("jobchat-transcript/1,"), "{csv}");
        assert!(csv.contains(&transcript.digest));
        assert_eq!(csv.lines().count(), transcript.messages.len() + 2);

        // The command line says the same.
        let dir = std::env::temp_dir().join(format!("jobchat-transcript-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("dir");
        for (name, text, ok) in [
            ("t.json", json_export.as_str(), true),
            ("t.html", html.as_str(), true),
            ("bad.json", tampered.as_str(), false),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, text).expect("written");
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args(["transcript", "verify"])
                .arg(&path)
                .args(["--key", &key.to_string()])
                .output()
                .expect("runs");
            assert_eq!(out.status.success(), ok, "{name}: {out:?}");
            if ok {
                assert!(
                    String::from_utf8_lossy(&out.stdout).starts_with("OK"),
                    "{out:?}"
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);

        // History changed in the database behind jobchat's back: the export
        // says where, and the stored links cannot be rewritten.
        let db = app.service.db();
        let sql_change = "UPDATE messages SET content = 'I never said that' WHERE id = $1";
        let sql_relink = "UPDATE messages SET chain = 'x' WHERE id = $1";
        // The same two statements on either pool.
        macro_rules! tamper {
            ($pool:expr) => {{
                sqlx::query(sql_change)
                    .bind(plain.id)
                    .execute($pool)
                    .await
                    .expect("changed");
                let relinked = sqlx::query(sql_relink).bind(first.id).execute($pool).await;
                assert!(relinked.is_err(), "a link was rewritten");
            }};
        }
        match db {
            server::storage::Db::Sqlite(p) => tamper!(p),
            server::storage::Db::Postgres(p) => tamper!(p),
        }
        let after = app.transcript(&lsm, dispute, "json").await;
        let t: server::transcript::Transcript = serde_json::from_str(&after).expect("json");
        assert!(t.chain.broken_at_seq.is_some(), "{:?}", t.chain);
        assert!(verify_json(&after, &key).is_err());

        // Only LSMs export.
        let (status, _) = app
            .get(
                &format!("/api/disputes/{dispute}/transcript"),
                Some(&customer.token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = app
            .get(
                &format!("/api/disputes/{dispute}/transcript?format=pdf"),
                Some(&lsm.token),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);

/// Two nodes: a case opened and taken through node A reaches an LSM's
/// socket on node B, and node B serves the case as A left it.
#[tokio::test]
async fn the_queue_is_live_across_nodes() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, _provider, chat) = pair(&a).await;
    let lena = a.create_lsm().await;
    let mark = a.create_lsm().await;
    let mut lena_on_b = b.socket(&lena).await;
    let dispute = open(&a, &customer, chat).await;
    let heard = lena_on_b
        .expect_event_where::<DisputeCaseChanged>(|e| e.dispute_id == dispute)
        .await;
    assert_eq!(heard.status, DisputeStatus::Open);
    let (status, body) = a
        .post(
            &format!("/api/disputes/{dispute}/take"),
            Some(&mark.token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    lena_on_b
        .expect_event_where::<DisputeCaseChanged>(|e| e.dispute_id == dispute)
        .await;
    let (status, body) = a
        .request_at(
            &b.addr,
            Method::GET,
            &format!("/api/disputes/{dispute}"),
            Some(&lena.token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["lsm"]["id"], mark.id);
}
