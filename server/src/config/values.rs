//! Settings that are more than a number: the database URL (with its
//! password kept out of logs), the JWT secret, web origins.

use super::ConfigError;

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
pub struct JwtSecret(pub(super) Vec<u8>);

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
pub(super) fn allowed_origins(raw: Option<String>) -> Result<Vec<WebOrigin>, ConfigError> {
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
