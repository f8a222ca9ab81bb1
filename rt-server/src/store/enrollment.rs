//! Enrollment tokens: admin-made, expiring, optionally limited in uses, only valid at `/enroll`.

use super::schema::enrollment_tokens;
use super::{StoreError, from_ms, to_ms};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use rt_core::api::EnrollmentTokenInfo;
use rt_core::{EnrollmentTokenId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = enrollment_tokens)]
pub struct EnrollmentTokenRow {
    pub id: i64,
    pub token_hash: String,
    pub created_by: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub note: Option<String>,
    pub revoked: bool,
    /// May re-enroll hardware that is already a device (see DESIGN §4 "Device identity").
    pub allow_reenroll: bool,
}

impl EnrollmentTokenRow {
    pub fn info(&self) -> EnrollmentTokenInfo {
        EnrollmentTokenInfo {
            id: EnrollmentTokenId(self.id),
            created_at: from_ms(self.created_at),
            expires_at: from_ms(self.expires_at),
            max_uses: self.max_uses.and_then(|m| u32::try_from(m).ok()),
            uses: u32::try_from(self.uses).unwrap_or(u32::MAX),
            note: self.note.clone(),
            revoked: self.revoked,
            created_by: UserId(self.created_by),
            allow_reenroll: self.allow_reenroll,
        }
    }
}

/// What an admin asks for when creating an enrollment token.
#[derive(Debug, Clone)]
pub struct NewEnrollmentToken<'a> {
    pub expires_at: DateTime<Utc>,
    pub max_uses: Option<u32>,
    pub note: Option<&'a str>,
    pub allow_reenroll: bool,
}

pub fn create(
    conn: &mut SqliteConnection,
    token_hash: &str,
    created_by: i64,
    now: DateTime<Utc>,
    new: &NewEnrollmentToken<'_>,
) -> Result<EnrollmentTokenRow, StoreError> {
    Ok(diesel::insert_into(enrollment_tokens::table)
        .values((
            enrollment_tokens::token_hash.eq(token_hash),
            enrollment_tokens::created_by.eq(created_by),
            enrollment_tokens::created_at.eq(to_ms(now)),
            enrollment_tokens::expires_at.eq(to_ms(new.expires_at)),
            enrollment_tokens::max_uses.eq(new.max_uses.map(i64::from)),
            enrollment_tokens::uses.eq(0),
            enrollment_tokens::note.eq(new.note),
            enrollment_tokens::revoked.eq(false),
            enrollment_tokens::allow_reenroll.eq(new.allow_reenroll),
        ))
        .returning(EnrollmentTokenRow::as_returning())
        .get_result(conn)?)
}

pub fn list(conn: &mut SqliteConnection) -> Result<Vec<EnrollmentTokenRow>, StoreError> {
    Ok(enrollment_tokens::table
        .order(enrollment_tokens::id.desc())
        .select(EnrollmentTokenRow::as_select())
        .load(conn)?)
}

/// Revoke; false when no such token exists.
pub fn revoke(conn: &mut SqliteConnection, id: i64) -> Result<bool, StoreError> {
    Ok(diesel::update(enrollment_tokens::table.find(id))
        .set(enrollment_tokens::revoked.eq(true))
        .execute(conn)?
        > 0)
}

/// Why an enrollment token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Unknown,
    Revoked,
    Expired,
    UsedUp,
}

impl TokenProblem {
    pub fn message(self) -> &'static str {
        match self {
            TokenProblem::Unknown => {
                "enrollment token is not valid; ask an administrator for a new one"
            }
            TokenProblem::Revoked => {
                "enrollment token was revoked; ask an administrator for a new one"
            }
            TokenProblem::Expired => {
                "enrollment token has expired; ask an administrator for a new one"
            }
            TokenProblem::UsedUp => {
                "enrollment token has no uses left; ask an administrator for a new one"
            }
        }
    }
}

/// Check that an enrollment token is usable now, without using it (an enrollment dry run).
pub fn check(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Result<EnrollmentTokenRow, TokenProblem>, StoreError> {
    let row: Option<EnrollmentTokenRow> = enrollment_tokens::table
        .filter(enrollment_tokens::token_hash.eq(token_hash))
        .select(EnrollmentTokenRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else {
        return Ok(Err(TokenProblem::Unknown));
    };
    if row.revoked {
        return Ok(Err(TokenProblem::Revoked));
    }
    if row.expires_at <= to_ms(now) {
        return Ok(Err(TokenProblem::Expired));
    }
    if row.max_uses.is_some_and(|m| row.uses >= m) {
        return Ok(Err(TokenProblem::UsedUp));
    }
    Ok(Ok(row))
}

/// Check and consume one use of an enrollment token. Must run inside the enrollment transaction
/// so that a failed enrollment does not use up the token.
pub fn consume(
    conn: &mut SqliteConnection,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Result<EnrollmentTokenRow, TokenProblem>, StoreError> {
    let row = match check(conn, token_hash, now)? {
        Ok(row) => row,
        Err(p) => return Ok(Err(p)),
    };
    diesel::update(enrollment_tokens::table.find(row.id))
        .set(enrollment_tokens::uses.eq(enrollment_tokens::uses + 1))
        .execute(conn)?;
    Ok(Ok(row))
}
