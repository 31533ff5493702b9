//! What a person chooses about being reached while away: email on or off,
//! after how long, not during their quiet hours (in their time zone), and
//! chats they muted.

use crate::validate::Invalid;
use serde::{Deserialize, Serialize};

/// Email about unread messages while away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EmailPreferences {
    /// Email at all (the unsubscribe link turns it off).
    pub enabled: bool,
    /// Minutes away before an email (5–1440); none: the deployment's
    /// default.
    #[serde(default)]
    pub delay_minutes: Option<u32>,
    /// No email from `start` to `end` ("22:00" to "07:00"), in `timeZone`;
    /// none: any time.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
    /// An IANA time zone ("Europe/Berlin"); the quiet hours are its.
    #[serde(default = "utc")]
    pub time_zone: String,
}

fn utc() -> String {
    "UTC".into()
}

/// A daily window, "HH:MM" to "HH:MM" (it may span midnight).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuietHours {
    pub start: String,
    pub end: String,
}

/// Minutes since midnight of an "HH:MM".
pub fn minute_of_day(field: &'static str, hhmm: &str) -> Result<u16, Invalid> {
    let bad = || Invalid {
        field,
        message: "must be a time of day, HH:MM (00:00–23:59)".into(),
    };
    let (h, m) = hhmm.trim().split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl EmailPreferences {
    pub const DELAY_MIN: u32 = 5;
    pub const DELAY_MAX: u32 = 1_440;

    /// Checks everything but the time zone's name (the server knows the
    /// zones): the delay's range and the quiet hours' times, as minutes
    /// of the day.
    pub fn parse(&self) -> Result<Option<(u16, u16)>, Invalid> {
        if let Some(d) = self.delay_minutes
            && !(Self::DELAY_MIN..=Self::DELAY_MAX).contains(&d)
        {
            return Err(Invalid {
                field: "delayMinutes",
                message: format!("must be {}–{} minutes", Self::DELAY_MIN, Self::DELAY_MAX),
            });
        }
        if self.time_zone.len() > 64 {
            return Err(Invalid {
                field: "timeZone",
                message: "is not a time zone".into(),
            });
        }
        self.quiet_hours
            .as_ref()
            .map(|q| {
                let start = minute_of_day("quietHours.start", &q.start)?;
                let end = minute_of_day("quietHours.end", &q.end)?;
                if start == end {
                    return Err(Invalid {
                        field: "quietHours.end",
                        message: "must differ from the start".into(),
                    });
                }
                Ok((start, end))
            })
            .transpose()
    }
}

/// A chat muted or not (no email and no bell for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChatMute {
    pub muted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(delay: Option<u32>, quiet: Option<(&str, &str)>) -> EmailPreferences {
        EmailPreferences {
            enabled: true,
            delay_minutes: delay,
            quiet_hours: quiet.map(|(s, e)| QuietHours {
                start: s.into(),
                end: e.into(),
            }),
            time_zone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn times_and_delays_are_checked() {
        assert_eq!(
            prefs(None, Some(("22:00", "07:30"))).parse(),
            Ok(Some((1320, 450)))
        );
        assert_eq!(prefs(Some(30), None).parse(), Ok(None));
        for bad in ["24:00", "7:00", "07:60", "noon", "07-00", ""] {
            assert!(prefs(None, Some((bad, "08:00"))).parse().is_err(), "{bad}");
        }
        assert!(prefs(None, Some(("08:00", "08:00"))).parse().is_err());
        assert!(prefs(Some(4), None).parse().is_err());
        assert!(prefs(Some(1441), None).parse().is_err());
    }
}
