//! The storage layer's conformance cases, run against both backends.

use crate::helpers::{Backend, test_storage};
use app::model::{MessageKind, Role, UserRef};
use server::storage::{Db, DisputeError, NewUser, PageQuery, StorageError};

macro_rules! storage_case {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                if let Some((db, _guard)) = test_storage(Backend::Sqlite).await {
                    ($body)(db).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some((db, _guard)) = test_storage(Backend::Postgres).await {
                    ($body)(db).await;
                }
            }
        }
    };
}

async fn user(db: &Db, email: &str, role: Role) -> i64 {
    db.insert_user(NewUser {
        email,
        name: email,
        role,
        password_hash: "x",
    })
    .await
    .expect("insert user")
    .id
}

storage_case!(emails_are_unique_ignoring_case, |db: Db| async move {
    user(&db, "sam@example.test", Role::Customer).await;
    let again = db
        .insert_user(NewUser {
            email: "SAM@example.test",
            name: "Sam",
            role: Role::Provider,
            password_hash: "x",
        })
        .await;
    assert!(
        matches!(again, Err(StorageError::Conflict(_))),
        "{:?}",
        again.err()
    );
    let creds = db
        .user_credentials("Sam@Example.Test")
        .await
        .expect("query")
        .expect("found");
    assert_eq!(creds.user.email, "sam@example.test");
    assert_eq!(db.count_users().await.expect("count"), 1);
    db.ping().await.expect("ping");
});

storage_case!(
    booking_opens_a_chat_with_both_participants,
    |db: Db| async move {
        let c = user(&db, "c@example.test", Role::Customer).await;
        let p = user(&db, "p@example.test", Role::Provider).await;
        let booked = db
            .book_job(c, p, "Paint the fence", "")
            .await
            .expect("book");
        assert_eq!(booked.message.kind, MessageKind::System);
        assert_eq!(booked.message.content, "Job booked: Paint the fence");
        assert_eq!(
            db.participant_role(booked.chat_id, c).await.expect("q"),
            Some(Role::Customer)
        );
        assert_eq!(
            db.participant_role(booked.chat_id, p).await.expect("q"),
            Some(Role::Provider)
        );
        let chats = db.list_chats(c).await.expect("list");
        assert_eq!(chats.len(), 1);
        assert_eq!(chats[0].participants.len(), 2);
        assert_eq!(
            chats[0].last_message.as_ref().map(|m| m.id),
            Some(booked.message.id)
        );
        // The provider has not read the system message yet.
        assert_eq!(db.list_chats(p).await.expect("list")[0].unread_count, 1);
    }
);

storage_case!(sends_are_idempotent_per_client_id, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db.book_job(c, p, "Job", "").await.expect("book").chat_id;
    let first = db
        .insert_user_message(chat, c, "hello", "abc")
        .await
        .expect("send");
    let again = db
        .insert_user_message(chat, c, "hello (resent)", "abc")
        .await
        .expect("resend");
    assert!(first.created);
    assert!(!again.created);
    assert_eq!(first.message, again.message);
    // The same client id from another sender is another message.
    let other = db
        .insert_user_message(chat, p, "hi", "abc")
        .await
        .expect("send");
    assert!(other.created);
    let (all, _) = db
        .list_messages(
            chat,
            PageQuery {
                limit: 50,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(all.len(), 3); // system + 2
});

storage_case!(paging_has_no_gaps_or_duplicates, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db.book_job(c, p, "Job", "").await.expect("book").chat_id;
    for i in 0..120 {
        db.insert_user_message(chat, c, &format!("m{i}"), &format!("k{i}"))
            .await
            .expect("send");
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let (page, more) = db
            .list_messages(
                chat,
                PageQuery {
                    before,
                    after: None,
                    limit: 25,
                },
            )
            .await
            .expect("page");
        assert!(page.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
        seen.splice(0..0, page.iter().map(|m| m.id));
        before = page.first().map(|m| m.id);
        if !more {
            break;
        }
    }
    assert_eq!(seen.len(), 121);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let (after, more) = db
        .list_messages(
            chat,
            PageQuery {
                before: None,
                after: Some(seen[100]),
                limit: 50,
            },
        )
        .await
        .expect("after");
    assert_eq!(
        after.iter().map(|m| m.id).collect::<Vec<_>>(),
        seen[101..].to_vec()
    );
    assert!(!more);
});

storage_case!(read_marker_only_moves_forward, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db.book_job(c, p, "Job", "").await.expect("book").chat_id;
    let m1 = db
        .insert_user_message(chat, c, "one", "1")
        .await
        .expect("send")
        .message
        .id;
    let m2 = db
        .insert_user_message(chat, c, "two", "2")
        .await
        .expect("send")
        .message
        .id;
    assert_eq!(db.list_chats(p).await.expect("l")[0].unread_count, 3);
    assert!(db.mark_read(chat, p, m2).await.expect("read"));
    assert!(!db.mark_read(chat, p, m1).await.expect("read back"));
    assert_eq!(db.list_chats(p).await.expect("l")[0].unread_count, 0);
});

storage_case!(
    one_open_dispute_and_the_least_busy_lsm,
    |db: Db| async move {
        let c = user(&db, "c@example.test", Role::Customer).await;
        let p = user(&db, "p@example.test", Role::Provider).await;
        let chat1 = db.book_job(c, p, "One", "").await.expect("book").chat_id;
        let chat2 = db.book_job(c, p, "Two", "").await.expect("book").chat_id;
        let raiser = UserRef {
            id: c,
            name: "C".into(),
        };
        assert!(matches!(
            db.open_dispute(chat1, raiser.clone(), "why").await,
            Err(DisputeError::NoLsm)
        ));
        let l1 = user(&db, "l1@example.test", Role::Lsm).await;
        let l2 = user(&db, "l2@example.test", Role::Lsm).await;
        let d1 = db
            .open_dispute(chat1, raiser.clone(), "late")
            .await
            .expect("open");
        assert_eq!(d1.lsm.id, l1, "ties go to the lowest id");
        assert!(
            matches!(db.open_dispute(chat1, raiser.clone(), "again").await, Err(DisputeError::AlreadyOpen(id)) if id == d1.dispute_id)
        );
        let d2 = db
            .open_dispute(chat2, raiser.clone(), "broken")
            .await
            .expect("open");
        assert_eq!(d2.lsm.id, l2, "l1 is busier");
        assert_eq!(
            db.participant_role(chat1, l1).await.expect("q"),
            Some(Role::Lsm)
        );
        let resolved = db
            .resolve_dispute(
                d1.dispute_id,
                UserRef {
                    id: l1,
                    name: "L1".into(),
                },
                "refund",
            )
            .await
            .expect("resolve");
        assert_eq!(resolved.notifications.len(), 2);
        assert!(matches!(
            db.resolve_dispute(
                d1.dispute_id,
                UserRef {
                    id: l1,
                    name: "L1".into()
                },
                "again"
            )
            .await,
            Err(DisputeError::AlreadyResolved)
        ));
        // A new dispute may open once the first is resolved.
        db.open_dispute(chat1, raiser, "new problem")
            .await
            .expect("reopen");
    }
);

storage_case!(message_notifications_coalesce, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db
        .book_job(c, p, "Fix the sink", "")
        .await
        .expect("book")
        .chat_id;
    for i in 0..3 {
        db.bump_message_notification(p, chat, "Bob", "Fix the sink", &format!("msg {i}"))
            .await
            .expect("bump");
    }
    let list = db.list_notifications(p, true).await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].count, 3);
    assert_eq!(list[0].title, "3 new messages from Bob — Fix the sink");
    assert_eq!(list[0].body, "msg 2");
    assert!(
        db.mark_notification_read(p, list[0].id)
            .await
            .expect("read")
    );
    assert!(
        !db.mark_notification_read(c, list[0].id)
            .await
            .expect("not theirs")
    );
    db.bump_message_notification(p, chat, "Bob", "Fix the sink", "after read")
        .await
        .expect("bump");
    assert_eq!(db.count_notifications(p).await.expect("count"), 2);
    assert_eq!(
        db.list_notifications(p, true).await.expect("unread").len(),
        1
    );
});
