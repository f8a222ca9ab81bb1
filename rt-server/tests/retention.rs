//! Retention per tier and the database size cap, on a real SQLite file filled through the
//! store's own ingest write (so the rollup tiers are what the writer keeps): a run removes
//! exactly the rows whose time is past each tier's retention and never a device's latest
//! sample; the cap shortens the tiers raw first, records the cut (`retention_cut`, shown by
//! `/fleet/summary` and `/metrics`) and lifts it once the database is well under the cap.
#![allow(clippy::unwrap_used)]

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use rt_core::Inventory;
use rt_core::health::HealthPolicy;
use rt_server::config::{Config, Retention};
use rt_server::server::open_store;
use rt_server::store::devices::{self, EnrollInput, EnrollOutcome};
use rt_server::store::retention::{self, Policy, Tier};
use rt_server::store::samples::{self, PreparedSample, Strings};
use rt_server::store::{Store, StoreError, rollups, to_ms};
use rt_server::testing::TestServer;
use std::collections::BTreeSet;

fn enroll(store: &Store, host: &str) -> i64 {
    let input = EnrollInput {
        inventory: Inventory {
            hostname: host.into(),
            machine_id: Some(format!("mid-{host}")),
            ..Default::default()
        },
        device_name: None,
        asset_tag: None,
        assignee: None,
        actor: "test".into(),
        may_reenroll: false,
    };
    let hash = format!("hash-{host}");
    match store
        .run_sync(|c| devices::enroll(c, &input, &hash, Utc::now()))
        .unwrap()
    {
        EnrollOutcome::Enrolled { device_id, .. } => device_id,
        other => panic!("{other:?}"),
    }
}

/// Store samples collected at `times` (seq 1, 2, ... in time order) through the ingest write.
fn ingest(store: &Store, device: i64, times: &[DateTime<Utc>]) {
    let prepared: Vec<PreparedSample> = times
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut s = rt_core::Sample::example(i as u64 + 1, *t);
            s.cpu.usage_pct = (i % 100) as f64;
            PreparedSample::from_sample(&s).unwrap()
        })
        .collect();
    let mut strings = Strings::default();
    for chunk in prepared.chunks(500) {
        store
            .run_sync(|c| {
                c.immediate_transaction(|c| {
                    samples::ingest(
                        c,
                        &mut strings,
                        device,
                        chunk,
                        &HealthPolicy::default(),
                        Utc::now(),
                    )
                })
            })
            .unwrap();
    }
}

#[derive(QueryableByName, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    #[diesel(sql_type = BigInt)]
    device_id: i64,
    #[diesel(sql_type = BigInt)]
    k: i64,
    #[diesel(sql_type = BigInt)]
    t: i64,
}

/// (device, seq, collected_at) of every raw sample, or (device, t, t) of every bucket of a tier.
fn rows(store: &Store, tier: Tier) -> BTreeSet<Key> {
    let sql = match tier {
        Tier::Raw => "SELECT device_id, seq AS k, collected_at AS t FROM samples".to_string(),
        other => {
            let table = format!("rollup_{}", other.as_str());
            format!("SELECT device_id, t AS k, t FROM {table}")
        }
    };
    store
        .run_sync(|c| -> Result<Vec<Key>, StoreError> { Ok(diesel::sql_query(sql).load(c)?) })
        .unwrap()
        .into_iter()
        .collect()
}

fn latest_seq(store: &Store, device: i64) -> Option<i64> {
    store
        .run_sync(|c| devices::find(c, device))
        .unwrap()
        .unwrap()
        .latest_seq
}

fn width(tier: Tier) -> i64 {
    match tier {
        Tier::Raw => 0,
        Tier::Rollup5m => rollups::TIERS[0].1,
        Tier::Rollup1h => rollups::TIERS[1].1,
        Tier::Rollup1d => rollups::TIERS[2].1,
    }
}

/// What a tier must keep at `now` when it keeps `days` (None: forever).
fn expected(
    store: &Store,
    before: &BTreeSet<Key>,
    tier: Tier,
    days: Option<u32>,
    now: DateTime<Utc>,
) -> BTreeSet<Key> {
    let Some(days) = days else {
        return before.clone();
    };
    let cutoff = to_ms(now - Duration::days(i64::from(days)));
    before
        .iter()
        .filter(|r| match tier {
            Tier::Raw => r.t >= cutoff || latest_seq(store, r.device_id) == Some(r.k),
            _ => r.t + width(tier) > cutoff,
        })
        .copied()
        .collect()
}

#[tokio::test]
async fn retention_removes_exactly_what_each_tier_expired_and_keeps_every_latest_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let config = Config::with_data_dir(tmp.path());
    let store = open_store(&config).unwrap();
    let now = Utc::now();
    // `long` reported every 3 hours for 800 days (more expired raw rows than one batch holds);
    // `gone` stopped 400 days ago (its latest sample is expired in every finite tier); `new`
    // never reported.
    let long = enroll(&store, "long");
    let gone = enroll(&store, "gone");
    let _new = enroll(&store, "new");
    let times: Vec<_> = (0..800 * 8)
        .rev()
        .map(|i| now - Duration::hours(3 * i) - Duration::minutes(1))
        .collect();
    ingest(&store, long, &times);
    let old: Vec<_> = (0..50)
        .rev()
        .map(|i| now - Duration::days(400) - Duration::hours(i))
        .collect();
    ingest(&store, gone, &old);
    let latest_before: Vec<_> = [long, gone]
        .iter()
        .map(|d| store.run_sync(|c| devices::find(c, *d)).unwrap().unwrap())
        .collect();

    let policy = Policy::from_config(&Retention::default());
    let before: Vec<_> = Tier::ALL.iter().map(|t| (*t, rows(&store, *t))).collect();
    let report = retention::run(&store, &policy, now).await.unwrap();
    for (tier, before) in &before {
        let want = expected(&store, before, *tier, policy.configured(*tier), now);
        let got = rows(&store, *tier);
        assert_eq!(
            got.len(),
            want.len(),
            "tier {}: kept rows (before: {})",
            tier.as_str(),
            before.len()
        );
        assert_eq!(got, want, "tier {}", tier.as_str());
        assert_eq!(
            report.deleted.get(tier).copied().unwrap_or(0),
            (before.len() - want.len()) as u64,
            "tier {}: reported deletions",
            tier.as_str()
        );
    }
    assert!(
        report.deleted[&Tier::Raw] > retention::BATCH_ROWS as u64,
        "the raw tier needed several batches: {report:?}"
    );
    assert_eq!(
        rows(&store, Tier::Rollup1d),
        before[3].1,
        "daily rollups are kept"
    );
    // The devices' latest state is untouched and its sample is still stored in full.
    for d in &latest_before {
        let after = store.run_sync(|c| devices::find(c, d.id)).unwrap().unwrap();
        assert_eq!(after.latest_seq, d.latest_seq);
        assert_eq!(after.latest_json, d.latest_json);
        let seq = d.latest_seq.unwrap();
        let s = store.run_sync(|c| samples::get(c, d.id, seq)).unwrap();
        assert_eq!(
            s.unwrap().seq as i64,
            seq,
            "device {}'s latest sample",
            d.name
        );
    }
    assert_eq!(
        rows(&store, Tier::Raw)
            .iter()
            .filter(|r| r.device_id == gone)
            .count(),
        1,
        "a silent device keeps exactly its latest sample"
    );
    assert!(report.cuts.is_empty() && !report.cut_deeper);

    // A second run finds nothing more to delete.
    let again = retention::run(&store, &policy, now).await.unwrap();
    assert_eq!(again.deleted.values().sum::<u64>(), 0, "{again:?}");
}

#[tokio::test]
async fn the_size_cap_cuts_raw_first_says_so_and_lifts_the_cut_when_there_is_room() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(tmp.path());
    config.listen = "127.0.0.1:0".parse().unwrap();
    let store = open_store(&config).unwrap();
    let now = Utc::now();
    // Three devices, 13 days every 10 minutes: all within every tier's retention.
    let devs: Vec<i64> = (0..3)
        .map(|i| enroll(&store, &format!("cap-{i}")))
        .collect();
    let times: Vec<_> = (0..13 * 144)
        .rev()
        .map(|i| now - Duration::minutes(10 * i) - Duration::minutes(1))
        .collect();
    for d in &devs {
        ingest(&store, *d, &times);
    }
    let used = store.run_sync(retention::used_bytes).unwrap();
    let uncapped = Policy::from_config(&Retention::default());
    let report = retention::run(&store, &uncapped, now).await.unwrap();
    assert_eq!(
        report.deleted.values().sum::<u64>(),
        0,
        "nothing is expired"
    );

    let cap = used * 3 / 4;
    let capped = Policy {
        max_bytes: Some(cap),
        ..uncapped
    };
    let report = retention::run(&store, &capped, now).await.unwrap();
    assert!(report.cut_deeper, "{report:?}");
    assert!(!report.cap_unmet, "{report:?}");
    assert!(report.used_bytes <= cap, "{} > {cap}", report.used_bytes);
    let cuts = store.run_sync(retention::cuts).unwrap();
    assert_eq!(cuts, report.cuts);
    assert_eq!(
        cuts[0].tier,
        Tier::Raw,
        "raw samples are cut first: {cuts:?}"
    );
    assert_eq!(cuts[0].configured_days, Some(14));
    assert!(cuts[0].kept_days < 14, "{cuts:?}");
    // What each cut tier holds matches the days it keeps now; latest samples survive.
    for c in &cuts {
        let cutoff = to_ms(now - Duration::days(i64::from(c.kept_days)));
        for r in rows(&store, c.tier) {
            let keep = match c.tier {
                Tier::Raw => r.t >= cutoff || latest_seq(&store, r.device_id) == Some(r.k),
                t => r.t + width(t) > cutoff,
            };
            assert!(keep, "tier {} kept an expired row {r:?}", c.tier.as_str());
        }
    }
    for d in &devs {
        let seq = latest_seq(&store, *d).unwrap();
        assert!(
            store
                .run_sync(|c| samples::get(c, *d, seq))
                .unwrap()
                .is_some()
        );
    }

    // A server with the same cap shows the cut in /fleet/summary and /metrics.
    config.retention.max_database_bytes = Some(cap);
    let s = TestServer::start_with(config.clone()).await.unwrap();
    let client = reqwest::Client::new();
    let summary: serde_json::Value = client
        .get(format!("{}/api/v1/fleet/summary", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(summary["retention_cut"][0]["tier"], "raw", "{summary}");
    assert_eq!(
        summary["retention_cut"][0]["configured_days"], 14,
        "{summary}"
    );
    let metrics = client
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("rt_retention_cut{tier=\"raw\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("rt_database_cap_bytes {cap}")),
        "{metrics}"
    );
    s.stop().await;

    // Room again (a cap well above the size): the cut is lifted, the configured days apply.
    let roomy = Policy {
        max_bytes: Some(used * 4),
        ..uncapped
    };
    let report = retention::run(&store, &roomy, now).await.unwrap();
    assert!(report.lifted && report.cuts.is_empty(), "{report:?}");
    assert!(store.run_sync(retention::cuts).unwrap().is_empty());
}
