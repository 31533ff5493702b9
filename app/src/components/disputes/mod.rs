//! The LSMs' dispute console (`/disputes`) and the words the chat's
//! settlement line shares with it.
//!
//! * `queue` — the cases by status, everyone's or the viewer's, searchable,
//!   live (reloaded whenever `ChatContext::disputes_rev` moves)
//! * `case` — the case picked: its facts, taking it, handing it over,
//!   opening its chat, the transcript's downloads
//! * `settle` — the two-step settlement form (outcome, amount, note, then
//!   "Resolve with …?")
//!
//! Server functions are called directly here, as on the moderation page.

mod case;
mod queue;
mod settle;

pub use case::CasePanel;
pub use queue::CaseQueue;
pub use settle::SettleForm;

use crate::model::{MAX_REFUND_CENTS, Outcome, format_cents};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// How a settlement reads after "resolved the dispute:": "Partial refund
/// of 45.00 EUR", "No refund", "Full refund"; `None` for `Other`, whose
/// note says it all.
pub(crate) fn outcome_words(
    outcome: Outcome,
    refund_cents: Option<i64>,
    currency: Option<&str>,
) -> Option<String> {
    match (outcome, refund_cents) {
        (Outcome::Other, _) => None,
        (Outcome::PartialRefund, Some(c)) => Some(match currency {
            Some(cur) if !cur.is_empty() => format!("Partial refund of {} {cur}", format_cents(c)),
            _ => format!("Partial refund of {}", format_cents(c)),
        }),
        (o, _) => Some(o.label().to_owned()),
    }
}

/// An amount as typed in currency units ("45", "45.5", "45.00", "45,00")
/// in cents; the sentence to show when it is not one.
pub(crate) fn parse_amount(typed: &str) -> Result<i64, &'static str> {
    const SAY: &str = "Enter the refund as an amount like 45.00 (at most two decimals).";
    let t: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if t.is_empty() {
        return Err("Enter the amount to refund, like 45.00.");
    }
    // A comma as the decimal mark, when it is the only mark.
    let t = if t.contains('.') {
        t
    } else {
        t.replacen(',', ".", 1)
    };
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || whole.len() > 9
    {
        return Err(SAY);
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| SAY)?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| SAY)? * 10,
        _ => frac.parse().map_err(|_| SAY)?,
    };
    let cents = whole * 100 + frac;
    if !(1..=MAX_REFUND_CENTS).contains(&cents) {
        return Err("A partial refund is from 0.01 to 1,000,000.00.");
    }
    Ok(cents)
}

/// "just now", "4 min ago", "3 h ago", "2 days ago".
pub(crate) fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    let secs = (now - at).num_seconds().max(0);
    match secs {
        0..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", secs / 60),
        3_600..86_400 => format!("{} h ago", secs / 3_600),
        _ => match secs / 86_400 {
            1 => "1 day ago".to_owned(),
            d => format!("{d} days ago"),
        },
    }
}

/// The browser's "now", for ages ("4 min ago"): `None` on the server and
/// the first frame (which show the date instead, so hydration finds what
/// the server rendered), then moved on every 30 s.
pub(crate) fn now_signal() -> RwSignal<Option<DateTime<Utc>>> {
    let now = RwSignal::new(None);
    Effect::new(move |_| now.set(Some(Utc::now())));
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(
        move || now.set(Some(Utc::now())),
        std::time::Duration::from_secs(30),
    ) {
        on_cleanup(move || handle.clear());
    }
    now
}

/// Where a case's transcript is read (`html`) or downloaded (`csv`,
/// `json`).
pub(crate) fn transcript_url(dispute_id: i64, format: &str) -> String {
    format!("/api/disputes/{dispute_id}/transcript?format={format}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn settlements_read_as_sentences() {
        assert_eq!(
            outcome_words(Outcome::PartialRefund, Some(4500), Some("EUR")).as_deref(),
            Some("Partial refund of 45.00 EUR")
        );
        assert_eq!(
            outcome_words(Outcome::PartialRefund, Some(5), None).as_deref(),
            Some("Partial refund of 0.05")
        );
        assert_eq!(
            outcome_words(Outcome::NoRefund, None, Some("EUR")).as_deref(),
            Some("No refund")
        );
        assert_eq!(
            outcome_words(Outcome::FullRefund, None, None).as_deref(),
            Some("Full refund")
        );
        assert_eq!(outcome_words(Outcome::Other, None, Some("EUR")), None);
    }

    #[test]
    fn amounts_are_typed_in_currency_units() {
        assert_eq!(parse_amount("45.00"), Ok(4500));
        assert_eq!(parse_amount(" 45 "), Ok(4500));
        assert_eq!(parse_amount("45.5"), Ok(4550));
        assert_eq!(parse_amount("45,05"), Ok(4505));
        assert_eq!(parse_amount(".5"), Ok(50));
        assert_eq!(parse_amount("1000000.00"), Ok(MAX_REFUND_CENTS));
        for bad in [
            "",
            "0",
            "0.00",
            "-5",
            "45.001",
            "4a",
            "1,000.00",
            "1000000.01",
            ".",
            "1e3",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ages_are_short() {
        let at = Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).unwrap();
        let after = |s: i64| ago(at + chrono::Duration::seconds(s), at);
        assert_eq!(after(-5), "just now", "a clock a little behind");
        assert_eq!(after(59), "just now");
        assert_eq!(after(60), "1 min ago");
        assert_eq!(after(3_599), "59 min ago");
        assert_eq!(after(7_200), "2 h ago");
        assert_eq!(after(86_400), "1 day ago");
        assert_eq!(after(3 * 86_400 + 5), "3 days ago");
    }
}
