//! Desktop notifications: due only while the tab is hidden, for others'
//! messages in chats not muted.

use super::*;

fn notifies(fx: &[Effect]) -> Vec<&Effect> {
    fx.iter()
        .filter(|e| matches!(e, Effect::Notify { .. }))
        .collect()
}

fn hidden() -> Env {
    Env {
        tab_hidden: true,
        ..env(true)
    }
}

#[test]
fn a_message_in_a_hidden_tab_notifies_with_sender_job_and_text() {
    let mut s = with_open_chat();
    let job = s.chats[0].job_title.clone();
    let fx = update(
        &mut s,
        &hidden(),
        Msg::Pushed(Pushed::NewMessage(message(1, 4, OTHER))),
    );
    assert_eq!(
        notifies(&fx),
        vec![&Effect::Notify {
            chat: 1,
            title: format!("user 2 · {job}"),
            body: "m4".into(),
        }]
    );
    assert_eq!(s.chats[0].unread_count, 1, "the tab title counts it");
}

#[test]
fn no_notification_in_view_for_own_messages_system_lines_or_muted_chats() {
    let mut s = with_open_chat();
    // In view: the window shows it.
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::NewMessage(message(1, 4, OTHER))),
    );
    assert!(notifies(&fx).is_empty());
    // The user's own (from another tab).
    let fx = update(
        &mut s,
        &hidden(),
        Msg::Pushed(Pushed::NewMessage(message(1, 5, ME))),
    );
    assert!(notifies(&fx).is_empty());
    // A system line.
    let mut line = message(1, 6, OTHER);
    line.kind = MessageKind::System;
    let fx = update(&mut s, &hidden(), Msg::Pushed(Pushed::NewMessage(line)));
    assert!(notifies(&fx).is_empty());
    // A muted chat.
    s.chats[0].muted = true;
    let fx = update(
        &mut s,
        &hidden(),
        Msg::Pushed(Pushed::NewMessage(message(1, 7, OTHER))),
    );
    assert!(notifies(&fx).is_empty());
    assert_eq!(s.threads[&1].lines.len(), 7, "still shown");
}

#[test]
fn the_bell_of_a_closed_chat_notifies_while_hidden() {
    let mut s = with_open_chat();
    let job = s.chats[1].job_title.clone();
    let n = Notification {
        id: 9,
        kind: "message".into(),
        chat_id: Some(2),
        title: "New message from Bob".into(),
        body: "hello".into(),
        count: 1,
        seq: Some(1),
        created_at: chrono::Utc::now(),
        read_at: None,
    };
    let fx = update(
        &mut s,
        &env(true),
        Msg::Pushed(Pushed::Notification(n.clone())),
    );
    assert!(notifies(&fx).is_empty(), "in view: the bell is enough");
    let fx = update(
        &mut s,
        &hidden(),
        Msg::Pushed(Pushed::Notification(Notification {
            id: 10,
            ..n.clone()
        })),
    );
    assert_eq!(
        notifies(&fx),
        vec![&Effect::Notify {
            chat: 2,
            title: format!("New message from Bob · {job}"),
            body: "hello".into(),
        }]
    );
    // An open chat's bell: its message already notified.
    let fx = update(
        &mut s,
        &hidden(),
        Msg::Pushed(Pushed::Notification(Notification {
            id: 11,
            chat_id: Some(1),
            ..n
        })),
    );
    assert!(notifies(&fx).is_empty());
}
