//! All configuration, read from the environment in one place.
//!
//! | variable        | default                    | meaning                                             |
//! |-----------------|----------------------------|-----------------------------------------------------|
//! | `JOBCHAT_ENV`   | `development`              | `production` disables demo data and dev secrets; session cookie `__Host-jobchat_session` (else `jobchat_session`) |
//! | `JOBCHAT_DEMO_DATA` | unset                  | `1`: seed the demo accounts into an empty database (development only; `scripts/dev` sets it) |
//! | `JOBCHAT_FAULT_DROP_EVERY` | unset           | fault injection for tests, development only: drop the `new_message` broadcast of every message whose seq is a multiple of N |
//! | `JOBCHAT_BIND`  | `127.0.0.1:3000`           | address the HTTP + Socket.IO server listens on      |
//! | `DATABASE_URL`  | `sqlite://data/jobchat.db` | `sqlite://…` or `postgres://…`                      |
//! | `DATABASE_READ_URL` | unset                  | a PostgreSQL streaming replica for history pages, search, the chat list and transcript exports (a read goes there only once the replica has replayed everything the primary had committed when the read began; else to the primary) |
//! | `REDIS_URL`     | unset                      | Redis shared by several nodes (adapter, presence)   |
//! | `REDIS_CLUSTER_URLS` | unset                 | instead of `REDIS_URL`: a Redis Cluster, some of its nodes as `redis://host:port`, comma-separated (the rest are discovered) |
//! | `JOBCHAT_REDIS_PREFIX` | `jobchat`           | prefix of this deployment's Redis keys and channels |
//! | `JWT_SECRET`    | generated in development   | HS256 key, ≥ 32 bytes, required in production       |
//! | `JWT_TTL_SECS`  | `43200` (12 h)             | lifetime of issued tokens                           |
//! | `JOBCHAT_METRICS_TOKEN` | unset (off)      | bearer token for `GET /metrics` (Prometheus); at least 16 characters |
//! | `JOBCHAT_ALLOWED_ORIGINS` | unset          | other origins (`https://host[:port]`, comma-separated) whose pages may send cookie-authenticated requests; the server's own origin always may |
//! | `JOBCHAT_SEND_LIMIT_PER_SEC` | `20`          | messages a second per socket (bursts of twice that); benchmarks lift it |
//! | `JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN` / `…_PER_IP_PER_MIN` | `60` / `600` | socket handshakes per user / per address a minute, per node |
//! | `JOBCHAT_DATA_DIR` | `data`                  | where the dev secret (and default SQLite file) live |
//! | `JOBCHAT_FILE_STORE` | `<data dir>/files`     | attachments: a directory, or `s3://bucket[/prefix]` (with `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`) |
//! | `JOBCHAT_FILE_MAX_BYTES` / `JOBCHAT_FILES_PER_MESSAGE` / `JOBCHAT_FILE_BYTES_PER_CHAT_PER_DAY` / `JOBCHAT_IMAGE_MAX_PIXELS` | 10 MiB / 10 / 200 MiB / 40,000,000 | attachment limits |
//! | `JOBCHAT_SMTP_URL` | unset (no email)        | SMTP server for email to people who are away: `smtp://host:25`, `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (TLS) |
//! | `JOBCHAT_MAIL_FROM` / `JOBCHAT_PUBLIC_URL` | `jobchat <no-reply@localhost>` / `http://127.0.0.1:3000` | the emails' sender, and where their links point |
//! | `JOBCHAT_EMAIL_AWAY_MINUTES` / `JOBCHAT_EMAIL_EVERY_MINUTES` | `10` / `30` | no tab open for this long before unread messages are emailed; at most one email per chat and person in this long |
//! | `LEPTOS_SITE_ROOT` | `target/site`           | the built site (WASM, CSS, assets)                  |
//! | `RUST_LOG`      | `info,server=debug`        | log filter                                          |

mod email;
mod files;
mod limits;
mod masking;
mod redis;
mod values;

pub use email::{EmailConfig, SmtpUrl};
pub use files::{FileLimits, FileStore, FilesConfig, S3Store};

pub use limits::RateLimits;
pub use masking::{MaskingConfig, MaskingPolicy};
pub use redis::RedisTarget;
use values::allowed_origins;
pub use values::{DatabaseUrl, JwtSecret, WebOrigin, redact_url};

use rand::RngCore;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("{0} is required when JOBCHAT_ENV=production")]
    Missing(&'static str),
    #[error("cannot use {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: Environment,
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    /// A PostgreSQL replica the heavy reads may go to.
    pub database_read: Option<DatabaseUrl>,
    /// Redis shared by several nodes; `None`: this node runs alone.
    pub redis: Option<RedisTarget>,
    pub redis_prefix: String,
    /// Seed the demo accounts into an empty database (development only).
    pub demo_data: bool,
    /// Test-only fault: drop the `new_message` broadcast of every message whose seq is a multiple of N, so clients
    /// must close the gap by seq. Ignored in production.
    pub fault_drop_every: Option<u64>,
    /// Messages a second one socket may send (bursts of twice that).
    pub send_limit_per_sec: u32,
    /// Everything else a client is limited in (see `RateLimits`).
    pub limits: RateLimits,
    /// `JOBCHAT_CLIENT_IP_HEADER`: the header a trusted reverse proxy puts
    /// the client's address in (e.g. `x-real-ip`); unset, the peer address.
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// Bearer token that opens `GET /metrics`; `None` keeps it off.
    pub metrics_token: Option<String>,
    /// Origins besides the server's own whose pages may make
    /// cookie-authenticated state-changing requests and socket handshakes.
    pub allowed_origins: Vec<WebOrigin>,
    pub jwt_secret: JwtSecret,
    pub jwt_ttl: Duration,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    /// Where attachments are kept, and their limits.
    pub files: FilesConfig,
    /// `JOBCHAT_CHAT_RETENTION_DAYS` (unset or 0: chats are kept): a chat
    /// with nothing written for longer, and no dispute open, is deleted
    /// with its messages and files (README "Retention").
    pub chat_retention_days: Option<u32>,
    /// `JOBCHAT_CONTACT_MASKING`, `JOBCHAT_PHONE_REGION`.
    pub masking: MaskingConfig,
    /// Email to people who are away (`JOBCHAT_SMTP_URL` and the rest).
    pub email: EmailConfig,
    /// `JOBCHAT_CURRENCY`: the ISO 4217 code refunds are settled in
    /// (default `EUR`).
    pub currency: String,
}

/// `DATABASE_READ_URL`: a PostgreSQL replica, beside a PostgreSQL primary.
fn read_replica(
    primary: &DatabaseUrl,
    read: Option<String>,
) -> Result<Option<DatabaseUrl>, ConfigError> {
    let Some(read) = read else { return Ok(None) };
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "DATABASE_READ_URL",
        reason: reason.to_owned(),
    };
    match (primary, DatabaseUrl::parse(read.trim())) {
        (DatabaseUrl::Postgres(_), Ok(url @ DatabaseUrl::Postgres(_))) => Ok(Some(url)),
        (DatabaseUrl::Sqlite(_), _) => Err(invalid(
            "a read replica needs DATABASE_URL on PostgreSQL (SQLite has none)",
        )),
        _ => Err(invalid(
            "expected postgres://… (a streaming replica of DATABASE_URL)",
        )),
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A positive whole number from the environment, if set.
pub(super) fn positive(name: &'static str) -> Result<Option<u64>, ConfigError> {
    var(name)
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not a positive whole number"),
                })
        })
        .transpose()
}

/// A currency code: three capital letters (ISO 4217), `EUR` when unset.
fn currency(raw: Option<String>) -> Result<String, ConfigError> {
    let code = raw.map_or_else(|| "EUR".to_owned(), |c| c.trim().to_owned());
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(ConfigError::Invalid {
            name: "JOBCHAT_CURRENCY",
            reason: format!("{code:?} is not a three-letter currency code such as EUR"),
        })
    }
}

/// A whole number (0 or more) from the environment, if set.
pub(super) fn non_negative(name: &'static str) -> Result<Option<u64>, ConfigError> {
    var(name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a whole number"),
            })
        })
        .transpose()
}

impl Config {
    /// Reads the process environment. Every problem is one clear error.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = match var("JOBCHAT_ENV").as_deref() {
            None | Some("development") | Some("dev") => Environment::Development,
            Some("production") | Some("prod") => Environment::Production,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "JOBCHAT_ENV",
                    reason: format!("{other:?} (use development or production)"),
                });
            }
        };
        let bind = var("JOBCHAT_BIND")
            .unwrap_or_else(|| "127.0.0.1:3000".into())
            .parse()
            .map_err(|e| ConfigError::Invalid {
                name: "JOBCHAT_BIND",
                reason: format!("{e} (expected host:port)"),
            })?;
        let data_dir = PathBuf::from(var("JOBCHAT_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database = DatabaseUrl::parse(
            &var("DATABASE_URL")
                .unwrap_or_else(|| format!("sqlite://{}/jobchat.db", data_dir.display())),
        )?;
        let database_read = read_replica(&database, var("DATABASE_READ_URL"))?;
        let jwt_ttl = Duration::from_secs(positive("JWT_TTL_SECS")?.unwrap_or(12 * 3600));
        let jwt_secret = match (var("JWT_SECRET"), env) {
            (Some(s), _) => JwtSecret::new(s.into_bytes())?,
            (None, Environment::Production) => return Err(ConfigError::Missing("JWT_SECRET")),
            (None, Environment::Development) => dev_secret(&data_dir)?,
        };
        Ok(Self {
            env,
            bind,
            database,
            database_read,
            redis: RedisTarget::from_vars(var("REDIS_URL"), var("REDIS_CLUSTER_URLS"))?,
            redis_prefix: var("JOBCHAT_REDIS_PREFIX").unwrap_or_else(|| "jobchat".to_owned()),
            demo_data: env == Environment::Development
                && matches!(var("JOBCHAT_DEMO_DATA").as_deref(), Some("1" | "true")),
            fault_drop_every: match env {
                Environment::Development => positive("JOBCHAT_FAULT_DROP_EVERY")?,
                Environment::Production => None,
            },
            send_limit_per_sec: positive("JOBCHAT_SEND_LIMIT_PER_SEC")?
                .map_or(20, |n| n.min(u64::from(u32::MAX)) as u32),
            limits: RateLimits::from_env()?,
            client_ip_header: var("JOBCHAT_CLIENT_IP_HEADER")
                .map(|h| {
                    axum::http::HeaderName::from_bytes(h.trim().as_bytes()).map_err(|_| {
                        ConfigError::Invalid {
                            name: "JOBCHAT_CLIENT_IP_HEADER",
                            reason: format!("{h:?} is not a header name"),
                        }
                    })
                })
                .transpose()?,
            metrics_token: match var("JOBCHAT_METRICS_TOKEN") {
                Some(t) if t.len() < 16 => {
                    return Err(ConfigError::Invalid {
                        name: "JOBCHAT_METRICS_TOKEN",
                        reason: "must be at least 16 characters".into(),
                    });
                }
                t => t,
            },
            allowed_origins: allowed_origins(var("JOBCHAT_ALLOWED_ORIGINS"))?,
            files: FilesConfig::from_env(&data_dir)?,
            chat_retention_days: non_negative("JOBCHAT_CHAT_RETENTION_DAYS")?
                .filter(|d| *d > 0)
                .map(|d| d.min(100 * 366) as u32),
            masking: MaskingConfig::from_env()?,
            email: EmailConfig::from_env()?,
            currency: currency(var("JOBCHAT_CURRENCY"))?,
            jwt_secret,
            jwt_ttl,
            data_dir,
            site_root: PathBuf::from(
                var("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
        })
    }

    /// A configuration for tests: random port, the given database, a fixed secret.
    pub fn for_tests(database: DatabaseUrl, data_dir: PathBuf) -> Self {
        Self {
            env: Environment::Development,
            bind: "127.0.0.1:0".parse().expect("literal address"),
            database,
            database_read: None,
            redis: None,
            redis_prefix: "jobchat".to_owned(),
            demo_data: false,
            fault_drop_every: None,
            send_limit_per_sec: 20,
            limits: RateLimits::generous(),
            client_ip_header: None,
            metrics_token: None,
            allowed_origins: Vec::new(),
            jwt_secret: JwtSecret(b"test-secret-test-secret-test-secret!!".to_vec()),
            jwt_ttl: Duration::from_secs(3600),
            // Each test server its own directory of files, so a test can
            // count what is left behind.
            files: FilesConfig::for_tests(
                &data_dir.join(format!("jobchat-files-{:016x}", rand::random::<u64>())),
            ),
            chat_retention_days: None,
            masking: MaskingConfig::default(),
            email: EmailConfig::default(),
            currency: "EUR".to_owned(),
            data_dir,
            site_root: PathBuf::from("target/site"),
        }
    }
}

/// In development a random secret is made once and kept under the data dir so
/// restarting the server keeps everyone logged in.
/// The development secret kept in `data_dir`, if one was written.
fn stored_dev_secret(data_dir: &std::path::Path) -> Result<Option<JwtSecret>, ConfigError> {
    let path = data_dir.join("jwt-secret");
    let io = |source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() >= 32 => {
            // Written by an older version with the umask's permissions.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
            Ok(Some(JwtSecret(bytes)))
        }
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// The server's secret as a tool that only checks needs it (`server
/// transcript verify`): `JWT_SECRET`, else the development secret a server
/// already wrote in `JOBCHAT_DATA_DIR`. Never makes one: a secret made up
/// here would match nothing.
pub fn existing_secret() -> Result<Option<JwtSecret>, ConfigError> {
    if let Some(s) = var("JWT_SECRET") {
        return JwtSecret::new(s.into_bytes()).map(Some);
    }
    let data_dir = PathBuf::from(var("JOBCHAT_DATA_DIR").unwrap_or_else(|| "data".into()));
    stored_dev_secret(&data_dir)
}

fn dev_secret(data_dir: &std::path::Path) -> Result<JwtSecret, ConfigError> {
    if let Some(secret) = stored_dev_secret(data_dir)? {
        return Ok(secret);
    }
    let path = data_dir.join("jwt-secret");
    let io = |source| ConfigError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let mut bytes = vec![0u8; 48];
    rand::thread_rng().fill_bytes(&mut bytes);
    write_private(&path, &bytes).map_err(io)?;
    Ok(JwtSecret(bytes))
}

/// Writes a file only its owner can read (0600 from the start, whatever the
/// umask), for secrets.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only when the file is created: tighten an older one.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_replica_is_postgres_beside_postgres() {
        let pg = DatabaseUrl::Postgres("postgres://p/db".into());
        let lite = DatabaseUrl::Sqlite("sqlite://x.db".into());
        assert!(read_replica(&pg, None).expect("unset").is_none());
        assert!(matches!(
            read_replica(&pg, Some("postgres://r/db".into())),
            Ok(Some(DatabaseUrl::Postgres(_)))
        ));
        assert!(read_replica(&lite, Some("postgres://r/db".into())).is_err());
        assert!(read_replica(&pg, Some("sqlite://y.db".into())).is_err());
        assert!(read_replica(&pg, Some("mysql://r/db".into())).is_err());
    }

    #[test]
    fn database_url_scheme_selects_backend() {
        assert!(matches!(
            DatabaseUrl::parse("sqlite://x.db"),
            Ok(DatabaseUrl::Sqlite(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgres://h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(matches!(
            DatabaseUrl::parse("postgresql://h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        let err = DatabaseUrl::parse("mysql://h/db")
            .expect_err("mysql is refused")
            .to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
    }

    #[test]
    fn database_urls_are_logged_without_their_password() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db.internal:5432/jobchat"),
            "postgres://app:***@db.internal:5432/jobchat"
        );
        assert_eq!(
            redact_url("postgresql://app:p@ss:w0rd@db/x?sslmode=require&password=other"),
            "postgresql://app:***@db/x?sslmode=require&password=***"
        );
        assert_eq!(
            redact_url("postgres://app@db/x"),
            "postgres://app@db/x",
            "no password"
        );
        assert_eq!(redact_url("sqlite://data/a.db"), "sqlite://data/a.db");
        // A refused URL's error, and the Debug of an accepted one.
        let err = DatabaseUrl::parse("mysql://root:hunter22@db/x")
            .expect_err("refused")
            .to_string();
        assert!(!err.contains("hunter22"), "{err}");
        assert!(err.contains("mysql://root:***@db/x"), "{err}");
        let url = DatabaseUrl::parse("postgres://app:hunter22@db/x").expect("valid");
        assert!(!format!("{url:?}").contains("hunter22"));
        assert_eq!(url.redacted(), "postgres://app:***@db/x");
    }

    #[test]
    fn the_development_secret_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let first = dev_secret(dir.path()).expect("made");
        let path = dir.path().join("jwt-secret");
        let mode = |p: &std::path::Path| {
            std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
        };
        assert_eq!(mode(&path), 0o600);
        // Kept across restarts; an older world-readable file is tightened.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let again = dev_secret(dir.path()).expect("read back");
        assert_eq!(first.expose(), again.expose());
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn origins_are_canonical() {
        let o = |s: &str| WebOrigin::of_url(s).map(|o| o.to_string());
        assert_eq!(
            o("https://App.Example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            o("https://a.test:443/x?y").as_deref(),
            Some("https://a.test")
        );
        assert_eq!(
            o("http://127.0.0.1:3000/chat").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(o("null"), None);
        assert_eq!(o("ftp://a.test"), None);
        assert_eq!(o("/relative"), None);

        let list = allowed_origins(Some(" https://a.test, http://b.test:8080/ ,".into()))
            .expect("valid list");
        let names: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["https://a.test", "http://b.test:8080"]);
        for bad in ["a.test", "https://a.test/app", "https://a.test:443", "*"] {
            assert!(allowed_origins(Some(bad.into())).is_err(), "{bad}");
        }
        assert!(allowed_origins(None).expect("unset").is_empty());
    }

    #[test]
    fn short_secret_is_refused() {
        assert!(JwtSecret::new(b"short".to_vec()).is_err());
        assert!(JwtSecret::new(vec![7; 32]).is_ok());
    }
}
