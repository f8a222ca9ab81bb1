//! Login, logout, users and API tokens.

use crate::api::error::ApiError;
use crate::api::{Caller, State, json, parse_json, require_user};
use crate::auth::{self, TokenKind, hash_token, new_token};
use crate::store::users::{self, check_username};
use bytes::Bytes;
use chrono::{Duration, Utc};
use rt_core::api::{
    ApiTokenCreated, CreateApiTokenRequest, CreateUserRequest, LoginRequest, LoginResponse,
    UpdateUserRequest,
};
use rt_core::error::codes;
use rt_core::{ApiTokenId, Role};
use std::net::IpAddr;
use warp::http::StatusCode;
use warp::reply::Response;

pub async fn login(state: State, addr: Option<IpAddr>, body: Bytes) -> Result<Response, ApiError> {
    let req: LoginRequest = parse_json(&body)?;
    let user = match state
        .passwords
        .check(&state.store, addr, &req.username, &req.password)
        .await
    {
        Ok(u) => u,
        Err(e) => {
            if matches!(e, auth::CheckError::Invalid) {
                tracing::info!(username = %req.username, "login failed");
            }
            return Err(e.into());
        }
    };
    let token = new_token(TokenKind::Session);
    let hash = hash_token(&token);
    let now = Utc::now();
    let expires_at = now + Duration::hours(i64::from(state.config.session_hours));
    let uid = user.id;
    state
        .store
        .run(move |c| {
            users::insert_token(c, uid, "session", "login", &hash, now, Some(expires_at))
                .map_err(ApiError::from)
        })
        .await?;
    tracing::info!(username = %user.username, "login");
    Ok(json(
        &LoginResponse {
            token,
            expires_at,
            user: user.info(),
        },
        StatusCode::OK,
    ))
}

pub async fn logout(state: State, authz: Option<String>) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Viewer).await?;
    if caller.token_kind == TokenKind::Session {
        let h = caller.token_hash.clone();
        state
            .store
            .run(move |c| users::revoke_by_hash(c, &h).map_err(ApiError::from))
            .await?;
    }
    use warp::Reply;
    Ok(warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response())
}

pub async fn me(state: State, authz: Option<String>) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Viewer).await?;
    let id = caller.user_id;
    let user = state
        .store
        .run(move |c| users::find_by_id(c, id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::unauthorized("account no longer exists"))?;
    Ok(json(&user.info(), StatusCode::OK))
}

pub async fn list_users(state: State, authz: Option<String>) -> Result<Response, ApiError> {
    require_user(&state, authz.as_deref(), Role::Admin).await?;
    let rows = state
        .store
        .run(|c| users::list(c).map_err(ApiError::from))
        .await?;
    let infos: Vec<_> = rows.iter().map(users::UserRow::info).collect();
    Ok(json(&infos, StatusCode::OK))
}

pub async fn create_user(
    state: State,
    authz: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Admin).await?;
    let req: CreateUserRequest = parse_json(&body)?;
    check_username(&req.username).map_err(|m| ApiError::validation(m, "username"))?;
    let hash = state.passwords.hash(&req.password).await?;
    let name = req.username.clone();
    let role = req.role;
    let row = state
        .store
        .run(move |c| users::create(c, &name, &hash, role, Utc::now()).map_err(ApiError::from))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                codes::CONFLICT,
                "a user with that name already exists",
            )
            .with_field("username")
        })?;
    tracing::info!(actor = %caller.username, username = %row.username, role = %row.role, "user created");
    Ok(json(&row.info(), StatusCode::CREATED))
}

pub async fn update_user(
    state: State,
    authz: Option<String>,
    id: i64,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Admin).await?;
    let req: UpdateUserRequest = parse_json(&body)?;
    if caller.user_id == id && (req.disabled == Some(true) || req.role == Some(Role::Viewer)) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            codes::CONFLICT,
            "you cannot disable or demote your own account; ask another admin",
        ));
    }
    let hash = match req.password.clone() {
        Some(p) => Some(state.passwords.hash(&p).await?),
        None => None,
    };
    let (role, disabled) = (req.role, req.disabled);
    let row = state
        .store
        .run(move |c| users::update(c, id, hash.as_deref(), role, disabled).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::not_found("no user with that id"))?;
    tracing::info!(actor = %caller.username, username = %row.username, "user updated");
    Ok(json(&row.info(), StatusCode::OK))
}

pub async fn create_api_token(
    state: State,
    authz: Option<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller: Caller = require_user(&state, authz.as_deref(), Role::Viewer).await?;
    let req: CreateApiTokenRequest = parse_json(&body)?;
    let name = req.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::validation(
            "token name must be 1 to 100 characters",
            "name",
        ));
    }
    let now = Utc::now();
    let expires_at = match req.expires_in_days {
        Some(d) if d == 0 || d > rt_core::validate::limits::MAX_API_TOKEN_DAYS => {
            return Err(ApiError::validation(
                format!(
                    "expires_in_days must be between 1 and {}",
                    rt_core::validate::limits::MAX_API_TOKEN_DAYS
                ),
                "expires_in_days",
            ));
        }
        Some(d) => Some(now + Duration::days(i64::from(d))),
        None => None,
    };
    let token = new_token(TokenKind::Api);
    let hash = hash_token(&token);
    let uid = caller.user_id;
    let n2 = name.clone();
    let row = state
        .store
        .run(move |c| {
            users::insert_token(c, uid, "api", &n2, &hash, now, expires_at).map_err(ApiError::from)
        })
        .await?;
    Ok(json(
        &ApiTokenCreated {
            id: ApiTokenId(row.id),
            token,
            name,
            expires_at,
        },
        StatusCode::CREATED,
    ))
}

pub async fn list_api_tokens(state: State, authz: Option<String>) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Viewer).await?;
    let filter = (caller.role != Role::Admin).then_some(caller.user_id);
    let rows = state
        .store
        .run(move |c| users::list_api_tokens(c, filter).map_err(ApiError::from))
        .await?;
    let infos: Vec<_> = rows.iter().map(users::UserTokenRow::info).collect();
    Ok(json(&infos, StatusCode::OK))
}

pub async fn revoke_api_token(
    state: State,
    authz: Option<String>,
    id: i64,
) -> Result<Response, ApiError> {
    let caller = require_user(&state, authz.as_deref(), Role::Viewer).await?;
    let is_admin = caller.role == Role::Admin;
    let uid = caller.user_id;
    let done = state
        .store
        .run(move |c| {
            let own = users::list_api_tokens(c, Some(uid))?
                .iter()
                .any(|t| t.id == id);
            if !own && !is_admin {
                return Ok(false);
            }
            users::revoke_api_token(c, id)
        })
        .await
        .map_err(ApiError::from)?;
    if !done {
        return Err(ApiError::not_found("no API token with that id"));
    }
    Ok(json(
        &serde_json::json!({"revoked": true, "id": id}),
        StatusCode::OK,
    ))
}
