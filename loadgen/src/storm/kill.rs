//! The storm itself: every joined socket's task waits for the kill, the
//! last node is SIGKILLed (and, with `--restart`, started again beside the
//! storm), and the sockets reconnect, rejoin and send until everything is
//! back and caught up or the grace period is over.

use super::Cluster;
use super::life::run_tab;
use super::nodes::{Node, Rss, sample_rss};
use super::tab::{Ctx, Tab};
use crate::scenario::{Opts, lock};
use crate::sio::Client;
use crate::stats::{CpuWindow, cpu_seconds, rss_mib};
use anyhow::Context;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// After everything is caught up: how long to keep listening for late
/// duplicates.
const LINGER: Duration = Duration::from_secs(1);

/// What the storm left for the report.
pub struct Stormed {
    pub ctx: Arc<Ctx>,
    /// The sockets joined when the node was killed.
    pub live: Vec<Arc<Tab>>,
    /// Of those, on the killed node.
    pub on_killed: usize,
    pub customers: usize,
    pub kill_at: Instant,
    /// When the measuring stopped.
    pub end: Instant,
    /// When everything was back and caught up (`None`: not within the
    /// grace period).
    pub caught_up_at: Option<Instant>,
    pub storm_secs: f64,
    pub loadgen_cores: Option<f64>,
    /// Per node.
    pub rss: Vec<Rss>,
    pub pids_before: Vec<Option<u32>>,
    pub node_cpu_before: Vec<Option<f64>>,
    pub node_cpu_end: Vec<Option<f64>>,
    /// The restarted node: its pid, when it was spawned, and how long
    /// after the kill it was ready.
    pub restarted: Option<(u32, Instant, Duration)>,
}

/// Kills the node under the `open` sockets (over `chats` chats) and runs
/// their reconnects until they are done or the grace period is over.
pub async fn storm(
    opts: &Opts,
    cluster: &Cluster,
    open: Vec<(Arc<Tab>, Client)>,
    chats: usize,
    resyncs: Arc<AtomicU64>,
) -> anyhow::Result<Stormed> {
    // 3. The storm: every socket's task waits for the kill.
    let (nodes, killed, restart, run_id) = (
        &cluster.nodes,
        cluster.killed,
        cluster.restart,
        cluster.run_id,
    );
    let connected = open.len();
    let ctx = Arc::new(Ctx {
        ws_urls: cluster.ws_urls.clone(),
        nodes: nodes.clone(),
        killed,
        reconnect_delay: opts.reconnect_delay,
        reconnect_delay_max: opts.reconnect_delay_max,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        acked: (0..chats).map(|_| Mutex::new(Vec::new())).collect(),
        attempts: AtomicU64::new(0),
        attempt_failures: Mutex::new(BTreeMap::new()),
        back: AtomicU64::new(0),
        acked_count: AtomicU64::new(0),
        refused: Mutex::new(BTreeMap::new()),
        resyncs,
        join_retries: AtomicU64::new(0),
    });
    let (kill_tx, kill_rx) = watch::channel(false);
    let live: Vec<Arc<Tab>> = open.iter().map(|(t, _)| t.clone()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for (tab, client) in open {
        tasks.spawn(run_tab(tab, Some(client), ctx.clone(), kill_rx.clone()));
    }
    let on_killed = live.iter().filter(|t| t.place.node == killed).count();
    let customers = live.iter().filter(|t| t.place.customer).count();

    let rss = Arc::new(Mutex::new(vec![Rss::default(); nodes.len()]));
    for (r, n) in lock(&rss).iter_mut().zip(nodes.iter()) {
        r.before_kill = n.pid().and_then(rss_mib);
    }
    let pids_before: Vec<Option<u32>> = nodes.iter().map(Node::pid).collect();
    let sampler = sample_rss(nodes.clone(), rss.clone());
    let cpu = CpuWindow::start(None);
    let node_cpu_before: Vec<Option<f64>> = pids_before
        .iter()
        .map(|p| p.and_then(|p| cpu_seconds(Some(p))))
        .collect();

    eprintln!(
        "storm: SIGKILL node {killed} ({}, pid {:?}) under {connected} joined sockets ({on_killed} on it){}",
        nodes[killed].url,
        nodes[killed].pid(),
        if restart {
            "; restarting it at once"
        } else {
            ""
        }
    );
    let kill_at = Instant::now();
    nodes[killed].kill()?;
    let _ = kill_tx.send(true);

    // The restart runs beside the storm.
    let restarted = if restart {
        let nodes = nodes.clone();
        Some(tokio::spawn(async move {
            let log = PathBuf::from(format!(
                "/tmp/loadgen-storm-{run_id}-node{killed}-restart.log"
            ));
            let node = &nodes[killed];
            let pid = node.spawn(&log)?;
            let spawned = Instant::now();
            node.wait_ready().await?;
            let ready = kill_at.elapsed();
            eprintln!(
                "storm: node {killed} restarted (pid {pid}), ready {:.2} s after the kill",
                ready.as_secs_f64()
            );
            anyhow::Ok((pid, spawned, ready))
        }))
    } else {
        None
    };

    // Until every socket is back, every message acked and delivered, or
    // the grace period is over.
    let deadline = kill_at + opts.grace;
    let mut last_progress = Instant::now();
    let caught_up_at = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = Instant::now();
        if now >= deadline {
            break None;
        }
        if now - last_progress >= Duration::from_secs(2) {
            last_progress = now;
            eprintln!(
                "storm: {:>5.1} s  back {}/{on_killed}  attempts {}  acked {}/{customers}",
                (now - kill_at).as_secs_f64(),
                ctx.back.load(Ordering::Relaxed),
                ctx.attempts.load(Ordering::Relaxed),
                ctx.acked_count.load(Ordering::Relaxed),
            );
        }
        if live.iter().all(|t| t.settled.load(Ordering::Acquire))
            && live.iter().filter(|t| !t.place.customer).all(|t| {
                let acked = lock(&ctx.acked[t.place.chat]);
                lock(&t.view).has_all(acked.iter())
            })
        {
            break Some(now);
        }
    };
    let storm_secs = (caught_up_at.unwrap_or_else(Instant::now) - kill_at).as_secs_f64();
    match caught_up_at {
        Some(_) => {
            eprintln!("storm: everything back and caught up after {storm_secs:.2} s");
            tokio::time::sleep(LINGER).await;
        }
        None => eprintln!(
            "storm: grace of {:.0} s over, not everything caught up",
            opts.grace.as_secs_f64()
        ),
    }
    let (loadgen_cores, _) = cpu.cores();
    let end = Instant::now();
    sampler.abort();
    let rss = lock(&rss).clone();
    let node_cpu_end: Vec<Option<f64>> = nodes
        .iter()
        .map(|n| n.pid().and_then(|p| cpu_seconds(Some(p))))
        .collect();
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    let restarted = match restarted {
        Some(handle) => Some(handle.await.context("restart task")??),
        None => None,
    };
    Ok(Stormed {
        ctx,
        live,
        on_killed,
        customers,
        kill_at,
        end,
        caught_up_at,
        storm_secs,
        loadgen_cores,
        rss,
        pids_before,
        node_cpu_before,
        node_cpu_end,
        restarted,
    })
}
