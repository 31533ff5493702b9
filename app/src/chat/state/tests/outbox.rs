//! Sends in order, refusals, drafts, typing.

use super::*;

fn send(s: &mut State, connected: bool, client_id: &str) -> Vec<Effect> {
    update(
        s,
        &env(connected),
        Msg::Send {
            chat: 1,
            text: format!("text {client_id}"),
            client_id: client_id.into(),
            files: Vec::new(),
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
