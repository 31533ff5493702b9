//! The localStorage backup, keyed per user: the outbox of unsent messages,
//! a bounded cache of each open chat's latest messages (in seq order, each
//! with its seq), and drafts. Anything unreadable (corrupt, from an older
//! version, another user's) is discarded.

use crate::chat::outgoing::Outgoing;
use crate::model::{ChatId, Message, UserId};
use gloo_storage::{LocalStorage, Storage};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Messages kept per chat in the cache.
pub const CACHE_PER_CHAT: usize = 50;

fn key(user: UserId, what: &str) -> String {
    format!("jobchat:{user}:{what}")
}

fn load<T: for<'de> Deserialize<'de>>(k: &str) -> Option<T> {
    match LocalStorage::get::<T>(k) {
        Ok(v) => Some(v),
        Err(gloo_storage::errors::StorageError::KeyNotFound(_)) => None,
        Err(_) => {
            // Corrupt or foreign: drop it rather than fail.
            LocalStorage::delete(k);
            None
        }
    }
}

/// Whether it was stored: a full or disabled storage only loses the
/// backup, never the app.
fn save<T: Serialize>(k: &str, v: &T) -> bool {
    LocalStorage::set(k, v).is_ok()
}

/// True the first time it is asked for `what` in this browser (a notice
/// shown once); false after, and when storage is off (never shown again
/// and again).
pub fn first_time(user: UserId, what: &str) -> bool {
    let k = key(user, &format!("seen:{what}"));
    load::<bool>(&k).is_none() && save(&k, &true)
}

/// A remembered yes (a notice the user dismissed for good).
pub fn flag(user: UserId, what: &str) -> bool {
    load::<bool>(&key(user, what)).unwrap_or(false)
}

pub fn set_flag(user: UserId, what: &str) {
    save(&key(user, what), &true);
}

pub fn load_outbox(user: UserId) -> Vec<Outgoing> {
    load(&key(user, "outbox")).unwrap_or_default()
}

/// Whether the outbox is safely stored.
pub fn save_outbox(user: UserId, outbox: &[Outgoing]) -> bool {
    save(&key(user, "outbox"), &outbox)
}

pub fn load_cache(user: UserId, chat: ChatId) -> Vec<Message> {
    // Entries from before seqs do not parse: the cache is dropped, and the
    // server's pages fill the window.
    let msgs: Vec<Message> = load(&key(user, &format!("cache:{chat}"))).unwrap_or_default();
    // Only trust entries that belong where they are stored.
    msgs.into_iter()
        .filter(|m| m.chat_id == chat && m.id > 0 && m.seq > 0)
        .collect()
}

pub fn save_cache(user: UserId, chat: ChatId, messages: &[Message]) {
    let start = messages.len().saturating_sub(CACHE_PER_CHAT);
    save(
        &key(user, &format!("cache:{chat}")),
        &messages[start..].to_vec(),
    );
}

pub fn load_drafts(user: UserId) -> HashMap<ChatId, String> {
    load(&key(user, "drafts")).unwrap_or_default()
}

pub fn save_drafts(user: UserId, drafts: &HashMap<ChatId, String>) {
    save(&key(user, "drafts"), drafts);
}

pub fn load_open(user: UserId) -> Vec<ChatId> {
    load(&key(user, "open")).unwrap_or_default()
}

pub fn save_open(user: UserId, open: &[ChatId]) {
    save(&key(user, "open"), &open);
}

/// Removes everything jobchat stored (logout).
pub fn clear_all() {
    let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) else {
        return;
    };
    let len = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with("jobchat:"))
        .collect();
    for k in keys {
        let _ = storage.remove_item(&k);
    }
}
