//! The SMART fields the alert rules read (`rt-core` `alert`) survive the server: a sample with
//! every one of them, for an ATA, an NVMe and a SAS drive, is stored and comes back unchanged as
//! the device's latest sample. Guards the storage encoding against dropping optional fields.

#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use rt_core::api::{DeviceDetail, EnrollResponse};
use rt_core::sample::{DiskStats, SmartProtocol, SmartStats};
use rt_core::{Inventory, Sample};
use rt_server::testing::TestServer;
use serde_json::json;

fn disk(mount: &str, smart: SmartStats) -> DiskStats {
    DiskStats {
        mount_point: mount.into(),
        file_system: "ext4".into(),
        kind: "hdd".into(),
        total_bytes: 4_000_787_030_016,
        available_bytes: 1_200_236_109_004,
        removable: false,
        smart: Some(smart),
    }
}

#[tokio::test]
async fn every_smart_field_round_trips_through_the_store() {
    let s = TestServer::start().await.unwrap();
    let http = reqwest::Client::new();
    let inv = Inventory {
        hostname: "nas-1".into(),
        os_name: "Debian GNU/Linux".into(),
        cpu_cores: 4,
        machine_id: Some("alert-fields-1".into()),
        ..Default::default()
    };
    let token = s.enrollment_token().await.unwrap();
    let enrolled: EnrollResponse = http
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": inv}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let mut sample = Sample::example(1, Utc::now() - Duration::minutes(1));
    sample.disks = vec![
        disk(
            "/srv/archive",
            SmartStats {
                passed: true,
                temperature_c: Some(39.0),
                power_on_hours: Some(31_877),
                reallocated_sectors: Some(8),
                media_errors: Some(3),
                protocol: Some(SmartProtocol::Ata),
                reported_uncorrect: Some(3),
                command_timeouts: Some(4_295_032_833),
                pending_sectors: Some(16),
                offline_uncorrectable: Some(17),
                temperature_critical_c: Some(60.0),
                ..Default::default()
            },
        ),
        disk(
            "/",
            SmartStats {
                passed: false,
                temperature_c: Some(35.0),
                power_on_hours: Some(12_798),
                media_errors: Some(7),
                percentage_used: Some(92.0),
                protocol: Some(SmartProtocol::Nvme),
                critical_warning: Some(5),
                available_spare_pct: Some(8.0),
                available_spare_threshold_pct: Some(10.0),
                temperature_critical_c: Some(85.0),
                ..Default::default()
            },
        ),
        disk(
            "/srv/db",
            SmartStats {
                passed: true,
                temperature_c: Some(34.0),
                power_on_hours: Some(43_549),
                reallocated_sectors: Some(56),
                media_errors: Some(2),
                protocol: Some(SmartProtocol::Scsi),
                temperature_critical_c: Some(68.0),
                ..Default::default()
            },
        ),
    ];
    let r = http
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&enrolled.device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": [sample]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let detail: DeviceDetail = http
        .get(format!("{}/api/v1/devices/{}", s.url, enrolled.device_id))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let latest = detail.latest.expect("the stored sample");
    let smart = |d: &[DiskStats]| -> Vec<(String, Option<SmartStats>)> {
        d.iter()
            .map(|d| (d.mount_point.clone(), d.smart.clone()))
            .collect()
    };
    assert_eq!(smart(&latest.disks), smart(&sample.disks));
    s.stop().await;
}
