//! The one HTTP error type. Error policy:
//! - every failure a client sees is `{"error": {"code", "message", "field"?}}` with a fitting
//!   status (rt_core::ErrorBody, codes from rt_core::error::codes);
//! - messages say what to do next and never contain SQL, file paths, stack traces or secrets;
//! - internal failures are logged here with their detail and answered with a generic 500/503.

use crate::auth::{CheckError, PasswordError};
use crate::store::StoreError;
use crate::writer::WriteError;
use rt_core::ErrorBody;
use rt_core::error::codes;
use std::convert::Infallible;
use warp::http::{HeaderValue, StatusCode};
use warp::reply::Response;
use warp::{Rejection, Reply};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: ErrorBody::new(code, message),
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.body = self.body.with_field(field);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, message)
    }

    pub fn validation(message: impl Into<String>, field: &str) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, codes::VALIDATION, message)
            .with_field(field)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, codes::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, codes::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, codes::NOT_FOUND, message)
    }

    pub fn too_large(message: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::PAYLOAD_TOO_LARGE,
            message,
        )
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "internal error; the server log has the details",
        )
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, codes::UNAVAILABLE, message);
        e.retry_after = Some(5);
        e
    }

    pub fn into_response(self) -> Response {
        let mut resp =
            warp::reply::with_status(warp::reply::json(&self.body), self.status).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "database failure");
        match e {
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::Unknown,
                ref info,
            )) if info.message().contains("locked") || info.message().contains("busy") => {
                ApiError::unavailable("the database is busy; retry shortly")
            }
            StoreError::Connect(_) | StoreError::Task(_) => {
                ApiError::unavailable("the database is not available; retry shortly")
            }
            _ => ApiError::internal(),
        }
    }
}

impl From<CheckError> for ApiError {
    fn from(e: CheckError) -> ApiError {
        match e {
            CheckError::Throttled(wait) => {
                let mut a = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    codes::TOO_MANY_REQUESTS,
                    e.to_string(),
                );
                a.retry_after = Some(wait);
                a
            }
            CheckError::Invalid => ApiError::unauthorized(e.to_string()),
            CheckError::Busy => ApiError::unavailable(e.to_string()),
            CheckError::Store(s) => ApiError::from(s),
        }
    }
}

impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> ApiError {
        match e {
            PasswordError::Hash => {
                tracing::error!("password hashing failed");
                ApiError::internal()
            }
            PasswordError::Busy => ApiError::unavailable(e.to_string()),
            PasswordError::TooShort | PasswordError::TooLong => {
                ApiError::validation(e.to_string(), "password")
            }
        }
    }
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::ShuttingDown => ApiError::unavailable(
                "the server is shutting down; nothing was stored, retry later",
            ),
            WriteError::Store(detail) => {
                tracing::error!(error = %detail, "telemetry write failed");
                ApiError::unavailable(
                    "the batch could not be stored; nothing was stored, retry later",
                )
            }
        }
    }
}

/// Turn a handler result into a response.
pub fn respond(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(ApiError::into_response)
}

/// The one `recover`: warp's own rejections (no route, wrong method, bad query) as JSON.
pub async fn recover(r: Rejection) -> Result<Response, Infallible> {
    let e = if r.is_not_found() {
        ApiError::not_found("no such endpoint; see docs/api.md")
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this endpoint does not support that method; see docs/api.md",
        )
    } else if r.find::<warp::reject::InvalidQuery>().is_some() {
        ApiError::bad_request("the query string is malformed")
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        ApiError::too_large("request body too large")
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            codes::BAD_REQUEST,
            "Content-Length required",
        )
    } else if r.find::<warp::reject::UnsupportedMediaType>().is_some() {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "unsupported content type or encoding",
        )
    } else if r.find::<warp::reject::MissingHeader>().is_some()
        || r.find::<warp::reject::InvalidHeader>().is_some()
    {
        ApiError::bad_request("a required header is missing or malformed")
    } else {
        tracing::warn!(rejection = ?r, "unhandled rejection");
        ApiError::internal()
    };
    Ok(e.into_response())
}
