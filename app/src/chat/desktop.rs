//! Desktop notifications (the browser's Notification API): whether the
//! user allowed them, and the small in-page prompt that asks. The browser's
//! own dialog only ever follows a click on "Turn on", never a page load:
//! the prompt shows after the user's first message in a session (or the
//! settings page's button asks directly). "Not now" is remembered in this
//! browser. When one is due is `state::desktop`'s; showing it, `live`'s.

use super::ChatContext;
#[cfg(feature = "hydrate")]
use super::live;
use leptos::prelude::*;

/// What the browser says about desktop notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Not known yet (the server's render, before hydration).
    Unknown,
    /// This browser has no Notification API.
    Unsupported,
    /// Never asked.
    Default,
    Granted,
    Denied,
}

impl Permission {
    /// For the settings page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unknown => "Checking…",
            Self::Unsupported => "Not supported by this browser",
            Self::Default => "Off",
            Self::Granted => "On",
            Self::Denied => "Blocked in the browser's site settings",
        }
    }
}

#[derive(Clone, Copy)]
pub struct Desktop {
    pub permission: RwSignal<Permission>,
    /// The in-page prompt is shown.
    pub prompt: RwSignal<bool>,
    /// Asked (or decided not to) in this session already.
    asked: StoredValue<bool>,
}

impl Desktop {
    pub fn new() -> Self {
        Self {
            permission: RwSignal::new(Permission::Unknown),
            prompt: RwSignal::new(false),
            asked: StoredValue::new(false),
        }
    }
}

impl Default for Desktop {
    fn default() -> Self {
        Self::new()
    }
}

impl ChatContext {
    /// The user sent a message: the first time in a session, offer desktop
    /// notifications (unless on, blocked, or "Not now" before).
    pub(super) fn offer_desktop(&self) {
        let d = self.desktop;
        if d.asked.get_value() {
            return;
        }
        d.asked.set_value(true);
        #[cfg(feature = "hydrate")]
        {
            d.permission.set(live::desktop::permission());
            let declined = self.me().is_some_and(|me| live::desktop::declined(me.id));
            if d.permission.get_untracked() == Permission::Default && !declined {
                d.prompt.set(true);
            }
        }
    }

    /// "Turn on": the browser's own question.
    pub fn turn_on_desktop(&self) {
        self.desktop.prompt.set(false);
        self.desktop.asked.set_value(true);
        #[cfg(feature = "hydrate")]
        live::desktop::request(self.desktop.permission);
    }

    /// "Not now": not asked again in this browser (the settings page still
    /// can).
    pub fn decline_desktop(&self) {
        self.desktop.prompt.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(me) = self.me() {
            live::desktop::decline(me.id);
        }
    }
}
