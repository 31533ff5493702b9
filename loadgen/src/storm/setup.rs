//! Before the storm: the chats, and every socket connected and joined.

use super::Cluster;
use super::session::connect_and_join;
use super::tab::{Outcome, Tab, place};
use super::view::View;
use crate::api::{self, Pair, SetupStats};
use crate::scenario::Opts;
use crate::sio::Client;
use crate::stats::Samples;
use anyhow::bail;
use futures_util::{StreamExt, stream};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The chats, and the sockets that joined them.
pub struct Joined {
    pub pairs: Vec<Pair>,
    pub setup: SetupStats,
    /// Every socket that connected and joined, with its connection.
    pub open: Vec<(Arc<Tab>, Client)>,
    /// `resync` events received (setup included).
    pub resyncs: Arc<AtomicU64>,
    pub connect: Connecting,
}

/// How the first connects went.
pub struct Connecting {
    /// Connect and join of each socket that made it.
    pub ms: Samples,
    /// The others, by the kind of failure.
    pub failures: BTreeMap<String, u64>,
    pub secs: f64,
    /// Sockets joined.
    pub joined: usize,
}

/// Signs up the chats and connects and joins every socket, round-robin
/// over the nodes.
pub async fn join_all(opts: &Opts, cluster: &Cluster) -> anyhow::Result<Joined> {
    // 2. Chats and sockets.
    let (nodes, ws_urls) = (&cluster.nodes, &cluster.ws_urls);
    let api = &nodes[0].api;
    let chats = opts.chats.min(opts.sockets.div_ceil(2)).max(1);
    let (pairs, setup) = api::setup_chats(api, chats, opts.setup_concurrency).await?;
    let tabs: Vec<Arc<Tab>> = (0..opts.sockets)
        .map(|i| {
            let place = place(i, pairs.len(), nodes.len());
            let pair = &pairs[place.chat];
            let user = if place.customer {
                &pair.customer
            } else {
                &pair.provider
            };
            Arc::new(Tab {
                index: i,
                place,
                chat_id: pair.chat_id,
                token: user.token.clone(),
                view: Arc::new(Mutex::new(View::default())),
                settled: AtomicBool::new(false),
                outcome: Mutex::new(Outcome::default()),
            })
        })
        .collect();
    eprintln!(
        "connect: {} sockets over {} chats and {} node(s), {} at a time",
        tabs.len(),
        pairs.len(),
        nodes.len(),
        opts.connect_concurrency
    );
    let started = Instant::now();
    let mut connect_ms = Samples::default();
    let mut connect_failures: BTreeMap<String, u64> = BTreeMap::new();
    let resyncs = &Arc::new(AtomicU64::new(0));
    let mut open: Vec<(Arc<Tab>, Client)> = Vec::with_capacity(tabs.len());
    let mut opened = stream::iter(tabs.iter().cloned())
        .map(|tab| async move {
            let t0 = Instant::now();
            let node = tab.place.node;
            let result = connect_and_join(&tab, &ws_urls[node], &nodes[node].api, resyncs).await;
            (tab, result, t0.elapsed())
        })
        .buffer_unordered(opts.connect_concurrency.max(1));
    while let Some((tab, result, took)) = opened.next().await {
        match result {
            Ok(client) => {
                connect_ms.push(took);
                open.push((tab, client));
                if open.len().is_multiple_of(1000) {
                    eprintln!("connect: {} joined", open.len());
                }
            }
            Err(kind) => *connect_failures.entry(kind).or_default() += 1,
        }
    }
    drop(opened);
    let connect_secs = started.elapsed().as_secs_f64();
    let connected = open.len();
    eprintln!(
        "connect: {connected} joined in {connect_secs:.1} s ({} failed); holding {:.0} s",
        tabs.len() - connected,
        opts.duration.as_secs_f64()
    );
    if connected == 0 {
        bail!("no socket could connect: {connect_failures:?}");
    }
    Ok(Joined {
        pairs,
        setup,
        open,
        resyncs: resyncs.clone(),
        connect: Connecting {
            ms: connect_ms,
            failures: connect_failures,
            secs: connect_secs,
            joined: connected,
        },
    })
}
