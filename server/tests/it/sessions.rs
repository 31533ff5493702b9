//! Sessions end when they should: logging out everywhere, changing the
//! password, a role change and deleting the account (through the service,
//! and through the operators' CLI path, which has no sockets). A revoked
//! token is refused by REST, server functions, page rendering and the
//! Socket.IO handshake, and the user's open sockets are closed.

use crate::both_backends;
use crate::helpers::{EV_CLOSE, SocketOpts, TEST_PASSWORD, TestApp, TestSocket, TestUser, pair};
use contract::model::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// A revocation closes sockets through the sink at once; the sweep (5 s)
/// is only the safety net, so this is well under it.
const PROMPTLY: Duration = Duration::from_secs(2);

/// Waits until the server closed `s`; panics after `within`.
async fn closed(s: &mut TestSocket, within: Duration, what: &str) {
    assert!(
        s.next_of(&[EV_CLOSE], within).await.is_some(),
        "{what}: socket still open after {within:?}"
    );
}

/// The handshake is refused as `unauthorized`.
fn refused(result: Result<TestSocket, String>, what: &str) {
    match result {
        Ok(_) => panic!("{what}: the handshake was accepted"),
        Err(e) => assert!(e.contains("unauthorized"), "{what}: {e}"),
    }
}

fn cookie(token: &str) -> String {
    format!("jobchat_session={token}")
}

fn with_cookie(token: &str) -> SocketOpts {
    SocketOpts {
        cookie: Some(cookie(token)),
        ..SocketOpts::default()
    }
}

/// `GET /api/me` with the token as bearer.
async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.get("/api/me", Some(token)).await.0
}

/// The `me` server function with the token as the session cookie.
async fn sfn_me(app: &TestApp, token: &str) -> StatusCode {
    app.client
        .post(format!("{}/sfn/me", app.addr))
        .header("cookie", cookie(token))
        .json(&json!({}))
        .send()
        .await
        .expect("sent")
        .status()
}

/// Whether the server renders the home page signed in as `user`.
async fn page_signed_in(app: &TestApp, token: &str, user: &TestUser) -> bool {
    let html = app
        .client
        .get(format!("{}/", app.addr))
        .header("cookie", cookie(token))
        .send()
        .await
        .expect("sent")
        .text()
        .await
        .expect("html");
    html.contains(&format!(r#""id":{},"name":"#, user.id))
}

/// Every way the token could be used is refused.
async fn revoked(app: &TestApp, token: &str, user: &TestUser, what: &str) {
    assert_eq!(
        me(app, token).await,
        StatusCode::UNAUTHORIZED,
        "{what}: REST"
    );
    assert_eq!(
        sfn_me(app, token).await,
        StatusCode::UNAUTHORIZED,
        "{what}: server function"
    );
    assert!(
        !page_signed_in(app, token, user).await,
        "{what}: page rendered signed in"
    );
    refused(
        TestSocket::connect(&app.addr, SocketOpts::token(token)).await,
        &format!("{what}: handshake with the token"),
    );
    refused(
        TestSocket::connect(&app.addr, with_cookie(token)).await,
        &format!("{what}: handshake with the cookie"),
    );
}

both_backends!(
    logout_everywhere_ends_every_session,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        // A second device, signed in separately.
        let phone = app.login(&customer.email).await;
        assert_eq!(me(&app, &customer.token).await, StatusCode::OK);
        assert_eq!(sfn_me(&app, &phone.token).await, StatusCode::OK);
        assert!(page_signed_in(&app, &phone.token, &customer).await);
        let mut by_token = app.socket(&customer).await;
        by_token.join(chat).await;
        let mut by_cookie = app.socket_with(with_cookie(&phone.token)).await;
        let mut bystander = app.socket(&provider).await;
        bystander.join(chat).await;

        let res = app
            .client
            .post(format!("{}/api/auth/logout-all", app.addr))
            .bearer_auth(&phone.token)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let cleared = res.headers()["set-cookie"].to_str().expect("ascii");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");

        closed(&mut by_token, PROMPTLY, "socket by token").await;
        closed(&mut by_cookie, PROMPTLY, "socket by cookie").await;
        revoked(&app, &customer.token, &customer, "first device").await;
        revoked(&app, &phone.token, &customer, "second device").await;
        // Logging out everywhere twice: the token is already dead.
        let (status, _) = app
            .post("/api/auth/logout-all", Some(&phone.token), json!({}))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        // Nobody else is touched.
        assert_eq!(me(&app, &provider.token).await, StatusCode::OK);
        bystander.send(chat, "still here").await;
        // Signing in again starts a working session.
        let again = app.login(&customer.email).await;
        assert_eq!(me(&app, &again.token).await, StatusCode::OK);
        assert!(page_signed_in(&app, &again.token, &customer).await);
        let mut fresh = app.socket(&again).await;
        fresh.join(chat).await;
    }
);

both_backends!(
    a_password_change_keeps_only_the_new_session,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        let other_device = app.login(&customer.email).await;
        let mut open = app.socket(&other_device).await;
        open.join(chat).await;
        let change = |current: &str, new: &str| {
            let (app, token) = (&app, customer.token.clone());
            let body = json!({ "currentPassword": current, "newPassword": new });
            async move {
                app.client
                    .post(format!("{}/api/auth/password", app.addr))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent")
            }
        };

        // A wrong current password or a bad new one changes nothing and
        // ends nothing (and is not `unauthorized`: the session is fine).
        let res = change("not-my-password", "Tr4ck-kettle-Marble-9").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.expect("json");
        assert_eq!(
            body["error"]["details"]["field"], "currentPassword",
            "{body}"
        );
        let res = change(TEST_PASSWORD, "short").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"]["details"]["field"], "newPassword", "{body}");
        assert_eq!(me(&app, &customer.token).await, StatusCode::OK);
        assert_eq!(me(&app, &other_device.token).await, StatusCode::OK);

        let res = change(TEST_PASSWORD, "Tr4ck-kettle-Marble-9").await;
        assert_eq!(res.status(), StatusCode::OK);
        let set = res.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let body: Value = res.json().await.expect("json");
        let new_token = body["token"].as_str().expect("token").to_owned();
        assert!(
            set.starts_with(&format!("jobchat_session={new_token};")),
            "{set}"
        );
        assert_eq!(body["user"]["id"], customer.id);

        // Every earlier session ended, the other device's socket too…
        closed(&mut open, PROMPTLY, "the other device's socket").await;
        revoked(
            &app,
            &customer.token,
            &customer,
            "the changing session's old token",
        )
        .await;
        revoked(&app, &other_device.token, &customer, "the other device").await;
        // …the new one works everywhere…
        assert_eq!(me(&app, &new_token).await, StatusCode::OK);
        assert_eq!(sfn_me(&app, &new_token).await, StatusCode::OK);
        assert!(page_signed_in(&app, &new_token, &customer).await);
        let mut s = app.socket_with(with_cookie(&new_token)).await;
        s.join(chat).await;
        s.send(chat, "new password, same chat").await;
        // …and only the new password signs in.
        let (status, _) = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": customer.email, "password": TEST_PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _) = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": customer.email, "password": "Tr4ck-kettle-Marble-9" }),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
);

both_backends!(
    a_role_change_or_deletion_ends_the_sessions,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;

        // Role change: the old token named the old role.
        let mut p = app.socket(&provider).await;
        p.join(chat).await;
        let user = app
            .service
            .set_role(provider.id, Role::Customer)
            .await
            .expect("role changed");
        assert_eq!(user.role, Role::Customer);
        closed(&mut p, PROMPTLY, "socket after a role change").await;
        revoked(&app, &provider.token, &provider, "after a role change").await;
        let again = app.login(&provider.email).await;
        let (_, me) = app.get("/api/me", Some(&again.token)).await;
        assert_eq!(me["role"], "customer");

        // Deletion: no more sign-in, no more tokens, out of the listings.
        let mut c = app.socket(&customer).await;
        c.join(chat).await;
        let doomed = app.register("provider").await;
        let (_, listed) = app.get("/api/providers", Some(&customer.token)).await;
        assert!(listed.to_string().contains(&doomed.name), "{listed}");
        app.service
            .delete_user(customer.id)
            .await
            .expect("customer deleted");
        app.service
            .delete_user(doomed.id)
            .await
            .expect("provider deleted");
        closed(&mut c, PROMPTLY, "socket after deletion").await;
        revoked(&app, &customer.token, &customer, "after deletion").await;
        let (status, body) = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": customer.email, "password": TEST_PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        let booker = app.register("customer").await;
        let (_, listed) = app.get("/api/providers", Some(&booker.token)).await;
        assert!(!listed.to_string().contains(&doomed.name), "{listed}");
        let (status, _) = app
            .post(
                "/api/jobs",
                Some(&booker.token),
                json!({ "providerId": doomed.id, "title": "Fix it" }),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // The chat keeps its history and the deleted account's name.
        let (status, page) = app
            .get(&format!("/api/chats/{chat}/messages"), Some(&again.token))
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        // Deleting twice: there is no such live account.
        assert!(app.service.delete_user(customer.id).await.is_err());
    }
);

/// The operators' CLI changes accounts through a service of its own, with
/// no sockets: the running server's revocation sweep closes the sockets of
/// the account it changed.
#[tokio::test]
async fn changes_made_without_sockets_reach_open_sockets_by_the_sweep() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite)
        .await
        .expect("sqlite always runs");
    let (customer, _provider, chat) = pair(&app).await;
    let mut s = app.socket(&customer).await;
    s.join(chat).await;

    let config = &app.config;
    let db = server::storage::Db::connect(&config.database)
        .await
        .expect("the CLI's own pool");
    let cli = server::service::Service::new(
        db,
        server::files::Files::open(&config.files).expect("the file store"),
        server::auth::Keys::new(&config.jwt_secret, config.jwt_ttl),
        server::service::Limiters::new(&config.limits),
        &config.masking,
        server::service::Broadcaster::disabled(),
    );
    cli.set_role(customer.id, Role::Provider)
        .await
        .expect("role changed");
    cli.close().await;
    assert_eq!(me(&app, &customer.token).await, StatusCode::UNAUTHORIZED);
    closed(
        &mut s,
        server::realtime::REVOCATION_SWEEP + Duration::from_secs(3),
        "socket after a change from the CLI",
    )
    .await;
}

/// Signs `token`'s session out through REST (`sfn: false`) or the server
/// function behind the UI's "Log out" (`sfn: true`); the cookie is cleared.
async fn sign_out(app: &TestApp, token: &str, sfn: bool) {
    let res = if sfn {
        app.client
            .post(format!("{}/sfn/logout", app.addr))
            .header("cookie", cookie(token))
            .json(&json!({}))
    } else {
        app.client
            .post(format!("{}/api/auth/logout", app.addr))
            .bearer_auth(token)
    }
    .send()
    .await
    .expect("sent");
    assert!(res.status().is_success(), "sign out: {}", res.status());
    let cleared = res.headers()["set-cookie"].to_str().expect("ascii");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
}

/// A token copied before its session signed out is refused afterwards
/// everywhere, its socket closes, and the user's other session goes on.
async fn signing_out_ends_only_that_session(app: TestApp, sfn: bool) {
    let (customer, provider, chat) = pair(&app).await;
    let laptop = customer.token.clone();
    let phone = app.login(&customer.email).await;
    let mut laptop_socket = app.socket_with(with_cookie(&laptop)).await;
    laptop_socket.join(chat).await;
    let mut phone_socket = app.socket(&phone).await;
    phone_socket.join(chat).await;

    sign_out(&app, &laptop, sfn).await;

    closed(
        &mut laptop_socket,
        PROMPTLY,
        "the signed-out session's socket",
    )
    .await;
    revoked(
        &app,
        &laptop,
        &customer,
        "the signed-out session's copied token",
    )
    .await;
    // The other session of the same user is untouched.
    assert_eq!(me(&app, &phone.token).await, StatusCode::OK);
    assert_eq!(sfn_me(&app, &phone.token).await, StatusCode::OK);
    assert!(page_signed_in(&app, &phone.token, &customer).await);
    phone_socket
        .send(chat, "still signed in on the phone")
        .await;
    let mut again = app.socket(&phone).await;
    again.join(chat).await;
    assert_eq!(me(&app, &provider.token).await, StatusCode::OK);
    // Signing out again, or with a dead token, is no error.
    sign_out(&app, &laptop, sfn).await;
    sign_out(&app, "not-a-token", sfn).await;
}

both_backends!(signing_out_over_rest_ends_only_that_session, |app| {
    signing_out_ends_only_that_session(app, false)
});

both_backends!(signing_out_in_the_ui_ends_only_that_session, |app| {
    signing_out_ends_only_that_session(app, true)
});

both_backends!(
    the_sweep_closes_sockets_of_sessions_signed_out_elsewhere,
    |app: TestApp| async move {
        // Signed out in the database without the sink's disconnect (as
        // when the broadcast to other nodes was lost): the sweep closes it.
        let (customer, _provider, chat) = pair(&app).await;
        let mut s = app.socket(&customer).await;
        s.join(chat).await;
        let claims = app
            .service
            .authenticate(&customer.token)
            .await
            .expect("valid")
            .1;
        app.service
            .db()
            .revoke_session(&claims.sid, customer.id, claims.exp)
            .await
            .expect("revoked");
        closed(
            &mut s,
            server::realtime::REVOCATION_SWEEP * 3,
            "swept socket",
        )
        .await;
    }
);

both_backends!(
    expired_signed_out_sessions_are_pruned,
    |app: TestApp| async move {
        let db = app.service.db();
        let now = chrono::Utc::now().timestamp();
        db.revoke_session("expired", 1, now - 10)
            .await
            .expect("revoke");
        db.revoke_session("live", 1, now + 600)
            .await
            .expect("revoke");
        db.revoke_session("live", 1, now + 600)
            .await
            .expect("twice is fine");
        assert_eq!(
            db.prune_revoked_sessions(now, 1000).await.expect("prune"),
            1
        );
        let left = db
            .revoked_among(&["expired".into(), "live".into()])
            .await
            .expect("read");
        assert_eq!(left, std::collections::HashSet::from(["live".to_owned()]));
    }
);
