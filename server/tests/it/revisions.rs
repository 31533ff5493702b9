//! Editing and deleting messages: who may, within which window, how the
//! change travels (its own seq, live, in a join's catch-up, idempotent),
//! what the others and search see afterwards, and the versions the LSM of a
//! dispute reads.

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestUser, pair, spawn_with_limits, uuid_like};
use contract::error::ErrorCode;
use contract::model::{Message, MessageHistory, MessageKind};
use contract::protocol::{DeleteMessage, EditMessage, JoinChat, NewMessage};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub(crate) async fn edit(
    app: &TestApp,
    user: &TestUser,
    m: &Message,
    text: &str,
) -> (StatusCode, Value) {
    app.request(
        Method::PATCH,
        &format!("/api/chats/{}/messages/{}", m.chat_id, m.id),
        Some(&user.token),
        Some(json!({ "content": text, "clientId": uuid_like() })),
    )
    .await
}

async fn delete(app: &TestApp, user: &TestUser, m: &Message) -> (StatusCode, Value) {
    app.request(
        Method::DELETE,
        &format!("/api/chats/{}/messages/{}", m.chat_id, m.id),
        Some(&user.token),
        None,
    )
    .await
}

pub(crate) async fn versions(app: &TestApp, user: &TestUser, m: &Message) -> (StatusCode, Value) {
    app.get(
        &format!("/api/chats/{}/messages/{}/versions", m.chat_id, m.id),
        Some(&user.token),
    )
    .await
}

pub(crate) async fn search(app: &TestApp, user: &TestUser, q: &str) -> Vec<String> {
    let (status, body) = app
        .get(&format!("/api/search?q={q}"), Some(&user.token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("hits")
        .iter()
        .map(|h| {
            h["message"]["content"]
                .as_str()
                .expect("content")
                .to_owned()
        })
        .collect()
}

/// The versions the LSM reads, which must be allowed.
pub(crate) async fn lsm_reads(app: &TestApp, lsm: &TestUser, m: &Message) -> MessageHistory {
    let (status, body) = versions(app, lsm, m).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("a history")
}

pub(crate) fn texts(h: &MessageHistory) -> Vec<(&str, MessageKind)> {
    h.versions
        .iter()
        .map(|v| (v.content.as_str(), v.kind))
        .collect()
}

fn by_id(history: &[Message], id: i64) -> &Message {
    history.iter().find(|m| m.id == id).expect("in the history")
}

both_backends!(
    an_edit_and_a_deletion_travel_in_seq_order,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let mut listener = app.socket(&provider).await;
        listener.join(chat).await;
        let writer = app.socket(&customer).await;
        let sent = writer.send(chat, "The plumber arrives Tuesday").await;
        let other = writer.send(chat, "Bring the spare tap").await;

        // An edit over the socket: a message of its own, with the next
        // seq, carrying its target's new text and revision.
        let client_id = uuid_like();
        let request = EditMessage {
            chat_id: chat,
            message_id: sent.id,
            content: "The plumber arrives Wednesday".into(),
            client_id: client_id.clone(),
        };
        let edited = writer.request(&request).await.expect("edited").message;
        assert_eq!(edited.kind, MessageKind::Edit);
        assert_eq!(edited.target_id, Some(sent.id));
        assert_eq!(edited.seq, other.seq + 1);
        assert_eq!(edited.content, "The plumber arrives Wednesday");
        let revision = edited.revision.clone().expect("a revision");
        assert_eq!(revision.seq, edited.seq);
        assert!(revision.edited_at.is_some() && revision.deleted_at.is_none());
        // The same client id again: the same edit, nothing new stored.
        let again = writer.request(&request).await.expect("resent").message;
        assert_eq!((again.id, again.seq), (edited.id, edited.seq));

        // The provider hears each live (broadcasts of different sends may
        // arrive in any order; seq orders them).
        for want in [&sent, &other, &edited] {
            let heard = listener
                .expect_event_where(|n: &NewMessage| n.0.seq == want.seq)
                .await;
            assert_eq!((heard.0.id, heard.0.kind), (want.id, want.kind));
        }

        // A second edit, then the deletion of the other message, over REST.
        let (status, second) = edit(&app, &customer, &sent, "Thursday then").await;
        assert_eq!(status, StatusCode::OK, "{second}");
        let (status, deletion) = delete(&app, &customer, &other).await;
        assert_eq!(status, StatusCode::OK, "{deletion}");
        let deletion: Message = serde_json::from_value(deletion).expect("a message");
        assert_eq!(deletion.kind, MessageKind::Delete);
        assert_eq!(deletion.content, "");
        assert!(
            deletion
                .revision
                .as_ref()
                .and_then(|r| r.deleted_at)
                .is_some()
        );
        let heard = listener
            .expect_event_where(|n: &NewMessage| n.0.id == deletion.id)
            .await;
        assert!(heard.0.is_deleted() && heard.0.target_id == Some(other.id));
        // Deleting again answers with the first deletion.
        let (status, twice) = delete(&app, &customer, &other).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(twice["id"], deletion.id);
        // A deleted message cannot be edited.
        let (status, body) = edit(&app, &customer, &other, "Back again").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");

        // History: the messages as they are now, the changes in their seq
        // places; an early edit carries its target's text as it is now,
        // never the version edited away.
        let history = app.all_messages(&provider, chat).await;
        let seqs: Vec<i64> = history.iter().map(|m| m.seq).collect();
        assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
        let now = by_id(&history, sent.id);
        assert_eq!(now.content, "Thursday then");
        assert!(now.is_edited());
        assert_eq!(by_id(&history, edited.id).content, "Thursday then");
        let gone = by_id(&history, other.id);
        assert!(gone.is_deleted());
        assert_eq!(gone.content, "");
        // One message on its own reads the same.
        let (status, one) = app
            .get(
                &format!("/api/chats/{chat}/messages/{}", sent.id),
                Some(&provider.token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{one}");
        assert_eq!(one["content"], "Thursday then");

        // A client that was away catches up on the changes by seq.
        let late = app.socket(&provider).await;
        let reply = late
            .request(&JoinChat {
                chat_id: chat,
                after_seq: Some(other.seq),
                after_message_id: None,
            })
            .await
            .expect("joined");
        let missed = reply.messages.expect("a catch-up");
        let kinds: Vec<MessageKind> = missed.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            vec![MessageKind::Edit, MessageKind::Edit, MessageKind::Delete]
        );
        assert!(missed.iter().take(2).all(|m| m.content == "Thursday then"));

        // Changes are not unread messages; the list shows the last
        // message as it is now.
        let (_, chats) = app.get("/api/chats", Some(&provider.token)).await;
        assert_eq!(chats[0]["unreadCount"], 2, "{chats}");
        assert_eq!(chats[0]["lastMessage"]["id"], other.id);
        assert_eq!(chats[0]["lastMessage"]["content"], "");
        assert!(chats[0]["lastMessage"]["revision"]["deletedAt"].is_string());

        // Search finds the text as it is now, never an edited-away or
        // deleted word.
        assert!(search(&app, &provider, "tuesday").await.is_empty());
        assert!(search(&app, &provider, "wednesday").await.is_empty());
        assert_eq!(
            search(&app, &provider, "thursday").await,
            vec!["Thursday then"]
        );
        assert!(search(&app, &provider, "spare").await.is_empty());
    }
);

both_backends!(
    only_the_sender_changes_their_own_messages,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let (stranger, _, _) = pair(&app).await;
        let mine = app.say(&customer, chat, "Gate code is on the card").await;
        let history = app.all_messages(&customer, chat).await;
        let booked = history
            .iter()
            .find(|m| m.kind == MessageKind::System)
            .expect("the booking line")
            .clone();

        let refused = |(status, body): (StatusCode, Value), want: StatusCode, code: &str| {
            assert_eq!(status, want, "{body}");
            assert_eq!(body["error"]["code"], code, "{body}");
        };
        refused(
            edit(&app, &provider, &mine, "Mine now").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        refused(
            delete(&app, &provider, &mine).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        refused(
            edit(&app, &customer, &booked, "Not booked").await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
        refused(
            delete(&app, &stranger, &mine).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        let mut missing = mine.clone();
        missing.id += 1_000_000;
        refused(
            delete(&app, &customer, &missing).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
        refused(
            edit(&app, &customer, &mine, "   ").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_request",
        );
        let (status, body) = app
            .request(
                Method::PATCH,
                &format!("/api/chats/{chat}/messages/{}", mine.id),
                Some(&customer.token),
                Some(json!({ "content": "fine", "clientId": "not a uuid" })),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"]["field"], "clientId");
        // A change row is not a message to change.
        let (status, change) = edit(&app, &customer, &mine, "Gate code 1234").await;
        assert_eq!(status, StatusCode::OK, "{change}");
        let change: Message = serde_json::from_value(change).expect("a message");
        refused(
            delete(&app, &customer, &change).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );

        // Nothing refused was stored: the chat holds the booking line, the
        // message and its one edit.
        assert_eq!(app.all_messages(&provider, chat).await.len(), 3);
        // Over the socket, a refusal is an ack with the same code.
        let socket = app.socket(&provider).await;
        let error = socket
            .request(&DeleteMessage {
                chat_id: chat,
                message_id: mine.id,
            })
            .await
            .expect_err("refused");
        assert_eq!(error.code, ErrorCode::Forbidden);
    }
);

#[tokio::test]
async fn edits_close_with_the_window_and_deletions_do_not() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = spawn_with_limits(backend, |l| l.edit_window_secs = 0).await else {
            continue;
        };
        let (customer, _, chat) = pair(&app).await;
        let m = app.say(&customer, chat, "Ten o'clock").await;
        let (status, body) = edit(&app, &customer, &m, "Eleven").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["message"], "messages cannot be edited here");
        let (status, body) = delete(&app, &customer, &m).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

both_backends!(
    the_lsm_of_a_dispute_sees_every_version,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let lsm = app.create_lsm().await;
        let price = app.say(&customer, chat, "I will pay 80").await;
        let insult = app.say(&customer, chat, "You are useless").await;
        assert_eq!(
            edit(&app, &customer, &price, "I will pay 60").await.0,
            StatusCode::OK
        );
        assert_eq!(
            edit(&app, &customer, &price, "I will pay 50").await.0,
            StatusCode::OK
        );
        assert_eq!(delete(&app, &customer, &insult).await.0, StatusCode::OK);

        let (status, body) = app
            .post(
                &format!("/api/chats/{chat}/dispute"),
                Some(&provider.token),
                json!({ "reason": "The price changed" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let dispute = body["disputeId"].as_i64().expect("dispute id");

        let h = lsm_reads(&app, &lsm, &price).await;
        assert_eq!(
            texts(&h),
            vec![
                ("I will pay 80", MessageKind::User),
                ("I will pay 60", MessageKind::Edit),
                ("I will pay 50", MessageKind::Edit)
            ]
        );
        assert!(h.versions.windows(2).all(|w| w[0].at <= w[1].at));
        let h = lsm_reads(&app, &lsm, &insult).await;
        assert_eq!(
            texts(&h),
            vec![
                ("You are useless", MessageKind::User),
                ("", MessageKind::Delete)
            ]
        );

        // The parties are refused; outsiders learn nothing.
        assert_eq!(
            versions(&app, &customer, &price).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            versions(&app, &provider, &insult).await.0,
            StatusCode::FORBIDDEN
        );
        let (stranger, _, _) = pair(&app).await;
        assert_eq!(
            versions(&app, &stranger, &price).await.0,
            StatusCode::NOT_FOUND
        );

        // After the settlement the LSM sees the versions as they stood.
        let (status, _) = app
            .post(
                &format!("/api/disputes/{dispute}/resolve"),
                Some(&lsm.token),
                json!({ "resolution": "Paid 50" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            edit(&app, &customer, &price, "I will pay 40").await.0,
            StatusCode::OK
        );
        let h = lsm_reads(&app, &lsm, &price).await;
        assert_eq!(
            h.versions.last().map(|v| v.content.as_str()),
            Some("I will pay 50"),
            "not the edit made after the LSM left"
        );
    }
);

/// Two nodes on PostgreSQL and Redis: an edit and a deletion made on one
/// reach a client of the other, in seq order.
#[tokio::test]
async fn two_nodes_show_the_same_changes() {
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut on_a = a.socket(&provider).await;
    on_a.join(chat).await;
    let on_b = b.socket(&customer).await;
    let m = on_b.send(chat, "See you at 9").await;
    let edited = on_b
        .request(&EditMessage {
            chat_id: chat,
            message_id: m.id,
            content: "See you at 10".into(),
            client_id: uuid_like(),
        })
        .await
        .expect("edited")
        .message;
    let deletion = on_b
        .request(&DeleteMessage {
            chat_id: chat,
            message_id: m.id,
        })
        .await
        .expect("deleted")
        .message;
    for want in [&m, &edited, &deletion] {
        let heard = on_a
            .expect_event_where(|n: &NewMessage| n.0.seq == want.seq)
            .await;
        assert_eq!((heard.0.id, heard.0.kind), (want.id, want.kind));
    }
    let history = a.all_messages(&provider, chat).await;
    assert!(by_id(&history, m.id).is_deleted());
}
