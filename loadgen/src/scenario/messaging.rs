//! `throughput` and `latency`: customers send, providers receive.
//!
//! * `throughput`: every chat's customer keeps `in_flight` `send_message`
//!   requests outstanding for `duration`; the provider's socket receives.
//! * `latency`: every chat's customer sends `rate` messages a second for
//!   `duration`, chats spread evenly over the period (open loop: a send
//!   does not wait for the previous ack).
//!
//! Messages are tracked by `clientId` per chat: when emitted, when acked,
//! and how often `new_message` reached the other participant's socket.
//! After the run (plus a grace period for stragglers) each chat's stored
//! history is read back over REST to check persistence and seqs.

use super::{ANSWER_TIMEOUT, Opts, Scenario, connect_and_join, has_gap, lock, ws_url};
use crate::api::{self, Api, Pair};
use crate::sio::{Client, OnEvent, SioError};
use crate::socket;
use crate::stats::{CpuWindow, Samples, round2, rss_mib};
use contract::model::Seq;
use contract::protocol::{NewMessage, SendMessage};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    highest_seq: Seq,
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
        let Some(NewMessage(message)) = socket::event(name, data) else {
            return;
        };
        let mut st = lock(&state);
        if message.seq < st.highest_seq {
            st.reordered += 1;
        } else {
            st.highest_seq = message.seq;
        }
        let Some(client_id) = message.client_id.as_deref() else {
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
    let request = SendMessage {
        chat_id: chat.pair.chat_id,
        content: format!("loadgen message {n}: the quick brown fox jumps over the lazy dog"),
        client_id: client_id.clone(),
        attachments: Vec::new(),
    };
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
    match client.request(&request, ANSWER_TIMEOUT).await {
        Ok(answer) => {
            if let Some(sent) = lock(&chat.state).sent.get_mut(&client_id) {
                if answer.reply.is_ok() {
                    sent.acked = Some(answer.at);
                } else {
                    sent.refused = true;
                }
            }
            match answer.reply {
                Ok(_) => {
                    counters.acked.fetch_add(1, Ordering::Relaxed);
                }
                Err(refusal) => {
                    let code = refusal.code().to_owned();
                    *lock(&counters.refused).entry(code).or_default() += 1;
                }
            }
            true
        }
        Err(e) => {
            counters.unacked.fetch_add(1, Ordering::Relaxed);
            !matches!(e, SioError::Closed)
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
                let seqs: Vec<Seq> = stored.iter().map(|m| m.seq).collect();
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
