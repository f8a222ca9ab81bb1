//! Fleet queries, asset management, export and the authorization matrix, against a real
//! server and a real SQLite file.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use rt_core::api::*;
use rt_core::{Inventory, Role, Sample};
use rt_server::testing::TestServer;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn enroll(s: &TestServer, host: &str, machine_id: &str) -> EnrollResponse {
    let token = s.enrollment_token().await.unwrap();
    let inv = Inventory {
        hostname: host.into(),
        os_name: "Linux".into(),
        machine_id: Some(machine_id.into()),
        ..Default::default()
    };
    let r = client()
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": inv}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    r.json().await.unwrap()
}

async fn post(s: &TestServer, device_token: &str, batch: &[Sample]) -> TelemetryAck {
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": batch}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn call(
    s: &TestServer,
    method: Method,
    token: Option<&str>,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut rb = client().request(method, format!("{}{}", s.url, path));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status();
    let text = r.text().await.unwrap();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn recent(n: u64, cpu: f64) -> Vec<Sample> {
    let start = Utc::now() - Duration::minutes(n as i64);
    (1..=n)
        .map(|i| {
            let mut s = Sample::example(i, start + Duration::minutes(i as i64));
            s.cpu.usage_pct = cpu;
            s
        })
        .collect()
}

#[tokio::test]
async fn devices_list_detail_patch_events_metrics_and_summary() {
    let s = TestServer::start().await.unwrap();
    let a = enroll(&s, "alpha", "m-alpha").await;
    let b = enroll(&s, "bravo", "m-bravo").await;
    let mut full = recent(5, 20.0);
    for x in &mut full {
        x.disks[0].available_bytes = x.disks[0].total_bytes / 50; // 98 % full: critical
    }
    post(&s, &a.device_token, &recent(5, 10.0)).await;
    post(&s, &b.device_token, &full).await;
    let admin = s.admin_token.clone();

    let (st, page) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?sort=-name",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    let page: Page<DeviceSummary> = serde_json::from_value(page).unwrap();
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].name, "bravo");
    assert_eq!(page.items[0].health.level, HealthLevel::Critical);
    assert!(
        page.items[0].health.reasons.iter().any(|r| r.contains('/')),
        "{:?}",
        page.items[0].health
    );
    assert_eq!(page.items[1].health.level, HealthLevel::Ok);
    assert_eq!(page.items[1].cpu_recent.len(), 5);
    assert!(page.items[1].last_seen.is_some());

    let (_, page) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?health=critical",
        None,
    )
    .await;
    assert_eq!(page["total"], 1);
    let (_, page) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?q=alp&limit=1",
        None,
    )
    .await;
    assert_eq!(page["items"][0]["name"], "alpha");
    let (st, v) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?sort=colour",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"]["field"], "sort");
    let (st, _) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?limit=5000",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // PATCH: assignee, name, lifecycle; each an event with the actor.
    let path = format!("/api/v1/devices/{}", a.device_id);
    let (st, d) = call(&s, Method::PATCH, Some(&admin), &path, Some(json!({"assignee": "jane@example.com", "name": "Jane's laptop", "asset_tag": "IT-0042"}))).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["assignee"], "jane@example.com");
    assert_eq!(d["name"], "Jane's laptop");
    let (_, page) = call(
        &s,
        Method::GET,
        Some(&admin),
        "/api/v1/devices?assignee=jane@example.com",
        None,
    )
    .await;
    assert_eq!(page["total"], 1);
    let (st, v) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        &path,
        Some(json!({"lifecycle_state": "lost"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        &path,
        Some(json!({"lifecycle_state": "deployed"})),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(v["error"]["code"], "invalid_transition");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("in_stock"),
        "{v}"
    );
    let (st, v) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        &path,
        Some(json!({"colour": "red"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("colour"),
        "{v}"
    );
    let (st, _) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        &path,
        Some(json!({"name": "  "})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, _) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        "/api/v1/devices/999",
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (_, ev) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("{path}/events"),
        None,
    )
    .await;
    let items = ev["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "enrolled",
        "assigned",
        "renamed",
        "asset_tag_changed",
        "lifecycle_changed",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    assert!(
        items
            .iter()
            .filter(|e| e["kind"] != "enrolled")
            .all(|e| e["actor"] == "admin")
    );

    // Detail and metrics.
    let (st, d) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}", b.device_id),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let d: DeviceDetail = serde_json::from_value(d).unwrap();
    assert_eq!(d.latest.as_ref().unwrap().seq, 5);
    assert_eq!(d.forecasts.len(), 1);
    assert_eq!(d.collection_interval_s, 300);
    assert_eq!(d.inventory.hostname, "bravo");
    let (st, m) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}/metrics?resolution=raw", b.device_id),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let m: MetricsResponse = serde_json::from_value(m).unwrap();
    assert_eq!(m.points.len(), 5);
    let (_, m) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}/metrics?resolution=1h", b.device_id),
        None,
    )
    .await;
    let m: MetricsResponse = serde_json::from_value(m).unwrap();
    assert_eq!(m.points.iter().map(|p| p.samples).sum::<u32>(), 5);
    assert!(m.points.iter().all(|p| p.cpu_max == 20.0));
    let (st, _) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}/metrics?resolution=2m", b.device_id),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}/metrics?from=yesterday", b.device_id),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (_, sum) = call(&s, Method::GET, Some(&admin), "/api/v1/fleet/summary", None).await;
    let sum: FleetSummary = serde_json::from_value(sum).unwrap();
    assert_eq!(sum.total, 2);
    assert_eq!(sum.online, 2);
    assert_eq!(sum.by_health["critical"], 1);
    assert_eq!(sum.by_lifecycle["lost"], 1);

    // Retiring revokes the token: the agent gets 403 device_retired; re-enrolling is refused.
    let bpath = format!("/api/v1/devices/{}", b.device_id);
    let (st, _) = call(
        &s,
        Method::PATCH,
        Some(&admin),
        &bpath,
        Some(json!({"lifecycle_state": "retired"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&b.device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": recent(1, 1.0)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "device_retired");
    let token = s.enrollment_token().await.unwrap();
    let r = client()
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": {"hostname": "bravo", "machine_id": "m-bravo"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "device_retired");

    // Operations endpoints.
    let (st, _) = call(&s, Method::GET, None, "/livez", None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(&s, Method::GET, None, "/readyz", None).await;
    assert_eq!(st, StatusCode::OK);
    let (st, text) = call(&s, Method::GET, None, "/metrics", None).await;
    assert_eq!(st, StatusCode::OK);
    let text = text.as_str().unwrap().to_string();
    assert!(
        text.contains("rt_samples_total{outcome=\"accepted\"} 10"),
        "{text}"
    );
    assert!(text.contains("rt_devices 2"));
    assert!(text.contains("route=\"/api/v1/devices/{id}\""));
    s.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let s = TestServer::start().await.unwrap();
    let (st, v) = call(&s, Method::GET, None, "/api/v1/nope", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
    let (st, v) = call(
        &s,
        Method::DELETE,
        Some(&s.admin_token),
        "/api/v1/devices",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(v["error"]["code"], "method_not_allowed");
    let big = "x".repeat(300 * 1024);
    let (st, v) = call(
        &s,
        Method::POST,
        None,
        "/api/v1/auth/login",
        Some(json!({"username": big, "password": "p"})),
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(v["error"]["code"], "payload_too_large");
    // Downloads are plain static files.
    std::fs::write(s.data_dir().join("downloads").join("hello.txt"), "hi").unwrap();
    let r = client()
        .get(format!("{}/downloads/hello.txt", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "hi");
    s.stop().await;
}

#[tokio::test]
async fn authorization_matrix() {
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "matrix", "m-matrix").await;
    let viewer = s.user_token("vic", Role::Viewer).await.unwrap();
    let admin = s.admin_token.clone();
    let enroll_tok = s.enrollment_token().await.unwrap();
    let (_, revoked) = call(
        &s,
        Method::POST,
        Some(&admin),
        "/api/v1/api-tokens",
        Some(json!({"name": "gone"})),
    )
    .await;
    let revoked_token = revoked["token"].as_str().unwrap().to_string();
    call(
        &s,
        Method::DELETE,
        Some(&admin),
        &format!("/api/v1/api-tokens/{}", revoked["id"]),
        None,
    )
    .await;
    let d = dev.device_id.0;

    // (method, path, body, needs admin)
    let routes: Vec<(Method, String, Option<Value>, bool)> = vec![
        (Method::GET, "/api/v1/devices".into(), None, false),
        (Method::GET, format!("/api/v1/devices/{d}"), None, false),
        (
            Method::GET,
            format!("/api/v1/devices/{d}/metrics"),
            None,
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/devices/{d}/events"),
            None,
            false,
        ),
        (Method::GET, "/api/v1/fleet/summary".into(), None, false),
        (
            Method::GET,
            "/api/v1/export/devices?format=csv".into(),
            None,
            false,
        ),
        (Method::GET, "/api/v1/auth/me".into(), None, false),
        (Method::GET, "/api/v1/api-tokens".into(), None, false),
        (
            Method::PATCH,
            format!("/api/v1/devices/{d}"),
            Some(json!({"notes": "n"})),
            true,
        ),
        (Method::GET, "/api/v1/users".into(), None, true),
        (
            Method::POST,
            "/api/v1/users".into(),
            Some(json!({"username": "u1", "password": "password-123", "role": "viewer"})),
            true,
        ),
        (Method::GET, "/api/v1/enrollment-tokens".into(), None, true),
        (
            Method::POST,
            "/api/v1/enrollment-tokens".into(),
            Some(json!({})),
            true,
        ),
    ];
    for (method, path, body, needs_admin) in &routes {
        let cases: [(&str, Option<&str>, StatusCode); 5] = [
            ("anonymous", None, StatusCode::UNAUTHORIZED),
            (
                "viewer",
                Some(&viewer),
                if *needs_admin {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::OK
                },
            ),
            ("device", Some(&dev.device_token), StatusCode::FORBIDDEN),
            ("enrollment", Some(&enroll_tok), StatusCode::FORBIDDEN),
            ("revoked", Some(&revoked_token), StatusCode::UNAUTHORIZED),
        ];
        for (who, token, expected) in cases {
            let (st, v) = call(&s, method.clone(), token, path, body.clone()).await;
            assert_eq!(st, expected, "{who} {method} {path}: {v}");
            if !expected.is_success() {
                assert!(v["error"]["code"].is_string(), "{who} {method} {path}: {v}");
            }
        }
        let (st, v) = call(&s, method.clone(), Some(&admin), path, body.clone()).await;
        assert!(st.is_success(), "admin {method} {path}: {st} {v}");
    }
    // Telemetry: only the device token.
    let batch = json!({"agent_version": "0.1.0", "samples": []});
    for (who, token, expected) in [
        ("anonymous", None, StatusCode::UNAUTHORIZED),
        ("viewer", Some(viewer.as_str()), StatusCode::FORBIDDEN),
        ("admin", Some(admin.as_str()), StatusCode::FORBIDDEN),
        (
            "enrollment",
            Some(enroll_tok.as_str()),
            StatusCode::FORBIDDEN,
        ),
        ("device", Some(dev.device_token.as_str()), StatusCode::OK),
    ] {
        let (st, v) = call(
            &s,
            Method::POST,
            token,
            "/api/v1/telemetry",
            Some(batch.clone()),
        )
        .await;
        assert_eq!(st, expected, "{who} telemetry: {v}");
    }
    s.stop().await;
}

#[tokio::test]
async fn export_of_100k_samples_as_csv_equals_what_is_stored() {
    let s = TestServer::start().await.unwrap();
    let devs = [
        enroll(&s, "exp-1", "m-exp-1").await,
        enroll(&s, "exp-2", "m-exp-2").await,
    ];
    // Names with commas, quotes and a formula prefix exercise quoting and the injection guard.
    call(
        &s,
        Method::PATCH,
        Some(&s.admin_token),
        &format!("/api/v1/devices/{}", devs[1].device_id),
        Some(json!({"name": "=cmd|' /C calc'!A0, \"quoted\""})),
    )
    .await;
    let per_device = 50_000u64;
    let start = Utc::now() - Duration::days(30);
    let mut expected: Vec<Vec<String>> = Vec::new();
    let names = [
        "exp-1".to_string(),
        "'=cmd|' /C calc'!A0, \"quoted\"".to_string(),
    ];
    let mut batches: Vec<(String, Vec<Sample>)> = Vec::new();
    for (i, d) in devs.iter().enumerate() {
        let mut seq = 1;
        while seq <= per_device {
            let batch: Vec<Sample> = (seq..(seq + 1000).min(per_device + 1))
                .map(|q| {
                    let mut x = Sample::example(q, start + Duration::seconds(q as i64 * 30));
                    x.cpu.usage_pct = (q % 1000) as f64 / 10.0;
                    x
                })
                .collect();
            for x in &batch {
                let cells = rt_core::export::sample_cells(
                    d.device_id,
                    &names[i].clone().replacen('\'', "", 1),
                    x,
                );
                expected.push(
                    rt_core::export::csv_fields(&cells)
                        .into_iter()
                        .map(|c| c.into_owned())
                        .collect(),
                );
            }
            batches.push((d.device_token.clone(), batch));
            seq += 1000;
        }
    }
    // Several batches in flight at once: the writer commits them in groups.
    use futures_util::StreamExt;
    let acks: Vec<(usize, TelemetryAck)> = futures_util::stream::iter(batches.iter())
        .map(|(tok, b)| async { (b.len(), post(&s, tok, b).await) })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(acks.len(), 100);
    for (n, ack) in &acks {
        assert_eq!(ack.accepted, *n as u64);
    }
    let r = client()
        .get(format!("{}/api/v1/export/samples?format=csv", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disp = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disp.starts_with("attachment; filename=\"samples-") && disp.ends_with(".csv\""),
        "{disp}"
    );
    let body = r.bytes().await.unwrap();
    let mut rdr = csv::Reader::from_reader(body.as_ref());
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, rt_core::export::SAMPLE_COLUMNS);
    let got: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(got.len(), 100_000);
    // Rows come in storage order, which concurrent uploads interleave: compare by (device, seq).
    let mut got = got;
    got.sort_by_key(|r| (r[0].parse::<i64>().unwrap(), r[2].parse::<u64>().unwrap()));
    assert_eq!(got, expected);
    assert!(
        got[per_device as usize][1].starts_with("'="),
        "formula guard: {}",
        got[per_device as usize][1]
    );

    // JSON is one array, NDJSON one object per line; both filter by device.
    let r = client()
        .get(format!(
            "{}/api/v1/export/samples?format=ndjson&device={}",
            s.url, devs[0].device_id
        ))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let text = r.text().await.unwrap();
    assert_eq!(text.lines().count(), per_device as usize);
    let mut seqs: Vec<u64> = text
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["device_id"], devs[0].device_id.0);
            v["seq"].as_u64().unwrap()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=per_device).collect::<Vec<_>>());
    let r = client()
        .get(format!("{}/api/v1/export/devices?format=json", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    let devices: Vec<Value> = r.json().await.unwrap();
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[1]["name"], "=cmd|' /C calc'!A0, \"quoted\"");
    let r = client()
        .get(format!("{}/api/v1/export/events?format=csv", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.starts_with("event_id,device_id,at,kind,actor,message,data"));
    let (st, _) = call(
        &s,
        Method::GET,
        Some(&s.admin_token),
        "/api/v1/export/pictures",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = call(
        &s,
        Method::GET,
        Some(&s.admin_token),
        "/api/v1/export/samples?format=xlsx",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    s.stop().await;
}

/// One sample per 5-minute bucket must still give a network rate: it is measured from the
/// previous bucket's last counter reading.
#[tokio::test]
async fn bucketed_metrics_have_network_rates_with_one_sample_per_bucket() {
    let s = TestServer::start().await.unwrap();
    let admin = s.admin_token.clone();
    let e = enroll(&s, "netrate", "mid-netrate").await;
    let start = Utc::now() - Duration::hours(2);
    let batch: Vec<Sample> = (1..=12u64)
        .map(|i| {
            let mut smp = Sample::example(i, start + Duration::minutes(5 * i as i64));
            let net = smp.network.as_mut().unwrap();
            // 300 kB received and 60 kB sent per 5 minutes: 1000 B/s and 200 B/s.
            net.interfaces[0].rx_bytes = 1_000_000 + i * 300_000;
            net.interfaces[0].tx_bytes = 500_000 + i * 60_000;
            smp
        })
        .collect();
    let ack = post(&s, &e.device_token, &batch).await;
    assert_eq!(ack.accepted, 12);
    let from = (start - Duration::minutes(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (st, m) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!(
            "/api/v1/devices/{}/metrics?resolution=5m&from={}",
            e.device_id,
            from.replace('+', "%2B")
        ),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{m}");
    let m: MetricsResponse = serde_json::from_value(m).unwrap();
    assert_eq!(m.points.iter().map(|p| p.samples).sum::<u32>(), 12);
    let rated: Vec<&MetricPoint> = m.points.iter().skip(1).collect();
    assert!(!rated.is_empty());
    for p in rated {
        let rx = p
            .net_rx_bps
            .expect("every bucket after the first has an rx rate");
        let tx = p
            .net_tx_bps
            .expect("every bucket after the first has a tx rate");
        assert!((rx - 1000.0).abs() < 1.0, "rx {rx}");
        assert!((tx - 200.0).abs() < 1.0, "tx {tx}");
    }
    s.stop().await;
}

/// The list and summary take health from the findings stored at ingest: a newly ingested
/// critical sample makes the device critical, a newer ok one makes it ok again; rows whose
/// stored findings are missing (stored before the column existed) are filled at start.
#[tokio::test]
async fn list_health_follows_latest_ingested_sample_and_is_backfilled_at_start() {
    use diesel::RunQueryDsl;
    let temp = tempfile::tempdir().unwrap();
    let listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let s = TestServer::start_in(temp.path(), listen).await.unwrap();
    let dev = enroll(&s, "charlie", "m-charlie").await;
    let admin = s.admin_token.clone();
    let health = |s: &TestServer| {
        let url = s.url.clone();
        let admin = admin.clone();
        async move {
            let page: Page<DeviceSummary> = client()
                .get(format!("{url}/api/v1/devices?limit=50"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let summary: FleetSummary = client()
                .get(format!("{url}/api/v1/fleet/summary"))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(page.items.len(), 1);
            (page.items[0].clone(), summary)
        }
    };

    let (d, sum) = health(&s).await;
    assert_eq!(d.health.level, HealthLevel::Unknown, "{:?}", d.health);
    assert!(d.metrics.is_none());
    assert_eq!(sum.by_health["unknown"], 1);

    let t0 = Utc::now() - Duration::minutes(2);
    let mut crit = Sample::example(1, t0);
    crit.disks[0].available_bytes = crit.disks[0].total_bytes / 50; // 98 % full
    post(&s, &dev.device_token, std::slice::from_ref(&crit)).await;
    let (d, sum) = health(&s).await;
    assert_eq!(d.health.level, HealthLevel::Critical, "{:?}", d.health);
    assert!(
        d.health.reasons.iter().any(|r| r.contains("98% full")),
        "{:?}",
        d.health
    );
    assert_eq!(sum.by_health["critical"], 1);
    assert_eq!(sum.by_health["ok"], 0);
    // The list's metrics (from columns) are what the sample gives, like the detail's.
    assert_eq!(d.metrics, Some(crit.metrics()));
    let (_, detail) = call(
        &s,
        Method::GET,
        Some(&admin),
        &format!("/api/v1/devices/{}", dev.device_id.0),
        None,
    )
    .await;
    let detail: DeviceDetail = serde_json::from_value(detail).unwrap();
    assert_eq!(detail.summary.health, d.health);
    assert_eq!(detail.summary.metrics, d.metrics);

    let ok = Sample::example(2, t0 + Duration::minutes(1));
    post(&s, &dev.device_token, std::slice::from_ref(&ok)).await;
    let (d, sum) = health(&s).await;
    assert_eq!(d.health.level, HealthLevel::Ok, "{:?}", d.health);
    assert!(d.health.reasons.is_empty());
    assert_eq!(sum.by_health["ok"], 1);
    assert_eq!(sum.by_health["critical"], 0);
    assert_eq!(d.metrics, Some(ok.metrics()));

    // An older (back-filled) critical sample does not replace the latest one.
    let mut late = crit.clone();
    late.seq = 0;
    late.collected_at = t0 - Duration::minutes(1);
    post(&s, &dev.device_token, &[late]).await;
    assert_eq!(health(&s).await.0.health.level, HealthLevel::Ok);

    // Make the row look like one stored before the findings column: critical latest sample,
    // no findings, no network columns. The restarted server fills them in.
    let config = s.config.clone();
    s.stop().await;
    let mut crit3 = crit.clone();
    crit3.seq = 3;
    crit3.collected_at = Utc::now() - Duration::seconds(30);
    let json = serde_json::to_string(&crit3).unwrap();
    let store = rt_server::server::open_store(&config).unwrap();
    let changed = store
        .run_sync(|c| {
            diesel::sql_query(
                "UPDATE devices SET latest_json = ?, latest_seq = 3, latest_findings = NULL, \
                 net_rx_bytes = NULL, net_tx_bytes = NULL, battery_charge_pct = NULL",
            )
            .bind::<diesel::sql_types::Text, _>(json)
            .execute(c)
            .map_err(rt_server::store::StoreError::from)
        })
        .unwrap();
    assert_eq!(changed, 1);
    drop(store);
    let s = TestServer::start_with(config).await.unwrap();
    let (d, sum) = health(&s).await;
    assert_eq!(d.health.level, HealthLevel::Critical, "{:?}", d.health);
    assert_eq!(sum.by_health["critical"], 1);
    assert_eq!(
        d.metrics.and_then(|m| m.net_rx_bytes),
        crit3.metrics().net_rx_bytes
    );
    s.stop().await;
}
