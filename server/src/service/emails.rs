//! Email to people who are away: each node's sender claims due outbox rows
//! (`storage/emails.rs`), decides for each whether it is still wanted (the
//! person read the chat meanwhile, came back, turned email off), and sends
//! one email per chat burst over SMTP (lettre): who wrote, the job, the
//! last few messages as the person sees them (masked), a link that opens
//! the chat, and RFC 8058 one-click unsubscribe through a signed link. A
//! failing SMTP server is retried with backoff; `jobchat_emails_total`
//! counts what happened.

use super::texts;
use crate::auth::UnsubscribeKey;
use crate::config::EmailConfig;
use crate::storage::{Db, Digest, DueEmail};
use chrono::{DateTime, Utc};
use contract::model::{Message, UserId};
use lettre::message::{Mailbox, MultiPart, header};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// Messages an email quotes (the newest), and rows a node claims a round.
const QUOTED: i64 = 5;
const CLAIM_BATCH: i64 = 50;
/// Attempts before a row is given up; the wait before attempt n is
/// 2ⁿ minutes, at most an hour.
const ATTEMPTS: i32 = 8;

fn backoff(attempts: i32) -> chrono::TimeDelta {
    chrono::TimeDelta::minutes(1i64 << attempts.clamp(0, 6)).min(chrono::TimeDelta::hours(1))
}

/// What the sender needs, shared with its task.
pub struct Mailer {
    config: EmailConfig,
    from: Mailbox,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    key: UnsubscribeKey,
}

/// Why an outbox row was not sent now.
enum Outcome {
    Sent,
    /// Closed: nothing left to say, or not wanted.
    Skipped(&'static str),
    /// Again at this time.
    Later(DateTime<Utc>),
    /// The SMTP server failed: again at this time, one attempt more.
    Retry(DateTime<Utc>, String),
}

impl Mailer {
    /// `None` when no SMTP server is set (then nothing is queued either).
    pub(super) fn new(config: &EmailConfig, key: UnsubscribeKey) -> anyhow::Result<Option<Self>> {
        let Some(url) = &config.smtp else {
            return Ok(None);
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        Ok(Some(Self {
            from: config.from.parse()?,
            config: config.clone(),
            transport,
            key,
        }))
    }

    /// How long after a message its email is due.
    pub(super) fn away_after(&self) -> Duration {
        self.config.away_after
    }

    /// The link that turns `user`'s email off.
    pub(super) fn unsubscribe_link(&self, user: UserId) -> String {
        format!(
            "{}/unsubscribe?u={user}&s={}",
            self.config.public_url,
            self.key.sign(user)
        )
    }

    /// Runs the sender on this node: a round every `poll`.
    pub(super) fn start(self: Arc<Self>, db: Db, online: super::Broadcaster) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(self.config.poll);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let due = match db.claim_due_emails(CLAIM_BATCH).await {
                    Ok(due) => due,
                    Err(e) => {
                        tracing::warn!(error = %e, "email outbox not read");
                        continue;
                    }
                };
                for row in due {
                    self.handle(&db, &online, &row).await;
                }
            }
        });
    }

    #[tracing::instrument(skip_all, fields(email = row.id, user_id = row.user_id, chat_id = row.chat_id))]
    async fn handle(&self, db: &Db, online: &super::Broadcaster, row: &DueEmail) {
        let now = Utc::now();
        let outcome = match db.email_digest(row.user_id, row.chat_id, QUOTED).await {
            Err(e) => {
                tracing::warn!(error = %e, "email not composed");
                Outcome::Later(now + backoff(row.attempts))
            }
            Ok(None) => Outcome::Skipped("no longer in the chat"),
            Ok(Some(d)) => self.decide(online, row, &d, now).await,
        };
        let stored = match &outcome {
            Outcome::Sent => {
                crate::metrics::email("sent");
                db.close_email(row.id, "sent", None).await
            }
            Outcome::Skipped(why) => {
                tracing::debug!(why, "email not needed");
                crate::metrics::email("skipped");
                db.close_email(row.id, "skipped", Some(why)).await
            }
            Outcome::Later(at) => db.postpone_email(row.id, *at, None).await,
            Outcome::Retry(at, error) => db.postpone_email(row.id, *at, Some(error)).await,
        };
        if let Err(e) = stored {
            // The claim runs out and another round sends it again.
            tracing::warn!(error = %e, "email outcome not stored");
        }
    }

    async fn decide(
        &self,
        online: &super::Broadcaster,
        row: &DueEmail,
        d: &Digest,
        now: DateTime<Utc>,
    ) -> Outcome {
        if !d.wanted {
            return Outcome::Skipped("email turned off");
        }
        if d.muted {
            return Outcome::Skipped("chat muted");
        }
        if d.unread_count == 0 {
            return Outcome::Skipped("read meanwhile");
        }
        // Their own delay, else the deployment's.
        let away = match d.prefs.email_delay_minutes {
            Some(m) => chrono::TimeDelta::minutes(i64::from(m.max(0))),
            None => chrono::TimeDelta::from_std(self.config.away_after).unwrap_or_default(),
        };
        // Here now: asked again once they could have been away long enough.
        if online.online(&[row.user_id]).await.contains(&row.user_id) {
            return Outcome::Later(now + away);
        }
        // Away long enough since they left, and since the oldest message
        // this email is about.
        let since = [d.last_seen, d.unread.first().map(|m| m.created_at)]
            .into_iter()
            .flatten()
            .max();
        if let Some(since) = since.filter(|s| *s + away > now) {
            return Outcome::Later(since + away);
        }
        if let Some(end) = quiet_until(&d.prefs, now) {
            return Outcome::Later(end);
        }
        let every = chrono::TimeDelta::from_std(self.config.at_most_every).unwrap_or_default();
        if let Some(last) = d.last_emailed.filter(|l| *l + every > now) {
            return Outcome::Later(last + every);
        }
        match self.send(row, d).await {
            Ok(()) => Outcome::Sent,
            Err(e) if row.attempts + 1 >= ATTEMPTS => {
                tracing::error!(error = %e, "email given up");
                crate::metrics::email("failed");
                Outcome::Skipped("the SMTP server kept refusing it")
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts = row.attempts + 1, "email failed; retrying");
                crate::metrics::email("retry");
                Outcome::Retry(now + backoff(row.attempts + 1), e.to_string())
            }
        }
    }

    async fn send(&self, row: &DueEmail, d: &Digest) -> anyhow::Result<()> {
        let to: Mailbox = format!("{} <{}>", d.name.replace(['<', '>', '"'], ""), d.email)
            .parse()
            .or_else(|_| d.email.parse())?;
        let link = format!("{}/?chat={}", self.config.public_url, row.chat_id);
        let unsubscribe = self.unsubscribe_link(row.user_id);
        let text = texts::email_text(d, &link, &unsubscribe);
        let html = texts::email_html(d, &link, &unsubscribe);
        let email = Email::builder()
            .from(self.from.clone())
            .to(to)
            // The same row, the same id: a mail system that sees it twice
            // (a node died after the send, before recording it) can tell.
            .message_id(Some(format!("<outbox-{}-{}@jobchat>", row.id, row.chat_id)))
            .subject(texts::email_subject(d))
            .header(ListUnsubscribe(format!("<{unsubscribe}>")))
            .header(ListUnsubscribePost)
            .multipart(MultiPart::alternative_plain_html(text, html))?;
        self.transport.send(email).await?;
        tracing::info!("email sent");
        Ok(())
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl header::Header for ListUnsubscribe {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl header::Header for ListUnsubscribePost {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// When `now` falls in the person's quiet hours (in their time zone), the
/// moment those end; else `None`. A window may span midnight.
fn quiet_until(prefs: &crate::storage::Prefs, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::{Duration as Span, TimeZone, Timelike};
    let (start, end) = (prefs.quiet_start?, prefs.quiet_end?);
    let zone: chrono_tz::Tz = prefs.time_zone.parse().ok()?;
    let local = now.with_timezone(&zone);
    let minute = (local.hour() * 60 + local.minute()) as i32;
    let inside = if start < end {
        minute >= start && minute < end
    } else {
        minute >= start || minute < end
    };
    if !inside {
        return None;
    }
    // The end today, or tomorrow when it is past (a window over midnight).
    let day = if minute < end {
        local.date_naive()
    } else {
        local.date_naive() + Span::days(1)
    };
    let at = day.and_hms_opt((end / 60) as u32, (end % 60) as u32, 0)?;
    // A wall time skipped by a clock change: an hour later is real.
    zone.from_local_datetime(&at)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(at + Span::hours(1))).earliest())
        .map(|t| t.with_timezone(&Utc))
}

/// The people who wrote, in order of their first message (the subject).
pub(super) fn senders(messages: &[Message]) -> Vec<&str> {
    let mut names: Vec<&str> = Vec::new();
    for m in messages {
        if let Some(n) = m.sender_name.as_deref()
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    names
}

impl super::Service {
    /// The caller's email choices.
    pub async fn email_preferences(
        &self,
        actor: &super::AuthUser,
    ) -> super::Result<contract::model::EmailPreferences> {
        let p = self
            .inner
            .db
            .email_prefs(actor.id)
            .await?
            .ok_or(super::ServiceError::Unauthorized)?;
        let hhmm = |m: i32| format!("{:02}:{:02}", m / 60, m % 60);
        Ok(contract::model::EmailPreferences {
            enabled: p.email_notifications,
            delay_minutes: p.email_delay_minutes.map(|m| m.max(0) as u32),
            quiet_hours: p
                .quiet_start
                .zip(p.quiet_end)
                .map(|(s, e)| contract::model::QuietHours {
                    start: hhmm(s),
                    end: hhmm(e),
                }),
            time_zone: p.time_zone,
        })
    }

    /// Stores the caller's email choices (an unknown time zone is refused).
    #[tracing::instrument(skip_all, fields(user_id = actor.id))]
    pub async fn set_email_preferences(
        &self,
        actor: &super::AuthUser,
        prefs: &contract::model::EmailPreferences,
    ) -> super::Result<contract::model::EmailPreferences> {
        let quiet = prefs.parse()?;
        let zone = prefs.time_zone.trim();
        if zone.parse::<chrono_tz::Tz>().is_err() {
            return Err(contract::validate::Invalid {
                field: "timeZone",
                message: format!("{zone:?} is not a time zone (e.g. Europe/Berlin)"),
            }
            .into());
        }
        let stored = crate::storage::Prefs {
            email_notifications: prefs.enabled,
            email_delay_minutes: prefs.delay_minutes.map(|m| m as i32),
            quiet_start: quiet.map(|q| i32::from(q.0)),
            quiet_end: quiet.map(|q| i32::from(q.1)),
            time_zone: zone.to_owned(),
        };
        if !self.inner.db.set_email_prefs(actor.id, &stored).await? {
            return Err(super::ServiceError::Unauthorized);
        }
        self.email_preferences(actor).await
    }

    /// Mutes (no email, no bell) or unmutes one of the caller's chats.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = chat, muted))]
    pub async fn mute_chat(
        &self,
        actor: &super::AuthUser,
        chat: contract::model::ChatId,
        muted: bool,
    ) -> super::Result<()> {
        if self.inner.db.set_muted(chat, actor.id, muted).await? {
            Ok(())
        } else {
            Err(super::ServiceError::NotFound("chat"))
        }
    }

    /// An unsubscribe link was followed (or posted, RFC 8058): email off
    /// for the account it was made for. A link that is not genuine is
    /// `forbidden`; one for an account that is gone, `not_found`.
    #[tracing::instrument(skip(self, signature))]
    pub async fn unsubscribe(&self, user: UserId, signature: &str) -> super::Result<()> {
        let genuine = self
            .inner
            .mail
            .get()
            .is_some_and(|m| signature.len() <= 100 && m.key.verify(user, signature));
        if !genuine {
            return Err(super::ServiceError::Forbidden(
                "this unsubscribe link is not valid",
            ));
        }
        if self.inner.db.set_email_notifications(user, false).await? {
            tracing::info!("email turned off by an unsubscribe link");
            Ok(())
        } else {
            Err(super::ServiceError::NotFound("account"))
        }
    }

    /// The unsubscribe link of `user`, as emails carry it (none when no
    /// email is sent).
    pub fn unsubscribe_link(&self, user: UserId) -> Option<String> {
        self.inner.mail.get().map(|m| m.unsubscribe_link(user))
    }

    /// Sends email to people who are away, as `config` says (nothing when
    /// it names no SMTP server): from now on each message makes the
    /// others' email due, and this node's sender runs.
    pub fn send_emails(
        &self,
        config: &EmailConfig,
        secret: &crate::config::JwtSecret,
    ) -> anyhow::Result<()> {
        let Some(mailer) = Mailer::new(config, UnsubscribeKey::new(secret))? else {
            return Ok(());
        };
        let mailer = Arc::new(mailer);
        if self.inner.mail.set(mailer.clone()).is_err() {
            return Ok(());
        }
        self.inner.sends.email_after(mailer.away_after());
        tracing::info!(
            away_minutes = config.away_after.as_secs() / 60,
            "email to people who are away is on"
        );
        mailer.start(self.inner.db.clone(), self.inner.broadcast.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(start: i32, end: i32, zone: &str) -> crate::storage::Prefs {
        crate::storage::Prefs {
            email_notifications: true,
            email_delay_minutes: None,
            quiet_start: Some(start),
            quiet_end: Some(end),
            time_zone: zone.into(),
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("a time")
    }

    #[test]
    fn quiet_hours_hold_email_until_they_end_in_the_persons_zone() {
        // 22:00–07:00 in Berlin (UTC+1 in December).
        let night = prefs(22 * 60, 7 * 60, "Europe/Berlin");
        // 23:30 Berlin: until 07:00 Berlin the next morning.
        assert_eq!(
            quiet_until(&night, utc("2026-12-06T22:30:00Z")),
            Some(utc("2026-12-07T06:00:00Z"))
        );
        // 03:00 Berlin: until 07:00 the same morning.
        assert_eq!(
            quiet_until(&night, utc("2026-12-07T02:00:00Z")),
            Some(utc("2026-12-07T06:00:00Z"))
        );
        // 12:00 Berlin: not quiet.
        assert_eq!(quiet_until(&night, utc("2026-12-07T11:00:00Z")), None);
        // A daytime window, 12:00–13:00 UTC.
        let lunch = prefs(12 * 60, 13 * 60, "UTC");
        assert_eq!(
            quiet_until(&lunch, utc("2026-12-07T12:10:00Z")),
            Some(utc("2026-12-07T13:00:00Z"))
        );
        assert_eq!(quiet_until(&lunch, utc("2026-12-07T13:00:00Z")), None);
        // No window, or an unknown zone: never quiet.
        let mut none = night.clone();
        none.quiet_start = None;
        assert_eq!(quiet_until(&none, utc("2026-12-06T22:30:00Z")), None);
        assert_eq!(
            quiet_until(&prefs(0, 60, "Mars/Base"), utc("2026-12-06T00:30:00Z")),
            None
        );
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(0), chrono::TimeDelta::minutes(1));
        assert_eq!(backoff(3), chrono::TimeDelta::minutes(8));
        assert_eq!(backoff(7), chrono::TimeDelta::hours(1));
        assert_eq!(backoff(-1), chrono::TimeDelta::minutes(1));
    }
}
