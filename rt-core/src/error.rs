//! The one JSON error body of the HTTP API: `{"error": {"code", "message", "field"?}}`.

use serde::{Deserialize, Serialize};

/// Error detail. `code` is stable snake_case for programs; `message` is for humans and says
/// what to do; `field` names the offending input (e.g. `samples[3].disks[0].total_bytes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Wrapper that is the whole response body of every error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ApiError,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody {
            error: ApiError {
                code: code.into(),
                message: message.into(),
                field: None,
            },
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.error.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{} ({}: {})", self.message, self.code, field),
            None => write!(f, "{} ({})", self.message, self.code),
        }
    }
}

/// Stable error codes used by the server. Clients may match on these.
pub mod codes {
    pub const BAD_REQUEST: &str = "bad_request";
    pub const INVALID_JSON: &str = "invalid_json";
    pub const VALIDATION: &str = "validation_failed";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const FORBIDDEN: &str = "forbidden";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
    pub const INVALID_TRANSITION: &str = "invalid_transition";
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "unsupported_media_type";
    pub const TOO_MANY_REQUESTS: &str = "too_many_requests";
    pub const DEVICE_RETIRED: &str = "device_retired";
    pub const TOKEN_REVOKED: &str = "token_revoked";
    pub const ENROLLMENT_TOKEN_INVALID: &str = "enrollment_token_invalid";
    /// The account may not enroll devices at all (a viewer).
    pub const ENROLL_NOT_ALLOWED: &str = "enroll_not_allowed";
    /// The hardware is already a device and the credential may not re-enroll it.
    pub const REENROLL_NOT_ALLOWED: &str = "reenroll_not_allowed";
    pub const INTERNAL: &str = "internal_error";
    pub const UNAVAILABLE: &str = "service_unavailable";
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
    pub const URI_TOO_LONG: &str = "uri_too_long";
    pub const HEADERS_TOO_LARGE: &str = "headers_too_large";
    /// The disk holding the database is full: writes are refused until space is freed.
    pub const STORAGE_FULL: &str = "storage_full";
}
