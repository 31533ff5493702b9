//! `app::api::Backend` for the Leptos server functions: a thin adapter over
//! `crate::service`, like the REST handlers. Raw arguments are parsed into
//! `contract::validate` newtypes here, in the same order as REST, and every
//! failure is `AppError::from(ServiceError)`, so server functions answer
//! with the same codes and messages as REST bodies and socket acks.

use crate::auth::SessionCookie;
use crate::service::{Search, Service, ServiceError, Session, chat_page, page_query};
use app::api::{
    Backend, BackendHandle, Booking, DisputeOpened, PageRequest, Registration, SignedIn,
};
use app::settings::Settings;
use axum::http::{HeaderName, request::Parts};
use contract::error::AppError;
use contract::model::{
    AuditEntry, BlockedUser, CaseQuery, ChatCursor, ChatId, ChatSummary, DisputeCase, Me,
    MessageHistory, MessageId, MessagePage, ModerationAction, ModerationItem, ModerationPage,
    NewJob, NewReport, Notification, ReportReceipt, SearchHit, SearchRequest, SettleCase, User,
    UserAction, UserId, UserRef,
};
use contract::validate::Reason;
use std::net::IpAddr;
use std::sync::Arc;

pub struct ServiceBackend {
    service: Service,
    cookie: SessionCookie,
    /// `JOBCHAT_CLIENT_IP_HEADER`, as REST reads it.
    client_ip_header: Option<HeaderName>,
}

impl ServiceBackend {
    /// The handle the server puts into every request's Leptos context.
    pub fn handle(
        service: Service,
        cookie: SessionCookie,
        client_ip_header: Option<HeaderName>,
    ) -> BackendHandle {
        Arc::new(Self {
            service,
            cookie,
            client_ip_header,
        })
    }

    fn client_ip(&self, request: &Parts) -> IpAddr {
        crate::client_ip::resolve(request, self.client_ip_header.as_ref())
    }
}

fn fail(e: impl Into<ServiceError>) -> AppError {
    AppError::from(e.into())
}

fn signed_in(session: Session) -> SignedIn {
    SignedIn {
        token: session.token,
        user: session.user,
    }
}

#[async_trait::async_trait]
impl Backend for ServiceBackend {
    async fn caller(&self, request: &Parts) -> Result<Me, AppError> {
        let token = self
            .cookie
            .token_from_headers(&request.headers)
            .ok_or_else(AppError::unauthorized)?;
        let (user, _) = self.service.authenticate(&token).await.map_err(fail)?;
        Ok(user.me())
    }

    async fn login(
        &self,
        request: &Parts,
        email: String,
        password: String,
    ) -> Result<SignedIn, AppError> {
        self.service
            .login(&email, &password, self.client_ip(request))
            .await
            .map(signed_in)
            .map_err(fail)
    }

    async fn register(
        &self,
        request: &Parts,
        registration: Registration,
    ) -> Result<SignedIn, AppError> {
        let sign_up = registration.parse().map_err(fail)?;
        self.service
            .register(sign_up, self.client_ip(request))
            .await
            .map(signed_in)
            .map_err(fail)
    }

    async fn sign_out(&self, request: &Parts) -> Result<(), AppError> {
        match self.cookie.token_from_headers(&request.headers) {
            Some(token) => self.service.sign_out(&token).await.map_err(fail),
            None => Ok(()),
        }
    }

    fn session_cookie(&self, token: Option<&str>) -> String {
        match token {
            Some(token) => self.cookie.issue(token),
            None => self.cookie.clear(),
        }
    }

    fn settings(&self) -> Settings {
        let window = self.service.limits().edit_window().as_secs();
        let files = self.service.file_limits();
        Settings {
            edit_window_secs: u32::try_from(window).unwrap_or(u32::MAX),
            max_file_bytes: files.max_bytes,
            files_per_message: files.per_message,
        }
    }

    async fn me(&self, caller: &Me) -> Result<User, AppError> {
        self.service.me(&caller.into()).await.map_err(fail)
    }

    async fn providers(&self, _caller: &Me) -> Result<Vec<UserRef>, AppError> {
        self.service.providers().await.map_err(fail)
    }

    async fn book_job(
        &self,
        request: &Parts,
        caller: &Me,
        job: NewJob,
    ) -> Result<Booking, AppError> {
        let (title, description) = job.parse().map_err(fail)?;
        self.service
            .book_job(
                &caller.into(),
                job.provider_id,
                title,
                description,
                self.client_ip(request),
            )
            .await
            .map_err(fail)
    }

    async fn chats(
        &self,
        caller: &Me,
        before: Option<ChatCursor>,
    ) -> Result<Vec<ChatSummary>, AppError> {
        let page = chat_page(
            before.map(|b| b.message_id),
            before.map(|b| b.chat_id),
            None,
        )
        .map_err(fail)?;
        self.service
            .list_chats_page(&caller.into(), page)
            .await
            .map_err(fail)
    }

    async fn messages(
        &self,
        caller: &Me,
        chat: ChatId,
        page: PageRequest,
    ) -> Result<MessagePage, AppError> {
        let query = page_query(&page).map_err(fail)?;
        self.service
            .history(&caller.into(), chat, query)
            .await
            .map_err(fail)
    }

    async fn message_versions(
        &self,
        caller: &Me,
        chat: ChatId,
        message: MessageId,
    ) -> Result<MessageHistory, AppError> {
        self.service
            .message_history(&caller.into(), chat, message)
            .await
            .map_err(fail)
    }

    async fn search(
        &self,
        caller: &Me,
        request: SearchRequest,
    ) -> Result<Vec<SearchHit>, AppError> {
        let search = Search::parse(&request).map_err(fail)?;
        self.service
            .search(&caller.into(), search)
            .await
            .map_err(fail)
    }

    async fn open_dispute(
        &self,
        caller: &Me,
        chat: ChatId,
        reason: String,
    ) -> Result<DisputeOpened, AppError> {
        let reason = Reason::parse(&reason).map_err(fail)?;
        self.service
            .open_dispute(&caller.into(), chat, reason)
            .await
            .map_err(fail)
    }

    async fn resolve_dispute(
        &self,
        caller: &Me,
        dispute_id: i64,
        resolution: String,
    ) -> Result<(), AppError> {
        let settlement = contract::model::SettleCase {
            resolution: Some(resolution),
            ..Default::default()
        }
        .parse()
        .map_err(fail)?;
        self.service
            .resolve_dispute(&caller.into(), dispute_id, settlement)
            .await
            .map(|_| ())
            .map_err(fail)
    }

    async fn notifications(
        &self,
        caller: &Me,
        unread_only: bool,
    ) -> Result<Vec<Notification>, AppError> {
        self.service
            .notifications(&caller.into(), unread_only)
            .await
            .map_err(fail)
    }

    async fn read_notification(&self, caller: &Me, id: i64) -> Result<(), AppError> {
        self.service
            .read_notification(&caller.into(), id)
            .await
            .map_err(fail)
    }

    async fn read_all_notifications(&self, caller: &Me) -> Result<(), AppError> {
        self.service
            .read_all_notifications(&caller.into())
            .await
            .map_err(fail)
    }

    async fn change_job_status(
        &self,
        caller: &Me,
        job: i64,
        to: contract::model::JobStatus,
    ) -> Result<contract::model::Message, AppError> {
        self.service
            .change_job_status(&caller.into(), job, to)
            .await
            .map_err(fail)
    }

    async fn email_preferences(
        &self,
        caller: &Me,
    ) -> Result<contract::model::EmailPreferences, AppError> {
        self.service
            .email_preferences(&caller.into())
            .await
            .map_err(fail)
    }

    async fn set_email_preferences(
        &self,
        caller: &Me,
        preferences: contract::model::EmailPreferences,
    ) -> Result<contract::model::EmailPreferences, AppError> {
        self.service
            .set_email_preferences(&caller.into(), &preferences)
            .await
            .map_err(fail)
    }

    async fn mute_chat(&self, caller: &Me, chat: ChatId, muted: bool) -> Result<(), AppError> {
        self.service
            .mute_chat(&caller.into(), chat, muted)
            .await
            .map_err(fail)
    }

    async fn report(&self, caller: &Me, report: NewReport) -> Result<ReportReceipt, AppError> {
        self.service
            .report(&caller.into(), &report)
            .await
            .map_err(fail)
    }

    async fn set_block(&self, caller: &Me, user: UserId, block: bool) -> Result<(), AppError> {
        let caller = caller.into();
        let done = if block {
            self.service.block(&caller, user).await
        } else {
            self.service.unblock(&caller, user).await
        };
        done.map_err(fail)
    }

    async fn blocks(&self, caller: &Me) -> Result<Vec<BlockedUser>, AppError> {
        self.service.blocks(&caller.into()).await.map_err(fail)
    }

    async fn moderation_items(
        &self,
        caller: &Me,
        page: ModerationPage,
    ) -> Result<Vec<ModerationItem>, AppError> {
        self.service
            .moderation_queue(&caller.into(), &page)
            .await
            .map_err(fail)
    }

    async fn moderate(
        &self,
        caller: &Me,
        item: i64,
        action: ModerationAction,
    ) -> Result<AuditEntry, AppError> {
        self.service
            .act_on_item(&caller.into(), item, &action)
            .await
            .map_err(fail)
    }

    async fn moderate_user(
        &self,
        caller: &Me,
        user: UserId,
        action: UserAction,
    ) -> Result<AuditEntry, AppError> {
        self.service
            .act_on_user(&caller.into(), user, &action)
            .await
            .map_err(fail)
    }

    async fn moderation_log(
        &self,
        caller: &Me,
        page: ModerationPage,
    ) -> Result<Vec<AuditEntry>, AppError> {
        self.service
            .moderation_log(&caller.into(), &page, 100)
            .await
            .map_err(fail)
    }

    async fn dispute_cases(
        &self,
        caller: &Me,
        query: CaseQuery,
    ) -> Result<Vec<DisputeCase>, AppError> {
        self.service
            .dispute_cases(&caller.into(), &query)
            .await
            .map_err(fail)
    }

    async fn dispute_case(&self, caller: &Me, dispute_id: i64) -> Result<DisputeCase, AppError> {
        self.service
            .dispute_case(&caller.into(), dispute_id)
            .await
            .map_err(fail)
    }

    async fn take_case(&self, caller: &Me, dispute_id: i64) -> Result<DisputeCase, AppError> {
        self.service
            .take_case(&caller.into(), dispute_id)
            .await
            .map_err(fail)
    }

    async fn hand_over_case(
        &self,
        caller: &Me,
        dispute_id: i64,
        to: UserId,
    ) -> Result<DisputeCase, AppError> {
        self.service
            .hand_over_case(&caller.into(), dispute_id, to)
            .await
            .map_err(fail)
    }

    async fn settle_case(
        &self,
        caller: &Me,
        dispute_id: i64,
        settle: SettleCase,
    ) -> Result<ChatId, AppError> {
        let settlement = settle.parse().map_err(fail)?;
        self.service
            .resolve_dispute(&caller.into(), dispute_id, settlement)
            .await
            .map_err(fail)
    }

    async fn lsm_accounts(&self, caller: &Me) -> Result<Vec<UserRef>, AppError> {
        self.service
            .lsm_accounts(&caller.into())
            .await
            .map_err(fail)
    }
}
