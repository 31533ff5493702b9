//! Accounts, health and the error format, over real HTTP.

use crate::both_backends;
use crate::helpers::{TEST_PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;

both_backends!(healthz_checks_the_database, |app: TestApp| async move {
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    app.service.close().await;
    let (status, body) = app.get("/healthz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
});

both_backends!(register_login_me, |app: TestApp| async move {
    let (status, body) = app
        .post("/api/auth/register", None, json!({ "email": "Pat@Example.Test", "password": TEST_PASSWORD, "name": " Pat ", "role": "customer" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["email"], "pat@example.test");
    assert_eq!(body["user"]["name"], "Pat");
    assert_eq!(body["user"]["role"], "customer");

    let res = app
        .client
        .post(format!("{}/api/auth/login", app.addr))
        .json(&json!({ "email": "PAT@example.test", "password": TEST_PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .expect("cookie set")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(
        cookie.starts_with("jobchat_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = res.json::<serde_json::Value>().await.expect("json")["token"]
        .as_str()
        .expect("token")
        .to_owned();

    let (status, me) = app.get("/api/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "pat@example.test");

    // The cookie alone authenticates too (the browser's way).
    let cookie_pair = cookie.split(';').next().expect("pair");
    let res = app
        .client
        .get(format!("{}/api/me", app.addr))
        .header("cookie", cookie_pair)
        .send()
        .await
        .expect("me");
    assert_eq!(res.status(), StatusCode::OK);
});

both_backends!(registration_rules, |app: TestApp| async move {
    let ok = json!({ "email": "a@example.test", "password": TEST_PASSWORD, "name": "A", "role": "provider" });
    assert_eq!(
        app.post("/api/auth/register", None, ok.clone()).await.0,
        StatusCode::CREATED
    );
    let (status, body) = app.post("/api/auth/register", None, ok).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "conflict");

    let (status, body) = app
        .post("/api/auth/register", None, json!({ "email": "l@example.test", "password": TEST_PASSWORD, "name": "L", "role": "lsm" }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    for bad in [
        json!({ "email": "nope", "password": TEST_PASSWORD, "name": "A", "role": "customer" }),
        json!({ "email": "b@example.test", "password": "short", "name": "A", "role": "customer" }),
        json!({ "email": "b@example.test", "password": TEST_PASSWORD, "name": "  ", "role": "customer" }),
        json!({ "email": "b@example.test", "password": TEST_PASSWORD, "name": "x".repeat(81), "role": "customer" }),
        json!({ "email": "b@example.test", "password": TEST_PASSWORD, "name": "A", "role": "admin" }),
        json!({ "email": 5, "password": TEST_PASSWORD, "name": "A", "role": "customer" }),
    ] {
        let (status, body) = app.post("/api/auth/register", None, bad.clone()).await;
        assert!(
            status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::BAD_REQUEST,
            "{bad} → {status} {body}"
        );
        assert_eq!(body["error"]["code"], "bad_request", "{bad}");
    }
});

both_backends!(wrong_credentials_look_the_same, |app: TestApp| async move {
    let user = app.register("customer").await;
    let (s1, b1) = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": user.email, "password": "wrong-password" }),
        )
        .await;
    let (s2, b2) = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": "ghost@example.test", "password": "wrong-password" }),
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(s2, StatusCode::UNAUTHORIZED);
    assert_eq!(b1, b2);
});

both_backends!(
    malformed_requests_get_json_errors,
    |app: TestApp| async move {
        let res = app
            .client
            .post(format!("{}/api/auth/login", app.addr))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = res.json().await.expect("json error body");
        assert_eq!(body["error"]["code"], "bad_request");

        let huge = "x".repeat(70 * 1024);
        let (status, body) = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": huge, "password": "p" }),
            )
            .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(body["error"]["code"], "payload_too_large");

        let (status, body) = app.get("/api/nope", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["code"], "not_found");

        let (status, body) = app.get("/api/me", Some("not-a-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "unauthorized");
    }
);

mod login_rate_limit {
    use crate::helpers::{Backend, retry_after, spawn_with_limits};
    use reqwest::StatusCode;
    use serde_json::json;

    #[tokio::test]
    async fn per_email_then_retry_after() {
        let app = spawn_with_limits(Backend::Sqlite, |l| {
            l.login_per_email_per_min = 3;
            l.login_per_ip_per_min = 100;
        })
        .await
        .expect("sqlite always runs");
        let body = json!({ "email": "victim@example.test", "password": "guess-guess" });
        for _ in 0..3 {
            assert_eq!(
                app.post("/api/auth/login", None, body.clone()).await.0,
                StatusCode::UNAUTHORIZED
            );
        }
        let res = app
            .client
            .post(format!("{}/api/auth/login", app.addr))
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry = retry_after(&res);
        assert!((1..=60).contains(&retry), "{retry}");
        let err: serde_json::Value = res.json().await.expect("json");
        assert_eq!(err["error"]["code"], "rate_limited");
        // Another email from the same address is not limited by the first.
        let other = json!({ "email": "other@example.test", "password": "guess-guess" });
        assert_eq!(
            app.post("/api/auth/login", None, other).await.0,
            StatusCode::UNAUTHORIZED
        );
    }

    #[tokio::test]
    async fn per_address() {
        let app = spawn_with_limits(Backend::Sqlite, |l| {
            l.login_per_email_per_min = 100;
            l.login_per_ip_per_min = 4;
        })
        .await
        .expect("sqlite always runs");
        let mut statuses = Vec::new();
        for i in 0..5 {
            let body =
                json!({ "email": format!("user{i}@example.test"), "password": "guess-guess" });
            statuses.push(app.post("/api/auth/login", None, body).await.0);
        }
        assert_eq!(statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
        assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    }
}

mod metrics {
    use crate::helpers::{Backend, spawn_app, spawn_app_configured};
    use reqwest::StatusCode;

    #[tokio::test]
    async fn off_without_a_token() {
        let app = spawn_app(Backend::Sqlite)
            .await
            .expect("sqlite always runs");
        let (status, body) = app.get("/metrics", None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body["error"]["code"], "not_found");
    }

    #[tokio::test]
    async fn prometheus_text_for_the_token_holder_only() {
        const TOKEN: &str = "a-metrics-token-for-tests";
        let app = spawn_app_configured(Backend::Sqlite, server::Tuning::default(), |c| {
            c.metrics_token = Some(TOKEN.into());
        })
        .await
        .expect("sqlite always runs");
        // Some traffic to count: a user, a socket, a message.
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        let mut s = app.socket(&customer).await;
        s.join(chat).await;
        s.send(chat, "counted").await;

        for wrong in [None, Some("wrong-token-wrong-token")] {
            let (status, body) = app.get("/metrics", wrong).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        }
        let res = app
            .client
            .get(format!("{}/metrics", app.addr))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
        let text = res.text().await.expect("body");
        for needle in [
            "jobchat_sockets_connected",
            "jobchat_messages_persisted_total{kind=\"user\"}",
            "jobchat_messages_persisted_total{kind=\"system\"}",
            "jobchat_send_ack_seconds_bucket",
            "jobchat_db_pool_in_use",
            "jobchat_db_pool_open",
            "jobchat_http_requests_total{method=\"POST\",route=\"/api/auth/register\",status=\"201\"}",
            "jobchat_http_request_seconds_bucket",
        ] {
            assert!(text.contains(needle), "no {needle} in:\n{text}");
        }
    }

    /// Every label comes from a fixed set: 1,000 made-up HTTP methods,
    /// unauthenticated, add one `other` series, not 1,000.
    #[tokio::test]
    async fn made_up_methods_do_not_grow_the_series() {
        const TOKEN: &str = "a-metrics-token-for-tests";
        let app = spawn_app_configured(Backend::Sqlite, server::Tuning::default(), |c| {
            c.metrics_token = Some(TOKEN.into());
        })
        .await
        .expect("sqlite always runs");
        let series = || async {
            let text = app
                .client
                .get(format!("{}/metrics", app.addr))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("sent")
                .text()
                .await
                .expect("body");
            text.lines()
                .filter(|l| l.starts_with("jobchat_http_requests_total{"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let before = series().await.len();
        for i in 0..1_000 {
            let method = reqwest::Method::from_bytes(format!("Z{i}").as_bytes()).expect("a token");
            let res = app
                .client
                .request(method, format!("{}/healthz", app.addr))
                .send()
                .await
                .expect("sent");
            assert!(res.status().is_client_error(), "{}", res.status());
        }
        let after = series().await;
        // Other tests in this process add their own series meanwhile; the
        // made-up methods would have added 1,000.
        assert!(
            after.len() < before + 50,
            "{} series, {before} before",
            after.len()
        );
        assert!(
            after.iter().any(|l| l.contains("method=\"other\"")),
            "no method=\"other\" series"
        );
        let standard = [
            "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
        ];
        for line in &after {
            assert!(
                standard
                    .iter()
                    .any(|m| line.contains(&format!("method=\"{m}\""))),
                "a method outside the fixed set: {line}"
            );
        }
    }
}

mod production_cookie {
    use crate::helpers::{Backend, SocketOpts, TEST_PASSWORD, TestSocket, spawn_app_configured};
    use reqwest::StatusCode;
    use serde_json::json;
    use server::config::Environment;

    /// In production the session cookie is `__Host-jobchat_session` (Secure,
    /// Path=/, no Domain), and every entry point reads that name only.
    #[tokio::test]
    async fn is_host_prefixed_and_the_only_name_read() {
        let app = spawn_app_configured(Backend::Sqlite, server::Tuning::default(), |c| {
            c.env = Environment::Production;
        })
        .await
        .expect("sqlite always runs");
        let res = app
            .client
            .post(format!("{}/api/auth/register", app.addr))
            .json(&json!({ "email": "prod@example.test", "password": TEST_PASSWORD, "name": "P", "role": "customer" }))
            .send()
            .await
            .expect("register");
        assert_eq!(res.status(), StatusCode::CREATED);
        let set = res.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(set.starts_with("__Host-jobchat_session="), "{set}");
        let attrs: Vec<&str> = set.split("; ").collect();
        for attr in ["Secure", "Path=/", "HttpOnly", "SameSite=Lax"] {
            assert!(attrs.contains(&attr), "{attr} missing: {set}");
        }
        assert!(!set.to_lowercase().contains("domain="), "{set}");
        let token = set
            .split(';')
            .next()
            .and_then(|p| p.split_once('='))
            .map(|(_, v)| v.to_owned())
            .expect("value");

        let host = format!("__Host-jobchat_session={token}");
        let plain = format!("jobchat_session={token}");
        for (cookie, want) in [(&host, StatusCode::OK), (&plain, StatusCode::UNAUTHORIZED)] {
            let rest = app
                .client
                .get(format!("{}/api/me", app.addr))
                .header("cookie", cookie)
                .send()
                .await
                .expect("me");
            assert_eq!(rest.status(), want, "REST with {cookie}");
            let sfn = app
                .client
                .post(format!("{}/sfn/me", app.addr))
                .header("cookie", cookie)
                .json(&json!({}))
                .send()
                .await
                .expect("sfn");
            assert_eq!(sfn.status(), want, "server function with {cookie}");
        }
        let opts = |cookie: &str| SocketOpts {
            cookie: Some(cookie.to_owned()),
            ..SocketOpts::default()
        };
        let socket = TestSocket::connect(&app.addr, opts(&host)).await;
        assert!(socket.is_ok(), "socket with the __Host- cookie");
        let refused = TestSocket::connect(&app.addr, opts(&plain)).await;
        assert!(refused.is_err(), "socket with the development name");
    }
}

/// Strength 3 of 4 (zxcvbn): enough for customers and providers, not for
/// an LSM account.
const FAIR_PASSWORD: &str = "loadgen-password";

/// A refusal of the password strength check on `field`.
fn too_weak(status: StatusCode, body: &serde_json::Value, field: &str, what: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    assert_eq!(body["error"]["code"], "bad_request", "{what}: {body}");
    assert_eq!(body["error"]["details"]["field"], field, "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("too easy to guess"), "{what}: {message}");
}

both_backends!(
    weak_passwords_are_refused_with_advice,
    |app: TestApp| async move {
        let register = |email: &str, password: &str| json!({ "email": email, "password": password, "name": "Robin", "role": "customer" });
        let (status, body) = app
            .post(
                "/api/auth/register",
                None,
                register("robin@example.test", "password123"),
            )
            .await;
        too_weak(status, &body, "password", "a very common password");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("very common password"),
            "zxcvbn's advice: {message}"
        );
        // The account's own name does not make a password.
        let (status, body) = app
            .post(
                "/api/auth/register",
                None,
                register("robin@example.test", "robin-robin-robin"),
            )
            .await;
        too_weak(status, &body, "password", "the account's name");
        // The server function behind the sign-up form answers the same.
        let res = app
        .client
        .post(format!("{}/sfn/register", app.addr))
        .json(&json!({ "name": "Robin", "email": "robin@example.test", "password": "qwerty123", "role": "customer" }))
        .send()
        .await
        .expect("sent");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["details"]["field"], "password", "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("too easy to guess"), "{message}");
        // Nothing was created: a strong password signs up under that email.
        let (status, body) = app
            .post(
                "/api/auth/register",
                None,
                register("robin@example.test", FAIR_PASSWORD),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let robin = body["token"].as_str().expect("token").to_owned();

        // Changing to a weak password is refused on `newPassword`.
        let change = |token: String, new: &'static str| {
            let app = &app;
            async move {
                let body = json!({ "currentPassword": FAIR_PASSWORD, "newPassword": new });
                let res = app
                    .client
                    .post(format!("{}/api/auth/password", app.addr))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .expect("sent");
                let status = res.status();
                (status, res.json::<serde_json::Value>().await.expect("json"))
            }
        };
        let (status, body) = change(robin.clone(), "iloveyou1").await;
        too_weak(status, &body, "newPassword", "changing to a weak password");
        let (status, body) = change(robin, TEST_PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
);

both_backends!(
    lsm_accounts_need_a_stronger_password,
    |app: TestApp| async move {
        use contract::model::Role;
        use contract::validate::{Email, Name, Password};
        // The operators' path (`server user add`): strength 3 is refused…
        let create = |email: &str, password: &str| {
            let service = app.service.clone();
            let (email, password) = (email.to_owned(), password.to_owned());
            async move {
                service
                    .create_user(
                        &Email::parse(&email).expect("email"),
                        &Password::parse(&password).expect("password"),
                        &Name::parse("Lee Manager").expect("name"),
                        Role::Lsm,
                    )
                    .await
            }
        };
        let err = create("lee@example.test", FAIR_PASSWORD)
            .await
            .expect_err("too weak for an LSM");
        let err = contract::error::AppError::from(err);
        assert_eq!(err.code, contract::error::ErrorCode::BadRequest);
        assert!(
            err.message.contains("for an LSM account"),
            "{}",
            err.message
        );
        // …the same password is fine for a customer…
        let (status, body) = app
        .post("/api/auth/register", None, json!({ "email": "cus@example.test", "password": FAIR_PASSWORD, "name": "C", "role": "customer" }))
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // …and an LSM with a strong one can sign in, but not weaken it.
        create("lee@example.test", TEST_PASSWORD)
            .await
            .expect("strong");
        let lsm = app.login("lee@example.test").await;
        let res = app
            .client
            .post(format!("{}/api/auth/password", app.addr))
            .bearer_auth(&lsm.token)
            .json(&json!({ "currentPassword": TEST_PASSWORD, "newPassword": FAIR_PASSWORD }))
            .send()
            .await
            .expect("sent");
        let status = res.status();
        let body: serde_json::Value = res.json().await.expect("json");
        too_weak(status, &body, "newPassword", "an LSM's fair password");

        // The CLI itself prints the reason and fails.
        if let server::config::DatabaseUrl::Sqlite(url) = &app.config.database {
            let dir = tempfile::tempdir().expect("temp dir");
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .args([
                    "user",
                    "add",
                    "--role",
                    "lsm",
                    "--email",
                    "kim@example.test",
                ])
                .args(["--name", "Kim", "--password", FAIR_PASSWORD])
                .env("DATABASE_URL", url)
                .env("JOBCHAT_DATA_DIR", dir.path())
                .env("RUST_LOG", "error")
                .output()
                .expect("ran");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{stderr}");
            assert!(stderr.contains("too easy to guess"), "{stderr}");
        }
    }
);
