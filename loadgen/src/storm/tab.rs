//! One socket of the storm (a tab of a customer or a provider): where it
//! belongs, what it shares with the others, and its life from the kill on.

use super::backoff::{XorShift, reconnect_delay, send_retry_delay};
use super::nodes::Node;
use super::session::{SendResult, connect, join_until_closed, send_once};
use super::view::View;
use crate::scenario::lock;
use crate::sio::Client;
use contract::model::{ChatId, Seq};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

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

/// One message a customer tab sends after the kill.
#[derive(Clone, Debug)]
pub struct SendRecord {
    pub client_id: String,
    /// `send_message` emits (resends included).
    pub emits: u32,
    pub acked_at: Option<Instant>,
    /// The seq the ack gave it.
    pub seq: Option<Seq>,
    /// A definite refusal (the browser gives up on those).
    pub refused: Option<String>,
}

/// What happened to one socket after the kill.
#[derive(Debug, Default)]
pub struct Outcome {
    /// When it first noticed its connection was gone.
    pub dropped_at: Option<Instant>,
    /// When it was connected and joined again after that.
    pub back_at: Option<Instant>,
    pub drops: u32,
    pub send: Option<SendRecord>,
}

/// One socket (a tab of a customer or provider).
pub struct Tab {
    pub index: usize,
    pub place: Place,
    pub chat_id: ChatId,
    pub token: String,
    pub view: Arc<Mutex<View>>,
    /// Joined, and (customers) its message acked: nothing left to do.
    pub settled: AtomicBool,
    pub outcome: Mutex<Outcome>,
}

/// What the sockets share.
pub struct Ctx {
    pub ws_urls: Vec<String>,
    pub nodes: Arc<Vec<Node>>,
    pub killed: usize,
    pub reconnect_delay: Duration,
    pub reconnect_delay_max: Duration,
    pub seed: u64,
    /// Acked clientIds per chat index.
    pub acked: Vec<Mutex<Vec<String>>>,
    pub attempts: AtomicU64,
    pub attempt_failures: Mutex<BTreeMap<String, u64>>,
    pub back: AtomicU64,
    pub acked_count: AtomicU64,
    pub refused: Mutex<BTreeMap<String, u64>>,
    /// `resync` events received (setup included).
    pub resyncs: Arc<AtomicU64>,
    /// Joins refused or unanswered on a connection that stayed up.
    pub join_retries: AtomicU64,
}

impl Ctx {
    pub fn fail(&self, kind: String) {
        *lock(&self.attempt_failures).entry(kind).or_default() += 1;
    }

    /// socket.io-client's delay before retry number `attempt` (then counts it).
    pub fn backoff(&self, attempt: &mut u32, rng: &mut XorShift) -> Duration {
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

/// One socket's life from the kill on: wait for its connection to go (on
/// the killed node), reconnect with backoff, rejoin, send (customers), and
/// do it all again should it drop again. Runs until aborted.
pub async fn run_tab(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
