//! One socket of the storm (a tab of a customer or a provider): where it
//! belongs and what it shares with the others (its life from the kill on is
//! `life`).

use super::backoff::{XorShift, reconnect_delay};
use super::nodes::Node;
use super::view::View;
use crate::scenario::lock;
use contract::model::{ChatId, Seq};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
