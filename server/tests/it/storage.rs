//! The storage layer's conformance cases, run against both backends.

use crate::helpers::{Backend, test_storage};
use contract::model::{MessageKind, Role, SystemEvent, UserId};
use server::service::texts::BELLS;
use server::storage::{
    Cursor, Db, DisputeError, Membership, NewDispute, NewUser, NewUserMessage, Notice, PageQuery,
    Settlement, StorageError,
};

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
            .book_job(
                c,
                p,
                "Paint the fence",
                "",
                "Booked: Paint the fence",
                &NOTE,
            )
            .await
            .expect("book");
        assert_eq!(booked.message.kind, MessageKind::System);
        assert_eq!(booked.message.content, "Booked: Paint the fence");
        assert_eq!(
            db.membership(booked.chat_id, c).await.expect("q"),
            Some(Membership {
                role: Role::Customer,
                left_seq: None
            })
        );
        assert_eq!(
            db.membership(booked.chat_id, p).await.expect("q"),
            Some(Membership {
                role: Role::Provider,
                left_seq: None
            })
        );
        let chats = db.list_chats(c).await.expect("list");
        assert_eq!(chats.len(), 1);
        assert_eq!(chats[0].participants.len(), 2);
        assert_eq!(
            chats[0].last_message.as_ref().map(|m| m.id),
            Some(booked.message.id)
        );
        // A system line is not counted unread (nor does it ring the bell).
        assert_eq!(db.list_chats(p).await.expect("list")[0].unread_count, 0);
    }
);

storage_case!(sends_are_idempotent_per_client_id, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db
        .book_job(c, p, "Job", "", "opened", &NOTE)
        .await
        .expect("book")
        .chat_id;
    let first = db
        .insert_user_message(chat, c, "hello", "abc", BELLS)
        .await
        .expect("send")
        .expect("a participant");
    let again = db
        .insert_user_message(chat, c, "hello (resent)", "abc", BELLS)
        .await
        .expect("resend")
        .expect("a participant");
    assert!(first.created);
    assert!(!again.created);
    assert_eq!(first.message, again.message);
    // The same client id from another sender is another message.
    let other = db
        .insert_user_message(chat, p, "hi", "abc", BELLS)
        .await
        .expect("send")
        .expect("a participant");
    assert!(other.created);
    let (all, _) = db
        .list_messages(
            chat,
            PageQuery {
                limit: 50,
                ..Default::default()
            },
            None,
        )
        .await
        .expect("list");
    assert_eq!(all.len(), 3); // system + 2
});

storage_case!(paging_has_no_gaps_or_duplicates, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db
        .book_job(c, p, "Job", "", "opened", &NOTE)
        .await
        .expect("book")
        .chat_id;
    for i in 0..120 {
        db.insert_user_message(chat, c, &format!("m{i}"), &format!("k{i}"), BELLS)
            .await
            .expect("send")
            .expect("a participant");
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
                None,
            )
            .await
            .expect("page");
        assert!(page.windows(2).all(|w| w[0].id < w[1].id), "oldest first");
        assert!(
            page.windows(2).all(|w| w[0].seq + 1 == w[1].seq),
            "gap-free"
        );
        seen.splice(0..0, page.iter().map(|m| m.id));
        before = page.first().map(|m| Cursor::Seq(m.seq));
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
                // A message id still works as a cursor (older clients).
                after: Some(Cursor::Id(seen[100])),
                limit: 50,
            },
            None,
        )
        .await
        .expect("after");
    assert_eq!(
        after.iter().map(|m| m.id).collect::<Vec<_>>(),
        seen[101..].to_vec()
    );
    assert!(!more);
    // Capped (someone who left at seq 60): nothing beyond it, either way.
    let (capped, more) = db
        .list_messages(
            chat,
            PageQuery {
                limit: 25,
                ..Default::default()
            },
            Some(60),
        )
        .await
        .expect("capped");
    assert_eq!(capped.last().map(|m| m.seq), Some(60));
    assert_eq!(capped.len(), 25);
    assert!(more);
    let (capped, more) = db
        .list_messages(
            chat,
            PageQuery {
                after: Some(Cursor::Seq(55)),
                limit: 25,
                ..Default::default()
            },
            Some(60),
        )
        .await
        .expect("capped after");
    assert_eq!(
        capped.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![56, 57, 58, 59, 60]
    );
    assert!(!more);
});

storage_case!(read_marker_only_moves_forward, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db
        .book_job(c, p, "Job", "", "opened", &NOTE)
        .await
        .expect("book")
        .chat_id;
    let m1 = db
        .insert_user_message(chat, c, "one", "1", BELLS)
        .await
        .expect("send")
        .expect("a participant")
        .message
        .id;
    let m2 = db
        .insert_user_message(chat, c, "two", "2", BELLS)
        .await
        .expect("send")
        .expect("a participant")
        .message
        .id;
    assert_eq!(db.list_chats(p).await.expect("l")[0].unread_count, 2);
    let read = |r: Option<server::storage::ReadOutcome>| r.map(|r| (r.moved, r.seq));
    assert_eq!(
        read(db.mark_read(chat, p, m2, BELLS).await.expect("read")),
        Some((true, 3))
    );
    assert_eq!(
        read(db.mark_read(chat, p, m1, BELLS).await.expect("read back")),
        Some((false, 2))
    );
    assert!(
        db.mark_read(chat, p, i64::MAX, BELLS)
            .await
            .expect("no such")
            .is_none()
    );
    assert_eq!(db.list_chats(p).await.expect("l")[0].unread_count, 0);
});

/// A system line's event, for storage tests (the words are theirs).
static NOTE: SystemEvent = SystemEvent::Note {
    text: String::new(),
};

fn dispute<'a>(chat_id: i64, raised_by: UserId, lsm: UserId, reason: &'a str) -> NewDispute<'a> {
    NewDispute {
        chat_id,
        raised_by,
        reason,
        lsm,
        announcement: reason,
        event: &NOTE,
        notice: Notice {
            title: "added",
            body: reason,
        },
    }
}

fn settlement<'a>(
    dispute_id: i64,
    chat_id: i64,
    lsm: UserId,
    notify: &'a [UserId],
) -> Settlement<'a> {
    Settlement {
        dispute_id,
        chat_id,
        lsm,
        resolution: "refund",
        outcome: contract::model::Outcome::Other,
        refund_cents: None,
        currency: "EUR",
        announcement: "resolved: refund",
        event: &NOTE,
        notify,
        notice: Notice {
            title: "resolved",
            body: "refund",
        },
    }
}

storage_case!(
    one_open_dispute_per_chat_resolved_once,
    |db: Db| async move {
        let c = user(&db, "c@example.test", Role::Customer).await;
        let p = user(&db, "p@example.test", Role::Provider).await;
        let chat1 = db
            .book_job(c, p, "One", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        let chat2 = db
            .book_job(c, p, "Two", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        assert!(db.lsm_loads().await.expect("loads").is_empty());
        let l1 = user(&db, "l1@example.test", Role::Lsm).await;
        let l2 = user(&db, "l2@example.test", Role::Lsm).await;
        let d1 = db
            .open_dispute(dispute(chat1, c, l1, "late"))
            .await
            .expect("open");
        // The texts are stored as given, the LSM is in the chat and notified.
        assert_eq!(d1.message.content, "late");
        assert_eq!(d1.message.kind, MessageKind::System);
        assert_eq!(d1.notification.title, "added");
        assert_eq!(d1.notification.kind, "dispute_opened");
        let lsm_in_chat = Some(Membership {
            role: Role::Lsm,
            left_seq: None,
        });
        assert_eq!(db.membership(chat1, l1).await.expect("q"), lsm_in_chat);
        assert!(
            matches!(db.open_dispute(dispute(chat1, c, l2, "again")).await, Err(DisputeError::AlreadyOpen(id)) if id == d1.dispute_id)
        );
        db.open_dispute(dispute(chat2, c, l2, "broken"))
            .await
            .expect("open");
        let loads: Vec<(i64, i64)> = db
            .lsm_loads()
            .await
            .expect("loads")
            .iter()
            .map(|l| (l.lsm.id, l.open_disputes))
            .collect();
        assert_eq!(loads, vec![(l1, 1), (l2, 1)]);

        // Two concurrent opens on one chat: exactly one wins.
        let chat3 = db
            .book_job(c, p, "Three", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        let (a, b) = tokio::join!(
            db.open_dispute(dispute(chat3, c, l1, "a")),
            db.open_dispute(dispute(chat3, p, l2, "b")),
        );
        assert_eq!(
            [&a, &b].iter().filter(|r| r.is_ok()).count(),
            1,
            "{:?} / {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        );
        assert!(
            [&a, &b]
                .iter()
                .any(|r| matches!(r, Err(DisputeError::AlreadyOpen(_)))),
            "the loser is told it is already open: {:?} / {:?}",
            a.as_ref().err(),
            b.as_ref().err()
        );

        let notify = [c, p];
        let resolved = db
            .resolve_dispute(settlement(d1.dispute_id, chat1, l1, &notify))
            .await
            .expect("resolve");
        assert_eq!(resolved.notifications.len(), 2);
        assert_eq!(resolved.message.content, "resolved: refund");
        // The LSM left with the settlement: read up to it, out of the chat.
        let left = Some(Membership {
            role: Role::Lsm,
            left_seq: Some(resolved.message.seq),
        });
        assert_eq!(db.membership(chat1, l1).await.expect("q"), left);
        assert_eq!(
            db.former_lsm(chat1).await.expect("q").map(|u| u.id),
            Some(l1)
        );
        assert!(
            db.chat_participants(chat1)
                .await
                .expect("q")
                .iter()
                .all(|x| x.id != l1),
            "a departed LSM is not among the chat's people"
        );
        // What the others say next is not theirs to read, nor to be rung for.
        db.insert_user_message(chat1, c, "between us", "after-lsm", BELLS)
            .await
            .expect("send")
            .expect("a participant");
        let theirs = db.list_chats(l1).await.expect("list");
        let one = theirs.iter().find(|x| x.id == chat1).expect("still listed");
        assert!(one.left);
        assert_eq!(one.last_seq, resolved.message.seq);
        assert_eq!(one.unread_count, 0);
        assert_eq!(
            one.last_message.as_ref().map(|m| m.id),
            Some(resolved.message.id)
        );
        assert!(one.participants.iter().all(|x| x.id != l1));
        assert!(
            db.list_notifications(l1, true)
                .await
                .expect("bells")
                .iter()
                .all(|n| n.kind != "new_message"),
            "no bell for a chat they left"
        );
        assert!(
            db.insert_user_message(chat1, l1, "still here?", "lsm-after", BELLS)
                .await
                .expect("send")
                .is_none(),
            "a departed LSM cannot post"
        );
        let customers = db.list_chats(c).await.expect("list");
        let theirs = customers.iter().find(|x| x.id == chat1).expect("listed");
        assert!(!theirs.left);
        assert!(theirs.last_seq > resolved.message.seq);
        assert!(matches!(
            db.resolve_dispute(settlement(d1.dispute_id, chat1, l1, &notify))
                .await,
            Err(DisputeError::AlreadyResolved)
        ));
        // A new dispute may open once the first is resolved, and brings the
        // LSM back into the chat.
        db.open_dispute(dispute(chat1, c, l1, "new problem"))
            .await
            .expect("reopen");
        assert_eq!(db.membership(chat1, l1).await.expect("q"), lsm_in_chat);
        assert!(
            !db.list_chats(l1)
                .await
                .expect("list")
                .iter()
                .any(|x| x.id == chat1 && x.left)
        );
    }
);

storage_case!(message_notifications_coalesce, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let chat = db
        .book_job(c, p, "Fix the sink", "", "opened", &NOTE)
        .await
        .expect("book")
        .chat_id;
    // The bell is written with the message, in its transaction.
    for i in 0..3 {
        db.insert_user_message(chat, c, &format!("msg {i}"), &format!("k{i}"), BELLS)
            .await
            .expect("send")
            .expect("a participant");
    }
    let list = db.list_notifications(p, true).await.expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].count, 3);
    assert_eq!(
        list[0].title,
        "3 new messages from c@example.test — Fix the sink"
    );
    assert_eq!(list[0].body, "msg 2");
    assert_eq!(
        db.count_notifications(c).await.expect("count"),
        0,
        "no bell for the sender"
    );
    // A resend stores nothing and bumps nothing.
    db.insert_user_message(chat, c, "msg 2 again", "k2", BELLS)
        .await
        .expect("resend");
    assert_eq!(
        db.list_notifications(p, true).await.expect("list")[0].count,
        3
    );
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
    db.insert_user_message(chat, c, "after read", "k3", BELLS)
        .await
        .expect("send");
    assert_eq!(db.count_notifications(p).await.expect("count"), 2);
    let unread = db.list_notifications(p, true).await.expect("unread");
    assert_eq!(unread.len(), 1);
    assert_eq!(
        unread[0].title,
        "New message from c@example.test — Fix the sink"
    );
});

storage_case!(
    a_batch_is_one_commit_with_per_message_outcomes,
    |db: Db| async move {
        let c = user(&db, "c@example.test", Role::Customer).await;
        let p = user(&db, "p@example.test", Role::Provider).await;
        let outsider = user(&db, "o@example.test", Role::Customer).await;
        let one = db
            .book_job(c, p, "One", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        let two = db
            .book_job(c, p, "Two", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        let msg = |chat, sender, key: &str| NewUserMessage {
            chat_id: chat,
            sender_id: sender,
            content: format!("text {key}"),
            original: None,
            client_id: key.to_owned(),
            attachments: false,
        };
        let batch = [
            msg(one, c, "a"),
            msg(one, p, "b"),
            msg(one, c, "a"), // the resend of "a", in the same batch
            msg(one, outsider, "x"),
            msg(two, c, "c"),
        ];
        let stored = db
            .insert_user_messages(&batch, BELLS, None)
            .await
            .expect("batch");
        let out = &stored.results;
        let seq = |i: usize| out[i].as_ref().map(|s| (s.message.seq, s.created));
        assert_eq!(seq(0), Some((2, true)));
        assert_eq!(seq(1), Some((3, true)));
        assert_eq!(seq(2), Some((2, false)), "the resend finds the first");
        assert!(out[3].is_none(), "an outsider is refused");
        assert_eq!(seq(4), Some((2, true)), "each chat has its own seqs");
        // The resend and the refusal left no gap: the next message is 4.
        let next = db
            .insert_user_message(one, p, "after", "d", BELLS)
            .await
            .expect("send")
            .expect("a participant");
        assert_eq!(next.message.seq, 4);
        // The bells came with the batch: two senders in chat one (each
        // rings the other), one in chat two; the resend and the outsider
        // ring nobody.
        let mut rung: Vec<(i64, i64, i64)> = stored
            .bells
            .iter()
            .map(|b| {
                (
                    b.user_id,
                    b.notification.chat_id.unwrap_or(0),
                    b.notification.count,
                )
            })
            .collect();
        rung.sort_unstable();
        let mut want = vec![(p, one, 1), (c, one, 1), (p, two, 1)];
        want.sort_unstable();
        assert_eq!(rung, want);
        assert_eq!(db.count_notifications(outsider).await.expect("count"), 0);
    }
);

storage_case!(the_chat_list_comes_in_pages, |db: Db| async move {
    let c = user(&db, "c@example.test", Role::Customer).await;
    let p = user(&db, "p@example.test", Role::Provider).await;
    let mut chats = Vec::new();
    for i in 0..5 {
        let title = format!("Job {i}");
        chats.push(
            db.book_job(c, p, &title, "", "opened", &NOTE)
                .await
                .expect("book")
                .chat_id,
        );
    }
    // The oldest chat gets the newest message: it comes first.
    db.insert_user_message(chats[0], c, "bump", "b", BELLS)
        .await
        .expect("send")
        .expect("a participant");
    let mut seen = Vec::new();
    let mut page = server::storage::ChatPage {
        before: None,
        limit: 2,
    };
    loop {
        let rows = db.list_chats_page(c, page).await.expect("page");
        assert!(rows.len() <= 2);
        for r in &rows {
            assert_eq!(r.participants.len(), 2, "each chat's people come with it");
        }
        seen.extend(rows.iter().map(|r| r.id));
        let Some(last) = rows.last() else { break };
        page.before = Some((last.last_message.as_ref().map_or(0, |m| m.id), last.id));
        if rows.len() < 2 {
            break;
        }
    }
    let mut expected = vec![chats[0]];
    expected.extend(chats[1..].iter().rev());
    assert_eq!(seen, expected);
});

// A caller in more chats than SQLite names inside its FTS5 match (1,000)
// is searched without naming them; the join still keeps only their chats.
storage_case!(
    search_for_a_caller_in_very_many_chats,
    |db: Db| async move {
        let c = user(&db, "many@x.test", Role::Customer).await;
        let p = user(&db, "many-p@x.test", Role::Provider).await;
        let other = user(&db, "other@x.test", Role::Customer).await;
        let mut chats = Vec::new();
        for _ in 0..1_001 {
            let booked = db
                .book_job(c, p, "Job", "", "opened", &NOTE)
                .await
                .expect("book");
            chats.push(booked.chat_id);
        }
        let outside = db
            .book_job(other, p, "Job", "", "opened", &NOTE)
            .await
            .expect("book")
            .chat_id;
        for (chat, text, key) in [
            (chats[0], "the boiler warranty", "k1"),
            (chats[1_000], "a new boiler", "k2"),
            (outside, "boiler elsewhere", "k3"),
        ] {
            db.insert_user_message(
                chat,
                if chat == outside { other } else { c },
                text,
                key,
                BELLS,
            )
            .await
            .expect("send");
        }
        let q = contract::validate::SearchQuery::parse("boiler").expect("query");
        let mut found: Vec<String> = db
            .search_messages(c, &q, 20, 0)
            .await
            .expect("search")
            .into_iter()
            .map(|h| h.message.content)
            .collect();
        found.sort();
        assert_eq!(found, vec!["a new boiler", "the boiler warranty"]);
        let theirs = db.search_messages(other, &q, 20, 0).await.expect("search");
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].message.content, "boiler elsewhere");
    }
);

/// The scale benchmark's archive: ids from 1, gap-free seqs, the long
/// chat, each chat's last message and read markers, the LSM's chats, and
/// what the product then reads from it (list, history, search).
#[tokio::test]
async fn the_archive_is_a_consistent_chat_history() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some((db, _guard)) = test_storage(backend).await else {
            continue;
        };
        let spec = server::storage::ArchiveSpec {
            users: 10,
            chats: 1001,
            per_chat: 3,
            password_hash: "x".into(),
        };
        db.seed_archive(&spec, |_| {}).await.expect("seeded");
        assert_eq!(spec.messages(), 1000 * 3 + 30);
        let (long, _) = db
            .list_messages(
                997,
                server::storage::PageQuery {
                    limit: 200,
                    ..Default::default()
                },
                None,
            )
            .await
            .expect("history");
        let seqs: Vec<i64> = long.iter().map(|m| m.seq).collect();
        assert_eq!(
            seqs,
            (1..=30).collect::<Vec<_>>(),
            "{backend:?}: the long chat"
        );
        assert!(
            long.iter()
                .all(|m| m.kind == MessageKind::User && m.content.split(' ').count() == 8)
        );
        // Customer 1 (chats 5, 10, …): the list's newest first, all read.
        let chats = db
            .list_chats_page(1, server::storage::ChatPage::newest())
            .await
            .expect("list");
        assert_eq!(chats.len(), 1001 / 5, "{backend:?}");
        assert!(
            chats
                .iter()
                .all(|c| c.unread_count == 0 && c.last_message.is_some())
        );
        assert!(
            chats
                .windows(2)
                .all(|w| w[0].last_message.as_ref().map(|m| m.id)
                    > w[1].last_message.as_ref().map(|m| m.id))
        );
        // The LSM takes part in every chat here (fewer than LSM_CHATS).
        let lsm = db
            .list_chats_page(11, server::storage::ChatPage::newest())
            .await
            .expect("list");
        assert_eq!(lsm.len(), 200, "a page");
        // Search finds the archive's words in the caller's chats only
        // (on SQLite the seed writes the index itself).
        let word = long[0].content.split(' ').nth(2).expect("eight words");
        let q = contract::validate::SearchQuery::parse(word).expect("valid");
        let hits = db.search_messages(1, &q, 20, 0).await.expect("search");
        assert!(!hits.is_empty(), "{backend:?}: {word}");
        assert!(
            hits.iter()
                .all(|h| h.chat_id % 5 == 0 && h.message.content.contains(word))
        );
        // Re-seeding a database with accounts is refused.
        assert!(db.seed_archive(&spec, |_| {}).await.is_err());
    }
}
