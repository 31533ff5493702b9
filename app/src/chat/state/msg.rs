//! What can happen to the browser's live state ([`Msg`]), what `update`
//! asks the runtime to do about it ([`Effect`]), and the few facts about the
//! world it reads when it decides ([`Env`]). Plain data: the runtime turns
//! socket events, acks, server-function answers, timers and clicks into
//! messages, and effects into emits, fetches and writes.

use crate::chat::outgoing::{FileUpload, OutboxChange, Outgoing, RequestFailure, UploadFailure};
use crate::chat::windows::OpenChat;
use crate::error::AppError;
use crate::model::{Attachment, Booking, PageRequest, SearchHit, SearchRequest};
use crate::model::{
    ChatCursor, ChatId, ChatSummary, Message, MessageId, MessagePage, Notification, Seq, UserId,
    UserRef,
};
use crate::protocol::{
    ChatRead, DeleteMessage, EditMessage, JoinReply, PresenceChanged, ReadMarker, Refused,
    SendReply, SetTyping, Typing, UserJoined, UserLeft,
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// A form waiting for its answer (book, add LSM, resolve): the runtime
/// keeps the form's callback under this number.
pub type Ticket = u64;

/// The world as it is when a message is handled.
#[derive(Clone, Debug, PartialEq)]
pub struct Env {
    pub now: DateTime<Utc>,
    /// The socket is connected.
    pub connected: bool,
    /// The tab is in the background (a chat open there is not being read).
    pub tab_hidden: bool,
    /// A phone-sized screen: one chat window at a time.
    pub small_screen: bool,
}

impl Env {
    pub fn now_ms(&self) -> f64 {
        self.now.timestamp_millis() as f64
    }
}

/// What the page had when it started.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Restored {
    pub drafts: HashMap<ChatId, String>,
    /// Unsent messages from before the reload.
    pub outbox: Vec<Outgoing>,
    /// Chat windows open before the reload, newest first.
    pub open: Vec<ChatId>,
    /// The chat list as the server rendered it (what the page knows about
    /// each chat until the live list loads).
    pub first_chats: Vec<ChatSummary>,
    /// The browser says it is offline.
    pub offline: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Msg {
    /// The runtime is up (after hydration).
    Started(Restored),

    // The connection.
    Connected,
    /// With socket.io-client's reason.
    Disconnected(String),
    /// The handshake failed; the typed reason when the server gave one.
    ConnectFailed(Option<Refused>),
    ReconnectAttempt(u32),
    Transport(String),
    NetworkOffline,
    NetworkOnline,

    /// Something the server pushed.
    Pushed(Pushed),
    /// An item of the moderation queue was filed or closed (LSMs only):
    /// the moderation page reloads its queue and log.
    ModerationChanged,
    /// A dispute was opened, taken, handed over or settled (LSMs only):
    /// the dispute console reloads its queue and the case shown.
    DisputesChanged,

    // Acks of requests that wait for them.
    Joined {
        chat: ChatId,
        after: Option<Seq>,
        attempt: u32,
        result: Result<JoinReply, RequestFailure>,
    },
    SendAnswered {
        chat: ChatId,
        client_id: String,
        result: Result<SendReply, RequestFailure>,
    },
    /// An upload of a queued message's file answered (or failed).
    Uploaded {
        chat: ChatId,
        client_id: String,
        key: String,
        result: Result<Attachment, UploadFailure>,
    },
    /// How far a file's upload is, in percent.
    UploadProgress {
        key: String,
        percent: u8,
    },
    /// The ack of an edit or deletion (or why there was none).
    Revised {
        ticket: Ticket,
        result: Result<SendReply, RequestFailure>,
    },
    /// A server function answered.
    Answered(Answer),
    /// A chat's messages from the local cache.
    CacheLoaded(ChatId, Vec<Message>),
    /// localStorage took the outbox's change (`saved`), or refused it.
    OutboxStored {
        change: OutboxChange,
        saved: bool,
    },

    // Timers.
    ReconnectNow,
    FlushNow,
    RetryJoin {
        chat: ChatId,
        attempt: u32,
    },
    FillGaps(ChatId),
    ExpireTyping,
    RefreshListNow,
    ResyncTick,
    /// The tab came back into view or the window got the focus.
    TabBack,

    // The user.
    OpenChat(ChatId),
    CloseChat(ChatId),
    ToggleMinimized(ChatId),
    /// The user is looking at the newest messages of the chat.
    MarkSeen(ChatId),
    Send {
        chat: ChatId,
        text: String,
        client_id: String,
        /// Files to upload first (their bytes already with the runtime).
        files: Vec<FileUpload>,
    },
    /// The user removed a file of their queued message (one the server
    /// refused): the rest go.
    RemoveFile {
        chat: ChatId,
        client_id: String,
        key: String,
    },
    Retry {
        chat: ChatId,
        client_id: String,
    },
    Discard {
        chat: ChatId,
        client_id: String,
    },
    /// The user changed the text of their message (its form waits under
    /// `ticket`).
    Edit {
        ticket: Ticket,
        chat: ChatId,
        message: MessageId,
        text: String,
        client_id: String,
    },
    /// The user deleted their message (its confirmation waits under
    /// `ticket`).
    Delete {
        ticket: Ticket,
        chat: ChatId,
        message: MessageId,
    },
    LoadOlder(ChatId),
    ShowOlderChats,
    SetTyping {
        chat: ChatId,
        typing: bool,
    },
    SetDraft {
        chat: ChatId,
        text: String,
    },
    /// A form was sent (its callback is kept under `ticket`).
    Submit {
        ticket: Ticket,
        form: Form,
    },
    /// One notification read, or (`None`) all.
    ReadNotification(Option<i64>),
    /// Search the messages (empty: back to the chat list).
    Search(String),
    SearchMore,
    /// Open a search hit: `(chat, message, seq)`.
    JumpTo(ChatId, MessageId, Seq),
    /// The window scrolled to the hit.
    Jumped(ChatId),
    DismissToast,
    Logout,
}

/// Events the server pushes, as the state cares about them.
#[derive(Clone, Debug, PartialEq)]
pub enum Pushed {
    NewMessage(Message),
    Read(ReadMarker),
    Typing(Typing),
    Presence(PresenceChanged),
    UserJoined(UserJoined),
    UserLeft(UserLeft),
    /// The chat list changed (an LSM invited, a dispute resolved, a chat
    /// created, a resync asked for): only a reload tells how.
    ListChanged,
    Notification(Notification),
    ChatRead(ChatRead),
}

/// Why a page of a chat's history was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageFor {
    /// The newest page: the thread counts as loaded from then on.
    Latest,
    /// Scrolling back: the page before this seq.
    Older(Seq),
    /// What came after `after`, to fill a gap.
    Gap(Seq),
}

/// The server functions the live state calls.
#[derive(Clone, Debug, PartialEq)]
pub enum Call {
    ListChats(Option<ChatCursor>),
    Messages {
        chat: ChatId,
        page: PageRequest,
        purpose: PageFor,
    },
    Notifications,
    ReadNotification(Option<i64>),
    Providers,
    Search(SearchRequest),
    Submit {
        ticket: Ticket,
        form: Form,
    },
    Logout,
}

/// The one-time actions a form asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Form {
    /// Books a job; its chat opens.
    BookJob {
        provider: UserId,
        title: String,
        description: String,
    },
    /// "Add LSM": opens a dispute.
    AddLsm { chat: ChatId, reason: String },
    /// A step in a job's life (its system line arrives as a message).
    JobStep {
        job: i64,
        to: crate::model::JobStatus,
    },
}

/// A server function's answer, with what the call was for.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    ChatList {
        before: Option<ChatCursor>,
        result: Result<Vec<ChatSummary>, AppError>,
    },
    Messages {
        chat: ChatId,
        purpose: PageFor,
        result: Result<MessagePage, AppError>,
    },
    Notifications(Result<Vec<Notification>, AppError>),
    NotificationRead(Result<(), AppError>),
    Providers(Result<Vec<UserRef>, AppError>),
    /// Hits for `query` from `offset`.
    Searched {
        query: String,
        offset: i64,
        result: Result<Vec<SearchHit>, AppError>,
    },
    Booked {
        ticket: Ticket,
        result: Result<Booking, AppError>,
    },
    /// A dispute opened or resolved.
    Settled {
        ticket: Ticket,
        result: Result<(), AppError>,
    },
    LoggedOut,
}

/// What `update` asks the runtime to do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// `join_chat`; its ack comes back as [`Msg::Joined`].
    Join {
        chat: ChatId,
        after: Option<Seq>,
        attempt: u32,
    },
    /// `send_message`; its ack comes back as [`Msg::SendAnswered`].
    Send(Outgoing),
    /// Uploads a queued message's file (`POST …/attachments`); progress
    /// comes back as [`Msg::UploadProgress`], the answer as
    /// [`Msg::Uploaded`].
    Upload {
        chat: ChatId,
        client_id: String,
        key: String,
        name: String,
    },
    /// Keeps these files' bytes across a reload (IndexedDB) until their
    /// message is stored.
    KeepFiles(Vec<String>),
    /// The browser may drop these files' bytes (stored, or discarded).
    ForgetFiles(Vec<String>),
    /// `edit_message`; its ack comes back as [`Msg::Revised`].
    Edit {
        ticket: Ticket,
        request: EditMessage,
    },
    /// `delete_message`; its ack comes back as [`Msg::Revised`].
    Delete {
        ticket: Ticket,
        request: DeleteMessage,
    },
    /// `leave_chat`, nobody waits for the ack.
    Leave(ChatId),
    /// `mark_read`, nobody waits for the ack.
    MarkRead {
        chat: ChatId,
        message: MessageId,
    },
    /// `typing`, no ack: the next change supersedes it.
    Typing(SetTyping),
    /// A server function; its answer comes back as [`Msg::Answered`].
    Call(Call),
    /// Makes the change to the outbox in localStorage (read, changed,
    /// written: other tabs of the same user share it, and their entries
    /// stay); comes back as [`Msg::OutboxStored`].
    Outbox(OutboxChange),
    SaveCache(ChatId, Vec<Message>),
    /// Comes back as [`Msg::CacheLoaded`].
    LoadCache(ChatId),
    SaveDrafts(HashMap<ChatId, String>),
    SaveOpen(Vec<ChatId>),
    /// Forgets everything jobchat stored in the browser (logout).
    ClearStorage,
    /// Handles `msg` after `ms` milliseconds.
    Later {
        ms: u32,
        msg: Box<Msg>,
    },
    /// Opens the socket again (socket.io-client gives up after the server
    /// closed it on purpose).
    Reconnect,
    /// Closes the socket for good.
    Disconnect,
    /// Leaves the page.
    GoTo(&'static str),
    /// A desktop notification (the tab is in the background and the chat
    /// is not muted; shown only if the user allowed them): clicking it
    /// opens `chat`. One per chat at a time (its tag is the chat's).
    Notify {
        chat: ChatId,
        title: String,
        body: String,
    },
    /// Tells a form how its action went.
    Reply {
        ticket: Ticket,
        result: Result<(), AppError>,
    },
}

impl Effect {
    pub fn later(ms: u32, msg: Msg) -> Self {
        Self::Later {
            ms,
            msg: Box::new(msg),
        }
    }
}

/// The open windows' chats, for saving.
pub fn open_ids(open: &[OpenChat]) -> Vec<ChatId> {
    open.iter().map(|o| o.chat_id).collect()
}
