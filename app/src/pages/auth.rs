//! Sign-in and sign-up. The `login`/`register` server functions set the
//! HttpOnly session cookie; the page then reloads so the server renders the
//! signed-in app.

use crate::api;
use crate::error::AppError;
use crate::model::{Me, Role};
use crate::validate::{Email, Name, Password};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Runs a sign-in or sign-up server function; on success the page reloads
/// so the server renders the signed-in app, else the form shows why. Here
/// `unauthorized` means wrong credentials, not an ended session.
fn submit(
    call: impl Future<Output = Result<Me, AppError>> + 'static,
    error: RwSignal<Option<String>>,
    busy: RwSignal<bool>,
) {
    busy.set(true);
    leptos::task::spawn_local(async move {
        match call.await {
            Ok(_) => {
                let _ = window().location().assign("/");
            }
            Err(e) => {
                busy.set(false);
                error.set(Some(e.message));
            }
        }
    });
}

#[component]
pub fn LoginPage() -> impl IntoView {
    // Uncontrolled inputs, read at submit: what a user typed before the
    // page hydrated is kept.
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let query = use_query_map();
    let expired = move || query.with(|q| q.get("expired").is_some());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = |r: NodeRef<leptos::html::Input>| {
            r.get_untracked().map(|e| e.value()).unwrap_or_default()
        };
        submit(api::login(value(email), value(password)), error, busy);
    };
    view! {
        <section class="auth-card">
            <h1>"Sign in"</h1>
            <p class="muted">"Chat with your customer, your provider, or the local service manager."</p>
            <Show when=expired>
                <p class="notice" role="status">"Your session ended. Please sign in again."</p>
            </Show>
            <form on:submit=on_submit>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="username" required node_ref=email/>
                <label for="password">"Password"</label>
                <input id="password" type="password" autocomplete="current-password" required node_ref=password/>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
                <button type="submit" disabled=move || busy.get()>{move || if busy.get() { "Signing in…" } else { "Sign in" }}</button>
            </form>
            <p class="muted">"New here? " <a href="/register">"Create an account"</a></p>
            <details class="demo">
                <summary>"Demo accounts"</summary>
                <p>"Password for all: " <code>"demo-password"</code></p>
                <ul>
                    <li><code>"alice@demo.test"</code>" — customer"</li>
                    <li><code>"bob@demo.test"</code>" — provider"</li>
                    <li><code>"lena@demo.test"</code>" — local service manager"</li>
                </ul>
            </details>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let name = NodeRef::<leptos::html::Input>::new();
    let email = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let provider = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let value = |r: NodeRef<leptos::html::Input>| {
            r.get_untracked().map(|e| e.value()).unwrap_or_default()
        };
        let (name, email, password) = (value(name), value(email), value(password));
        let role = if provider.get_untracked().is_some_and(|e| e.checked()) {
            Role::Provider
        } else {
            Role::Customer
        };
        // The same rules as the server, told before the round trip.
        let checks = Name::parse(&name)
            .and(Email::parse(&email))
            .and(Password::parse(&password));
        if let Err(e) = checks {
            error.set(Some(format!("{} {}", capitalise(e.field), e.message)));
            return;
        }
        submit(api::register(name, email, password, role), error, busy);
    };
    view! {
        <section class="auth-card">
            <h1>"Create an account"</h1>
            <form on:submit=on_submit>
                <label for="name">"Your name"</label>
                <input id="name" autocomplete="name" required maxlength="80" node_ref=name/>
                <label for="email">"Email"</label>
                <input id="email" type="email" autocomplete="email" required node_ref=email/>
                <label for="password">"Password (8–128 characters)"</label>
                <input id="password" type="password" autocomplete="new-password" required minlength="8" maxlength="128" node_ref=password/>
                <fieldset class="roles">
                    <legend>"I am a"</legend>
                    <label><input type="radio" name="role" value="customer" checked/>" customer"</label>
                    <label><input type="radio" name="role" value="provider" node_ref=provider/>" service provider"</label>
                </fieldset>
                <Show when=move || error.get().is_some()>
                    <p class="error" role="alert">{move || error.get()}</p>
                </Show>
                <button type="submit" disabled=move || busy.get()>"Create account"</button>
            </form>
            <p class="muted">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
