//! Connect churn costs little: handshakes are limited per user and per
//! client address (`rate_limited`), a tab that closes and reconnects
//! within the offline grace does not flap its user's presence to their
//! contacts, and a node that stops announces its users' departures before
//! it exits.

use crate::helpers::{Backend, SocketOpts, TestApp, TestSocket, pair, spawn_with_limits};
use contract::protocol::{PresenceChanged, UserJoined, UserLeft};
use std::time::Duration;

/// The handshake is refused as `rate_limited`.
fn rate_limited(result: Result<TestSocket, String>, what: &str) {
    match result {
        Ok(_) => panic!("{what}: the handshake was accepted"),
        Err(e) => assert!(e.contains("rate_limited"), "{what}: {e}"),
    }
}

#[tokio::test]
async fn handshakes_per_user_are_limited() {
    let app = spawn_with_limits(Backend::Sqlite, |l| l.handshakes_per_user_per_min = 3)
        .await
        .expect("sqlite always runs");
    let (customer, provider, _chat) = pair(&app).await;
    for i in 0..3 {
        let s = TestSocket::connect(&app.addr, SocketOpts::token(&customer.token))
            .await
            .unwrap_or_else(|e| panic!("handshake {i}: {e}"));
        s.close().await;
    }
    rate_limited(
        TestSocket::connect(&app.addr, SocketOpts::token(&customer.token)).await,
        "a fourth handshake within the minute",
    );
    // Another user (from the same address) has their own count.
    let _other = app.socket(&provider).await;
}

#[tokio::test]
async fn handshakes_per_address_are_limited_before_the_token_is_read() {
    let app = spawn_with_limits(Backend::Sqlite, |l| l.handshakes_per_ip_per_min = 4)
        .await
        .expect("sqlite always runs");
    let (customer, provider, _chat) = pair(&app).await;
    for user in [&customer, &provider, &customer, &provider] {
        let s = app.socket(user).await;
        s.close().await;
    }
    rate_limited(
        TestSocket::connect(&app.addr, SocketOpts::token(&provider.token)).await,
        "a fifth handshake from the address",
    );
    // Refused before the token costs a database read: a bad one gets the
    // same answer, not `unauthorized`.
    rate_limited(
        TestSocket::connect(&app.addr, SocketOpts::token("not-a-token")).await,
        "a forged token from the address",
    );
}

async fn reconnecting_within_the_grace_is_not_told(app: TestApp) {
    let (customer, provider, chat) = pair(&app).await;
    // Another contact of the provider's, whose departure (not cancelled,
    // and later than the customer's) is the event that proves absence.
    let control = app.register("customer").await;
    app.book(&control, &provider).await;
    let mut p = app.socket(&provider).await;
    p.join(chat).await;
    let mut tab = app.socket(&customer).await;
    p.expect_event_where(|e: &PresenceChanged| e.user_id == customer.id && e.online)
        .await;
    tab.join(chat).await;
    p.expect_event_where(|e: &UserJoined| e.user.id == customer.id)
        .await;
    let other = app.socket(&control).await;
    p.expect_event_where(|e: &PresenceChanged| e.user_id == control.id && e.online)
        .await;

    // The tab reloads: closes (the server has handled it once the room
    // hears `user_left`) and connects again at once.
    tab.close().await;
    p.expect_event_where(|e: &UserLeft| e.user.id == customer.id)
        .await;
    let mut back = app.socket(&customer).await;
    back.join(chat).await;
    // The control user leaves for good after the customer's reload, so
    // their offline comes after any the customer's close could have caused.
    other.close().await;
    p.expect_event_within(Duration::from_secs(15), |e: &PresenceChanged| {
        e.user_id == control.id && !e.online
    })
    .await;
    let told: Vec<PresenceChanged> = p
        .take_events::<PresenceChanged>(Duration::ZERO)
        .await
        .into_iter()
        .filter(|e| e.user_id == customer.id)
        .collect();
    assert!(told.is_empty(), "a reload flapped presence: {told:?}");

    // Leaving for good is still told, once the grace is over.
    back.close().await;
    let gone = p
        .expect_event_within(Duration::from_secs(15), |e: &PresenceChanged| {
            e.user_id == customer.id
        })
        .await;
    assert!(!gone.online && gone.last_seen.is_some(), "{gone:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_within_the_grace_does_not_flap_presence() {
    let app = crate::helpers::spawn_app(Backend::Sqlite)
        .await
        .expect("sqlite always runs");
    reconnecting_within_the_grace_is_not_told(app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_onto_another_node_does_not_flap_presence() {
    // The tab closes on the in-process node and comes back on a second one:
    // the pending departure is in Redis, so the second node cancels it.
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut p = b.socket(&provider).await;
    p.join(chat).await;
    let mut tab = a.socket(&customer).await;
    p.expect_event_where(|e: &PresenceChanged| e.user_id == customer.id && e.online)
        .await;
    tab.join(chat).await;
    p.expect_event_where(|e: &UserJoined| e.user.id == customer.id)
        .await;
    tab.close().await;
    p.expect_event_where(|e: &UserLeft| e.user.id == customer.id)
        .await;
    let mut back = b.socket(&customer).await;
    back.join(chat).await;
    // The customer's later, real departure is the first presence told.
    back.close().await;
    let first = p
        .expect_event_within(Duration::from_secs(15), |e: &PresenceChanged| {
            e.user_id == customer.id
        })
        .await;
    assert!(!first.online, "an online told for the reload: {first:?}");
    let more = p
        .take_events::<PresenceChanged>(Duration::ZERO)
        .await
        .into_iter()
        .filter(|e| e.user_id == customer.id)
        .count();
    assert_eq!(more, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_announces_departures_before_it_exits() {
    // SIGTERM: the node closes its sockets and waits for their disconnect
    // handlers and the offline announcements pending for their grace
    // (longer than the fixed 200 ms it used to wait) before it exits.
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let mut b = a.spawn_node().await;
    let (customer, provider, _chat) = pair(&a).await;
    let mut p = a.socket(&provider).await;
    let _tab = b.socket(&customer).await;
    p.expect_event_where(|e: &PresenceChanged| e.user_id == customer.id && e.online)
        .await;
    let status = b
        .terminate(Duration::from_secs(25))
        .await
        .expect("the node exits within its shutdown deadline");
    assert!(status.success(), "graceful exit: {status:?}");
    // Sent before the exit: here at once, not after the others' sweep
    // notices a dead node.
    let gone = p
        .expect_event_within(Duration::from_secs(2), |e: &PresenceChanged| {
            e.user_id == customer.id
        })
        .await;
    assert!(!gone.online, "{gone:?}");
}
