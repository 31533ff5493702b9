//! The client's address, for the per-address rate limits. Behind a reverse
//! proxy every request comes from the proxy, so the address is taken from
//! the header the proxy writes (`JOBCHAT_CLIENT_IP_HEADER`, e.g.
//! `x-real-ip`) when configured. Only configure it when every request goes
//! through that proxy: otherwise a client could name any address it likes.
//! REST, the socket handshake and server functions all read it here.

use axum::extract::ConnectInfo;
use axum::http::{HeaderName, request::Parts};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The address of the TCP peer, or from the trusted proxy's `header`: its
/// last valid entry (the one the proxy itself appended to an
/// `X-Forwarded-For` chain; the whole value for `X-Real-IP`).
pub fn resolve(parts: &Parts, header: Option<&HeaderName>) -> IpAddr {
    let from_header = header.and_then(|name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back()
    });
    from_header.unwrap_or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)], peer: &str) -> Parts {
        let mut req = Request::builder();
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        parts
            .extensions
            .insert(ConnectInfo::<SocketAddr>(peer.parse().expect("addr")));
        parts
    }

    #[test]
    fn the_peer_unless_a_trusted_header_is_configured() {
        let p = parts(&[("x-forwarded-for", "1.2.3.4")], "10.0.0.9:5000");
        assert_eq!(resolve(&p, None), "10.0.0.9".parse::<IpAddr>().expect("ip"));
        let xff = HeaderName::from_static("x-forwarded-for");
        assert_eq!(
            resolve(&p, Some(&xff)),
            "1.2.3.4".parse::<IpAddr>().expect("ip")
        );
    }

    #[test]
    fn the_last_entry_of_a_chain_is_the_one_the_proxy_saw() {
        let xff = HeaderName::from_static("x-forwarded-for");
        // The client forged the first entry; nginx appended the real one.
        let p = parts(
            &[("x-forwarded-for", "6.6.6.6, 203.0.113.7")],
            "127.0.0.1:1",
        );
        assert_eq!(
            resolve(&p, Some(&xff)),
            "203.0.113.7".parse::<IpAddr>().expect("ip")
        );
        // Garbage falls back to the peer.
        let p = parts(&[("x-forwarded-for", "not an address")], "10.1.1.1:1");
        assert_eq!(
            resolve(&p, Some(&xff)),
            "10.1.1.1".parse::<IpAddr>().expect("ip")
        );
    }
}
