//! `archive`: the reads of a marketplace with years of chats, against an
//! archive written by `server archive seed` (docs/benchmarks.md, "Scale of
//! data"). `clients` users at once, each the customer of one long chat
//! (clients share a customer when there are fewer long chats than clients),
//! repeat for `duration` (back to back, or one round every
//! `--round-every` per client): the chat list's first page, a history page deep
//! in the long chat, a join's catch-up of its last 50 messages and a search
//! for a vocabulary word. Meanwhile one more client uploads a 2 MB photo
//! and downloads it again, one after another (uploads are rare beside
//! reads; fifty at once would only measure the queue for the two image
//! decoders of a two-core machine). Every operation's latency is reported
//! apart.
//!
//! The archive's shape is `server/src/storage/archive.rs`'s: user `n` is
//! `archive-{n}@example.test`, customers are users 1…users/2, chat `g` is
//! customer `1 + g mod customers`'s, every 997th chat is long (ten times
//! `per_chat`).

use super::{Opts, ws_url};
use crate::sio::Client;
use crate::stats::Samples;
use anyhow::{Context, bail};
use contract::model::{Attachment, ChatId, Seq};
use contract::protocol::JoinChat;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The archive's password (`server archive seed --password`).
pub const PASSWORD: &str = "archive horse battery staple";

/// One chat in this many is long (`storage::archive::LONG_EVERY`).
const LONG_EVERY: usize = 997;

/// Words searched for, from the archive's vocabulary (each in ~7% of
/// messages; the last a prefix).
const SEARCHES: &[&str] = &[
    "boiler",
    "invoice warranty",
    "kitchen",
    "gutter ladder",
    "recei",
];

#[derive(Default)]
struct Ops {
    list: Samples,
    history: Samples,
    catch_up: Samples,
    search: Samples,
    upload: Samples,
    download: Samples,
    errors: Vec<String>,
}

/// A JPEG of about 2 MB: noise compresses badly, as a phone photo does.
fn photo() -> Vec<u8> {
    let (w, h) = (1400u32, 1050u32);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let pixels: Vec<u8> = (0..w * h * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80);
    image::ImageEncoder::write_image(encoder, &pixels, w, h, image::ExtendedColorType::Rgb8)
        .expect("a JPEG encodes");
    out
}

struct Session {
    token: String,
    chat: ChatId,
    last_seq: Seq,
    socket: Client,
}

async fn sign_in(http: &reqwest::Client, base: &str, user: usize) -> anyhow::Result<String> {
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "email": format!("archive-{user}@example.test"), "password": PASSWORD }))
        .send()
        .await?;
    if !res.status().is_success() {
        bail!("login of archive user {user}: {}", res.status());
    }
    let body: Value = res.json().await?;
    body["token"]
        .as_str()
        .map(str::to_owned)
        .context("a token in the login answer")
}

pub async fn archive(opts: &Opts) -> anyhow::Result<Value> {
    let base = opts.url.trim_end_matches('/').to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let customers = (opts.users / 2).max(1);
    let long_chats = (opts.chats / LONG_EVERY).max(1);
    let clients = opts.clients;
    let photo = Arc::new(photo());
    eprintln!(
        "archive: {clients} clients, photo {} bytes, signing in",
        photo.len()
    );
    let ws = ws_url(&base)?;
    let mut sessions = Vec::with_capacity(clients);
    for i in 0..clients {
        let chat = (LONG_EVERY * (1 + i % long_chats)) as ChatId;
        let user = 1 + (chat as usize % customers);
        let token = sign_in(&http, &base, user).await?;
        let res = http
            .get(format!("{base}/api/chats/{chat}/messages?limit=1"))
            .bearer_auth(&token)
            .send()
            .await?;
        let page: contract::model::MessagePage = res.json().await.context("the long chat")?;
        let last_seq = page.messages.last().map_or(0, |m| m.seq);
        let socket = Client::connect_as(&ws, &token, None).await?;
        sessions.push(Session {
            token,
            chat,
            last_seq,
            socket,
        });
    }
    let ops = Arc::new(Mutex::new(Ops::default()));
    let until = Instant::now() + opts.duration;
    let started = Instant::now();
    let uploader = {
        let (http, base, ops, photo) = (http.clone(), base.clone(), ops.clone(), photo.clone());
        let (token, chat) = (sessions[0].token.clone(), sessions[0].chat);
        tokio::spawn(async move {
            while Instant::now() < until {
                if let Err(e) = upload_round(&http, &base, &token, chat, &photo, &ops).await {
                    ops.lock().await.errors.push(format!("{e:#}"));
                }
            }
        })
    };
    let period = opts.round_every;
    let late = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks = sessions.into_iter().enumerate().map(|(i, s)| {
        let (http, base, ops, late) = (http.clone(), base.clone(), ops.clone(), late.clone());
        tokio::spawn(async move {
            let mut round = i;
            // Paced: round k of client i is due at start + (i/clients + k)
            // periods; a round that comes due while the last is still
            // running starts as soon as it ends, and counts as late.
            let mut due = period.map(|p| started + p.mul_f64(i as f64 / clients as f64));
            while Instant::now() < until {
                if let (Some(at), Some(p)) = (due, period) {
                    if Instant::now() > at {
                        late.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    } else {
                        tokio::time::sleep_until(at.into()).await;
                    }
                    due = Some(at + p);
                }
                if let Err(e) = read_round(&http, &base, &s, round, &ops).await {
                    ops.lock().await.errors.push(format!("{e:#}"));
                }
                round += clients;
            }
        })
    });
    futures_util::future::join_all(tasks).await;
    let _ = uploader.await;
    let elapsed = started.elapsed().as_secs_f64();
    let ops = std::mem::take(&mut *ops.lock().await);
    Ok(json!({
        "scenario": "archive",
        "clients": clients,
        "round_every_ms": period.map(|p| p.as_millis() as u64),
        "late_rounds": late.load(std::sync::atomic::Ordering::Relaxed),
        "seconds": crate::stats::round2(elapsed),
        "photo_bytes": photo.len(),
        "list_ms": ops.list.summary(),
        "history_ms": ops.history.summary(),
        "catch_up_ms": ops.catch_up.summary(),
        "search_ms": ops.search.summary(),
        "upload_ms": ops.upload.summary(),
        "download_ms": ops.download.summary(),
        "errors": ops.errors.len(),
        "first_errors": ops.errors.iter().take(5).collect::<Vec<_>>(),
    }))
}

/// Times one request whose answer must be a success; returns its body.
async fn timed(req: reqwest::RequestBuilder, into: &mut Samples) -> anyhow::Result<Vec<u8>> {
    let t0 = Instant::now();
    let res = req.send().await?;
    let status = res.status();
    let body = res.bytes().await?;
    if !status.is_success() {
        bail!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        );
    }
    into.push(t0.elapsed());
    Ok(body.to_vec())
}

async fn read_round(
    http: &reqwest::Client,
    base: &str,
    s: &Session,
    round: usize,
    ops: &Arc<Mutex<Ops>>,
) -> anyhow::Result<()> {
    let mut list = Samples::default();
    timed(
        http.get(format!("{base}/api/chats")).bearer_auth(&s.token),
        &mut list,
    )
    .await?;
    // Deep: somewhere in the older half of the long chat.
    let before = 50 + (round as Seq * 97) % (s.last_seq / 2).max(1);
    let mut history = Samples::default();
    timed(
        http.get(format!(
            "{base}/api/chats/{}/messages?beforeSeq={before}&limit=50",
            s.chat
        ))
        .bearer_auth(&s.token),
        &mut history,
    )
    .await?;
    let t0 = Instant::now();
    let join = JoinChat {
        chat_id: s.chat,
        after_seq: Some((s.last_seq - 50).max(0)),
        after_message_id: None,
    };
    let answer = s.socket.request(&join, Duration::from_secs(30)).await?;
    let caught = answer
        .reply
        .map_err(|e| anyhow::anyhow!("join refused: {e}"))?;
    if caught.messages.as_ref().map_or(0, Vec::len) != 50.min(s.last_seq as usize) {
        bail!("the catch-up did not bring the last 50 messages");
    }
    let mut catch_up = Samples::default();
    catch_up.push(t0.elapsed());
    let q = SEARCHES[round % SEARCHES.len()];
    let mut search = Samples::default();
    timed(
        http.get(format!("{base}/api/search"))
            .query(&[("q", q)])
            .bearer_auth(&s.token),
        &mut search,
    )
    .await?;
    let mut all = ops.lock().await;
    all.list.extend(list);
    all.history.extend(history);
    all.catch_up.extend(catch_up);
    all.search.extend(search);
    Ok(())
}

/// One photo up (checked, re-encoded, thumbnailed, stored) and down again.
async fn upload_round(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    chat: ChatId,
    photo: &Arc<Vec<u8>>,
    ops: &Arc<Mutex<Ops>>,
) -> anyhow::Result<()> {
    let mut upload = Samples::default();
    let body = timed(
        http.post(format!("{base}/api/chats/{chat}/attachments"))
            .query(&[
                ("clientId", uuid::Uuid::new_v4().to_string().as_str()),
                ("name", "photo.jpg"),
            ])
            .bearer_auth(token)
            .body(photo.as_ref().clone()),
        &mut upload,
    )
    .await?;
    let file: Attachment = serde_json::from_slice(&body).context("an attachment")?;
    let mut download = Samples::default();
    let got = timed(
        http.get(format!("{base}/api/attachments/{}", file.id))
            .bearer_auth(token),
        &mut download,
    )
    .await?;
    if got.len() as i64 != file.size {
        bail!("downloaded {} bytes of {}", got.len(), file.size);
    }
    let mut all = ops.lock().await;
    all.upload.extend(upload);
    all.download.extend(download);
    Ok(())
}
