//! Contact masking in a chat (issue #23): what the others receive, live and
//! in history, search and bells, with the contact details hidden; what the
//! sender wrote kept for the LSM of a dispute; edits and file names masked
//! too; harmless numbers left alone.

use crate::attachments::uploaded;
use crate::both_backends;
use crate::helpers::{TestApp, pair, uuid_like};
use crate::revisions::{edit, lsm_reads, search, texts, versions};
use contract::model::{Message, MessageKind};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

/// Five ways a provider passes the same number or an address.
const TRIES: [&str; 5] = [
    "call me on 0176 1234 5678",
    "zero one seven six, one two three four, five six seven eight",
    "0 1 7 6 1 2 3 4 5 6 7 8 is my mobile",
    "or mail bob.fixes at gmail dot com",
    "insta: bob.fixes",
];

fn leaks(text: &str) -> bool {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    digits.contains("1234") || text.contains("bob.fixes") || text.contains("gmail")
}

both_backends!(
    contact_details_reach_only_the_lsm,
    |app: TestApp| async move {
        let lsm = app.create_lsm().await;
        let (customer, provider, chat) = pair(&app).await;
        let mut listening = app.socket(&customer).await;
        listening.join(chat).await;
        let mut sent: Vec<Message> = Vec::new();
        for text in TRIES {
            let m = app.say(&provider, chat, text).await;
            assert!(m.masked && !leaks(&m.content), "{text} → {}", m.content);
            sent.push(m);
        }
        // A number sent in pieces: every piece after the first is hidden.
        let first = app.say(&provider, chat, "ok in parts: 0176").await;
        let second = app.say(&provider, chat, "1234").await;
        let third = app.say(&provider, chat, "5678").await;
        assert!(!first.masked);
        assert_eq!(second.content, "[phone number hidden]");
        assert_eq!(third.content, "[phone number hidden]");
        // Harmless numbers stay.
        let price = app
            .say(
                &provider,
                chat,
                "80 EUR, Tuesday 14:30, Hauptstraße 12, 10115 Berlin",
            )
            .await;
        assert!(!price.masked);
        assert_eq!(
            price.content,
            "80 EUR, Tuesday 14:30, Hauptstraße 12, 10115 Berlin"
        );

        // Live, in history and in search, the customer sees markers only.
        let heard = listening.heard(chat, Duration::from_millis(300)).await;
        let live: Vec<&Message> = heard.iter().filter(|m| m.masked).collect();
        assert_eq!(live.len(), TRIES.len() + 2, "{heard:?}");
        assert!(heard.iter().all(|m| !leaks(&m.content)));
        let history = app.all_messages(&customer, chat).await;
        assert!(history.iter().all(|m| !leaks(&m.content)));
        assert!(
            history
                .iter()
                .any(|m| m.content.contains("[phone number hidden]"))
        );
        assert!(history.iter().any(|m| m.content.contains("[email hidden]")));
        assert!(
            history
                .iter()
                .any(|m| m.content.contains("[contact hidden]"))
        );
        // (The first piece of the number in parts, "0176", was sent as is.)
        for q in ["1234", "5678", "gmail", "bob"] {
            assert!(search(&app, &customer, q).await.is_empty(), "{q}");
        }
        // Bells carry what the customer may read.
        let (_, bells) = app
            .get("/api/notifications?unread=true", Some(&customer.token))
            .await;
        assert!(!leaks(&bells.to_string()), "{bells}");

        // Editing a message into a number is masked as well.
        let (status, body) = edit(&app, &provider, &price, "80 EUR, or ring 0151 2345 6789").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let edited: Message = serde_json::from_value(body).expect("a message");
        assert!(
            edited.masked && !edited.content.contains("2345"),
            "{}",
            edited.content
        );

        // A file's name is masked.
        let file = uploaded(
            &app,
            &provider,
            chat,
            &uuid_like(),
            "call 0176 1234 5678.txt",
            b"quote".to_vec(),
        )
        .await;
        assert!(!leaks(&file.name), "{}", file.name);

        // The customer may not read what was written; the LSM of a dispute may.
        assert_ne!(versions(&app, &customer, &sent[0]).await.0, StatusCode::OK);
        let (status, body) = app
            .post(
                &format!("/api/chats/{chat}/dispute"),
                Some(&customer.token),
                json!({ "reason": "He wants to be paid in cash" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        for (m, text) in sent.iter().zip(TRIES) {
            let h = lsm_reads(&app, &lsm, m).await;
            assert_eq!(texts(&h), vec![(text, MessageKind::User)]);
        }
        let h = lsm_reads(&app, &lsm, &price).await;
        assert_eq!(
            texts(&h),
            vec![
                (
                    "80 EUR, Tuesday 14:30, Hauptstraße 12, 10115 Berlin",
                    MessageKind::User
                ),
                ("80 EUR, or ring 0151 2345 6789", MessageKind::Edit),
            ]
        );
        // The LSM's own view of the chat is the masked one, as the others'.
        let seen = app.all_messages(&lsm, chat).await;
        assert!(seen.iter().all(|m| !leaks(&m.content)));
    }
);
