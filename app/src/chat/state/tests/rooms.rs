//! Messages arriving in and out of view, gaps, joins, the chat list.

use super::*;

#[test]
fn a_new_message_in_view_is_shown_once_and_read() {
    let mut s = with_open_chat();
    let m = message(1, 4, OTHER);
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(m.clone())),
    );
    assert_eq!(s.threads[&1].lines.len(), 4);
    assert_eq!(s.chats[0].id, 1, "its chat moves up");
    assert_eq!(s.chats[0].unread_count, 0, "read in view");
    assert!(fx.contains(&Effect::MarkRead {
        chat: 1,
        message: m.id
    }));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveCache(1, c) if c.len() == 4))
    );
    assert_eq!(s.announcement, "", "the open window's log reads it out");
    // The same message again (a resend, a catch-up) changes nothing.
    let fx = update(&mut s, &env(true), Msg::Pushed(Pushed::NewMessage(m)));
    assert!(fx.is_empty());
    assert_eq!(s.threads[&1].lines.len(), 4);
}

#[test]
fn a_message_out_of_view_counts_unread_and_is_announced() {
    let mut s = with_open_chat();
    let hidden = Env {
        tab_hidden: true,
        ..env(true)
    };
    let fx = update(
        &mut s,
        &hidden,
        Msg::Pushed(Pushed::NewMessage(message(1, 4, OTHER))),
    );
    assert_eq!(s.chats[0].unread_count, 1);
    assert!(!fx.iter().any(|e| matches!(e, Effect::MarkRead { .. })));
    assert_eq!(s.announcement, "New message from user 2: m4");
    // Back in view: the open chats are resynced and read.
    let fx = update(&mut s, &env(true), Msg::TabBack);
    assert!(fx.contains(&Effect::Join {
        chat: 1,
        after: Some(4),
        attempt: 0
    }));
    assert!(fx.contains(&Effect::MarkRead {
        chat: 1,
        message: 104
    }));
    assert_eq!(s.chats[0].unread_count, 0);
}

#[test]
fn a_message_beyond_a_gap_waits_while_the_gap_is_fetched() {
    let mut s = with_open_chat();
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(message(1, 6, OTHER))),
    );
    assert!(fx.contains(&messages_call(1, PageFor::Gap(3))));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::MarkRead { message, .. } if *message != 103)),
        "never read beyond a gap"
    );
    // Unreachable for now: asked again later, quietly.
    let fx = answer_page(&mut s, 1, PageFor::Gap(3), Err(unavailable()));
    assert_eq!(fx, vec![Effect::later(3_000, Msg::FillGaps(1))]);
    assert_eq!(s.toast, None);
    let fx = update(&mut s, &env(true), Msg::FillGaps(1));
    assert_eq!(fx, vec![messages_call(1, PageFor::Gap(3))]);
    let fx = answer_page(&mut s, 1, PageFor::Gap(3), Ok(page(1, 4..=6)));
    assert!(fx.contains(&Effect::MarkRead {
        chat: 1,
        message: 106
    }));
    let seqs: Vec<Seq> = s.threads[&1].lines.iter().map(|l| l.message.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_reconnect_rejoins_with_the_newest_seq_and_sends_what_waited() {
    let mut s = with_open_chat();
    update(
        &mut s,
        &env(false),
        Msg::Disconnected("transport close".into()),
    );
    assert_eq!(s.status, ConnectionStatus::Reconnecting(0));
    let fx = update(
        &mut s,
        &env(false),
        Msg::Send {
            chat: 1,
            text: "hello".into(),
            client_id: "c1".into(),
            files: Vec::new(),
        },
    );
    assert!(!fx.iter().any(|e| matches!(e, Effect::Send(_))), "offline");
    assert!(matches!(&fx[0], Effect::Outbox(OutboxChange::Push(o)) if o.client_id == "c1"));
    assert_eq!(
        s.threads[&1].pending("c1").map(|l| l.delivery),
        Some(Delivery::Sending)
    );

    let fx = update(&mut s, &env(true), Msg::Connected);
    assert_eq!(s.status, ConnectionStatus::Connected);
    assert!(fx.contains(&Effect::Join {
        chat: 1,
        after: Some(3),
        attempt: 0
    }));
    assert!(
        matches!(fx.iter().find(|e| matches!(e, Effect::Send(_))), Some(Effect::Send(o)) if o.client_id == "c1")
    );
    assert!(fx.contains(&Effect::Call(Call::ListChats(None))));
    assert!(fx.contains(&Effect::Call(Call::Notifications)));
}

#[test]
fn a_chat_the_user_left_is_read_as_a_transcript_not_joined() {
    let mut s = state();
    let mut left = summary(5);
    left.left = true;
    s.first_chats = vec![left];
    let fx = update(&mut s, &env(true), Msg::OpenChat(5));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Join { .. })));
    assert!(fx.contains(&messages_call(5, PageFor::Latest)));
}

#[test]
fn join_refusals_give_up_or_try_again() {
    let mut s = with_open_chat();
    let join = |result| Msg::Joined {
        chat: 1,
        after: Some(3),
        attempt: 2,
        result,
    };
    let busy = RequestFailure::Refused(AppError::new(ErrorCode::Unavailable, "busy"));
    let fx = update(&mut s, &env(true), join(Err(busy)));
    assert_eq!(
        fx,
        vec![Effect::later(
            4_000,
            Msg::RetryJoin {
                chat: 1,
                attempt: 3
            }
        )]
    );
    let no = RequestFailure::Refused(AppError::new(ErrorCode::Forbidden, "not yours"));
    assert!(update(&mut s, &env(true), join(Err(no))).is_empty());
    assert_eq!(s.toast.as_deref(), Some("not yours"));
    // A retry for a window closed meanwhile does nothing.
    update(&mut s, &env(true), Msg::CloseChat(1));
    assert!(
        update(
            &mut s,
            &env(true),
            Msg::RetryJoin {
                chat: 1,
                attempt: 3
            }
        )
        .is_empty()
    );
}

#[test]
fn a_small_screen_keeps_one_window_and_leaves_the_other_room() {
    let mut s = with_open_chat();
    let small = Env {
        small_screen: true,
        ..env(true)
    };
    let fx = update(&mut s, &small, Msg::OpenChat(2));
    assert!(fx.contains(&Effect::Leave(1)));
    assert_eq!(
        fx.first(),
        Some(&Effect::SaveOpen(vec![2])),
        "chat 1 closed first"
    );
    assert_eq!(
        s.open,
        vec![OpenChat {
            chat_id: 2,
            minimized: false
        }]
    );
}

#[test]
fn notifications_of_closed_chats_share_one_list_reload() {
    let mut s = with_open_chat();
    let n = |id, chat| Notification {
        id,
        kind: "message".into(),
        chat_id: Some(chat),
        title: "New message".into(),
        body: String::new(),
        count: 1,
        seq: Some(1),
        created_at: chrono::Utc::now(),
        read_at: None,
    };
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::Notification(n(1, 2))),
    );
    assert_eq!(fx, vec![Effect::later(300, Msg::RefreshListNow)]);
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::Notification(n(2, 2))),
    );
    assert!(fx.is_empty(), "one reload for the burst");
    assert_eq!(s.notifications.len(), 2);
    assert_eq!(
        update(&mut s, &env(true), Msg::RefreshListNow),
        vec![Effect::Call(Call::ListChats(None))]
    );
    // In an open chat the socket is in the room: no reload.
    assert!(
        update(
            &mut s,
            &env(true),
            Msg::Pushed(Pushed::Notification(n(3, 1)))
        )
        .is_empty()
    );
}

#[test]
fn a_new_participant_reloads_the_list_a_known_one_only_shows_online() {
    let mut s = with_open_chat();
    s.chats[0].participants = vec![crate::model::Participant {
        id: OTHER,
        name: "Other".into(),
        role: Role::Provider,
        online: false,
        last_read_message_id: 0,
        last_read_seq: 0,
    }];
    let joined = |id| {
        Msg::Pushed(Pushed::UserJoined(UserJoined {
            chat_id: 1,
            user: ChatUser {
                id,
                name: "Lena".into(),
                role: Role::Lsm,
            },
        }))
    };
    assert!(update(&mut s, &env(true), joined(OTHER)).is_empty());
    assert_eq!(s.presence.get(&OTHER), Some(&true));
    assert_eq!(
        update(&mut s, &env(true), joined(9)),
        vec![Effect::Call(Call::ListChats(None))]
    );
    assert_eq!(s.announcement, "Lena joined the chat");
}

#[test]
fn a_reloaded_list_rejoins_chats_the_user_is_back_in() {
    let mut s = with_open_chat();
    s.chats[0].left = true;
    let fx = update(
        &mut s,
        &env(true),
        Msg::Answered(Answer::ChatList {
            before: None,
            result: Ok(vec![summary(1), summary(2)]),
        }),
    );
    assert!(fx.contains(&Effect::Join {
        chat: 1,
        after: Some(3),
        attempt: 0
    }));
    assert!(!s.has_left(1));
}
