//! The bell and the badges follow one rule: reading a chat up to seq N
//! clears that chat's new-message bell up to N, on every tab of the
//! reader's; a bell that also stands for newer messages is recounted to
//! them, so the bell's number and the chat's unread badge agree.

use crate::both_backends;
use crate::helpers::{TestApp, TestUser, pair};
use contract::model::{ChatSummary, Notification};
use contract::protocol::{ChatRead, MarkRead};
use reqwest::StatusCode;
use server::service::texts::BELLS;

async fn bell(app: &TestApp, user: &TestUser) -> Vec<Notification> {
    let (status, body) = app
        .get("/api/notifications?unread=true", Some(&user.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("notifications")
}

async fn unread(app: &TestApp, user: &TestUser, chat: i64) -> i64 {
    let (status, body) = app.get("/api/chats", Some(&user.token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let chats: Vec<ChatSummary> = serde_json::from_value(body).expect("chats");
    chats
        .iter()
        .find(|c| c.id == chat)
        .expect("the chat is listed")
        .unread_count
}

/// The bell's number as the browser counts it (`app::chat::bell::count`).
fn bell_number(list: &[Notification]) -> i64 {
    app::chat::bell::count(list)
}

both_backends!(
    reading_clears_the_bell_up_to_the_read_seq,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        // Two tabs of the customer's, neither in the chat's room.
        let mut tab_a = app.socket(&customer).await;
        let mut tab_b = app.socket(&customer).await;

        let first = app.say(&provider, chat, "one").await;
        let second = app.say(&provider, chat, "two").await;
        let third = app.say(&provider, chat, "three").await;
        let before = bell(&app, &customer).await;
        assert_eq!(before.len(), 1, "one coalesced entry: {before:?}");
        assert_eq!(before[0].seq, Some(third.seq));
        assert_eq!(bell_number(&before), 3);
        assert_eq!(unread(&app, &customer, chat).await, 3);

        // Tab A reads up to the second message: the entry stands for one
        // message now, on both tabs.
        tab_a.join(chat).await;
        tab_a
            .request(&MarkRead {
                chat_id: chat,
                message_id: second.id,
            })
            .await
            .expect("read");
        for tab in [&mut tab_a, &mut tab_b] {
            let read = tab
                .expect_event_where(|r: &ChatRead| r.chat_id == chat)
                .await;
            assert_eq!((read.seq, read.unread), (second.seq, 1));
            assert_eq!(read.notifications.len(), 1, "{read:?}");
            assert_eq!(read.notifications[0].count, 1);
            assert!(read.notifications[0].read_at.is_none());
            assert!(
                read.notifications[0].title.starts_with("New message from "),
                "{}",
                read.notifications[0].title
            );
        }
        let after = bell(&app, &customer).await;
        assert_eq!(bell_number(&after), 1);
        assert_eq!(unread(&app, &customer, chat).await, 1);

        // Reading the newest clears it.
        tab_a
            .request(&MarkRead {
                chat_id: chat,
                message_id: third.id,
            })
            .await
            .expect("read");
        for tab in [&mut tab_a, &mut tab_b] {
            let read = tab
                .expect_event_where(|r: &ChatRead| r.seq == third.seq)
                .await;
            assert_eq!(read.unread, 0);
            assert!(read.notifications.iter().all(|n| n.read_at.is_some()));
        }
        assert!(bell(&app, &customer).await.is_empty());
        assert_eq!(unread(&app, &customer, chat).await, 0);

        // A read that moves nothing (an older message) says nothing.
        tab_a
            .request(&MarkRead {
                chat_id: chat,
                message_id: first.id,
            })
            .await
            .expect("read");
        let next = app.say(&provider, chat, "four").await;
        tab_a
            .request(&MarkRead {
                chat_id: chat,
                message_id: next.id,
            })
            .await
            .expect("read");
        let read = tab_b.expect_event::<ChatRead>().await;
        assert_eq!(
            read.seq, next.seq,
            "no event for the read that moved nothing"
        );
    }
);

both_backends!(
    system_lines_are_not_counted_unread,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        // The booking wrote "Job booked: …": nothing from another person.
        assert_eq!(unread(&app, &customer, chat).await, 0);
        assert!(bell(&app, &customer).await.is_empty());
    }
);

// Reads that clear bells and sends that ring them, all at once, on one
// chat: every read and every send goes through (on SQLite a read that
// began its transaction with a read could not wait for the write lock and
// failed "database is locked").
both_backends!(
    concurrent_reads_and_sends_all_go_through,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let first = app.say(&customer, chat, "first").await;
        let db = app.service.db().clone();
        let mut tasks = Vec::new();
        for i in 0..16 {
            let db = db.clone();
            let (customer, provider) = (customer.id, provider.id);
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    db.insert_user_message(
                        chat,
                        customer,
                        &format!("m{i}"),
                        &format!("c{i}"),
                        BELLS,
                    )
                    .await
                    .map(|_| ())
                } else {
                    db.mark_read(chat, provider, first.id, BELLS)
                        .await
                        .map(|_| ())
                }
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("went through");
        }
    }
);
