//! Store v2: the in-place upgrade of a database written by the v1 store, and the compact rows
//! (full samples rebuilt from them, size per sample).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use flate2::read::GzDecoder;
use rt_core::Sample;
use rt_server::store::{Store, samples};
use rt_server::testing::TestServer;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::Path;

fn gunzip(path: &str) -> Vec<u8> {
    let gz = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("fixture");
    let mut out = Vec::new();
    GzDecoder::new(&gz[..])
        .read_to_end(&mut out)
        .expect("fixture gunzip");
    out
}

#[derive(QueryableByName)]
struct V1 {
    #[diesel(sql_type = BigInt)]
    device_id: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    payload: String,
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut SqliteConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(c).expect(sql).n
}

#[tokio::test]
async fn v1_database_upgrades_in_place_losslessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("rt.db");
    std::fs::write(&db, gunzip("tests/fixtures/v1.db.gz")).expect("write fixture");
    let db_url = db.to_string_lossy().into_owned();

    // What the v1 store holds, read with plain SQL before the upgrade.
    let mut c = SqliteConnection::establish(&db_url).expect("open v1");
    let v1: Vec<V1> = diesel::sql_query("SELECT device_id, seq, payload FROM samples")
        .load(&mut c)
        .expect("v1 samples");
    let events_before = count(&mut c, "SELECT COUNT(*) AS n FROM events");
    let devices_before = count(&mut c, "SELECT COUNT(*) AS n FROM devices");
    let users_before = count(&mut c, "SELECT COUNT(*) AS n FROM users");
    drop(c);
    assert_eq!(v1.len(), 768, "fixture holds 768 v1 samples");

    // The real server start upgrades it.
    let s = TestServer::start_in(dir.path(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server starts on the v1 database");

    let store = Store::open(&db_url).expect("open upgraded");
    let mut c = store.connect().expect("connect");
    assert_eq!(
        count(
            &mut c,
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'samples_v1'"
        ),
        0,
        "the v1 table is gone once converted"
    );
    assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM store_tasks"), 0);
    assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM samples"), 768);
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM events"),
        events_before
    );
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM devices"),
        devices_before
    );
    // The test server adds its admin only if missing: the v1 admin is still there.
    assert_eq!(
        count(&mut c, "SELECT COUNT(*) AS n FROM users"),
        users_before
    );

    // Every sample rebuilds to exactly what v1 stored.
    for r in &v1 {
        let want: Sample = serde_json::from_str(&r.payload).expect("v1 payload");
        let got = samples::get(&mut c, r.device_id, r.seq)
            .expect("read")
            .expect("stored");
        assert_eq!(got, want, "device {} seq {}", r.device_id, r.seq);
        assert_eq!(
            serde_json::to_string(&got).expect("json"),
            r.payload,
            "canonical JSON unchanged"
        );
    }
    assert_eq!(samples::max_seq(&mut c, 2).expect("max"), Some(192));

    // The export answers the same rows as the v1 server did.
    let body = reqwest::Client::new()
        .get(format!("{}/api/v1/export/samples?format=ndjson", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    let key = |l: &str| -> (i64, i64) {
        let v: serde_json::Value = serde_json::from_str(l).expect("ndjson line");
        (
            v["device_id"].as_i64().expect("device_id"),
            v["seq"].as_i64().expect("seq"),
        )
    };
    let got: BTreeMap<(i64, i64), String> = body.lines().map(|l| (key(l), l.to_string())).collect();
    let want_text = String::from_utf8(gunzip("tests/fixtures/v1-samples.ndjson.gz")).expect("utf8");
    let want: BTreeMap<(i64, i64), String> =
        want_text.lines().map(|l| (key(l), l.to_string())).collect();
    assert_eq!(got.len(), 768);
    assert_eq!(got, want);
    s.stop().await;
}

mod rollup_reference {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use proptest::prelude::*;
    use rt_core::health::HealthPolicy;
    use rt_server::store::rollups::{self, Bucket, Point};
    use rt_server::store::samples::{PreparedSample, Strings};

    /// (minutes after the start, cpu, disk, temp, battery health, rx counter)
    type Spec = (i64, f64, Option<f64>, Option<f64>, Option<f64>, u64);

    fn make(seq: u64, spec: &Spec, conflict: bool) -> PreparedSample {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 20, 23, 58, 0)
            .single()
            .expect("time");
        let mut s = Sample::example(seq, start + Duration::minutes(spec.0));
        s.cpu.usage_pct = spec.1 + if conflict { 1.0 } else { 0.0 };
        match spec.2 {
            Some(pct) => {
                for d in s.disks.iter_mut() {
                    d.available_bytes = (d.total_bytes as f64 * (1.0 - pct / 100.0)) as u64;
                }
            }
            None => s.disks.clear(),
        }
        s.thermal.retain(|_| spec.3.is_some());
        for t in s.thermal.iter_mut() {
            t.temperature_c = spec.3.unwrap_or(0.0);
        }
        for d in s.disks.iter_mut() {
            if let Some(sm) = d.smart.as_mut() {
                sm.temperature_c = None;
            }
        }
        match (&mut s.battery, spec.4) {
            (Some(b), Some(h)) => b.health_pct = Some(h),
            (b, None) => *b = None,
            _ => {}
        }
        if let Some(n) = s.network.as_mut() {
            for (i, iface) in n.interfaces.iter_mut().enumerate() {
                iface.rx_bytes = spec.5 + i as u64;
            }
        }
        PreparedSample::from_sample(&s).expect("prepared")
    }

    fn close(a: Option<f64>, b: Option<f64>) -> bool {
        match (a, b) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
            (None, None) => true,
            _ => false,
        }
    }

    fn same(a: &Bucket, b: &Bucket) -> bool {
        let st = |x: &rollups::Stat, y: &rollups::Stat| {
            x.n == y.n && close(x.sum, y.sum) && x.min == y.min && x.max == y.max
        };
        a.n == b.n
            && a.t_min == b.t_min
            && a.t_max == b.t_max
            && st(&a.cpu, &b.cpu)
            && st(&a.mem, &b.mem)
            && st(&a.disk, &b.disk)
            && st(&a.temp, &b.temp)
            && st(&a.bat, &b.bat)
            && (a.rx_min, a.rx_max, a.tx_min, a.tx_max) == (b.rx_min, b.rx_max, b.tx_min, b.tx_max)
    }

    fn spec() -> impl Strategy<Value = Spec> {
        (
            0i64..(6 * 24 * 60),
            (0u32..1000).prop_map(|v| f64::from(v) / 10.0),
            proptest::option::of((10u32..990).prop_map(|v| f64::from(v) / 10.0)),
            proptest::option::of((300u32..900).prop_map(|v| f64::from(v) / 10.0)),
            proptest::option::of((500u32..1000).prop_map(|v| f64::from(v) / 10.0)),
            0u64..1 << 40,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random arrival orders, re-sent duplicates, conflicts and late backlogs: every tier
        /// equals the buckets computed from the raw rows that ended up stored.
        #[test]
        fn rollups_equal_a_reference_from_raw_rows(
            specs in proptest::collection::vec(spec(), 1..80),
            order in any::<u64>(),
            batch in 1usize..30,
            resend in proptest::collection::vec((any::<u16>(), any::<bool>()), 0..20),
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("rt.db").to_string_lossy()).expect("open");
            let mut c = store.connect().expect("connect");
            diesel::sql_query(
                "INSERT INTO devices (id, name, hostname, lifecycle_state, os_name, inventory_json, enrolled_at) \
                 VALUES (7, 'd', 'd', 'deployed', 'linux', '{}', 0)",
            )
            .execute(&mut c)
            .expect("device");
            // Arrival: seqs shuffled deterministically, then duplicates/conflicts appended.
            let mut arrivals: Vec<PreparedSample> = specs
                .iter()
                .enumerate()
                .map(|(i, sp)| make(i as u64 + 1, sp, false))
                .collect();
            let mut x = order | 1;
            for i in (1..arrivals.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                arrivals.swap(i, (x % (i as u64 + 1)) as usize);
            }
            for (k, conflict) in &resend {
                let i = usize::from(*k) % specs.len();
                arrivals.push(make(i as u64 + 1, &specs[i], *conflict));
            }
            let mut strings = Strings::default();
            let policy = HealthPolicy::default();
            for b in arrivals.chunks(batch) {
                c.immediate_transaction(|c| {
                    samples::ingest(c, &mut strings, 7, b, &policy, Utc::now())
                })
                .expect("ingest");
            }
            // Reference from the raw rows as stored.
            #[derive(QueryableByName)]
            struct Raw {
                #[diesel(sql_type = BigInt)] collected_at: i64,
                #[diesel(sql_type = diesel::sql_types::Double)] cpu_pct: f64,
                #[diesel(sql_type = diesel::sql_types::Double)] mem_pct: f64,
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)] disk_max_pct: Option<f64>,
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)] temp_max_c: Option<f64>,
                #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)] battery_health_pct: Option<f64>,
                #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)] net_rx_bytes: Option<i64>,
                #[diesel(sql_type = diesel::sql_types::Nullable<BigInt>)] net_tx_bytes: Option<i64>,
            }
            let raw: Vec<Raw> = diesel::sql_query(
                "SELECT collected_at, cpu_pct, mem_pct, disk_max_pct, temp_max_c, battery_health_pct, \
                 net_rx_bytes, net_tx_bytes FROM samples WHERE device_id = 7",
            )
            .load(&mut c)
            .expect("raw");
            prop_assert_eq!(raw.len(), specs.len());
            let points: Vec<Point> = raw
                .iter()
                .map(|r| Point {
                    collected_at: r.collected_at,
                    cpu: r.cpu_pct,
                    mem: r.mem_pct,
                    disk: r.disk_max_pct,
                    temp: r.temp_max_c,
                    bat: r.battery_health_pct,
                    rx: r.net_rx_bytes,
                    tx: r.net_tx_bytes,
                })
                .collect();
            for (table, width) in rollups::TIERS {
                let want = rollups::bucketize(&points, width);
                let got = rollups::stored(&mut c, table, 7).expect("stored");
                prop_assert_eq!(
                    want.keys().collect::<Vec<_>>(),
                    got.keys().collect::<Vec<_>>(),
                    "{} bucket starts", table
                );
                for (t, w) in &want {
                    prop_assert!(same(w, &got[t]), "{} bucket {}: want {:?} got {:?}", table, t, w, got[t]);
                }
            }
        }
    }
}

/// Time semantics: a device silent for three days that uploads its 3-day-old backlog now shows
/// as offline ("not seen for 3d") with `last_seen` at its newest sample and `last_contact` at the
/// upload, in the list, the detail, the fleet summary and the online gauge; a fresh sample then
/// brings it back online.
#[tokio::test]
async fn backlog_of_a_silent_device_shows_it_offline() {
    use chrono::{Duration, Utc};
    use rt_core::api::{
        DeviceDetail, DeviceSummary, EnrollResponse, FleetSummary, HealthLevel, Page,
    };
    use serde_json::json;

    let s = TestServer::start().await.expect("server");
    let http = reqwest::Client::new();
    let token = s.enrollment_token().await.expect("enrollment token");
    let inv = rt_core::Inventory {
        hostname: "quiet".into(),
        os_name: "Linux".into(),
        machine_id: Some("m-quiet".into()),
        ..Default::default()
    };
    let enrolled: EnrollResponse = http
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": inv}))
        .send()
        .await
        .expect("enroll")
        .json()
        .await
        .expect("enroll answer");
    let post = |batch: Vec<Sample>| {
        let req = http
            .post(format!("{}/api/v1/telemetry", s.url))
            .bearer_auth(&enrolled.device_token)
            .json(&json!({"agent_version": "0.1.0", "samples": batch}));
        async move {
            let r = req.send().await.expect("telemetry");
            assert!(r.status().is_success(), "{}", r.status());
        }
    };
    let get = |path: &str| {
        let req = http
            .get(format!("{}{path}", s.url))
            .bearer_auth(&s.admin_token);
        async move { req.send().await.expect("get").text().await.expect("body") }
    };

    // The backlog: 12 samples, the newest collected 3 days ago.
    let newest = Utc::now() - Duration::days(3);
    let backlog: Vec<Sample> = (1..=12u64)
        .map(|i| Sample::example(i, newest - Duration::minutes(5 * (12 - i as i64))))
        .collect();
    let before_upload = Utc::now();
    post(backlog).await;

    let page: Page<DeviceSummary> =
        serde_json::from_str(&get("/api/v1/devices").await).expect("list");
    assert_eq!(page.items.len(), 1);
    let d = &page.items[0];
    assert_eq!(d.health.level, HealthLevel::Offline, "{:?}", d.health);
    assert_eq!(
        d.health.reasons.first().map(String::as_str),
        Some("not seen for 3d")
    );
    let seen = d.last_seen.expect("last_seen");
    assert!(
        (seen - newest).num_milliseconds().abs() <= 1,
        "{seen} vs {newest}"
    );
    let contact = d.last_contact.expect("last_contact");
    assert!(contact >= before_upload - Duration::seconds(1), "{contact}");
    let page: Page<DeviceSummary> =
        serde_json::from_str(&get("/api/v1/devices?health=offline").await).expect("filter");
    assert_eq!(page.total, 1);

    let detail: DeviceDetail =
        serde_json::from_str(&get(&format!("/api/v1/devices/{}", enrolled.device_id.0)).await)
            .expect("detail");
    assert_eq!(detail.summary.health.level, HealthLevel::Offline);
    assert_eq!(detail.summary.last_seen, d.last_seen);
    assert_eq!(detail.summary.last_contact, d.last_contact);

    let summary: FleetSummary =
        serde_json::from_str(&get("/api/v1/fleet/summary").await).expect("summary");
    assert_eq!((summary.online, summary.offline), (0, 1));
    assert_eq!(summary.by_health.get("offline"), Some(&1));
    let metrics = get("/metrics").await;
    assert!(
        metrics.lines().any(|l| l == "rt_devices_online 0"),
        "{metrics}"
    );

    // A sample collected now: online again, seen now.
    post(vec![Sample::example(13, Utc::now())]).await;
    let page: Page<DeviceSummary> =
        serde_json::from_str(&get("/api/v1/devices").await).expect("list");
    assert_eq!(
        page.items[0].health.level,
        HealthLevel::Ok,
        "{:?}",
        page.items[0].health
    );
    let summary: FleetSummary =
        serde_json::from_str(&get("/api/v1/fleet/summary").await).expect("summary");
    assert_eq!((summary.online, summary.offline), (1, 0));
    s.stop().await;
}

/// Fleet list in SQL: on a generated fleet (names with case ties, every lifecycle state, devices
/// with and without samples, newest samples on both sides of the offline threshold, old and new
/// last contacts, ok/warning/critical findings), every filter, sort key, direction and page of
/// `store::fleet::page` equals an in-memory reference built from rt-core's health functions, and
/// `fleet::summary` equals the reference counts.
#[test]
fn fleet_list_and_summary_equal_an_in_memory_reference() {
    use chrono::{DateTime, Duration, Utc};
    use rt_core::api::HealthLevel;
    use rt_core::health::HealthPolicy;
    use rt_core::{Inventory, LifecycleState};
    use rt_server::store::devices::{self, EnrollInput, EnrollOutcome, FleetRow};
    use rt_server::store::fleet::{self, Clock, ListQuery, SortKey};
    use rt_server::store::samples::{PreparedSample, Strings};
    use std::cmp::Ordering;

    const INTERVAL: u32 = 300;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("rt.db").to_string_lossy()).expect("open");
    let mut c = store.connect().expect("connect");
    let policy = HealthPolicy::default();
    let now_ms = rt_server::store::to_ms(Utc::now());
    let now: DateTime<Utc> = rt_server::store::from_ms(now_ms);

    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let bases = ["alpha", "Alpha", "BRAVO", "charlie", "Delta", "echo"];
    let people = ["ann", "bob", "Cy"];
    let ages_s: [i64; 9] = [10, 300, 899, 900, 901, 902, 960, 3 * 3600, 3 * 86_400];
    let mut strings = Strings::default();
    for i in 0..360u64 {
        let name = format!("{}-{}", bases[rnd(6) as usize], rnd(40));
        let inv = Inventory {
            hostname: format!("{}.lan", bases[rnd(6) as usize]),
            os_name: "Linux".into(),
            machine_id: Some(format!("m-{i}")),
            ..Default::default()
        };
        let input = EnrollInput {
            inventory: inv,
            device_name: Some(name),
            asset_tag: (rnd(3) == 0).then(|| format!("AT-{}", rnd(50))),
            assignee: (rnd(4) != 0).then(|| people[rnd(3) as usize].to_string()),
            actor: "test".into(),
            may_reenroll: false,
        };
        let enrolled_at = now - Duration::minutes(rnd(10_000) as i64);
        let id = match devices::enroll(&mut c, &input, &format!("hash-{i}"), enrolled_at)
            .expect("enroll")
        {
            EnrollOutcome::Enrolled { device_id, .. } => device_id,
            other => panic!("{other:?}"),
        };
        let state = LifecycleState::ALL[rnd(5) as usize];
        diesel::sql_query("UPDATE devices SET lifecycle_state = ? WHERE id = ?")
            .bind::<Text, _>(state.as_str())
            .bind::<BigInt, _>(id)
            .execute(&mut c)
            .expect("state");
        let contact = now - Duration::seconds(ages_s[rnd(9) as usize]);
        match rnd(7) {
            0 => {} // never reported
            1 => {
                // contact without a sample
                diesel::sql_query("UPDATE devices SET last_seen = ? WHERE id = ?")
                    .bind::<BigInt, _>(rt_server::store::to_ms(contact))
                    .bind::<BigInt, _>(id)
                    .execute(&mut c)
                    .expect("contact");
            }
            _ => {
                let newest = now - Duration::seconds(ages_s[rnd(9) as usize]);
                let batch: Vec<PreparedSample> = (1..=1 + rnd(3))
                    .map(|q| {
                        let mut s =
                            Sample::example(q, newest - Duration::minutes(5 * (3 - q as i64)));
                        s.cpu.usage_pct = rnd(1000) as f64 / 10.0;
                        let disk = &mut s.disks[0];
                        disk.total_bytes = 1000;
                        disk.available_bytes = [500, 300, 80, 20, 2][rnd(5) as usize];
                        PreparedSample::from_sample(&s).expect("prepare")
                    })
                    .collect();
                let contact = contact.max(newest);
                samples::ingest(&mut c, &mut strings, id, &batch, &policy, contact)
                    .expect("ingest");
            }
        }
    }

    let rows = devices::fleet_all(&mut c).expect("fleet");
    assert_eq!(rows.len(), 360);
    let level = |r: &FleetRow| r.health(INTERVAL, &policy, now).level;
    let clock = Clock::new(now_ms, INTERVAL, &policy);
    let seen_levels: std::collections::BTreeSet<HealthLevel> = rows.iter().map(level).collect();
    assert_eq!(
        seen_levels.len(),
        5,
        "the fleet covers every level: {seen_levels:?}"
    );

    let cmp_f = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (a, b) => a.is_some().cmp(&b.is_some()),
    };
    let reference = |q: &ListQuery| -> (Vec<i64>, i64) {
        let mut v: Vec<&FleetRow> = rows
            .iter()
            .filter(|r| {
                q.q.as_deref().is_none_or(|t| {
                    let t = t.to_ascii_lowercase();
                    [
                        Some(&r.name),
                        Some(&r.hostname),
                        r.asset_tag.as_ref(),
                        r.assignee.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_ascii_lowercase().contains(&t))
                })
            })
            .filter(|r| q.state.is_none_or(|s| r.lifecycle() == s))
            .filter(|r| {
                q.assignee.as_deref().is_none_or(|a| {
                    if a.is_empty() {
                        r.assignee.is_none()
                    } else {
                        r.assignee.as_deref() == Some(a)
                    }
                })
            })
            .filter(|r| q.health.is_empty() || q.health.contains(&level(r)))
            .collect();
        v.sort_by(|a, b| {
            let o = match q.sort {
                SortKey::Name => a
                    .name
                    .to_ascii_lowercase()
                    .cmp(&b.name.to_ascii_lowercase()),
                SortKey::Hostname => a
                    .hostname
                    .to_ascii_lowercase()
                    .cmp(&b.hostname.to_ascii_lowercase()),
                SortKey::Id => a.id.cmp(&b.id),
                SortKey::LastSeen => a.last_seen().cmp(&b.last_seen()),
                SortKey::LastContact => a.last_contact().cmp(&b.last_contact()),
                SortKey::EnrolledAt => a.enrolled_at.cmp(&b.enrolled_at),
                SortKey::Health => level(a).cmp(&level(b)),
                SortKey::State => a.lifecycle().as_str().cmp(b.lifecycle().as_str()),
                SortKey::Assignee => a.assignee.cmp(&b.assignee),
                SortKey::Cpu => cmp_f(a.cpu_pct, b.cpu_pct),
                SortKey::Mem => cmp_f(a.mem_pct, b.mem_pct),
                SortKey::Disk => cmp_f(a.disk_max_pct, b.disk_max_pct),
            }
            .then_with(|| a.id.cmp(&b.id));
            if q.desc { o.reverse() } else { o }
        });
        let total = v.len() as i64;
        let ids = v
            .into_iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .map(|r| r.id)
            .collect();
        (ids, total)
    };

    let healths: Vec<Vec<HealthLevel>> = vec![
        vec![],
        vec![HealthLevel::Offline],
        vec![HealthLevel::Ok],
        vec![HealthLevel::Unknown],
        vec![HealthLevel::Critical, HealthLevel::Warning],
        vec![
            HealthLevel::Critical,
            HealthLevel::Warning,
            HealthLevel::Offline,
        ],
    ];
    let mut checked = 0;
    for (_, sort) in SortKey::ALL {
        for desc in [false, true] {
            for (hi, health) in healths.iter().enumerate() {
                for (limit, offset) in [(50, 0), (7, 21), (1000, 0), (10, 355)] {
                    let q = ListQuery {
                        q: None,
                        state: None,
                        assignee: None,
                        health: health.clone(),
                        sort,
                        desc,
                        limit,
                        offset,
                    };
                    // Other filters on some combinations.
                    let q = match (hi + limit as usize) % 4 {
                        1 => ListQuery {
                            q: Some("LPH".into()),
                            ..q
                        },
                        2 => ListQuery {
                            state: Some(LifecycleState::Deployed),
                            ..q
                        },
                        3 => ListQuery {
                            assignee: Some(if desc { String::new() } else { "bob".into() }),
                            ..q
                        },
                        _ => q,
                    };
                    let (got, total) = fleet::page(&mut c, &q, &clock).expect("page");
                    let got: Vec<i64> = got.iter().map(|r| r.id).collect();
                    let (want, want_total) = reference(&q);
                    assert_eq!((got, total), (want, want_total), "{q:?}");
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 12 * 2 * 6 * 4);

    // The summary: per (level, state) group, devices and online devices.
    let mut want: std::collections::BTreeMap<(i64, String), (i64, i64)> = Default::default();
    for r in &rows {
        let e = want
            .entry((
                fleet::level_rank(level(r)),
                r.lifecycle().as_str().to_string(),
            ))
            .or_default();
        e.0 += 1;
        e.1 += i64::from(rt_core::health::is_online(
            r.last_seen(),
            INTERVAL,
            &policy,
            now,
        ));
    }
    let got: std::collections::BTreeMap<(i64, String), (i64, i64)> = fleet::summary(&mut c, &clock)
        .expect("summary")
        .into_iter()
        .map(|g| {
            (
                (g.level, g.lifecycle_state.0.as_str().to_string()),
                (g.devices, g.online),
            )
        })
        .collect();
    assert_eq!(got, want);
}
