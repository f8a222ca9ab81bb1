//! Accounts and their session/API tokens. User names are looked up and kept unique ignoring
//! case: by `lower(username)` (unique index `users_username_nocase`) against
//! [`rt_core::validate::username_key`]. Which names are acceptable is rt-core's rule
//! ([`rt_core::validate::username_problem`]), checked before anything reaches the store.

use super::schema::{user_tokens, users};
pub use super::types::UserTokenKind;
use super::types::{DbRole, DbUserTokenKind};
use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use rt_core::api::{ApiTokenInfo, UserInfo};
use rt_core::{ApiTokenId, Role, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: DbRole,
    pub disabled: bool,
    pub created_at: i64,
}

impl UserRow {
    pub fn role(&self) -> Role {
        self.role.0
    }

    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: UserId(self.id),
            username: self.username.clone(),
            role: self.role(),
            disabled: self.disabled,
            created_at: Some(from_ms(self.created_at)),
        }
    }
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The account whose name equals `name` ignoring (ASCII) case.
pub fn find_by_name(
    conn: &mut SqliteConnection,
    name: &str,
) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .filter(lower(users::username).eq(rt_core::validate::username_key(name)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut SqliteConnection) -> Result<Vec<UserRow>, StoreError> {
    Ok(users::table
        .order(users::username.asc())
        .select(UserRow::as_select())
        .load(conn)?)
}

/// Insert a user; None when the name is taken (ignoring case).
pub fn create(
    conn: &mut SqliteConnection,
    username: &str,
    password_hash: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Option<UserRow>, StoreError> {
    conn.immediate_transaction(|conn| {
        if find_by_name(conn, username)?.is_some() {
            return Ok(None);
        }
        let row = diesel::insert_into(users::table)
            .values((
                users::username.eq(username),
                users::password_hash.eq(password_hash),
                users::role.eq(DbRole(role)),
                users::disabled.eq(false),
                users::created_at.eq(to_ms(now)),
            ))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        Ok(Some(row))
    })
}

/// Apply changes to a user; disabling or a new password revokes the user's session tokens
/// (API tokens too when disabled).
pub fn update(
    conn: &mut SqliteConnection,
    id: i64,
    password_hash: Option<&str>,
    role: Option<Role>,
    disabled: Option<bool>,
) -> Result<Option<UserRow>, StoreError> {
    conn.immediate_transaction(|conn| {
        if find_by_id(conn, id)?.is_none() {
            return Ok(None);
        }
        if let Some(h) = password_hash {
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(h))
                .execute(conn)?;
            diesel::update(
                user_tokens::table
                    .filter(user_tokens::user_id.eq(id))
                    .filter(user_tokens::kind.eq(DbUserTokenKind(UserTokenKind::Session))),
            )
            .set(user_tokens::revoked.eq(true))
            .execute(conn)?;
        }
        if let Some(r) = role {
            diesel::update(users::table.find(id))
                .set(users::role.eq(DbRole(r)))
                .execute(conn)?;
        }
        if let Some(d) = disabled {
            diesel::update(users::table.find(id))
                .set(users::disabled.eq(d))
                .execute(conn)?;
            if d {
                diesel::update(user_tokens::table.filter(user_tokens::user_id.eq(id)))
                    .set(user_tokens::revoked.eq(true))
                    .execute(conn)?;
            }
        }
        find_by_id(conn, id)
    })
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = user_tokens)]
pub struct UserTokenRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: DbUserTokenKind,
    pub name: String,
    pub token_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

impl UserTokenRow {
    pub fn info(&self) -> ApiTokenInfo {
        ApiTokenInfo {
            id: ApiTokenId(self.id),
            name: self.name.clone(),
            user_id: UserId(self.user_id),
            created_at: from_ms(self.created_at),
            expires_at: self.expires_at.map(from_ms),
            last_used_at: self.last_used_at.map(from_ms),
            revoked: self.revoked,
        }
    }
}

/// Store a new session or API token (by hash).
pub fn insert_token(
    conn: &mut SqliteConnection,
    user_id: i64,
    kind: UserTokenKind,
    name: &str,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<UserTokenRow, StoreError> {
    Ok(diesel::insert_into(user_tokens::table)
        .values((
            user_tokens::user_id.eq(user_id),
            user_tokens::kind.eq(DbUserTokenKind(kind)),
            user_tokens::name.eq(name),
            user_tokens::token_hash.eq(token_hash),
            user_tokens::created_at.eq(to_ms(now)),
            user_tokens::expires_at.eq(expires_at.map(to_ms)),
            user_tokens::revoked.eq(false),
        ))
        .returning(UserTokenRow::as_returning())
        .get_result(conn)?)
}

/// What a bearer token resolves to.
#[derive(Debug, Clone)]
pub enum TokenLookup {
    Valid {
        token: Box<UserTokenRow>,
        user: Box<UserRow>,
    },
    /// Known but revoked, expired, or its user is disabled.
    Revoked,
    Unknown,
}

pub fn resolve_token(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<TokenLookup, StoreError> {
    let found: Option<(UserTokenRow, UserRow)> = user_tokens::table
        .inner_join(users::table)
        .filter(user_tokens::token_hash.eq(token_hash))
        .select((UserTokenRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((token, user)) = found else {
        return Ok(TokenLookup::Unknown);
    };
    let expired = token.expires_at.is_some_and(|e| e <= to_ms(now));
    if token.revoked || expired || user.disabled {
        return Ok(TokenLookup::Revoked);
    }
    // Last-use bookkeeping for API tokens only, at most once a minute (keeps reads read-only).
    if token.kind.0 == UserTokenKind::Api
        && token.last_used_at.is_none_or(|t| to_ms(now) - t > 60_000)
    {
        let _ = diesel::update(user_tokens::table.find(token.id))
            .set(user_tokens::last_used_at.eq(to_ms(now)))
            .execute(conn);
    }
    Ok(TokenLookup::Valid {
        token: Box::new(token),
        user: Box::new(user),
    })
}

pub fn list_api_tokens(
    conn: &mut SqliteConnection,
    user_id: Option<i64>,
) -> Result<Vec<UserTokenRow>, StoreError> {
    let mut q = user_tokens::table
        .filter(user_tokens::kind.eq(DbUserTokenKind(UserTokenKind::Api)))
        .select(UserTokenRow::as_select())
        .order(user_tokens::id.asc())
        .into_boxed();
    if let Some(u) = user_id {
        q = q.filter(user_tokens::user_id.eq(u));
    }
    Ok(q.load(conn)?)
}

/// Revoke an API token; false when there is none with that id.
pub fn revoke_api_token(conn: &mut SqliteConnection, id: i64) -> Result<bool, StoreError> {
    let n = diesel::update(
        user_tokens::table
            .filter(user_tokens::id.eq(id))
            .filter(user_tokens::kind.eq(DbUserTokenKind(UserTokenKind::Api))),
    )
    .set(user_tokens::revoked.eq(true))
    .execute(conn)?;
    Ok(n > 0)
}

/// Revoke one token by hash (logout).
pub fn revoke_by_hash(conn: &mut SqliteConnection, token_hash: &str) -> Result<(), StoreError> {
    diesel::update(user_tokens::table.filter(user_tokens::token_hash.eq(token_hash)))
        .set(user_tokens::revoked.eq(true))
        .execute(conn)?;
    Ok(())
}

/// Drop expired session rows (housekeeping job).
pub fn purge_expired_sessions(
    conn: &mut SqliteConnection,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        user_tokens::table
            .filter(user_tokens::kind.eq(DbUserTokenKind(UserTokenKind::Session)))
            .filter(user_tokens::expires_at.lt(to_ms(now) - 86_400_000)),
    )
    .execute(conn)?)
}
