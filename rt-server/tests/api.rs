//! End-to-end tests of the HTTP API against a real server on 127.0.0.1 (port 0) with a real
//! SQLite file in a temporary directory.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use rt_core::api::*;
use rt_core::{Inventory, Role, Sample};
use rt_server::testing::TestServer;
use serde_json::{Value, json};
use std::io::Write;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

fn inventory(host: &str, machine_id: Option<&str>, serial: Option<&str>) -> Inventory {
    Inventory {
        hostname: host.into(),
        os_name: "Debian GNU/Linux".into(),
        os_version: "13".into(),
        arch: "x86_64".into(),
        cpu_cores: 4,
        memory_total_bytes: 8 << 30,
        machine_id: machine_id.map(Into::into),
        serial_number: serial.map(Into::into),
        ..Default::default()
    }
}

async fn enroll_with(s: &TestServer, token: &str, inv: Inventory) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"enrollment_token": token, "inventory": inv}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

async fn enroll(s: &TestServer, host: &str, machine_id: &str) -> EnrollResponse {
    let token = s.enrollment_token().await.unwrap();
    let (status, body) = enroll_with(s, &token, inventory(host, Some(machine_id), None)).await;
    assert!(status.is_success(), "{status} {body}");
    serde_json::from_value(body).unwrap()
}

fn samples(from_seq: u64, n: u64) -> Vec<Sample> {
    let start = Utc::now() - Duration::minutes(5 * n as i64 + 5);
    (0..n)
        .map(|i| {
            let mut s = Sample::example(from_seq + i, start + Duration::minutes(5 * i as i64));
            s.cpu.usage_pct = (i % 100) as f64;
            s
        })
        .collect()
}

async fn post_batch(s: &TestServer, device_token: &str, batch: &[Sample]) -> (StatusCode, Value) {
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": batch}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

async fn get(s: &TestServer, token: &str, path: &str) -> (StatusCode, Value) {
    let r = client()
        .get(format!("{}{}", s.url, path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn resent_batch_is_all_duplicates_and_stores_nothing_new() {
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "laptop-1", "mid-1").await;
    assert_eq!(dev.collection_interval_s, 300);
    assert!(!dev.re_enrolled);
    let batch = samples(1, 10);
    let (st, first) = post_batch(&s, &dev.device_token, &batch).await;
    assert_eq!(st, StatusCode::OK, "{first}");
    let first: TelemetryAck = serde_json::from_value(first).unwrap();
    assert_eq!(
        (first.accepted, first.duplicates, first.conflicts),
        (10, 0, 0)
    );
    assert_eq!(first.ack, vec![[1, 10]]);
    let (_, second) = post_batch(&s, &dev.device_token, &batch).await;
    let second: TelemetryAck = serde_json::from_value(second).unwrap();
    assert_eq!(
        (second.accepted, second.duplicates, second.conflicts),
        (0, 10, 0)
    );
    assert_eq!(second.ack, vec![[1, 10]]);
    // Exactly 10 rows stored: the samples export has 10 data lines.
    let r = client()
        .get(format!("{}/api/v1/export/samples?format=ndjson", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap().lines().count(), 10);
    s.stop().await;
}

#[tokio::test]
async fn conflicting_resend_is_acked_counted_recorded_and_not_overwritten() {
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "laptop-2", "mid-2").await;
    let batch = samples(1, 3);
    post_batch(&s, &dev.device_token, &batch).await;
    let mut changed = batch.clone();
    changed[1].cpu.usage_pct = 99.5;
    let (st, ack) = post_batch(&s, &dev.device_token, &changed).await;
    assert_eq!(st, StatusCode::OK);
    let ack: TelemetryAck = serde_json::from_value(ack).unwrap();
    assert_eq!((ack.accepted, ack.duplicates, ack.conflicts), (0, 2, 1));
    assert_eq!(ack.ack, vec![[1, 3]]);
    let (_, events) = get(
        &s,
        &s.admin_token,
        &format!("/api/v1/devices/{}/events", dev.device_id),
    )
    .await;
    let kinds: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"sample_conflict"), "{kinds:?}");
    let (_, detail) = get(
        &s,
        &s.admin_token,
        &format!("/api/v1/devices/{}", dev.device_id),
    )
    .await;
    // The stored seq 2 keeps its original CPU value.
    let r = client()
        .get(format!("{}/api/v1/export/samples?format=json", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    let rows: Vec<Value> = r.json().await.unwrap();
    let row2 = rows.iter().find(|r| r["seq"] == 2).unwrap();
    assert_eq!(row2["cpu_pct"], json!(batch[1].cpu.usage_pct));
    assert_eq!(detail["latest"]["seq"], 3);
    s.stop().await;
}

#[tokio::test]
async fn mixed_batch_stores_valid_samples_and_rejects_invalid_ones_with_reasons() {
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "laptop-3", "mid-3").await;
    let mut batch = samples(1, 4);
    batch[1].cpu.usage_pct = 250.0; // out of range
    batch[2].collected_at = Utc::now() + Duration::days(3); // from the future
    let (st, ack) = post_batch(&s, &dev.device_token, &batch).await;
    assert_eq!(st, StatusCode::OK, "{ack}");
    let ack: TelemetryAck = serde_json::from_value(ack).unwrap();
    assert_eq!(ack.accepted, 2);
    assert_eq!(ack.ack, vec![[1, 1], [4, 4]]);
    let rejected: Vec<u64> = ack.rejected.iter().map(|r| r.seq).collect();
    assert_eq!(rejected, vec![2, 3]);
    assert!(ack.rejected[0].reason.contains("cpu"), "{:?}", ack.rejected);
    s.stop().await;
}

#[tokio::test]
async fn gzip_batches_are_accepted_and_oversize_bombs_and_garbage_are_refused() {
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "laptop-4", "mid-4").await;
    let body =
        serde_json::to_vec(&json!({"agent_version": "0.1.0", "samples": samples(1, 50)})).unwrap();
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&dev.device_token)
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(&body))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ack: TelemetryAck = r.json().await.unwrap();
    assert_eq!(ack.accepted, 50);

    // Oversize body (beyond 8 MiB as sent).
    let big = vec![b' '; 9 * 1024 * 1024];
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&dev.device_token)
        .body(big)
        .send()
        .await;
    // The server may answer 413 before reading everything, and then close the connection.
    if let Ok(r) = r {
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), "payload_too_large");
    }

    // Gzip bomb: 64 MiB of spaces compress to a few tens of KiB.
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 1024 * 1024);
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&dev.device_token)
        .header("content-encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("decompressed"),
        "{v}"
    );

    // Too many samples in one batch.
    let (st, v) = post_batch(&s, &dev.device_token, &samples(100, 1001)).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");

    // Malformed JSON names the problem.
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&dev.device_token)
        .body("{\"agent_version\": \"0.1.0\", \"samples\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(code(&v), "invalid_json");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("line 1"),
        "{v}"
    );
    let r = client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(&dev.device_token)
        .body("{\"samples\": []}")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("agent_version"),
        "{v}"
    );
    s.stop().await;
}

#[tokio::test]
async fn enrollment_identity_rules() {
    let s = TestServer::start().await.unwrap();
    let token = s.enrollment_token_with(true).await.unwrap();
    // Same machine id: re-enrolled, same device, old token revoked.
    let (st, a) = enroll_with(&s, &token, inventory("pc-a", Some("machine-A"), None)).await;
    assert_eq!(st, StatusCode::CREATED, "{a}");
    let a: EnrollResponse = serde_json::from_value(a).unwrap();
    let (st, a2) = enroll_with(
        &s,
        &token,
        inventory("pc-a-renamed", Some("machine-A"), None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let a2: EnrollResponse = serde_json::from_value(a2).unwrap();
    assert_eq!(a2.device_id, a.device_id);
    assert!(a2.re_enrolled);
    let (st, v) = post_batch(&s, &a.device_token, &samples(1, 1)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&v), "token_revoked");
    let (st, _) = post_batch(&s, &a2.device_token, &samples(1, 1)).await;
    assert_eq!(st, StatusCode::OK);
    let (_, ev) = get(
        &s,
        &s.admin_token,
        &format!("/api/v1/devices/{}/events", a.device_id),
    )
    .await;
    assert!(
        ev["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "re_enrolled")
    );

    // Same real serial, no machine id, another hostname: re-enrolled.
    let (st, b) = enroll_with(&s, &token, inventory("pc-b", None, Some("SN-12345-XY"))).await;
    assert_eq!(st, StatusCode::CREATED, "{b}");
    let (st, b2) = enroll_with(
        &s,
        &token,
        inventory("pc-b-reinstalled", None, Some("SN-12345-XY")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{b2}");
    assert_eq!(b["device_id"], b2["device_id"]);
    assert_eq!(b2["re_enrolled"], true);

    // Placeholder serial never identifies.
    let (st, c) = enroll_with(
        &s,
        &token,
        inventory("pc-c", None, Some("To be filled by O.E.M.")),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{c}");
    let (st, c2) = enroll_with(
        &s,
        &token,
        inventory("pc-d", None, Some("To be filled by O.E.M.")),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{c2}");
    assert_ne!(c["device_id"], c2["device_id"]);
    assert_eq!(c2["re_enrolled"], false);

    // Same hostname on two machines: two devices.
    let (st, h1) = enroll_with(&s, &token, inventory("shared-name", Some("m-1"), None)).await;
    assert_eq!(st, StatusCode::CREATED, "{h1}");
    let (st, h2) = enroll_with(&s, &token, inventory("shared-name", Some("m-2"), None)).await;
    assert_eq!(st, StatusCode::CREATED, "{h2}");
    assert_ne!(h1["device_id"], h2["device_id"]);

    s.stop().await;
}

#[tokio::test]
async fn enrollment_tokens_expire_run_out_and_can_be_revoked() {
    let s = TestServer::start().await.unwrap();
    let c = client();
    let r = c
        .post(format!("{}/api/v1/enrollment-tokens", s.url))
        .bearer_auth(&s.admin_token)
        .json(&json!({"max_uses": 1, "note": "one laptop"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: EnrollmentTokenCreated = r.json().await.unwrap();
    assert!(created.token.starts_with("rte_"));
    let (st, _) = enroll_with(&s, &created.token, inventory("one", Some("x-1"), None)).await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, v) = enroll_with(&s, &created.token, inventory("two", Some("x-2"), None)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&v), "enrollment_token_invalid");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no uses left")
    );

    // Listing never shows secrets.
    let (_, list) = get(&s, &s.admin_token, "/api/v1/enrollment-tokens").await;
    assert!(!list.to_string().contains(&created.token));
    assert_eq!(list[0]["uses"], 1);

    // Revoked.
    let r = c
        .post(format!("{}/api/v1/enrollment-tokens", s.url))
        .bearer_auth(&s.admin_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let t2: EnrollmentTokenCreated = r.json().await.unwrap();
    let r = c
        .delete(format!("{}/api/v1/enrollment-tokens/{}", s.url, t2.id))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, v) = enroll_with(&s, &t2.token, inventory("three", Some("x-3"), None)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(v["error"]["message"].as_str().unwrap().contains("revoked"));

    // Expired: age one in the database.
    let t3 = s.enrollment_token().await.unwrap();
    {
        use diesel::prelude::*;
        let mut conn = diesel::sqlite::SqliteConnection::establish(&s.config.database_url).unwrap();
        diesel::sql_query("UPDATE enrollment_tokens SET expires_at = 0 WHERE token_hash = ?")
            .bind::<diesel::sql_types::Text, _>(rt_server::auth::hash_token(&t3))
            .execute(&mut conn)
            .unwrap();
    }
    let (st, v) = enroll_with(&s, &t3, inventory("four", Some("x-4"), None)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(v["error"]["message"].as_str().unwrap().contains("expired"));

    // User credentials work too; wrong ones do not.
    let r = c
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"username": "admin", "password": "admin-password-123", "inventory": inventory("five", Some("x-5"), None), "assignee": "jane@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = c
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&json!({"username": "admin", "password": "wrong-password", "inventory": inventory("six", Some("x-6"), None)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn login_sessions_logout_and_throttling() {
    let s = TestServer::start().await.unwrap();
    let c = client();
    let r = c
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&json!({"username": "admin", "password": "admin-password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let login: LoginResponse = r.json().await.unwrap();
    assert!(login.token.starts_with("rts_"));
    assert_eq!(login.user.role, Role::Admin);
    let hours = (login.expires_at - Utc::now()).num_minutes();
    assert!((11 * 60..=12 * 60).contains(&hours));
    let (st, me) = get(&s, &login.token, "/api/v1/auth/me").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["username"], "admin");

    // Unknown user and wrong password: same answer.
    let unknown = c
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&json!({"username": "nobody", "password": "whatever-123"}))
        .send()
        .await
        .unwrap();
    let wrong = c
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&json!({"username": "admin", "password": "whatever-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.text().await.unwrap(), wrong.text().await.unwrap());

    // Logout revokes the session.
    let r = c
        .post(format!("{}/api/v1/auth/logout", s.url))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, v) = get(&s, &login.token, "/api/v1/devices").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&v), "token_revoked");

    // Repeated failures for one user name get 429 with Retry-After.
    let mut last = None;
    for _ in 0..12 {
        let r = c
            .post(format!("{}/api/v1/auth/login", s.url))
            .json(&json!({"username": "victim", "password": "guess-guess"}))
            .send()
            .await
            .unwrap();
        last = Some((r.status(), r.headers().get("retry-after").is_some()));
    }
    assert_eq!(last, Some((StatusCode::TOO_MANY_REQUESTS, true)));
    s.stop().await;
}

#[tokio::test]
async fn users_and_api_tokens_can_be_managed_by_admins() {
    let s = TestServer::start().await.unwrap();
    let c = client();
    let r = c
        .post(format!("{}/api/v1/users", s.url))
        .bearer_auth(&s.admin_token)
        .json(&json!({"username": "vera", "password": "vera-password-1", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let vera: UserInfo = r.json().await.unwrap();
    let r = c
        .post(format!("{}/api/v1/users", s.url))
        .bearer_auth(&s.admin_token)
        .json(&json!({"username": "vera", "password": "vera-password-1", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = c
        .post(format!("{}/api/v1/users", s.url))
        .bearer_auth(&s.admin_token)
        .json(&json!({"username": "shorty", "password": "short", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let login = c
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&json!({"username": "vera", "password": "vera-password-1"}))
        .send()
        .await
        .unwrap();
    let login: LoginResponse = login.json().await.unwrap();
    // A viewer makes an API token for a script; it reads but cannot write.
    let r = c
        .post(format!("{}/api/v1/api-tokens", s.url))
        .bearer_auth(&login.token)
        .json(&json!({"name": "cron export"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let tok: ApiTokenCreated = r.json().await.unwrap();
    assert!(tok.token.starts_with("rta_"));
    let (st, _) = get(&s, &tok.token, "/api/v1/fleet/summary").await;
    assert_eq!(st, StatusCode::OK);
    let (_, list) = get(&s, &login.token, "/api/v1/api-tokens").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&tok.token));
    let r = c
        .delete(format!("{}/api/v1/api-tokens/{}", s.url, tok.id))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = get(&s, &tok.token, "/api/v1/fleet/summary").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // Disabling a user revokes its sessions.
    let r = c
        .patch(format!("{}/api/v1/users/{}", s.url, vera.id))
        .bearer_auth(&s.admin_token)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, _) = get(&s, &login.token, "/api/v1/devices").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, users) = get(&s, &s.admin_token, "/api/v1/users").await;
    assert_eq!(users.as_array().unwrap().len(), 2);
    s.stop().await;
}

/// The hostile strings of the text-hygiene tests: an ANSI clear-screen, a bidi override, a NUL
/// and the 8-bit CSI (C1 0x9b).
const HOSTILE: [&str; 4] = ["\u{1b}[2J", "x\u{202E}gpj.exe", "nul\0", "c1\u{9b}31m"];

fn has_unsafe(v: &Value) -> bool {
    rt_core::text::first_unsafe(&v.to_string(), false).is_some()
        || match v {
            Value::String(s) => rt_core::text::first_unsafe(s, false).is_some(),
            Value::Array(a) => a.iter().any(has_unsafe),
            Value::Object(o) => o.values().any(has_unsafe),
            _ => false,
        }
}

async fn send(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = client()
        .request(method, format!("{}{}", s.url, path))
        .bearer_auth(&s.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn hostile_text_is_refused_when_typed_and_neutralised_when_reported() {
    use reqwest::Method;
    let s = TestServer::start().await.unwrap();
    let token = s.enrollment_token().await.unwrap();
    for (i, h) in HOSTILE.iter().enumerate() {
        // A name typed in the wizard: refused, naming the field; nothing is enrolled.
        let inv = inventory(
            &format!("clean-{i}"),
            Some(&format!("mid-hostile-{i}")),
            None,
        );
        let (st, v) = send(
            &s,
            Method::POST,
            "/api/v1/enroll",
            json!({"enrollment_token": token, "inventory": inv, "device_name": format!("pc{h}")}),
        )
        .await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{h:?}: {v}");
        assert_eq!(v["error"]["field"], "device_name", "{v}");
        assert!(!has_unsafe(&v), "the error must not echo the text: {v}");
        let (_, list) = get(&s, &s.admin_token, "/api/v1/devices").await;
        assert_eq!(list["total"], i, "a refused enrollment stored a device");

        // Text the machine reports: neutralised (U+FFFD), the device is enrolled.
        let mut inv = inv;
        inv.hostname = format!("host{h}");
        inv.cpu_model = h.to_string();
        inv.serial_number = Some(format!("sn{h}"));
        inv.mac_addresses = vec![h.to_string()];
        let (st, v) = enroll_with(&s, &token, inv).await;
        assert_eq!(st, StatusCode::CREATED, "{h:?}: {v}");
        let id = v["device_id"].as_i64().unwrap();
        let (_, before) = get(&s, &s.admin_token, &format!("/api/v1/devices/{id}")).await;
        assert!(!has_unsafe(&before), "{before}");
        let host = before["hostname"].as_str().unwrap();
        assert!(
            host.starts_with("host") && host.contains('\u{FFFD}'),
            "{host:?}"
        );

        // Every typed device field: refused, naming it, and the device is unchanged.
        for field in ["name", "assignee", "asset_tag", "notes"] {
            let (st, v) = send(
                &s,
                Method::PATCH,
                &format!("/api/v1/devices/{id}"),
                json!({ field: format!("v{h}") }),
            )
            .await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{field} {h:?}: {v}");
            assert_eq!(v["error"]["field"], field, "{v}");
            let (_, after) = get(&s, &s.admin_token, &format!("/api/v1/devices/{id}")).await;
            assert_eq!(
                after, before,
                "a refused PATCH of {field} changed the device"
            );
        }

        // Accounts and tokens: user names, token names, enrollment-token notes.
        for (path, body, field) in [
            (
                "/api/v1/users",
                json!({"username": format!("u{i}{h}"), "password": "password-123", "role": "viewer"}),
                "username",
            ),
            (
                "/api/v1/api-tokens",
                json!({"name": format!("ci{h}")}),
                "name",
            ),
            (
                "/api/v1/enrollment-tokens",
                json!({"note": format!("n{h}")}),
                "note",
            ),
        ] {
            let (_, list_before) = get(&s, &s.admin_token, path).await;
            let (st, v) = send(&s, Method::POST, path, body).await;
            assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{path} {h:?}: {v}");
            assert_eq!(v["error"]["field"], field, "{v}");
            let (_, list_after) = get(&s, &s.admin_token, path).await;
            assert_eq!(
                list_after, list_before,
                "a refused POST {path} stored something"
            );
        }
    }
    // Notes may hold newlines and tabs.
    let (_, list) = get(&s, &s.admin_token, "/api/v1/devices").await;
    let id = list["items"][0]["id"].as_i64().unwrap();
    let (st, v) = send(
        &s,
        Method::PATCH,
        &format!("/api/v1/devices/{id}"),
        json!({"notes": "line 1\n\tline 2"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["notes"], "line 1\n\tline 2");
    s.stop().await;
}

#[tokio::test]
async fn usernames_have_one_character_set_and_are_unique_ignoring_case() {
    use reqwest::Method;
    let s = TestServer::start().await.unwrap();
    let user = |name: &str| json!({"username": name, "password": "password-123", "role": "viewer"});
    let (st, v) = send(&s, Method::POST, "/api/v1/users", user("Carol.K")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    for dup in ["carol.k", "CAROL.K"] {
        let (st, v) = send(&s, Method::POST, "/api/v1/users", user(dup)).await;
        assert_eq!(st, StatusCode::CONFLICT, "{dup}: {v}");
        assert_eq!(v["error"]["field"], "username");
    }
    // The rule the CLI, the API and the validation share: ASCII letters, digits, . _ - @.
    for bad in ["Zoë", "_x", "a b", ""] {
        let (st, v) = send(&s, Method::POST, "/api/v1/users", user(bad)).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {v}");
        assert_eq!(v["error"]["field"], "username");
    }
    let (_, users) = get(&s, &s.admin_token, "/api/v1/users").await;
    assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
    // Sign-in finds the account whatever the case typed.
    let r = client()
        .post(format!("{}/api/v1/auth/login", s.url))
        .json(&json!({"username": "cArOl.k", "password": "password-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["username"], "Carol.K");
    s.stop().await;
}

#[tokio::test]
async fn stored_hostile_text_is_escaped_in_every_export_format() {
    use diesel::prelude::*;
    let s = TestServer::start().await.unwrap();
    let dev = enroll(&s, "legacy", "mid-legacy").await;
    // A value stored before text hygiene existed, written straight into the database.
    let store = rt_server::server::open_store(&s.config).unwrap();
    let id = dev.device_id.0;
    store
        .run_sync(|c| {
            diesel::sql_query(
                "UPDATE devices SET name = ?, assignee = ?, hostname = ? WHERE id = ?",
            )
            .bind::<diesel::sql_types::Text, _>("\u{1b}[2Jpwned")
            .bind::<diesel::sql_types::Text, _>("bob\u{202E}gpj.exe")
            .bind::<diesel::sql_types::Text, _>("c1\u{9b}31m\0")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(c)
            .map_err(rt_server::store::StoreError::from)
        })
        .unwrap();
    for format in ["csv", "json", "ndjson"] {
        let r = client()
            .get(format!("{}/api/v1/export/devices?format={format}", s.url))
            .bearer_auth(&s.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.unwrap();
        assert_eq!(
            rt_core::text::first_unsafe(&text.replace(['\n', '\r'], " "), false),
            None,
            "{format}: {text:?}"
        );
        let esc = if format == "csv" {
            "\\u{1b}[2Jpwned"
        } else {
            "\\\\u{1b}[2Jpwned"
        };
        assert!(text.contains(esc), "{format}: {text}");
        assert!(text.contains("u{202e}gpj.exe"), "{format}: {text}");
        assert!(
            text.contains("c1\\") && text.contains("u{9b}31m"),
            "{format}: {text}"
        );
    }
    s.stop().await;
}
