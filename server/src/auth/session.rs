//! The session as it travels over HTTP: a bearer token, or the browser's
//! HttpOnly cookie. REST, the Socket.IO handshake and server functions all
//! read and write it through [`SessionCookie`], so the three agree on the
//! cookie's name and attributes.

use axum::http::{HeaderMap, header};
use std::time::Duration;

/// The session cookie's name in development (plain http).
pub const DEV_SESSION_COOKIE: &str = "jobchat_session";
/// Its name in production. Browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/` and no `Domain`, so it can be neither set nor
/// overwritten by a sibling subdomain or over plain http.
pub const SECURE_SESSION_COOKIE: &str = "__Host-jobchat_session";

/// A cookie's value from the request's `Cookie` headers (`None` when empty).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// The session cookie: its name, how it is written (HttpOnly so page
/// scripts never hold the token, `SameSite=Lax`, as long-lived as the
/// token, `Secure` behind TLS) and how it is read back. In production
/// (`secure`) it is `__Host-jobchat_session`, else `jobchat_session`;
/// only the configured name is ever read.
#[derive(Clone, Copy, Debug)]
pub struct SessionCookie {
    max_age: Duration,
    secure: bool,
}

impl SessionCookie {
    pub fn new(max_age: Duration, secure: bool) -> Self {
        Self { max_age, secure }
    }

    pub fn name(&self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            DEV_SESSION_COOKIE
        }
    }

    /// The session cookie's value in the request, if any.
    pub fn read(&self, headers: &HeaderMap) -> Option<String> {
        cookie_value(headers, self.name())
    }

    /// The token from `Authorization: Bearer …`, else from the session
    /// cookie. A request with an `Authorization` header is judged by it
    /// alone, never by a cookie that came along.
    pub fn token_from_headers(&self, headers: &HeaderMap) -> Option<String> {
        if let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        {
            return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
        }
        self.read(headers)
    }

    /// The `Set-Cookie` value storing `token` as the session.
    pub fn issue(&self, token: &str) -> String {
        self.build(token, self.max_age.as_secs())
    }

    /// The `Set-Cookie` value removing the session.
    pub fn clear(&self) -> String {
        self.build("", 0)
    }

    fn build(&self, value: &str, max_age: u64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}",
            self.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn dev() -> SessionCookie {
        SessionCookie::new(Duration::from_secs(60), false)
    }

    fn prod() -> SessionCookie {
        SessionCookie::new(Duration::from_secs(60), true)
    }

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; jobchat_session=c"),
        );
        assert_eq!(dev().token_from_headers(&h).as_deref(), Some("c"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        assert_eq!(dev().token_from_headers(&h).as_deref(), Some("t"));
        let empty = {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_static("jobchat_session="));
            h
        };
        assert_eq!(dev().token_from_headers(&empty), None);
    }

    #[test]
    fn only_the_configured_name_is_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("jobchat_session=plain"),
        );
        assert_eq!(prod().token_from_headers(&h), None);
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("__Host-jobchat_session=host"),
        );
        assert_eq!(prod().token_from_headers(&h).as_deref(), Some("host"));
        assert_eq!(dev().token_from_headers(&h), None);
    }

    #[test]
    fn cookie_attributes() {
        assert_eq!(
            dev().issue("tok"),
            "jobchat_session=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert_eq!(
            prod().issue("tok"),
            "__Host-jobchat_session=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        assert_eq!(
            prod().clear(),
            "__Host-jobchat_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure"
        );
    }
}
