//! The Leptos server functions (`app::api`) over real HTTP: `POST /sfn/<endpoint>`
//! with the arguments as a JSON object keyed by the Rust argument names, the
//! session in the HttpOnly cookie. They answer with the same `AppError`
//! codes and messages as REST (the status is the code's own: 400 where REST
//! says 422 for a rule broken by well-formed input).

use crate::both_backends;
use crate::helpers::{TEST_PASSWORD, TestApp, TestUser};
use app::api::{Booking, DisputeOpened};
use contract::error::{AppError, ErrorCode};
use contract::model::{
    ChatSummary, Me, MessageKind, MessagePage, Notification, Role, User, UserRef,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// What a server function answered.
struct Answer {
    status: StatusCode,
    body: Value,
    set_cookie: Option<String>,
}

impl Answer {
    fn ok<T: DeserializeOwned>(self) -> T {
        assert_eq!(self.status, StatusCode::OK, "{}", self.body);
        serde_json::from_value(self.body).expect("the declared return type")
    }

    fn err(self) -> (StatusCode, AppError) {
        assert!(
            !self.status.is_success(),
            "expected an error: {}",
            self.body
        );
        let e: AppError = serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {}", self.body));
        (self.status, e)
    }
}

async fn call(app: &TestApp, endpoint: &str, cookie: Option<&str>, args: Value) -> Answer {
    let mut req = app
        .client
        .post(format!("{}/sfn/{endpoint}", app.addr))
        .json(&args);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.expect("request sent");
    let status = res.status();
    let set_cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = res.text().await.expect("body read");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        body,
        set_cookie,
    }
}

/// Signs in through the `login` server function; returns the cookie pair
/// the browser would send back.
async fn login(app: &TestApp, user: &TestUser) -> String {
    let answer = call(
        app,
        "login",
        None,
        json!({ "email": user.email, "password": TEST_PASSWORD }),
    )
    .await;
    let set = answer.set_cookie.clone().expect("login sets a cookie");
    let me: Me = answer.ok();
    assert_eq!(me.id, user.id);
    set.split(';').next().expect("name=value").to_owned()
}

fn cookie_of(token: &str) -> String {
    format!("jobchat_session={token}")
}

/// The `AppError` inside a REST error body.
fn rest_error(body: &Value) -> AppError {
    serde_json::from_value(body["error"].clone())
        .unwrap_or_else(|e| panic!("not a REST error body ({e}): {body}"))
}

both_backends!(
    login_sets_the_cookie_and_logout_clears_it,
    |app: TestApp| async move {
        let user = app.register("customer").await;
        let answer = call(
            &app,
            "login",
            None,
            json!({ "email": user.email.to_uppercase(), "password": TEST_PASSWORD }),
        )
        .await;
        let set = answer.set_cookie.clone().expect("cookie set");
        assert!(set.starts_with("jobchat_session="), "{set}");
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
            assert!(set.split("; ").any(|a| a == attr), "{attr} missing: {set}");
        }
        assert!(!set.contains("Secure"), "not in development: {set}");
        assert_eq!(
            answer.ok::<Me>(),
            Me {
                id: user.id,
                name: user.name.clone(),
                role: Role::Customer
            }
        );
        // The token is never in the body; the cookie carries it, and works.
        let cookie = set.split(';').next().expect("pair").to_owned();
        let me: User = call(&app, "me", Some(&cookie), json!({})).await.ok();
        assert_eq!(me.email, user.email);
        // REST accepts the same cookie.
        let res = app
            .client
            .get(format!("{}/api/me", app.addr))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("me");
        assert_eq!(res.status(), StatusCode::OK);

        let out = call(&app, "logout", Some(&cookie), json!({})).await;
        let cleared = out.set_cookie.clone().expect("cookie cleared");
        assert!(cleared.starts_with("jobchat_session=;"), "{cleared}");
        assert!(
            cleared.contains("Max-Age=0") && cleared.contains("HttpOnly"),
            "{cleared}"
        );
        assert_eq!(out.status, StatusCode::OK);

        // Wrong password: the same refusal as REST.
        let bad = json!({ "email": user.email, "password": "wrong-password" });
        let (status, e) = call(&app, "login", None, bad.clone()).await.err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (_, rest) = app.post("/api/auth/login", None, bad).await;
        assert_eq!(e, rest_error(&rest));
        assert_eq!(e.code, ErrorCode::Unauthorized);

        // Registration signs in too; the REST rules hold.
        let reg = json!({ "name": "Sam", "email": "sam@example.test", "password": TEST_PASSWORD, "role": "provider" });
        let answer = call(&app, "register", None, reg.clone()).await;
        assert!(answer.set_cookie.is_some());
        assert_eq!(answer.ok::<Me>().role, Role::Provider);
        let (status, e) = call(&app, "register", None, reg).await.err();
        assert_eq!(
            (status, e.code),
            (StatusCode::CONFLICT, ErrorCode::Conflict)
        );
        let lsm = json!({ "name": "L", "email": "l@example.test", "password": TEST_PASSWORD, "role": "lsm" });
        let (status, e) = call(&app, "register", None, lsm).await.err();
        assert_eq!(
            (status, e.code),
            (StatusCode::FORBIDDEN, ErrorCode::Forbidden)
        );
    }
);

/// Every server function that needs a session, with well-formed arguments.
fn signed_in_calls(chat: i64) -> Vec<(&'static str, Value)> {
    vec![
        ("me", json!({})),
        ("providers", json!({})),
        (
            "book_job",
            json!({ "provider_id": 1, "title": "t", "description": "" }),
        ),
        ("chats", json!({})),
        ("messages", json!({ "chat_id": chat, "page": {} })),
        ("open_dispute", json!({ "chat_id": chat, "reason": "r" })),
        (
            "resolve_dispute",
            json!({ "dispute_id": 1, "resolution": "r" }),
        ),
        ("notifications", json!({ "unread_only": false })),
        ("read_notification", json!({ "id": 1 })),
        ("read_all_notifications", json!({})),
    ]
}

both_backends!(
    unauthorized_without_a_valid_session,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        let forged = app.forge_token(&customer, Role::Customer, 600, Some(&[9u8; 40]));
        let expired = app.forge_token(&customer, Role::Customer, -10, None);
        let sessions = [
            ("no cookie", None),
            ("garbage", Some(cookie_of("not-a-jwt"))),
            ("forged", Some(cookie_of(&forged))),
            ("expired", Some(cookie_of(&expired))),
        ];
        for (endpoint, args) in signed_in_calls(chat) {
            for (what, cookie) in &sessions {
                let (status, e) = call(&app, endpoint, cookie.as_deref(), args.clone())
                    .await
                    .err();
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{endpoint} with {what}");
                assert_eq!(e, AppError::unauthorized(), "{endpoint} with {what}");
            }
        }
        // Nothing happened on the way.
        let (_, notes) = app.get("/api/notifications", Some(&provider.token)).await;
        assert_eq!(notes, json!([]));
    }
);

both_backends!(happy_paths, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let c = login(&app, &customer).await;
    let p = login(&app, &provider).await;

    let providers: Vec<UserRef> = call(&app, "providers", Some(&c), json!({})).await.ok();
    assert!(
        providers
            .iter()
            .any(|u| u.id == provider.id && u.name == provider.name),
        "{providers:?}"
    );

    let booking: Booking = call(
        &app,
        "book_job",
        Some(&c),
        json!({ "provider_id": provider.id, "title": "  Fix the tap ", "description": "It drips" }),
    )
    .await
    .ok();
    let chat = booking.chat_id;
    let chats: Vec<ChatSummary> = call(&app, "chats", Some(&p), json!({})).await.ok();
    assert_eq!(chats.len(), 1);
    assert_eq!(chats[0].id, chat);
    assert_eq!(chats[0].job_id, booking.job_id);
    assert_eq!(chats[0].job_title, "Fix the tap");

    for i in 0..3 {
        app.say(&customer, chat, &format!("note {i}")).await;
    }
    let page: MessagePage = call(
        &app,
        "messages",
        Some(&p),
        json!({ "chat_id": chat, "page": { "limit": 2 } }),
    )
    .await
    .ok();
    assert_eq!(page.messages.len(), 2);
    assert!(page.has_more);
    assert_eq!(page.messages[1].content, "note 2");
    let older: MessagePage = call(
        &app,
        "messages",
        Some(&p),
        json!({ "chat_id": chat, "page": { "before": page.messages[0].id } }),
    )
    .await
    .ok();
    assert_eq!(older.messages.len(), 2);
    assert_eq!(older.messages[0].kind, MessageKind::System);
    assert!(!older.has_more);

    let notes: Vec<Notification> = call(
        &app,
        "notifications",
        Some(&p),
        json!({ "unread_only": true }),
    )
    .await
    .ok();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].count, 3);
    let () = call(
        &app,
        "read_notification",
        Some(&p),
        json!({ "id": notes[0].id }),
    )
    .await
    .ok();
    app.say(&customer, chat, "one more").await;
    let () = call(&app, "read_all_notifications", Some(&p), json!({}))
        .await
        .ok();
    let unread: Vec<Notification> = call(
        &app,
        "notifications",
        Some(&p),
        json!({ "unread_only": true }),
    )
    .await
    .ok();
    assert!(unread.is_empty(), "{unread:?}");

    let lsm = app.create_lsm().await;
    let opened: DisputeOpened = call(
        &app,
        "open_dispute",
        Some(&c),
        json!({ "chat_id": chat, "reason": "Still drips" }),
    )
    .await
    .ok();
    assert_eq!(opened.lsm.id, lsm.id);
    let l = login(&app, &lsm).await;
    let () = call(
        &app,
        "resolve_dispute",
        Some(&l),
        json!({ "dispute_id": opened.dispute_id, "resolution": "New washer" }),
    )
    .await
    .ok();
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    assert_eq!(chats[0]["dispute"]["status"], "resolved");
});

both_backends!(
    others_chats_look_like_missing_ones,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let outsider = app.register("customer").await;
        let chat = app.book(&customer, &provider).await;
        app.say(&customer, chat, "private").await;
        let o = login(&app, &outsider).await;
        let p = login(&app, &provider).await;

        let expect = |answer: Answer, status: StatusCode, code: ErrorCode| {
            let (s, e) = answer.err();
            assert_eq!((s, e.code), (status, code), "{e:?}");
            e
        };
        let e = expect(
            call(
                &app,
                "messages",
                Some(&o),
                json!({ "chat_id": chat, "page": {} }),
            )
            .await,
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        );
        let (_, rest) = app
            .get(
                &format!("/api/chats/{chat}/messages"),
                Some(&outsider.token),
            )
            .await;
        assert_eq!(e, rest_error(&rest), "the same refusal as REST");
        let refused = |args: Value| {
            let (app, o) = (&app, o.clone());
            async move {
                let answer = call(app, "open_dispute", Some(&o), args).await;
                (answer.status, answer.body)
            }
        };
        let theirs = refused(json!({ "chat_id": chat, "reason": "x" })).await;
        assert_eq!(theirs.0, StatusCode::NOT_FOUND, "{}", theirs.1);
        assert_eq!(
            theirs,
            refused(json!({ "chat_id": 999_999, "reason": "x" })).await,
            "someone else's chat answers as a missing one"
        );
        let missing = expect(
            call(
                &app,
                "messages",
                Some(&o),
                json!({ "chat_id": 999_999, "page": {} }),
            )
            .await,
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        );
        assert_eq!(e, missing);
        // Only customers book.
        expect(
            call(
                &app,
                "book_job",
                Some(&p),
                json!({ "provider_id": provider.id, "title": "t", "description": "" }),
            )
            .await,
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
        );
        // Someone else's notification is not there for them.
        let (_, notes) = app.get("/api/notifications", Some(&provider.token)).await;
        let id = notes[0]["id"].as_i64().expect("id");
        expect(
            call(&app, "read_notification", Some(&o), json!({ "id": id })).await,
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
        );
        // Only the dispute's LSM resolves it.
        app.create_lsm().await;
        let opened: DisputeOpened = call(
            &app,
            "open_dispute",
            Some(&p),
            json!({ "chat_id": chat, "reason": "Unpaid" }),
        )
        .await
        .ok();
        let other_lsm = app.create_lsm().await;
        let l2 = login(&app, &other_lsm).await;
        // The chat's provider is told why not; an outsider and another LSM
        // get the answer of a dispute that does not exist.
        let args = json!({ "dispute_id": opened.dispute_id, "resolution": "x" });
        for (who, status, code) in [
            (&p, StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            (&o, StatusCode::NOT_FOUND, ErrorCode::NotFound),
            (&l2, StatusCode::NOT_FOUND, ErrorCode::NotFound),
        ] {
            expect(
                call(&app, "resolve_dispute", Some(who), args.clone()).await,
                status,
                code,
            );
        }
        // The outsider's chat list never shows it.
        let chats: Vec<ChatSummary> = call(&app, "chats", Some(&o), json!({})).await.ok();
        assert!(chats.is_empty());
    }
);

both_backends!(validation_errors_match_rest, |app: TestApp| async move {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat = app.book(&customer, &provider).await;
    let c = login(&app, &customer).await;
    let t = Some(customer.token.as_str());

    // (server function, its args, REST path, REST body or None for GET)
    let cases: Vec<(&str, Value, String, Option<Value>)> = vec![
        (
            "book_job",
            json!({ "provider_id": provider.id, "title": "   ", "description": "" }),
            "/api/jobs".into(),
            Some(json!({ "providerId": provider.id, "title": "   ", "description": "" })),
        ),
        (
            "book_job",
            json!({ "provider_id": customer.id, "title": "Ok", "description": "" }),
            "/api/jobs".into(),
            Some(json!({ "providerId": customer.id, "title": "Ok" })),
        ),
        (
            "book_job",
            json!({ "provider_id": provider.id, "title": "Ok", "description": "x".repeat(4001) }),
            "/api/jobs".into(),
            Some(
                json!({ "providerId": provider.id, "title": "Ok", "description": "x".repeat(4001) }),
            ),
        ),
        (
            "open_dispute",
            json!({ "chat_id": chat, "reason": "" }),
            format!("/api/chats/{chat}/dispute"),
            Some(json!({ "reason": "" })),
        ),
        (
            "resolve_dispute",
            json!({ "dispute_id": 1, "resolution": "\u{7}" }),
            "/api/disputes/1/resolve".into(),
            Some(json!({ "resolution": "\u{7}" })),
        ),
        (
            "messages",
            json!({ "chat_id": chat, "page": { "limit": 0 } }),
            format!("/api/chats/{chat}/messages?limit=0"),
            None,
        ),
        (
            "messages",
            json!({ "chat_id": chat, "page": { "before": 0 } }),
            format!("/api/chats/{chat}/messages?before=0"),
            None,
        ),
    ];
    for (endpoint, args, path, body) in cases {
        let (status, e) = call(&app, endpoint, Some(&c), args.clone()).await.err();
        let (rest_status, rest) = match body {
            Some(b) => app.post(&path, t, b).await,
            None => app.get(&path, t).await,
        };
        let rest = rest_error(&rest);
        assert_eq!(e, rest, "{endpoint} {args} vs {path}");
        assert_eq!(e.code, ErrorCode::BadRequest, "{endpoint} {args}");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{endpoint} {args}");
        assert!(
            rest_status == StatusCode::BAD_REQUEST
                || rest_status == StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {rest_status}"
        );
    }

    // Sign-up checks, without a session.
    for (args, rest_body) in [
        (
            json!({ "name": "A", "email": "nope", "password": TEST_PASSWORD, "role": "customer" }),
            json!({ "name": "A", "email": "nope", "password": TEST_PASSWORD, "role": "customer" }),
        ),
        (
            json!({ "name": "A", "email": "a@example.test", "password": "short", "role": "customer" }),
            json!({ "name": "A", "email": "a@example.test", "password": "short", "role": "customer" }),
        ),
        (
            json!({ "name": "  ", "email": "a@example.test", "password": TEST_PASSWORD, "role": "customer" }),
            json!({ "name": "  ", "email": "a@example.test", "password": TEST_PASSWORD, "role": "customer" }),
        ),
    ] {
        let (status, e) = call(&app, "register", None, args.clone()).await.err();
        let (_, rest) = app.post("/api/auth/register", None, rest_body).await;
        assert_eq!(e, rest_error(&rest), "{args}");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(e.details, Some(rest_error(&rest).details.expect("field")));
    }
});

both_backends!(
    rest_and_server_fn_list_the_same_chats,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let other = app.register("provider").await;
        let first = app.book(&customer, &provider).await;
        let second = app.book(&customer, &other).await;
        app.say(&provider, first, "hello").await;
        app.say(&customer, second, "hi there").await;
        app.create_lsm().await;
        let (s, _) = app
            .post(
                &format!("/api/chats/{second}/dispute"),
                Some(&customer.token),
                json!({ "reason": "Late" }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED);

        let c = login(&app, &customer).await;
        let via_sfn = call(&app, "chats", Some(&c), json!({})).await;
        assert_eq!(via_sfn.status, StatusCode::OK);
        let (status, via_rest) = app.get("/api/chats", Some(&customer.token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(via_sfn.body, via_rest, "the same JSON, byte for byte");
        let chats: Vec<ChatSummary> = serde_json::from_value(via_rest).expect("chats");
        assert_eq!(chats.len(), 2);
        assert_eq!(chats[0].id, second, "most recent activity first");
        assert!(chats[1].unread_count > 0);
    }
);

/// Sends `body` raw (any bytes, any content type) to a server function.
async fn call_raw(
    app: &TestApp,
    endpoint: &str,
    cookie: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Answer {
    let res = app
        .client
        .post(format!("{}/sfn/{endpoint}", app.addr))
        .header("cookie", cookie)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request sent");
    let status = res.status();
    let text = res.text().await.expect("body read");
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        set_cookie: None,
    }
}

both_backends!(
    bad_bodies_get_a_clear_refusal_and_store_nothing,
    |app: TestApp| async move {
        let customer = app.register("customer").await;
        let provider = app.register("provider").await;
        let chat = app.book(&customer, &provider).await;
        let cookie = cookie_of(&customer.token);
        let before = app.all_messages(&customer, chat).await;
        let bad: Vec<(&str, Vec<u8>)> = vec![
            ("application/json", b"{".to_vec()),
            ("application/json", b"[]".to_vec()),
            ("application/json", b"null".to_vec()),
            ("application/json", b"\"text\"".to_vec()),
            ("application/json", br#"{"chat_id":"x","page":{}}"#.to_vec()),
            (
                "application/json",
                br#"{"chat_id":99999999999999999999,"page":{}}"#.to_vec(),
            ),
            ("application/json", br#"{"chat_id":1.5,"page":{}}"#.to_vec()),
            (
                "application/json",
                br#"{"chat_id":1,"page":{"limit":-5}}"#.to_vec(),
            ),
            (
                "application/json",
                br#"{"chat_id":1,"page":{"beforeSeq":0}}"#.to_vec(),
            ),
            (
                "application/json",
                br#"{"dispute_id":-1,"resolution":"x"}"#.to_vec(),
            ),
            (
                "application/json",
                br#"{"provider_id":{"a":[[[]]]},"title":1}"#.to_vec(),
            ),
            (
                "application/json",
                format!(
                    "{{\"chat_id\":{chat},\"reason\":\"{}\"}}",
                    "r".repeat(3_000)
                )
                .into_bytes(),
            ),
            ("application/json", vec![b'a'; 100 * 1024]),
            (
                "text/plain",
                format!("{{\"chat_id\":{chat},\"reason\":\"why\"}}").into_bytes(),
            ),
            ("application/octet-stream", vec![0xff, 0x00, 0xfe]),
        ];
        for endpoint in [
            "messages",
            "open_dispute",
            "resolve_dispute",
            "book_job",
            "read_notification",
            "login",
            "register",
        ] {
            for (content_type, body) in &bad {
                let answer = call_raw(&app, endpoint, &cookie, content_type, body.clone()).await;
                let shown = format!(
                    "{endpoint} {content_type} {:?}",
                    String::from_utf8_lossy(&body[..body.len().min(60)])
                );
                assert!(
                    answer.status.is_client_error(),
                    "{shown}: {} {}",
                    answer.status,
                    answer.body
                );
                let (status, e) = answer.err();
                assert!(!e.message.is_empty(), "{shown}: a message");
                if *content_type != "application/json" {
                    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{shown}");
                }
            }
        }
        // Still serving, and nothing was stored by any of it.
        let chats: Vec<ChatSummary> = call(&app, "chats", Some(&cookie), json!({})).await.ok();
        assert_eq!(chats.len(), 1);
        assert!(chats[0].dispute.is_none(), "no dispute was opened");
        assert_eq!(app.all_messages(&customer, chat).await, before);
    }
);
