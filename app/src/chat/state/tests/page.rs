//! The connection, forms, start-up.

use super::*;

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
        files: Vec::new(),
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
