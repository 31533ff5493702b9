//! Cross-site request forgery. A browser attaches the session cookie to
//! requests that another site's page starts (a form post, a WebSocket
//! opened from there); `SameSite=Lax` stops most of them, but not those
//! from a sibling subdomain, nor a browser that ignores it. Browsers say
//! which page a request comes from in `Origin` (else, sometimes, in
//! `Referer`), so a request that carries one must come from the server's
//! own origin or one of `JOBCHAT_ALLOWED_ORIGINS`.
//!
//! The server's own origin is the one the browser addressed: the `Host`
//! header (the URI's authority when there is none). Behind a proxy that
//! header must reach the node unchanged, port included (deploy/nginx.conf
//! passes `$http_host`). The scheme is not compared: the node cannot see it
//! behind a TLS-terminating proxy, and `SameSite` and HSTS cover a page on
//! `http://` of the same host.
//!
//! A request with neither header is not from a browser page of another
//! site (browsers send `Origin` on every cross-origin POST and WebSocket),
//! so it passes; one authenticated by `Authorization: Bearer` is not
//! CSRF-able (a page cannot make the browser add it) and is not checked.

use crate::config::WebOrigin;
use axum::http::{HeaderMap, Uri, header};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    allowed: Arc<[WebOrigin]>,
}

impl OriginPolicy {
    pub fn new(allowed: Vec<WebOrigin>) -> Self {
        Self {
            allowed: allowed.into(),
        }
    }

    /// Whether a request with these headers may act on the cookie's
    /// session: no `Origin`/`Referer` at all, or one naming this server or
    /// an allowed origin. `Origin: null` (sandboxed frames, some
    /// redirects) and anything unreadable are refused.
    pub fn allows(&self, headers: &HeaderMap, uri: &Uri) -> bool {
        let claimed = match headers.get(header::ORIGIN) {
            Some(origin) => origin,
            None => match headers.get(header::REFERER) {
                Some(referer) => referer,
                None => return true,
            },
        };
        let Some(source) = claimed.to_str().ok().and_then(WebOrigin::of_url) else {
            return false;
        };
        is_own(&source, headers, uri) || self.allowed.contains(&source)
    }

    /// The page origin a request claims, for logs.
    pub fn claimed(headers: &HeaderMap) -> &str {
        headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    }
}

/// Whether `source` names the server the request was sent to.
fn is_own(source: &WebOrigin, headers: &HeaderMap, uri: &Uri) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let host = host.trim().to_ascii_lowercase();
    let default = format!(":{}", source.default_port());
    let host = host.strip_suffix(&default).unwrap_or(&host);
    host == source.authority()
}

/// Whether the request authenticates with `Authorization: Bearer` (then a
/// cookie that came along is never read, see `SessionCookie`).
pub fn has_bearer(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(header::HeaderName, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(k.clone(), HeaderValue::from_static(v));
        }
        h
    }

    fn policy() -> OriginPolicy {
        OriginPolicy::new(vec![
            WebOrigin::of_url("https://app.example.com").expect("origin"),
        ])
    }

    #[test]
    fn own_origin_by_host() {
        let uri = Uri::from_static("/api/jobs");
        let p = policy();
        let own = headers(&[
            (header::HOST, "chat.test:8080"),
            (header::ORIGIN, "http://chat.test:8080"),
        ]);
        assert!(p.allows(&own, &uri));
        let default_port = headers(&[
            (header::HOST, "chat.test:443"),
            (header::ORIGIN, "https://chat.test"),
        ]);
        assert!(p.allows(&default_port, &uri));
        let other_port = headers(&[
            (header::HOST, "chat.test:8080"),
            (header::ORIGIN, "http://chat.test:9090"),
        ]);
        assert!(!p.allows(&other_port, &uri));
        let foreign = headers(&[
            (header::HOST, "chat.test"),
            (header::ORIGIN, "https://evil.test"),
        ]);
        assert!(!p.allows(&foreign, &uri));
        let null = headers(&[(header::HOST, "chat.test"), (header::ORIGIN, "null")]);
        assert!(!p.allows(&null, &uri));
    }

    #[test]
    fn allowed_list_and_referer() {
        let uri = Uri::from_static("/api/jobs");
        let p = policy();
        let listed = headers(&[
            (header::HOST, "chat.test"),
            (header::ORIGIN, "https://app.example.com"),
        ]);
        assert!(p.allows(&listed, &uri));
        // The scheme of a listed origin counts.
        let plain = headers(&[
            (header::HOST, "chat.test"),
            (header::ORIGIN, "http://app.example.com"),
        ]);
        assert!(!p.allows(&plain, &uri));
        let referer = headers(&[
            (header::HOST, "chat.test"),
            (header::REFERER, "https://evil.test/page?x=1"),
        ]);
        assert!(!p.allows(&referer, &uri));
        let own_referer = headers(&[
            (header::HOST, "chat.test"),
            (header::REFERER, "http://chat.test/login"),
        ]);
        assert!(p.allows(&own_referer, &uri));
        // No browser evidence at all: not a cross-site page.
        assert!(p.allows(&headers(&[(header::HOST, "chat.test")]), &uri));
    }

    #[test]
    fn bearer_is_recognised() {
        assert!(has_bearer(&headers(&[(header::AUTHORIZATION, "Bearer x")])));
        assert!(!has_bearer(&headers(&[(header::AUTHORIZATION, "Basic x")])));
        assert!(!has_bearer(&HeaderMap::new()));
    }
}
