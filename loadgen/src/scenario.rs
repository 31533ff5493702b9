//! The three benchmark scenarios. Each returns the JSON object printed as
//! the run's one line on stdout.
//!
//! * `throughput`: every chat's customer keeps `in_flight` `send_message`
//!   requests outstanding for `duration`; the provider's socket receives.
//! * `latency`: every chat's customer sends `rate` messages a second for
//!   `duration`, chats spread evenly over the period (open loop: a send
//!   does not wait for the previous ack).
//! * `idle`: `sockets` authenticated sockets, each joined to one chat,
//!   holding still; connect rate and the server's memory per socket.
//! * `storm`: the server nodes started by loadgen, one killed under
//!   joined sockets that reconnect, rejoin and send (`storm.rs`).
//!
//! Messages are tracked by `clientId` per chat: when emitted, when acked,
//! and how often `new_message` reached the other participant's socket.
//! After the run (plus a grace period for stragglers) each chat's stored
//! history is read back over REST to check persistence and seqs.

use crate::api::{self, Api, Pair};
use crate::sio::{Client, OnEvent};
use crate::stats::{CpuWindow, Samples, round2, rss_mib};
use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long one connect, join or send may wait for its answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    Throughput,
    Latency,
    Idle,
    Storm,
    Accounts,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Latency => "latency",
            Self::Idle => "idle",
            Self::Storm => "storm",
            Self::Accounts => "accounts",
        }
    }
}

/// The command line, defaults filled in by `main`.
#[derive(Clone, Debug, PartialEq)]
pub struct Opts {
    pub scenario: Scenario,
    /// The server's HTTP base URL (the first `--url`).
    pub url: String,
    /// Every `--url` in order (storm: node i serves `urls[i]`); `[url]`
    /// for the other scenarios.
    pub urls: Vec<String>,
    /// Where the providers' sockets connect (another node of the same
    /// cluster, scenario (d)); `None`: `url`.
    pub provider_url: Option<String>,
    pub chats: usize,
    pub in_flight: usize,
    pub duration: Duration,
    /// Messages a second per chat (latency).
    pub rate: f64,
    pub sockets: usize,
    /// accounts: how many users to register and then sign in.
    pub users: usize,
    pub server_pid: Option<u32>,
    /// How long to wait after the run for deliveries still under way.
    pub grace: Duration,
    pub connect_concurrency: usize,
    pub setup_concurrency: usize,
    /// storm: the command that starts node i (`sh -c "exec env CMD"`).
    pub spawn: Vec<String>,
    /// storm: start the killed node again at once (`None`: yes with one
    /// node, no with several).
    pub restart: Option<bool>,
    /// storm: socket.io-client's `reconnectionDelay` and
    /// `reconnectionDelayMax`.
    pub reconnect_delay: Duration,
    pub reconnect_delay_max: Duration,
}

/// `http://host:port` → the Engine.IO WebSocket endpoint.
pub fn ws_url(base: &str) -> anyhow::Result<String> {
    let base = base.trim_end_matches('/');
    let Some(host) = base.strip_prefix("http://") else {
        bail!("--url must be http://host:port (got {base:?}; TLS is not built in)");
    };
    Ok(format!("ws://{host}/socket.io/?EIO=4&transport=websocket"))
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Connects, CONNECTs with the token and joins the chat. Returns the socket
/// and how long the connect (up to the Socket.IO CONNECT answer) took.
async fn connect_and_join(
    ws_url: &str,
    token: &str,
    chat_id: i64,
    on_event: Option<OnEvent>,
) -> anyhow::Result<(Client, Duration, Duration)> {
    let t0 = Instant::now();
    let client = tokio::time::timeout(ANSWER_TIMEOUT, Client::connect(ws_url, token, on_event))
        .await
        .context("connect timed out")??;
    let connected = t0.elapsed();
    let t1 = Instant::now();
    let ack = client
        .request("join_chat", &json!({ "chatId": chat_id }), ANSWER_TIMEOUT)
        .await?;
    if ack.data.get("ok") != Some(&Value::Bool(true)) {
        bail!("join_chat {chat_id} refused: {}", ack.data);
    }
    Ok((client, connected, t1.elapsed()))
}

// ---- messaging scenarios ---------------------------------------------------------

/// One message's life, keyed by its clientId.
struct Sent {
    emitted: Instant,
    acked: Option<Instant>,
    refused: bool,
    /// `new_message` events with this clientId at the other participant.
    deliveries: u32,
    first_delivery: Option<Instant>,
}

#[derive(Default)]
struct ChatState {
    sent: HashMap<String, Sent>,
    /// Highest seq the receiver has seen, and how often a lower one came
    /// after it (allowed: concurrent sends may overtake; seq orders them).
    highest_seq: i64,
    reordered: u64,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    /// Timed out, or the socket closed before the ack.
    unacked: AtomicU64,
    /// Refusals by error code.
    refused: Mutex<BTreeMap<String, u64>>,
}

struct Chat {
    pair: Pair,
    state: Arc<Mutex<ChatState>>,
    customer: Client,
    /// Kept open to receive; never sends.
    provider: Client,
}

/// The receiving side: note every `new_message` that carries one of our
/// clientIds.
fn on_delivery(state: Arc<Mutex<ChatState>>) -> OnEvent {
    Arc::new(move |name: &str, data: &Value, at: Instant| {
        if name != "new_message" {
            return;
        }
        let mut st = lock(&state);
        if let Some(seq) = data.get("seq").and_then(Value::as_i64) {
            if seq < st.highest_seq {
                st.reordered += 1;
            } else {
                st.highest_seq = seq;
            }
        }
        let Some(client_id) = data.get("clientId").and_then(Value::as_str) else {
            return; // system messages have none
        };
        if let Some(sent) = st.sent.get_mut(client_id) {
            sent.deliveries += 1;
            sent.first_delivery.get_or_insert(at);
        }
    })
}

/// Sends one message and records its ack. `false` once the socket is gone.
async fn send_one(client: &Client, chat: &Chat, counters: &Counters, n: u64) -> bool {
    let client_id = uuid::Uuid::new_v4().to_string();
    let payload = json!({
        "chatId": chat.pair.chat_id,
        "content": format!("loadgen message {n}: the quick brown fox jumps over the lazy dog"),
        "clientId": client_id,
    });
    lock(&chat.state).sent.insert(
        client_id.clone(),
        Sent {
            emitted: Instant::now(),
            acked: None,
            refused: false,
            deliveries: 0,
            first_delivery: None,
        },
    );
    counters.sent.fetch_add(1, Ordering::Relaxed);
    match client
        .request("send_message", &payload, ANSWER_TIMEOUT)
        .await
    {
        Ok(ack) => {
            let ok = ack.data.get("ok") == Some(&Value::Bool(true));
            if let Some(sent) = lock(&chat.state).sent.get_mut(&client_id) {
                if ok {
                    sent.acked = Some(ack.at);
                } else {
                    sent.refused = true;
                }
            }
            if ok {
                counters.acked.fetch_add(1, Ordering::Relaxed);
            } else {
                let code = ack.error_code();
                *lock(&counters.refused).entry(code).or_default() += 1;
            }
            true
        }
        Err(e) => {
            counters.unacked.fetch_add(1, Ordering::Relaxed);
            !matches!(e, crate::sio::SioError::Closed)
        }
    }
}

/// Prints sent/acked to stderr every 5 s until aborted.
fn progress(counters: Arc<Counters>, started: Instant) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        tick.tick().await;
        loop {
            tick.tick().await;
            eprintln!(
                "run: {:>5.1} s  sent {}  acked {}",
                started.elapsed().as_secs_f64(),
                counters.sent.load(Ordering::Relaxed),
                counters.acked.load(Ordering::Relaxed)
            );
        }
    })
}

/// Sets up the chats and connects a customer and a provider socket to each.
async fn open_chats(opts: &Opts, api: &Api) -> anyhow::Result<(Vec<Arc<Chat>>, Value)> {
    let (pairs, setup) = api::setup_chats(api, opts.chats, opts.setup_concurrency).await?;
    let ws = ws_url(&opts.url)?;
    let ws_providers = ws_url(opts.provider_url.as_deref().unwrap_or(&opts.url))?;
    eprintln!("connect: {} sockets", pairs.len() * 2);
    let started = Instant::now();
    let mut connect_ms = Samples::default();
    let mut chats = Vec::with_capacity(pairs.len());
    let mut opened = stream::iter(pairs)
        .map(|pair| {
            let ws = ws.clone();
            let ws_providers = ws_providers.clone();
            async move {
                let state = Arc::new(Mutex::new(ChatState::default()));
                let (customer, c1, _) =
                    connect_and_join(&ws, &pair.customer.token, pair.chat_id, None).await?;
                let (provider, c2, _) = connect_and_join(
                    &ws_providers,
                    &pair.provider.token,
                    pair.chat_id,
                    Some(on_delivery(state.clone())),
                )
                .await?;
                anyhow::Ok((
                    Chat {
                        pair,
                        state,
                        customer,
                        provider,
                    },
                    [c1, c2],
                ))
            }
        })
        .buffer_unordered(opts.connect_concurrency.div_ceil(2).max(1));
    while let Some(chat) = opened.next().await {
        let (chat, times) = chat?;
        times.into_iter().for_each(|t| connect_ms.push(t));
        chats.push(Arc::new(chat));
    }
    let secs = started.elapsed().as_secs_f64();
    let sockets = chats.len() * 2;
    eprintln!("connect: {sockets} sockets joined in {secs:.1} s");
    let info = json!({
        "users": setup.registrations,
        "registrations_per_sec": round2(setup.registrations_per_sec),
        "bookings_per_sec": round2(setup.bookings_per_sec),
        "sockets": sockets,
        "sockets_per_sec": round2(sockets as f64 / secs.max(1e-9)),
        "connect_ms": connect_ms.summary(),
    });
    Ok((chats, info))
}

/// `throughput` and `latency`.
pub async fn messaging(opts: &Opts) -> anyhow::Result<Value> {
    let api = Api::new(&opts.url)?;
    let (chats, setup) = open_chats(opts, &api).await?;
    let counters = Arc::new(Counters::default());

    eprintln!(
        "run: {} for {:.0} s",
        opts.scenario.name(),
        opts.duration.as_secs_f64()
    );
    let cpu = CpuWindow::start(opts.server_pid);
    let started = Instant::now();
    let deadline = started + opts.duration;
    let ticker = progress(counters.clone(), started);
    let mut tasks = tokio::task::JoinSet::new();
    if opts.scenario == Scenario::Throughput {
        // Closed loop: each of `in_flight` workers per chat sends its next
        // message as soon as the previous one is acked.
        let step = opts.in_flight as u64;
        for chat in &chats {
            for worker in 0..step {
                let (chat, counters) = (chat.clone(), counters.clone());
                tasks.spawn(async move {
                    // Worker w numbers its messages w, w + step, …
                    let mut n = worker;
                    while Instant::now() < deadline
                        && send_one(&chat.customer, &chat, &counters, n).await
                    {
                        n += step;
                    }
                });
            }
        }
    } else {
        // Open loop: chat i sends at offset i/chats of the period, then
        // every period, whether or not earlier sends were acked.
        let period = Duration::from_secs_f64(1.0 / opts.rate);
        let count = chats.len().max(1) as f64;
        for (i, chat) in chats.iter().enumerate() {
            let (chat, counters) = (chat.clone(), counters.clone());
            let first = started + period.mul_f64(i as f64 / count);
            tasks.spawn(async move {
                let mut sends = tokio::task::JoinSet::new();
                // Send n is due at first + n periods; a late generator
                // catches up rather than silently lowering the rate.
                for n in 0u64.. {
                    let due = first + period.mul_f64(n as f64);
                    if due >= deadline {
                        break;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    let (chat, counters) = (chat.clone(), counters.clone());
                    sends.spawn(async move {
                        send_one(&chat.customer, &chat, &counters, n).await;
                    });
                }
                sends.join_all().await;
            });
        }
    }
    tasks.join_all().await;
    // Until the last ack; at least the sending window (an open-loop run's
    // last send is due shortly before its end).
    let elapsed = started.elapsed().max(opts.duration);
    let (loadgen_cores, server_cores) = cpu.cores();
    ticker.abort();
    eprintln!(
        "run: done in {:.1} s; waiting up to {:.0} s for deliveries",
        elapsed.as_secs_f64(),
        opts.grace.as_secs_f64()
    );

    // Grace: stragglers may still be on their way to the receivers.
    let grace_end = Instant::now() + opts.grace;
    while Instant::now() < grace_end && undelivered(&chats) > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Everything the sockets saw.
    let mut e2e = Samples::default();
    let mut ack = Samples::default();
    let (mut lost, mut duplicated, mut reordered) = (0u64, 0u64, 0u64);
    for chat in &chats {
        let st = lock(&chat.state);
        reordered += st.reordered;
        for sent in st.sent.values() {
            if let Some(at) = sent.acked {
                ack.push(at - sent.emitted);
                if sent.deliveries == 0 {
                    lost += 1;
                }
            }
            if let Some(at) = sent.first_delivery {
                e2e.push(at - sent.emitted);
            }
            if sent.deliveries > 1 {
                duplicated += 1;
            }
        }
    }
    let disconnects = chats
        .iter()
        .map(|c| usize::from(c.customer.is_closed()) + usize::from(c.provider.is_closed()))
        .sum::<usize>();
    let server_rss_mb = opts.server_pid.and_then(rss_mib).map(round2);

    // What the database holds.
    eprintln!("verify: reading back {} chats", chats.len());
    let (not_persisted, seq_gaps) = verify(&api, &chats, opts.setup_concurrency).await?;
    drop(chats);

    let acked = counters.acked.load(Ordering::Relaxed);
    let refused = lock(&counters.refused).clone();
    Ok(json!({
        "scenario": opts.scenario.name(),
        "url": opts.url,
        "provider_url": opts.provider_url,
        "chats": opts.chats,
        "in_flight": (opts.scenario == Scenario::Throughput).then_some(opts.in_flight),
        "rate_per_chat": (opts.scenario == Scenario::Latency).then_some(opts.rate),
        "duration_s": opts.duration.as_secs_f64(),
        "setup": setup,
        "sent": counters.sent.load(Ordering::Relaxed),
        "acked": acked,
        "unacked": counters.unacked.load(Ordering::Relaxed),
        "refused": refused,
        "elapsed_s": round2(elapsed.as_secs_f64()),
        "msgs_per_sec": round2(acked as f64 / elapsed.as_secs_f64().max(1e-9)),
        "e2e_ms": e2e.summary(),
        "ack_ms": ack.summary(),
        "lost": lost,
        "duplicated": duplicated,
        "not_persisted": not_persisted,
        "seq_gaps": seq_gaps,
        "reordered": reordered,
        "disconnects": disconnects,
        "loadgen_cpu_cores": loadgen_cores,
        "server_cpu_cores": server_cores,
        "server_rss_mb": server_rss_mb,
    }))
}

/// Acked messages not yet seen by the other participant.
fn undelivered(chats: &[Arc<Chat>]) -> usize {
    chats
        .iter()
        .map(|c| {
            lock(&c.state)
                .sent
                .values()
                .filter(|s| s.acked.is_some() && s.deliveries == 0)
                .count()
        })
        .sum()
}

/// Reads every chat's history back: acked messages missing from it, and
/// chats whose stored seqs are not exactly 1..n.
async fn verify(api: &Api, chats: &[Arc<Chat>], concurrency: usize) -> anyhow::Result<(u64, u64)> {
    let mut checks = stream::iter(chats.iter().cloned())
        .map(|chat| {
            let api = api.clone();
            async move {
                let stored = api
                    .history(&chat.pair.customer.token, chat.pair.chat_id)
                    .await?;
                let client_ids: HashSet<&str> = stored
                    .iter()
                    .filter_map(|m| m.client_id.as_deref())
                    .collect();
                let missing = lock(&chat.state)
                    .sent
                    .iter()
                    .filter(|(id, s)| s.acked.is_some() && !client_ids.contains(id.as_str()))
                    .count() as u64;
                let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
                anyhow::Ok((missing, has_gap(&seqs)))
            }
        })
        .buffer_unordered(concurrency.max(1));
    let (mut not_persisted, mut gaps) = (0, 0);
    while let Some(check) = checks.next().await {
        let (missing, gap) = check?;
        not_persisted += missing;
        gaps += u64::from(gap);
    }
    Ok((not_persisted, gaps))
}

/// Whether seqs (as stored, oldest first) are anything but 1, 2, …, n.
pub fn has_gap(seqs: &[i64]) -> bool {
    seqs.iter().zip(1..).any(|(&seq, want)| seq != want)
}

// ---- idle ---------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_from_base() {
        assert_eq!(
            ws_url("http://127.0.0.1:3000").expect("http"),
            "ws://127.0.0.1:3000/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            ws_url("http://localhost:3997/").expect("http"),
            "ws://localhost:3997/socket.io/?EIO=4&transport=websocket"
        );
        assert!(ws_url("https://example.test").is_err());
        assert!(ws_url("127.0.0.1:3000").is_err());
    }

    #[test]
    fn seq_gaps() {
        assert!(!has_gap(&[]));
        assert!(!has_gap(&[1, 2, 3]));
        assert!(has_gap(&[1, 3]));
        assert!(has_gap(&[2, 3]));
        assert!(has_gap(&[1, 2, 2]));
    }
}
