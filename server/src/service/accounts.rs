//! Accounts and sessions: sign-up, sign-in, tokens checked against the
//! account's row on every call, sign-out (one session or all), password
//! changes, roles and deletion by the operator, and the provider directory.

use super::Session;
use super::{AuthUser, ConflictDetails, Result, Service, ServiceError};
use crate::auth::{self, Claims};
use crate::storage::{NewUser, StorageError};
use contract::model::SignUp;
use contract::model::{Role, User, UserId, UserRef};
use contract::validate::{Email, Name, Password};
use std::net::IpAddr;

/// A wrong current password on a password change: a field error, not
/// `unauthorized` (the session is fine; clients must not sign the user out).
fn wrong_current_password() -> ServiceError {
    ServiceError::Invalid(contract::validate::Invalid {
        field: "currentPassword",
        message: "is not the account's password".into(),
    })
}

impl Service {
    /// Verifies a bearer token or session cookie value: signature and
    /// expiry, then, against the account's row (one primary-key read, on
    /// every call, so a revocation holds from the next request on), that
    /// the account is live and the token's version is still its own.
    pub async fn authenticate(&self, token: &str) -> Result<(AuthUser, Claims)> {
        let claims = self
            .inner
            .keys
            .verify(token)
            .map_err(|_| ServiceError::Unauthorized)?;
        let id = claims.user_id().ok_or(ServiceError::Unauthorized)?;
        let found = self
            .inner
            .db
            .session_user(id, &claims.sid)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if found.token_version != claims.ver || found.revoked {
            return Err(ServiceError::Unauthorized);
        }
        // A suspension ends every token (the version moved); this also
        // holds should a token somehow carry the new version.
        if found
            .suspended_until
            .is_some_and(|u| u > chrono::Utc::now())
        {
            return Err(ServiceError::Unauthorized);
        }
        let user = AuthUser {
            id,
            role: found.user.role,
            name: found.user.name,
        };
        Ok((user, claims))
    }

    /// Signs one session out: the token's session is revoked (its tokens
    /// are refused from now on, by every node, until they would have
    /// expired anyway) and its open sockets are closed; the user's other
    /// sessions go on. A token that is no longer valid has nothing left to
    /// end: that is not an error.
    #[tracing::instrument(skip_all)]
    pub async fn sign_out(&self, token: &str) -> Result<()> {
        let Ok(claims) = self.inner.keys.verify(token) else {
            return Ok(());
        };
        let Some(user) = claims.user_id() else {
            return Ok(());
        };
        if claims.sid.is_empty() {
            return Ok(());
        }
        self.inner
            .db
            .revoke_session(&claims.sid, user, claims.exp)
            .await?;
        tracing::info!(user_id = user, "session signed out");
        self.inner.broadcast.disconnect_session(&claims.sid).await;
        Ok(())
    }

    /// Which of `sessions` (token `sid`s) were signed out (the gateway's
    /// sweep closes their sockets).
    pub async fn revoked_sessions(
        &self,
        sessions: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        Ok(self.inner.db.revoked_among(sessions).await?)
    }

    pub(super) fn session(&self, user: User, version: i64) -> Result<Session> {
        let (token, _) = self
            .inner
            .keys
            .issue(user.id, user.role, &user.name, version)
            .map_err(|e| ServiceError::Internal(anyhow::anyhow!("signing failed: {e}")))?;
        Ok(Session { token, user })
    }

    /// Which of `users` hold a live account, with each one's token version
    /// (the gateway's sweep closes sockets whose token is older).
    pub async fn token_versions(&self, users: &[UserId]) -> Result<Vec<(UserId, i64)>> {
        Ok(self.inner.db.token_versions(users).await?)
    }

    /// After a version bump: closes the user's open sockets on every node
    /// (their tokens are refused from now on, so they cannot come back).
    pub(super) async fn sessions_ended(&self, user: UserId) {
        tracing::info!(user_id = user, "sessions revoked");
        self.inner.broadcast.disconnect_user(user).await;
    }

    /// "Log out everywhere": every token of the caller's is refused from now
    /// on, this one included, and their open sockets are closed.
    #[tracing::instrument(skip_all, fields(user_id = actor.id))]
    pub async fn revoke_sessions(&self, actor: &AuthUser) -> Result<()> {
        self.inner
            .db
            .bump_token_version(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        self.sessions_ended(actor.id).await;
        Ok(())
    }

    /// Changes the caller's password after checking the current one (with
    /// the login limits, so a stolen session cannot guess it quickly). Every
    /// other session ends; the returned one is the caller's new session.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, ip = %ip))]
    pub async fn change_password(
        &self,
        actor: &AuthUser,
        current: &str,
        new: Password,
        ip: IpAddr,
    ) -> Result<Session> {
        let creds = self
            .inner
            .db
            .credentials_of(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        if current.len() > 1024 {
            return Err(wrong_current_password());
        }
        self.inner
            .limits
            .login(&creds.user.email.to_lowercase(), ip)
            .await?;
        let ok = auth::verify_password(current.to_owned(), Some(creds.password_hash))
            .await
            .map_err(ServiceError::Internal)?;
        if !ok {
            return Err(wrong_current_password());
        }
        auth::check_strength(
            &new,
            creds.user.role,
            &[creds.user.email.as_str(), creds.user.name.as_str()],
            "newPassword",
        )
        .await?;
        let hash = auth::hash_password(new.expose().to_owned())
            .await
            .map_err(ServiceError::Internal)?;
        let version = self
            .inner
            .db
            .set_password(actor.id, &hash)
            .await?
            .ok_or(ServiceError::Unauthorized)?;
        self.sessions_ended(actor.id).await;
        self.session(creds.user, version)
    }

    /// A live account by email (operators' CLI).
    pub async fn account(&self, email: &Email) -> Result<Option<User>> {
        Ok(self
            .inner
            .db
            .user_credentials(email.as_str())
            .await?
            .map(|c| c.user))
    }

    /// Gives an account another role (operators). Its tokens, which name the
    /// old role, end, and its open sockets are closed.
    #[tracing::instrument(skip(self))]
    pub async fn set_role(&self, user: UserId, role: Role) -> Result<User> {
        self.inner
            .db
            .set_role(user, role)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        self.sessions_ended(user).await;
        // A demoted LSM's open disputes go to another LSM; a new LSM takes
        // disputes no LSM could have before.
        self.reassign_orphaned_disputes().await?;
        self.inner
            .db
            .get_user(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))
    }

    /// Deletes an account (operators): it can no longer sign in, every token
    /// ends and its open sockets are closed. Its messages and chats stay;
    /// the files it uploaded are removed from the store.
    #[tracing::instrument(skip(self))]
    pub async fn delete_user(&self, user: UserId) -> Result<()> {
        self.inner
            .db
            .delete_user(user)
            .await?
            .ok_or(ServiceError::NotFound("user"))?;
        self.sessions_ended(user).await;
        let removed = self.remove_uploads_of(user).await?;
        tracing::info!(user, removed, "the deleted account's files removed");
        // A deleted LSM's open disputes go to another LSM, or no new dispute
        // could ever be opened in those chats.
        self.reassign_orphaned_disputes().await?;
        Ok(())
    }

    /// Self-registration, for customers and providers. LSMs are created by
    /// operators with the CLI (`server user add`), never through the API.
    #[tracing::instrument(skip_all, fields(email = %sign_up.email.as_str(), role = %sign_up.role))]
    pub async fn register(&self, sign_up: SignUp, ip: IpAddr) -> Result<Session> {
        let SignUp {
            email,
            password,
            name,
            role,
        } = sign_up;
        if role == Role::Lsm {
            return Err(ServiceError::Forbidden(
                "LSM accounts are created by operators, not by registration",
            ));
        }
        // Counted before argon2 runs: every sign-up costs a hash and an account.
        self.inner.limits.register(ip).await?;
        let user = self.create_user(&email, &password, &name, role).await?;
        // A new account's tokens start at version 0 (the column's default).
        self.session(user, 0)
    }

    /// Creates an account of any role (registration and the operators'
    /// CLI use this). A password too easy to guess for the role is refused
    /// (`invalid`, field `password`, with the estimator's advice). A new
    /// LSM takes the open disputes no LSM could settle.
    pub async fn create_user(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        auth::check_strength(password, role, &[email.as_str(), name.as_str()], "password").await?;
        self.insert_account(email, password, name, role).await
    }

    /// Creates a demo account (development only: `Application::build`
    /// seeds only then) with the public demo password, which is weak on
    /// purpose and so skips the strength check every real account passes.
    pub(crate) async fn create_demo_user(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        self.insert_account(email, password, name, role).await
    }

    /// Stores the account; a new LSM then takes the open disputes no LSM
    /// could settle.
    async fn insert_account(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<User> {
        let hash = auth::hash_password(password.expose().to_owned())
            .await
            .map_err(ServiceError::Internal)?;
        let user = self
            .inner
            .db
            .insert_user(NewUser {
                email: email.as_str(),
                name: name.as_str(),
                role,
                password_hash: &hash,
            })
            .await
            .map_err(|e| match e {
                StorageError::Conflict(_) => ServiceError::Conflict {
                    message: "an account with this email already exists".into(),
                    details: Some(ConflictDetails::Field { field: "email" }),
                },
                e => e.into(),
            })?;
        if role == Role::Lsm {
            self.reassign_orphaned_disputes().await?;
        }
        Ok(user)
    }

    /// Checks credentials; an unknown email costs the same time as a wrong
    /// password and gets the same answer.
    #[tracing::instrument(skip_all, fields(ip = %ip))]
    pub async fn login(&self, email: &str, password: &str, ip: IpAddr) -> Result<Session> {
        let email_key = email.trim().to_lowercase();
        // Over-long input is refused before it is counted or reaches argon2.
        if email_key.len() > 254 || password.len() > 1024 {
            return Err(ServiceError::BadCredentials);
        }
        self.inner.limits.login(&email_key, ip).await?;
        let creds = self.inner.db.user_credentials(&email_key).await?;
        let (user, hash, suspended) = match creds {
            Some(c) => (
                Some((c.user, c.token_version)),
                Some(c.password_hash),
                c.suspended,
            ),
            None => (None, None, None),
        };
        let ok = auth::verify_password(password.to_owned(), hash)
            .await
            .map_err(ServiceError::Internal)?;
        match (ok, user) {
            // Only the account's holder (the right password) learns of a
            // suspension, and why.
            (true, Some(_))
                if suspended
                    .as_ref()
                    .is_some_and(|(u, _)| *u > chrono::Utc::now()) =>
            {
                let (until, reason) = suspended.unwrap_or_default();
                Err(ServiceError::Suspended {
                    until: super::suspension_end(until),
                    reason,
                })
            }
            (true, Some((user, version))) => self.session(user, version),
            _ => Err(ServiceError::BadCredentials),
        }
    }

    pub async fn me(&self, actor: &AuthUser) -> Result<User> {
        self.inner
            .db
            .get_user(actor.id)
            .await?
            .ok_or(ServiceError::Unauthorized)
    }

    /// A user as the real-time side names them (`user_left` after a node
    /// died); `None` for an unknown id.
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.inner.db.get_user(id).await?)
    }

    /// Providers a customer can book.
    pub async fn providers(&self) -> Result<Vec<UserRef>> {
        let rows = self.inner.db.list_providers().await?;
        Ok(rows
            .into_iter()
            .map(|p| UserRef {
                id: p.id,
                name: p.name,
            })
            .collect())
    }
}
