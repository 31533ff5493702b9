//! All configuration, read from the environment in one place.
//!
//! | variable        | default                    | meaning                                             |
//! |-----------------|----------------------------|-----------------------------------------------------|
//! | `JOBCHAT_ENV`   | `development`              | `production` disables demo data and dev secrets; session cookie `__Host-jobchat_session` (else `jobchat_session`) |
//! | `JOBCHAT_DEMO_DATA` | unset                  | `1`: seed the demo accounts into an empty database (development only; `scripts/dev` sets it) |
//! | `JOBCHAT_FAULT_DROP_EVERY` | unset           | fault injection for tests, development only: drop the `new_message` broadcast of every message whose seq is a multiple of N |
//! | `JOBCHAT_BIND`  | `127.0.0.1:3000`           | address the HTTP + Socket.IO server listens on      |
//! | `DATABASE_URL`  | `sqlite://data/jobchat.db` | `sqlite://…` or `postgres://…`                      |
//! | `REDIS_URL`     | unset                      | Redis shared by several nodes (adapter, presence)   |
//! | `JOBCHAT_REDIS_PREFIX` | `jobchat`           | prefix of this deployment's Redis keys and channels |
//! | `JWT_SECRET`    | generated in development   | HS256 key, ≥ 32 bytes, required in production       |
//! | `JWT_TTL_SECS`  | `43200` (12 h)             | lifetime of issued tokens                           |
//! | `JOBCHAT_METRICS_TOKEN` | unset (off)      | bearer token for `GET /metrics` (Prometheus); at least 16 characters |
//! | `JOBCHAT_ALLOWED_ORIGINS` | unset          | other origins (`https://host[:port]`, comma-separated) whose pages may send cookie-authenticated requests; the server's own origin always may |
//! | `JOBCHAT_SEND_LIMIT_PER_SEC` | `20`          | messages a second per socket (bursts of twice that); benchmarks lift it |
//! | `JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN` / `…_PER_IP_PER_MIN` | `60` / `600` | socket handshakes per user / per address a minute, per node |
//! | `JOBCHAT_DATA_DIR` | `data`                  | where the dev secret (and default SQLite file) live |
//! | `LEPTOS_SITE_ROOT` | `target/site`           | the built site (WASM, CSS, assets)                  |
//! | `RUST_LOG`      | `info,server=debug`        | log filter                                          |

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

/// Which database backend, chosen from the URL scheme. Its `Debug` (and
/// [`DatabaseUrl::redacted`]) hide the password, so it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: format!(
                    "unsupported scheme in {:?}: use sqlite://path or postgres://…",
                    redact_url(url)
                ),
            })
        }
    }

    /// The URL with its password replaced, for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(url) | Self::Postgres(url) => redact_url(url),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Sqlite(_) => "Sqlite",
            Self::Postgres(_) => "Postgres",
        };
        f.debug_tuple(name).field(&self.redacted()).finish()
    }
}

/// `url` with any password replaced by `***`: the one in the userinfo
/// (`scheme://user:password@host`) and a `password=` query parameter
/// (libpq accepts both). Works on text that is not a valid URL too, since
/// a malformed URL is exactly what ends up in an error message.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(start) = out.find("://").map(|i| i + 3) {
        // The authority ends at the first `/`, `?` or `#`; its userinfo at
        // its last `@` (a password may itself contain `@`).
        let end = out[start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| start + i);
        if let Some(at) = out[start..end].rfind('@').map(|i| start + i)
            && let Some(colon) = out[start..at].find(':').map(|i| start + i)
        {
            out.replace_range(colon + 1..at, "***");
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

/// The HS256 signing key. Not `Debug`/`Serialize` so it never reaches a log.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        if bytes.len() < 32 {
            return Err(ConfigError::Invalid {
                name: "JWT_SECRET",
                reason: "must be at least 32 bytes".into(),
            });
        }
        Ok(Self(bytes))
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(..)")
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: Environment,
    pub bind: SocketAddr,
    pub database: DatabaseUrl,
    pub redis_url: Option<String>,
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
}

/// A web origin as browsers write it in `Origin`: `http(s)://host[:port]`,
/// lower-case, without the scheme's default port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebOrigin {
    scheme: String,
    /// `host[:port]`, the port only when it is not the scheme's default.
    authority: String,
}

impl WebOrigin {
    /// The origin of an absolute http(s) URL (an `Origin` header, or a
    /// `Referer`, whose path and query are dropped); `None` for anything
    /// else, `Origin: null` included.
    pub fn of_url(raw: &str) -> Option<Self> {
        let uri: axum::http::Uri = raw.trim().parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let host = uri.host()?.to_ascii_lowercase();
        let authority = match uri.port_u16() {
            Some(port) if port != default => format!("{host}:{port}"),
            _ => host,
        };
        Some(Self { scheme, authority })
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `host[:port]`, as a `Host` header names the same server.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The scheme's default port, which `Host` may or may not spell out.
    pub fn default_port(&self) -> u16 {
        if self.scheme == "https" { 443 } else { 80 }
    }
}

impl std::fmt::Display for WebOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// `JOBCHAT_ALLOWED_ORIGINS`: comma-separated origins, each written as its
/// canonical form (no path, no default port), so a typo cannot widen it.
fn allowed_origins(raw: Option<String>) -> Result<Vec<WebOrigin>, ConfigError> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            let origin = WebOrigin::of_url(item).filter(|o| {
                item.trim_end_matches('/')
                    .eq_ignore_ascii_case(&o.to_string())
            });
            origin.ok_or_else(|| ConfigError::Invalid {
                name: "JOBCHAT_ALLOWED_ORIGINS",
                reason: format!(
                    "{item:?} is not an origin (write scheme://host[:port], no path, no default port)"
                ),
            })
        })
        .collect()
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A positive whole number from the environment, if set.
fn positive(name: &'static str) -> Result<Option<u64>, ConfigError> {
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

/// A whole number (0 or more) from the environment, if set.
fn non_negative(name: &'static str) -> Result<Option<u64>, ConfigError> {
    var(name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                name,
                reason: format!("{v:?} is not a whole number"),
            })
        })
        .transpose()
}

/// Rate limits, each from its own environment variable (README lists them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// `JOBCHAT_LOGIN_LIMIT_PER_EMAIL_PER_MIN` (10)
    pub login_per_email_per_min: u32,
    /// `JOBCHAT_LOGIN_LIMIT_PER_IP_PER_MIN` (60)
    pub login_per_ip_per_min: u32,
    /// `JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR` (20)
    pub register_per_ip_per_hour: u32,
    /// `JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR` (30)
    pub book_per_user_per_hour: u32,
    /// `JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR` (120)
    pub book_per_ip_per_hour: u32,
    /// `JOBCHAT_EVENT_LIMIT_PER_SEC` (30, bursts of 30): join, leave,
    /// mark_read and unknown events per user per node. Ten tabs that
    /// reconnect at once rejoin three chats each.
    pub events_per_sec: u32,
    /// `JOBCHAT_MAX_SOCKETS_PER_USER` (32): open sockets per user per node.
    pub sockets_per_user: u32,
    /// `JOBCHAT_READ_LIMIT_PER_USER_PER_MIN` (120, bursts of 120): chat
    /// list and history pages per user per node, REST and server
    /// functions alike (a page is up to 200 messages).
    pub reads_per_user_per_min: u32,
    /// `JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS` (300; 0 = none): how long
    /// after a settlement the same chat's next dispute waits, so a party
    /// cannot page an LSM straight back in.
    pub dispute_reopen_cooldown_secs: u32,
    /// `JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN` (60): socket handshakes
    /// per user per node. Each costs a database read, a contacts query and
    /// presence events to every contact: a connect/close loop must not.
    pub handshakes_per_user_per_min: u32,
    /// `JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN` (600): socket handshakes per
    /// client address (an IPv6 /64) per node, counted before the token is
    /// even read.
    pub handshakes_per_ip_per_min: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            login_per_email_per_min: 10,
            login_per_ip_per_min: 60,
            register_per_ip_per_hour: 20,
            book_per_user_per_hour: 30,
            book_per_ip_per_hour: 120,
            events_per_sec: 30,
            sockets_per_user: 32,
            reads_per_user_per_min: 120,
            dispute_reopen_cooldown_secs: 300,
            // Ten tabs reconnecting after a restart, several times over.
            handshakes_per_user_per_min: 60,
            // An office behind one NAT address.
            handshakes_per_ip_per_min: 600,
        }
    }
}

impl RateLimits {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let get = |name: &'static str, default: u32| -> Result<u32, ConfigError> {
            Ok(positive(name)?.map_or(default, |n| n.min(u64::from(u32::MAX)) as u32))
        };
        Ok(Self {
            login_per_email_per_min: get(
                "JOBCHAT_LOGIN_LIMIT_PER_EMAIL_PER_MIN",
                d.login_per_email_per_min,
            )?,
            login_per_ip_per_min: get(
                "JOBCHAT_LOGIN_LIMIT_PER_IP_PER_MIN",
                d.login_per_ip_per_min,
            )?,
            register_per_ip_per_hour: get(
                "JOBCHAT_REGISTER_LIMIT_PER_IP_PER_HOUR",
                d.register_per_ip_per_hour,
            )?,
            book_per_user_per_hour: get(
                "JOBCHAT_BOOK_LIMIT_PER_USER_PER_HOUR",
                d.book_per_user_per_hour,
            )?,
            book_per_ip_per_hour: get(
                "JOBCHAT_BOOK_LIMIT_PER_IP_PER_HOUR",
                d.book_per_ip_per_hour,
            )?,
            events_per_sec: get("JOBCHAT_EVENT_LIMIT_PER_SEC", d.events_per_sec)?,
            sockets_per_user: get("JOBCHAT_MAX_SOCKETS_PER_USER", d.sockets_per_user)?,
            reads_per_user_per_min: get(
                "JOBCHAT_READ_LIMIT_PER_USER_PER_MIN",
                d.reads_per_user_per_min,
            )?,
            dispute_reopen_cooldown_secs: non_negative("JOBCHAT_DISPUTE_REOPEN_COOLDOWN_SECS")?
                .map_or(d.dispute_reopen_cooldown_secs, |n| {
                    n.min(u64::from(u32::MAX)) as u32
                }),
            handshakes_per_user_per_min: get(
                "JOBCHAT_HANDSHAKE_LIMIT_PER_USER_PER_MIN",
                d.handshakes_per_user_per_min,
            )?,
            handshakes_per_ip_per_min: get(
                "JOBCHAT_HANDSHAKE_LIMIT_PER_IP_PER_MIN",
                d.handshakes_per_ip_per_min,
            )?,
        })
    }

    /// Nothing a test suite does from one address trips these; the tests
    /// of the limits themselves set low ones.
    pub fn generous() -> Self {
        Self {
            login_per_email_per_min: 1000,
            login_per_ip_per_min: 100_000,
            register_per_ip_per_hour: 100_000,
            book_per_user_per_hour: 100_000,
            book_per_ip_per_hour: 100_000,
            events_per_sec: 1000,
            sockets_per_user: 1000,
            reads_per_user_per_min: 100_000,
            dispute_reopen_cooldown_secs: 0,
            handshakes_per_user_per_min: 100_000,
            handshakes_per_ip_per_min: 100_000,
        }
    }
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
            redis_url: var("REDIS_URL"),
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
            redis_url: None,
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
            data_dir,
            site_root: PathBuf::from("target/site"),
        }
    }
}

/// In development a random secret is made once and kept under the data dir so
/// restarting the server keeps everyone logged in.
fn dev_secret(data_dir: &std::path::Path) -> Result<JwtSecret, ConfigError> {
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
            return Ok(JwtSecret(bytes));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
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
