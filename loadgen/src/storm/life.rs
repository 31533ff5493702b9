//! One socket's life from the kill on (`run_tab`), over `session`'s
//! connect, join and send.

use super::backoff::{XorShift, send_retry_delay};
use super::session::{SendResult, connect, join_until_closed, send_once};
use super::tab::{Ctx, Tab};
use crate::scenario::lock;
use crate::sio::Client;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::watch;

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
