//! Edits and deletions: the user's own (asked for, acked, refused,
//! offline) and others' arriving (live, out of view, before their target,
//! in a catch-up), never counted, announced or moved up.

use super::*;
use crate::chat::state::revisions::{NO_ANSWER, OFFLINE};
use crate::model::{MessageId, Revision};
use crate::protocol::{DeleteMessage, EditMessage};

const CID: &str = "5b0e7f8a-3c1d-4e2f-9a6b-7c8d9e0f1a2b";

/// A change of `target` by `sender`, stored at `seq` of chat 1, carrying
/// the target's state after it.
fn change(kind: MessageKind, target: MessageId, seq: Seq, sender: i64, text: &str) -> Message {
    let now = chrono::Utc::now();
    let deleted = kind == MessageKind::Delete;
    Message {
        kind,
        target_id: Some(target),
        content: if deleted { String::new() } else { text.into() },
        revision: Some(Box::new(Revision {
            seq,
            edited_at: (!deleted).then_some(now),
            deleted_at: deleted.then_some(now),
            hidden: false,
        })),
        ..message(1, seq, sender)
    }
}

fn edit_of(target: MessageId, seq: Seq, sender: i64, text: &str) -> Message {
    change(MessageKind::Edit, target, seq, sender, text)
}

fn target(s: &State, id: MessageId) -> &Message {
    &s.threads[&1]
        .lines
        .iter()
        .find(|l| l.message.id == id)
        .expect("held")
        .message
}

fn replies(fx: &[Effect]) -> Vec<(Ticket, Result<(), AppError>)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Reply { ticket, result } => Some((*ticket, result.clone())),
            _ => None,
        })
        .collect()
}

/// Chat 1 open with seqs 1..=3, then the user's own message at seq 4 (id
/// 104); chat 2 above it in the list.
fn with_my_message() -> State {
    let mut s = with_open_chat();
    update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(message(1, 4, ME))),
    );
    s
}

fn edit(s: &mut State, env: &Env, text: &str, client_id: &str) -> Vec<Effect> {
    update(
        s,
        env,
        Msg::Edit {
            ticket: 3,
            chat: 1,
            message: 104,
            text: text.into(),
            client_id: client_id.into(),
        },
    )
}

#[test]
fn an_edit_is_asked_for_and_its_ack_rewrites_the_message() {
    let mut s = with_my_message();
    let fx = edit(&mut s, &env(true), "  fixed typo  ", CID);
    assert_eq!(
        fx,
        vec![Effect::Edit {
            ticket: 3,
            request: EditMessage {
                chat_id: 1,
                message_id: 104,
                content: "fixed typo".into(),
                client_id: CID.into(),
            },
        }],
        "trimmed, as the server stores it"
    );
    assert_eq!(
        target(&s, 104).content,
        "m4",
        "nothing changes before the ack"
    );

    let stored = edit_of(104, 5, ME, "fixed typo");
    let fx = update(
        &mut s,
        &env(true),
        Msg::Revised {
            ticket: 3,
            result: Ok(SendReply {
                message: stored.clone(),
            }),
        },
    );
    assert_eq!(replies(&fx), vec![(3, Ok(()))]);
    let m = target(&s, 104);
    assert_eq!(m.content, "fixed typo");
    assert!(m.is_edited());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveCache(1, c) if c.iter().any(|m| m.id == 104 && m.content == "fixed typo"))),
        "the cache keeps the edited text"
    );
    let shown: Vec<Seq> = s.threads[&1]
        .shown(Some(ME))
        .iter()
        .map(|l| l.message.seq)
        .collect();
    assert_eq!(shown, vec![1, 2, 3, 4], "the edit is no line of its own");
    assert_eq!(
        s.chats[0].last_message.as_ref().map(|m| m.content.as_str()),
        Some("fixed typo")
    );

    // Its broadcast arrives after the ack: nothing more happens.
    let fx = update(&mut s, &env(true), Msg::Pushed(Pushed::NewMessage(stored)));
    assert!(fx.is_empty());
}

#[test]
fn an_edit_is_checked_before_it_goes() {
    let mut s = with_my_message();
    // Offline: refused at once, in the message's own form.
    let fx = edit(&mut s, &env(false), "new text", CID);
    assert_eq!(
        replies(&fx),
        vec![(3, Err(AppError::new(ErrorCode::Unavailable, OFFLINE)))]
    );
    assert_eq!(fx.len(), 1, "nothing queued");
    // The server's own rules, in the browser.
    let fx = edit(&mut s, &env(true), "   ", CID);
    assert!(
        matches!(&replies(&fx)[..], [(3, Err(e))] if e.code == ErrorCode::BadRequest && e.message == "Message must not be empty")
    );
    let fx = edit(&mut s, &env(true), &"x".repeat(4001), CID);
    assert!(matches!(&replies(&fx)[..], [(3, Err(e))] if e.message.contains("at most 4000")));
    let fx = edit(&mut s, &env(true), "new text", "not a key!");
    assert!(matches!(&replies(&fx)[..], [(3, Err(e))] if e.code == ErrorCode::BadRequest));
    // The same text again: done, nothing stored.
    let fx = edit(&mut s, &env(true), "m4 ", CID);
    assert_eq!(
        fx,
        vec![Effect::Reply {
            ticket: 3,
            result: Ok(())
        }]
    );
}

#[test]
fn a_refused_or_unanswered_change_tells_its_form() {
    let mut s = with_my_message();
    let late = AppError::new(
        ErrorCode::Conflict,
        "a message can be edited for 15 min after it is sent",
    );
    let fx = update(
        &mut s,
        &env(true),
        Msg::Revised {
            ticket: 3,
            result: Err(RequestFailure::Refused(late.clone())),
        },
    );
    assert_eq!(
        fx,
        vec![Effect::Reply {
            ticket: 3,
            result: Err(late)
        }]
    );
    assert_eq!(s.toast, None, "said in the message, not as a toast");
    let fx = update(
        &mut s,
        &env(true),
        Msg::Revised {
            ticket: 4,
            result: Err(RequestFailure::TimedOut),
        },
    );
    assert_eq!(
        replies(&fx),
        vec![(4, Err(AppError::new(ErrorCode::Unavailable, NO_ANSWER)))]
    );
    assert_eq!(target(&s, 104).content, "m4");
}

#[test]
fn a_deletion_is_asked_for_and_its_ack_leaves_the_placeholder() {
    let mut s = with_my_message();
    let delete = Msg::Delete {
        ticket: 9,
        chat: 1,
        message: 104,
    };
    let fx = update(&mut s, &env(false), delete.clone());
    assert_eq!(
        replies(&fx),
        vec![(9, Err(AppError::new(ErrorCode::Unavailable, OFFLINE)))]
    );
    let fx = update(&mut s, &env(true), delete);
    assert_eq!(
        fx,
        vec![Effect::Delete {
            ticket: 9,
            request: DeleteMessage {
                chat_id: 1,
                message_id: 104
            }
        }]
    );
    let fx = update(
        &mut s,
        &env(true),
        Msg::Revised {
            ticket: 9,
            result: Ok(SendReply {
                message: change(MessageKind::Delete, 104, 5, ME, ""),
            }),
        },
    );
    assert_eq!(replies(&fx), vec![(9, Ok(()))]);
    let m = target(&s, 104);
    assert!(m.is_deleted());
    assert_eq!(m.content, "");
    assert!(
        s.threads[&1]
            .shown(Some(ME))
            .iter()
            .any(|l| l.message.id == 104),
        "the placeholder stays"
    );
    assert!(
        s.chats[0]
            .last_message
            .as_ref()
            .is_some_and(Message::is_deleted),
        "so does the preview"
    );
}

#[test]
fn others_changes_are_never_counted_announced_or_moved_up() {
    let mut s = with_open_chat();
    let hidden = Env {
        tab_hidden: true,
        ..env(true)
    };
    // Their message 4, out of view: counted and announced, chat 1 on top.
    update(
        &mut s,
        &hidden,
        Msg::Pushed(Pushed::NewMessage(message(1, 4, OTHER))),
    );
    assert_eq!((s.chats[0].id, s.chats[0].unread_count), (1, 1));
    // Then chat 2 gets a message and goes on top.
    let mut in_two = message(2, 1, OTHER);
    in_two.chat_id = 2;
    update(&mut s, &hidden, Msg::Pushed(Pushed::NewMessage(in_two)));
    assert_eq!(s.chats[0].id, 2);
    s.announcement.clear();

    // They edit message 2 (not the preview), then message 4 (the preview).
    for (change, preview) in [
        (edit_of(102, 5, OTHER, "second, edited"), "m4"),
        (edit_of(104, 6, OTHER, "fourth, edited"), "fourth, edited"),
    ] {
        let fx = update(&mut s, &hidden, Msg::Pushed(Pushed::NewMessage(change)));
        assert_eq!(s.chats[0].id, 2, "chat 1 does not move up");
        assert_eq!(s.chats[1].unread_count, 1, "not counted");
        assert_eq!(s.announcement, "", "not announced");
        assert!(!fx.iter().any(|e| matches!(e, Effect::MarkRead { .. })));
        assert!(
            !fx.iter()
                .any(|e| matches!(e, Effect::Call(Call::Messages { .. }))),
            "no gap"
        );
        assert_eq!(
            s.chats[1].last_message.as_ref().map(|m| m.content.as_str()),
            Some(preview)
        );
    }
    assert_eq!(target(&s, 102).content, "second, edited");
    // Deleted: the preview says so.
    update(
        &mut s,
        &hidden,
        Msg::Pushed(Pushed::NewMessage(change(
            MessageKind::Delete,
            104,
            7,
            OTHER,
            "",
        ))),
    );
    assert!(
        s.chats[1]
            .last_message
            .as_ref()
            .is_some_and(Message::is_deleted)
    );
    assert_eq!(s.chats[1].unread_count, 1);
    // In view, a change is not read out as new either; the window shows it.
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(edit_of(101, 8, OTHER, "first, edited"))),
    );
    assert_eq!(s.announcement, "");
    assert!(!fx.iter().any(|e| matches!(e, Effect::MarkRead { .. })));
    assert_eq!(target(&s, 101).content, "first, edited");
}

#[test]
fn changes_from_the_cache_and_catch_ups_meet_their_targets() {
    let mut s = state();
    s.chats = vec![summary(1)];
    s.chats_loaded = true;
    update(&mut s, &env(true), Msg::OpenChat(1));
    // The cache held only the edit (its target was older than what it
    // keeps); the newest page then brings the target.
    update(
        &mut s,
        &env(true),
        Msg::CacheLoaded(1, vec![edit_of(102, 4, OTHER, "edited before")]),
    );
    let mut newest = page(1, 1..=3);
    newest
        .messages
        .push(edit_of(102, 4, OTHER, "edited before"));
    answer_page(&mut s, 1, PageFor::Latest, Ok(newest));
    assert_eq!(target(&s, 102).content, "edited before");
    assert_eq!(s.threads[&1].held_through(), Some(4));
    // A re-join's catch-up brings a deletion and an older edit after it:
    // the deletion wins, the run has no gap, nothing is fetched.
    let fx = update(
        &mut s,
        &env(true),
        Msg::Joined {
            chat: 1,
            after: Some(4),
            attempt: 0,
            result: Ok(JoinReply {
                chat_id: 1,
                messages: Some(vec![
                    change(MessageKind::Delete, 102, 5, OTHER, ""),
                    message(1, 6, OTHER),
                ]),
                has_more: Some(false),
                presence: Vec::new(),
            }),
        },
    );
    assert!(
        !calls(&fx)
            .iter()
            .any(|c| matches!(c, Call::Messages { .. }))
    );
    assert!(target(&s, 102).is_deleted());
    update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(edit_of(102, 4, OTHER, "edited before"))),
    );
    assert!(
        target(&s, 102).is_deleted(),
        "an older change never undoes a newer one"
    );
    let shown: Vec<Seq> = s.threads[&1]
        .shown(Some(ME))
        .iter()
        .map(|l| l.message.seq)
        .collect();
    assert_eq!(shown, vec![1, 2, 3, 6]);
}
