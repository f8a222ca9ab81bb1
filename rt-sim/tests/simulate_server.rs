//! The simulator against a real in-process rt-server (SQLite in a temp dir, loopback listener):
//! what it reports is what the server stored, lifecycle changes land, and a second run with the
//! same seed re-enrolls the same devices and sends only duplicates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use rt_server::testing::TestServer;
use rt_sim::{self as simulate, SimOptions, Summary};
use serde_json::Value;

async fn get(server: &TestServer, path: &str) -> Value {
    let resp = reqwest::Client::new()
        .get(format!("{}{path}", server.url))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
    resp.json().await.unwrap()
}

fn options(server: &TestServer, token: &str, end: chrono::DateTime<Utc>) -> SimOptions {
    SimOptions {
        devices: 9,
        history: Duration::hours(12),
        interval: Duration::minutes(30),
        seed: 11,
        server: server.url.clone(),
        ca_file: None,
        enroll_token: token.to_string(),
        admin_token: Some(server.admin_token.clone()),
        concurrency: 4,
        batch: 7,
        rate: 0.0,
        end,
        progress: false,
        summary_json: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_fleet_is_stored_as_reported_and_a_rerun_only_duplicates() {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token_with(true).await.unwrap();
    let end = Utc::now();

    let first: Summary = simulate::run(options(&server, &token, end), false)
        .await
        .unwrap();
    assert!(first.ok(), "{first:#?}");
    assert_eq!(first.enrolled, 9);
    assert_eq!(first.re_enrolled, 0);
    assert_eq!(first.lifecycle_changes, 2);
    assert_eq!(first.accepted, first.samples_sent);
    assert!(
        first.batches > 9,
        "small batches split each history: {}",
        first.batches
    );
    let stored: u64 = first.per_device.iter().map(|d| d.stored).sum();
    assert_eq!(stored, first.accepted);

    let devices = get(&server, "/api/v1/devices?limit=100").await;
    assert_eq!(devices["total"], 9, "{devices:#}");
    let items = devices["items"].as_array().unwrap();
    let named_reception = items
        .iter()
        .filter(|d| d["hostname"] == "RECEPTION-PC")
        .count();
    assert_eq!(
        named_reception, 2,
        "two machines, one hostname, two devices"
    );
    let fleet = get(&server, "/api/v1/fleet/summary").await;
    assert_eq!(fleet["by_lifecycle"]["retired"], 1, "{fleet:#}");
    assert_eq!(fleet["by_lifecycle"]["in_stock"], 1, "{fleet:#}");
    // The silent device (index 4) uploaded its history just now, so the server has seen it, but
    // its newest sample is from half-way through the history: it goes offline with the others
    // unless it reports again (live mode keeps the rest reporting).
    let silent = first.per_device[4].device_id.unwrap();
    let detail = get(&server, &format!("/api/v1/devices/{silent}")).await;
    let latest: chrono::DateTime<Utc> =
        serde_json::from_value(detail["latest"]["collected_at"].clone()).unwrap();
    assert!(latest <= end - Duration::hours(6), "silent since {latest}");

    // The filling disk (index 0) and the failing SMART drive (index 1) show in health.
    let health_of = |index: u32| -> Value {
        let id = first.per_device[index as usize].device_id.unwrap();
        items.iter().find(|d| d["id"] == id).unwrap()["health"].clone()
    };
    assert_eq!(health_of(1)["level"], "critical", "{}", health_of(1));
    assert!(
        health_of(0)["reasons"].to_string().contains("disk"),
        "{}",
        health_of(0)
    );

    // Same seed, same end: the same devices re-enroll, every sample is a duplicate. The
    // retired device may not re-enroll (retired is final), so it counts as failed.
    let second = simulate::run(options(&server, &token, end), false)
        .await
        .unwrap();
    assert_eq!(second.accepted, 0, "{second:#?}");
    assert_eq!(second.conflicts, 0, "deterministic for a seed: {second:#?}");
    assert_eq!(second.duplicates, second.samples_sent);
    let devices = get(&server, "/api/v1/devices?limit=100").await;
    assert_eq!(devices["total"], 9, "no new devices on a re-run");

    server.stop().await;
}
