//! Request and response types of every `/api/v1` endpoint (DESIGN.md §4).
//! Field names here ARE the JSON names.

use crate::ids::{ApiTokenId, DeviceId, EnrollmentTokenId, EventId, UserId};
use crate::inventory::Inventory;
use crate::lifecycle::LifecycleState;
use crate::role::Role;
use crate::sample::{Sample, SampleMetrics};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

// ---------------------------------------------------------------- auth and users

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<DateTime<Utc>>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserInfo,
}

impl fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &format_args!("<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("user", &self.user)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub role: Role,
}

impl fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("username", &self.username)
            .field("password", &format_args!("<redacted>"))
            .field("role", &self.role)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUserRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

impl fmt::Debug for UpdateUserRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpdateUserRequest")
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// POST /api/v1/api-tokens
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiTokenRequest {
    pub name: String,
    /// None = does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenCreated {
    pub id: ApiTokenId,
    /// Shown once; only its hash is stored.
    pub token: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for ApiTokenCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiTokenCreated")
            .field("id", &self.id)
            .field("token", &format_args!("<redacted>"))
            .field("name", &self.name)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiTokenInfo {
    pub id: ApiTokenId,
    pub name: String,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
}

// ---------------------------------------------------------------- enrollment

/// POST /api/v1/enrollment-tokens
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateEnrollmentTokenRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The token may also re-enroll hardware that is already known (a reinstall), which revokes
    /// that device's current token. Off by default: such a token only creates new devices.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_reenroll: bool,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentTokenCreated {
    pub id: EnrollmentTokenId,
    /// Shown once; only its hash is stored.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub allow_reenroll: bool,
}

impl fmt::Debug for EnrollmentTokenCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollmentTokenCreated")
            .field("id", &self.id)
            .field("token", &format_args!("<redacted>"))
            .field("expires_at", &self.expires_at)
            .field("max_uses", &self.max_uses)
            .field("allow_reenroll", &self.allow_reenroll)
            .finish()
    }
}

/// GET /api/v1/enrollment-tokens (never includes the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentTokenInfo {
    pub id: EnrollmentTokenId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u32>,
    pub uses: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub revoked: bool,
    pub created_by: UserId,
    #[serde(default)]
    pub allow_reenroll: bool,
}

/// POST /api/v1/enroll — either `enrollment_token`, or `username` + `password`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    pub inventory: Inventory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

impl fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollRequest")
            .field(
                "enrollment_token",
                &self.enrollment_token.as_ref().map(|_| "<redacted>"),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("inventory", &self.inventory)
            .field("device_name", &self.device_name)
            .field("asset_tag", &self.asset_tag)
            .field("assignee", &self.assignee)
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollResponse {
    pub device_id: DeviceId,
    /// Shown once; only its hash is stored.
    pub device_token: String,
    pub re_enrolled: bool,
    pub collection_interval_s: u32,
    /// The highest `seq` the server stores for this device (None: no sample yet). The agent
    /// numbers its samples above it, so a reinstall never reuses a stored seq.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seq: Option<u64>,
}

/// Answer to `POST /api/v1/enroll/preview`: the same credentials and hardware checked,
/// nothing created, changed or used up (not even a use of the enrollment token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollPreview {
    /// True when enrolling now would succeed (for these credentials and this hardware).
    pub allowed: bool,
    /// Why not, when `allowed` is false (the message the real enrollment would fail with).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The device this hardware already is, if any (details only for a caller who may
    /// re-enroll it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<KnownDevice>,
}

/// What a re-enrollment would take over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KnownDevice {
    pub id: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    pub lifecycle_state: LifecycleState,
}

impl fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("device_id", &self.device_id)
            .field("device_token", &format_args!("<redacted>"))
            .field("re_enrolled", &self.re_enrolled)
            .field("collection_interval_s", &self.collection_interval_s)
            .field("max_seq", &self.max_seq)
            .finish()
    }
}

// ---------------------------------------------------------------- telemetry

/// POST /api/v1/telemetry body (JSON, optionally gzip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TelemetryBatch {
    pub agent_version: String,
    pub samples: Vec<Sample>,
}

/// Why one sample of a batch was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedSample {
    pub seq: u64,
    pub reason: String,
}

/// Response to a telemetry batch. `ack` lists inclusive `[from_seq, to_seq]` ranges that are
/// safely stored (accepted, duplicates and conflicts); the agent deletes exactly those.
/// Rejected samples are NOT in `ack`: they are to be quarantined by the agent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TelemetryAck {
    pub accepted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    #[serde(default)]
    pub rejected: Vec<RejectedSample>,
    #[serde(default)]
    pub ack: Vec<[u64; 2]>,
    /// Inclusive ranges of the seqs that were conflicts (a different sample is stored under
    /// that seq). They are in `ack` too, for agents that predate sequence continuity; a current
    /// agent re-sequences and re-sends them instead of deleting them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicted: Vec<[u64; 2]>,
    /// The highest seq the server stores for this device after this batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seq: Option<u64>,
}

impl TelemetryAck {
    /// Build compact inclusive ranges from a set of sequence numbers (any order, duplicates ok).
    pub fn ranges_from(seqs: impl IntoIterator<Item = u64>) -> Vec<[u64; 2]> {
        let mut v: Vec<u64> = seqs.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        let mut out: Vec<[u64; 2]> = Vec::new();
        for s in v {
            match out.last_mut() {
                Some(last) if last[1].checked_add(1) == Some(s) => last[1] = s,
                _ => out.push([s, s]),
            }
        }
        out
    }

    /// True when `seq` is covered by one of the ack ranges.
    pub fn acks(&self, seq: u64) -> bool {
        self.ack.iter().any(|[a, b]| *a <= seq && seq <= *b)
    }

    /// True when `seq` was a conflict (see `conflicted`).
    pub fn conflicts_on(&self, seq: u64) -> bool {
        self.conflicted.iter().any(|[a, b]| *a <= seq && seq <= *b)
    }
}

// ---------------------------------------------------------------- devices and health

/// Fleet health level, ordered from best to worst for sorting (`Unknown` lowest attention).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum HealthLevel {
    Unknown,
    Ok,
    Warning,
    Critical,
    Offline,
}

impl HealthLevel {
    pub const ALL: [HealthLevel; 5] = [
        HealthLevel::Ok,
        HealthLevel::Warning,
        HealthLevel::Critical,
        HealthLevel::Offline,
        HealthLevel::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthLevel::Unknown => "unknown",
            HealthLevel::Ok => "ok",
            HealthLevel::Warning => "warning",
            HealthLevel::Critical => "critical",
            HealthLevel::Offline => "offline",
        }
    }
}

impl fmt::Display for HealthLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HealthLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.trim().to_ascii_lowercase();
        HealthLevel::ALL
            .into_iter()
            .find(|h| h.as_str() == n)
            .ok_or_else(|| {
                format!("unknown health level {s:?}: use ok, warning, critical, offline or unknown")
            })
    }
}

/// Health of one device with short human reasons ("disk / 96% full").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub level: HealthLevel,
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// One row of GET /api/v1/devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSummary {
    pub id: DeviceId,
    pub name: String,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub lifecycle_state: LifecycleState,
    pub health: Health,
    /// When the device was last seen: the collection time of its newest sample (its last
    /// contact while it has none). Online/offline follows this time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
    /// When the device last uploaded (its last contact with the server), which can be much
    /// later than `last_seen` when it sends a backlog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SampleMetrics>,
    /// Recent CPU usage values, oldest first, for the inline sparkline.
    #[serde(default)]
    pub cpu_recent: Vec<f64>,
    pub os_name: String,
    pub enrolled_at: DateTime<Utc>,
    /// Hardware serial number from the inventory (console free-text filter), when the server
    /// sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Hardware model from the inventory (console `model:` filter), when the server sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// One page of a list endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// A "disk full in N days" forecast for one mount point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskForecast {
    pub mount_point: String,
    pub used_pct: f64,
    /// Days until 100 % at the current trend; None when not filling or not enough data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_until_full: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_at: Option<DateTime<Utc>>,
}

/// GET /api/v1/devices/{id}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceDetail {
    #[serde(flatten)]
    pub summary: DeviceSummary,
    pub inventory: Inventory,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<Sample>,
    #[serde(default)]
    pub forecasts: Vec<DiskForecast>,
    pub collection_interval_s: u32,
    /// Lifecycle states an admin may move this device to.
    #[serde(default)]
    pub allowed_transitions: Vec<LifecycleState>,
}

/// PATCH /api/v1/devices/{id}. A field that is absent is unchanged; `assignee: ""` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DevicePatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_state: Option<LifecycleState>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Bucket size of GET /devices/{id}/metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Resolution {
    #[serde(rename = "raw")]
    Raw,
    #[serde(rename = "5m")]
    FiveMinutes,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "1d")]
    Day,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Raw => "raw",
            Resolution::FiveMinutes => "5m",
            Resolution::Hour => "1h",
            Resolution::Day => "1d",
        }
    }

    /// Bucket width in seconds (None for raw).
    pub fn seconds(self) -> Option<i64> {
        match self {
            Resolution::Raw => None,
            Resolution::FiveMinutes => Some(300),
            Resolution::Hour => Some(3600),
            Resolution::Day => Some(86_400),
        }
    }

    /// The resolution a console should ask for to show `window_s` seconds in about 100 points.
    pub fn for_window(window_s: i64) -> Resolution {
        match window_s {
            ..=7_200 => Resolution::Raw,
            7_201..=172_800 => Resolution::FiveMinutes,
            172_801..=1_209_600 => Resolution::Hour,
            _ => Resolution::Day,
        }
    }
}

impl std::str::FromStr for Resolution {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "raw" => Ok(Resolution::Raw),
            "5m" => Ok(Resolution::FiveMinutes),
            "1h" => Ok(Resolution::Hour),
            "1d" => Ok(Resolution::Day),
            other => Err(format!(
                "unknown resolution {other:?}: use raw, 5m, 1h or 1d"
            )),
        }
    }
}

/// Average and maximum of each metric within one bucket (or the raw value twice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricPoint {
    /// Start of the bucket (or the sample time for raw).
    pub t: DateTime<Utc>,
    pub samples: u32,
    pub cpu_avg: f64,
    pub cpu_max: f64,
    pub mem_avg: f64,
    pub mem_max: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_avg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_health_avg: Option<f64>,
    /// Network receive/transmit rate in bytes per second over the bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_rx_bps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_tx_bps: Option<f64>,
}

/// GET /api/v1/devices/{id}/metrics
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricsResponse {
    pub device_id: DeviceId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub resolution: Resolution,
    pub points: Vec<MetricPoint>,
    /// True when the point cap cut the series; ask for a coarser resolution.
    #[serde(default)]
    pub truncated: bool,
}

/// Kind of a device event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    Enrolled,
    ReEnrolled,
    Renamed,
    Assigned,
    Unassigned,
    LifecycleChanged,
    AssetTagChanged,
    NotesChanged,
    TokenRevoked,
    SampleConflict,
    SamplesMissing,
    AlertRaised,
    AlertCleared,
    /// An alert rule fired (`rt_core::alert`); `data` carries the stored alert.
    AlertFiring,
    AlertResolved,
    AlertSeverityChanged,
    AlertFlappingStarted,
    AlertFlappingStopped,
    AlertAcknowledged,
    AlertSilenced,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Enrolled => "enrolled",
            EventKind::ReEnrolled => "re_enrolled",
            EventKind::Renamed => "renamed",
            EventKind::Assigned => "assigned",
            EventKind::Unassigned => "unassigned",
            EventKind::LifecycleChanged => "lifecycle_changed",
            EventKind::AssetTagChanged => "asset_tag_changed",
            EventKind::NotesChanged => "notes_changed",
            EventKind::TokenRevoked => "token_revoked",
            EventKind::SampleConflict => "sample_conflict",
            EventKind::SamplesMissing => "samples_missing",
            EventKind::AlertRaised => "alert_raised",
            EventKind::AlertCleared => "alert_cleared",
            EventKind::AlertFiring => "alert_firing",
            EventKind::AlertResolved => "alert_resolved",
            EventKind::AlertSeverityChanged => "alert_severity_changed",
            EventKind::AlertFlappingStarted => "alert_flapping_started",
            EventKind::AlertFlappingStopped => "alert_flapping_stopped",
            EventKind::AlertAcknowledged => "alert_acknowledged",
            EventKind::AlertSilenced => "alert_silenced",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of GET /api/v1/devices/{id}/events (who, when, what).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceEvent {
    pub id: EventId,
    pub device_id: DeviceId,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// User name of the actor, `agent` for the device itself, `system` for background jobs.
    pub actor: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

/// GET /api/v1/fleet/summary
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FleetSummary {
    pub total: u64,
    pub online: u64,
    pub offline: u64,
    /// Counts by health level name (`ok`, `warning`, ...).
    pub by_health: std::collections::BTreeMap<String, u64>,
    /// Counts by lifecycle state name.
    pub by_lifecycle: std::collections::BTreeMap<String, u64>,
    pub generated_at: Option<DateTime<Utc>>,
    /// Storage tiers the server's database size cap keeps for less time than configured
    /// (absent when none: the configured retention applies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retention_cut: Vec<RetentionCut>,
}

/// A storage tier (`raw`, `5m`, `1h`, `1d`) that the server's database size cap keeps for
/// fewer days than configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionCut {
    pub tier: String,
    /// Days the tier is configured to keep; None: forever.
    pub configured_days: Option<u32>,
    pub kept_days: u32,
    /// When the cap first cut this tier.
    pub since: DateTime<Utc>,
}

/// Export formats of GET /api/v1/export/{what}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExportFormat {
    Csv,
    Json,
    Ndjson,
}

impl ExportFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Ndjson => "ndjson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Json => "application/json",
            ExportFormat::Ndjson => "application/x-ndjson",
        }
    }
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            "ndjson" | "jsonl" => Ok(ExportFormat::Ndjson),
            other => Err(format!(
                "unknown export format {other:?}: use csv, json or ndjson"
            )),
        }
    }
}

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ExportKind {
    Devices,
    Samples,
    Events,
}

impl ExportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportKind::Devices => "devices",
            ExportKind::Samples => "samples",
            ExportKind::Events => "events",
        }
    }
}

impl std::str::FromStr for ExportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "devices" => Ok(ExportKind::Devices),
            "samples" => Ok(ExportKind::Samples),
            "events" => Ok(ExportKind::Events),
            other => Err(format!(
                "unknown export {other:?}: use devices, samples or events"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_ranges_are_compact_and_sorted() {
        assert_eq!(
            TelemetryAck::ranges_from([5, 1, 2, 3, 7, 8, 2]),
            vec![[1, 3], [5, 5], [7, 8]]
        );
        assert!(TelemetryAck::ranges_from([]).is_empty());
        let ack = TelemetryAck {
            ack: vec![[1, 3], [7, 8]],
            ..Default::default()
        };
        assert!(ack.acks(2) && ack.acks(8) && !ack.acks(4));
    }

    #[test]
    fn answers_of_an_older_server_still_parse() {
        // Sequence continuity fields default when absent (a server of the first version).
        let ack: TelemetryAck = serde_json::from_str(
            r#"{"accepted":1,"duplicates":0,"conflicts":0,"rejected":[],"ack":[[1,1]]}"#,
        )
        .expect("an ack without the new fields parses");
        assert_eq!(ack.max_seq, None);
        assert!(ack.conflicted.is_empty() && !ack.conflicts_on(1));
        let r: EnrollResponse = serde_json::from_str(
            r#"{"device_id":1,"device_token":"t","re_enrolled":true,"collection_interval_s":60}"#,
        )
        .expect("an enrollment answer without max_seq parses");
        assert_eq!(r.max_seq, None);
        let ack = TelemetryAck {
            conflicted: vec![[3, 4]],
            ..Default::default()
        };
        assert!(ack.conflicts_on(3) && ack.conflicts_on(4) && !ack.conflicts_on(5));
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let r = EnrollResponse {
            device_id: DeviceId(1),
            device_token: "s3cr3t-token".into(),
            re_enrolled: false,
            collection_interval_s: 300,
            max_seq: Some(7),
        };
        assert!(!format!("{r:?}").contains("s3cr3t"));
        let l = LoginRequest {
            username: "a".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{l:?}").contains("hunter2"));
    }
}
