//! Two nodes on a Redis Cluster (scripts/redis-cluster: three masters, a
//! replica each) lose the master that carries the Socket.IO adapter's
//! broadcast channel in the middle of a conversation. Its replica takes
//! over; delivery across the nodes resumes by itself and nothing is lost:
//! what crossed no node while the shard was down, the client fetches by
//! seq.
//!
//! Runs only with `TEST_REDIS_CLUSTER_URLS` (scripts/test's Redis Cluster
//! pass), and alone: killing a master would disturb other tests sharing
//! the cluster.

use crate::cluster::{by_seq, history, send_until_heard, settle};
use crate::helpers::pair;
use contract::protocol::NewMessage;
use std::process::Command;
use std::time::{Duration, Instant};

/// `redis-cli -p PORT ARGS…`, its output.
fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("redis://host:port")
}

/// The address (`127.0.0.1:PORT`) of the master serving `slot`, as `port`
/// sees the cluster.
fn master_of_slot(port: u16, slot: u16) -> Option<String> {
    cli(port, &["cluster", "nodes"]).lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let is_live_master = f.get(2)?.split(',').any(|flag| flag == "master")
            && !f[2].contains("fail")
            && f.get(7) == Some(&"connected");
        let serves = f.iter().skip(8).any(|range| match range.split_once('-') {
            Some((lo, hi)) => {
                (lo.parse().unwrap_or(u16::MAX)..=hi.parse().unwrap_or(0)).contains(&slot)
            }
            None => range.parse() == Ok(slot),
        });
        (is_live_master && serves).then(|| f[1].split('@').next().unwrap_or("").to_owned())
    })
}

/// A field of `INFO server`.
fn info_field(port: u16, name: &str) -> Option<String> {
    cli(port, &["info", "server"]).lines().find_map(|l| {
        l.strip_prefix(&format!("{name}:"))
            .map(|v| v.trim().to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_mid_run_fails_over_and_nothing_is_lost() {
    let Ok(seeds) = std::env::var("TEST_REDIS_CLUSTER_URLS") else {
        eprintln!("skipping: no TEST_REDIS_CLUSTER_URLS (scripts/test's Redis Cluster pass)");
        return;
    };
    let Some(a) = crate::helpers::clustered_on_postgres().await else {
        return;
    };
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let mut c = a.socket(&customer).await;
    let mut p = b.socket(&provider).await;
    c.join(chat).await;
    p.join(chat).await;
    send_until_heard(&c, chat, "before the kill", &mut p).await;

    // The shard that carries every broadcast between the nodes.
    let ports: Vec<u16> = seeds.split(',').map(port_of).collect();
    let channel = format!("{}:socket.io-request#/#", a.config.redis_prefix);
    let slot: u16 = cli(ports[0], &["cluster", "keyslot", &channel])
        .trim()
        .parse()
        .expect("a slot");
    let victim = master_of_slot(ports[0], slot).expect("the slot's master");
    let victim_port = port_of(&victim);
    let pid = info_field(victim_port, "process_id").expect("pid");
    let config = info_field(victim_port, "config_file").expect("config file");
    let witness = *ports
        .iter()
        .find(|p| **p != victim_port)
        .expect("another node");
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("kill")
            .success(),
        "SIGKILL the master"
    );

    // The customer keeps writing, ten messages a second (under the send
    // limit; each waits for its ack, as the browser's outbox does), until
    // a replica serves the slot.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    let mut during = 0;
    let promoted = loop {
        pace.tick().await;
        c.send(chat, &format!("during the failover {during}")).await;
        during += 1;
        match master_of_slot(witness, slot) {
            Some(m) if m != victim => break m,
            _ => assert!(
                Instant::now() < deadline,
                "no replica took over within 30 s"
            ),
        }
    };
    eprintln!("{during} messages sent while {victim} failed over to {promoted}");

    // Delivery across the nodes resumes by itself…
    let last = send_until_heard(&c, chat, "after the failover", &mut p).await;
    // …and the provider's tab closes by seq whatever it missed meanwhile.
    let all = history(&a, &customer, chat).await;
    assert!(
        all.len() as i64 >= 3 + during,
        "every acked message is stored"
    );
    let mut heard = p.heard(chat, Duration::from_millis(700)).await;
    heard.push(last);
    heard.sort_by_key(|m| m.seq);
    heard.dedup_by_key(|m| m.seq);
    let (held, _gaps) = settle(&a, &provider, chat, 1, heard).await;
    assert_eq!(
        held,
        by_seq(&all, 1),
        "the provider ends with every message once"
    );
    // Live events still flow both ways.
    let reply = p.send(chat, "got them all").await;
    c.expect_event_where(|m: &NewMessage| m.0.id == reply.id)
        .await;

    // The killed master comes back as a replica, so the cluster can lose a
    // master again (the next run starts a cluster of its own anyway).
    let started = Command::new("redis-server")
        .arg(&config)
        .status()
        .expect("redis-server");
    assert!(started.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cli(victim_port, &["cluster", "info"]).contains("cluster_state:ok") {
        assert!(Instant::now() < deadline, "the old master did not rejoin");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
