//! The OpenAPI 3.1 document of the HTTP API, served at `GET /api/v1/openapi.json`.
//!
//! Schemas come from the rt-core wire types themselves (their `ToSchema` derives under the
//! `openapi` feature), so a field added to a request or response type is in the document by
//! construction. Operations are declared here, one `#[utoipa::path]` per route of
//! [`super::filters::routes`]: warp has no utoipa integration, so the functions below only
//! carry the declarations. `tests/openapi.rs` fails when a route the server answers is missing
//! here, when a documented path is not answered, or when an example does not validate.
#![expect(
    dead_code,
    reason = "the operation functions only carry #[utoipa::path] declarations; warp serves the routes"
)]

use rt_core::ErrorBody;
use rt_core::alert::api::{AckRequest, AlertInfo, SilenceRequest};
use rt_core::api::*;
use serde_json::{Value, json};
use std::sync::LazyLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use warp::http::StatusCode;
use warp::reply::Response;

/// Security scheme of a user: a session token from login, or an API token.
pub const USER_TOKEN: &str = "user_token";
/// Security scheme of a device: the device token from enrollment (telemetry only).
pub const DEVICE_TOKEN: &str = "device_token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ResourceTracker API",
        description = "Wire protocol v1 of the ResourceTracker server. Errors are always \
            `{\"error\": {\"code\", \"message\", \"field\"?}}` (schema `ErrorBody`); timestamps \
            are RFC 3339 UTC. Enrollment authenticates with credentials in its body (an \
            enrollment token, or an admin's user name and password), not with a header.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        login, logout, me,
        users_list, users_create, users_update,
        api_tokens_create, api_tokens_list, api_tokens_revoke,
        enrollment_tokens_create, enrollment_tokens_list, enrollment_tokens_revoke,
        enroll, enroll_preview,
        telemetry,
        devices_list, device_detail, device_patch, device_metrics, device_events,
        fleet_summary, export,
        alerts_list, alert_ack, alert_silence,
        openapi_json,
        livez, readyz, metrics, downloads_get, downloads_head,
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Sessions, users and API tokens"),
        (name = "enrollment", description = "Enrollment tokens and device enrollment"),
        (name = "telemetry", description = "Sample upload by devices"),
        (name = "devices", description = "Fleet, devices, metrics, events and exports"),
        (name = "alerts", description = "Alert episodes, acknowledgement and silences"),
        (name = "ops", description = "Health, readiness, Prometheus metrics, agent downloads, this document"),
    ),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description.to_string()))
                    .build(),
            )
        };
        components.add_security_scheme(
            USER_TOKEN,
            bearer(
                "`Authorization: Bearer <token>` with a session token (POST /api/v1/auth/login, \
                 expires) or an API token (POST /api/v1/api-tokens, for scripts). Admin-only \
                 operations answer 403 to a viewer.",
            ),
        );
        components.add_security_scheme(
            DEVICE_TOKEN,
            bearer(
                "`Authorization: Bearer <device token>` as returned once by POST /api/v1/enroll; \
                 valid for telemetry of exactly that device and nothing else.",
            ),
        );
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        ApiDoc::openapi()
            .to_json()
            .expect("the OpenAPI document serializes (it is plain data)")
    });
    &DOC
}

/// `GET /api/v1/openapi.json`.
pub fn serve() -> Response {
    let mut resp = Response::new(document().into());
    *resp.status_mut() = StatusCode::OK;
    resp.headers_mut().insert(
        "content-type",
        warp::http::HeaderValue::from_static("application/json"),
    );
    resp
}

// ---------------------------------------------------------------- examples

/// The time every example uses (past, so samples are accepted, and fixed, so the document is).
const EXAMPLE_TIME: &str = "2026-11-30T12:00:00Z";

fn example_time() -> chrono::DateTime<chrono::Utc> {
    EXAMPLE_TIME
        .parse()
        .expect("EXAMPLE_TIME is a valid RFC 3339 time")
}

fn inventory_example() -> Value {
    json!({
        "hostname": "lab-pc-07",
        "os_name": "Debian GNU/Linux",
        "os_version": "13",
        "kernel_version": "6.12.0",
        "arch": "x86_64",
        "cpu_model": "Intel(R) Core(TM) i5-8500",
        "cpu_cores": 6,
        "memory_total_bytes": 17_179_869_184u64,
        "machine_id": "4c4c4544004e4a10805ab4c04f4d3332",
        "serial_number": "5CG1234XYZ",
        "vendor": "HP",
        "model": "EliteDesk 800 G4",
        "mac_addresses": ["52:54:00:12:34:56"],
        "disks": [{"name": "nvme0n1", "model": "Samsung SSD 970", "size_bytes": 512_110_190_592u64, "kind": "ssd", "removable": false}]
    })
}

fn enroll_example() -> Value {
    json!({
        "enrollment_token": "rte_6f1c0d2e9a8b4c7d",
        "inventory": inventory_example(),
        "device_name": "Lab PC 7",
        "asset_tag": "IT-00042",
        "assignee": "jdoe"
    })
}

fn telemetry_example() -> Value {
    let batch = TelemetryBatch {
        agent_version: "0.1.0".into(),
        samples: vec![rt_core::Sample::example(1, example_time())],
    };
    serde_json::to_value(batch).expect("a telemetry batch serializes")
}

fn summary_example() -> Value {
    json!({
        "id": 7,
        "name": "Lab PC 7",
        "hostname": "lab-pc-07",
        "asset_tag": "IT-00042",
        "assignee": "jdoe",
        "lifecycle_state": "deployed",
        "health": {"level": "warning", "reasons": ["disk / 91% full"]},
        "last_seen": EXAMPLE_TIME,
        "last_contact": EXAMPLE_TIME,
        "metrics": {"cpu_pct": 12.5, "mem_pct": 37.5, "disk_max_pct": 91.0},
        "cpu_recent": [10.0, 12.5, 11.0],
        "os_name": "Debian GNU/Linux",
        "enrolled_at": "2026-11-01T09:00:00Z"
    })
}

fn devices_page_example() -> Value {
    json!({"items": [summary_example()], "total": 1, "offset": 0, "limit": 100})
}

fn device_detail_example() -> Value {
    let mut d = summary_example();
    let extra = json!({
        "inventory": inventory_example(),
        "notes": "second monitor on loan",
        "forecasts": [{"mount_point": "/", "used_pct": 91.0, "days_until_full": 12.5, "full_at": "2026-12-12T00:00:00Z"}],
        "collection_interval_s": 300,
        "allowed_transitions": ["in_repair", "in_stock", "lost", "retired"]
    });
    if let (Some(d), Some(extra)) = (d.as_object_mut(), extra.as_object()) {
        d.extend(extra.clone());
    }
    d
}

fn alert_example() -> Value {
    json!({
        "id": 3,
        "device_id": 7,
        "device_name": "Lab PC 7",
        "key": "disk_usage:/",
        "rule": "disk_usage",
        "subject": "/",
        "severity": "warning",
        "state": "firing",
        "since": EXAMPLE_TIME,
        "summary": "disk / 91% full",
        "value": 91.0,
        "late": false,
        "flapping": false,
        "last_evaluated": EXAMPLE_TIME
    })
}

fn error_example() -> Value {
    json!({"error": {"code": "validation_failed", "message": "must not be empty", "field": "username"}})
}

// ---------------------------------------------------------------- auth and users

/// Sign in: a session token (expires after the server's `session_hours`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content((LoginRequest = "application/json",
        example = json!({"username": "admin", "password": "correct horse battery staple"})))),
    responses(
        (status = 200, description = "Signed in", body = LoginResponse, example = json!({
            "token": "rts_3b8f1e2a", "expires_at": "2026-12-01T12:00:00Z",
            "user": {"id": 1, "username": "admin", "role": "admin", "disabled": false}})),
        (status = 401, description = "Wrong user name or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address; see Retry-After", body = ErrorBody),
        (status = "4XX", description = "Malformed or invalid body", body = ErrorBody, example = error_example),
        (status = "5XX", description = "Server error", body = ErrorBody),
    ))]
fn login() {}

/// Sign out: revokes the session token used (an API token stays valid).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security(("user_token" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn logout() {}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    security(("user_token" = [])),
    responses(
        (status = 200, description = "The caller", body = UserInfo),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn me() {}

/// All accounts (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "auth",
    security(("user_token" = [])),
    responses(
        (status = 200, description = "Every user", body = Vec<UserInfo>),
        (status = "4XX", description = "Not signed in, or not an admin", body = ErrorBody),
    ))]
fn users_list() {}

/// Create an account (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "auth",
    security(("user_token" = [])),
    request_body(content((CreateUserRequest = "application/json",
        example = json!({"username": "jdoe", "password": "a long passphrase 42", "role": "viewer"})))),
    responses(
        (status = 201, description = "Created", body = UserInfo, example = json!({
            "id": 2, "username": "jdoe", "role": "viewer", "disabled": false, "created_at": EXAMPLE_TIME})),
        (status = 409, description = "A user with that name exists", body = ErrorBody),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn users_create() {}

/// Change an account's password, role or disabled flag (admin; not your own role or flag).
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "auth",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body(content((UpdateUserRequest = "application/json",
        example = json!({"role": "admin"})))),
    responses(
        (status = 200, description = "Updated", body = UserInfo),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "Would disable or demote yourself", body = ErrorBody),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn users_update() {}

/// Create an API token for the caller (shown once).
#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "auth",
    security(("user_token" = [])),
    request_body(content((CreateApiTokenRequest = "application/json",
        example = json!({"name": "nightly export", "expires_in_days": 90})))),
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = ApiTokenCreated, example = json!({
            "id": 4, "token": "rta_9d2c7a1b", "name": "nightly export", "expires_at": "2027-02-28T12:00:00Z"})),
        (status = "4XX", description = "Not signed in, or an invalid body", body = ErrorBody),
    ))]
fn api_tokens_create() {}

/// API tokens: the caller's own, or everybody's for an admin.
#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "auth",
    security(("user_token" = [])),
    responses(
        (status = 200, description = "Tokens (never the secrets)", body = Vec<ApiTokenInfo>),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn api_tokens_list() {}

/// Revoke an API token (your own; an admin any).
#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "auth",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "API token id")),
    responses(
        (status = 200, description = "Revoked", body = Value, example = json!({"revoked": true, "id": 4})),
        (status = 404, description = "No such token of yours", body = ErrorBody),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn api_tokens_revoke() {}

// ---------------------------------------------------------------- enrollment

/// Create an enrollment token (admin; shown once). The body may be empty.
#[utoipa::path(post, path = "/api/v1/enrollment-tokens", tag = "enrollment",
    security(("user_token" = [])),
    request_body(content((CreateEnrollmentTokenRequest = "application/json",
        example = json!({"expires_in_hours": 72, "max_uses": 25, "note": "lab 3 rollout"})))),
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = EnrollmentTokenCreated, example = json!({
            "id": 5, "token": "rte_6f1c0d2e9a8b4c7d", "expires_at": "2026-12-03T12:00:00Z", "max_uses": 25, "allow_reenroll": false})),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn enrollment_tokens_create() {}

/// Enrollment tokens (admin; never the secrets).
#[utoipa::path(get, path = "/api/v1/enrollment-tokens", tag = "enrollment",
    security(("user_token" = [])),
    responses(
        (status = 200, description = "Tokens", body = Vec<EnrollmentTokenInfo>),
        (status = "4XX", description = "Not an admin", body = ErrorBody),
    ))]
fn enrollment_tokens_list() {}

/// Revoke an enrollment token (admin).
#[utoipa::path(delete, path = "/api/v1/enrollment-tokens/{id}", tag = "enrollment",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "Enrollment token id")),
    responses(
        (status = 200, description = "Revoked", body = Value, example = json!({"revoked": true, "id": 5})),
        (status = 404, description = "No such token", body = ErrorBody),
        (status = "4XX", description = "Not an admin", body = ErrorBody),
    ))]
fn enrollment_tokens_revoke() {}

/// Enroll a device with an enrollment token or an admin's user name and password in the body.
/// Known hardware (same machine id or real serial) is re-enrolled: new token, old one revoked.
#[utoipa::path(post, path = "/api/v1/enroll", tag = "enrollment",
    request_body(content((EnrollRequest = "application/json", example = enroll_example))),
    responses(
        (status = 201, description = "A new device", body = EnrollResponse, example = json!({
            "device_id": 7, "device_token": "rtd_51e0c9f3", "re_enrolled": false, "collection_interval_s": 300})),
        (status = 200, description = "Known hardware re-enrolled", body = EnrollResponse),
        (status = 401, description = "Invalid enrollment token or credentials", body = ErrorBody),
        (status = 403, description = "These credentials may not re-enroll known hardware", body = ErrorBody),
        (status = "4XX", description = "Invalid body", body = ErrorBody),
    ))]
fn enroll() {}

/// The same checks as enrollment, answered without creating, changing or using up anything.
#[utoipa::path(post, path = "/api/v1/enroll/preview", tag = "enrollment",
    request_body(content((EnrollRequest = "application/json", example = enroll_example))),
    responses(
        (status = 200, description = "Whether enrolling now would succeed", body = EnrollPreview, example = json!({
            "allowed": true})),
        (status = "4XX", description = "Invalid body", body = ErrorBody),
    ))]
fn enroll_preview() {}

// ---------------------------------------------------------------- telemetry

/// Upload a batch of samples (JSON, optionally `Content-Encoding: gzip`). Each sample is stored
/// once per `(device, seq)`; the agent deletes exactly what `ack` covers.
#[utoipa::path(post, path = "/api/v1/telemetry", tag = "telemetry",
    security(("device_token" = [])),
    params(("content-encoding" = Option<String>, Header, description = "`gzip` for a compressed body")),
    request_body(content((TelemetryBatch = "application/json", example = telemetry_example))),
    responses(
        (status = 200, description = "Stored, duplicate, conflicting and rejected samples", body = TelemetryAck, example = json!({
            "accepted": 1, "duplicates": 0, "conflicts": 0, "rejected": [], "ack": [[1, 1]], "max_seq": 1})),
        (status = 413, description = "Body or decompressed body too large, or too many samples", body = ErrorBody),
        (status = 429, description = "Slow down; see Retry-After", body = ErrorBody),
        (status = 503, description = "Nothing stored; retry later (see Retry-After)", body = ErrorBody),
        (status = "4XX", description = "Not a device token, or an invalid body", body = ErrorBody),
    ))]
fn telemetry() {}

// ---------------------------------------------------------------- devices

/// Device summaries with latest metrics and health, filtered, sorted and paged.
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices",
    security(("user_token" = [])),
    params(
        ("q" = Option<String>, Query, description = "Free text (name, hostname, asset tag, assignee, serial)"),
        ("state" = Option<rt_core::LifecycleState>, Query, description = "Lifecycle state"),
        ("health" = Option<Vec<HealthLevel>>, Query, description = "Health levels (repeat or comma-separate)"),
        ("assignee" = Option<String>, Query, description = "Assignee; empty for unassigned"),
        ("sort" = Option<String>, Query, description = "name, hostname, id, last_seen, last_contact, enrolled_at, health, state, assignee, cpu, mem or disk; prefix - for descending"),
        ("limit" = Option<u64>, Query, description = "1..=1000, default 100"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
    ),
    responses(
        (status = 200, description = "One page", body = Page<DeviceSummary>, example = devices_page_example),
        (status = "4XX", description = "Not signed in, or a bad query parameter", body = ErrorBody),
    ))]
fn devices_list() {}

/// One device: summary, inventory, latest sample, disk forecasts, allowed transitions.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "Device id")),
    responses(
        (status = 200, description = "The device", body = DeviceDetail, example = device_detail_example),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn device_detail() {}

/// Change a device (admin). Absent fields are unchanged; `assignee: ""` clears it.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "Device id")),
    request_body(content((DevicePatch = "application/json",
        example = json!({"assignee": "jdoe", "notes": "second monitor on loan"})))),
    responses(
        (status = 200, description = "The updated device", body = DeviceDetail),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = 409, description = "Lifecycle transition not allowed", body = ErrorBody),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn device_patch() {}

/// Metric series of one device, bucketed (average and maximum per bucket).
#[utoipa::path(get, path = "/api/v1/devices/{id}/metrics", tag = "devices",
    security(("user_token" = [])),
    params(
        ("id" = i64, Path, description = "Device id"),
        ("from" = Option<String>, Query, description = "RFC 3339; default `to` - 24 h"),
        ("to" = Option<String>, Query, description = "RFC 3339; default now"),
        ("resolution" = Option<Resolution>, Query, description = "Default: about 100 points for the window"),
    ),
    responses(
        (status = 200, description = "Points", body = MetricsResponse, example = json!({
            "device_id": 7, "from": "2026-11-29T12:00:00Z", "to": EXAMPLE_TIME, "resolution": "1h",
            "points": [{"t": "2026-11-30T11:00:00Z", "samples": 12, "cpu_avg": 11.2, "cpu_max": 40.0, "mem_avg": 37.0, "mem_max": 41.5}],
            "truncated": false})),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = "4XX", description = "Not signed in, or a bad window", body = ErrorBody),
    ))]
fn device_metrics() {}

/// History of one device: lifecycle, assignment, enrollment, alerts (who, when, what).
#[utoipa::path(get, path = "/api/v1/devices/{id}/events", tag = "devices",
    security(("user_token" = [])),
    params(
        ("id" = i64, Path, description = "Device id"),
        ("from" = Option<String>, Query, description = "RFC 3339"),
        ("to" = Option<String>, Query, description = "RFC 3339"),
        ("limit" = Option<u64>, Query, description = "1..=1000, default 100"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
    ),
    responses(
        (status = 200, description = "One page, newest first", body = Page<DeviceEvent>, example = json!({
            "items": [{"id": 11, "device_id": 7, "at": EXAMPLE_TIME, "kind": "assigned", "actor": "admin", "message": "assigned to jdoe"}],
            "total": 1, "offset": 0, "limit": 100})),
        (status = 404, description = "No such device", body = ErrorBody),
        (status = "4XX", description = "Not signed in, or a bad query parameter", body = ErrorBody),
    ))]
fn device_events() {}

/// Counts by health, lifecycle state and online/offline.
#[utoipa::path(get, path = "/api/v1/fleet/summary", tag = "devices",
    security(("user_token" = [])),
    responses(
        (status = 200, description = "The fleet", body = FleetSummary, example = json!({
            "total": 3, "online": 2, "offline": 1,
            "by_health": {"ok": 1, "warning": 1, "offline": 1},
            "by_lifecycle": {"deployed": 3}, "generated_at": EXAMPLE_TIME})),
        (status = "4XX", description = "Not signed in", body = ErrorBody),
    ))]
fn fleet_summary() {}

/// Stream devices, samples or events as CSV, a JSON array or NDJSON (constant memory).
#[utoipa::path(get, path = "/api/v1/export/{what}", tag = "devices",
    security(("user_token" = [])),
    params(
        ("what" = ExportKind, Path, description = "devices, samples or events"),
        ("format" = Option<ExportFormat>, Query, description = "Default csv"),
        ("from" = Option<String>, Query, description = "RFC 3339 (samples, events)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (samples, events)"),
        ("device" = Option<Vec<i64>>, Query, description = "Only these device ids (repeat)"),
    ),
    responses(
        (status = 200, description = "The export, streamed", content(
            (String = "text/csv"), (Vec<Value> = "application/json"), (String = "application/x-ndjson"))),
        (status = 404, description = "Unknown export", body = ErrorBody),
        (status = 429, description = "Too many exports running; retry later", body = ErrorBody),
        (status = "4XX", description = "Not signed in, or a bad query parameter", body = ErrorBody),
    ))]
fn export() {}

// ---------------------------------------------------------------- alerts

/// Alert episodes, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    security(("user_token" = [])),
    params(
        ("state" = Option<Vec<rt_core::alert::api::AlertState>>, Query, description = "pending, firing, resolved (repeat or comma-separate)"),
        ("severity" = Option<Vec<rt_core::alert::Severity>>, Query, description = "info, warning, critical"),
        ("device" = Option<i64>, Query, description = "Device id"),
        ("rule" = Option<String>, Query, description = "Rule name"),
        ("limit" = Option<u64>, Query, description = "1..=1000, default 100"),
        ("offset" = Option<u64>, Query, description = "Default 0"),
    ),
    responses(
        (status = 200, description = "One page", body = Page<AlertInfo>, example = json!({
            "items": [alert_example()], "total": 1, "offset": 0, "limit": 100})),
        (status = "4XX", description = "Not signed in, or a bad query parameter", body = ErrorBody),
    ))]
fn alerts_list() {}

/// Acknowledge an open alert (admin). The body may be empty.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "alerts",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "Alert id")),
    request_body(content((AckRequest = "application/json",
        example = json!({"comment": "replacing the disk on Monday"})))),
    responses(
        (status = 200, description = "The alert", body = AlertInfo, example = alert_example),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 409, description = "The alert is resolved", body = ErrorBody),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn alert_ack() {}

/// Silence an open alert's notifications for `duration_s` seconds (admin; at most 90 days).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/silence", tag = "alerts",
    security(("user_token" = [])),
    params(("id" = i64, Path, description = "Alert id")),
    request_body(content((SilenceRequest = "application/json",
        example = json!({"duration_s": 7200, "comment": "maintenance window"})))),
    responses(
        (status = 200, description = "The alert", body = AlertInfo),
        (status = 404, description = "No such alert", body = ErrorBody),
        (status = 409, description = "The alert is resolved", body = ErrorBody),
        (status = "4XX", description = "Not an admin, or an invalid body", body = ErrorBody),
    ))]
fn alert_silence() {}

// ---------------------------------------------------------------- ops

/// This document (no authentication).
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Value)))]
fn openapi_json() {}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/livez", tag = "ops",
    responses((status = 200, description = "Alive", body = Value, example = json!({"status": "ok"}))))]
fn livez() {}

/// Readiness: the database answers and its disk has room.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = Value, example = json!({"status": "ready"})),
        (status = 503, description = "Not ready (database or disk)", body = ErrorBody),
    ))]
fn readyz() {}

/// Prometheus text exposition; public when `metrics_public`, otherwise for signed-in users.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    security((), ("user_token" = [])),
    responses(
        (status = 200, description = "Metrics", content((String = "text/plain"))),
        (status = "4XX", description = "Not signed in (when metrics are not public)", body = ErrorBody),
    ))]
fn metrics() {}

/// A file of the server's downloads directory (agent binaries for install scripts).
#[utoipa::path(get, path = "/downloads/{name}", tag = "ops",
    params(("name" = String, Path, description = "File name")),
    responses(
        (status = 200, description = "The file", content((Vec<u8> = "application/octet-stream"))),
        (status = 404, description = "No such file", body = ErrorBody),
    ))]
fn downloads_get() {}

/// The headers of [`downloads_get`] without the body.
#[utoipa::path(head, path = "/downloads/{name}", tag = "ops",
    params(("name" = String, Path, description = "File name")),
    responses(
        (status = 200, description = "The file exists"),
        (status = 404, description = "No such file"),
    ))]
fn downloads_head() {}
