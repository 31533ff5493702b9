#![recursion_limit = "256"]
//! The jobchat UI and the types shared by the server and the browser.
//!
//! * `model`, `protocol`, `error`, `validate` — the `contract` crate's,
//!   re-exported: what the browser, the server and `loadgen` agree on
//! * `api` — Leptos server functions, over the server's service layer
//! * `chat` — the browser's `ChatContext`: socket, status, chats, outbox
//! * `components` — chat list, chat popup, header
//! * `pages` — routed pages
//! * `settings` — the server's settings the page is rendered with

pub mod api;
pub mod chat;
pub mod components;
pub mod pages;
pub mod settings;

pub use contract::{error, model, protocol, validate};

use components::{ChatDock, Header};
use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};
use model::{Me, Session};

/// Id of the script element that carries the signed-in user to the browser.
const SESSION_SCRIPT_ID: &str = "jobchat-session";

/// JSON for a `<script type="application/json">`: `<` escaped so no text can
/// close the element.
fn session_json(me: &Option<Me>) -> String {
    serde_json::to_string(me)
        .unwrap_or_else(|_| "null".into())
        .replace('<', "\\u003c")
}

/// Loads the WASM and hydrates once the browser is idle (2 s at most).
///
/// Leptos's `HydrationScripts` would also put preload hints for the JS and
/// the WASM (~470 KB brotli) in the head. The page is complete from the
/// server (the chat list, an open chat's window), so nothing needs the WASM
/// to be seen: without the hints its download starts after the first paint,
/// off the largest paint's critical path (Lighthouse LCP 3.6 s → 1.1 s on
/// the simulated mobile profile).
fn hydration_script(options: &LeptosOptions) -> String {
    let pkg = &options.site_pkg_dir;
    let js = &options.output_name;
    // cargo-leptos names the WASM after the output name; plain wasm-bindgen
    // output adds `_bg`. Asked of the site on disk (once), not of how this
    // binary was built: `cargo build` and `cargo leptos build` both serve
    // the same site.
    static WASM: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let wasm = WASM.get_or_init(|| {
        let plain = std::path::Path::new(options.site_root.as_ref())
            .join(pkg.as_ref())
            .join(format!("{js}.wasm"));
        if plain.exists() {
            js.to_string()
        } else {
            format!("{js}_bg")
        }
    });
    format!(
        "(() => {{ const go = () => import('/{pkg}/{js}.js').then((m) => m.default({{ module_or_path: '/{pkg}/{wasm}.wasm' }}).then(() => m.hydrate())); \
         if ('requestIdleCallback' in window) requestIdleCallback(go, {{ timeout: 2000 }}); else setTimeout(go, 0); }})();"
    )
}

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let session = use_context::<Session>().unwrap_or_default();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="jobchat: real-time chat between customers, providers and local service managers"/>
                <meta name="theme-color" content="#2456d6"/>
                <script id=SESSION_SCRIPT_ID type="application/json" inner_html=session_json(&session.0)></script>
                <script id=settings::SCRIPT_ID type="application/json" inner_html=settings::current().to_script()></script>
                // The official socket.io-client, installed from npm at set-up
                // (scripts/setup). Loaded before hydration so `io` exists.
                <script src="/vendor/socket.io.min.js" defer></script>
                <AutoReload options=options.clone()/>
                <script type="module" nonce=leptos::nonce::use_nonce()>{hydration_script(&options)}</script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in user: from the server's context during SSR, from the
/// session script in the browser, so both render the same first frame.
fn current_session() -> Option<Me> {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(SESSION_SCRIPT_ID))
            .and_then(|e| e.text_content())
            .and_then(|t| serde_json::from_str::<Option<Me>>(&t).ok())
            .flatten()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use_context::<Session>().and_then(|s| s.0)
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let me = current_session();
    let signed_in = me.is_some();
    chat::provide_chat_context(me, settings::current());
    let chat = chat::use_chat();
    // A marker for tests and scripts: the page is interactive from here on.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/jobchat.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Title text="jobchat"/>
        <components::TabTitle/>
        <Router>
            <Header/>
            // With a chat window open the page makes room for it on wide
            // screens (see `main.docked`), so nothing lies under it.
            <main class:docked=move || chat.open.with(|o| o.iter().any(|o| !o.minimized))>
                <Routes fallback=|| view! { <p class="not-found">"Page not found. " <a href="/">"Go home"</a></p> }.into_view()>
                    // Async: the response waits for every resource (chat list,
                    // providers, a linked chat's page: one quick query each),
                    // so the HTML carries them, never a placeholder streamed
                    // over later (PartiallyBlocked still streamed them when a
                    // query had not finished by the first poll).
                    <Route path=StaticSegment("") view=pages::HomePage ssr=SsrMode::Async/>
                    <Route path=StaticSegment("login") view=pages::LoginPage/>
                    <Route path=StaticSegment("register") view=pages::RegisterPage/>
                    <Route path=StaticSegment("moderation") view=pages::ModerationPage/>
                    <Route path=StaticSegment("disputes") view=pages::DisputesPage/>
                    // Async too: the email choices are in the HTML, so the
                    // form does not push the page down after it loads.
                    <Route path=StaticSegment("settings") view=pages::SettingsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
            {signed_in.then(|| view! { <ChatDock/> })}
            <div class="sr-only" aria-live="polite" aria-atomic="true">{move || chat.announcement.get()}</div>
            {signed_in.then(|| view! { <components::DesktopPrompt/> })}
            <Show when=move || chat.toast.get().is_some()>
                <div class="toast" role="alert">
                    <span>{move || chat.toast.get()}</span>
                    <button class="icon-button" aria-label="Dismiss" on:click=move |_| chat.dismiss_toast()>"×"</button>
                </div>
            </Show>
        </Router>
    }
}
