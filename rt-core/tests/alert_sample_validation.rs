//! Validation of the SMART fields the alert rules read: the same `Validate` the server and the
//! agent run, naming each bad field by its path.

#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Utc};
use rt_core::Sample;
use rt_core::sample::{SmartProtocol, SmartStats};
use rt_core::validate::Validate;

fn now() -> DateTime<Utc> {
    "2026-11-27T12:00:00Z".parse().unwrap()
}

fn with(sm: SmartStats) -> Vec<String> {
    let mut s = Sample::example(1, now());
    s.disks[0].smart = Some(sm);
    s.validate(now()).into_iter().map(|p| p.field).collect()
}

#[test]
fn plausible_nvme_and_ata_fields_pass() {
    let nvme = SmartStats {
        passed: false,
        protocol: Some(SmartProtocol::Nvme),
        critical_warning: Some(0xff),
        available_spare_pct: Some(0.0),
        available_spare_threshold_pct: Some(100.0),
        temperature_critical_c: Some(85.0),
        ..Default::default()
    };
    assert_eq!(with(nvme), Vec::<String>::new());
    let ata = SmartStats {
        passed: true,
        protocol: Some(SmartProtocol::Ata),
        reported_uncorrect: Some(u64::MAX),
        command_timeouts: Some(4_295_032_833),
        pending_sectors: Some(0),
        offline_uncorrectable: Some(1),
        ..Default::default()
    };
    assert_eq!(with(ata), Vec::<String>::new());
}

#[test]
fn out_of_range_spare_and_limits_are_named() {
    let bad = SmartStats {
        passed: true,
        available_spare_pct: Some(101.0),
        available_spare_threshold_pct: Some(f64::NAN),
        temperature_critical_c: Some(400.0),
        ..Default::default()
    };
    assert_eq!(
        with(bad),
        vec![
            "disks[0].smart.available_spare_pct",
            "disks[0].smart.available_spare_threshold_pct",
            "disks[0].smart.temperature_critical_c",
        ]
    );
}

#[test]
fn an_unknown_protocol_from_a_newer_agent_still_parses() {
    let sm: SmartStats = serde_json::from_str(r#"{"passed": true, "protocol": "sas4"}"#).unwrap();
    assert_eq!(sm.protocol, Some(SmartProtocol::Other));
    // And a sample from an agent before these fields has none of them.
    let old: SmartStats =
        serde_json::from_str(r#"{"passed": true, "reallocated_sectors": 3}"#).unwrap();
    assert_eq!((old.protocol, old.pending_sectors), (None, None));
}
