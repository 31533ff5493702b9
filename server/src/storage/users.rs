//! Accounts.

use super::{Db, Result, StorageError, now, on_pool};
use contract::model::{Role, User, UserId};

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) email: String,
    pub(super) name: String,
    pub(super) role: String,
}

impl TryFrom<UserRow> for User {
    type Error = StorageError;
    fn try_from(r: UserRow) -> Result<Self> {
        Ok(User {
            id: r.id,
            role: Role::parse(&r.role)
                .ok_or_else(|| StorageError::Corrupt(format!("role {:?}", r.role)))?,
            email: r.email,
            name: r.name,
        })
    }
}

/// What login needs: never serialised, never leaves the server.
#[derive(sqlx::FromRow)]
struct CredentialRow {
    id: i64,
    email: String,
    name: String,
    role: String,
    password_hash: String,
    token_version: i64,
    suspended_until: Option<chrono::DateTime<chrono::Utc>>,
    suspension_reason: Option<String>,
}

pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    /// What tokens issued now carry (`ver`).
    pub token_version: i64,
    /// Suspended until then, and why (the end may be past).
    pub suspended: Option<(chrono::DateTime<chrono::Utc>, String)>,
}

/// A live account as authentication reads it, with the version every
/// valid token of theirs carries.
#[derive(sqlx::FromRow)]
struct ActiveRow {
    #[sqlx(flatten)]
    user: UserRow,
    token_version: i64,
}

/// A provider as the booking form lists it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ProviderRow {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a str,
}

const USER_COLUMNS: &str = "id, email, name, role";

impl TryFrom<CredentialRow> for Credentials {
    type Error = StorageError;
    fn try_from(r: CredentialRow) -> Result<Self> {
        let user = UserRow {
            id: r.id,
            email: r.email,
            name: r.name,
            role: r.role,
        }
        .try_into()?;
        Ok(Credentials {
            user,
            password_hash: r.password_hash,
            token_version: r.token_version,
            suspended: r
                .suspended_until
                .map(|u| (u, r.suspension_reason.unwrap_or_default())),
        })
    }
}

impl Db {
    /// Creates an account; `StorageError::Conflict` when the email is taken.
    pub async fn insert_user(&self, new: NewUser<'_>) -> Result<User> {
        let sql = format!(
            "INSERT INTO users (email, name, role, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING {USER_COLUMNS}"
        );
        let row: UserRow = on_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(new.email)
                .bind(new.name)
                .bind(new.role.as_str())
                .bind(new.password_hash)
                .bind(now())
                .fetch_one(pool)
                .await?
        });
        row.try_into()
    }

    /// A live account's credentials by email (deleted accounts are absent).
    pub async fn user_credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let sql = "SELECT id, email, name, role, password_hash, token_version, suspended_until, suspension_reason FROM users \
                   WHERE lower(email) = lower($1) AND deleted_at IS NULL";
        let row: Option<CredentialRow> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(email).fetch_optional(pool).await?
        });
        row.map(Credentials::try_from).transpose()
    }

    /// A live account's credentials by id (deleted accounts are absent).
    pub async fn credentials_of(&self, id: UserId) -> Result<Option<Credentials>> {
        let sql = "SELECT id, email, name, role, password_hash, token_version, suspended_until, suspension_reason FROM users \
                   WHERE id = $1 AND deleted_at IS NULL";
        let row: Option<CredentialRow> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        });
        row.map(Credentials::try_from).transpose()
    }

    /// A live account and its current token version; `None` when there is
    /// no such account or it was deleted.
    pub async fn active_user(&self, id: UserId) -> Result<Option<(User, i64)>> {
        let sql = "SELECT id, email, name, role, token_version FROM users \
                   WHERE id = $1 AND deleted_at IS NULL";
        let row: Option<ActiveRow> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(id).fetch_optional(pool).await?
        });
        row.map(|r| Ok((r.user.try_into()?, r.token_version)))
            .transpose()
    }

    /// The current token version of each live account among `ids`
    /// (deleted and unknown ones are left out).
    pub async fn token_versions(&self, ids: &[UserId]) -> Result<Vec<(UserId, i64)>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, token_version FROM users WHERE deleted_at IS NULL AND id IN ({})",
                marks.join(", ")
            );
            let rows: Vec<(i64, i64)> = on_pool!(self, pool => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.fetch_all(pool).await?
            });
            out.extend(rows);
        }
        Ok(out)
    }

    /// Ends every token of a live account: its version moves on. The new
    /// version, or `None` when there is no such live account.
    pub async fn bump_token_version(&self, id: UserId) -> Result<Option<i64>> {
        self.bump_with(id, "", None).await
    }

    /// Sets a new password hash and ends every token issued before.
    pub async fn set_password(&self, id: UserId, password_hash: &str) -> Result<Option<i64>> {
        self.bump_with(id, "password_hash = $2,", Some(password_hash))
            .await
    }

    /// Changes an account's role and ends every token issued before.
    pub async fn set_role(&self, id: UserId, role: Role) -> Result<Option<i64>> {
        self.bump_with(id, "role = $2,", Some(role.as_str())).await
    }

    /// Deletes an account for sign-in purposes: marks it deleted and ends
    /// every token. The row stays (messages and chats refer to it).
    pub async fn delete_user(&self, id: UserId) -> Result<Option<i64>> {
        let sql = "UPDATE users SET deleted_at = $2, token_version = token_version + 1 \
                   WHERE id = $1 AND deleted_at IS NULL RETURNING token_version";
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(id).bind(now()).fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.0))
    }

    /// One statement: `set` (which may use `$2`, bound to `value`) and the
    /// version bump, for a live account only.
    async fn bump_with(&self, id: UserId, set: &str, value: Option<&str>) -> Result<Option<i64>> {
        let sql = format!(
            "UPDATE users SET {set} token_version = token_version + 1 \
             WHERE id = $1 AND deleted_at IS NULL RETURNING token_version"
        );
        let row: Option<(i64,)> = on_pool!(self, pool => {
            let mut q = sqlx::query_as(&sql).bind(id);
            if let Some(v) = value {
                q = q.bind(v);
            }
            q.fetch_optional(pool).await?
        });
        Ok(row.map(|r| r.0))
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// Providers a customer can book (deleted accounts aside).
    pub async fn list_providers(&self) -> Result<Vec<ProviderRow>> {
        let sql = "SELECT id, name FROM users WHERE role = 'provider' AND deleted_at IS NULL \
                   ORDER BY name, id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?))
    }

    pub async fn count_users(&self) -> Result<i64> {
        let n: (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await?
        });
        Ok(n.0)
    }
}
