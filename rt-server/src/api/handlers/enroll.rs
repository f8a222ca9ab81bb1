//! Enrollment tokens (admin) and device enrollment.

use crate::api::error::ApiError;
use crate::api::{State, json, parse_json, require_user};
use crate::auth::{TokenKind, hash_token, new_token};
use crate::store::StoreError;
use crate::store::devices::{self, EnrollInput, EnrollOutcome};
use crate::store::enrollment::{self, TokenProblem};
use bytes::Bytes;
use chrono::{Duration, Utc};
use rt_core::api::{
    CreateEnrollmentTokenRequest, EnrollRequest, EnrollResponse, EnrollmentTokenCreated,
};
use rt_core::error::codes;
use rt_core::validate::limits;
use rt_core::{DeviceId, EnrollmentTokenId, Role};
use std::net::IpAddr;
use warp::http::StatusCode;
use warp::reply::Response;

/// Default lifetime of an enrollment token.
const DEFAULT_ENROLLMENT_HOURS: u32 = 24;

pub async fn create_token(
    state: State,
    authz: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Admin).await?;
    let req: CreateEnrollmentTokenRequest = if body.is_empty() {
        CreateEnrollmentTokenRequest::default()
    } else {
        parse_json(&body)?
    };
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_ENROLLMENT_HOURS);
    if hours == 0 || hours > limits::MAX_ENROLLMENT_TOKEN_HOURS {
        return Err(ApiError::validation(
            format!(
                "expires_in_hours must be between 1 and {}",
                limits::MAX_ENROLLMENT_TOKEN_HOURS
            ),
            "expires_in_hours",
        ));
    }
    if let Some(m) = req.max_uses
        && (m == 0 || m > limits::MAX_ENROLLMENT_TOKEN_USES)
    {
        return Err(ApiError::validation(
            format!(
                "max_uses must be between 1 and {}",
                limits::MAX_ENROLLMENT_TOKEN_USES
            ),
            "max_uses",
        ));
    }
    let note = req
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > limits::MAX_STRING_LEN)
    {
        return Err(ApiError::validation(
            format!("note must be at most {} characters", limits::MAX_STRING_LEN),
            "note",
        ));
    }
    let token = new_token(TokenKind::Enrollment);
    let hash = hash_token(&token);
    let now = Utc::now();
    let expires_at = now + Duration::hours(i64::from(hours));
    let uid = caller.user_id;
    let max_uses = req.max_uses;
    let row = state
        .store
        .run(move |c| {
            enrollment::create(c, &hash, uid, now, expires_at, max_uses, note.as_deref())
                .map_err(ApiError::from)
        })
        .await?;
    tracing::info!(actor = %caller.username, id = row.id, "enrollment token created");
    Ok(json(
        &EnrollmentTokenCreated {
            id: EnrollmentTokenId(row.id),
            token,
            expires_at,
            max_uses,
        },
        StatusCode::CREATED,
    ))
}

pub async fn list_tokens(state: State, authz: Option<String>) -> Result<Response, ApiError> {
    require_user(&state, authz.as_deref(), Role::Admin).await?;
    let rows = state
        .store
        .run(|c| enrollment::list(c).map_err(ApiError::from))
        .await?;
    let infos: Vec<_> = rows
        .iter()
        .map(enrollment::EnrollmentTokenRow::info)
        .collect();
    Ok(json(&infos, StatusCode::OK))
}

pub async fn revoke_token(
    state: State,
    authz: Option<String>,
    id: i64,
) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Admin).await?;
    let done = state
        .store
        .run(move |c| enrollment::revoke(c, id).map_err(ApiError::from))
        .await?;
    if !done {
        return Err(ApiError::not_found("no enrollment token with that id"));
    }
    tracing::info!(actor = %caller.username, id, "enrollment token revoked");
    Ok(json(
        &serde_json::json!({"revoked": true, "id": id}),
        StatusCode::OK,
    ))
}

fn clean_opt(v: &Option<String>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.chars().count() > max => Err(ApiError::validation(
            format!("{field} must be at most {max} characters"),
            field,
        )),
        Some(s) if s.chars().any(char::is_control) => Err(ApiError::validation(
            format!("{field} must not contain control characters"),
            field,
        )),
        Some(s) => Ok(Some(s.to_string())),
    }
}

fn enroll_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError::new(status, code, message)
}

pub async fn enroll(state: State, addr: Option<IpAddr>, body: Bytes) -> Result<Response, ApiError> {
    let req: EnrollRequest = parse_json(&body)?;
    // Inventory sanity: a hostname is needed to show the device at all.
    let hostname = req.inventory.hostname.trim();
    if hostname.is_empty() || hostname.chars().count() > limits::MAX_STRING_LEN {
        return Err(ApiError::validation(
            format!(
                "inventory.hostname must be 1 to {} characters",
                limits::MAX_STRING_LEN
            ),
            "inventory.hostname",
        ));
    }
    let device_name = clean_opt(&req.device_name, "device_name", limits::MAX_STRING_LEN)?;
    let asset_tag = clean_opt(&req.asset_tag, "asset_tag", limits::MAX_STRING_LEN)?;
    let assignee = clean_opt(&req.assignee, "assignee", limits::MAX_STRING_LEN)?;

    // Who is enrolling: an enrollment token, or a user's credentials.
    enum Credential {
        Token(String),
        User(String),
    }
    let credential = match (&req.enrollment_token, &req.username, &req.password) {
        (Some(t), None, None) => {
            if TokenKind::of(t.trim()) != Some(TokenKind::Enrollment) {
                return Err(enroll_error(
                    StatusCode::UNAUTHORIZED,
                    codes::ENROLLMENT_TOKEN_INVALID,
                    TokenProblem::Unknown.message(),
                ));
            }
            Credential::Token(hash_token(t.trim()))
        }
        (None, Some(u), Some(p)) => {
            let user = state.passwords.check(&state.store, addr, u, p).await?;
            Credential::User(user.username)
        }
        _ => {
            return Err(ApiError::bad_request(
                "send either `enrollment_token`, or `username` and `password`",
            ));
        }
    };

    let mut inventory = req.inventory.clone();
    inventory.hostname = hostname.to_string();
    let device_token = new_token(TokenKind::Device);
    let token_hash = hash_token(&device_token);
    let now = Utc::now();

    enum Outcome {
        Done(EnrollOutcome),
        BadToken(TokenProblem),
    }
    /// Errors that roll the enrollment transaction back (a refused retired device included,
    /// so that it does not use up the enrollment token).
    enum TxError {
        Store(StoreError),
        Retired(i64),
    }
    impl From<diesel::result::Error> for TxError {
        fn from(e: diesel::result::Error) -> Self {
            TxError::Store(StoreError::Query(e))
        }
    }
    impl From<StoreError> for TxError {
        fn from(e: StoreError) -> Self {
            TxError::Store(e)
        }
    }
    let result = state
        .store
        .run(move |c| {
            c.immediate_transaction(|c| {
                let actor = match &credential {
                    Credential::Token(h) => match enrollment::consume(c, h, now)? {
                        Ok(row) => format!("enrollment-token:{}", row.id),
                        Err(p) => return Ok(Outcome::BadToken(p)),
                    },
                    Credential::User(name) => name.clone(),
                };
                let input = EnrollInput {
                    inventory,
                    device_name,
                    asset_tag,
                    assignee,
                    actor,
                };
                match devices::enroll(c, &input, &token_hash, now)? {
                    EnrollOutcome::Retired { device_id } => Err(TxError::Retired(device_id)),
                    out => Ok(Outcome::Done(out)),
                }
            })
        })
        .await;
    let result = match result {
        Ok(r) => r,
        Err(TxError::Retired(device_id)) => Outcome::Done(EnrollOutcome::Retired { device_id }),
        Err(TxError::Store(e)) => return Err(ApiError::from(e)),
    };
    match result {
        Outcome::BadToken(p) => Err(enroll_error(
            StatusCode::UNAUTHORIZED,
            codes::ENROLLMENT_TOKEN_INVALID,
            p.message(),
        )),
        Outcome::Done(EnrollOutcome::Retired { device_id }) => Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::DEVICE_RETIRED,
            format!(
                "this hardware belongs to device {device_id}, which was retired; retired devices cannot be enrolled again (ask an administrator)"
            ),
        )),
        Outcome::Done(EnrollOutcome::Enrolled {
            device_id,
            re_enrolled,
        }) => {
            tracing::info!(device_id, re_enrolled, "device enrolled");
            Ok(json(
                &EnrollResponse {
                    device_id: DeviceId(device_id),
                    device_token,
                    re_enrolled,
                    collection_interval_s: state.config.collection_interval_s,
                },
                if re_enrolled {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
            ))
        }
    }
}
