//! The browser's live state as one value. Its shown parts are published to
//! `ChatContext`'s signals after every message (each only when it changed);
//! the rest is bookkeeping no view reads.

use super::msg::{Effect, Env};
use crate::chat::Thread;
use crate::chat::outgoing::Outgoing;
use crate::chat::typing::{TypingThrottle, Typists};
use crate::chat::windows::OpenChat;
use crate::error::{AppError, ErrorCode};
use crate::model::{
    ChatCursor, ChatId, ChatSummary, ConnectionStatus, Me, MessageId, Notification, SearchHit, Seq,
    UserId, UserRef,
};
use std::collections::HashMap;

/// Where an ended session leads.
pub const SESSION_ENDED: &str = "/login?expired=1";

#[derive(Clone, Debug)]
pub struct State {
    pub me: Option<Me>,

    // Shown: `ChatContext` has a signal of the same name for each.
    pub status: ConnectionStatus,
    /// The connection's transport (`websocket`, `polling`) once it opened.
    pub transport: Option<String>,
    pub chats: Vec<ChatSummary>,
    pub chats_loaded: bool,
    /// Where the list's next (older) page starts; `None` when the list
    /// holds every chat.
    pub chats_more: Option<ChatCursor>,
    pub threads: HashMap<ChatId, Thread>,
    pub open: Vec<OpenChat>,
    pub typing: Typists,
    /// Online state by user, from presence events, join acks and the list.
    pub presence: HashMap<UserId, bool>,
    pub notifications: Vec<Notification>,
    pub providers: Vec<UserRef>,
    pub drafts: HashMap<ChatId, String>,
    /// Text for the screen-reader live region.
    pub announcement: String,
    /// A short message for the user (errors of actions).
    pub toast: Option<String>,
    /// The message search under way or shown; `None`: the chat list shows.
    pub search: Option<Search>,
    /// A search hit the user opened: its window scrolls to it once shown.
    pub jump: Option<Jump>,
    /// Uploads under way: percent done by file key.
    pub progress: HashMap<String, u8>,
    /// Counts changes to the moderation queue (a `moderation_item` event,
    /// a reconnect that may have missed some): the moderation page reloads
    /// whenever it moves.
    pub moderation_rev: u64,
    /// Counts changes to the dispute console's cases (a `dispute_case`
    /// event, a reconnect that may have missed some): the console reloads
    /// whenever it moves.
    pub disputes_rev: u64,

    // Not shown.
    /// The server-rendered chat list: what the page knows of each chat
    /// until the live list has loaded.
    pub first_chats: Vec<ChatSummary>,
    /// The outbox as last stored (see `outgoing`).
    pub outbox: Vec<Outgoing>,
    /// A send is in flight: they go out one at a time, in order.
    pub flushing: bool,
    /// The file being uploaded, by key. Unlike a send, an upload is not
    /// answered by a reconnect (it is HTTP, not the socket), so a dropped
    /// socket does not clear it: a second upload of the same file would
    /// store it twice and the send would no longer name them all.
    pub uploading: Option<String>,
    /// Refused-for-now answers to the first queued message in a row.
    pub send_attempts: u32,
    /// A chat-list reload is already scheduled (bursts share one).
    pub list_refresh_pending: bool,
    pub typing_sent: TypingThrottle,
}

/// A search of the messages, as the page shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Search {
    /// What was asked, as typed.
    pub query: String,
    pub hits: Vec<SearchHit>,
    /// A page of hits is on its way.
    pub loading: bool,
    /// More hits may follow the ones shown.
    pub more: bool,
    /// Why the search was refused (for the user).
    pub error: Option<String>,
}

/// Where a window should scroll to: a message found by a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jump {
    pub chat_id: ChatId,
    pub message_id: MessageId,
    pub seq: Seq,
    /// Older pages read so far to reach it.
    pub pages: u32,
}

impl State {
    /// The state before anything happened: `open` holds the window a
    /// `/?chat=ID` link opened (as the server rendered it).
    pub fn new(me: Option<Me>, open: Vec<OpenChat>) -> Self {
        Self {
            me,
            status: ConnectionStatus::Connecting,
            transport: None,
            chats: Vec::new(),
            chats_loaded: false,
            chats_more: None,
            threads: HashMap::new(),
            open,
            typing: HashMap::new(),
            presence: HashMap::new(),
            notifications: Vec::new(),
            providers: Vec::new(),
            drafts: HashMap::new(),
            announcement: String::new(),
            toast: None,
            search: None,
            jump: None,
            progress: HashMap::new(),
            moderation_rev: 0,
            disputes_rev: 0,
            first_chats: Vec::new(),
            outbox: Vec::new(),
            flushing: false,
            uploading: None,
            send_attempts: 0,
            list_refresh_pending: false,
            typing_sent: TypingThrottle::default(),
        }
    }

    /// The files of queued messages, by client id (what their lines show
    /// while they go out).
    pub fn uploads(&self) -> HashMap<String, Vec<crate::chat::outgoing::FileUpload>> {
        self.outbox
            .iter()
            .filter(|o| !o.files.is_empty())
            .map(|o| (o.client_id.clone(), o.files.clone()))
            .collect()
    }

    pub fn me_id(&self) -> Option<UserId> {
        self.me.as_ref().map(|m| m.id)
    }

    /// The chat has a window on screen (minimised or not).
    pub fn is_open(&self, chat: ChatId) -> bool {
        self.open.iter().any(|o| o.chat_id == chat)
    }

    /// Whether the user is looking at the chat: open, not minimised, and
    /// the tab itself in view (a chat open in a background tab is not read).
    pub fn is_visible(&self, env: &Env, chat: ChatId) -> bool {
        !env.tab_hidden && self.open.iter().any(|o| o.chat_id == chat && !o.minimized)
    }

    pub fn is_loaded(&self, chat: ChatId) -> bool {
        self.threads.get(&chat).is_some_and(|th| th.loaded)
    }

    /// Whether the chat list says the user left this chat (the live list
    /// once loaded, else the server-rendered one).
    pub fn has_left(&self, chat: ChatId) -> bool {
        let list = if self.chats_loaded {
            &self.chats
        } else {
            &self.first_chats
        };
        list.iter().any(|c| c.id == chat && c.left)
    }

    pub fn note_online(&mut self, states: impl IntoIterator<Item = (UserId, bool)>) {
        self.presence.extend(states);
    }

    /// A background call failed: an ended session leads to the sign-in
    /// page, anything else but an unreachable server (the status badge
    /// already says so) shows as a toast.
    pub fn report(&mut self, fx: &mut Vec<Effect>, e: &AppError) {
        if !session_ended(fx, e) && e.code != ErrorCode::Unavailable {
            self.toast = Some(e.message.clone());
        }
    }
}

/// A server function refused because the session ended (expired, or
/// logged out in another tab): the sign-in page says so. `true` if it did.
pub fn session_ended(fx: &mut Vec<Effect>, e: &AppError) -> bool {
    let ended = e.code == ErrorCode::Unauthorized;
    if ended {
        fx.push(Effect::GoTo(SESSION_ENDED));
    }
    ended
}

/// Tells a form (or a message's edit or delete) how its action went; an
/// ended session also leads to the sign-in page.
pub fn reply(fx: &mut Vec<Effect>, ticket: super::msg::Ticket, result: Result<(), AppError>) {
    if let Err(e) = &result {
        session_ended(fx, e);
    }
    fx.push(Effect::Reply { ticket, result });
}
