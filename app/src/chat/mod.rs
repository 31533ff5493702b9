//! The browser's chat state: one `ChatContext`, provided at the app root and
//! read through `use_chat()`. It owns the Socket.IO connection, the
//! connection status, the chat list, every open chat's messages, typing and
//! presence, notifications and the outbox. Components never touch the socket.
//!
//! On the server the context holds the initial (empty) state so SSR and the
//! first client render agree; everything live starts after hydration.

#[cfg(feature = "hydrate")]
mod api;
#[cfg(feature = "hydrate")]
mod backup;
#[cfg(feature = "hydrate")]
mod live;
#[cfg(feature = "hydrate")]
mod socket;

use crate::model::{
    ChatId, ChatSummary, ConnectionStatus, Me, Message, MessageId, Notification, UserId, UserRef,
};
use leptos::prelude::*;
use std::collections::HashMap;

/// Where a message of the user's own is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Shown optimistically, not yet acknowledged.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused or timed out; can be retried.
    Failed,
}

/// One line of a chat window.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub message: Message,
    pub delivery: Delivery,
    pub error: Option<String>,
}

impl Line {
    /// Stable key: the stored id once known, else the client id.
    pub fn key(&self) -> String {
        if self.message.id > 0 {
            format!("m{}", self.message.id)
        } else {
            format!("c{}", self.message.client_id.clone().unwrap_or_default())
        }
    }
}

/// The messages of one chat as the browser has them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thread {
    /// Stored messages in id order, then the user's unacknowledged ones.
    pub lines: Vec<Line>,
    /// History from the server has arrived at least once.
    pub loaded: bool,
    /// Older history exists on the server.
    pub has_older: bool,
    pub loading_older: bool,
    /// Read markers of the other participants (from `read` events).
    pub read_up_to: HashMap<UserId, MessageId>,
}

impl Thread {
    pub fn last_stored_id(&self) -> Option<MessageId> {
        self.lines
            .iter()
            .rev()
            .map(|l| l.message.id)
            .find(|id| *id > 0)
    }
    pub fn first_stored_id(&self) -> Option<MessageId> {
        self.lines.iter().map(|l| l.message.id).find(|id| *id > 0)
    }

    /// Adds or replaces a stored message: the same id is never shown twice,
    /// and a pending line with the same client id becomes this message.
    pub fn merge(&mut self, message: Message) {
        if self.lines.iter().any(|l| l.message.id == message.id) {
            return;
        }
        if let Some(cid) = &message.client_id
            && let Some(pos) = self.lines.iter().position(|l| {
                l.message.id <= 0
                    && l.message.client_id.as_ref() == Some(cid)
                    && l.message.sender_id == message.sender_id
            })
        {
            self.lines.remove(pos);
        }
        let insert_at = self
            .lines
            .iter()
            .position(|l| l.message.id <= 0 || l.message.id > message.id)
            .unwrap_or(self.lines.len());
        self.lines.insert(
            insert_at,
            Line {
                message,
                delivery: Delivery::Sent,
                error: None,
            },
        );
    }

    pub fn push_pending(&mut self, message: Message) {
        self.lines.push(Line {
            message,
            delivery: Delivery::Sending,
            error: None,
        });
    }

    pub fn set_delivery(&mut self, client_id: &str, delivery: Delivery, error: Option<String>) {
        for l in &mut self.lines {
            if l.message.id <= 0 && l.message.client_id.as_deref() == Some(client_id) {
                l.delivery = delivery;
                l.error = error.clone();
            }
        }
    }
}

/// A chat window on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenChat {
    pub chat_id: ChatId,
    pub minimized: bool,
}

#[derive(Clone, Copy)]
pub struct ChatContext {
    pub me: StoredValue<Option<Me>>,
    pub status: RwSignal<ConnectionStatus>,
    pub chats: RwSignal<Vec<ChatSummary>>,
    pub chats_loaded: RwSignal<bool>,
    pub threads: RwSignal<HashMap<ChatId, Thread>>,
    pub open: RwSignal<Vec<OpenChat>>,
    /// Who is typing, per chat.
    pub typing: RwSignal<HashMap<ChatId, Vec<(UserId, String)>>>,
    /// Online state by user, from presence events and join acks.
    pub presence: RwSignal<HashMap<UserId, bool>>,
    pub notifications: RwSignal<Vec<Notification>>,
    pub providers: RwSignal<Vec<UserRef>>,
    pub drafts: RwSignal<HashMap<ChatId, String>>,
    /// Text for the screen-reader live region.
    pub announcement: RwSignal<String>,
    /// A short message for the user (errors of actions).
    pub toast: RwSignal<Option<String>>,
}

/// Provides the context once, at the app root.
pub fn provide_chat_context(me: Option<Me>) {
    let ctx = ChatContext {
        me: StoredValue::new(me),
        status: RwSignal::new(ConnectionStatus::Connecting),
        chats: RwSignal::new(Vec::new()),
        chats_loaded: RwSignal::new(false),
        threads: RwSignal::new(HashMap::new()),
        open: RwSignal::new(Vec::new()),
        typing: RwSignal::new(HashMap::new()),
        presence: RwSignal::new(HashMap::new()),
        notifications: RwSignal::new(Vec::new()),
        providers: RwSignal::new(Vec::new()),
        drafts: RwSignal::new(HashMap::new()),
        announcement: RwSignal::new(String::new()),
        toast: RwSignal::new(None),
    };
    provide_context(ctx);

    #[cfg(feature = "hydrate")]
    {
        // Effects run only in the browser, after hydration.
        Effect::new(move |prev: Option<()>| {
            if prev.is_none() {
                live::start(ctx);
            }
        });
    }
}

pub fn use_chat() -> ChatContext {
    expect_context::<ChatContext>()
}

/// The operations components call. In the browser they talk to the server;
/// during SSR there is nothing to do.
impl ChatContext {
    pub fn me(&self) -> Option<Me> {
        self.me.get_value()
    }

    pub fn chat(&self, chat_id: ChatId) -> Option<ChatSummary> {
        self.chats
            .with(|c| c.iter().find(|c| c.id == chat_id).cloned())
    }

    pub fn unread_notifications(&self) -> usize {
        self.notifications
            .with(|n| n.iter().filter(|n| n.read_at.is_none()).count())
    }

    pub fn open_chat(&self, chat_id: ChatId) {
        #[cfg(feature = "hydrate")]
        live::open_chat(*self, chat_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = chat_id;
    }

    pub fn close_chat(&self, chat_id: ChatId) {
        #[cfg(feature = "hydrate")]
        live::close_chat(*self, chat_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = chat_id;
    }

    pub fn toggle_minimized(&self, chat_id: ChatId) {
        self.open.update(|open| {
            if let Some(o) = open.iter_mut().find(|o| o.chat_id == chat_id) {
                o.minimized = !o.minimized;
            }
        });
        #[cfg(feature = "hydrate")]
        live::mark_read_latest(*self, chat_id);
    }

    /// The user is looking at the newest messages of the chat.
    pub fn mark_seen(&self, chat_id: ChatId) {
        #[cfg(feature = "hydrate")]
        live::mark_read_latest(*self, chat_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = chat_id;
    }

    pub fn send(&self, chat_id: ChatId, text: String) {
        #[cfg(feature = "hydrate")]
        live::send(*self, chat_id, text);
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, text);
    }

    pub fn retry(&self, chat_id: ChatId, client_id: String) {
        #[cfg(feature = "hydrate")]
        live::retry(*self, chat_id, client_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, client_id);
    }

    pub fn load_older(&self, chat_id: ChatId) {
        #[cfg(feature = "hydrate")]
        live::load_older(*self, chat_id);
        #[cfg(not(feature = "hydrate"))]
        let _ = chat_id;
    }

    pub fn set_typing(&self, chat_id: ChatId, typing: bool) {
        #[cfg(feature = "hydrate")]
        live::set_typing(chat_id, typing);
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, typing);
    }

    pub fn set_draft(&self, chat_id: ChatId, text: String) {
        self.drafts.update(|d| {
            if text.is_empty() {
                d.remove(&chat_id);
            } else {
                d.insert(chat_id, text);
            }
        });
        #[cfg(feature = "hydrate")]
        live::save_drafts(*self);
    }

    pub fn add_lsm(
        &self,
        chat_id: ChatId,
        reason: String,
        done: impl Fn(Result<(), String>) + 'static,
    ) {
        #[cfg(feature = "hydrate")]
        live::add_lsm(*self, chat_id, reason, done);
        #[cfg(not(feature = "hydrate"))]
        let _ = (chat_id, reason, done);
    }

    pub fn resolve_dispute(
        &self,
        dispute_id: i64,
        resolution: String,
        done: impl Fn(Result<(), String>) + 'static,
    ) {
        #[cfg(feature = "hydrate")]
        live::resolve_dispute(*self, dispute_id, resolution, done);
        #[cfg(not(feature = "hydrate"))]
        let _ = (dispute_id, resolution, done);
    }

    pub fn book_job(
        &self,
        provider_id: UserId,
        title: String,
        description: String,
        done: impl Fn(Result<(), String>) + 'static,
    ) {
        #[cfg(feature = "hydrate")]
        live::book_job(*self, provider_id, title, description, done);
        #[cfg(not(feature = "hydrate"))]
        let _ = (provider_id, title, description, done);
    }

    pub fn read_notification(&self, id: i64) {
        #[cfg(feature = "hydrate")]
        live::read_notification(*self, Some(id));
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }

    pub fn read_all_notifications(&self) {
        #[cfg(feature = "hydrate")]
        live::read_notification(*self, None);
    }

    pub fn logout(&self) {
        #[cfg(feature = "hydrate")]
        live::logout();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MessageKind;

    fn msg(id: i64, client: Option<&str>) -> Message {
        Message {
            id,
            chat_id: 1,
            sender_id: Some(7),
            sender_name: Some("A".into()),
            sender_role: None,
            content: format!("m{id}"),
            client_id: client.map(str::to_owned),
            kind: MessageKind::User,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn merge_dedupes_and_orders() {
        let mut t = Thread::default();
        t.merge(msg(3, None));
        t.merge(msg(1, None));
        t.push_pending(msg(0, Some("abc")));
        t.merge(msg(2, None));
        t.merge(msg(3, None));
        let ids: Vec<i64> = t.lines.iter().map(|l| l.message.id).collect();
        assert_eq!(
            ids,
            vec![1, 2, 3, 0],
            "stored in order, pending last, no duplicates"
        );
        // The ack (or the echo) replaces the pending line.
        t.merge(msg(4, Some("abc")));
        let ids: Vec<i64> = t.lines.iter().map(|l| l.message.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        assert!(t.lines.iter().all(|l| l.delivery == Delivery::Sent));
        // Echo after ack: nothing changes.
        t.merge(msg(4, Some("abc")));
        assert_eq!(t.lines.len(), 4);
        assert_eq!(t.last_stored_id(), Some(4));
        assert_eq!(t.first_stored_id(), Some(1));
    }
}
