//! Connect churn costs little: handshakes are limited per user and per
//! client address (`rate_limited`).

use crate::helpers::{Backend, SocketOpts, TestSocket, pair, spawn_with_limits};

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
