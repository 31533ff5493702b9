//! The browser's chat state: one `ChatContext`, provided at the app root and
//! read through `use_chat()`. It owns the Socket.IO connection, the
//! connection status, the chat list, every open chat's messages, typing and
//! presence, notifications and the outbox. Components never touch the socket.
//!
//! The first paint comes from the server: for a signed-in user the chat list
//! (and a customer's providers) are read during SSR through blocking
//! resources over the server functions, serialised into the page and read
//! again from there at hydration, so both render the same first frame with
//! no "Loading…" state. Everything live starts after hydration (`live`,
//! browser only), and from then on the signals are the truth.
//!
//! Every change to the live state is a message (`state::Msg`) into one
//! function (`state::update`); the operations below only send messages.
//!
//! * `state` — the live state, its messages and effects, `update`
//! * `thread` — one chat's messages in seq order, their merge rules and gaps
//! * `attachments` — what a message's files read as, checks before uploads
//! * `bell` — the bell's number and how reads settle it
//! * `desktop` — desktop notifications: permission, the in-page prompt
//! * `list` — live updates of the chat list
//! * `typing` — typing indicators, their expiry and their throttle
//! * `outgoing` — queued messages and what the outbox does with answers
//! * `sending` — `ChatContext`'s operations on what the user sends: messages,
//!   their files, retries, edits and deletions
//! * `windows` — chat windows on screen: how many fit, which a link opens
//! * `live` (browser only) — the runtime: socket, storage, timers

pub mod attachments;
pub mod bell;
pub mod desktop;
pub mod list;
pub mod outgoing;
mod sending;
pub mod state;
pub mod thread;
pub mod typing;
pub mod windows;

#[cfg(feature = "hydrate")]
mod live;

pub use thread::{Delivery, Line, Thread};
pub use windows::{OpenChat, max_open, put_first, small_screen};

#[cfg(feature = "hydrate")]
use crate::components::focus;
use crate::components::focus::Focused;
use crate::error::AppError;
use crate::model::{
    ChatCursor, ChatId, ChatSummary, ConnectionStatus, Me, MessagePage, Notification, UserId,
    UserRef,
};
use crate::settings::Settings;
use leptos::prelude::*;
use state::{Form, Msg};
use std::collections::HashMap;

#[derive(Clone, Copy)]
pub struct ChatContext {
    pub me: StoredValue<Option<Me>>,
    pub status: RwSignal<ConnectionStatus>,
    pub chats: RwSignal<Vec<ChatSummary>>,
    pub chats_loaded: RwSignal<bool>,
    /// Where the list's next (older) page starts; `None` when the list
    /// holds every chat.
    pub chats_more: RwSignal<Option<ChatCursor>>,
    pub threads: RwSignal<HashMap<ChatId, Thread>>,
    pub open: RwSignal<Vec<OpenChat>>,
    /// Who is typing, per chat.
    pub typing: RwSignal<typing::Typists>,
    /// Online state by user, from presence events and join acks.
    pub presence: RwSignal<HashMap<UserId, bool>>,
    pub notifications: RwSignal<Vec<Notification>>,
    pub providers: RwSignal<Vec<UserRef>>,
    pub drafts: RwSignal<HashMap<ChatId, String>>,
    /// Text for the screen-reader live region.
    pub announcement: RwSignal<String>,
    /// A short message for the user (errors of actions).
    pub toast: RwSignal<Option<String>>,
    /// The message search shown instead of the chat list, if any.
    pub search: RwSignal<Option<state::Search>>,
    /// A search hit a window should scroll to.
    pub jump: RwSignal<Option<state::Jump>>,
    /// The connection's transport (`websocket`, `polling`) once it opened.
    pub transport: RwSignal<Option<String>>,
    /// Files of the user's queued messages, by client id.
    pub uploads: RwSignal<HashMap<String, Vec<outgoing::FileUpload>>>,
    /// Uploads under way: percent done by file key.
    pub progress: RwSignal<HashMap<String, u8>>,
    /// Moves when the moderation queue changed (`State::moderation_rev`):
    /// the moderation page's resources track it.
    pub moderation_rev: RwSignal<u64>,
    /// Moves when a dispute case changed (`State::disputes_rev`): the
    /// dispute console's resources track it.
    pub disputes_rev: RwSignal<u64>,
    /// The chat list and providers as the server rendered them (signed in
    /// only); `chat_list()`/`provider_list()` fall back to them until the
    /// live signals have loaded.
    pub first_chats: Option<Resource<Result<Vec<ChatSummary>, AppError>>>,
    pub first_providers: Option<Resource<Result<Vec<UserRef>, AppError>>>,
    /// The newest page of the chat a `/?chat=ID` link opens, read during SSR
    /// so its window arrives with the messages in it.
    pub first_page: Option<(ChatId, Resource<Result<MessagePage, AppError>>)>,
    /// What had the focus when the user opened a chat (to give it back when
    /// the window closes), by chat. Browser only: elements stay on the
    /// page's one thread (the server's renders move between threads).
    #[cfg(feature = "hydrate")]
    openers: StoredValue<HashMap<ChatId, Focused>, LocalStorage>,
    /// A window the user just opened (or brought forward): it takes the
    /// focus, then clears this.
    pub focus_request: RwSignal<Option<ChatId>>,
    /// The server's settings the page was rendered with (the edit window).
    pub settings: Settings,
    pub desktop: desktop::Desktop,
    /// The live state and what runs it (socket, queue of messages).
    #[cfg(feature = "hydrate")]
    live: live::RuntimeCell,
}

/// Provides the context once, at the app root.
pub fn provide_chat_context(me: Option<Me>, settings: Settings) {
    // Blocking: the HTML is sent with the list in it, never a placeholder.
    let first_chats = me
        .is_some()
        .then(|| Resource::new_blocking(|| (), |_| crate::api::list_chats(None)));
    let first_providers = me
        .as_ref()
        .filter(|m| m.role == crate::model::Role::Customer)
        .map(|_| Resource::new_blocking(|| (), |_| crate::api::providers()));
    let linked = me.as_ref().and(windows::linked_chat());
    let first_page = linked.map(|id| {
        let page = Resource::new_blocking(
            || (),
            move |_| crate::api::list_messages(id, crate::api::PageRequest::default()),
        );
        (id, page)
    });
    let first_open: Vec<OpenChat> = linked
        .map(|chat_id| OpenChat {
            chat_id,
            minimized: false,
        })
        .into_iter()
        .collect();
    let ctx = ChatContext {
        #[cfg(feature = "hydrate")]
        live: live::new_runtime(me.clone(), first_open.clone()),
        me: StoredValue::new(me),
        status: RwSignal::new(ConnectionStatus::Connecting),
        chats: RwSignal::new(Vec::new()),
        chats_loaded: RwSignal::new(false),
        chats_more: RwSignal::new(None),
        threads: RwSignal::new(HashMap::new()),
        // The linked chat's window is open from the first frame, on the
        // server and at hydration alike.
        open: RwSignal::new(first_open),
        typing: RwSignal::new(HashMap::new()),
        presence: RwSignal::new(HashMap::new()),
        notifications: RwSignal::new(Vec::new()),
        providers: RwSignal::new(Vec::new()),
        drafts: RwSignal::new(HashMap::new()),
        announcement: RwSignal::new(String::new()),
        toast: RwSignal::new(None),
        search: RwSignal::new(None),
        jump: RwSignal::new(None),
        transport: RwSignal::new(None),
        uploads: RwSignal::new(HashMap::new()),
        progress: RwSignal::new(HashMap::new()),
        moderation_rev: RwSignal::new(0),
        disputes_rev: RwSignal::new(0),
        first_chats,
        first_providers,
        first_page,
        #[cfg(feature = "hydrate")]
        openers: StoredValue::new_local(HashMap::new()),
        focus_request: RwSignal::new(None),
        settings,
        desktop: desktop::Desktop::new(),
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

/// A new UUID v4 (client ids, file keys); empty on the server, which
/// sends nothing.
pub(crate) fn new_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        uuid::Uuid::new_v4().to_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
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

    /// The chat list to show (tracked): the live one once loaded, else the
    /// server-rendered one; `None` while neither is there.
    pub fn chat_list(&self) -> Option<Vec<ChatSummary>> {
        if self.chats_loaded.get() {
            return Some(self.chats.get());
        }
        self.first_chats.and_then(|r| r.get()).and_then(Result::ok)
    }

    /// The server could not read the first list (tracked) and no live list
    /// has come: the list says so, with a retry, not "Loading…" for good.
    pub fn first_list_failed(&self) -> bool {
        !self.chats_loaded.get()
            && self
                .first_chats
                .is_some_and(|r| r.with(|v| matches!(v, Some(Err(_)))))
    }

    /// "Try again" after a failed first list: loads it now.
    pub fn reload_chats(&self) {
        self.dispatch(Msg::RefreshListNow);
    }

    /// Whether older chats can be shown (tracked): the list ends at a full
    /// page, live or server-rendered.
    pub fn has_older_chats(&self) -> bool {
        if self.chats_loaded.get() {
            return self.chats_more.get().is_some();
        }
        self.first_chats
            .and_then(|r| r.get())
            .and_then(Result::ok)
            .is_some_and(|page| list::next_page(&page, crate::api::CHAT_PAGE).is_some())
    }

    /// "Show older chats": the next page goes below the list.
    pub fn show_older_chats(&self) {
        self.dispatch(Msg::ShowOlderChats);
    }

    /// Providers a customer can book (tracked), live or server-rendered.
    pub fn provider_list(&self) -> Vec<UserRef> {
        let live = self.providers.get();
        if !live.is_empty() {
            return live;
        }
        self.first_providers
            .and_then(|r| r.get())
            .and_then(Result::ok)
            .unwrap_or_default()
    }

    /// One chat's summary (tracked), live or server-rendered.
    pub fn chat(&self, chat_id: ChatId) -> Option<ChatSummary> {
        if self.chats_loaded.get() {
            return self
                .chats
                .with(|c| c.iter().find(|c| c.id == chat_id).cloned());
        }
        self.chat_list()?.into_iter().find(|c| c.id == chat_id)
    }

    /// A chat window's lines (tracked): the live thread once its history has
    /// loaded; before that, the server-rendered page of a linked chat with
    /// whatever arrived live merged in. Never a hole: others' messages
    /// beyond a gap wait until it is filled (see `Thread::shown`).
    pub fn thread_lines(&self, chat_id: ChatId) -> Vec<Line> {
        let me = self.me.get_value().map(|m| m.id);
        let live = self.threads.with(|t| t.get(&chat_id).cloned());
        if let Some(th) = live.as_ref().filter(|th| th.loaded) {
            return th.shown(me);
        }
        let page = self
            .first_page
            .filter(|(id, _)| *id == chat_id)
            .and_then(|(_, r)| r.get())
            .and_then(Result::ok);
        let mut thread = live.unwrap_or_default();
        if let Some(page) = page {
            thread.merge_latest(page);
        }
        thread.shown(me)
    }

    /// The bell's number (see `bell`: with only messages unread, the sum
    /// of the chat badges).
    pub fn unread_notifications(&self) -> i64 {
        self.notifications.with(|n| bell::count(n))
    }

    /// Hands `msg` to the live state (browser only: during SSR nothing
    /// happens).
    fn dispatch(&self, msg: Msg) {
        #[cfg(feature = "hydrate")]
        live::dispatch(*self, msg);
        #[cfg(not(feature = "hydrate"))]
        let _ = msg;
    }

    /// Sends a form once its callback is kept (`done` gets the server's
    /// answer; its `message` is for the user).
    fn submit(&self, done: impl FnOnce(Result<(), AppError>) + 'static, form: Form) {
        #[cfg(feature = "hydrate")]
        if let Some(ticket) = live::form(*self, Box::new(done)) {
            self.dispatch(Msg::Submit { ticket, form });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (done, form);
    }

    /// Opens a chat's window for the user. When they did it from a control
    /// (focus is on it, not on the page as after a load), the window takes
    /// the focus and gives it back to that control when it closes.
    pub fn open_chat(&self, chat_id: ChatId) {
        #[cfg(feature = "hydrate")]
        if let Some(by) = focus::current() {
            self.openers.update_value(|o| {
                o.insert(chat_id, by);
            });
            self.focus_request.set(Some(chat_id));
        }
        self.dispatch(Msg::OpenChat(chat_id));
    }

    /// What opened the chat's window (see `open_chat`), once.
    pub fn take_opener(&self, chat_id: ChatId) -> Option<Focused> {
        #[cfg(feature = "hydrate")]
        {
            self.openers
                .try_update_value(|o| o.remove(&chat_id))
                .flatten()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = chat_id;
            None
        }
    }

    /// Whether to tell the user why contact details in their message were
    /// hidden: true once per browser (the first such message), false after
    /// and during SSR.
    pub fn take_masking_notice(&self) -> bool {
        #[cfg(feature = "hydrate")]
        {
            self.me()
                .is_some_and(|me| live::first_time(me.id, "masking-notice"))
        }
        #[cfg(not(feature = "hydrate"))]
        false
    }

    pub fn close_chat(&self, chat_id: ChatId) {
        self.dispatch(Msg::CloseChat(chat_id));
    }

    pub fn toggle_minimized(&self, chat_id: ChatId) {
        self.dispatch(Msg::ToggleMinimized(chat_id));
    }

    /// The user is looking at the newest messages of the chat.
    pub fn mark_seen(&self, chat_id: ChatId) {
        self.dispatch(Msg::MarkSeen(chat_id));
    }

    pub fn load_older(&self, chat_id: ChatId) {
        self.dispatch(Msg::LoadOlder(chat_id));
    }

    pub fn set_typing(&self, chat_id: ChatId, typing: bool) {
        self.dispatch(Msg::SetTyping {
            chat: chat_id,
            typing,
        });
    }

    /// Drafts survive reloads.
    pub fn set_draft(&self, chat_id: ChatId, text: String) {
        self.dispatch(Msg::SetDraft {
            chat: chat_id,
            text,
        });
    }

    /// "Add LSM": opens a dispute; the chat list shows the LSM once in.
    pub fn add_lsm(
        &self,
        chat_id: ChatId,
        reason: String,
        done: impl FnOnce(Result<(), AppError>) + 'static,
    ) {
        self.submit(
            done,
            Form::AddLsm {
                chat: chat_id,
                reason,
            },
        );
    }

    /// Takes a job one step on (confirm, start, complete, cancel).
    pub fn change_job_status(
        &self,
        job_id: i64,
        to: crate::model::JobStatus,
        done: impl FnOnce(Result<(), AppError>) + 'static,
    ) {
        self.submit(done, Form::JobStep { job: job_id, to });
    }

    /// Books a job; its chat opens at once.
    pub fn book_job(
        &self,
        provider_id: UserId,
        title: String,
        description: String,
        done: impl FnOnce(Result<(), AppError>) + 'static,
    ) {
        self.submit(
            done,
            Form::BookJob {
                provider: provider_id,
                title,
                description,
            },
        );
    }

    pub fn read_notification(&self, id: i64) {
        self.dispatch(Msg::ReadNotification(Some(id)));
    }

    pub fn read_all_notifications(&self) {
        self.dispatch(Msg::ReadNotification(None));
    }

    /// Searches the messages (an empty query shows the chat list again).
    pub fn search(&self, query: String) {
        self.dispatch(Msg::Search(query));
    }

    pub fn search_more(&self) {
        self.dispatch(Msg::SearchMore);
    }

    /// Opens a search hit: its window, scrolled to it.
    pub fn jump_to(&self, hit: &crate::model::SearchHit) {
        self.dispatch(Msg::JumpTo(hit.chat_id, hit.message.id, hit.message.seq));
    }

    /// The window of `chat_id` scrolled to the hit.
    pub fn jump_done(&self, chat_id: ChatId) {
        self.dispatch(Msg::Jumped(chat_id));
    }

    pub fn dismiss_toast(&self) {
        self.dispatch(Msg::DismissToast);
    }

    /// Closes the socket, forgets everything stored locally, ends the
    /// session.
    pub fn logout(&self) {
        self.dispatch(Msg::Logout);
    }
}
