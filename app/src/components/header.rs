//! The top bar: who is signed in, the main links (disputes, moderation,
//! settings), the connection, the notification bell.

use super::focus;
use crate::chat::use_chat;
use crate::model::{ConnectionStatus, Role};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// The bell's button and its dialog, for moving focus.
const BUTTON: &str = ".bell-button";
const PANEL: &str = ".bell-panel";

#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let chat = use_chat();
    let status = move || chat.status.get();
    // The tooltip names the transport in use (WebSocket, or long-polling
    // where WebSocket is blocked); it follows upgrades.
    let title = move || match (status(), chat.transport.get()) {
        (ConnectionStatus::Connected, Some(t)) => format!("Real-time connection ({t})"),
        _ => "Real-time connection".to_owned(),
    };
    view! {
        <p class="connection" data-status=move || status().key() data-transport=move || chat.transport.get() title=title>
            <span class="dot" aria-hidden="true"></span>
            <span role="status">{move || status().label()}</span>
        </p>
    }
}

#[component]
fn NotificationBell() -> impl IntoView {
    let chat = use_chat();
    let open = RwSignal::new(false);
    let unread = move || chat.unread_notifications();
    // A dialog: focus moves into it when it opens, Tab and Shift+Tab stay
    // inside, Escape closes it and focus goes back to the bell.
    Effect::new(move |_| {
        if open.get() {
            // Once the panel is on the page.
            request_animation_frame(|| focus::focus_first_in(PANEL));
        }
    });
    let close = move || {
        open.set(false);
        focus::focus(BUTTON);
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            // Not the chat window's Escape too.
            ev.stop_propagation();
            close();
        } else {
            focus::trap_tab(PANEL, &ev);
        }
    };
    view! {
        <div class="bell">
            <button
                class="icon-button bell-button"
                aria-haspopup="dialog"
                aria-expanded=move || open.get().to_string()
                aria-label=move || format!("Notifications, {} unread", unread())
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5-6.71V3.5a2 2 0 1 0-4 0v.79A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z"/>
                </svg>
                <Show when=move || { unread() > 0 }>
                    <span class="badge" data-testid="bell-count">{unread}</span>
                </Show>
            </button>
            <Show when=move || open.get()>
                <div class="bell-panel" role="dialog" aria-modal="true" aria-label="Notifications" on:keydown=on_keydown>
                    <div class="bell-head">
                        <strong>"Notifications"</strong>
                        <button class="link" on:click=move |_| chat.read_all_notifications()>"Mark all read"</button>
                    </div>
                    <ul class="bell-list">
                        <For
                            each=move || chat.notifications.get()
                            key=|n| (n.id, n.count, n.read_at.is_some())
                            children=move |n| {
                                let id = n.id;
                                let chat_id = n.chat_id;
                                let unread = n.read_at.is_none();
                                view! {
                                    <li class:unread=unread>
                                        <button class="bell-item" on:click=move |_| {
                                            chat.read_notification(id);
                                            if let Some(c) = chat_id { chat.open_chat(c); }
                                            open.set(false);
                                        }>
                                            <span class="bell-title">{n.title.clone()}</span>
                                            <span class="bell-body">{n.body.clone()}</span>
                                        </button>
                                    </li>
                                }
                            }
                        />
                    </ul>
                    <Show when=move || chat.notifications.with(|n| n.is_empty())>
                        <p class="empty">"Nothing yet."</p>
                    </Show>
                </div>
            </Show>
        </div>
    }
}

/// The main links: the LSMs' dispute console and moderation page,
/// everyone's settings (each marked current while on it).
#[component]
fn MainNav(lsm: bool) -> impl IntoView {
    let location = use_location();
    let here =
        move |path: &'static str| move || location.pathname.with(|p| p == path).then_some("page");
    view! {
        <nav aria-label="Main">
            {lsm.then(|| view! {
                <a class="nav-link" href="/disputes" aria-current=here("/disputes")>"Disputes"</a>
                <a class="nav-link" href="/moderation" aria-current=here("/moderation")>"Moderation"</a>
            })}
            <a class="nav-link" href="/settings" aria-current=here("/settings")>"Settings"</a>
        </nav>
    }
}

#[component]
pub fn Header() -> impl IntoView {
    let chat = use_chat();
    let me = chat.me();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"jobchat"</a>
            <div class="topbar-right">
                {me.map(|me| view! {
                    <MainNav lsm=me.role == Role::Lsm/>
                    <ConnectionBadge/>
                    <NotificationBell/>
                    <span class="me">
                        <span class="me-name">{me.name.clone()}</span>
                        <span class=format!("role role-{}", me.role)>{me.role.to_string()}</span>
                    </span>
                    <button class="secondary" on:click=move |_| chat.logout()>"Log out"</button>
                })}
            </div>
        </header>
    }
}
