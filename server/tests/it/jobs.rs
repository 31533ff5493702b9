//! A job's steps after booking: who takes which, in what order, each a
//! system line in the chat, live, with the chat list following; and
//! contact masking `until_started` stopping when the provider starts.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestUser, pair, spawn_app_configured};
use contract::model::{ChatSummary, JobStatus, Message, MessageKind, SystemEvent};
use contract::protocol::NewMessage;
use reqwest::StatusCode;
use serde_json::json;
use server::application::Tuning;
use server::config::MaskingPolicy;

async fn step(
    app: &TestApp,
    who: &TestUser,
    job: i64,
    to: &str,
) -> (StatusCode, serde_json::Value) {
    app.post(
        &format!("/api/jobs/{job}/status"),
        Some(&who.token),
        json!({ "to": to }),
    )
    .await
}

async fn status_in_list(app: &TestApp, who: &TestUser, chat: i64) -> JobStatus {
    let (code, body) = app.get("/api/chats", Some(&who.token)).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let chats: Vec<ChatSummary> = serde_json::from_value(body).expect("chats");
    chats
        .into_iter()
        .find(|c| c.id == chat)
        .expect("the chat")
        .job_status
}

async fn job_of(app: &TestApp, who: &TestUser, chat: i64) -> i64 {
    let (_, body) = app.get("/api/chats", Some(&who.token)).await;
    let chats: Vec<ChatSummary> = serde_json::from_value(body).expect("chats");
    chats
        .into_iter()
        .find(|c| c.id == chat)
        .expect("the chat")
        .job_id
}

both_backends!(
    each_step_is_taken_by_its_owner_in_order,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let outsider = app.register("customer").await;
        let (customer, provider, chat) = pair(&app).await;
        let job = job_of(&app, &customer, chat).await;
        assert_eq!(
            status_in_list(&app, &customer, chat).await,
            JobStatus::Booked
        );
        let mut listening = app.socket(&customer).await;
        listening.join(chat).await;

        // Only the provider confirms; strangers learn nothing.
        assert_eq!(
            step(&app, &customer, job, "confirmed").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            step(&app, &outsider, job, "confirmed").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            step(&app, &lsm, job, "confirmed").await.0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            step(&app, &provider, job, "booked").await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            step(&app, &provider, job, "completed").await.0,
            StatusCode::CONFLICT
        );
        let (code, body) = step(&app, &provider, job, "confirmed").await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let line: Message = serde_json::from_value(body).expect("a system line");
        assert_eq!(line.kind, MessageKind::System);
        assert_eq!(
            line.content,
            format!("{} confirmed the booking", provider.name)
        );
        assert!(matches!(
            line.event.as_deref(),
            Some(SystemEvent::JobStatusChanged { status: JobStatus::Confirmed, by: Some(p), .. }) if *p == provider.id
        ));
        let heard = listening
            .expect_event_where::<NewMessage>(|m| m.0.id == line.id)
            .await;
        assert_eq!(heard.0.seq, line.seq);
        assert_eq!(
            status_in_list(&app, &customer, chat).await,
            JobStatus::Confirmed
        );
        // Twice is refused: the step was taken.
        assert_eq!(
            step(&app, &provider, job, "confirmed").await.0,
            StatusCode::CONFLICT
        );

        // The provider starts it; then it cannot be cancelled.
        assert_eq!(
            step(&app, &provider, job, "in_progress").await.0,
            StatusCode::OK
        );
        assert_eq!(
            step(&app, &customer, job, "cancelled").await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            step(&app, &provider, job, "completed").await.0,
            StatusCode::OK
        );
        assert_eq!(
            status_in_list(&app, &provider, chat).await,
            JobStatus::Completed
        );

        // Another booking, cancelled by its customer before the start.
        let chat2 = app.book(&customer, &provider).await;
        let job2 = job_of(&app, &customer, chat2).await;
        assert_eq!(
            step(&app, &provider, job2, "cancelled").await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            step(&app, &customer, job2, "cancelled").await.0,
            StatusCode::OK
        );
        assert_eq!(
            step(&app, &provider, job2, "in_progress").await.0,
            StatusCode::CONFLICT
        );
        assert_eq!(
            status_in_list(&app, &customer, chat2).await,
            JobStatus::Cancelled
        );

        // The chat shows every step in order.
        let lines: Vec<String> = app
            .all_messages(&customer, chat)
            .await
            .into_iter()
            .filter(|m| m.kind == MessageKind::System)
            .map(|m| m.content)
            .collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[3].ends_with("completed the job"), "{lines:?}");
    }
);

/// `JOBCHAT_CONTACT_MASKING=until_started`: masked while the job is booked
/// or confirmed, delivered as written once the provider started it.
#[tokio::test]
async fn until_started_masks_until_the_provider_starts() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_app_configured(
            backend,
            Tuning {
                seed_demo_data: false,
            },
            |c| c.masking.policy = MaskingPolicy::UntilStarted,
        )
        .await
        else {
            continue;
        };
        let (customer, provider, chat) = pair(&app).await;
        let job = job_of(&app, &customer, chat).await;
        let before = app.say(&provider, chat, "call me on 0176 1234 5678").await;
        assert!(before.masked, "{}", before.content);
        assert_eq!(
            step(&app, &provider, job, "confirmed").await.0,
            StatusCode::OK
        );
        let confirmed = app.say(&provider, chat, "call me on 0176 1234 5678").await;
        assert!(confirmed.masked, "{}", confirmed.content);
        assert_eq!(
            step(&app, &provider, job, "in_progress").await.0,
            StatusCode::OK
        );
        let after = app.say(&provider, chat, "call me on 0176 1234 5678").await;
        assert!(!after.masked);
        assert_eq!(after.content, "call me on 0176 1234 5678");
        // Other chats of the same people are still masked.
        let other = app.book(&customer, &provider).await;
        assert!(app.say(&provider, other, "0176 1234 5678").await.masked);
    }
}
