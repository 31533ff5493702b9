//! A chat's retention rule: a chat quiet for longer than the rule keeps
//! it, with no dispute open, goes with everything in it (messages, files
//! and their objects, search entries, the job); a chat written to since,
//! or with a dispute open, stays.

use crate::attachments::{download, objects, photo, sent_with, uploaded};
use crate::both_backends;
use crate::helpers::{TestApp, pair, uuid_like};
use contract::protocol::SendMessage;
use contract::validate::SearchQuery;
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    a_quiet_chat_goes_with_its_files,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        // Quiet: a photo, a text and an edit, then nothing.
        let (customer, provider, quiet) = pair(&app).await;
        let (file, _) = sent_with(
            &app,
            &customer,
            quiet,
            "The boiler",
            "boiler.jpg",
            photo(300, 200),
        )
        .await;
        app.say(&provider, quiet, "boiler quote: 80 EUR").await;
        // Quiet too, but with a dispute open.
        let (c2, _p2, disputed) = pair(&app).await;
        app.say(&c2, disputed, "boiler still broken").await;
        let (status, body) = app
            .post(
                &format!("/api/chats/{disputed}/dispute"),
                Some(&c2.token),
                json!({ "reason": "Not fixed" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // An upload not yet sent, in the quiet chat.
        uploaded(
            &app,
            &customer,
            quiet,
            &uuid_like(),
            "draft.txt",
            b"draft".to_vec(),
        )
        .await;
        assert_eq!(objects(&app).await.len(), 3, "photo, thumbnail, draft");

        let keep_until = chrono::Utc::now();
        // Written to after the rule's point: stays.
        let (c3, _p3, busy) = pair(&app).await;
        app.say(&c3, busy, "boiler tomorrow?").await;
        assert!(
            !app.service
                .db()
                .delete_chat(busy, keep_until)
                .await
                .expect("checked"),
            "a chat written to since is no longer due"
        );

        assert_eq!(app.service.expire_chats(keep_until).await.expect("ran"), 1);
        assert!(
            objects(&app).await.is_empty(),
            "the quiet chat's objects went"
        );
        for user in [&customer, &provider] {
            let (status, _) = app
                .get(&format!("/api/chats/{quiet}/messages"), Some(&user.token))
                .await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let (_, chats) = app.get("/api/chats", Some(&user.token)).await;
            assert_eq!(chats.as_array().map(Vec::len), Some(0), "{chats}");
        }
        let path = format!("/api/attachments/{}", file.id);
        assert_eq!(
            download(&app, &customer, &path).await.0,
            StatusCode::NOT_FOUND
        );
        let q = SearchQuery::parse("boiler").expect("valid");
        let db = app.service.db();
        assert!(
            db.search_messages(customer.id, &q, 20, 0)
                .await
                .expect("search")
                .is_empty()
        );
        assert_eq!(
            db.search_messages(c2.id, &q, 20, 0)
                .await
                .expect("search")
                .len(),
            1
        );
        assert_eq!(
            db.search_messages(lsm.id, &q, 20, 0)
                .await
                .expect("search")
                .len(),
            1
        );
        assert_eq!(
            db.search_messages(c3.id, &q, 20, 0)
                .await
                .expect("search")
                .len(),
            1
        );
        assert!(
            db.queued_object_deletions(10)
                .await
                .expect("read")
                .is_empty()
        );
        // A send into the deleted chat is refused, not stored.
        let refused = app
            .socket(&customer)
            .await
            .request(&SendMessage {
                chat_id: quiet,
                content: "hello?".into(),
                client_id: uuid_like(),
                attachments: Vec::new(),
            })
            .await;
        assert!(refused.is_err(), "{refused:?}");
        // Nothing else is due.
        assert_eq!(app.service.expire_chats(keep_until).await.expect("ran"), 0);
    }
);
