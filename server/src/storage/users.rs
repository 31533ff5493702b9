//! Accounts.

use super::{Db, Result, StorageError, now, on_pool};
use app::model::{Role, User, UserId};

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    name: String,
    role: String,
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
}

pub struct Credentials {
    pub user: User,
    pub password_hash: String,
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

    pub async fn user_credentials(&self, email: &str) -> Result<Option<Credentials>> {
        let sql =
            "SELECT id, email, name, role, password_hash FROM users WHERE lower(email) = lower($1)";
        let row: Option<CredentialRow> = on_pool!(self, pool => {
            sqlx::query_as(sql).bind(email).fetch_optional(pool).await?
        });
        row.map(|r| {
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
            })
        })
        .transpose()
    }

    pub async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    pub async fn list_providers(&self) -> Result<Vec<ProviderRow>> {
        let sql = "SELECT id, name FROM users WHERE role = 'provider' ORDER BY name, id";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await?))
    }

    pub async fn count_users(&self) -> Result<i64> {
        let n: (i64,) = on_pool!(self, pool => {
            sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(pool).await?
        });
        Ok(n.0)
    }
}
