//! After the storm: the numbers, and what the database holds.

use super::Cluster;
use super::kill::Stormed;
use super::setup::Connecting;
use super::view::{Tally, within};
use crate::api::{Api, Pair, SetupStats};
use crate::scenario::{Opts, has_gap, lock};
use crate::stats::{Samples, round2};
use contract::model::{Message, Seq};
use futures_util::{StreamExt, stream};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// `back_within_s` thresholds.
const WITHIN_S: [u64; 7] = [1, 2, 3, 5, 10, 30, 60];

/// The run's JSON line.
pub async fn report(
    opts: &Opts,
    cluster: &Cluster,
    pairs: &[Pair],
    setup: &SetupStats,
    connect: Connecting,
    stormed: Stormed,
) -> anyhow::Result<Value> {
    let (nodes, killed, restart) = (&cluster.nodes, cluster.killed, cluster.restart);
    let Connecting {
        ms: connect_ms,
        failures: connect_failures,
        secs: connect_secs,
        joined: connected,
    } = connect;
    let Stormed {
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
        restarted: restart_info,
    } = stormed;

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
    let senders: HashMap<String, (bool, Option<Seq>)> = live
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
            Some(verify(&node.api, pairs, &sent_ids, opts.setup_concurrency).await?)
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
    pairs: &[Pair],
    sent: &[Vec<(String, bool)>],
    concurrency: usize,
) -> anyhow::Result<Verified> {
    let mut checks = stream::iter(pairs.iter().zip(sent))
        .map(|(pair, sent)| {
            let api = api.clone();
            async move {
                let stored: Vec<Message> = api.history(&pair.customer.token, pair.chat_id).await?;
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
                let seqs: Vec<Seq> = stored.iter().map(|m| m.seq).collect();
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
