//! `/settings`: how jobchat reaches the user while away — email about
//! unread messages (on or off, after how long, not during quiet hours in
//! their time zone) and desktop notifications in this browser.

use crate::api;
use crate::chat::desktop::Permission;
use crate::chat::use_chat;
use crate::error::AppError;
use crate::model::{EmailPreferences, QuietHours};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

/// The delay choices: (minutes, label); "" is the deployment's default.
const DELAYS: [(&str, &str); 8] = [
    ("", "Default (10 min)"),
    ("5", "5 minutes"),
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("60", "60 minutes"),
    ("180", "3 hours"),
    ("720", "12 hours"),
    ("1440", "24 hours"),
];

#[component]
pub fn SettingsPage() -> impl IntoView {
    let chat = use_chat();
    if chat.me().is_none() {
        return view! { <Redirect path="/login"/> }.into_any();
    }
    let prefs = Resource::new(|| (), |_| api::email_preferences());
    view! {
        <Title text="Settings · jobchat"/>
        <h1 class="greeting">"Settings"</h1>
        <div class="settings">
            <section class="panel" aria-labelledby="email-heading">
                <h2 id="email-heading">"Email when you are away"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || prefs.get().map(|r| match r {
                        Ok(p) => view! { <EmailForm initial=p/> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                    })}
                </Suspense>
            </section>
            <DesktopSection/>
        </div>
    }
    .into_any()
}

/// The browser's time zone (IANA), if it tells.
fn browser_time_zone() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|v| v.as_string())
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// The field an error is about (`details.field`), or "" for the form.
fn field_of(e: &AppError) -> String {
    e.details
        .as_ref()
        .and_then(|d| d.get("field"))
        .and_then(|f| f.as_str())
        .unwrap_or_default()
        .to_owned()
}

#[component]
fn EmailForm(initial: EmailPreferences) -> impl IntoView {
    let enabled = RwSignal::new(initial.enabled);
    let delay = RwSignal::new(
        initial
            .delay_minutes
            .map(|d| d.to_string())
            .unwrap_or_default(),
    );
    let quiet = RwSignal::new(initial.quiet_hours.is_some());
    let (start, end) = initial
        .quiet_hours
        .clone()
        .map(|q| (q.start, q.end))
        .unwrap_or_else(|| ("22:00".into(), "07:00".into()));
    let (start, end) = (RwSignal::new(start), RwSignal::new(end));
    let zone = RwSignal::new(initial.time_zone.clone());
    let from_browser = RwSignal::new(false);
    // Never chosen (the server's UTC): the browser's zone, once hydrated.
    if initial.time_zone == "UTC" {
        Effect::new(move |_| {
            if let Some(tz) = browser_time_zone().filter(|tz| tz != "UTC") {
                zone.set(tz);
                from_browser.set(true);
            }
        });
    }
    // (field, message) of the last refusal; "" for the form as a whole.
    let error = RwSignal::new(None::<(String, String)>);
    let saved = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error_for =
        move |field: &'static str| move || error.get().filter(|(f, _)| f == field).map(|(_, m)| m);
    // The delay the select shows, also one set elsewhere (REST) that is
    // not among the choices.
    let other_delay = initial
        .delay_minutes
        .map(|d| d.to_string())
        .filter(|d| !DELAYS.iter().any(|(v, _)| v == d));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(String::new());
        let preferences = EmailPreferences {
            enabled: enabled.get_untracked(),
            delay_minutes: delay.get_untracked().parse().ok(),
            quiet_hours: quiet.get_untracked().then(|| QuietHours {
                start: start.get_untracked(),
                end: end.get_untracked(),
            }),
            time_zone: zone.get_untracked().trim().to_owned(),
        };
        if let Err(e) = preferences.parse() {
            error.set(Some((e.field.to_owned(), e.message)));
            return;
        }
        error.set(None);
        busy.set(true);
        leptos::task::spawn_local(async move {
            match api::set_email_preferences(preferences).await {
                Ok(p) => {
                    delay.set(p.delay_minutes.map(|d| d.to_string()).unwrap_or_default());
                    zone.set(p.time_zone);
                    saved.set("Saved".into());
                }
                Err(e) => {
                    let field = field_of(&e);
                    // The server's message names the field ("timeZone: …"):
                    // next to the field, the rest says it.
                    let message = e
                        .message
                        .strip_prefix(&format!("{field}: "))
                        .map(str::to_owned)
                        .unwrap_or(e.message);
                    error.set(Some((field, message)));
                }
            }
            busy.set(false);
        });
    };
    let invalid = move |field: &'static str| move || error_for(field)().is_some().then_some("true");
    view! {
        <form class="settings-form" on:submit=on_submit novalidate>
            <label class="check">
                <input type="checkbox" prop:checked=enabled on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                " Email me about unread messages when I'm away"
            </label>
            <label for="email-delay">"After"</label>
            <select id="email-delay" prop:value=delay aria-invalid=invalid("delayMinutes") aria-describedby="email-delay-error"
                on:change=move |ev| delay.set(event_target_value(&ev))>
                {DELAYS.iter().map(|(v, label)| view! { <option value=*v selected=delay.get_untracked() == *v>{*label}</option> }).collect_view()}
                {other_delay.map(|d| view! { <option value=d.clone() selected=true>{format!("{d} minutes")}</option> })}
            </select>
            <p class="error" id="email-delay-error">{error_for("delayMinutes")}</p>
            <label class="check">
                <input type="checkbox" prop:checked=quiet on:change=move |ev| quiet.set(event_target_checked(&ev))/>
                " Not during quiet hours"
            </label>
            <div class="quiet-hours">
                <label>"From " <input type="time" id="quiet-start" prop:value=start disabled=move || !quiet.get()
                    aria-invalid=invalid("quietHours.start") aria-describedby="quiet-error"
                    on:input=move |ev| start.set(event_target_value(&ev))/></label>
                <label>"to " <input type="time" id="quiet-end" prop:value=end disabled=move || !quiet.get()
                    aria-invalid=invalid("quietHours.end") aria-describedby="quiet-error"
                    on:input=move |ev| end.set(event_target_value(&ev))/></label>
            </div>
            <p class="error" id="quiet-error">{error_for("quietHours.start")}{error_for("quietHours.end")}</p>
            <label for="time-zone">"Time zone"</label>
            <input id="time-zone" autocomplete="off" spellcheck="false" prop:value=zone aria-invalid=invalid("timeZone")
                aria-describedby="time-zone-hint time-zone-error" on:input=move |ev| zone.set(event_target_value(&ev))/>
            <p class="muted small" id="time-zone-hint">
                {move || if from_browser.get() { "From your browser. " } else { "" }}
                "The quiet hours are in this zone (e.g. Europe/Berlin)."
            </p>
            <p class="error" id="time-zone-error">{error_for("timeZone")}</p>
            <p class="error" role="alert">{error_for("")}</p>
            <div class="settings-actions">
                <button type="submit" disabled=move || busy.get()>"Save"</button>
                <span class="saved" role="status">{move || saved.get()}</span>
            </div>
        </form>
    }
}

#[component]
fn DesktopSection() -> impl IntoView {
    let chat = use_chat();
    let permission = chat.desktop.permission;
    let can_ask = move || permission.get() == Permission::Default;
    view! {
        <section class="panel" aria-labelledby="desktop-heading">
            <h2 id="desktop-heading">"Desktop notifications"</h2>
            <p>"A notification from this browser when a message arrives while jobchat is in the background."</p>
            <p>"Now: " <strong data-testid="desktop-permission">{move || permission.get().label()}</strong></p>
            <Show when=can_ask>
                <button type="button" on:click=move |_| chat.turn_on_desktop()>"Turn on desktop notifications"</button>
            </Show>
        </section>
    }
}
