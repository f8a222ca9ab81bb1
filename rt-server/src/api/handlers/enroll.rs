//! Enrollment tokens (admin) and device enrollment. Admin callers arrive authenticated and
//! every body validated (inventory included) by the filters in `api::filters`.

use crate::api::error::ApiError;
use crate::api::{Caller, State, json};
use crate::auth::{TokenKind, hash_token, new_token};
use crate::store::StoreError;
use crate::store::devices::{self, EnrollInput, EnrollOutcome};
use crate::store::enrollment::{self, TokenProblem};
use chrono::{Duration, Utc};
use rt_core::api::{
    CreateEnrollmentTokenRequest, EnrollPreview, EnrollRequest, EnrollResponse,
    EnrollmentTokenCreated, KnownDevice,
};
use rt_core::error::codes;
use rt_core::{DeviceId, EnrollmentTokenId, LifecycleState, Role};
use std::net::IpAddr;
use warp::http::StatusCode;
use warp::reply::Response;

/// Default lifetime of an enrollment token.
const DEFAULT_ENROLLMENT_HOURS: u32 = 24;

pub async fn create_token(
    state: State,
    caller: Caller,
    req: CreateEnrollmentTokenRequest,
) -> Result<Response, ApiError> {
    let hours = req.expires_in_hours.unwrap_or(DEFAULT_ENROLLMENT_HOURS);
    let note = trimmed(&req.note);
    let token = new_token(TokenKind::Enrollment);
    let hash = hash_token(&token);
    let now = Utc::now();
    let expires_at = now + Duration::hours(i64::from(hours));
    let uid = caller.user_id;
    let max_uses = req.max_uses;
    let allow_reenroll = req.allow_reenroll;
    let row = state
        .store
        .run(move |c| {
            let new = enrollment::NewEnrollmentToken {
                expires_at,
                max_uses,
                note: note.as_deref(),
                allow_reenroll,
            };
            enrollment::create(c, &hash, uid, now, &new).map_err(ApiError::from)
        })
        .await?;
    tracing::info!(actor = %caller.username, id = row.id, allow_reenroll, "enrollment token created");
    Ok(json(
        &EnrollmentTokenCreated {
            id: EnrollmentTokenId(row.id),
            token,
            expires_at,
            max_uses,
            allow_reenroll,
        },
        StatusCode::CREATED,
    ))
}

pub async fn list_tokens(state: State, _admin: Caller) -> Result<Response, ApiError> {
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

pub async fn revoke_token(state: State, caller: Caller, id: i64) -> Result<Response, ApiError> {
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

/// An optional text trimmed, blank meaning absent (normalisation; validity was checked by
/// the body filter).
fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn enroll_error(status: StatusCode, code: &str, message: &str) -> ApiError {
    ApiError::new(status, code, message)
}

/// `POST /api/v1/enroll`. `req` was parsed and validated (inventory neutralised, typed names
/// refused when unsafe) by the body filter.
pub async fn enroll(
    state: State,
    addr: Option<IpAddr>,
    req: EnrollRequest,
) -> Result<Response, ApiError> {
    enroll_or_preview(state, addr, req, false).await
}

/// `POST /api/v1/enroll/preview`: the same body and the same checks as `/enroll`, answered
/// with an [`EnrollPreview`] (would it succeed, what is already known of this hardware);
/// nothing is created, changed or used up. A separate path, so that a server that predates it
/// answers 404 instead of enrolling for real.
pub async fn preview(
    state: State,
    addr: Option<IpAddr>,
    req: EnrollRequest,
) -> Result<Response, ApiError> {
    enroll_or_preview(state, addr, req, true).await
}

async fn enroll_or_preview(
    state: State,
    addr: Option<IpAddr>,
    req: EnrollRequest,
    dry_run: bool,
) -> Result<Response, ApiError> {
    let hostname = req.inventory.hostname.trim();
    let device_name = trimmed(&req.device_name);
    let asset_tag = trimmed(&req.asset_tag);
    let assignee = trimmed(&req.assignee);

    // Who is enrolling: an enrollment token, or a user's credentials. Only an admin's or an
    // enrollment token's: a viewer may not create or take over a device (docs/security.md).
    enum Credential {
        Token(String),
        Admin(String),
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
            if user.role() != Role::Admin {
                return Err(enroll_error(
                    StatusCode::FORBIDDEN,
                    codes::ENROLL_NOT_ALLOWED,
                    &format!(
                        "the {} account {:?} may not enroll devices: enrolling takes an \
                         administrator's credentials or an enrollment token (ask an \
                         administrator for one)",
                        user.role(),
                        user.username
                    ),
                ));
            }
            Credential::Admin(user.username)
        }
        _ => {
            return Err(ApiError::bad_request(
                "send either `enrollment_token`, or `username` and `password`",
            ));
        }
    };

    let mut inventory = req.inventory.clone();
    inventory.hostname = hostname.to_string();
    let now = Utc::now();

    if dry_run {
        let preview = state
            .store
            .run(move |c| {
                let may_reenroll = match &credential {
                    Credential::Token(h) => match enrollment::check(c, h, now)? {
                        Ok(row) => row.allow_reenroll,
                        Err(p) => return Ok(Err(p)),
                    },
                    Credential::Admin(_) => true,
                };
                let existing = devices::find_by_identity(c, &inventory)?;
                Ok::<_, StoreError>(Ok(preview_of(existing.as_ref(), may_reenroll)))
            })
            .await
            .map_err(ApiError::from)?;
        return match preview {
            Ok(p) => Ok(json(&p, StatusCode::OK)),
            Err(p) => Err(enroll_error(
                StatusCode::UNAUTHORIZED,
                codes::ENROLLMENT_TOKEN_INVALID,
                p.message(),
            )),
        };
    }

    let device_token = new_token(TokenKind::Device);
    let token_hash = hash_token(&device_token);

    enum Outcome {
        Done(EnrollOutcome),
        BadToken(TokenProblem),
    }
    /// Errors that roll the enrollment transaction back (a refusal included, so that it does
    /// not use up the enrollment token).
    enum TxError {
        Store(StoreError),
        Refused(EnrollOutcome),
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
                let (actor, may_reenroll) = match &credential {
                    Credential::Token(h) => match enrollment::consume(c, h, now)? {
                        Ok(row) => (format!("enrollment-token:{}", row.id), row.allow_reenroll),
                        Err(p) => return Ok(Outcome::BadToken(p)),
                    },
                    Credential::Admin(name) => (name.clone(), true),
                };
                let input = EnrollInput {
                    inventory,
                    device_name,
                    asset_tag,
                    assignee,
                    actor,
                    may_reenroll,
                };
                match devices::enroll(c, &input, &token_hash, now)? {
                    out @ EnrollOutcome::Enrolled { .. } => Ok(Outcome::Done(out)),
                    refused => Err(TxError::Refused(refused)),
                }
            })
        })
        .await;
    let result = match result {
        Ok(r) => r,
        Err(TxError::Refused(out)) => Outcome::Done(out),
        Err(TxError::Store(e)) => return Err(ApiError::from(e)),
    };
    match result {
        Outcome::BadToken(p) => Err(enroll_error(
            StatusCode::UNAUTHORIZED,
            codes::ENROLLMENT_TOKEN_INVALID,
            p.message(),
        )),
        Outcome::Done(EnrollOutcome::Retired { device_id }) => Err(retired_error(device_id)),
        Outcome::Done(EnrollOutcome::ReenrollNotAllowed { device_id }) => {
            Err(reenroll_error(device_id))
        }
        Outcome::Done(EnrollOutcome::Enrolled {
            device_id,
            re_enrolled,
            max_seq,
        }) => {
            tracing::info!(device_id, re_enrolled, "device enrolled");
            Ok(json(
                &EnrollResponse {
                    device_id: DeviceId(device_id),
                    device_token,
                    re_enrolled,
                    collection_interval_s: state.config.collection_interval_s,
                    max_seq,
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

fn retired_error(device_id: i64) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        codes::DEVICE_RETIRED,
        retired_message(device_id),
    )
}

fn retired_message(device_id: i64) -> String {
    format!(
        "this hardware belongs to device {device_id}, which was retired; retired devices cannot be enrolled again (ask an administrator)"
    )
}

fn reenroll_message(device_id: i64) -> String {
    format!(
        "this hardware is already enrolled as device {device_id}; re-enrolling known hardware \
         revokes that device's token, so it takes an administrator's credentials or an \
         enrollment token created with re-enrollment allowed \
         (`rt-tui enroll-token create --allow-reenroll`)"
    )
}

fn reenroll_error(device_id: i64) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        codes::REENROLL_NOT_ALLOWED,
        reenroll_message(device_id),
    )
}

/// What a dry run answers: would enrolling succeed, and what is already known of the hardware
/// (details only for a caller who may re-enroll it).
fn preview_of(existing: Option<&devices::DeviceRow>, may_reenroll: bool) -> EnrollPreview {
    let Some(d) = existing else {
        return EnrollPreview {
            allowed: true,
            reason: None,
            existing: None,
        };
    };
    let retired = d.lifecycle() == LifecycleState::Retired;
    let known = KnownDevice {
        id: DeviceId(d.id),
        name: may_reenroll.then(|| d.name.clone()),
        assignee: d.assignee.clone().filter(|_| may_reenroll),
        last_seen: d.last_seen().filter(|_| may_reenroll),
        lifecycle_state: d.lifecycle(),
    };
    let reason = if retired {
        Some(retired_message(d.id))
    } else if !may_reenroll {
        Some(reenroll_message(d.id))
    } else {
        None
    };
    EnrollPreview {
        allowed: reason.is_none(),
        reason,
        existing: Some(known),
    }
}
