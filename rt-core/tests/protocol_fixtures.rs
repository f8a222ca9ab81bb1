//! Golden JSON fixtures of protocol v1 (`tests/fixtures/*.json`) and serde round-trips of every
//! protocol type. Each fixture is deserialised into its type and serialised again, and the result
//! must be the same JSON value: so the fixtures are exactly what the wire carries, and the docs
//! can quote them.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use rt_core::api::*;
use rt_core::forecast::{ForecastRule, Trend};
use rt_core::health::HealthPolicy;
use rt_core::lifecycle::LifecycleState;
use rt_core::sample::{BatteryState, Sample, SmartProtocol};
use rt_core::validate::{Problem, Validate};
use rt_core::{
    ApiTokenId, DeviceId, EnrollmentTokenId, ErrorBody, EventId, Inventory, Role, UserId,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Debug;

fn now() -> DateTime<Utc> {
    "2026-11-27T10:00:00Z".parse().unwrap()
}

/// Deserialise `json` as `T`, serialise it back, and require the same JSON value.
fn golden<T: DeserializeOwned + Serialize + Debug + PartialEq>(name: &str, json: &str) -> T {
    let expected: Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"));
    let typed: T = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("fixture {name} does not parse as its type: {e}"));
    let again = serde_json::to_value(&typed).unwrap();
    assert_eq!(
        again,
        expected,
        "fixture {name} does not re-serialise to itself:\n{}",
        serde_json::to_string_pretty(&again).unwrap()
    );
    // And the typed value survives a second trip unchanged.
    let back: T = serde_json::from_value(again).unwrap();
    assert_eq!(back, typed, "fixture {name}");
    typed
}

macro_rules! fixture {
    ($file:literal) => {
        ($file, include_str!(concat!("fixtures/", $file)))
    };
}

/// Every fixture file must be listed here, so none goes untested.
const TESTED: &[&str] = &[
    "sample_full.json",
    "sample_desktop_minimal.json",
    "sample_smart_counters.json",
    "telemetry_batch.json",
    "telemetry_ack.json",
    "enroll_request.json",
    "enroll_response.json",
    "device_summary.json",
    "device_detail.json",
    "error_body.json",
    "metrics_response.json",
    "login_request.json",
    "login_response.json",
    "device_patch.json",
    "device_event.json",
    "fleet_summary.json",
    "enrollment_token_request.json",
    "enrollment_token_created.json",
];

#[test]
fn every_fixture_file_is_tested() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = TESTED.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn full_sample_has_every_group_and_is_valid() {
    let (n, j) = fixture!("sample_full.json");
    let s: Sample = golden(n, j);
    assert!(s.boot_time.is_some());
    assert!(s.cpu.load_avg.is_some() && s.cpu.frequency_mhz.is_some());
    assert!(s.disks.iter().any(|d| d.smart.is_some()));
    assert!(s.network.is_some() && !s.thermal.is_empty());
    assert_eq!(
        s.battery.as_ref().map(|b| b.state),
        Some(BatteryState::Discharging)
    );
    assert_eq!(s.processes.as_ref().map(|p| p.top_cpu.len()), Some(5));
    assert!(s.agent.is_some());
    assert_eq!(s.validate(now()), vec![]);
    let m = s.metrics();
    // The removable USB stick is ignored; / is 80 % used.
    assert!((m.disk_max_pct.unwrap() - 80.0).abs() < 0.01);
    assert_eq!(m.temp_max_c, Some(62.0));
    assert_eq!(m.battery_health_pct, Some(87.5));
}

#[test]
fn smart_counters_sample_carries_ata_and_scsi_fields() {
    let (n, j) = fixture!("sample_smart_counters.json");
    let s: Sample = golden(n, j);
    let ata = s.disks[0].smart.as_ref().unwrap();
    assert_eq!(ata.protocol, Some(SmartProtocol::Ata));
    assert_eq!(
        (
            ata.reallocated_sectors,
            ata.reported_uncorrect,
            ata.command_timeouts,
            ata.pending_sectors,
            ata.offline_uncorrectable
        ),
        (Some(8), Some(3), Some(4_295_032_833), Some(16), Some(16))
    );
    let sas = s.disks[1].smart.as_ref().unwrap();
    assert_eq!(sas.protocol, Some(SmartProtocol::Scsi));
    assert_eq!(sas.temperature_critical_c, Some(68.0));
    assert_eq!(s.validate(now()), vec![]);
}

#[test]
fn minimal_desktop_sample_omits_optional_groups() {
    let (n, j) = fixture!("sample_desktop_minimal.json");
    let s: Sample = golden(n, j);
    assert!(s.battery.is_none() && s.network.is_none() && s.processes.is_none());
    assert!(s.agent.is_none() && s.boot_time.is_none() && s.cpu.load_avg.is_none());
    assert_eq!(s.validate(now()), vec![]);
    let v: Value = serde_json::from_str(j).unwrap();
    assert!(v.get("battery").is_none(), "absent groups are omitted");
}

#[test]
fn telemetry_batch_and_ack() {
    let (n, j) = fixture!("telemetry_batch.json");
    let b: TelemetryBatch = golden(n, j);
    assert_eq!(b.samples.len(), 2);
    assert_eq!(b.validate(now()), vec![]);
    let (n, j) = fixture!("telemetry_ack.json");
    let a: TelemetryAck = golden(n, j);
    assert!(a.acks(43) && !a.acks(44) && a.acks(45));
}

#[test]
fn enrollment_fixtures() {
    let (n, j) = fixture!("enroll_request.json");
    let r: EnrollRequest = golden(n, j);
    assert_eq!(r.validate(now()), vec![]);
    assert_eq!(r.inventory.identifying_serial(), Some("PF2XK9LM"));
    let (n, j) = fixture!("enroll_response.json");
    let resp: EnrollResponse = golden(n, j);
    assert_eq!(resp.device_id, DeviceId(17));
    assert!(!format!("{resp:?}").contains("rtdt_"));
    let (n, j) = fixture!("enrollment_token_request.json");
    let t: CreateEnrollmentTokenRequest = golden(n, j);
    assert_eq!(t.validate(now()), vec![]);
    let (n, j) = fixture!("enrollment_token_created.json");
    let _: EnrollmentTokenCreated = golden(n, j);
}

#[test]
fn device_fixtures() {
    let (n, j) = fixture!("device_summary.json");
    let s: DeviceSummary = golden(n, j);
    assert_eq!(s.health.level, HealthLevel::Warning);
    let (n, j) = fixture!("device_detail.json");
    let d: DeviceDetail = golden(n, j);
    assert_eq!(d.summary.id, DeviceId(17));
    assert_eq!(
        d.allowed_transitions,
        LifecycleState::Deployed.allowed_next()
    );
    assert_eq!(d.forecasts[1].days_until_full, None);
    let (n, j) = fixture!("device_patch.json");
    let p: DevicePatch = golden(n, j);
    assert_eq!(p.validate(now()), vec![]);
    let (n, j) = fixture!("device_event.json");
    let e: DeviceEvent = golden(n, j);
    assert_eq!(e.kind, EventKind::LifecycleChanged);
    let (n, j) = fixture!("metrics_response.json");
    let m: MetricsResponse = golden(n, j);
    assert_eq!(m.resolution, Resolution::Hour);
    let (n, j) = fixture!("fleet_summary.json");
    let f: FleetSummary = golden(n, j);
    assert_eq!(f.by_health.values().sum::<u64>(), f.total);
}

#[test]
fn auth_and_error_fixtures() {
    let (n, j) = fixture!("login_request.json");
    let l: LoginRequest = golden(n, j);
    assert!(!format!("{l:?}").contains("horse"));
    let (n, j) = fixture!("login_response.json");
    let r: LoginResponse = golden(n, j);
    assert_eq!(r.user.role, Role::Admin);
    let (n, j) = fixture!("error_body.json");
    let e: ErrorBody = golden(n, j);
    assert_eq!(e.error.code, rt_core::error::codes::VALIDATION);
}

#[test]
fn device_patch_refuses_unknown_fields() {
    let r = serde_json::from_str::<DevicePatch>(r#"{"nmae":"typo"}"#);
    assert!(r.is_err());
}

// ---------------------------------------------------------------- round-trips

fn round_trip<T: DeserializeOwned + Serialize + Debug + PartialEq>(v: &T) {
    let s = serde_json::to_string(v).unwrap();
    let back: T = serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(&back, v, "{s}");
}

#[test]
fn enums_round_trip_as_snake_case_strings() {
    for r in Role::ALL {
        round_trip(&r);
        assert_eq!(serde_json::to_value(r).unwrap(), Value::from(r.as_str()));
    }
    for s in LifecycleState::ALL {
        round_trip(&s);
        assert_eq!(serde_json::to_value(s).unwrap(), Value::from(s.as_str()));
    }
    for h in HealthLevel::ALL {
        round_trip(&h);
        assert_eq!(serde_json::to_value(h).unwrap(), Value::from(h.as_str()));
        assert_eq!(h.as_str().parse::<HealthLevel>(), Ok(h));
    }
    for r in [
        Resolution::Raw,
        Resolution::FiveMinutes,
        Resolution::Hour,
        Resolution::Day,
    ] {
        round_trip(&r);
        assert_eq!(serde_json::to_value(r).unwrap(), Value::from(r.as_str()));
    }
    for f in [ExportFormat::Csv, ExportFormat::Json, ExportFormat::Ndjson] {
        round_trip(&f);
        assert_eq!(f.as_str().parse::<ExportFormat>(), Ok(f));
    }
    for k in [ExportKind::Devices, ExportKind::Samples, ExportKind::Events] {
        round_trip(&k);
        assert_eq!(k.as_str().parse::<ExportKind>(), Ok(k));
    }
    for b in [
        BatteryState::Charging,
        BatteryState::Discharging,
        BatteryState::Full,
        BatteryState::NotCharging,
        BatteryState::Unknown,
    ] {
        round_trip(&b);
    }
    use EventKind::*;
    for k in [
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
        AlertFiring,
        AlertResolved,
        AlertSeverityChanged,
        AlertFlappingStarted,
        AlertFlappingStopped,
        AlertAcknowledged,
        AlertSilenced,
    ] {
        round_trip(&k);
        assert_eq!(serde_json::to_value(k).unwrap(), Value::from(k.as_str()));
    }
}

#[test]
fn structs_without_fixtures_round_trip() {
    let t = now();
    let user = UserInfo {
        id: UserId(3),
        username: "viewer1".into(),
        role: Role::Viewer,
        disabled: true,
        created_at: Some(t),
    };
    round_trip(&user);
    round_trip(&CreateUserRequest {
        username: "bob".into(),
        password: "longenough".into(),
        role: Role::Viewer,
    });
    round_trip(&UpdateUserRequest {
        password: None,
        role: Some(Role::Admin),
        disabled: Some(false),
    });
    round_trip(&UpdateUserRequest::default());
    round_trip(&CreateApiTokenRequest {
        name: "nightly export".into(),
        expires_in_days: Some(90),
    });
    round_trip(&ApiTokenCreated {
        id: ApiTokenId(9),
        token: "rtat_x".into(),
        name: "ci".into(),
        expires_at: None,
    });
    round_trip(&ApiTokenInfo {
        id: ApiTokenId(9),
        name: "ci".into(),
        user_id: UserId(1),
        created_at: t,
        expires_at: Some(t),
        last_used_at: None,
        revoked: false,
    });
    round_trip(&EnrollmentTokenInfo {
        id: EnrollmentTokenId(5),
        created_at: t,
        expires_at: t,
        max_uses: None,
        uses: 3,
        note: Some("rollout".into()),
        revoked: false,
        created_by: UserId(1),
        allow_reenroll: true,
    });
    round_trip(&RejectedSample {
        seq: 4,
        reason: "bad".into(),
    });
    round_trip(&Inventory {
        hostname: "h".into(),
        ..Default::default()
    });
    round_trip(&Sample::example(7, t));
    round_trip(&DeviceEvent {
        id: EventId(1),
        device_id: DeviceId(2),
        at: t,
        kind: EventKind::Enrolled,
        actor: "agent".into(),
        message: "enrolled".into(),
        data: None,
    });
    let summary: DeviceSummary =
        serde_json::from_str(include_str!("fixtures/device_summary.json")).unwrap();
    round_trip(&Page {
        items: vec![summary],
        total: 1,
        offset: 0,
        limit: 50,
    });
    round_trip(&HealthPolicy::default());
    round_trip(&ForecastRule::default());
    round_trip(&Trend {
        slope_per_day: 0.5,
        intercept: -3.0,
        r2: 0.9,
        n: 12,
    });
    let p = serde_json::to_value(Problem::new("samples[0].seq", "must be at least 1")).unwrap();
    assert_eq!(
        p,
        serde_json::json!({"field": "samples[0].seq", "message": "must be at least 1"})
    );
}

#[test]
fn health_policy_reads_partial_config() {
    let p: HealthPolicy = serde_json::from_str(r#"{"disk_warn_pct": 80.0}"#).unwrap();
    assert_eq!(p.disk_warn_pct, 80.0);
    assert_eq!(p.disk_crit_pct, HealthPolicy::default().disk_crit_pct);
    assert!(serde_json::from_str::<HealthPolicy>(r#"{"disk_warn": 80}"#).is_err());
}
