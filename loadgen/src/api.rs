//! The REST calls the benchmark makes: sign-up, booking (which opens a
//! chat) and reading a chat's stored history back. Bodies are the
//! contract's types where it has them, else `rest`'s.

use anyhow::{Context, bail};
use contract::model::{
    Booking, ChatId, Login, Message, MessagePage, NewJob, PageRequest, Registration, Role, Seq,
    SignedIn, UserId,
};
use futures_util::{StreamExt, stream};
use std::time::Instant;

/// Every account's password: strong enough for the server's strength check
/// (zxcvbn), and sharing no word with the accounts' emails and names, which
/// count against it.
pub const PASSWORD: &str = "quartz-lantern-orbit-41";

/// A signed-up user and their JWT.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: UserId,
    pub token: String,
}

/// A booked job's chat: a customer and a provider.
#[derive(Clone, Debug)]
pub struct Pair {
    pub chat_id: ChatId,
    pub customer: Account,
    pub provider: Account,
}

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
        })
    }

    /// `POST /api/auth/register` (argon2 on the server: slow by design).
    pub async fn register(&self, email: &str, name: &str, role: Role) -> anyhow::Result<Account> {
        let res = self
            .http
            .post(format!("{}/api/auth/register", self.base))
            .json(&Registration {
                email: email.to_owned(),
                password: PASSWORD.to_owned(),
                name: name.to_owned(),
                role,
            })
            .send()
            .await
            .context("register")?;
        if !res.status().is_success() {
            bail!(
                "register {email}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        let body: SignedIn = res.json().await.context("register response")?;
        Ok(Account {
            id: body.user.id,
            token: body.token,
        })
    }

    /// `POST /api/auth/login` (argon2 verify on the server).
    pub async fn login(&self, email: &str, password: &str) -> anyhow::Result<()> {
        let res = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&Login {
                email: email.to_owned(),
                password: password.to_owned(),
            })
            .send()
            .await
            .context("login")?;
        if !res.status().is_success() {
            bail!(
                "login {email}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        res.json::<SignedIn>().await.context("login response")?;
        Ok(())
    }

    /// `POST /api/jobs` as the customer: books the provider, opens a chat.
    pub async fn book(&self, customer: &Account, provider_id: UserId) -> anyhow::Result<ChatId> {
        let res = self
            .http
            .post(format!("{}/api/jobs", self.base))
            .bearer_auth(&customer.token)
            .json(&NewJob {
                provider_id,
                title: "Load test job".to_owned(),
                description: Some("booked by loadgen".to_owned()),
            })
            .send()
            .await
            .context("book")?;
        if !res.status().is_success() {
            bail!(
                "book: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        Ok(res
            .json::<Booking>()
            .await
            .context("book response")?
            .chat_id)
    }

    /// One page of a chat's stored messages after `after_seq`, oldest first
    /// (at most `limit`), and whether more follow.
    pub async fn page(
        &self,
        token: &str,
        chat_id: ChatId,
        after_seq: Seq,
        limit: i64,
    ) -> anyhow::Result<MessagePage> {
        let res = self
            .http
            .get(format!("{}/api/chats/{chat_id}/messages", self.base))
            .query(&PageRequest {
                after_seq: Some(after_seq),
                limit: Some(limit),
                ..PageRequest::default()
            })
            .bearer_auth(token)
            .send()
            .await
            .context("history")?;
        if !res.status().is_success() {
            bail!(
                "history of chat {chat_id}: {} {}",
                res.status(),
                res.text().await.unwrap_or_default()
            );
        }
        res.json().await.context("history page")
    }

    /// Every stored message of a chat, oldest first: pages of 200 by
    /// `afterSeq` while `hasMore`.
    pub async fn history(&self, token: &str, chat_id: ChatId) -> anyhow::Result<Vec<Message>> {
        let mut all: Vec<Message> = Vec::new();
        loop {
            let after = all.last().map_or(0, |m| m.seq);
            let page = self.page(token, chat_id, after, 200).await?;
            let more = page.has_more && !page.messages.is_empty();
            all.extend(page.messages);
            if !more {
                return Ok(all);
            }
        }
    }

    /// Whether `GET /healthz` answers 200 within `timeout`.
    pub async fn healthy(&self, timeout: std::time::Duration) -> bool {
        self.http
            .get(format!("{}/healthz", self.base))
            .timeout(timeout)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

/// How the setup went.
#[derive(Debug)]
pub struct SetupStats {
    pub registrations: usize,
    pub registrations_per_sec: f64,
    pub bookings_per_sec: f64,
}

/// Signs up a customer and a provider per chat and has each customer book
/// their provider, `concurrency` requests at a time.
pub async fn setup_chats(
    api: &Api,
    chats: usize,
    concurrency: usize,
) -> anyhow::Result<(Vec<Pair>, SetupStats)> {
    // Unique per run, so runs can share a database.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let run = &run[..8];
    let users = chats * 2;
    eprintln!("setup: registering {users} users ({concurrency} at a time; argon2 is slow)");
    let started = Instant::now();
    let mut done = 0usize;
    let mut accounts = Vec::with_capacity(users);
    let mut registered = stream::iter(0..users)
        .map(|i| {
            let api = api.clone();
            async move {
                let (role, n) = if i % 2 == 0 {
                    (Role::Customer, i / 2)
                } else {
                    (Role::Provider, i / 2)
                };
                api.register(
                    &format!("lg-{run}-{role}-{n}@load.test"),
                    &format!("Load {role} {n}"),
                    role,
                )
                .await
            }
        })
        .buffered(concurrency);
    while let Some(account) = registered.next().await {
        accounts.push(account?);
        done += 1;
        if done.is_multiple_of(500) {
            eprintln!("setup: {done}/{users} registered");
        }
    }
    let reg_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut pairs = Vec::with_capacity(chats);
    let mut booked = stream::iter(accounts.chunks_exact(2))
        .map(|pair| {
            let api = api.clone();
            let (customer, provider) = (pair[0].clone(), pair[1].clone());
            async move {
                let chat_id = api.book(&customer, provider.id).await?;
                anyhow::Ok(Pair {
                    chat_id,
                    customer,
                    provider,
                })
            }
        })
        .buffered(concurrency);
    while let Some(pair) = booked.next().await {
        pairs.push(pair?);
    }
    let book_secs = started.elapsed().as_secs_f64();
    let stats = SetupStats {
        registrations: users,
        registrations_per_sec: users as f64 / reg_secs.max(1e-9),
        bookings_per_sec: chats as f64 / book_secs.max(1e-9),
    };
    eprintln!(
        "setup: {users} registrations in {reg_secs:.1} s ({:.1}/s), {chats} bookings in {book_secs:.1} s",
        stats.registrations_per_sec
    );
    Ok((pairs, stats))
}
