//! The HTTP API: shared state, caller authentication, request-body and query helpers.
//! Routes are in [`filters`], the work in `handlers/*`, the error type in [`error`].
//!
//! Authentication and body validation happen here and ONLY through the filters in [`filters`]:
//! a handler receives an authenticated [`Caller`] (or [`DeviceCaller`]) whose role was already
//! checked, and a body that was parsed, neutralised and validated by rt-core's
//! [`Validate`](rt_core::Validate). No handler reads the `Authorization` header or re-checks a
//! field.

pub mod error;
pub mod filters;
pub mod gates;
pub mod handlers;
pub mod openapi;

use crate::auth::{Passwords, TokenKind, hash_token};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::devices::DeviceTokenLookup;
use crate::store::users::TokenLookup;
use crate::store::{Store, devices, users};
use crate::writer::Writer;
use bytes::{Buf, Bytes, BytesMut};
use chrono::{DateTime, Utc};
use error::ApiError;
use futures_util::{Stream, StreamExt};
use rt_core::error::codes;
use rt_core::{Role, Validate};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use std::sync::Arc;
use warp::http::StatusCode;

/// Everything a handler needs.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub writer: Writer,
    pub config: Config,
    pub metrics: Arc<Metrics>,
    /// The one password check (login, enrollment) and bounded password hashing.
    pub passwords: Passwords,
    /// Server-wide admission bounds (telemetry bodies and decoding, exports).
    pub gates: gates::Gates,
    /// Alert notifications (webhooks); fed by the writer and the alert job.
    pub notifier: crate::notify::Notifier,
}

pub type State = Arc<AppState>;

/// The peer address of a connection, put into each request's extensions by the server loop.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// An authenticated user (session or API token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub token_kind: TokenKind,
    pub token_hash: String,
}

/// An authenticated device (device token): it may only upload its own telemetry.
#[derive(Debug, Clone, Copy)]
pub struct DeviceCaller {
    pub device_id: i64,
}

/// The token of an `Authorization: Bearer <token>` header. The scheme is case-insensitive
/// (RFC 9110 §11.1: `bearer`, `BEARER` ...), separated from the token by spaces or tabs.
fn bearer(header: Option<&str>) -> Result<&str, ApiError> {
    let h = header.ok_or_else(|| {
        ApiError::unauthorized(
            "missing `Authorization: Bearer <token>`; log in with POST /api/v1/auth/login",
        )
    })?;
    let h = h.trim_start_matches([' ', '\t']);
    let token = h
        .split_once([' ', '\t'])
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim_matches([' ', '\t']))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
    if token.len() > rt_core::validate::limits::MAX_TOKEN_LEN {
        return Err(ApiError::unauthorized("token is not valid"));
    }
    Ok(token)
}

/// Authenticate a user token and check its role. Device and enrollment tokens are refused here.
/// Called only by the auth filters in [`filters`].
async fn require_user(state: &State, header: Option<&str>, need: Role) -> Result<Caller, ApiError> {
    let token = bearer(header)?;
    let kind = TokenKind::of(token);
    match kind {
        Some(TokenKind::Device) => {
            return Err(ApiError::forbidden(
                "device tokens may only upload telemetry (POST /api/v1/telemetry)",
            ));
        }
        Some(TokenKind::Enrollment) => {
            return Err(ApiError::forbidden(
                "enrollment tokens are only valid at POST /api/v1/enroll",
            ));
        }
        Some(TokenKind::Session | TokenKind::Api) => {}
        None => return Err(ApiError::unauthorized("token is not valid; log in again")),
    }
    let hash = hash_token(token);
    let h2 = hash.clone();
    let now = Utc::now();
    let lookup = state
        .store
        .run(move |c| users::resolve_token(c, &h2, now).map_err(ApiError::from))
        .await?;
    let (tok, user) = match lookup {
        TokenLookup::Valid { token, user } => (token, user),
        TokenLookup::Revoked => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::TOKEN_REVOKED,
                "token expired or was revoked; log in again",
            ));
        }
        TokenLookup::Unknown => {
            return Err(ApiError::unauthorized("token is not valid; log in again"));
        }
    };
    let role = user.role();
    if need == Role::Admin && !role.can_write() {
        return Err(ApiError::forbidden("this action needs the admin role"));
    }
    Ok(Caller {
        user_id: user.id,
        username: user.username,
        role,
        token_kind: match tok.kind.0 {
            crate::store::users::UserTokenKind::Api => TokenKind::Api,
            crate::store::users::UserTokenKind::Session => TokenKind::Session,
        },
        token_hash: hash,
    })
}

/// Authenticate a device token (telemetry only). Called only by the device filter in
/// [`filters`].
async fn require_device(state: &State, header: Option<&str>) -> Result<DeviceCaller, ApiError> {
    let token = bearer(header)?;
    match TokenKind::of(token) {
        Some(TokenKind::Device) => {}
        Some(_) => {
            return Err(ApiError::forbidden(
                "only a device token may upload telemetry; enroll the device with POST /api/v1/enroll",
            ));
        }
        None => {
            return Err(ApiError::unauthorized(
                "device token is not valid; re-enroll the device",
            ));
        }
    }
    let hash = hash_token(token);
    let lookup = state
        .store
        .run(move |c| devices::resolve_token(c, &hash).map_err(ApiError::from))
        .await?;
    match lookup {
        DeviceTokenLookup::Valid { device_id } => Ok(DeviceCaller { device_id }),
        DeviceTokenLookup::Retired => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            codes::DEVICE_RETIRED,
            "this device was retired by an administrator; its token no longer works. Stop the agent (rt-agent uninstall)",
        )),
        DeviceTokenLookup::Revoked => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            codes::TOKEN_REVOKED,
            "device token was revoked (the device was re-enrolled); run `rt-agent enroll` again",
        )),
        DeviceTokenLookup::Unknown => Err(ApiError::unauthorized(
            "device token is not valid; run `rt-agent enroll` again",
        )),
    }
}

/// How much of a request body the server accepts: bytes, and time to receive them.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit {
    pub max_bytes: usize,
    pub timeout: std::time::Duration,
}

impl BodyLimit {
    /// The limit of ordinary JSON bodies.
    pub fn json(limits: &crate::config::Limits) -> BodyLimit {
        BodyLimit {
            max_bytes: limits.max_json_bytes,
            timeout: std::time::Duration::from_secs(limits.body_timeout_s),
        }
    }
}

/// Read a whole request body, refusing more than `limit.max_bytes` (with or without
/// Content-Length) with 413, and a body that takes longer than `limit.timeout` with 408.
pub async fn read_body<S, B>(body: S, limit: BodyLimit) -> Result<Bytes, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf,
{
    Ok(read_body_reserving(body, limit, |_| Ok(()))
        .await?
        .into_contiguous())
}

/// A request body as the connection delivered it: its chunks, kept without copying (a body
/// gathered into one growing buffer costs up to twice its size while the buffer grows).
#[derive(Debug, Default)]
pub struct BodyChunks {
    chunks: Vec<Bytes>,
    len: usize,
}

impl BodyChunks {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn push(&mut self, chunk: Bytes) {
        if !chunk.is_empty() {
            self.len += chunk.len();
            self.chunks.push(chunk);
        }
    }

    /// The body as one buffer: the chunk itself when there is one, else one exact-size copy.
    pub fn into_contiguous(mut self) -> Bytes {
        if self.chunks.len() <= 1 {
            return self.chunks.pop().unwrap_or_default();
        }
        let mut all = BytesMut::with_capacity(self.len);
        for c in &self.chunks {
            all.extend_from_slice(c);
        }
        all.freeze()
    }

    /// Read the body from the start, chunk after chunk.
    pub fn reader(&self) -> ChunksReader<'_> {
        ChunksReader {
            rest: &self.chunks,
            offset: 0,
        }
    }
}

impl From<Vec<u8>> for BodyChunks {
    fn from(bytes: Vec<u8>) -> Self {
        let mut b = BodyChunks::default();
        b.push(Bytes::from(bytes));
        b
    }
}

/// [`std::io::Read`] over the chunks of a [`BodyChunks`].
#[derive(Debug)]
pub struct ChunksReader<'a> {
    rest: &'a [Bytes],
    offset: usize,
}

impl std::io::Read for ChunksReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some((first, tail)) = self.rest.split_first() {
            let left = &first[self.offset.min(first.len())..];
            if left.is_empty() {
                self.rest = tail;
                self.offset = 0;
                continue;
            }
            let n = left.len().min(buf.len());
            buf[..n].copy_from_slice(&left[..n]);
            self.offset += n;
            return Ok(n);
        }
        Ok(0)
    }
}

/// [`read_body`] that first calls `reserve(total)` for the bytes it is about to hold, so a
/// caller can account them against a budget (telemetry), and keeps the chunks as received.
pub async fn read_body_reserving<S, B>(
    body: S,
    limit: BodyLimit,
    mut reserve: impl FnMut(usize) -> Result<(), ApiError> + Send,
) -> Result<BodyChunks, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf,
{
    let max = limit.max_bytes;
    let read = async move {
        let mut buf = BodyChunks::default();
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let mut chunk =
                chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
            let total = buf.len() + chunk.remaining();
            if total > max {
                return Err(ApiError::too_large(format!(
                    "request body exceeds the limit of {max} bytes"
                )));
            }
            reserve(total)?;
            let n = chunk.remaining();
            buf.push(chunk.copy_to_bytes(n));
        }
        Ok(buf)
    };
    match tokio::time::timeout(limit.timeout, read).await {
        Ok(r) => r,
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            codes::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                limit.timeout.as_secs()
            ),
        )),
    }
}

/// Read, parse, neutralise and validate a JSON body: the one path every JSON request body
/// takes (through the body filters in [`filters`]). `empty_default`: an empty body means
/// `T::default()` instead of an error.
async fn read_validated<T, S, B>(
    body: S,
    limit: BodyLimit,
    empty_default: Option<fn() -> T>,
) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate,
    S: Stream<Item = Result<B, warp::Error>> + Send,
    B: Buf,
{
    let bytes = read_body(body, limit).await?;
    let mut value: T = match empty_default {
        Some(default) if bytes.iter().all(u8::is_ascii_whitespace) => default(),
        _ => parse_json(&bytes)?,
    };
    value.neutralise();
    let problems = value.validate(Utc::now());
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(ApiError::from_problems(&problems))
    }
}

/// Parse JSON, answering 400 `invalid_json` with serde's description of the problem (which
/// names the field and position).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_JSON,
            "the request body is empty; a JSON object is expected",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_JSON,
            format!("request body is not valid: {e}"),
        )
    })
}

/// Query parameters with typed getters that answer 400 naming the parameter.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn parse<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v.parse::<T>().map(Some).map_err(|e| {
                ApiError::bad_request(format!("query parameter `{name}` is not valid: {e}"))
                    .with_field(name)
            }),
        }
    }

    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => DateTime::parse_from_rfc3339(v)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| {
                    ApiError::bad_request(format!(
                        "query parameter `{name}` must be an RFC 3339 time such as 2026-11-27T22:00:00Z"
                    ))
                    .with_field(name)
                }),
        }
    }

    /// `limit` (default 100, 1..=1000) and `offset` (default 0).
    pub fn paging(&self) -> Result<(u64, u64), ApiError> {
        let limit = self.parse::<u64>("limit")?.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(
                ApiError::bad_request("`limit` must be between 1 and 1000").with_field("limit")
            );
        }
        let offset = self.parse::<u64>("offset")?.unwrap_or(0);
        Ok((limit, offset))
    }
}

/// JSON reply with a status.
pub fn json<T: serde::Serialize>(v: &T, status: StatusCode) -> warp::reply::Response {
    use warp::Reply;
    warp::reply::with_status(warp::reply::json(v), status).into_response()
}
