//! The background jobs against a real server (127.0.0.1, real SQLite file): alert evaluation
//! raises and clears an alert once each, retention removes expired raw samples but keeps each
//! device's latest one, and expired sessions are purged. The jobs run once when the server
//! starts (and then every minute / hour), so each round restarts the server on the same data
//! directory; a sentinel device whose health flips every round proves the alert pass ran.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use reqwest::StatusCode;
use rt_core::api::EnrollResponse;
use rt_core::sample::{DiskStats, Sample};
use rt_server::auth::{TokenKind, hash_token, new_token};
use rt_server::config::Config;
use rt_server::server::open_store;
use rt_server::store::{StoreError, users};
use rt_server::testing::{ADMIN_USER, TestServer};
use serde_json::json;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(config: &Config, sql: String) -> i64 {
    let store = open_store(config).unwrap();
    store
        .run_sync(move |c| -> Result<i64, StoreError> {
            Ok(diesel::sql_query(sql).load::<Count>(c)?[0].n)
        })
        .unwrap()
}

fn samples_of(config: &Config, device: i64) -> i64 {
    count(
        config,
        format!("SELECT count(*) AS n FROM samples WHERE device_id = {device}"),
    )
}

fn events_of(config: &Config, device: i64, kind: &str) -> i64 {
    count(
        config,
        format!("SELECT count(*) AS n FROM events WHERE device_id = {device} AND kind = '{kind}'"),
    )
}

async fn enroll(s: &TestServer, host: &str) -> EnrollResponse {
    let token = s.enrollment_token().await.unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": {"hostname": host, "machine_id": format!("mid-{host}")}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

/// A sample at `at`; `disk_pct` of 99 makes it critical, 10 healthy.
fn sample(seq: u64, at: DateTime<Utc>, disk_pct: u64) -> Sample {
    let mut s = Sample::example(seq, at);
    s.disks = vec![DiskStats {
        mount_point: "/".into(),
        total_bytes: 1000,
        available_bytes: 1000 - disk_pct * 10,
        ..Default::default()
    }];
    s
}

async fn post(s: &TestServer, device: &EnrollResponse, batch: &[Sample]) {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&device.device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": batch}))
        .send()
        .await
        .unwrap();
    let st = r.status();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["accepted"], batch.len(), "{v}");
}

/// Polls `f` until it holds (the jobs run right after the server starts), at most 30 s.
async fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !f() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within 30 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn restart(s: TestServer, config: &Config) -> TestServer {
    s.stop().await;
    TestServer::start_with(config.clone()).await.unwrap()
}

#[tokio::test]
async fn alerts_raise_and_clear_once_retention_keeps_latest_samples_and_sessions_are_purged() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(tmp.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.retention.raw_days = 30;
    let mut s = TestServer::start_with(config.clone()).await.unwrap();
    let now = Utc::now();

    // Retention: `old` reported only long ago (its latest sample is 40 days old); `mixed`
    // has an expired sample and a recent one.
    let old = enroll(&s, "jobs-old").await;
    let mixed = enroll(&s, "jobs-mixed").await;
    post(
        &s,
        &old,
        &[
            sample(1, now - Duration::days(100), 10),
            sample(2, now - Duration::days(60), 10),
            sample(3, now - Duration::days(40), 10),
        ],
    )
    .await;
    post(
        &s,
        &mixed,
        &[
            sample(1, now - Duration::days(50), 10),
            sample(2, now - Duration::hours(1), 10),
        ],
    )
    .await;
    // Alerts: `disk` is critical now; `sentinel` (enrolled last, so evaluated last) flips
    // between critical and healthy every round, so its events show that a pass has run.
    let disk = enroll(&s, "jobs-disk").await;
    let sentinel = enroll(&s, "jobs-sentinel").await;
    post(&s, &disk, &[sample(1, now - Duration::seconds(30), 99)]).await;

    // Sessions: one expired two days ago (purged), one expired a minute ago (kept a day, so
    // a late request still gets "expired" rather than "unknown"), one valid.
    {
        let store = open_store(&config).unwrap();
        let admin = store
            .run_sync(|c| users::find_by_name(c, ADMIN_USER))
            .unwrap()
            .unwrap();
        for (name, expires) in [
            ("long-expired", now - Duration::days(2)),
            ("just-expired", now - Duration::minutes(1)),
            ("valid", now + Duration::hours(1)),
        ] {
            let hash = hash_token(&new_token(TokenKind::Session));
            store
                .run_sync(|c| {
                    users::insert_token(
                        c,
                        admin.id,
                        users::UserTokenKind::Session,
                        name,
                        &hash,
                        now - Duration::days(3),
                        Some(expires),
                    )
                })
                .unwrap();
        }
    }
    let sessions = |name: &str| {
        count(
            &config,
            format!(
                "SELECT count(*) AS n FROM user_tokens WHERE kind = 'session' AND name = '{name}'"
            ),
        )
    };

    let dev = |d: &EnrollResponse| d.device_id.0;
    let mut seq = 0;
    for round in 1..=4i64 {
        seq += 1;
        let pct = if round % 2 == 1 { 99 } else { 10 };
        post(
            &s,
            &sentinel,
            &[sample(seq, Utc::now() - Duration::seconds(10), pct)],
        )
        .await;
        if round == 3 {
            // The disk device recovers.
            post(
                &s,
                &disk,
                &[sample(2, Utc::now() - Duration::seconds(5), 10)],
            )
            .await;
        }
        s = restart(s, &config).await;
        let (raised, cleared) = ((round + 1) / 2, round / 2);
        until(
            &format!("round {round}: the sentinel's alert events"),
            || {
                events_of(&config, dev(&sentinel), "alert_raised") == raised
                    && events_of(&config, dev(&sentinel), "alert_cleared") == cleared
            },
        )
        .await;
        let (raised, cleared) = if round < 3 { (1, 0) } else { (1, 1) };
        assert_eq!(
            (
                events_of(&config, dev(&disk), "alert_raised"),
                events_of(&config, dev(&disk), "alert_cleared")
            ),
            (raised, cleared),
            "round {round}: the disk device's alert is raised once and cleared once"
        );
    }

    // Retention ran at each start: wait until the mixed device's expired sample is gone
    // (devices are processed in id order, so the old device is done by then).
    until("retention", || samples_of(&config, dev(&mixed)) == 1).await;
    assert_eq!(
        samples_of(&config, dev(&old)),
        1,
        "a device's latest sample is kept, however old"
    );
    assert_eq!(
        count(
            &config,
            format!(
                "SELECT count(*) AS n FROM samples WHERE device_id = {} AND seq = 3",
                dev(&old)
            )
        ),
        1,
        "the kept sample is the latest"
    );
    assert_eq!(
        count(
            &config,
            format!(
                "SELECT count(*) AS n FROM samples WHERE device_id = {} AND seq = 2",
                dev(&mixed)
            )
        ),
        1,
        "the recent sample is kept"
    );
    assert_eq!(sessions("long-expired"), 0, "expired sessions are purged");
    assert_eq!(sessions("just-expired"), 1);
    assert_eq!(sessions("valid"), 1);
    s.stop().await;
}
