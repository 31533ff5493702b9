//! Disputes whose LSM goes away: a deleted or demoted LSM's open disputes
//! move to another LSM (who can settle them), a demoted one can no longer
//! resolve, and a chat whose LSM was deleted takes new disputes again.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestUser, pair, retry_after, spawn_with_limits};
use contract::model::Role;
use reqwest::StatusCode;
use serde_json::json;

async fn open(app: &TestApp, user: &TestUser, chat: i64) -> (i64, i64) {
    let (status, body) = app
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&user.token),
            json!({ "reason": "The tap still drips" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["disputeId"].as_i64().expect("dispute id"),
        body["lsm"]["id"].as_i64().expect("lsm id"),
    )
}

async fn resolve(app: &TestApp, user: &TestUser, dispute: i64) -> StatusCode {
    let (status, _) = app
        .post(
            &format!("/api/disputes/{dispute}/resolve"),
            Some(&user.token),
            json!({ "resolution": "Half refunded" }),
        )
        .await;
    status
}

both_backends!(
    a_demoted_lsm_cannot_resolve_and_another_takes_over,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        let first = app.create_lsm().await;
        let second = app.create_lsm().await;
        let (dispute, assigned) = open(&app, &customer, chat).await;
        assert_eq!(assigned, first.id, "ties go to the lowest id");

        app.service
            .set_role(first.id, Role::Customer)
            .await
            .expect("demoted");
        // Signed in again, now as a customer: the dispute is not theirs.
        let demoted = app.login(&first.email).await;
        assert_eq!(
            resolve(&app, &demoted, dispute).await,
            StatusCode::FORBIDDEN
        );

        // The other LSM has it, with a line in the chat that says so.
        let history = app.all_messages(&customer, chat).await;
        let last = history.last().expect("messages");
        assert!(
            last.content.contains(&second.name) && last.content.contains(&first.name),
            "{}",
            last.content
        );
        assert_eq!(resolve(&app, &second, dispute).await, StatusCode::OK);
    }
);

both_backends!(
    a_deleted_lsms_chat_takes_disputes_again,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        let only = app.create_lsm().await;
        let (dispute, _) = open(&app, &customer, chat).await;
        // No other LSM yet: the dispute waits, still open, and a new one is
        // refused for want of an LSM.
        app.service.delete_user(only.id).await.expect("deleted");
        let (status, body) = app
            .post(
                &format!("/api/chats/{chat}/dispute"),
                Some(&customer.token),
                json!({ "reason": "Again" }),
            )
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

        // The next LSM account takes it, settles it, and the chat can raise
        // a new dispute.
        let next = app.create_lsm().await;
        assert_eq!(resolve(&app, &next, dispute).await, StatusCode::OK);
        let (_, assigned) = open(&app, &customer, chat).await;
        assert_eq!(assigned, next.id);
    }
);

// An LSM who is no longer one is refused even for a dispute still
// assigned to them (no other LSM to move it to).
both_backends!(resolving_checks_the_role, |app: TestApp| async move {
    let (customer, _provider, chat) = pair(&app).await;
    let only = app.create_lsm().await;
    let (dispute, _) = open(&app, &customer, chat).await;
    app.service
        .set_role(only.id, Role::Provider)
        .await
        .expect("demoted");
    let demoted = app.login(&only.email).await;
    assert_eq!(
        resolve(&app, &demoted, dispute).await,
        StatusCode::FORBIDDEN
    );
});

// A settled chat's next dispute waits out the cooldown: 429 with
// Retry-After and a clear message, never a new LSM paged at once.
#[tokio::test]
async fn a_settled_chat_waits_before_its_next_dispute() {
    let app = spawn_with_limits(Backend::Sqlite, |l| l.dispute_reopen_cooldown_secs = 600)
        .await
        .expect("sqlite always runs");
    let (customer, _provider, chat) = pair(&app).await;
    let lsm = app.create_lsm().await;
    let (dispute, _) = open(&app, &customer, chat).await;
    assert_eq!(resolve(&app, &lsm, dispute).await, StatusCode::OK);
    let res = app
        .client
        .post(format!("{}/api/chats/{chat}/dispute", app.addr))
        .bearer_auth(&customer.token)
        .json(&json!({ "reason": "Again, straight away" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = retry_after(&res);
    assert!((590..=600).contains(&wait), "{wait}");
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("settled")),
        "{body}"
    );
}
