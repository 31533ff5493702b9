//! The benchmark scenarios, and what they share. Each returns the JSON
//! object printed as the run's one line on stdout.
//!
//! * `throughput`: every chat's customer keeps `in_flight` `send_message`
//!   requests outstanding for `duration`; the provider's socket receives.
//! * `latency`: every chat's customer sends `rate` messages a second for
//!   `duration`, chats spread evenly over the period (open loop: a send
//!   does not wait for the previous ack).
//! * `idle`: `sockets` authenticated sockets, each joined to one chat,
//!   holding still; connect rate and the server's memory per socket
//!   (`idle.rs`).
//! * `storm`: the server nodes started by loadgen, one killed under
//!   joined sockets that reconnect, rejoin and send (`storm/`).
//! * `accounts`: sign-ups and sign-ins (`accounts.rs`).
//! * `archive`: list, history, catch-up, search and a photo's upload and
//!   download on a seeded archive (`archive.rs`).
//!
//! `throughput` and `latency` are `messaging.rs`.

mod archive;
mod idle;
mod messaging;

pub use archive::archive;
pub use idle::idle;
pub use messaging::messaging;

use crate::sio::{Client, OnEvent};
use anyhow::{Context, bail};
use contract::model::{ChatId, Seq};
use contract::protocol::{JoinChat, Request};
use std::sync::{Mutex, MutexGuard};
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
    Archive,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Self::Throughput => "throughput",
            Self::Latency => "latency",
            Self::Idle => "idle",
            Self::Storm => "storm",
            Self::Accounts => "accounts",
            Self::Archive => "archive",
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
    /// accounts: how many users to register and then sign in; archive:
    /// how many the archive has.
    pub users: usize,
    /// archive: users reading at once.
    pub clients: usize,
    /// archive: each client starts a round this often (`None`: back to
    /// back).
    pub round_every: Option<Duration>,
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
    chat_id: ChatId,
    on_event: Option<OnEvent>,
) -> anyhow::Result<(Client, Duration, Duration)> {
    let t0 = Instant::now();
    let client = tokio::time::timeout(ANSWER_TIMEOUT, Client::connect_as(ws_url, token, on_event))
        .await
        .context("connect timed out")??;
    let connected = t0.elapsed();
    let t1 = Instant::now();
    let join = JoinChat {
        chat_id,
        after_seq: None,
        after_message_id: None,
    };
    let answer = client.request(&join, ANSWER_TIMEOUT).await?;
    if let Err(refusal) = answer.reply {
        bail!("{} {chat_id} refused: {refusal}", JoinChat::NAME);
    }
    Ok((client, connected, t1.elapsed()))
}

/// Whether seqs (as stored, oldest first) are anything but 1, 2, …, n.
pub fn has_gap(seqs: &[Seq]) -> bool {
    seqs.iter().zip(1..).any(|(&seq, want)| seq != want)
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
