//! The viewer's calendar for a chat window: which day a message falls on
//! and what time it shows, in the browser's time zone.
//!
//! Hydration-safe: the server renders in UTC and so does the first client
//! frame; an effect (browser only) then switches to the local zone, so the
//! two never disagree. (Windows open after hydration anyway, but this keeps
//! it true if they are ever rendered on the server.) A timer moves "today"
//! on at midnight.

use super::timeline::day_in;
use chrono::{DateTime, Local, NaiveDate, Utc};
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
        if self.local.get() {
            at.with_timezone(&Local).format("%H:%M").to_string()
        } else {
            at.format("%H:%M").to_string()
        }
    }

    /// Today in the viewer's zone (tracked).
    pub fn today(&self) -> NaiveDate {
        self.today.get()
    }
}
