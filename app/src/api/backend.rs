//! What server functions need from the server, as a trait: `server`
//! implements it over its service layer (`server/src/backend.rs`) and puts
//! one `Arc<dyn Backend>` into the Leptos context of every request.
//!
//! Arguments arrive as the caller sent them; the implementation parses them
//! into the validation newtypes (`crate::validate`), as REST does.

use super::{Booking, DisputeOpened, PageRequest, SearchHit, SearchRequest};
use crate::error::AppError;
use crate::model::{
    AuditEntry, BlockedUser, CaseQuery, ChatCursor, ChatId, ChatSummary, DisputeCase, Me,
    MessageHistory, MessageId, MessagePage, ModerationAction, ModerationItem, ModerationPage,
    NewJob, NewReport, Notification, Registration, ReportReceipt, SettleCase, SignedIn, User,
    UserAction, UserId, UserRef,
};
use crate::settings::Settings;
use http::request::Parts;
use std::sync::Arc;

/// The server's side of the server functions.
pub type BackendHandle = Arc<dyn Backend>;

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in caller of this request (session cookie or bearer
    /// token); `unauthorized` when there is none or it is no longer valid.
    async fn caller(&self, request: &Parts) -> Result<Me, AppError>;

    /// Checks credentials (rate-limited by email and by the client address
    /// taken from `request`).
    async fn login(
        &self,
        request: &Parts,
        email: String,
        password: String,
    ) -> Result<SignedIn, AppError>;

    async fn register(
        &self,
        request: &Parts,
        registration: Registration,
    ) -> Result<SignedIn, AppError>;

    /// Ends the session of this request's token (signing out): it is
    /// refused from then on and its sockets are closed. Nothing to end
    /// (no token, or no longer valid) is not an error.
    async fn sign_out(&self, request: &Parts) -> Result<(), AppError>;

    /// The `Set-Cookie` value that stores `token` as the session, or clears
    /// the session when `None`.
    fn session_cookie(&self, token: Option<&str>) -> String;

    /// The settings pages are rendered with (`crate::settings`).
    fn settings(&self) -> Settings;

    async fn me(&self, caller: &Me) -> Result<User, AppError>;

    async fn providers(&self, caller: &Me) -> Result<Vec<UserRef>, AppError>;

    async fn book_job(
        &self,
        request: &Parts,
        caller: &Me,
        job: NewJob,
    ) -> Result<Booking, AppError>;

    async fn change_job_status(
        &self,
        caller: &Me,
        job: i64,
        to: crate::model::JobStatus,
    ) -> Result<crate::model::Message, AppError>;

    /// The newest page of the caller's chats, or the page after `before`.
    async fn chats(
        &self,
        caller: &Me,
        before: Option<ChatCursor>,
    ) -> Result<Vec<ChatSummary>, AppError>;

    async fn messages(
        &self,
        caller: &Me,
        chat: ChatId,
        page: PageRequest,
    ) -> Result<MessagePage, AppError>;

    /// Every version of a message, for the LSM of a dispute on its chat.
    async fn message_versions(
        &self,
        caller: &Me,
        chat: ChatId,
        message: MessageId,
    ) -> Result<MessageHistory, AppError>;

    async fn search(&self, caller: &Me, request: SearchRequest)
    -> Result<Vec<SearchHit>, AppError>;

    async fn open_dispute(
        &self,
        caller: &Me,
        chat: ChatId,
        reason: String,
    ) -> Result<DisputeOpened, AppError>;

    async fn resolve_dispute(
        &self,
        caller: &Me,
        dispute_id: i64,
        resolution: String,
    ) -> Result<(), AppError>;

    async fn notifications(
        &self,
        caller: &Me,
        unread_only: bool,
    ) -> Result<Vec<Notification>, AppError>;

    async fn read_notification(&self, caller: &Me, id: i64) -> Result<(), AppError>;

    async fn read_all_notifications(&self, caller: &Me) -> Result<(), AppError>;

    async fn email_preferences(
        &self,
        caller: &Me,
    ) -> Result<crate::model::EmailPreferences, AppError>;

    async fn set_email_preferences(
        &self,
        caller: &Me,
        preferences: crate::model::EmailPreferences,
    ) -> Result<crate::model::EmailPreferences, AppError>;

    async fn mute_chat(&self, caller: &Me, chat: ChatId, muted: bool) -> Result<(), AppError>;

    async fn report(&self, caller: &Me, report: NewReport) -> Result<ReportReceipt, AppError>;

    async fn set_block(&self, caller: &Me, user: UserId, block: bool) -> Result<(), AppError>;

    async fn blocks(&self, caller: &Me) -> Result<Vec<BlockedUser>, AppError>;

    async fn moderation_items(
        &self,
        caller: &Me,
        page: ModerationPage,
    ) -> Result<Vec<ModerationItem>, AppError>;

    async fn moderate(
        &self,
        caller: &Me,
        item: i64,
        action: ModerationAction,
    ) -> Result<AuditEntry, AppError>;

    async fn moderate_user(
        &self,
        caller: &Me,
        user: UserId,
        action: UserAction,
    ) -> Result<AuditEntry, AppError>;

    async fn moderation_log(
        &self,
        caller: &Me,
        page: ModerationPage,
    ) -> Result<Vec<AuditEntry>, AppError>;

    /// The dispute console's queue (LSMs).
    async fn dispute_cases(
        &self,
        caller: &Me,
        query: CaseQuery,
    ) -> Result<Vec<DisputeCase>, AppError>;

    async fn dispute_case(&self, caller: &Me, dispute_id: i64) -> Result<DisputeCase, AppError>;

    async fn take_case(&self, caller: &Me, dispute_id: i64) -> Result<DisputeCase, AppError>;

    async fn hand_over_case(
        &self,
        caller: &Me,
        dispute_id: i64,
        to: UserId,
    ) -> Result<DisputeCase, AppError>;

    /// Settles a case as sent (parsed by the implementation).
    async fn settle_case(
        &self,
        caller: &Me,
        dispute_id: i64,
        settle: SettleCase,
    ) -> Result<ChatId, AppError>;

    async fn lsm_accounts(&self, caller: &Me) -> Result<Vec<UserRef>, AppError>;
}
