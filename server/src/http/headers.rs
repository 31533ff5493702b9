//! Security headers on every response (pages, REST, server functions,
//! assets, Socket.IO): `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: strict-origin-when-cross-origin`,
//! `X-Frame-Options: DENY`, `Strict-Transport-Security` in production
//! only (development is plain http), and a `Content-Security-Policy`.
//!
//! HTML pages get a policy with a fresh nonce per response: the one inline
//! script the shell writes (the hydration loader, `app::shell`), and the
//! scripts Leptos adds for resources, carry that nonce, read from the
//! request (`Nonce` in its extensions, provided to Leptos's context by the
//! application). Scripts otherwise come from this origin only, with
//! `'wasm-unsafe-eval'` for compiling the WASM and no `'unsafe-inline'`.
//! Styles come from the stylesheet only (`style-src 'self'`): nothing
//! renders a `style` attribute or element (server tests check the HTML), and
//! styles set from WASM go through the CSSOM, which CSP does not govern.
//! Other responses (JSON, assets) are no documents to run anything:
//! `default-src 'none'; frame-ancestors 'none'`.

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    middleware::Next,
    response::Response,
};
use leptos::nonce::Nonce;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of everything that is not an HTML page.
pub const NON_PAGE_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// What differs between deployments.
#[derive(Clone, Copy, Debug)]
pub struct HeaderPolicy {
    /// Behind TLS: send HSTS.
    pub production: bool,
    /// cargo-leptos's live-reload port while `cargo leptos watch` runs
    /// (its script opens a WebSocket there).
    pub live_reload_port: Option<u32>,
}

/// Wraps every route of `router` (put it outside the Socket.IO layer so
/// its responses get them too).
pub fn security_headers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    policy: HeaderPolicy,
) -> Router<S> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    let router = router
        .layer(axum::middleware::from_fn(
            move |req: Request, next: Next| content_security_policy(policy, req, next),
        ))
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(
            header::REFERRER_POLICY,
            "strict-origin-when-cross-origin",
        ))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"));
    if policy.production {
        // A year; subdomains are left to their own deployments.
        router.layer(fixed(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        router
    }
}

/// Gives the request its nonce, then writes the response's policy.
async fn content_security_policy(policy: HeaderPolicy, mut req: Request, next: Next) -> Response {
    let nonce = Nonce::new();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| plain_host(h))
        .map(str::to_owned);
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let value = if html {
        page_policy(&nonce, host.as_deref(), policy.live_reload_port)
    } else {
        NON_PAGE_POLICY.to_owned()
    };
    if let Ok(value) = HeaderValue::from_str(&value) {
        res.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    res
}

/// `host[:port]` made of the characters a host can have, nothing that
/// could end a CSP source list.
fn plain_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// The policy of an HTML page rendered with `nonce`. The socket connects to
/// this host (`'self'`, spelled out as `ws:`/`wss:` too for browsers whose
/// `'self'` does not cover WebSocket schemes yet).
pub fn page_policy(nonce: &str, host: Option<&str>, live_reload_port: Option<u32>) -> String {
    let mut connect = String::from("'self'");
    if let Some(host) = host {
        connect.push_str(&format!(" ws://{host} wss://{host}"));
        if let Some(port) = live_reload_port {
            let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
            connect.push_str(&format!(" ws://{name}:{port}"));
        }
    }
    format!(
        "default-src 'self'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; \
         img-src 'self' data:; \
         connect-src {connect}; \
         object-src 'none'; \
         base-uri 'self'; \
         form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_names_the_nonce_and_the_socket_host() {
        let p = page_policy("abc", Some("chat.test:8080"), None);
        assert!(
            p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"),
            "{p}"
        );
        assert!(
            p.contains("connect-src 'self' ws://chat.test:8080 wss://chat.test:8080;"),
            "{p}"
        );
        assert!(!p.contains("unsafe-inline"), "{p}");
        let dev = page_policy("abc", Some("127.0.0.1:3000"), Some(3001));
        assert!(dev.contains(" ws://127.0.0.1:3001;"), "{dev}");
        assert!(page_policy("abc", None, None).contains("connect-src 'self';"));
    }

    #[test]
    fn only_plain_hosts_reach_the_policy() {
        assert!(plain_host("chat.test:8080"));
        assert!(plain_host("[::1]:3000"));
        assert!(!plain_host("evil; script-src *"));
        assert!(!plain_host(""));
    }
}
