//! `idle`: `sockets` authenticated sockets, each joined to one chat,
//! holding still; connect rate and the server's memory per socket.

use super::{Opts, connect_and_join, ws_url};
use crate::api::{self, Api};
use crate::stats::{CpuWindow, Samples, round2, rss_mib};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// `idle`: many joined sockets doing nothing but answering pings.
pub async fn idle(opts: &Opts) -> anyhow::Result<Value> {
    let api = Api::new(&opts.url)?;
    // Sockets share the chats' users (several tabs each) unless --chats
    // gives one chat per two sockets: sign-up costs an argon2 hash per user.
    let chats = opts.chats.min(opts.sockets.div_ceil(2)).max(1);
    let (pairs, setup) = api::setup_chats(&api, chats, opts.setup_concurrency).await?;
    let ws = ws_url(&opts.url)?;
    let rss_before = opts.server_pid.and_then(rss_mib);

    eprintln!(
        "connect: {} idle sockets over {} chats, {} at a time",
        opts.sockets,
        pairs.len(),
        opts.connect_concurrency
    );
    let cpu = CpuWindow::start(opts.server_pid);
    let started = Instant::now();
    let mut connect_ms = Samples::default();
    let mut join_ms = Samples::default();
    let mut failures: BTreeMap<String, u64> = BTreeMap::new();
    let mut clients = Vec::with_capacity(opts.sockets);
    let mut opened = stream::iter(0..opts.sockets)
        .map(|i| {
            let pair = &pairs[(i / 2) % pairs.len()];
            let token = if i % 2 == 0 {
                &pair.customer.token
            } else {
                &pair.provider.token
            };
            connect_and_join(&ws, token, pair.chat_id, None)
        })
        .buffer_unordered(opts.connect_concurrency.max(1));
    while let Some(result) = opened.next().await {
        match result {
            Ok((client, connect, join)) => {
                connect_ms.push(connect);
                join_ms.push(join);
                clients.push(client);
                if clients.len().is_multiple_of(1000) {
                    eprintln!("connect: {} open", clients.len());
                }
            }
            Err(e) => {
                let kind = e.to_string();
                let kind = kind.split(':').next().unwrap_or("error").to_owned();
                *failures.entry(kind).or_default() += 1;
            }
        }
    }
    drop(opened);
    let connect_secs = started.elapsed().as_secs_f64();
    let (connect_cores, server_connect_cores) = cpu.cores();
    eprintln!(
        "connect: {} open in {connect_secs:.1} s; holding {:.0} s",
        clients.len(),
        opts.duration.as_secs_f64()
    );

    let hold = CpuWindow::start(opts.server_pid);
    tokio::time::sleep(opts.duration).await;
    let (hold_cores, server_hold_cores) = hold.cores();
    let rss_after = opts.server_pid.and_then(rss_mib);
    let disconnects = clients.iter().filter(|c| c.is_closed()).count();
    let open = clients.len();
    drop(clients);
    // What the server gives back once they are gone.
    let rss_closed = match opts.server_pid {
        Some(pid) => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            rss_mib(pid)
        }
        None => None,
    };
    let per_socket_kib = match (rss_before, rss_after) {
        (Some(b), Some(a)) if open > 0 => Some(round2((a - b) * 1024.0 / open as f64)),
        _ => None,
    };
    Ok(json!({
        "scenario": "idle",
        "url": opts.url,
        "provider_url": opts.provider_url,
        "sockets": opts.sockets,
        "chats": pairs.len(),
        "setup": {
            "users": setup.registrations,
            "registrations_per_sec": round2(setup.registrations_per_sec),
            "bookings_per_sec": round2(setup.bookings_per_sec),
        },
        "connected": open,
        "failures": failures,
        "connect_s": round2(connect_secs),
        "sockets_per_sec": round2(open as f64 / connect_secs.max(1e-9)),
        "connect_ms": connect_ms.summary(),
        "join_ms": join_ms.summary(),
        "hold_s": opts.duration.as_secs_f64(),
        "disconnects": disconnects,
        "server_rss_before_mb": rss_before.map(round2),
        "server_rss_mb": rss_after.map(round2),
        "server_rss_after_close_mb": rss_closed.map(round2),
        "server_rss_per_socket_kb": per_socket_kib,
        "loadgen_cpu_cores": connect_cores,
        "server_cpu_cores": server_connect_cores,
        "loadgen_cpu_cores_idle": hold_cores,
        "server_cpu_cores_idle": server_hold_cores,
    }))
}
