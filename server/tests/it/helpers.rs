//! Starting the real server on a random port against a real database.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::config::{Config, DatabaseUrl, RedisTarget};
use server::service::Service;
use server::storage::Db;
use server::{Application, Tuning};
use std::sync::atomic::{AtomicU64, Ordering};

/// Every test account's password: strong enough for the strength check
/// (zxcvbn score 4, what LSM accounts need), so tests of other things never
/// trip it.
pub const TEST_PASSWORD: &str = "plum-orbit-velvet-42";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body once per backend: `both_backends!(name, |app| async move { … })`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await
                {
                    ($body)(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await
                {
                    ($body)(app).await;
                }
            }
        }
    };
}

/// A database made for one test and removed afterwards.
pub struct TestDb {
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A database this test did not make (nothing is removed afterwards).
    pub fn external(url: DatabaseUrl) -> Self {
        Self {
            url,
            _dir: None,
            pg_drop: None,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // Drop runs outside any runtime we may block, so use a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                rt.block_on(async {
                    let pool = sqlx::PgPool::connect(&admin_url).await.ok()?;
                    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .execute(&pool)
                        .await
                        .ok()?;
                    pool.close().await;
                    Some(())
                })
            })
            .join();
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh database; `None` (test skipped) only for PostgreSQL outside CI
/// when no server answers. With CI=true an absent PostgreSQL fails the test.
pub async fn test_db(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = DatabaseUrl::Sqlite(format!("sqlite://{}/test.db", dir.path().display()));
            Some(TestDb {
                url,
                _dir: Some(dir),
                pg_drop: None,
            })
        }
        Backend::Postgres => {
            let admin = postgres_admin_url();
            let pool = match sqlx::PgPool::connect(&admin).await {
                Ok(p) => p,
                Err(e) if std::env::var("CI").is_err() => {
                    eprintln!("skipping PostgreSQL case: no server at {admin}: {e}");
                    return None;
                }
                Err(e) => panic!("CI=true but PostgreSQL at {admin} is unreachable: {e}"),
            };
            let name = format!(
                "jobchat_test_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                rand::random::<u32>()
            );
            sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                .execute(&pool)
                .await
                .expect("create test database");
            pool.close().await;
            let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
            let url = DatabaseUrl::Postgres(format!("{base}/{name}"));
            Some(TestDb {
                url,
                _dir: None,
                pg_drop: Some((admin, name)),
            })
        }
    }
}

/// A storage layer on a fresh, migrated database.
pub async fn test_storage(backend: Backend) -> Option<(Db, TestDb)> {
    let tdb = test_db(backend).await?;
    let db = Db::connect(&tdb.url).await.expect("connect");
    db.migrate().await.expect("migrate");
    Some((db, tdb))
}

pub struct TestApp {
    pub addr: String,
    pub client: reqwest::Client,
    pub service: Service,
    pub config: Config,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    // Dropped last: the database outlives the server.
    _db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        Tuning {
            seed_demo_data: false,
        },
    )
    .await
}

/// The app with some rate limits lowered (the rest stay generous).
pub async fn spawn_with_limits(
    backend: Backend,
    limits: impl FnOnce(&mut server::config::RateLimits),
) -> Option<TestApp> {
    spawn_app_configured(
        backend,
        Tuning {
            seed_demo_data: false,
        },
        |c| limits(&mut c.limits),
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, tuning: Tuning) -> Option<TestApp> {
    spawn_app_configured(backend, tuning, |_| {}).await
}

/// The Redis tests use: a Redis Cluster when `TEST_REDIS_CLUSTER_URLS` is
/// set (scripts/redis-cluster starts one), else `REDIS_URL`, else this
/// machine's Redis. `None` (test skipped) outside CI when nothing answers;
/// with CI=true that fails.
pub fn test_redis() -> Option<RedisTarget> {
    let target = match std::env::var("TEST_REDIS_CLUSTER_URLS") {
        Ok(list) => RedisTarget::from_vars(None, Some(list)).expect("TEST_REDIS_CLUSTER_URLS"),
        Err(_) => RedisTarget::from_vars(
            Some(std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())),
            None,
        )
        .expect("REDIS_URL"),
    }?;
    let first = match &target {
        RedisTarget::Single(url) => url.clone(),
        RedisTarget::Cluster(seeds) => seeds[0].clone(),
    };
    let hostport = first
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:6379")
        .to_owned();
    match std::net::TcpStream::connect(&hostport) {
        Ok(_) => Some(target),
        Err(e) if std::env::var("CI").is_err() => {
            eprintln!("skipping cluster case: no Redis at {hostport}: {e}");
            None
        }
        Err(e) => panic!("CI=true but Redis at {hostport} is unreachable: {e}"),
    }
}

/// Node A of a cluster on PostgreSQL and the tests' Redis (or Redis
/// Cluster), or `None` (skipped) outside CI when either is missing.
pub async fn clustered_on_postgres() -> Option<TestApp> {
    let redis = test_redis()?;
    spawn_clustered(Backend::Postgres, &redis).await
}

/// Node A of a cluster: this process's server on `backend`, sharing `redis`
/// under a prefix of its own (so concurrent tests never hear each other).
pub async fn spawn_clustered(backend: Backend, redis: &RedisTarget) -> Option<TestApp> {
    let prefix = format!("jobchat-test-{}", uuid_like());
    let tuning = Tuning {
        seed_demo_data: false,
    };
    spawn_app_configured(backend, tuning, |c| {
        // The login limits the spawned nodes run with (their defaults).
        c.limits.login_per_email_per_min = 10;
        c.limits.login_per_ip_per_min = 60;
        c.redis = Some(redis.clone());
        c.redis_prefix = prefix;
    })
    .await
}

pub async fn spawn_app_configured(
    backend: Backend,
    tuning: Tuning,
    configure: impl FnOnce(&mut Config),
) -> Option<TestApp> {
    let db = test_db(backend).await?;
    Some(spawn_app_on(db, tuning, configure).await)
}

/// The app on a database the caller provides.
pub async fn spawn_app_on(
    db: TestDb,
    tuning: Tuning,
    configure: impl FnOnce(&mut Config),
) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init("info,server=debug");
    }
    let data_dir = std::env::temp_dir();
    let mut config = Config::for_tests(db.url.clone(), data_dir);
    configure(&mut config);
    let app = Application::build(config.clone(), tuning)
        .await
        .expect("server builds");
    let addr = format!("http://{}", app.local_addr());
    let service = app.service().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::builder().build().expect("http client"),
        service,
        config,
        shutdown: Some(tx),
        _db: db,
    }
}

/// A signed-in test user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: i64,
    pub token: String,
    pub name: String,
    pub email: String,
}

static USER_SEQ: AtomicU64 = AtomicU64::new(0);

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.request_at(&self.addr, method, path, token, body).await
    }

    /// As `request`, to another node at `base`.
    pub async fn request_at(
        &self,
        base: &str,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let text = res.text().await.expect("body read");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    /// A chat's whole history over REST, oldest first, paging by `afterSeq`.
    pub async fn all_messages(&self, user: &TestUser, chat: ChatId) -> Vec<Message> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (status, body) = self
                .get(
                    &format!("/api/chats/{chat}/messages?afterSeq={after}&limit=200"),
                    Some(&user.token),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let page: contract::model::MessagePage = serde_json::from_value(body).expect("a page");
            after = page.messages.last().map_or(after, |m| m.seq);
            all.extend(page.messages);
            if !page.has_more {
                return all;
            }
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.request(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, token, Some(body)).await
    }

    /// Registers a customer or provider through the API.
    pub async fn register(&self, role: &str) -> TestUser {
        let n = USER_SEQ.fetch_add(1, Ordering::Relaxed);
        let email = format!("{role}{n}@example.test");
        let name = format!("{role} {n}");
        let (status, body) = self
            .post(
                "/api/auth/register",
                None,
                json!({ "email": email, "password": TEST_PASSWORD, "name": name, "role": role }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        TestUser {
            id: body["user"]["id"].as_i64().expect("user id"),
            token: body["token"].as_str().expect("token").to_owned(),
            name,
            email,
        }
    }

    /// Creates an LSM the way operators do (the CLI's path), then logs in.
    pub async fn create_lsm(&self) -> TestUser {
        use contract::validate::{Email, Name, Password};
        let n = USER_SEQ.fetch_add(1, Ordering::Relaxed);
        let email = format!("lsm{n}@example.test");
        let name = format!("LSM {n}");
        self.service
            .create_user(
                &Email::parse(&email).expect("email"),
                &Password::parse(TEST_PASSWORD).expect("password"),
                &Name::parse(&name).expect("name"),
                contract::model::Role::Lsm,
            )
            .await
            .expect("create lsm");
        self.login(&email).await
    }

    pub async fn login(&self, email: &str) -> TestUser {
        let (status, body) = self
            .post(
                "/api/auth/login",
                None,
                json!({ "email": email, "password": TEST_PASSWORD }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        TestUser {
            id: body["user"]["id"].as_i64().expect("id"),
            token: body["token"].as_str().expect("token").to_owned(),
            name: body["user"]["name"].as_str().expect("name").to_owned(),
            email: email.to_owned(),
        }
    }

    /// A customer books a job with a provider; returns the chat id.
    pub async fn book(&self, customer: &TestUser, provider: &TestUser) -> i64 {
        let (status, body) = self
            .post("/api/jobs", Some(&customer.token), json!({ "providerId": provider.id, "title": "Fix the sink", "description": "Dripping tap" }))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["chatId"].as_i64().expect("chat id")
    }

    /// An LSM's export of a dispute's transcript (`json`, `csv`, `html`).
    pub async fn transcript(&self, lsm: &TestUser, dispute: i64, format: &str) -> String {
        let res = self
            .client
            .get(format!(
                "{}/api/disputes/{dispute}/transcript?format={format}",
                self.addr
            ))
            .bearer_auth(&lsm.token)
            .send()
            .await
            .expect("transcript");
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.expect("body")
    }

    /// Stores a message through the service (the socket's path), and waits
    /// until it is broadcast and the others' bells are bumped.
    pub async fn say(&self, user: &TestUser, chat: i64, text: &str) -> contract::model::Message {
        let (actor, _) = self
            .service
            .authenticate(&user.token)
            .await
            .expect("valid token");
        let message = self
            .service
            .post_message(
                &actor,
                chat,
                server::service::Send::text(
                    contract::validate::MessageText::parse(text).expect("text"),
                    contract::validate::ClientId::parse(&uuid_like()).expect("client id"),
                ),
            )
            .await
            .expect("message stored");
        self.service.settle().await;
        message
    }
}

/// Another node of `app`'s cluster: the server binary in its own process,
/// on a free port, with the same database, secret and Redis. Killed with
/// SIGKILL when dropped (or by `kill`).
pub struct Node {
    pub addr: String,
    pub port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn_node(&self) -> Node {
        self.spawn_node_with(&[]).await
    }

    pub async fn spawn_node_with(&self, extra_env: &[(&str, &str)]) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        self.spawn_node_on(port, extra_env).await
    }

    /// A node on `port` (a restart of one that was stopped there).
    pub async fn spawn_node_on(&self, port: u16, extra_env: &[(&str, &str)]) -> Node {
        let c = &self.config;
        let dir = tempfile::tempdir().expect("temp dir");
        let database = match &c.database {
            DatabaseUrl::Sqlite(u) | DatabaseUrl::Postgres(u) => u.clone(),
        };
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database)
            .env("JOBCHAT_BIND", format!("127.0.0.1:{port}"))
            .env("JOBCHAT_DATA_DIR", dir.path())
            .env(
                "JWT_SECRET",
                String::from_utf8(c.jwt_secret.expose().to_vec()).expect("utf-8 secret"),
            )
            .env("JOBCHAT_REDIS_PREFIX", &c.redis_prefix)
            // Tests sign up and book from one address; login limits stay
            // at their defaults (a test counts them across nodes).
            .env("JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR", "100000")
            .env("JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR", "100000")
            .env("JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR", "100000")
            .env("JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS", "0")
            .env("JOBCHAT_READ_LIMIT_PER_USER_PER_MIN", "100000")
            // Every test's sockets come from 127.0.0.1, and reconnect a lot.
            .env("JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN", "100000")
            .env("JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN", "100000")
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "error".into()),
            );
        match &c.redis {
            Some(RedisTarget::Single(url)) => {
                cmd.env("REDIS_URL", url);
            }
            Some(RedisTarget::Cluster(seeds)) => {
                cmd.env("REDIS_CLUSTER_URLS", seeds.join(","));
            }
            None => {}
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("server binary starts");
        let node = Node {
            addr: format!("http://127.0.0.1:{port}"),
            port,
            child,
            _dir: dir,
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = self
                .client
                .get(format!("{}/healthz", node.addr))
                .send()
                .await
                && res.status().is_success()
            {
                return node;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "node on {port} did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Node {
    /// SIGKILL: no goodbye to anyone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM (a graceful restart), then waits up to `wait` for the exit;
    /// `None` when it is still running then (it is killed).
    pub async fn terminate(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill();
        None
    }

    pub async fn socket(&self, user: &TestUser) -> TestSocket {
        TestSocket::connected(&self.addr, SocketOpts::token(&user.token)).await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A customer and a provider, registered, with the chat of a booking
/// between them.
pub async fn pair(app: &TestApp) -> (TestUser, TestUser, i64) {
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat = app.book(&customer, &provider).await;
    (customer, provider, chat)
}

/// A 429's `Retry-After`, in seconds.
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds")
}

pub fn uuid_like() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

// ---- Socket.IO clients ------------------------------------------------------

use contract::error::AppError;
use contract::model::{ChatId, Message};
use contract::protocol::{
    ChatCreated, ChatRead, Connected, DisputeCaseChanged, DisputeResolved, JoinChat, JoinReply,
    JoinedChat, LsmInvited, ModerationChanged, NewMessage, NewNotification, PresenceChanged,
    ReadMarker, Request, Resync, SendMessage, ServerEvent, Typing, UserJoined, UserLeft,
    decode_ack,
};
use rust_socketio::asynchronous::{Client as SioClient, ClientBuilder as SioBuilder};
use rust_socketio::{Event as SioEvent, Payload, TransportType};
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;

/// Longest any single socket wait lasts, so no test can hang.
pub const SOCKET_WAIT: Duration = Duration::from_secs(10);

/// Pseudo-event names for what the client library reports itself.
pub const EV_OPEN: &str = "$open";
pub const EV_CLOSE: &str = "$close";
pub const EV_ERROR: &str = "$error";

/// Checks that an event the server pushed is one of `contract::protocol`'s and
/// decodes into its type: the wire contract, enforced on every test socket.
pub fn check_server_event(name: &str, payload: &Value) -> Result<(), String> {
    fn decodes<E: ServerEvent>(v: &Value) -> Result<(), String> {
        serde_json::from_value::<E>(v.clone())
            .map(|_| ())
            .map_err(|e| {
                format!(
                    "`{}` does not decode into {}: {e}; payload {v}",
                    E::NAME,
                    std::any::type_name::<E>()
                )
            })
    }
    macro_rules! by_name {
        ($($ty:ty),* $(,)?) => {
            $(if name == <$ty as ServerEvent>::NAME {
                return decodes::<$ty>(payload);
            })*
        };
    }
    by_name!(
        Connected,
        JoinedChat,
        UserJoined,
        UserLeft,
        NewMessage,
        ReadMarker,
        ChatRead,
        PresenceChanged,
        NewNotification,
        LsmInvited,
        DisputeResolved,
        ChatCreated,
        Typing,
        Resync,
        ModerationChanged,
        DisputeCaseChanged,
    );
    if [EV_OPEN, EV_CLOSE, EV_ERROR].contains(&name) {
        return Ok(());
    }
    Err(format!("unknown server event `{name}`: {payload}"))
}

fn decode<E: ServerEvent>(v: &Value) -> Option<E> {
    serde_json::from_value(v.clone()).ok()
}

/// The refusal in an error ack (panics on a success or a non-ack).
pub fn refusal(ack: &Value) -> AppError {
    match decode_ack::<serde::de::IgnoredAny>(ack.clone()) {
        Ok(Err(e)) => {
            assert!(!e.message.is_empty(), "error without message: {ack}");
            e
        }
        Ok(Ok(_)) => panic!("expected an error ack, got {ack}"),
        Err(e) => panic!("not an ack ({e}): {ack}"),
    }
}

/// How a test socket authenticates and which transport it uses.
#[derive(Clone, Default)]
pub struct SocketOpts {
    pub token: Option<String>,
    pub auth: Option<Value>,
    pub cookie: Option<String>,
    /// An `Origin` header on the handshake, as a browser page sends it.
    pub origin: Option<String>,
    pub polling: bool,
}

impl SocketOpts {
    pub fn token(token: &str) -> Self {
        Self {
            token: Some(token.to_owned()),
            ..Self::default()
        }
    }
}

/// A real Socket.IO client (rust_socketio) whose received events, acks aside,
/// are collected in arrival order; each is checked against `contract::protocol`
/// as it is taken from the wire (`check_server_event`). Acks run through
/// `ack`, one at a time per socket: rust_socketio 0.6 draws ack ids at
/// random from 0..999, so many outstanding acks on one client could collide.
pub struct TestSocket {
    pub client: SioClient,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
    pending: VecDeque<(String, Value)>,
}

fn first_value(payload: Payload) -> Value {
    match payload {
        Payload::Text(mut values) if values.len() == 1 => values.remove(0),
        Payload::Text(values) => Value::Array(values),
        Payload::Binary(bytes) => Value::String(format!("<{} binary bytes>", bytes.len())),
        #[allow(deprecated)]
        Payload::String(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
    }
}

impl TestSocket {
    /// Opens a socket; does not wait for the server's answer (see `connected`).
    pub async fn open(addr: &str, opts: SocketOpts) -> Result<Self, String> {
        let (tx, rx) = mpsc::unbounded_channel::<(String, Value)>();
        let mut builder = SioBuilder::new(addr.to_owned())
            .reconnect(false)
            .reconnect_on_disconnect(false)
            .transport_type(if opts.polling {
                TransportType::Polling
            } else {
                TransportType::Websocket
            });
        if let Some(auth) = opts.auth {
            builder = builder.auth(auth);
        } else if let Some(token) = opts.token {
            builder = builder.auth(json!({ "token": token }));
        }
        if let Some(cookie) = opts.cookie {
            builder = builder.opening_header("Cookie", cookie);
        }
        if let Some(origin) = opts.origin {
            builder = builder.opening_header("Origin", origin);
        }
        for (event, name) in [
            (SioEvent::Connect, EV_OPEN),
            (SioEvent::Close, EV_CLOSE),
            (SioEvent::Error, EV_ERROR),
        ] {
            let tx = tx.clone();
            builder = builder.on(event, move |payload, _| {
                let _ = tx.send((name.to_owned(), first_value(payload)));
                Box::pin(async {})
            });
        }
        let any_tx = tx.clone();
        builder = builder.on_any(move |event, payload, _| {
            let _ = any_tx.send((event.to_string(), first_value(payload)));
            Box::pin(async {})
        });
        let client = tokio::time::timeout(SOCKET_WAIT, builder.connect())
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| e.to_string())?;
        Ok(Self {
            client,
            rx,
            pending: VecDeque::new(),
        })
    }

    /// Opens a socket and waits for the server's verdict: `Ok(userId)` from
    /// `connected`, or `Err(error text)` from a refused handshake or a
    /// transport failure.
    pub async fn connect(addr: &str, opts: SocketOpts) -> Result<Self, String> {
        let mut sock = Self::open(addr, opts).await?;
        let got = sock
            .next_of(&[Connected::NAME, EV_ERROR, EV_CLOSE], SOCKET_WAIT)
            .await;
        match got {
            Some((name, v)) if name == Connected::NAME => {
                // Put it back for tests that look at it.
                sock.pending.push_front((name, v));
                Ok(sock)
            }
            Some((name, v)) => {
                let _ = sock.client.disconnect().await;
                Err(format!("{name}: {v}"))
            }
            None => {
                let _ = sock.client.disconnect().await;
                Err("no answer to the handshake".into())
            }
        }
    }

    /// The next event off the wire, checked against the protocol.
    async fn recv(&mut self, until: tokio::time::Instant) -> Option<(String, Value)> {
        let (name, value) = tokio::time::timeout_at(until, self.rx.recv())
            .await
            .ok()
            .flatten()?;
        if let Err(e) = check_server_event(&name, &value) {
            panic!("the server broke the wire contract: {e}");
        }
        Some((name, value))
    }

    /// The first (not yet taken) event named one of `names`, waiting up to
    /// `wait`; other events stay queued for later calls.
    pub async fn next_of(&mut self, names: &[&str], wait: Duration) -> Option<(String, Value)> {
        if let Some(i) = self
            .pending
            .iter()
            .position(|(n, _)| names.contains(&n.as_str()))
        {
            return self.pending.remove(i);
        }
        let until = tokio::time::Instant::now() + wait;
        while let Some((name, value)) = self.recv(until).await {
            if names.contains(&name.as_str()) {
                return Some((name, value));
            }
            self.pending.push_back((name, value));
        }
        None
    }

    /// The next `E` matching `pred`, or a panic after `SOCKET_WAIT`.
    pub async fn expect_event_where<E: ServerEvent>(&mut self, pred: impl Fn(&E) -> bool) -> E {
        self.expect_event_within(SOCKET_WAIT, pred).await
    }

    /// As `expect_event_where`, waiting up to `wait`.
    pub async fn expect_event_within<E: ServerEvent>(
        &mut self,
        wait: Duration,
        pred: impl Fn(&E) -> bool,
    ) -> E {
        let hit = |n: &str, v: &Value| {
            if n != E::NAME {
                return None;
            }
            decode::<E>(v).filter(|e| pred(e))
        };
        if let Some((i, e)) = self
            .pending
            .iter()
            .enumerate()
            .find_map(|(i, (n, v))| hit(n, v).map(|e| (i, e)))
        {
            self.pending.remove(i);
            return e;
        }
        let until = tokio::time::Instant::now() + wait;
        while let Some((n, v)) = self.recv(until).await {
            if let Some(e) = hit(&n, &v) {
                return e;
            }
            self.pending.push_back((n, v));
        }
        panic!(
            "no `{}` event matching within {wait:?}; queued: {:?}",
            E::NAME,
            self.pending
        );
    }

    /// The next `E`, or a panic after `SOCKET_WAIT`.
    pub async fn expect_event<E: ServerEvent>(&mut self) -> E {
        self.expect_event_where(|_: &E| true).await
    }

    /// Waits `settle` for stragglers, then takes every queued `E`.
    pub async fn take_events<E: ServerEvent>(&mut self, settle: Duration) -> Vec<E> {
        self.take(E::NAME, settle)
            .await
            .iter()
            .map(|v| decode::<E>(v).expect("checked on arrival"))
            .collect()
    }

    /// Every `new_message` for `chat` that arrives within `settle` (and
    /// those already queued), in arrival order.
    pub async fn heard(&mut self, chat: ChatId, settle: Duration) -> Vec<Message> {
        self.take_events::<NewMessage>(settle)
            .await
            .into_iter()
            .map(|n| n.0)
            .filter(|m| m.chat_id == chat)
            .collect()
    }

    /// Everything received so far (queued and arriving within `settle`),
    /// taken out of the queue.
    pub async fn drain(&mut self, settle: Duration) -> Vec<(String, Value)> {
        let until = tokio::time::Instant::now() + settle;
        while let Some(ev) = self.recv(until).await {
            self.pending.push_back(ev);
        }
        self.pending.drain(..).collect()
    }

    /// Takes the queued events named `name` (after waiting `settle` for stragglers).
    pub async fn take(&mut self, name: &str, settle: Duration) -> Vec<Value> {
        let until = tokio::time::Instant::now() + settle;
        while let Some(ev) = self.recv(until).await {
            self.pending.push_back(ev);
        }
        let (hit, rest): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|(n, _)| n == name);
        self.pending = rest.into();
        hit.into_iter().map(|(_, v)| v).collect()
    }

    /// Emits `event` with a raw `payload` and waits for the ack; `None` when
    /// none came within `wait`.
    pub async fn try_ack(
        &self,
        event: &str,
        payload: impl Into<Payload>,
        wait: Duration,
    ) -> Option<Value> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
        // A closed socket cannot send: that is "no ack" too.
        self.client
            .emit_with_ack(event, payload, wait, move |p, _| {
                let _ = tx.send(first_value(p));
                Box::pin(async {})
            })
            .await
            .ok()?;
        let v = tokio::time::timeout(wait, rx.recv()).await.ok().flatten()?;
        // The ack's arguments arrive as one array; the gateway sends one.
        Some(match v {
            Value::Array(mut a) if a.len() == 1 => a.remove(0),
            v => v,
        })
    }

    /// Emits a raw payload with an ack and returns the ack, or panics after
    /// `SOCKET_WAIT` (for payloads the protocol types cannot express).
    pub async fn ack(&self, event: &str, payload: impl Into<Payload>) -> Value {
        self.try_ack(event, payload, SOCKET_WAIT)
            .await
            .unwrap_or_else(|| panic!("no ack for `{event}` within {SOCKET_WAIT:?}"))
    }

    /// Sends a typed request and decodes its ack: the reply, or the
    /// server's refusal; `None` when no ack came within `wait`. Panics when
    /// the ack is not one of `R`'s.
    pub async fn try_request<R: Request>(
        &self,
        req: &R,
        wait: Duration,
    ) -> Option<Result<R::Reply, AppError>> {
        let payload = serde_json::to_value(req).expect("request serialises");
        let ack = self.try_ack(R::NAME, payload, wait).await?;
        Some(
            decode_ack::<R::Reply>(ack.clone())
                .unwrap_or_else(|e| panic!("`{}` ack does not decode ({e}): {ack}", R::NAME)),
        )
    }

    /// A client connected to `addr` with `opts`, past `connected`; panics if
    /// the handshake is refused.
    pub async fn connected(addr: &str, opts: SocketOpts) -> Self {
        let mut s = Self::connect(addr, opts).await.expect("socket connects");
        s.expect_event::<Connected>().await;
        s
    }

    /// `try_request` that must be answered within `SOCKET_WAIT`.
    pub async fn request<R: Request>(&self, req: &R) -> Result<R::Reply, AppError> {
        self.try_request(req, SOCKET_WAIT)
            .await
            .unwrap_or_else(|| panic!("no ack for `{}` within {SOCKET_WAIT:?}", R::NAME))
    }

    /// `join_chat` that must succeed; returns the ack's reply.
    pub async fn join(&mut self, chat: ChatId) -> JoinReply {
        let reply = self
            .request(&JoinChat {
                chat_id: chat,
                after_seq: None,
                after_message_id: None,
            })
            .await
            .unwrap_or_else(|e| panic!("join_chat {chat}: {e:?}"));
        self.expect_event_where(|j: &JoinedChat| j.chat_id == chat)
            .await;
        reply
    }

    /// `send_message` that must succeed; returns the stored message.
    pub async fn send(&self, chat: ChatId, content: &str) -> Message {
        self.request(&SendMessage {
            chat_id: chat,
            content: content.to_owned(),
            client_id: uuid_like(),
            attachments: Vec::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("send_message: {e:?}"))
        .message
    }

    pub async fn close(&self) {
        let _ = self.client.disconnect().await;
    }
}

impl TestApp {
    /// A WebSocket client authenticated with `user`'s token, past `connected`.
    pub async fn socket(&self, user: &TestUser) -> TestSocket {
        self.socket_with(SocketOpts::token(&user.token)).await
    }

    /// A client connected with `opts`; panics if the handshake is refused.
    pub async fn socket_with(&self, opts: SocketOpts) -> TestSocket {
        TestSocket::connected(&self.addr, opts).await
    }

    /// A token for `user` signed with the server's secret (or `secret`),
    /// expiring `exp_offset` seconds from now.
    pub fn forge_token(
        &self,
        user: &TestUser,
        role: contract::model::Role,
        exp_offset: i64,
        secret: Option<&[u8]>,
    ) -> String {
        use server::auth::{AUDIENCE, Claims, ISSUER, Keys};
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user.id.to_string(),
            role,
            name: user.name.clone(),
            ver: 0,
            sid: uuid::Uuid::new_v4().simple().to_string(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + exp_offset,
        };
        let keys = match secret {
            Some(s) => Keys::new(
                &server::config::JwtSecret::new(s.to_vec()).expect("secret"),
                Duration::from_secs(60),
            ),
            None => Keys::new(&self.config.jwt_secret, Duration::from_secs(60)),
        };
        keys.sign_claims(&claims).expect("sign")
    }
}
