//! Login, logout, users and API tokens. Callers arrive authenticated and bodies validated
//! (see `api::filters`).

use crate::api::error::ApiError;
use crate::api::{Caller, State, json};
use crate::auth::{self, TokenKind, hash_token, new_token};
use crate::store::users;
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

pub async fn login(
    state: State,
    addr: Option<IpAddr>,
    req: LoginRequest,
) -> Result<Response, ApiError> {
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
            users::insert_token(
                c,
                uid,
                users::UserTokenKind::Session,
                "login",
                &hash,
                now,
                Some(expires_at),
            )
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

pub async fn logout(state: State, caller: Caller) -> Result<Response, ApiError> {
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

pub async fn me(state: State, caller: Caller) -> Result<Response, ApiError> {
    let id = caller.user_id;
    let user = state
        .store
        .run(move |c| users::find_by_id(c, id).map_err(ApiError::from))
        .await?
        .ok_or_else(|| ApiError::unauthorized("account no longer exists"))?;
    Ok(json(&user.info(), StatusCode::OK))
}

pub async fn list_users(state: State, _admin: Caller) -> Result<Response, ApiError> {
    let rows = state
        .store
        .run(|c| users::list(c).map_err(ApiError::from))
        .await?;
    let infos: Vec<_> = rows.iter().map(users::UserRow::info).collect();
    Ok(json(&infos, StatusCode::OK))
}

pub async fn create_user(
    state: State,
    caller: Caller,
    req: CreateUserRequest,
) -> Result<Response, ApiError> {
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
                "a user with that name already exists (names are compared ignoring case)",
            )
            .with_field("username")
        })?;
    tracing::info!(actor = %caller.username, username = %row.username, role = %row.role, "user created");
    Ok(json(&row.info(), StatusCode::CREATED))
}

pub async fn update_user(
    state: State,
    caller: Caller,
    id: i64,
    req: UpdateUserRequest,
) -> Result<Response, ApiError> {
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
    caller: Caller,
    req: CreateApiTokenRequest,
) -> Result<Response, ApiError> {
    let name = req.name.trim().to_string();
    let now = Utc::now();
    let expires_at = req
        .expires_in_days
        .map(|d| now + Duration::days(i64::from(d)));
    let token = new_token(TokenKind::Api);
    let hash = hash_token(&token);
    let uid = caller.user_id;
    let n2 = name.clone();
    let row = state
        .store
        .run(move |c| {
            users::insert_token(
                c,
                uid,
                users::UserTokenKind::Api,
                &n2,
                &hash,
                now,
                expires_at,
            )
            .map_err(ApiError::from)
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

pub async fn list_api_tokens(state: State, caller: Caller) -> Result<Response, ApiError> {
    let filter = (caller.role != Role::Admin).then_some(caller.user_id);
    let rows = state
        .store
        .run(move |c| users::list_api_tokens(c, filter).map_err(ApiError::from))
        .await?;
    let infos: Vec<_> = rows.iter().map(users::UserTokenRow::info).collect();
    Ok(json(&infos, StatusCode::OK))
}

pub async fn revoke_api_token(state: State, caller: Caller, id: i64) -> Result<Response, ApiError> {
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
