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
//! by default: it waits [`reconnect_delay`] (1 s · 2^attempt, ±50 %, at most
//! 5 s), tries again, and on a failed attempt moves on to the next `--url`
//! (as a load balancer would send it to a live node). Once connected it
//! rejoins with `afterSeq` = the highest seq up to which it holds every
//! message (see [`join`] for why not the highest seen), paging on over
//! REST while the ack says `hasMore`, the way the browser does
//! (`app/src/chat/live/threads.rs`). A join refused or unanswered on a
//! connection that stays up is tried again on it after the same backoff
//! (`join_retries`); socket.io-client itself never reconnects for that. A customer socket sends exactly one
//! message as soon as it is back (on a surviving node: right after the
//! kill) and resends it with the same `clientId` until it is acked, as the
//! browser's outbox does (`app/src/chat/outgoing.rs`).
//!
//! Every provider socket must receive every acked customer message of its
//! chat exactly once, as a live `new_message`, in a join's catch-up, or in
//! the REST fetch a `resync` event asks for ([`View`], [`Tally`]). Afterwards every chat's history is read back over
//! REST. The RSS of every node is sampled from /proc every 250 ms.

use crate::api::{self, Api, Stored};
use crate::scenario::{Opts, has_gap, lock, ws_url};
use crate::sio::{Client, OnEvent, SioError};
use crate::stats::{CpuWindow, Samples, cpu_seconds, round2, rss_mib};
use anyhow::{Context, bail};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// socket.io-client's `timeout`: how long one (re)connect attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// The browser's `ACK_TIMEOUT_MS` (`app/src/chat/live/mod.rs`).
const ACK_TIMEOUT: Duration = Duration::from_secs(10);
/// socket.io-client's `randomizationFactor`.
const JITTER: f64 = 0.5;
/// How long a node may take to answer `/healthz` after its start.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const RSS_EVERY: Duration = Duration::from_millis(250);
/// After everything is caught up: how long to keep listening for late
/// duplicates.
const LINGER: Duration = Duration::from_secs(1);
/// `back_within_s` thresholds.
const WITHIN_S: [u64; 7] = [1, 2, 3, 5, 10, 30, 60];

// ---- pure parts -----------------------------------------------------------------

/// xorshift64*: enough randomness for jitter without a dependency.
pub struct XorShift(u64);

impl XorShift {
    /// Any seed, spread by splitmix64 (never the all-zero state).
    pub fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Self(z.max(1))
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The wait before reconnect attempt `attempt` (0-based, reset by every
/// successful connect), exactly as socket.io-client's `Backoff.duration()`
/// (backo2) computes it from `rand` in [0, 1): `base · 2^attempt`, then one
/// draw both moves it by up to ±50 % (its first digit picks the sign) and
/// decides by how much; the cap applies after the jitter, so from the third
/// attempt on (defaults) the delay is `max`.
pub fn reconnect_delay(attempt: u32, base: Duration, max: Duration, rand: f64) -> Duration {
    let ms = base.as_secs_f64() * 1000.0 * 2f64.powi(attempt.min(62) as i32);
    let deviation = (rand * JITTER * ms).floor();
    let ms = if ((rand * 10.0).floor() as u64) & 1 == 0 {
        ms - deviation
    } else {
        ms + deviation
    };
    let max_ms = max.as_secs_f64() * 1000.0;
    Duration::from_millis(ms.clamp(0.0, max_ms) as u64)
}

/// Where socket `i` belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// Index into the chats.
    pub chat: usize,
    pub customer: bool,
    /// Which tab of its user this socket is (0, 1, …).
    pub tab: usize,
    /// The node it connects to first.
    pub node: usize,
}

/// Socket `i` of a run: customer and provider alternate, chats take turns,
/// so every chat gets `sockets / (2 · chats)` tabs of each side. Tabs go
/// round-robin over the nodes, the provider's offset by one, so with two
/// nodes each chat has customer and provider tabs on both.
pub fn place(i: usize, chats: usize, nodes: usize) -> Place {
    let pair = i / 2;
    let customer = i.is_multiple_of(2);
    let tab = pair / chats.max(1);
    Place {
        chat: pair % chats.max(1),
        customer,
        tab,
        node: (tab + usize::from(!customer)) % nodes.max(1),
    }
}

/// How a message reached a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A `new_message` event.
    Live,
    /// The messages of a `join_chat` ack (or the REST pages after it).
    CatchUp,
    /// Fetched over REST after a `resync` event.
    Resync,
}

#[derive(Debug)]
struct Arrival {
    /// Every arrival, live and catch-up.
    count: u32,
    /// The distinct seqs it came with (more than one: stored twice).
    seqs: Vec<i64>,
    first_at: Instant,
    first_via: Via,
}

/// What one socket has received of its chat.
#[derive(Debug, Default)]
pub struct View {
    /// The highest seq seen.
    pub max_seq: i64,
    seqs: BTreeSet<i64>,
    arrivals: HashMap<String, Arrival>,
}

impl View {
    /// One message arrived (system messages have no clientId).
    pub fn note(&mut self, seq: i64, client_id: Option<&str>, at: Instant, via: Via) {
        self.max_seq = self.max_seq.max(seq);
        self.seqs.insert(seq);
        let Some(id) = client_id else { return };
        match self.arrivals.get_mut(id) {
            Some(a) => {
                a.count += 1;
                if !a.seqs.contains(&seq) {
                    a.seqs.push(seq);
                }
            }
            None => {
                self.arrivals.insert(
                    id.to_owned(),
                    Arrival {
                        count: 1,
                        seqs: vec![seq],
                        first_at: at,
                        first_via: via,
                    },
                );
            }
        }
    }

    /// Every message of a catch-up or page (`[{seq, clientId, …}]`); the
    /// last seq in it, if any.
    pub fn note_all(&mut self, messages: &[Value], at: Instant, via: Via) -> Option<i64> {
        let mut last = None;
        for m in messages {
            if let Some(seq) = m.get("seq").and_then(Value::as_i64) {
                self.note(seq, m.get("clientId").and_then(Value::as_str), at, via);
                last = Some(seq);
            }
        }
        last
    }

    /// Whether the seqs seen are anything but 1..=max_seq (a message lost
    /// between them that no catch-up brought; the browser would fetch it).
    pub fn has_gap(&self) -> bool {
        self.seqs.len() as i64 != self.max_seq || self.seqs.first().is_some_and(|&s| s != 1)
    }

    /// The highest seq up to which every message has arrived: what a
    /// rejoin, or a fetch after `resync`, asks to get what came after.
    pub fn held_through(&self) -> i64 {
        let mut through = 0;
        for &seq in &self.seqs {
            if seq == through + 1 {
                through = seq;
            } else if seq > through + 1 {
                break;
            }
        }
        through
    }

    /// Those of `expected` that never arrived.
    pub fn missing<'a>(&self, expected: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
        expected
            .filter(|id| !self.arrivals.contains_key(*id))
            .collect()
    }

    /// Whether every one of `expected` has arrived.
    pub fn has_all<'a>(&self, mut expected: impl Iterator<Item = &'a String>) -> bool {
        expected.all(|id| self.arrivals.contains_key(id))
    }

    /// This socket's deliveries of `expected` (the acked messages it must
    /// get), and its duplicates of any message.
    pub fn tally<'a>(&self, expected: impl Iterator<Item = &'a String>) -> Tally {
        let mut t = Tally::default();
        for id in expected {
            t.expected += 1;
            match self.arrivals.get(id) {
                Some(a) => {
                    t.delivered += 1;
                    match a.first_via {
                        Via::Live => t.delivered_live += 1,
                        Via::CatchUp => t.delivered_catch_up += 1,
                        Via::Resync => t.delivered_resync += 1,
                    }
                    t.last_at = t.last_at.max(Some(a.first_at));
                }
                None => t.missing += 1,
            }
        }
        for a in self.arrivals.values() {
            t.duplicated_raw += u64::from(a.count - 1);
            t.duplicated += a.seqs.len() as u64 - 1;
        }
        t
    }
}

/// Delivery counts, summed over sockets.
///
/// `duplicated_raw` counts every arrival of a message at a socket after its
/// first: a `new_message` that also comes in the next join's catch-up (the
/// socket joins the room before the server reads what it missed, so a
/// message stored in between comes both ways; and a rejoin after a lost
/// event asks from the highest seq seen). A real client never shows these:
/// the browser merges messages by seq (`app/src/chat/thread.rs`), so they
/// cost bandwidth, not correctness. `duplicated` is what a client would see
/// after that merge: the same clientId under two different seqs, i.e. stored
/// twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub expected: u64,
    pub delivered: u64,
    pub delivered_live: u64,
    pub delivered_catch_up: u64,
    pub delivered_resync: u64,
    pub missing: u64,
    pub duplicated_raw: u64,
    pub duplicated: u64,
    /// When the last expected delivery first arrived.
    pub last_at: Option<Instant>,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.expected += o.expected;
        self.delivered += o.delivered;
        self.delivered_live += o.delivered_live;
        self.delivered_catch_up += o.delivered_catch_up;
        self.delivered_resync += o.delivered_resync;
        self.missing += o.missing;
        self.duplicated_raw += o.duplicated_raw;
        self.duplicated += o.duplicated;
        self.last_at = self.last_at.max(o.last_at);
    }
}

/// Percent of `times` (seconds) at or below each threshold, out of `of`.
pub fn within(times: &[f64], of: usize, thresholds: &[u64]) -> BTreeMap<String, f64> {
    thresholds
        .iter()
        .map(|&s| {
            let n = times.iter().filter(|&&t| t <= s as f64).count();
            (s.to_string(), round2(100.0 * n as f64 / of.max(1) as f64))
        })
        .collect()
}

/// The kind of a failed attempt, for the report.
fn failure_kind(e: &SioError) -> String {
    use tokio_tungstenite::tungstenite::Error as WsError;
    match e {
        SioError::Ws(WsError::Io(io)) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection_refused".to_owned(),
            std::io::ErrorKind::ConnectionReset => "connection_reset".to_owned(),
            kind => format!("io_{kind:?}").to_lowercase(),
        },
        SioError::Ws(WsError::Http(res)) => format!("http_{}", res.status().as_u16()),
        SioError::Ws(_) => "websocket".to_owned(),
        SioError::Refused(m) => format!("connect_error_{m}"),
        SioError::Protocol(_) => "protocol".to_owned(),
        SioError::Closed => "closed".to_owned(),
        SioError::Timeout => "timeout".to_owned(),
    }
}

// ---- the nodes ------------------------------------------------------------------

/// A server node loadgen started.
struct Node {
    url: String,
    cmd: String,
    api: Api,
    child: Mutex<Option<Child>>,
    /// The pid of the running process (the restarted one after a restart).
    pid: Mutex<Option<u32>>,
    logs: Mutex<Vec<PathBuf>>,
}

impl Node {
    fn pid(&self) -> Option<u32> {
        *lock(&self.pid)
    }

    /// Starts the command as `sh -c "exec env CMD"`: sh parses the quoting,
    /// `env` applies the `NAME=value` prefixes, and both exec, so the
    /// child's pid is the server's. Output goes to `log`.
    fn spawn(&self, log: &Path) -> anyhow::Result<u32> {
        let out = std::fs::File::create(log).with_context(|| format!("{}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec env {}", self.cmd))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {:?}", self.cmd))?;
        let pid = child.id();
        *lock(&self.child) = Some(child);
        *lock(&self.pid) = Some(pid);
        lock(&self.logs).push(log.to_owned());
        Ok(pid)
    }

    /// Waits until `/healthz` answers 200; errs if the process exits first.
    async fn wait_ready(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(child) = lock(&self.child).as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                let log = lock(&self.logs).last().cloned().unwrap_or_default();
                bail!(
                    "node {} exited with {status} before it was ready; its log {}:\n{}",
                    self.url,
                    log.display(),
                    tail(&log, 20)
                );
            }
            if self.api.healthy(Duration::from_secs(2)).await {
                return Ok(());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("node {} not ready within {START_TIMEOUT:?}", self.url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL (`Child::kill`) and reap it.
    fn kill(&self) -> anyhow::Result<()> {
        let mut child = lock(&self.child);
        if let Some(c) = child.as_mut() {
            c.kill().context("SIGKILL")?;
            c.wait()?;
        }
        *child = None;
        *lock(&self.pid) = None;
        Ok(())
    }

    /// SIGTERM, then SIGKILL if it is still there after 10 s.
    async fn stop(&self) {
        let Some(pid) = self.pid() else { return };
        let _ = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let exited = lock(&self.child)
                .as_mut()
                .is_none_or(|c| !matches!(c.try_wait(), Ok(None)));
            if exited {
                break;
            }
            if Instant::now() > deadline {
                eprintln!("storm: node {} ignored SIGTERM for 10 s: SIGKILL", self.url);
                let _ = self.kill();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        *lock(&self.child) = None;
        *lock(&self.pid) = None;
    }
}

impl Drop for Node {
    /// On an early return: no server left behind.
    fn drop(&mut self) {
        if let Some(mut c) = lock(&self.child).take()
            && matches!(c.try_wait(), Ok(None))
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The last `n` lines of a log file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// RSS of one node: before the kill, highest and last while sampling.
#[derive(Clone, Copy, Debug, Default)]
struct Rss {
    before_kill: Option<f64>,
    max: Option<f64>,
    last: Option<f64>,
}

/// Samples every node's RSS every 250 ms until aborted.
fn sample_rss(nodes: Arc<Vec<Node>>, rss: Arc<Mutex<Vec<Rss>>>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(RSS_EVERY);
        loop {
            tick.tick().await;
            let now: Vec<Option<f64>> = nodes.iter().map(|n| n.pid().and_then(rss_mib)).collect();
            let mut rss = lock(&rss);
            for (r, now) in rss.iter_mut().zip(now) {
                if let Some(mib) = now {
                    r.max = Some(r.max.map_or(mib, |m| m.max(mib)));
                    r.last = Some(mib);
                }
            }
        }
    })
}

// ---- the sockets ----------------------------------------------------------------

/// One message a customer tab sends after the kill.
#[derive(Clone, Debug)]
struct SendRecord {
    client_id: String,
    /// `send_message` emits (resends included).
    emits: u32,
    acked_at: Option<Instant>,
    /// The seq the ack gave it.
    seq: Option<i64>,
    /// A definite refusal (the browser gives up on those).
    refused: Option<String>,
}

/// What happened to one socket after the kill.
#[derive(Debug, Default)]
struct Outcome {
    /// When it first noticed its connection was gone.
    dropped_at: Option<Instant>,
    /// When it was connected and joined again after that.
    back_at: Option<Instant>,
    drops: u32,
    send: Option<SendRecord>,
}

/// One socket (a tab of a customer or provider).
struct Tab {
    index: usize,
    place: Place,
    chat_id: i64,
    token: String,
    view: Arc<Mutex<View>>,
    /// Joined, and (customers) its message acked: nothing left to do.
    settled: AtomicBool,
    outcome: Mutex<Outcome>,
}

/// What the sockets share.
struct Ctx {
    ws_urls: Vec<String>,
    nodes: Arc<Vec<Node>>,
    killed: usize,
    reconnect_delay: Duration,
    reconnect_delay_max: Duration,
    seed: u64,
    /// Acked clientIds per chat index.
    acked: Vec<Mutex<Vec<String>>>,
    attempts: AtomicU64,
    attempt_failures: Mutex<BTreeMap<String, u64>>,
    back: AtomicU64,
    acked_count: AtomicU64,
    refused: Mutex<BTreeMap<String, u64>>,
    /// `resync` events received (setup included).
    resyncs: Arc<AtomicU64>,
    /// Joins refused or unanswered on a connection that stayed up.
    join_retries: AtomicU64,
}

impl Ctx {
    fn fail(&self, kind: String) {
        *lock(&self.attempt_failures).entry(kind).or_default() += 1;
    }

    /// socket.io-client's delay before retry number `attempt` (then counts it).
    fn backoff(&self, attempt: &mut u32, rng: &mut XorShift) -> Duration {
        let delay = reconnect_delay(
            *attempt,
            self.reconnect_delay,
            self.reconnect_delay_max,
            rng.next_f64(),
        );
        *attempt += 1;
        delay
    }
}

/// Live `new_message`s of the socket's chat go into its view. On `resync`
/// (the server dropped events for this socket: its buffer was full) it
/// fetches what came after its gap-free run over REST, as the browser does.
fn on_event(tab: &Tab, api: &Api, resyncs: &Arc<AtomicU64>) -> OnEvent {
    let (view, chat_id, token) = (tab.view.clone(), tab.chat_id, tab.token.clone());
    let (api, resyncs) = (api.clone(), resyncs.clone());
    Arc::new(move |name: &str, data: &Value, at: Instant| match name {
        "new_message" if data.get("chatId").and_then(Value::as_i64) == Some(chat_id) => {
            if let Some(seq) = data.get("seq").and_then(Value::as_i64) {
                lock(&view).note(
                    seq,
                    data.get("clientId").and_then(Value::as_str),
                    at,
                    Via::Live,
                );
            }
        }
        "resync" => {
            resyncs.fetch_add(1, Ordering::Relaxed);
            let (view, token, api) = (view.clone(), token.clone(), api.clone());
            tokio::spawn(async move {
                let mut after = lock(&view).held_through();
                loop {
                    let Ok((page, more)) = api.page(&token, chat_id, after, 200).await else {
                        return;
                    };
                    let at = Instant::now();
                    let mut v = lock(&view);
                    for m in &page {
                        v.note(m.seq, m.client_id.as_deref(), at, Via::Resync);
                    }
                    after = page.last().map_or(after, |m| m.seq);
                    if !more || page.is_empty() {
                        return;
                    }
                }
            });
        }
        _ => {}
    })
}

/// Connects and CONNECTs (socket.io-client's "connect"); the failure's
/// kind otherwise.
async fn connect(
    tab: &Tab,
    ws_url: &str,
    api: &Api,
    resyncs: &Arc<AtomicU64>,
) -> Result<Client, String> {
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        Client::connect(ws_url, &tab.token, Some(on_event(tab, api, resyncs))),
    )
    .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failure_kind(&e)),
        Err(_) => Err("connect_timeout".to_owned()),
    }
}

/// Connects and joins once (the setup).
async fn connect_and_join(
    tab: &Tab,
    ws_url: &str,
    api: &Api,
    resyncs: &Arc<AtomicU64>,
) -> Result<Client, String> {
    let client = connect(tab, ws_url, api, resyncs).await?;
    join(tab, &client, api).await?;
    Ok(client)
}

/// Joins with `afterSeq` = the highest seq up to which the socket holds
/// everything, taking the catch-up (and REST pages while `hasMore`) into
/// the view.
///
/// Not the highest seq seen: the server puts the socket in the room before
/// it reads the catch-up, so a join refused `unavailable` leaves it
/// receiving live messages, and asking after the newest of those would skip
/// what was stored before it. The browser asks after its newest seq and
/// fetches such a gap separately (`app/src/chat/thread.rs`); asking after
/// the gap-free run gets the same messages in one go.
async fn join(tab: &Tab, client: &Client, api: &Api) -> Result<(), String> {
    let after = lock(&tab.view).held_through();
    let ack = client
        .request(
            "join_chat",
            &json!({ "chatId": tab.chat_id, "afterSeq": after }),
            ACK_TIMEOUT,
        )
        .await
        .map_err(|e| format!("join_{}", failure_kind(&e)))?;
    if ack.data.get("ok") != Some(&Value::Bool(true)) {
        let code = ack
            .data
            .pointer("/error/code")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        return Err(format!("join_refused_{code}"));
    }
    let messages = ack
        .data
        .get("messages")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let mut last = lock(&tab.view)
        .note_all(messages, ack.at, Via::CatchUp)
        .unwrap_or(after);
    let mut more = ack.data.get("hasMore") == Some(&Value::Bool(true));
    while more {
        let (page, has_more) = api
            .page(&tab.token, tab.chat_id, last, 200)
            .await
            .map_err(|_| "catch_up_page".to_owned())?;
        let at = Instant::now();
        let mut view = lock(&tab.view);
        for m in &page {
            view.note(m.seq, m.client_id.as_deref(), at, Via::CatchUp);
        }
        more = has_more && !page.is_empty();
        last = page.last().map_or(last, |m| m.seq);
    }
    Ok(())
}

/// Joins on a fresh connection, and while the connection stays up retries
/// a refused or unanswered join after the same backoff as a reconnect.
/// (socket.io-client does not reconnect on an app-level refusal; the
/// browser retries such a join too, `chat::outgoing::after_join_failure`.)
/// `false` once the connection is gone.
async fn join_until_closed(
    tab: &Tab,
    client: &Client,
    api: &Api,
    ctx: &Ctx,
    rng: &mut XorShift,
) -> bool {
    let mut attempt = 0u32;
    loop {
        match join(tab, client, api).await {
            Ok(()) => return true,
            Err(kind) => {
                ctx.fail(kind);
                if client.is_closed() {
                    return false;
                }
                ctx.join_retries.fetch_add(1, Ordering::Relaxed);
                let delay = ctx.backoff(&mut attempt, rng);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = client.closed() => return false,
                }
            }
        }
    }
}

/// The browser outbox's wait before retrying a send (`retry_delay_ms`).
fn send_retry_delay(attempt: u32) -> Duration {
    Duration::from_millis((1_000u64 << attempt.min(4)).min(15_000))
}

enum SendResult {
    Acked,
    /// Refused for good.
    GaveUp,
    /// The connection dropped: resend after the reconnect.
    Queued,
    /// No usable answer while connected: resend after a while.
    TryAgain,
}

/// One `send_message` of the tab's message (same clientId every time).
async fn send_once(tab: &Tab, client: &Client, ctx: &Ctx) -> SendResult {
    let client_id = {
        let mut out = lock(&tab.outcome);
        let rec = out.send.get_or_insert_with(|| SendRecord {
            client_id: uuid::Uuid::new_v4().to_string(),
            emits: 0,
            acked_at: None,
            seq: None,
            refused: None,
        });
        rec.emits += 1;
        rec.client_id.clone()
    };
    let payload = json!({
        "chatId": tab.chat_id,
        "content": format!("storm: customer tab {} is back", tab.place.tab),
        "clientId": client_id,
    });
    match client.request("send_message", &payload, ACK_TIMEOUT).await {
        Ok(ack) if ack.data.get("ok") == Some(&Value::Bool(true)) => {
            if let Some(rec) = lock(&tab.outcome).send.as_mut() {
                rec.acked_at = Some(ack.at);
                rec.seq = ack.data.pointer("/message/seq").and_then(Value::as_i64);
            }
            lock(&ctx.acked[tab.place.chat]).push(client_id);
            ctx.acked_count.fetch_add(1, Ordering::Relaxed);
            SendResult::Acked
        }
        Ok(ack) => {
            let code = ack.error_code();
            *lock(&ctx.refused).entry(code.clone()).or_default() += 1;
            let definite = matches!(
                code.as_str(),
                "bad_request"
                    | "unauthorized"
                    | "forbidden"
                    | "not_found"
                    | "conflict"
                    | "payload_too_large"
            );
            if definite {
                if let Some(rec) = lock(&tab.outcome).send.as_mut() {
                    rec.refused = Some(code);
                }
                SendResult::GaveUp
            } else {
                SendResult::TryAgain
            }
        }
        Err(_) if client.is_closed() => SendResult::Queued,
        Err(_) => SendResult::TryAgain,
    }
}

/// One socket's life from the kill on: wait for its connection to go (on
/// the killed node), reconnect with backoff, rejoin, send (customers), and
/// do it all again should it drop again. Runs until aborted.
async fn run_tab(
    tab: Arc<Tab>,
    mut client: Option<Client>,
    ctx: Arc<Ctx>,
    mut kill: watch::Receiver<bool>,
) {
    let _ = kill.wait_for(|k| *k).await;
    let mut node = tab.place.node;
    if node == ctx.killed
        && let Some(c) = &client
    {
        // Its server is gone: do not send on the dead connection, wait
        // for the socket to notice.
        c.closed().await;
    }
    let mut rng = XorShift::new(ctx.seed ^ tab.index as u64);
    let mut need_send = tab.place.customer;
    let mut send_attempt = 0u32;
    loop {
        match &client {
            Some(c) if !c.is_closed() => {
                if need_send {
                    match send_once(&tab, c, &ctx).await {
                        SendResult::Acked | SendResult::GaveUp => need_send = false,
                        SendResult::Queued => {}
                        SendResult::TryAgain => {
                            tokio::select! {
                                () = tokio::time::sleep(send_retry_delay(send_attempt)) => {}
                                () = c.closed() => {}
                            }
                            send_attempt += 1;
                        }
                    }
                } else {
                    tab.settled.store(true, Ordering::Release);
                    c.closed().await;
                }
            }
            _ => {
                // Gone: reconnect the way socket.io-client's Manager does.
                tab.settled.store(false, Ordering::Release);
                // The closed one goes now (its buffers with it).
                drop(client.take());
                {
                    let mut out = lock(&tab.outcome);
                    out.drops += 1;
                    out.dropped_at.get_or_insert_with(Instant::now);
                }
                let mut attempt = 0u32;
                loop {
                    let delay = ctx.backoff(&mut attempt, &mut rng);
                    tokio::time::sleep(delay).await;
                    ctx.attempts.fetch_add(1, Ordering::Relaxed);
                    let api = &ctx.nodes[node].api;
                    match connect(&tab, &ctx.ws_urls[node], api, &ctx.resyncs).await {
                        Ok(c) => {
                            if !join_until_closed(&tab, &c, api, &ctx, &mut rng).await {
                                // Connected, then lost before the join went
                                // through: socket.io-client starts over
                                // (its backoff resets on every connect).
                                attempt = 0;
                                continue;
                            }
                            client = Some(c);
                            let first = lock(&tab.outcome).back_at.is_none();
                            if first {
                                lock(&tab.outcome).back_at = Some(Instant::now());
                                ctx.back.fetch_add(1, Ordering::Relaxed);
                            }
                            break;
                        }
                        Err(kind) => {
                            ctx.fail(kind);
                            // A load balancer would send the next one to
                            // a live node.
                            node = (node + 1) % ctx.ws_urls.len();
                        }
                    }
                }
            }
        }
    }
}

// ---- the scenario ---------------------------------------------------------------

/// `storm`.
pub async fn storm(opts: &Opts) -> anyhow::Result<Value> {
    let restart = opts.restart.unwrap_or(opts.urls.len() == 1);
    let run_id = std::process::id();
    let nodes: Vec<Node> = opts
        .urls
        .iter()
        .zip(&opts.spawn)
        .map(|(url, cmd)| {
            anyhow::Ok(Node {
                url: url.clone(),
                cmd: cmd.clone(),
                api: Api::new(url)?,
                child: Mutex::new(None),
                pid: Mutex::new(None),
                logs: Mutex::new(Vec::new()),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let nodes = Arc::new(nodes);
    let ws_urls = opts
        .urls
        .iter()
        .map(|u| ws_url(u))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let killed = nodes.len() - 1;

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
    let result = run(opts, &nodes, &ws_urls, killed, restart, run_id).await;

    // Stop whatever still runs, whatever happened.
    for node in nodes.iter() {
        node.stop().await;
    }
    result
}

async fn run(
    opts: &Opts,
    nodes: &Arc<Vec<Node>>,
    ws_urls: &[String],
    killed: usize,
    restart: bool,
    run_id: u32,
) -> anyhow::Result<Value> {
    // 2. Chats and sockets.
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
    tokio::time::sleep(opts.duration).await;

    // 3. The storm: every socket's task waits for the kill.
    let ctx = Arc::new(Ctx {
        ws_urls: ws_urls.to_vec(),
        nodes: nodes.clone(),
        killed,
        reconnect_delay: opts.reconnect_delay,
        reconnect_delay_max: opts.reconnect_delay_max,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64),
        acked: (0..pairs.len()).map(|_| Mutex::new(Vec::new())).collect(),
        attempts: AtomicU64::new(0),
        attempt_failures: Mutex::new(BTreeMap::new()),
        back: AtomicU64::new(0),
        acked_count: AtomicU64::new(0),
        refused: Mutex::new(BTreeMap::new()),
        resyncs: resyncs.clone(),
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
    let restart_info = match restarted {
        Some(handle) => Some(handle.await.context("restart task")??),
        None => None,
    };

    // 4. The numbers.
    let secs_since_kill = |t: Instant| (t - kill_at).as_secs_f64();
    let mut back_ms = Samples::default();
    let mut back_s = Vec::new();
    let (mut dropped, mut redrops) = (0usize, 0u64);
    let (mut sent, mut emits, mut acked, mut gave_up) = (0u64, 0u64, 0u64, 0u64);
    let mut last_ack: Option<Instant> = None;
    let mut sent_ids: Vec<Vec<(String, bool)>> = vec![Vec::new(); pairs.len()];
    for t in &live {
        let out = lock(&t.outcome);
        if out.dropped_at.is_some() {
            dropped += 1;
            redrops += u64::from(out.drops.saturating_sub(1));
            if let Some(back) = out.back_at {
                back_ms.push(back - kill_at);
                back_s.push(secs_since_kill(back));
            }
        }
        if let Some(rec) = &out.send {
            sent += 1;
            emits += u64::from(rec.emits);
            acked += u64::from(rec.acked_at.is_some());
            gave_up += u64::from(rec.refused.is_some());
            last_ack = last_ack.max(rec.acked_at);
            sent_ids[t.place.chat].push((rec.client_id.clone(), rec.acked_at.is_some()));
        }
    }
    let back = back_s.len();
    let all_back_s = (back == dropped && dropped > 0)
        .then(|| back_s.iter().copied().fold(0.0, f64::max))
        .map(round2);
    // Who sent what: did the sender drop, and the seq it was stored under.
    let senders: HashMap<String, (bool, Option<i64>)> = live
        .iter()
        .filter_map(|t| {
            let out = lock(&t.outcome);
            let rec = out.send.as_ref()?;
            Some((rec.client_id.clone(), (out.dropped_at.is_some(), rec.seq)))
        })
        .collect();
    let mut tally = Tally::default();
    let mut sockets_with_gaps = 0u64;
    let mut detail = MissingDetail::default();
    for t in live.iter().filter(|t| !t.place.customer) {
        let acked = lock(&ctx.acked[t.place.chat]);
        let view = lock(&t.view);
        tally.add(&view.tally(acked.iter()));
        sockets_with_gaps += u64::from(view.has_gap());
        let missing = view.missing(acked.iter());
        if missing.is_empty() {
            continue;
        }
        let receiver_dropped = lock(&t.outcome).dropped_at.is_some();
        detail.sockets += 1;
        for id in missing {
            let (sender_dropped, seq) = senders.get(id).copied().unwrap_or((false, None));
            detail.note(
                receiver_dropped,
                sender_dropped,
                seq.is_some_and(|s| s > view.max_seq),
            );
        }
    }
    let all_acked = acked == customers as u64;
    let everyone_back = back == dropped;
    let all_caught_up_s = (tally.missing == 0 && all_acked && everyone_back)
        .then(|| tally.last_at.map_or(0.0, secs_since_kill))
        .map(round2);

    // 5. What the database holds, read from a node still up.
    let reader = nodes.iter().find(|n| n.pid().is_some());
    let verified = match reader {
        Some(node) => {
            eprintln!(
                "verify: reading back {} chats from {}",
                pairs.len(),
                node.url
            );
            Some(verify(&node.api, &pairs, &sent_ids, opts.setup_concurrency).await?)
        }
        None => {
            eprintln!("verify: no node left to read the history from");
            None
        }
    };

    let node_info: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let r = rss[i];
            let was_killed = i == killed;
            let (pid_after, restart_ready_s, cpu_cores) = match (&restart_info, was_killed) {
                (Some((pid, spawned, ready)), true) => (
                    Some(*pid),
                    Some(round2(ready.as_secs_f64())),
                    // Since it was started again.
                    node_cpu_end[i].map(|c| round2(c / (end - *spawned).as_secs_f64().max(1e-9))),
                ),
                (_, true) => (None, None, None),
                (_, false) => (
                    pids_before[i],
                    None,
                    match (node_cpu_before[i], node_cpu_end[i]) {
                        (Some(a), Some(b)) => {
                            Some(round2((b - a) / (end - kill_at).as_secs_f64().max(1e-9)))
                        }
                        _ => None,
                    },
                ),
            };
            json!({
                "url": n.url,
                "pid": pids_before[i],
                "killed": was_killed,
                "restarted": was_killed && restart_info.is_some(),
                "pid_after": pid_after,
                "restart_ready_s": restart_ready_s,
                "rss_before_kill_mb": r.before_kill.map(round2),
                "rss_max_mb": r.max.map(round2),
                "rss_end_mb": r.last.map(round2),
                "cpu_cores": cpu_cores,
                "logs": lock(&n.logs).iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            })
        })
        .collect();

    let (not_persisted, stored_twice, stored_unacked, seq_gaps) = match verified {
        Some(v) => (
            Some(v.not_persisted),
            Some(v.stored_twice),
            Some(v.stored_unacked),
            Some(v.seq_gaps),
        ),
        None => (None, None, None, None),
    };
    // Two halves: one `json!` this size exceeds the macro recursion limit.
    let mut report = json!({
        "scenario": "storm",
        "urls": opts.urls,
        "nodes": nodes.len(),
        "killed_url": nodes[killed].url,
        "restart": restart,
        "sockets": opts.sockets,
        "chats": pairs.len(),
        "setup": {
            "users": setup.registrations,
            "registrations_per_sec": round2(setup.registrations_per_sec),
            "bookings_per_sec": round2(setup.bookings_per_sec),
            "connect_s": round2(connect_secs),
            "sockets_per_sec": round2(connected as f64 / connect_secs.max(1e-9)),
            "connect_ms": connect_ms.summary(),
            "connect_failures": connect_failures,
        },
        "connected": connected,
        "on_killed_node": on_killed,
        "dropped": dropped,
        "back": back,
        "never_back": dropped - back,
        "back_ms": back_ms.summary(),
        "back_within_s": within(&back_s, dropped, &WITHIN_S),
        "all_back_s": all_back_s,
        "redrops": redrops,
        "reconnect_attempts": ctx.attempts.load(Ordering::Relaxed),
        "join_retries": ctx.join_retries.load(Ordering::Relaxed),
        "attempt_failures": lock(&ctx.attempt_failures).clone(),
    });
    let messages = json!({
        "customers": customers,
        "sent": sent,
        "send_emits": emits,
        "acked": acked,
        "unacked": sent - acked - gave_up,
        "refused": lock(&ctx.refused).clone(),
        "all_acked_s": (all_acked && customers > 0).then(|| last_ack.map_or(0.0, secs_since_kill)).map(round2),
        "expected_deliveries": tally.expected,
        "delivered": tally.delivered,
        "delivered_live": tally.delivered_live,
        "delivered_catch_up": tally.delivered_catch_up,
        "delivered_resync": tally.delivered_resync,
        "resyncs": ctx.resyncs.load(Ordering::Relaxed),
        "missing": tally.missing,
        "duplicated": tally.duplicated,
        "duplicated_raw": tally.duplicated_raw,
        "sockets_with_gaps": sockets_with_gaps,
        "missing_detail": detail.to_json(),
        "last_delivery_s": tally.last_at.map(|t| round2(secs_since_kill(t))),
        "all_caught_up_s": all_caught_up_s,
        "storm_s": round2(storm_secs),
        "finished": caught_up_at.is_some(),
        "grace_s": opts.grace.as_secs_f64(),
        "not_persisted": not_persisted,
        "stored_twice": stored_twice,
        "stored_unacked": stored_unacked,
        "seq_gaps": seq_gaps,
        "reconnect_delay_ms": opts.reconnect_delay.as_millis() as u64,
        "reconnect_delay_max_ms": opts.reconnect_delay_max.as_millis() as u64,
        "loadgen_cpu_cores": loadgen_cores,
        "node": node_info,
    });
    if let (Some(report), Value::Object(messages)) = (report.as_object_mut(), messages) {
        report.extend(messages);
    }
    Ok(report)
}

/// Where the missing deliveries were.
#[derive(Debug, Default)]
struct MissingDetail {
    /// Provider sockets missing at least one.
    sockets: u64,
    at_reconnected: u64,
    at_never_dropped: u64,
    sent_by_reconnected: u64,
    sent_by_never_dropped: u64,
    /// Stored above every seq the socket received: nothing shows the
    /// client a gap, so even a gap-fetching client would not ask for it.
    invisible: u64,
}

impl MissingDetail {
    fn note(&mut self, receiver_dropped: bool, sender_dropped: bool, invisible: bool) {
        if receiver_dropped {
            self.at_reconnected += 1;
        } else {
            self.at_never_dropped += 1;
        }
        if sender_dropped {
            self.sent_by_reconnected += 1;
        } else {
            self.sent_by_never_dropped += 1;
        }
        self.invisible += u64::from(invisible);
    }

    fn to_json(&self) -> Value {
        json!({
            "sockets": self.sockets,
            "at_reconnected": self.at_reconnected,
            "at_never_dropped": self.at_never_dropped,
            "sent_by_reconnected": self.sent_by_reconnected,
            "sent_by_never_dropped": self.sent_by_never_dropped,
            "invisible": self.invisible,
        })
    }
}

#[derive(Debug, Default)]
struct Verified {
    /// Acked, but not in the chat's history.
    not_persisted: u64,
    /// One of our clientIds stored more than once.
    stored_twice: u64,
    /// Never acked, but stored (an ack lost on the way).
    stored_unacked: u64,
    /// Chats whose seqs are not exactly 1..n.
    seq_gaps: u64,
}

/// Reads every chat's history back and checks the storm's messages in it.
async fn verify(
    api: &Api,
    pairs: &[api::Pair],
    sent: &[Vec<(String, bool)>],
    concurrency: usize,
) -> anyhow::Result<Verified> {
    let mut checks = stream::iter(pairs.iter().zip(sent))
        .map(|(pair, sent)| {
            let api = api.clone();
            async move {
                let stored: Vec<Stored> = api.history(&pair.customer.token, pair.chat_id).await?;
                let mut times: HashMap<&str, u64> = HashMap::new();
                for m in &stored {
                    if let Some(id) = m.client_id.as_deref() {
                        *times.entry(id).or_default() += 1;
                    }
                }
                let mut v = Verified::default();
                for (id, acked) in sent {
                    match (times.get(id.as_str()).copied().unwrap_or(0), acked) {
                        (0, true) => v.not_persisted += 1,
                        (0, false) => {}
                        (1, true) => {}
                        (1, false) => v.stored_unacked += 1,
                        (_, _) => v.stored_twice += 1,
                    }
                }
                let seqs: Vec<i64> = stored.iter().map(|m| m.seq).collect();
                v.seq_gaps = u64::from(has_gap(&seqs));
                anyhow::Ok(v)
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut total = Verified::default();
    while let Some(v) = checks.next().await {
        let v = v?;
        total.not_persisted += v.not_persisted;
        total.stored_twice += v.stored_twice;
        total.stored_unacked += v.stored_unacked;
        total.seq_gaps += v.seq_gaps;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_is_socket_io_clients() {
        let (base, max) = (SEC, 5 * SEC);
        // No jitter draw: rand 0 subtracts nothing.
        assert_eq!(reconnect_delay(0, base, max, 0.0), SEC);
        assert_eq!(reconnect_delay(1, base, max, 0.0), 2 * SEC);
        assert_eq!(reconnect_delay(2, base, max, 0.0), 4 * SEC);
        assert_eq!(reconnect_delay(3, base, max, 0.0), 5 * SEC, "capped");
        assert_eq!(reconnect_delay(40, base, max, 0.0), 5 * SEC);
        assert_eq!(reconnect_delay(u32::MAX, base, max, 0.99), 5 * SEC);
        // First digit even: minus; odd: plus (backo2).
        assert_eq!(
            reconnect_delay(0, base, max, 0.2),
            Duration::from_millis(900)
        );
        assert_eq!(
            reconnect_delay(0, base, max, 0.1),
            Duration::from_millis(1050)
        );
        assert_eq!(
            reconnect_delay(1, base, max, 0.9),
            Duration::from_millis(2900)
        );
        // Bounds over many draws: attempt n within base·2^n ± 50 %, ≤ max.
        let mut rng = XorShift::new(7);
        for attempt in 0..6u32 {
            let nominal = 1000.0 * 2f64.powi(attempt as i32);
            let (mut lo, mut hi) = (f64::MAX, 0f64);
            for _ in 0..2000 {
                let d = reconnect_delay(attempt, base, max, rng.next_f64()).as_millis() as f64;
                assert!(
                    d >= (nominal * 0.5).min(5000.0) - 1.0,
                    "attempt {attempt}: {d}"
                );
                assert!(d <= (nominal * 1.5).min(5000.0), "attempt {attempt}: {d}");
                lo = lo.min(d);
                hi = hi.max(d);
            }
            if attempt == 0 {
                // Actually spread over the range.
                assert!(lo < 600.0 && hi > 1400.0, "{lo}..{hi}");
            }
        }
    }

    #[test]
    fn xorshift_is_uniform_enough() {
        let mut rng = XorShift::new(0);
        let draws: Vec<f64> = (0..10_000).map(|_| rng.next_f64()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_ne!(XorShift::new(1).next_f64(), XorShift::new(2).next_f64());
    }

    #[test]
    fn sockets_spread_over_chats_roles_and_nodes() {
        // 10,000 over 500 chats: 10 tabs of each side per chat.
        let places: Vec<Place> = (0..10_000).map(|i| place(i, 500, 2)).collect();
        for chat in [0, 7, 499] {
            let of = |customer: bool, node: usize| {
                places
                    .iter()
                    .filter(|p| p.chat == chat && p.customer == customer && p.node == node)
                    .count()
            };
            assert_eq!((of(true, 0), of(true, 1)), (5, 5), "chat {chat} customers");
            assert_eq!(
                (of(false, 0), of(false, 1)),
                (5, 5),
                "chat {chat} providers"
            );
        }
        assert_eq!(
            place(0, 500, 2),
            Place {
                chat: 0,
                customer: true,
                tab: 0,
                node: 0
            }
        );
        assert_eq!(
            place(1, 500, 2),
            Place {
                chat: 0,
                customer: false,
                tab: 0,
                node: 1
            }
        );
        assert_eq!(place(1000, 500, 2).tab, 1);
        assert!((0..100).all(|i| place(i, 10, 1).node == 0));
    }

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn deliveries_missing_and_duplicates() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut v = View::default();
        v.note(1, None, at(0), Via::CatchUp); // the booking message
        v.note(2, Some("a"), at(10), Via::Live);
        v.note(3, Some("b"), at(20), Via::Live);
        // The rejoin's catch-up brings b again (same seq): raw duplicate only.
        v.note(3, Some("b"), at(30), Via::CatchUp);
        v.note(4, Some("c"), at(40), Via::CatchUp);
        // x under a second seq: stored twice, a duplicate the user sees.
        v.note(5, Some("x"), at(50), Via::Live);
        v.note(6, Some("x"), at(60), Via::Live);
        assert_eq!(v.max_seq, 6);
        assert!(!v.has_gap());
        let expected = ids(&["a", "b", "c", "d", "x"]);
        assert!(!v.has_all(expected.iter()));
        assert_eq!(v.missing(expected.iter()), [&expected[3]]);
        assert!(v.has_all(expected[..3].iter()));
        let t = v.tally(expected.iter());
        assert_eq!(
            t,
            Tally {
                expected: 5,
                delivered: 4,
                delivered_live: 3,
                delivered_catch_up: 1,
                delivered_resync: 0,
                missing: 1,
                duplicated_raw: 2,
                duplicated: 1,
                last_at: Some(at(50)),
            }
        );
        let mut sum = Tally::default();
        sum.add(&t);
        sum.add(&View::default().tally(expected.iter()));
        assert_eq!((sum.expected, sum.delivered, sum.missing), (10, 4, 6));
        assert_eq!(sum.last_at, Some(at(50)));
    }

    #[test]
    fn catch_up_messages_and_gaps() {
        let now = Instant::now();
        let mut v = View::default();
        let msgs = vec![
            json!({"seq": 1, "clientId": null, "kind": "system"}),
            json!({"seq": 2, "clientId": "a"}),
            json!({"seq": 4, "clientId": "c"}),
            json!({"no": "seq"}),
        ];
        assert_eq!(v.note_all(&msgs, now, Via::CatchUp), Some(4));
        assert!(v.has_gap(), "3 never came");
        assert_eq!(v.held_through(), 2, "a fetch after resync asks after 2");
        assert_eq!(v.note_all(&[], now, Via::CatchUp), None);
        v.note(3, Some("b"), now, Via::Resync);
        assert!(!v.has_gap());
        assert_eq!((v.max_seq, v.held_through()), (4, 4));
        let t = v.tally(ids(&["a", "b", "c"]).iter());
        assert_eq!(
            (t.delivered_catch_up, t.delivered_resync, t.missing),
            (2, 1, 0)
        );
        let mut late = View::default();
        late.note(2, Some("a"), now, Via::Live);
        assert!(late.has_gap(), "1 is missing");
        assert_eq!(late.held_through(), 0);
        assert_eq!(View::default().held_through(), 0);
    }

    #[test]
    fn a_refused_join_does_not_move_the_rejoin_past_a_gap() {
        // Held 1..=3; a join refused after the server put the socket in the
        // room lets seq 7 arrive live while 4..=6 were stored meanwhile.
        let now = Instant::now();
        let mut v = View::default();
        for seq in 1..=3 {
            v.note(seq, None, now, Via::CatchUp);
        }
        v.note(7, Some("g"), now, Via::Live);
        assert_eq!(v.max_seq, 7);
        assert_eq!(v.held_through(), 3, "the retry asks after 3, not 7");
        // Its catch-up brings 4..=7: 7 again is a raw duplicate only.
        for (seq, id) in [(4, "d"), (5, "e"), (6, "f"), (7, "g")] {
            v.note(seq, Some(id), now, Via::CatchUp);
        }
        let t = v.tally(ids(&["d", "e", "f", "g"]).iter());
        assert_eq!((t.missing, t.duplicated_raw, t.duplicated), (0, 1, 0));
        assert_eq!(v.held_through(), 7);
    }

    #[test]
    fn percent_back_within() {
        let times = [0.4, 1.0, 1.7, 4.9, 12.0];
        let w = within(&times, 8, &[1, 2, 5, 60]);
        assert_eq!(w["1"], 25.0);
        assert_eq!(w["2"], 37.5);
        assert_eq!(w["5"], 50.0);
        assert_eq!(w["60"], 62.5);
        assert_eq!(within(&[], 0, &[1])["1"], 0.0);
    }
}
