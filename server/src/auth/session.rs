//! The session as it travels over HTTP: a bearer token, or the browser's
//! HttpOnly cookie. REST, the Socket.IO handshake and server functions all
//! read and write it through here, so the three agree on the cookie.

use axum::http::{HeaderMap, header};
use std::time::Duration;

/// The cookie that carries the session token in browsers.
pub const SESSION_COOKIE: &str = "jobchat_session";

/// The token from `Authorization: Bearer …`, else from the session cookie.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    cookie_value(headers, SESSION_COOKIE)
}

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

/// How the session cookie is written: HttpOnly so page scripts never hold
/// the token, `SameSite=Lax`, as long-lived as the token, `Secure` behind TLS.
#[derive(Clone, Copy, Debug)]
pub struct SessionCookie {
    max_age: Duration,
    secure: bool,
}

impl SessionCookie {
    pub fn new(max_age: Duration, secure: bool) -> Self {
        Self { max_age, secure }
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
            "{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; jobchat_session=c"),
        );
        assert_eq!(token_from_headers(&h).as_deref(), Some("c"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        assert_eq!(token_from_headers(&h).as_deref(), Some("t"));
        let empty = {
            let mut h = HeaderMap::new();
            h.insert(header::COOKIE, HeaderValue::from_static("jobchat_session="));
            h
        };
        assert_eq!(token_from_headers(&empty), None);
    }

    #[test]
    fn cookie_attributes() {
        let c = SessionCookie::new(Duration::from_secs(60), false);
        assert_eq!(
            c.issue("tok"),
            "jobchat_session=tok; HttpOnly; SameSite=Lax; Path=/; Max-Age=60"
        );
        assert_eq!(
            SessionCookie::new(Duration::from_secs(60), true).clear(),
            "jobchat_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure"
        );
    }
}
