//! Email to people who are away, through a real SMTP server (aiosmtpd,
//! started by scripts/test: `TEST_SMTP_PORT`, `TEST_MAIL_DIR`): one email
//! for a burst of messages, with them in it (masked as the reader sees
//! them), a link to the chat and one-click unsubscribe; none for someone
//! who is online and then reads; a failing server retried; exactly once
//! across two nodes, and after the storing node is killed.

use crate::helpers::{Backend, TestApp, TestUser, pair, spawn_app_configured};
use reqwest::StatusCode;
use serde_json::json;
use server::application::Tuning;
use server::config::{Config, SmtpUrl};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The test SMTP server's port and mail directory; `None` (skipped)
/// outside CI when scripts/test did not start one.
fn smtp() -> Option<(u16, PathBuf)> {
    let port = std::env::var("TEST_SMTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok());
    let dir = std::env::var("TEST_MAIL_DIR").ok().map(PathBuf::from);
    match (port, dir) {
        (Some(p), Some(d)) => Some((p, d)),
        _ if std::env::var("CI").is_ok() => {
            panic!("CI=true but no test SMTP server (TEST_SMTP_PORT, TEST_MAIL_DIR)")
        }
        _ => {
            eprintln!("skipping email case: no TEST_SMTP_PORT (scripts/smtp-server)");
            None
        }
    }
}

/// Email on, due `away` after a message, senders looking every 100 ms.
fn with_email(port: u16, away: Duration) -> impl FnOnce(&mut Config) {
    move |c: &mut Config| {
        c.email.smtp = Some(SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).expect("url"));
        c.email.public_url = "https://chat.example.test".into();
        c.email.away_after = away;
        c.email.at_most_every = Duration::from_secs(3600);
        c.email.poll = Duration::from_millis(100);
    }
}

/// One received email: its headers and its decoded text.
#[derive(Debug)]
pub(crate) struct Mail {
    pub raw: String,
    pub text: String,
}

/// Quoted-printable undone (soft line breaks, `=XX`), enough to read what
/// lettre wrote.
fn unquote(s: &str) -> String {
    let s = s.replace("=\r\n", "").replace("=\n", "");
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The emails `to` received so far.
pub(crate) fn mailbox(dir: &std::path::Path, to: &str) -> Vec<Mail> {
    let suffix = format!("-{to}.eml");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    names.retain(|p| p.to_string_lossy().ends_with(&suffix));
    names.sort();
    names
        .into_iter()
        .map(|p| {
            let raw = std::fs::read_to_string(&p).expect("a mail file");
            Mail {
                text: unquote(&raw),
                raw,
            }
        })
        .collect()
}

/// Empties `to`'s mailbox (a test address may have been used by an
/// earlier run against the same SMTP server).
fn forget(dir: &std::path::Path, to: &str) {
    let suffix = format!("-{to}.eml");
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().to_string_lossy().ends_with(&suffix) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Waits (up to 20 s) until `to` has `n` emails.
async fn wait_for_mail(dir: &std::path::Path, to: &str, n: usize) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = mailbox(dir, to);
        if got.len() >= n || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The state of the outbox row of `user` and `chat`, newest first.
async fn outbox(app: &TestApp, user: i64, chat: i64) -> Vec<(String, i32)> {
    let sql = "SELECT state, attempts FROM email_outbox WHERE user_id = $1 AND chat_id = $2 ORDER BY id DESC";
    match app.service.db() {
        server::storage::Db::Sqlite(p) => {
            sqlx::query_as(sql).bind(user).bind(chat).fetch_all(p).await
        }
        server::storage::Db::Postgres(p) => {
            sqlx::query_as(sql).bind(user).bind(chat).fetch_all(p).await
        }
    }
    .expect("outbox read")
}

/// Waits (up to 20 s) until no row of `user` and `chat` is pending.
async fn settled(app: &TestApp, user: &TestUser, chat: i64) -> Vec<(String, i32)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = outbox(app, user.id, chat).await;
        if !rows.iter().any(|(s, _)| s == "pending") || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_email_per_burst_with_the_messages_masked_and_a_way_out() {
    let Some((port, dir)) = smtp() else { return };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let tuning = Tuning {
            seed_demo_data: false,
        };
        let Some(app) =
            spawn_app_configured(backend, tuning, with_email(port, Duration::from_secs(2))).await
        else {
            continue;
        };
        let (customer, provider, chat) = pair(&app).await;
        forget(&dir, &provider.email);
        forget(&dir, &customer.email);
        // The provider has no tab open: three messages, one email.
        for text in [
            "Are you still coming today?",
            "The water is up to the door now",
            "Call me on 0176 1234 5678",
        ] {
            app.say(&customer, chat, text).await;
        }
        let mails = wait_for_mail(&dir, &provider.email, 1).await;
        assert_eq!(mails.len(), 1, "{backend:?}: {mails:?}");
        let mail = &mails[0];
        for text in [
            "Are you still coming today?",
            "The water is up to the door now",
        ] {
            assert!(mail.text.contains(text), "{text}: {}", mail.text);
        }
        assert!(mail.text.contains("[phone number hidden]"), "{}", mail.text);
        assert!(
            !mail.text.contains("1234 5678"),
            "the number leaked: {}",
            mail.text
        );
        assert!(
            mail.raw
                .contains("Subject: 3 new messages about \"Fix the sink\""),
            "{}",
            mail.raw
        );
        assert!(
            mail.text
                .contains(&format!("https://chat.example.test/?chat={chat}"))
        );
        assert!(
            mail.raw
                .contains("List-Unsubscribe: <https://chat.example.test/unsubscribe?u=")
        );
        assert!(
            mail.raw
                .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        );
        assert!(mail.raw.contains("text/html"), "an HTML part too");
        // Sent once; nothing else pending for the burst.
        assert_eq!(
            settled(&app, &provider, chat).await,
            vec![("sent".to_owned(), 0)]
        );
        // The customer, who wrote, got nothing.
        assert!(mailbox(&dir, &customer.email).is_empty());

        // One click turns it off: later messages send nothing.
        let link = app.service.unsubscribe_link(provider.id).expect("a link");
        let path = link.trim_start_matches("https://chat.example.test");
        let forged = path.replace(&format!("u={}", provider.id), &format!("u={}", customer.id));
        let res = app
            .client
            .post(format!("{}{forged}", app.addr))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let page = app
            .client
            .get(format!("{}{path}", app.addr))
            .send()
            .await
            .expect("sent");
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.text()
                .await
                .expect("body")
                .contains("<form method=\"post\"")
        );
        let res = app
            .client
            .post(format!("{}{path}", app.addr))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::OK);
        let (_, choice) = app.get("/api/me/email", Some(&provider.token)).await;
        assert_eq!(choice["enabled"], json!(false), "{choice}");
        app.say(&customer, chat, "Hello?").await;
        assert_eq!(
            settled(&app, &provider, chat)
                .await
                .first()
                .map(|r| r.0.as_str()),
            Some("skipped")
        );
        assert_eq!(mailbox(&dir, &provider.email).len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choices_are_kept_and_respected_quiet_hours_and_a_muted_chat() {
    let Some((port, dir)) = smtp() else { return };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let tuning = Tuning {
            seed_demo_data: false,
        };
        let Some(app) =
            spawn_app_configured(backend, tuning, with_email(port, Duration::from_millis(1))).await
        else {
            continue;
        };
        let (customer, provider, chat) = pair(&app).await;
        forget(&dir, &provider.email);
        // Quiet from an hour ago to an hour from now, UTC.
        let now = chrono::Utc::now();
        let hhmm = |t: chrono::DateTime<chrono::Utc>| t.format("%H:%M").to_string();
        let choices = json!({
            "enabled": true,
            "delayMinutes": 15,
            "quietHours": { "start": hhmm(now - chrono::TimeDelta::hours(1)), "end": hhmm(now + chrono::TimeDelta::hours(1)) },
            "timeZone": "UTC",
        });
        let (status, body) = app
            .request(
                reqwest::Method::PUT,
                "/api/me/email",
                Some(&provider.token),
                Some(choices.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, choices);
        assert_eq!(
            app.get("/api/me/email", Some(&provider.token)).await.1,
            choices
        );
        let mut bad = choices.clone();
        bad["timeZone"] = json!("Mars/Olympus");
        let (status, body) = app
            .request(
                reqwest::Method::PUT,
                "/api/me/email",
                Some(&provider.token),
                Some(bad),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["details"]["field"], json!("timeZone"));

        // The delay (15 min) and then the quiet hours hold the email back.
        app.say(&customer, chat, "Are you awake?").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let sql = "SELECT due_at FROM email_outbox WHERE user_id = $1 AND chat_id = $2 AND state = 'pending'";
            let due: Option<(chrono::DateTime<chrono::Utc>,)> = match app.service.db() {
                server::storage::Db::Sqlite(p) => {
                    sqlx::query_as(sql)
                        .bind(provider.id)
                        .bind(chat)
                        .fetch_optional(p)
                        .await
                }
                server::storage::Db::Postgres(p) => {
                    sqlx::query_as(sql)
                        .bind(provider.id)
                        .bind(chat)
                        .fetch_optional(p)
                        .await
                }
            }
            .expect("read");
            if due.is_some_and(|(d,)| d > now + chrono::TimeDelta::minutes(10)) {
                break;
            }
            assert!(Instant::now() < deadline, "not held back: {due:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(mailbox(&dir, &provider.email).is_empty());

        // A muted chat: no bell, no email.
        let (status, body) = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/chats/{chat}/mute"),
                Some(&customer.token),
                Some(json!({ "muted": true })),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
        assert_eq!(chats[0]["muted"], json!(true), "{chats}");
        let (_, before) = app
            .get("/api/notifications?unread=true", Some(&customer.token))
            .await;
        app.say(&provider, chat, "Yes, on my way").await;
        let (_, after) = app
            .get("/api/notifications?unread=true", Some(&customer.token))
            .await;
        assert_eq!(before, after, "a bell rang for a muted chat");
        assert!(outbox(&app, customer.id, chat).await.is_empty());
        // Someone else's chat cannot be muted.
        let (status, _) = app
            .request(
                reqwest::Method::PUT,
                &format!("/api/chats/{chat}/mute"),
                Some(&app.register("customer").await.token),
                Some(json!({ "muted": true })),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_online_who_then_reads_gets_no_email() {
    let Some((port, dir)) = smtp() else { return };
    let tuning = Tuning {
        seed_demo_data: false,
    };
    let Some(app) = spawn_app_configured(
        Backend::Sqlite,
        tuning,
        with_email(port, Duration::from_millis(300)),
    )
    .await
    else {
        return;
    };
    let (customer, provider, chat) = pair(&app).await;
    forget(&dir, &provider.email);
    let mut tab = app.socket(&provider).await;
    tab.join(chat).await;
    let m = app.say(&customer, chat, "Quick question").await;
    // Online: the email waits (asked again later), it is not sent.
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox(&app, provider.id, chat).await.is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, _) = app
        .post(
            &format!("/api/chats/{chat}/read"),
            Some(&provider.token),
            json!({ "messageId": m.id }),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    tab.close().await;
    assert_eq!(
        settled(&app, &provider, chat).await,
        vec![("skipped".to_owned(), 0)]
    );
    assert!(mailbox(&dir, &provider.email).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_smtp_server_is_retried_later() {
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let tuning = Tuning {
        seed_demo_data: false,
    };
    let Some(app) = spawn_app_configured(Backend::Sqlite, tuning, |c| {
        with_email(closed, Duration::from_millis(1))(c);
        c.metrics_token = Some("emails-metrics-token".into());
    })
    .await
    else {
        return;
    };
    let (customer, provider, chat) = pair(&app).await;
    app.say(&customer, chat, "Anyone there?").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rows = outbox(&app, provider.id, chat).await;
        if rows.first().is_some_and(|(_, attempts)| *attempts >= 1) {
            // Still pending, to be tried again after the backoff.
            assert_eq!(rows[0].0, "pending");
            break;
        }
        assert!(Instant::now() < deadline, "never attempted: {rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = app.get("/metrics", Some("emails-metrics-token")).await;
    assert_eq!(status, StatusCode::OK);
    let text = body.as_str().unwrap_or_default();
    assert!(
        text.lines()
            .any(|l| l.starts_with("jobchat_emails_total{result=\"retry\"}")),
        "{text}"
    );
}

/// Two nodes send each due email once; one stored on a node that is then
/// killed is sent by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_across_nodes_and_after_a_kill() {
    let Some((port, dir)) = smtp() else { return };
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    // Node A's sender is off here (no SMTP in its config); B sends.
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let env = [
        ("JOBCHAT_SMTP_URL", smtp_url.as_str()),
        ("JOBCHAT_EMAIL_AWAY_MINUTES", "0.02"),
        ("JOBCHAT_PUBLIC_URL", "https://chat.example.test"),
    ];
    let mut b = a.spawn_node_with(&env).await;
    let c = a.spawn_node_with(&env).await;
    let (customer, provider, chat) = pair(&a).await;
    forget(&dir, &provider.email);
    // Stored through node B (its socket), sent by B or C: once.
    let mut sock = b.socket(&customer).await;
    sock.join(chat).await;
    for text in ["one", "two", "three"] {
        sock.send(chat, text).await;
    }
    let mails = wait_for_mail(&dir, &provider.email, 1).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    // Every message of the burst is in it.
    for text in ["one", "two", "three"] {
        assert!(
            mails[0].text.contains(&format!(": {text}")),
            "{}",
            mails[0].text
        );
    }

    // Another burst through B, then B dies at once: C sends it, once.
    let chat2 = a.book(&customer, &provider).await;
    let mut sock2 = b.socket(&customer).await;
    sock2.join(chat2).await;
    sock2.send(chat2, "after the crash").await;
    b.kill();
    let mails = wait_for_mail(&dir, &provider.email, 2).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].text.contains("after the crash"));
    drop(c);
}
