//! The viewer's calendar for chat windows and the chat list: which day a
//! message falls on and what time it shows, in the browser's time zone.
//!
//! Hydration-safe: the server renders in UTC and so does the first client
//! frame, and neither knows which day is "today" (the server's day and the
//! browser's can differ: near midnight, or in a browser whose clock is
//! another day's); an effect (browser only) then switches to the local zone
//! and the local day, so the two never disagree. A first frame that said
//! something else than the server's HTML would leave that HTML on screen
//! for good whenever the effect's value equals the first frame's (hydration
//! keeps the server's text and only writes on change). A timer moves
//! "today" on at midnight.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Clock {
    /// Local time zone in use (false: UTC, on the server and the first frame).
    local: RwSignal<bool>,
    /// The viewer's day; `None` on the server and the first frame.
    today: RwSignal<Option<NaiveDate>>,
}

impl Clock {
    pub fn new() -> Self {
        let clock = Self {
            local: RwSignal::new(false),
            today: RwSignal::new(None),
        };
        Effect::new(move |_| {
            clock.local.set(true);
            clock.today.set(Some(Local::now().date_naive()));
        });
        #[cfg(feature = "hydrate")]
        if let Ok(handle) = set_interval_with_handle(
            move || {
                let now = Some(Local::now().date_naive());
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

    /// The browser has taken over from the server's HTML (tracked): what
    /// only works there, or depends on the viewer's clock (Edit, Delete),
    /// shows from then on, so hydration finds what the server rendered.
    pub fn live(&self) -> bool {
        self.local.get()
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

    /// Today in the viewer's zone (tracked); `None` until the browser
    /// has taken over from the server's HTML.
    pub fn today(&self) -> Option<NaiveDate> {
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
