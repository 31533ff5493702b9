//! What a storm's socket says to the server, the way the browser says it:
//! connect, join with a catch-up, fetch after `resync`, send through the
//! outbox's rules.

use super::backoff::XorShift;
use super::tab::{Ctx, SendRecord, Tab};
use super::view::Via;
use crate::api::Api;
use crate::scenario::lock;
use crate::sio::{Client, OnEvent, SioError};
use crate::socket;
use contract::protocol::{JoinChat, NewMessage, Resync, SendMessage};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// socket.io-client's `timeout`: how long one (re)connect attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// The browser's `ACK_TIMEOUT_MS` (`app/src/chat/live/mod.rs`).
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

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

/// Live `new_message`s of the socket's chat go into its view. On `resync`
/// (the server dropped events for this socket: its buffer was full) it
/// fetches what came after its gap-free run over REST, as the browser does.
fn on_event(tab: &Tab, api: &Api, resyncs: &Arc<AtomicU64>) -> OnEvent {
    let (view, chat_id, token) = (tab.view.clone(), tab.chat_id, tab.token.clone());
    let (api, resyncs) = (api.clone(), resyncs.clone());
    Arc::new(move |name: &str, data: &Value, at: Instant| {
        if let Some(NewMessage(m)) = socket::event(name, data) {
            if m.chat_id == chat_id {
                lock(&view).note(m.seq, m.client_id.as_deref(), at, Via::Live);
            }
        } else if let Some(Resync {}) = socket::event(name, data) {
            resyncs.fetch_add(1, Ordering::Relaxed);
            let (view, token, api) = (view.clone(), token.clone(), api.clone());
            tokio::spawn(async move {
                let mut after = lock(&view).held_through();
                loop {
                    let Ok(page) = api.page(&token, chat_id, after, 200).await else {
                        return;
                    };
                    let at = Instant::now();
                    let mut v = lock(&view);
                    let last = v.note_all(&page.messages, at, Via::Resync);
                    after = last.unwrap_or(after);
                    if !page.has_more || page.messages.is_empty() {
                        return;
                    }
                }
            });
        }
    })
}

/// Connects and CONNECTs (socket.io-client's "connect"); the failure's
/// kind otherwise.
pub async fn connect(
    tab: &Tab,
    ws_url: &str,
    api: &Api,
    resyncs: &Arc<AtomicU64>,
) -> Result<Client, String> {
    match tokio::time::timeout(
        CONNECT_TIMEOUT,
        Client::connect_as(ws_url, &tab.token, Some(on_event(tab, api, resyncs))),
    )
    .await
    {
        Ok(Ok(c)) => Ok(c),
        Ok(Err(e)) => Err(failure_kind(&e)),
        Err(_) => Err("connect_timeout".to_owned()),
    }
}

/// Connects and joins once (the setup).
pub async fn connect_and_join(
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
pub async fn join(tab: &Tab, client: &Client, api: &Api) -> Result<(), String> {
    let after = lock(&tab.view).held_through();
    let request = JoinChat {
        chat_id: tab.chat_id,
        after_seq: Some(after),
        after_message_id: None,
    };
    let answer = client
        .request(&request, ACK_TIMEOUT)
        .await
        .map_err(|e| format!("join_{}", failure_kind(&e)))?;
    let reply = answer
        .reply
        .map_err(|refusal| format!("join_refused_{}", refusal.code()))?;
    let messages = reply.messages.unwrap_or_default();
    let mut last = lock(&tab.view)
        .note_all(&messages, answer.at, Via::CatchUp)
        .unwrap_or(after);
    let mut more = reply.has_more == Some(true);
    while more {
        let page = api
            .page(&tab.token, tab.chat_id, last, 200)
            .await
            .map_err(|_| "catch_up_page".to_owned())?;
        let at = Instant::now();
        let noted = lock(&tab.view).note_all(&page.messages, at, Via::CatchUp);
        more = page.has_more && !page.messages.is_empty();
        last = noted.unwrap_or(last);
    }
    Ok(())
}

/// Joins on a fresh connection, and while the connection stays up retries
/// a refused or unanswered join after the same backoff as a reconnect.
/// (socket.io-client does not reconnect on an app-level refusal; the
/// browser retries such a join too, `chat::outgoing::after_join_failure`.)
/// `false` once the connection is gone.
pub async fn join_until_closed(
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

pub enum SendResult {
    Acked,
    /// Refused for good.
    GaveUp,
    /// The connection dropped: resend after the reconnect.
    Queued,
    /// No usable answer while connected: resend after a while.
    TryAgain,
}

/// One `send_message` of the tab's message (same clientId every time).
pub async fn send_once(tab: &Tab, client: &Client, ctx: &Ctx) -> SendResult {
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
    let request = SendMessage {
        chat_id: tab.chat_id,
        content: format!("storm: customer tab {} is back", tab.place.tab),
        client_id: client_id.clone(),
        attachments: Vec::new(),
    };
    match client.request(&request, ACK_TIMEOUT).await {
        Ok(socket::Answer {
            reply: Ok(reply),
            at,
        }) => {
            if let Some(rec) = lock(&tab.outcome).send.as_mut() {
                rec.acked_at = Some(at);
                rec.seq = Some(reply.message.seq);
            }
            lock(&ctx.acked[tab.place.chat]).push(client_id);
            ctx.acked_count.fetch_add(1, Ordering::Relaxed);
            SendResult::Acked
        }
        Ok(socket::Answer {
            reply: Err(refusal),
            ..
        }) => {
            let code = refusal.code().to_owned();
            *lock(&ctx.refused).entry(code.clone()).or_default() += 1;
            // The codes the browser's outbox gives up on.
            if refusal.is_definite() {
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
