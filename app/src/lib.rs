//! The jobchat UI and the types shared by the server and the browser.
//!
//! * `model` — wire types (REST and Socket.IO payloads) used on both sides.
//! * `chat` — the browser's `ChatContext` (socket, connection status, messages).
//! * `pages` — routed pages.

pub mod chat;
pub mod model;
pub mod pages;
pub mod validate;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="jobchat: real-time chat between customers, providers and local service managers"/>
                // The official socket.io-client, installed from npm at set-up (see scripts/setup).
                // Loaded before hydration so `io` exists when the ChatContext starts.
                <script src="/vendor/socket.io.min.js"></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    chat::provide_chat_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/jobchat.css"/>
        <Title text="jobchat"/>
        <Router>
            <main>
                <Routes fallback=|| view! { <p class="not-found">"Page not found."</p> }.into_view()>
                    <Route path=StaticSegment("") view=pages::HomePage/>
                </Routes>
            </main>
        </Router>
    }
}
