//! The browser's Notification API: the permission, asking for it, showing
//! one (clicking it brings the window forward and opens the chat).

use super::backup;
use super::runtime::dispatch;
use crate::chat::ChatContext;
use crate::chat::desktop::Permission;
use crate::chat::state::Msg;
use crate::model::{ChatId, UserId};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Notification, NotificationOptions, NotificationPermission};

const DECLINED: &str = "desktop-not-now";

fn supported() -> bool {
    web_sys::window().is_some_and(|w| {
        js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false)
    })
}

pub fn permission() -> Permission {
    if !supported() {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Default,
    }
}

/// Asks the browser (after a click); `into` gets the answer.
pub fn request(into: RwSignal<Permission>) {
    if !supported() {
        into.set(Permission::Unsupported);
        return;
    }
    let Ok(promise) = Notification::request_permission() else {
        return;
    };
    leptos::task::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        into.set(permission());
    });
}

pub fn declined(user: UserId) -> bool {
    backup::flag(user, DECLINED)
}

pub fn decline(user: UserId) {
    backup::set_flag(user, DECLINED);
}

/// Shows one, if allowed; the chat's tag replaces an earlier one of the
/// same chat.
pub fn show(ctx: ChatContext, chat: ChatId, title: &str, body: &str) {
    if permission() != Permission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(body);
    options.set_tag(&format!("chat-{chat}"));
    let Ok(n) = Notification::new_with_options(title, &options) else {
        return;
    };
    let shown = n.clone();
    let click = Closure::once_into_js(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
        }
        shown.close();
        ctx.focus_request.set(Some(chat));
        dispatch(ctx, Msg::OpenChat(chat));
    });
    n.set_onclick(Some(click.unchecked_ref()));
}
