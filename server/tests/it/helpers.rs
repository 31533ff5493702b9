//! Starting the real server on a random port against a real database.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use server::config::{Config, DatabaseUrl};
use server::service::Service;
use server::storage::Db;
use server::{Application, Tuning};
use std::sync::atomic::{AtomicU64, Ordering};

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
            login_per_email_per_minute: 1000,
            login_per_ip_per_minute: 1000,
        },
    )
    .await
}

pub async fn spawn_app_with(backend: Backend, tuning: Tuning) -> Option<TestApp> {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init("info,server=debug");
    }
    let db = test_db(backend).await?;
    let data_dir = std::env::temp_dir();
    let config = Config::for_tests(db.url.clone(), data_dir);
    let app = Application::build(config.clone(), tuning)
        .await
        .expect("server builds");
    let addr = format!("http://{}", app.local_addr());
    let service = app.service().clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    Some(TestApp {
        addr,
        client: reqwest::Client::builder().build().expect("http client"),
        service,
        config,
        shutdown: Some(tx),
        _db: db,
    })
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
        let mut req = self
            .client
            .request(method, format!("{}{}", self.addr, path));
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
                json!({ "email": email, "password": "password123", "name": name, "role": role }),
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
        use app::validate::{Email, Name, Password};
        let n = USER_SEQ.fetch_add(1, Ordering::Relaxed);
        let email = format!("lsm{n}@example.test");
        let name = format!("LSM {n}");
        self.service
            .create_user(
                &Email::parse(&email).expect("email"),
                &Password::parse("password123").expect("password"),
                &Name::parse(&name).expect("name"),
                app::model::Role::Lsm,
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
                json!({ "email": email, "password": "password123" }),
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

    /// Stores a message through the service (the socket's path).
    pub async fn say(&self, user: &TestUser, chat: i64, text: &str) -> app::model::Message {
        let (actor, _) = self.service.authenticate(&user.token).expect("valid token");
        self.service
            .post_message(
                &actor,
                chat,
                app::validate::MessageText::parse(text).expect("text"),
                app::validate::ClientId::parse(&uuid_like()).expect("client id"),
            )
            .await
            .expect("message stored")
    }
}

pub fn uuid_like() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}
