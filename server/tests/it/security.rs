//! What the server tells browsers and what it refuses from them: the origin
//! check on cookie-authenticated writes and socket handshakes, and the
//! security headers on every response.

use crate::both_backends;
use crate::helpers::{
    Backend, SocketOpts, TEST_PASSWORD, TestApp, TestSocket, pair, spawn_app_configured,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::WebOrigin;

const EVIL: &str = "https://evil.example";

/// A request with the session cookie (never a bearer token) and the given
/// `Origin`/`Referer`; returns the status and the raw body.
async fn with_cookie(
    app: &TestApp,
    path: &str,
    token: &str,
    origin: Option<&str>,
    referer: Option<&str>,
    body: Value,
) -> (StatusCode, String) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.addr))
        .header("cookie", format!("jobchat_session={token}"))
        .json(&body);
    if let Some(o) = origin {
        req = req.header("origin", o);
    }
    if let Some(r) = referer {
        req = req.header("referer", r);
    }
    let res = req.send().await.expect("sent");
    (res.status(), res.text().await.expect("body"))
}

both_backends!(
    cookie_writes_must_come_from_our_own_origin,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let job = json!({ "providerId": provider.id, "title": "Fix the sink" });
        let own = app.addr.clone();
        let chats = || async { app.get("/api/chats", Some(&customer.token)).await.1 };

        // Another site's page: refused, nothing booked.
        let (status, body) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            Some(EVIL),
            None,
            job.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(
            body,
            r#"{"error":{"code":"forbidden","message":"cross-origin request refused"}}"#
        );
        let referer = format!("{EVIL}/page");
        let (status, _) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            None,
            Some(&referer),
            job.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "judged by Referer without Origin"
        );
        let (status, _) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            Some("null"),
            None,
            job.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Origin: null");
        assert_eq!(chats().await, json!([]));
        // Server functions too, with their own error shape.
        let args = json!({ "provider_id": provider.id, "title": "t", "description": "" });
        let (status, body) = with_cookie(
            &app,
            "/sfn/book_job",
            &customer.token,
            Some(EVIL),
            None,
            args.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let e: contract::error::AppError = serde_json::from_str(&body).expect("an AppError");
        assert_eq!(e.code, contract::error::ErrorCode::Forbidden);
        // Signing in from another site's page (login CSRF) as well.
        let creds = json!({ "email": customer.email, "password": TEST_PASSWORD });
        let (status, _) =
            with_cookie(&app, "/api/auth/login", "", Some(EVIL), None, creds.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(chats().await, json!([]));

        // Our own page (by Origin or by Referer), or no browser evidence: fine.
        let (status, body) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            Some(&own),
            None,
            job.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            None,
            Some(&format!("{own}/?chat=1")),
            job.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = with_cookie(
            &app,
            "/sfn/book_job",
            &customer.token,
            Some(&own),
            None,
            args,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) =
            with_cookie(&app, "/api/jobs", &customer.token, None, None, job.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, _) = with_cookie(&app, "/api/auth/login", "", Some(&own), None, creds).await;
        assert_eq!(status, StatusCode::OK);

        // A bearer token is not something another site can make the browser
        // send: not checked.
        let res = app
            .client
            .post(format!("{}/api/jobs", app.addr))
            .bearer_auth(&customer.token)
            .header("origin", EVIL)
            .json(&job)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::CREATED);
        // Reads are not state-changing: not checked.
        let res = app
            .client
            .get(format!("{}/api/chats", app.addr))
            .header("cookie", format!("jobchat_session={}", customer.token))
            .header("origin", EVIL)
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
    }
);

both_backends!(
    cookie_handshakes_must_come_from_our_own_origin,
    |app: TestApp| async move {
        let (customer, _provider, chat) = pair(&app).await;
        let cookie = Some(format!("jobchat_session={}", customer.token));
        for polling in [false, true] {
            let foreign = TestSocket::connect(
                &app.addr,
                SocketOpts {
                    cookie: cookie.clone(),
                    origin: Some(EVIL.into()),
                    polling,
                    ..SocketOpts::default()
                },
            )
            .await;
            match foreign {
                Ok(_) => panic!("a cross-origin cookie handshake was accepted (polling {polling})"),
                Err(e) => assert!(e.contains("cross-origin"), "polling {polling}: {e}"),
            }
            let mut own = app
                .socket_with(SocketOpts {
                    cookie: cookie.clone(),
                    origin: Some(app.addr.clone()),
                    polling,
                    ..SocketOpts::default()
                })
                .await;
            own.join(chat).await;
        }
        // A token in the auth payload, like a bearer header, is not the
        // browser's to attach: a page elsewhere holding one may connect.
        let mut by_token = app
            .socket_with(SocketOpts {
                origin: Some(EVIL.into()),
                ..SocketOpts::token(&customer.token)
            })
            .await;
        by_token.join(chat).await;
    }
);

/// `JOBCHAT_ALLOWED_ORIGINS` lets the listed origins (exactly: scheme,
/// host and port) in, and nobody else.
#[tokio::test]
async fn listed_origins_are_let_in() {
    const FRONT: &str = "https://front.example";
    let app = spawn_app_configured(Backend::Sqlite, server::Tuning::default(), |c| {
        c.allowed_origins = vec![WebOrigin::of_url(FRONT).expect("origin")];
    })
    .await
    .expect("sqlite always runs");
    let (customer, provider, _chat) = pair(&app).await;
    let job = json!({ "providerId": provider.id, "title": "Again" });
    for (origin, want) in [
        (FRONT, StatusCode::CREATED),
        ("http://front.example", StatusCode::FORBIDDEN),
        ("https://front.example:8443", StatusCode::FORBIDDEN),
        (EVIL, StatusCode::FORBIDDEN),
    ] {
        let (status, body) = with_cookie(
            &app,
            "/api/jobs",
            &customer.token,
            Some(origin),
            None,
            job.clone(),
        )
        .await;
        assert_eq!(status, want, "{origin}: {body}");
    }
    let cookie = Some(format!("jobchat_session={}", customer.token));
    let listed = TestSocket::connect(
        &app.addr,
        SocketOpts {
            cookie: cookie.clone(),
            origin: Some(FRONT.into()),
            ..SocketOpts::default()
        },
    )
    .await;
    assert!(listed.is_ok(), "listed origin's handshake");
    let foreign = TestSocket::connect(
        &app.addr,
        SocketOpts {
            cookie,
            origin: Some(EVIL.into()),
            ..SocketOpts::default()
        },
    )
    .await;
    assert!(foreign.is_err(), "unlisted origin's handshake");
}

/// The response's headers and body.
async fn fetch(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
) -> (reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(format!("{}{path}", app.addr));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("sent");
    let headers = res.headers().clone();
    (headers, res.text().await.expect("body"))
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .unwrap_or_else(|| panic!("no {name} header in {h:?}"))
        .to_str()
        .expect("ascii")
}

/// The opening tags of the page's scripts that run inline (no `src`, not
/// a JSON data block).
fn inline_scripts(html: &str) -> Vec<&str> {
    html.match_indices("<script")
        .filter_map(|(i, _)| html[i..].find('>').map(|end| &html[i..i + end + 1]))
        .filter(|tag| !tag.contains(" src=") && !tag.contains("application/json"))
        .collect()
}

#[tokio::test]
async fn security_headers_on_every_response() {
    let app = crate::helpers::spawn_app(Backend::Sqlite)
        .await
        .expect("sqlite always runs");
    let (customer, _provider, _chat) = pair(&app).await;
    let cookie = format!("jobchat_session={}", customer.token);

    let mut nonces = Vec::new();
    for (path, session) in [
        ("/login", None),
        ("/", Some(cookie.as_str())),
        ("/no-such-page", None),
    ] {
        let (h, html) = fetch(&app, path, session).await;
        assert!(
            header(&h, "content-type").starts_with("text/html"),
            "{path}"
        );
        let csp = header(&h, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: no {directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or_else(|| panic!("{path}: no nonce in {csp}"))
            .to_owned();
        assert!(
            csp.contains(&format!(
                "script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"
            )),
            "{path}: {csp}"
        );
        // Every inline script carries it (the hydration loader at least).
        let scripts = inline_scripts(&html);
        assert!(!scripts.is_empty(), "{path}: no inline script");
        for tag in scripts {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: {tag} lacks the nonce"
            );
        }
        // `style-src 'self'` holds only while nothing styles inline.
        assert!(
            !html.contains(" style=") && !html.contains("<style"),
            "{path} styles inline"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 3, "a fresh nonce per response");

    // Everything else: no document, no script, no framing.
    for path in [
        "/api/me",
        "/healthz",
        "/api/openapi.json",
        "/socket.io/?EIO=4&transport=polling",
    ] {
        let (h, _) = fetch(&app, path, Some(&cookie)).await;
        assert_eq!(
            header(&h, "content-security-policy"),
            server::http::NON_PAGE_POLICY,
            "{path}"
        );
    }
    for path in ["/login", "/api/me", "/socket.io/?EIO=4&transport=polling"] {
        let (h, _) = fetch(&app, path, None).await;
        assert_eq!(header(&h, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(
            header(&h, "referrer-policy"),
            "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(header(&h, "x-frame-options"), "DENY", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "{path}: HSTS over development's plain http"
        );
    }
    // REST errors too.
    let res = app
        .client
        .post(format!("{}/api/auth/login", app.addr))
        .json(&json!({ "email": "x@example.test", "password": "wrong-password" }))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(res.headers(), "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn hsts_in_production() {
    let app = spawn_app_configured(Backend::Sqlite, server::Tuning::default(), |c| {
        c.env = server::config::Environment::Production;
    })
    .await
    .expect("sqlite always runs");
    for path in ["/healthz", "/login"] {
        let (h, _) = fetch(&app, path, None).await;
        assert_eq!(
            header(&h, "strict-transport-security"),
            "max-age=31536000",
            "{path}"
        );
    }
}
