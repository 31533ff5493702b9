//! The live state's flows, message by message, without a browser: what
//! each message changes and which effects it asks for.

use super::*;
use crate::chat::list::tests::summary;
use crate::chat::outgoing::{OutboxChange, RequestFailure};
use crate::chat::{Delivery, OpenChat};
use crate::error::{AppError, ErrorCode};
use crate::model::{
    ChatId, ConnectionStatus, Me, Message, MessageKind, MessagePage, Notification, PageRequest,
    Role, Seq,
};
use crate::protocol::{
    ChatUser, JoinReply, ParticipantState, Refused, SendReply, SetTyping, Typing, UserJoined,
};

const ME: i64 = 1;
const OTHER: i64 = 2;

fn env(connected: bool) -> Env {
    Env {
        now: chrono::Utc::now(),
        connected,
        tab_hidden: false,
        small_screen: false,
    }
}

fn me() -> Me {
    Me {
        id: ME,
        name: "Me".into(),
        role: Role::Customer,
    }
}

fn state() -> State {
    State::new(Some(me()), Vec::new())
}

fn message(chat: ChatId, seq: Seq, sender: i64) -> Message {
    Message {
        id: 100 * chat + seq,
        chat_id: chat,
        seq,
        sender_id: Some(sender),
        sender_name: Some(format!("user {sender}")),
        sender_role: None,
        content: format!("m{seq}"),
        client_id: None,
        kind: MessageKind::User,
        event: None,
        created_at: chrono::Utc::now(),
    }
}

fn page(chat: ChatId, seqs: std::ops::RangeInclusive<Seq>) -> MessagePage {
    MessagePage {
        messages: seqs.map(|seq| message(chat, seq, OTHER)).collect(),
        has_more: false,
    }
}

fn unavailable() -> AppError {
    AppError::new(ErrorCode::Unavailable, "down")
}

fn calls(fx: &[Effect]) -> Vec<&Call> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn messages_call(chat: ChatId, purpose: PageFor) -> Effect {
    let (before_seq, after_seq) = match purpose {
        PageFor::Latest => (None, None),
        PageFor::Older(s) => (Some(s), None),
        PageFor::Gap(s) => (None, Some(s)),
    };
    Effect::Call(Call::Messages {
        chat,
        page: PageRequest {
            before_seq,
            after_seq,
            limit: Some(50),
            ..PageRequest::default()
        },
        purpose,
    })
}

/// A state with chat 1 open and its newest page (seqs 1..=3) loaded, on a
/// live connection.
fn with_open_chat() -> State {
    let mut s = state();
    s.chats = vec![summary(1), summary(2)];
    s.chats_loaded = true;
    let fx = update(&mut s, &env(true), Msg::OpenChat(1));
    assert!(fx.contains(&Effect::Join {
        chat: 1,
        after: None,
        attempt: 0
    }));
    assert!(fx.contains(&Effect::LoadCache(1)));
    let joined = JoinReply {
        chat_id: 1,
        messages: None,
        has_more: None,
        presence: vec![ParticipantState {
            user_id: OTHER,
            name: "Other".into(),
            role: Role::Provider,
            online: true,
            last_read_message_id: 0,
            last_read_seq: 2,
        }],
    };
    let fx = update(
        &mut s,
        &env(true),
        Msg::Joined {
            chat: 1,
            after: None,
            attempt: 0,
            result: Ok(joined),
        },
    );
    assert_eq!(fx, vec![messages_call(1, PageFor::Latest)]);
    assert_eq!(s.presence.get(&OTHER), Some(&true));
    let fx = answer_page(&mut s, 1, PageFor::Latest, Ok(page(1, 1..=3)));
    assert!(s.is_loaded(1));
    assert!(fx.contains(&Effect::MarkRead {
        chat: 1,
        message: 103
    }));
    s
}

fn answer_page(
    s: &mut State,
    chat: ChatId,
    purpose: PageFor,
    result: Result<MessagePage, AppError>,
) -> Vec<Effect> {
    update(
        s,
        &env(true),
        Msg::Answered(Answer::Messages {
            chat,
            purpose,
            result,
        }),
    )
}

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

fn send(s: &mut State, connected: bool, client_id: &str) -> Vec<Effect> {
    update(
        s,
        &env(connected),
        Msg::Send {
            chat: 1,
            text: format!("text {client_id}"),
            client_id: client_id.into(),
        },
    )
}

fn sent(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(o) => Some(o.client_id.as_str()),
            _ => None,
        })
        .collect()
}

fn ack(s: &mut State, client_id: &str, result: Result<SendReply, RequestFailure>) -> Vec<Effect> {
    update(
        s,
        &env(true),
        Msg::SendAnswered {
            chat: 1,
            client_id: client_id.into(),
            result,
        },
    )
}

#[test]
fn sends_go_one_at_a_time_in_order() {
    let mut s = with_open_chat();
    assert_eq!(sent(&send(&mut s, true, "a")), vec!["a"]);
    assert!(sent(&send(&mut s, true, "b")).is_empty(), "a is in flight");
    let mut stored = message(1, 4, ME);
    stored.client_id = Some("a".into());
    let fx = ack(&mut s, "a", Ok(SendReply { message: stored }));
    assert!(fx.contains(&Effect::Outbox(OutboxChange::Remove("a".into()))));
    assert_eq!(sent(&fx), vec!["b"]);
    let line = &s.threads[&1].lines[3];
    assert_eq!((line.message.seq, line.delivery), (4, Delivery::Sent));
    assert_eq!(s.outbox.len(), 1);
}

#[test]
fn a_refusal_for_good_keeps_the_message_as_not_sent_and_the_queue_goes_on() {
    let mut s = with_open_chat();
    send(&mut s, true, "a");
    send(&mut s, true, "b");
    let refused = AppError::new(ErrorCode::BadRequest, "too long");
    let fx = ack(&mut s, "a", Err(RequestFailure::Refused(refused)));
    assert_eq!(sent(&fx), vec!["b"]);
    let a = s.threads[&1].pending("a").expect("pending");
    assert_eq!(
        (a.delivery, a.error.as_deref()),
        (Delivery::Failed, Some("too long"))
    );
    assert_eq!(s.outbox[0].failed.as_deref(), Some("too long"));
    // Retry queues it again, behind nothing in flight only.
    let fx = update(
        &mut s,
        &env(true),
        Msg::Retry {
            chat: 1,
            client_id: "a".into(),
        },
    );
    assert!(sent(&fx).is_empty(), "b is in flight");
    assert_eq!(
        s.threads[&1].pending("a").expect("pending").delivery,
        Delivery::Sending
    );
    // Discard forgets it.
    let fx = update(
        &mut s,
        &env(true),
        Msg::Discard {
            chat: 1,
            client_id: "a".into(),
        },
    );
    assert_eq!(fx, vec![Effect::Outbox(OutboxChange::Remove("a".into()))]);
    assert!(s.threads[&1].pending("a").is_none());
}

#[test]
fn a_refusal_for_now_backs_off_and_keeps_the_message_first() {
    let mut s = with_open_chat();
    send(&mut s, true, "a");
    let busy = AppError::new(ErrorCode::RateLimited, "slow down");
    let fx = ack(&mut s, "a", Err(RequestFailure::Refused(busy.clone())));
    assert_eq!(fx, vec![Effect::later(1_000, Msg::FlushNow)]);
    assert_eq!(sent(&update(&mut s, &env(true), Msg::FlushNow)), vec!["a"]);
    let fx = ack(&mut s, "a", Err(RequestFailure::Refused(busy)));
    assert_eq!(fx, vec![Effect::later(2_000, Msg::FlushNow)], "doubling");
    // No answer because the connection dropped: it waits for the reconnect.
    update(&mut s, &env(true), Msg::FlushNow);
    let fx = update(
        &mut s,
        &env(false),
        Msg::SendAnswered {
            chat: 1,
            client_id: "a".into(),
            result: Err(RequestFailure::TimedOut),
        },
    );
    assert!(fx.is_empty());
    assert_eq!(sent(&update(&mut s, &env(true), Msg::Connected)), vec!["a"]);
}

#[test]
fn the_draft_goes_only_once_the_outbox_is_stored() {
    let mut s = with_open_chat();
    update(
        &mut s,
        &env(true),
        Msg::SetDraft {
            chat: 1,
            text: "half".into(),
        },
    );
    let fx = send(&mut s, true, "a");
    let Some(Effect::Outbox(change)) = fx.first().cloned() else {
        panic!("the outbox is written first: {fx:?}")
    };
    assert_eq!(s.drafts.get(&1).map(String::as_str), Some("half"));
    let refused = Msg::OutboxStored {
        change: change.clone(),
        saved: false,
    };
    assert!(update(&mut s, &env(true), refused).is_empty());
    assert!(
        s.drafts.contains_key(&1),
        "storage refused: the draft keeps the text"
    );
    let fx = update(
        &mut s,
        &env(true),
        Msg::OutboxStored {
            change,
            saved: true,
        },
    );
    assert_eq!(fx, vec![Effect::SaveDrafts(Default::default())]);
    assert!(s.drafts.is_empty());
}

#[test]
fn typing_is_throttled_and_others_flags_expire() {
    let mut s = with_open_chat();
    let typing = |on| Msg::SetTyping {
        chat: 1,
        typing: on,
    };
    let told = Effect::Typing(SetTyping {
        chat_id: 1,
        is_typing: true,
    });
    assert_eq!(update(&mut s, &env(true), typing(true)), vec![told]);
    assert!(
        update(&mut s, &env(true), typing(true)).is_empty(),
        "within 3 s"
    );
    let flag = Typing {
        chat_id: 1,
        user_id: OTHER,
        name: "Other".into(),
        is_typing: true,
    };
    let at = env(true);
    let fx = update(&mut s, &at, Msg::Pushed(Pushed::Typing(flag)));
    assert_eq!(fx, vec![Effect::later(6_100, Msg::ExpireTyping)]);
    assert_eq!(s.typing[&1].len(), 1);
    let later = Env {
        now: at.now + chrono::Duration::milliseconds(6_100),
        ..at
    };
    update(&mut s, &later, Msg::ExpireTyping);
    assert!(s.typing.is_empty());
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

#[test]
fn connection_status_follows_the_socket_and_the_network() {
    let mut s = state();
    update(&mut s, &env(true), Msg::Connected);
    let fx = update(
        &mut s,
        &env(false),
        Msg::Disconnected("io server disconnect".into()),
    );
    assert_eq!(fx, vec![Effect::later(1_000, Msg::ReconnectNow)]);
    assert_eq!(s.status, ConnectionStatus::Reconnecting(0));
    update(&mut s, &env(false), Msg::ReconnectAttempt(3));
    assert_eq!(s.status, ConnectionStatus::Reconnecting(3));
    update(&mut s, &env(false), Msg::NetworkOffline);
    update(&mut s, &env(false), Msg::ReconnectAttempt(4));
    assert_eq!(s.status, ConnectionStatus::Offline, "offline wins");
    update(&mut s, &env(false), Msg::NetworkOnline);
    assert_eq!(s.status, ConnectionStatus::Reconnecting(0));
    let fx = update(
        &mut s,
        &env(false),
        Msg::ConnectFailed(Some(Refused::Unauthorized)),
    );
    assert_eq!(fx, vec![Effect::GoTo("/login?expired=1")]);
}

#[test]
fn forms_hear_their_answer_and_a_booking_opens_its_chat() {
    let mut s = state();
    let fx = update(
        &mut s,
        &env(true),
        Msg::Submit {
            ticket: 7,
            form: Form::BookJob {
                provider: OTHER,
                title: "Sink".into(),
                description: String::new(),
            },
        },
    );
    assert_eq!(calls(&fx).len(), 1);
    let booking = crate::model::Booking {
        job_id: 3,
        chat_id: 3,
    };
    let fx = update(
        &mut s,
        &env(true),
        Msg::Answered(Answer::Booked {
            ticket: 7,
            result: Ok(booking),
        }),
    );
    assert_eq!(
        fx[0],
        Effect::Reply {
            ticket: 7,
            result: Ok(())
        }
    );
    assert!(fx.contains(&Effect::Join {
        chat: 3,
        after: None,
        attempt: 0
    }));
    assert_eq!(s.open[0].chat_id, 3);
    // An ended session: the form hears it, and the page goes to sign-in.
    let ended = AppError::new(ErrorCode::Unauthorized, "sign in again");
    let fx = update(
        &mut s,
        &env(true),
        Msg::Answered(Answer::Settled {
            ticket: 8,
            result: Err(ended.clone()),
        }),
    );
    assert_eq!(
        fx,
        vec![
            Effect::GoTo("/login?expired=1"),
            Effect::Reply {
                ticket: 8,
                result: Err(ended)
            }
        ]
    );
}

#[test]
fn started_shows_what_waited_and_restores_windows() {
    let mut s = state();
    let queued = crate::chat::outgoing::Outgoing {
        chat_id: 4,
        client_id: "q".into(),
        content: "queued".into(),
        created_at: chrono::Utc::now(),
        failed: Some("refused".into()),
    };
    let fx = update(
        &mut s,
        &env(false),
        Msg::Started(Restored {
            outbox: vec![queued],
            open: vec![4, 5],
            offline: true,
            ..Restored::default()
        }),
    );
    assert_eq!(s.status, ConnectionStatus::Offline);
    assert_eq!(
        s.threads[&4].pending("q").expect("restored").delivery,
        Delivery::Failed
    );
    let open: Vec<ChatId> = s.open.iter().map(|o| o.chat_id).collect();
    assert_eq!(open, vec![4, 5], "newest first, as saved");
    assert!(
        fx.contains(&Effect::Call(Call::Providers)),
        "a customer books"
    );
    assert!(fx.contains(&Effect::later(30_000, Msg::ResyncTick)));
}

fn hit(chat: ChatId, seq: Seq) -> crate::model::SearchHit {
    crate::model::SearchHit {
        chat_id: chat,
        job_title: format!("job {chat}"),
        message: message(chat, seq, OTHER),
        highlights: Vec::new(),
    }
}

#[test]
fn searches_page_and_drop_answers_for_an_old_query() {
    let mut s = state();
    let fx = update(&mut s, &env(true), Msg::Search("  sink ".into()));
    assert_eq!(
        fx,
        vec![Effect::Call(Call::Search(crate::model::SearchRequest {
            q: "sink".into(),
            limit: Some(20),
            offset: None,
        }))]
    );
    update(&mut s, &env(true), Msg::Search("tap".into()));
    let answer = |query: &str, offset, n: Seq| {
        Msg::Answered(Answer::Searched {
            query: query.into(),
            offset,
            result: Ok((1..=n).map(|seq| hit(1, seq)).collect()),
        })
    };
    update(&mut s, &env(true), answer("sink", 0, 3));
    let shown = s.search.clone().expect("searching");
    assert!(
        shown.loading && shown.hits.is_empty(),
        "the old query's hits are dropped"
    );
    update(&mut s, &env(true), answer("tap", 0, 20));
    assert!(
        s.search
            .as_ref()
            .is_some_and(|x| x.more && x.hits.len() == 20)
    );
    let fx = update(&mut s, &env(true), Msg::SearchMore);
    assert!(matches!(&fx[..], [Effect::Call(Call::Search(r))] if r.offset == Some(20)));
    update(&mut s, &env(true), answer("tap", 20, 5));
    assert!(
        s.search
            .as_ref()
            .is_some_and(|x| !x.more && x.hits.len() == 25)
    );
    // A refusal shows in the results, not as a toast too.
    update(&mut s, &env(true), Msg::Search("***".into()));
    let refused = AppError::new(ErrorCode::BadRequest, "q: must contain a word");
    update(
        &mut s,
        &env(true),
        Msg::Answered(Answer::Searched {
            query: "***".into(),
            offset: 0,
            result: Err(refused),
        }),
    );
    let shown = s.search.clone().expect("searching");
    assert_eq!(shown.error.as_deref(), Some("q: must contain a word"));
    assert_eq!(s.toast, None);
    update(&mut s, &env(true), Msg::Search(" ".into()));
    assert_eq!(s.search, None, "an empty query shows the list again");
}

#[test]
fn opening_a_hit_reads_older_pages_until_it_is_in_the_window() {
    let mut s = with_open_chat();
    // Seqs 1..=3 are loaded, but the window only holds from seq 3 down to
    // what the page had: make the thread start at 40 with older history.
    s.threads.remove(&1);
    let newest = MessagePage {
        messages: (40..=60).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: true,
    };
    answer_page(&mut s, 1, PageFor::Latest, Ok(newest));
    let fx = update(&mut s, &env(true), Msg::JumpTo(1, 105, 5));
    assert!(fx.contains(&messages_call(1, PageFor::Older(40))));
    assert_eq!(s.jump.map(|j| j.pages), Some(1));
    let older = MessagePage {
        messages: (10..=39).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: true,
    };
    let fx = answer_page(&mut s, 1, PageFor::Older(40), Ok(older));
    assert!(
        fx.contains(&messages_call(1, PageFor::Older(10))),
        "still older"
    );
    let oldest = MessagePage {
        messages: (1..=9).map(|seq| message(1, seq, OTHER)).collect(),
        has_more: false,
    };
    let fx = answer_page(&mut s, 1, PageFor::Older(10), Ok(oldest));
    assert!(fx.is_empty(), "in the window: the view scrolls to it");
    assert!(s.jump.is_some());
    update(&mut s, &env(true), Msg::Jumped(1));
    assert_eq!(s.jump, None);
    // A hit older than anything the server has left: the user is told.
    update(&mut s, &env(true), Msg::JumpTo(1, 100, 0));
    assert_eq!(s.jump, None);
    assert!(
        s.toast
            .as_deref()
            .is_some_and(|t| t.contains("too far back"))
    );
}
