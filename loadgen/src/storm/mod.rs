//! `storm`: a reconnect storm (benchmark (e) of the speed issue).
//!
//! loadgen starts every server node itself (`sh -c "exec env CMD"`, output to a
//! log file under /tmp), waits for `GET /healthz`, signs up `--chats` chats
//! and opens `--sockets` sockets over them: every chat gets customer tabs
//! and provider tabs, spread round-robin over the nodes, all joined. Then it
//! SIGKILLs the last node (and, with `--restart`, starts the same command
//! again at once: same port, same database).
//!
//! Every socket that loses its connection does what socket.io-client does
//! by default: it waits [`backoff::reconnect_delay`] (1 s · 2^attempt,
//! ±50 %, at most 5 s), tries again, and on a failed attempt moves on to the
//! next `--url` (as a load balancer would send it to a live node). Once
//! connected it rejoins with `afterSeq` = the highest seq up to which it
//! holds every message (see [`session::join`] for why not the highest
//! seen), paging on over REST while the ack says `hasMore`, the way the
//! browser does (`app/src/chat/live/threads.rs`). A join refused or
//! unanswered on a connection that stays up is tried again on it after the
//! same backoff (`join_retries`); socket.io-client itself never reconnects
//! for that. A customer socket sends exactly one message as soon as it is
//! back (on a surviving node: right after the kill) and resends it with the
//! same `clientId` until it is acked, as the browser's outbox does
//! (`app/src/chat/outgoing.rs`).
//!
//! Every provider socket must receive every acked customer message of its
//! chat exactly once, as a live `new_message`, in a join's catch-up, or in
//! the REST fetch a `resync` event asks for ([`view::View`],
//! [`view::Tally`]). Afterwards every chat's history is read back over
//! REST. The RSS of every node is sampled from /proc every 250 ms.
//!
//! The phases are modules: `nodes` (start, kill, stop, RSS), `setup` (chats
//! and joined sockets), `kill` (the storm until everything is back and
//! caught up), `report` (the numbers and the history read back). A socket's
//! life is `tab`, what it says to the server `session`, what it received
//! `view`, its retry timings `backoff`.

mod backoff;
mod kill;
mod life;
mod nodes;
mod report;
mod session;
mod setup;
mod tab;
mod view;

use crate::scenario::{Opts, ws_url};
use anyhow::bail;
use nodes::Node;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The nodes of a run, and which one the storm kills.
struct Cluster {
    nodes: Arc<Vec<Node>>,
    /// Node i's Engine.IO WebSocket endpoint.
    ws_urls: Vec<String>,
    /// The node that is SIGKILLed: the last.
    killed: usize,
    /// Whether it is started again at once.
    restart: bool,
    /// Names the nodes' log files (loadgen's pid).
    run_id: u32,
}

/// `storm`.
pub async fn storm(opts: &Opts) -> anyhow::Result<Value> {
    let restart = opts.restart.unwrap_or(opts.urls.len() == 1);
    let run_id = std::process::id();
    let nodes: Vec<Node> = opts
        .urls
        .iter()
        .zip(&opts.spawn)
        .map(|(url, cmd)| Node::new(url, cmd))
        .collect::<anyhow::Result<_>>()?;
    let nodes = Arc::new(nodes);
    let ws_urls = opts
        .urls
        .iter()
        .map(|u| ws_url(u))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let killed = nodes.len() - 1;
    let cluster = Cluster {
        nodes,
        ws_urls,
        killed,
        restart,
        run_id,
    };
    let nodes = &cluster.nodes;

    // 1. Start the nodes.
    for (i, node) in nodes.iter().enumerate() {
        if node.api.healthy(Duration::from_secs(2)).await {
            bail!(
                "something already answers at {}: storm starts (and kills) its own nodes; \
                 stop it or pick another port",
                node.url
            );
        }
        let log = PathBuf::from(format!("/tmp/loadgen-storm-{run_id}-node{i}.log"));
        let pid = node.spawn(&log)?;
        eprintln!(
            "storm: node {i} pid {pid} at {} (log {})",
            node.url,
            log.display()
        );
    }
    for node in nodes.iter() {
        node.wait_ready().await?;
    }
    let result = run(opts, &cluster).await;

    // Stop whatever still runs, whatever happened.
    for node in nodes.iter() {
        node.stop().await;
    }
    result
}

/// Phases 2 to 5 on the started nodes.
async fn run(opts: &Opts, cluster: &Cluster) -> anyhow::Result<Value> {
    let setup::Joined {
        pairs,
        setup,
        open,
        resyncs,
        connect,
    } = setup::join_all(opts, cluster).await?;
    tokio::time::sleep(opts.duration).await;
    let stormed = kill::storm(opts, cluster, open, pairs.len(), resyncs).await?;
    report::report(opts, cluster, &pairs, &setup, connect, stormed).await
}
