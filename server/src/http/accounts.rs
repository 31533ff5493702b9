//! Sign-up, sign-in, sign-out (here or everywhere), password change and
//! who-am-I.

use super::client_ip::ClientIp;
use super::{ApiError, ApiJson, ApiResult, AppState, ErrorBody};
use crate::service::{AuthUser, Session};
use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use contract::model::{Login, Registration, SignedIn, User, UserRef};
use contract::validate::Password;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(change_password))
        .routes(routes!(me))
        .routes(routes!(providers))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PasswordChange {
    current_password: String,
    /// 8–128 characters, and not easy to guess (as at registration; LSM
    /// accounts need a stronger one).
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

fn with_session(state: &AppState, status: StatusCode, session: Session) -> Response {
    let cookie = HeaderValue::from_str(&state.cookie.issue(&session.token));
    let mut res = (
        status,
        Json(SignedIn {
            token: session.token,
            user: session.user,
        }),
    )
        .into_response();
    if let Ok(cookie) = cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

/// Create a customer or provider account and sign in.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = Registration,
    responses(
        (status = 201, description = "Account created; also sets the session cookie", body = SignedIn),
        (status = 403, description = "Role `lsm` cannot self-register", body = ErrorBody),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 409, description = "Email already taken", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Invalid input, or a body of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many sign-ups from this address (see Retry-After)", body = ErrorBody),
    ))]
async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<Registration>,
) -> ApiResult<Response> {
    let session = state.service.register(req.parse()?, ip).await?;
    Ok(with_session(&state, StatusCode::CREATED, session))
}

/// Sign in with email and password.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = Login,
    responses(
        (status = 200, description = "Signed in; also sets the session cookie", body = SignedIn),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "A body of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many attempts (see Retry-After)", body = ErrorBody),
    ))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<Login>,
) -> ApiResult<Response> {
    let session = state.service.login(&req.email, &req.password, ip).await?;
    Ok(with_session(&state, StatusCode::OK, session))
}

/// Sign out: the session of the token sent (bearer or cookie) ends (that
/// token is refused from now on and its sockets are closed; the user's
/// other sessions go on), and the session cookie is cleared. Without a
/// valid token there is nothing to end: still 204.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts",
    responses(
        (status = 204, description = "Session ended; cookie cleared"),
        (status = 503, description = "The session could not be ended now (the cookie is cleared all the same); retry", body = ErrorBody),
    ))]
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ended = match state.cookie.token_from_headers(&headers) {
        Some(token) => state.service.sign_out(&token).await,
        None => Ok(()),
    };
    let res = match ended {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    };
    clear_cookie(&state, res)
}

/// `res` with the session cookie cleared.
fn clear_cookie(state: &AppState, mut res: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&state.cookie.clear()) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Sign out everywhere: every token of the caller's (this one included)
/// is refused from now on, their open sockets are closed on every node,
/// and this browser's cookie is cleared.
#[utoipa::path(post, path = "/api/auth/logout-all", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session ended; cookie cleared"),
        (status = 401, body = ErrorBody),
    ))]
async fn logout_all(State(state): State<AppState>, user: AuthUser) -> ApiResult<Response> {
    state.service.revoke_sessions(&user).await?;
    Ok(clear_cookie(&state, StatusCode::NO_CONTENT.into_response()))
}

/// Change the password. Every other session ends (their sockets are
/// closed); the answer carries the caller's new session (token and cookie).
#[utoipa::path(post, path = "/api/auth/password", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; the new session, also set as the cookie", body = SignedIn),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "Body larger than 64 KiB", body = ErrorBody),
        (status = 415, description = "Content-Type is not application/json", body = ErrorBody),
        (status = 422, description = "Wrong current password (`details.field`: `currentPassword`), an invalid new one (`newPassword`), or a body of the wrong shape", body = ErrorBody),
        (status = 429, description = "Too many attempts (see Retry-After)", body = ErrorBody),
    ))]
async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    user: AuthUser,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<Response> {
    let new = Password::parse(&req.new_password).map_err(|mut e| {
        e.field = "newPassword";
        e
    })?;
    let session = state
        .service
        .change_password(&user, &req.current_password, new, ip)
        .await?;
    Ok(with_session(&state, StatusCode::OK, session))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/me", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
    ))]
async fn me(State(state): State<AppState>, user: AuthUser) -> ApiResult<Json<User>> {
    Ok(Json(state.service.me(&user).await?))
}

/// Providers a customer can book.
#[utoipa::path(get, path = "/api/providers", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, body = [UserRef]),
        (status = 401, body = ErrorBody),
    ))]
async fn providers(
    State(state): State<AppState>,
    _user: AuthUser,
) -> ApiResult<Json<Vec<UserRef>>> {
    Ok(Json(state.service.providers().await?))
}
