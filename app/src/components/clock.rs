//! The viewer's calendar for chat windows and the chat list: which day a
//! message falls on and what time it shows, in the browser's time zone.
//!
//! Hydration-safe: the server renders in UTC and so does the first client
//! frame; an effect (browser only) then switches to the local zone, so the
//! two never disagree. (Windows open after hydration anyway, but this keeps
//! it true if they are ever rendered on the server.) A timer moves "today"
//! on at midnight.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Clock {
    /// Local time zone in use (false: UTC, on the server and the first frame).
    local: RwSignal<bool>,
    today: RwSignal<NaiveDate>,
}

impl Clock {
    pub fn new() -> Self {
        let clock = Self {
            local: RwSignal::new(false),
            today: RwSignal::new(Utc::now().date_naive()),
        };
        Effect::new(move |_| {
            clock.local.set(true);
            clock.today.set(Local::now().date_naive());
        });
        #[cfg(feature = "hydrate")]
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let now = Local::now().date_naive();
                if clock.today.get_untracked() != now {
                    clock.today.set(now);
                }
            },
            std::time::Duration::from_secs(30),
        ) {
            on_cleanup(move || handle.clear());
        }
        clock
    }

    /// `at` on the viewer's calendar and clock (tracked).
    pub fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        if self.local.get() {
            local_in(at, &Local)
        } else {
            local_in(at, &Utc)
        }
    }

    /// The viewer's calendar day of `at` (tracked).
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        if self.local.get() {
            day_in(at, &Local)
        } else {
            day_in(at, &Utc)
        }
    }

    /// "14:05" in the viewer's zone (tracked).
    pub fn time_of(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%H:%M").to_string()
    }

    /// Today in the viewer's zone (tracked).
    pub fn today(&self) -> NaiveDate {
        self.today.get()
    }
}

/// `at` on the calendar and clock of `zone` (the viewer's, in the browser).
pub fn local_in<Tz: TimeZone>(at: DateTime<Utc>, zone: &Tz) -> NaiveDateTime {
    at.with_timezone(zone).naive_local()
}

/// The calendar day `at` falls on in `zone`.
pub fn day_in<Tz: TimeZone>(at: DateTime<Utc>, zone: &Tz) -> NaiveDate {
    local_in(at, zone).date()
}
