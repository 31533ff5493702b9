//! Email to people who are away (README "Email when away"): the SMTP
//! server, the sender, the site's public address for links, and the timing.

use super::{ConfigError, var};
use std::time::Duration;

/// The SMTP server as a URL, its password kept out of logs. lettre reads
/// it: `smtp://host:25` (plain), `smtp://user:pass@host:587?tls=required`
/// (STARTTLS), `smtps://user:pass@host:465` (TLS from the start).
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn parse(url: &str) -> Result<Self, ConfigError> {
        let url = url.trim();
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(ConfigError::Invalid {
                name: "JOBCHAT_SMTP_URL",
                reason: format!(
                    "{:?} must start with smtp:// or smtps://",
                    super::redact_url(url)
                ),
            });
        }
        Ok(Self(url.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SmtpUrl")
            .field(&super::redact_url(&self.0))
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailConfig {
    /// `JOBCHAT_SMTP_URL`; unset, no email is sent (nor queued).
    pub smtp: Option<SmtpUrl>,
    /// `JOBCHAT_MAIL_FROM` (`jobchat <no-reply@localhost>`).
    pub from: String,
    /// `JOBCHAT_PUBLIC_URL` (`http://127.0.0.1:3000`): where links in
    /// emails point (the chat, the unsubscribe page).
    pub public_url: String,
    /// `JOBCHAT_EMAIL_AWAY_MINUTES` (10): how long someone has had no
    /// connected tab before unread messages are emailed.
    pub away_after: Duration,
    /// `JOBCHAT_EMAIL_EVERY_MINUTES` (30): at most one email per chat and
    /// person in this long.
    pub at_most_every: Duration,
    /// How often each node looks for emails that are due (tests: less).
    pub poll: Duration,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp: None,
            from: "jobchat <no-reply@localhost>".into(),
            public_url: "http://127.0.0.1:3000".into(),
            away_after: Duration::from_secs(10 * 60),
            at_most_every: Duration::from_secs(30 * 60),
            poll: Duration::from_secs(5),
        }
    }
}

impl EmailConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let smtp = var("JOBCHAT_SMTP_URL")
            .map(|u| SmtpUrl::parse(&u))
            .transpose()?;
        let from = var("JOBCHAT_MAIL_FROM").unwrap_or(d.from);
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::Invalid {
                name: "JOBCHAT_MAIL_FROM",
                reason: format!(
                    "{from:?} is not an address (e.g. \"jobchat <no-reply@example.com>\")"
                ),
            });
        }
        let public_url = var("JOBCHAT_PUBLIC_URL")
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or(d.public_url);
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                name: "JOBCHAT_PUBLIC_URL",
                reason: format!("{public_url:?} must start with http:// or https://"),
            });
        }
        // Minutes, fractions allowed (0.05 is 3 s: tests), up to a week.
        let minutes = |name: &'static str, default: Duration| -> Result<Duration, ConfigError> {
            let Some(v) = var(name) else {
                return Ok(default);
            };
            match v.trim().parse::<f64>() {
                Ok(m) if m > 0.0 && m <= 7.0 * 24.0 * 60.0 => Ok(Duration::from_secs_f64(m * 60.0)),
                _ => Err(ConfigError::Invalid {
                    name,
                    reason: format!("{v:?} is not a number of minutes above 0 (at most a week)"),
                }),
            }
        };
        Ok(Self {
            smtp,
            from,
            public_url,
            away_after: minutes("JOBCHAT_EMAIL_AWAY_MINUTES", d.away_after)?,
            at_most_every: minutes("JOBCHAT_EMAIL_EVERY_MINUTES", d.at_most_every)?,
            poll: d.poll,
        })
    }
}
