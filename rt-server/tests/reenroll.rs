//! Re-enrollment rights (issue 11, DESIGN §4 "Device identity"): every credential kind ×
//! {new, known, retired hardware} against a real server on a loopback port. A refusal must
//! change nothing: the device row, its events, the old device token, the enrollment token's
//! use count. Identifiers are compared normalised (case, surrounding space), and a dry run
//! shows what is known before anything is changed.
#![allow(clippy::unwrap_used)]

use reqwest::StatusCode;
use rt_core::Role;
use rt_core::Sample;
use rt_server::testing::{ADMIN_PASSWORD, ADMIN_USER, TestServer};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Cred {
    Admin,
    Viewer,
    Token,
    ReenrollToken,
    ExpiredToken,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Hw {
    New,
    Known,
    Retired,
}

async fn credential(s: &TestServer, cred: Cred) -> Value {
    match cred {
        Cred::Admin => json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        Cred::Viewer => {
            s.user_token("vera", Role::Viewer).await.unwrap();
            json!({"username": "vera", "password": "vera-password-123"})
        }
        Cred::Token => json!({"enrollment_token": s.enrollment_token().await.unwrap()}),
        Cred::ReenrollToken => {
            json!({"enrollment_token": s.enrollment_token_with(true).await.unwrap()})
        }
        Cred::ExpiredToken => {
            let t = s.enrollment_token_with(true).await.unwrap();
            use diesel::prelude::*;
            let mut conn =
                diesel::sqlite::SqliteConnection::establish(&s.config.database_url).unwrap();
            diesel::sql_query("UPDATE enrollment_tokens SET expires_at = 0 WHERE token_hash = ?")
                .bind::<diesel::sql_types::Text, _>(rt_server::auth::hash_token(&t))
                .execute(&mut conn)
                .unwrap();
            json!({"enrollment_token": t})
        }
    }
}

async fn enroll(s: &TestServer, cred: &Value, body: Value, dry_run: bool) -> (StatusCode, Value) {
    let mut req = body;
    for (k, v) in cred.as_object().unwrap() {
        req[k] = v.clone();
    }
    let r = client()
        .post(format!(
            "{}/api/v1/enroll{}",
            s.url,
            if dry_run { "/preview" } else { "" }
        ))
        .json(&req)
        .send()
        .await
        .unwrap();
    let st = r.status();
    (st, r.json().await.unwrap())
}

async fn admin(s: &TestServer, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut r = client()
        .request(method, format!("{}{}", s.url, path))
        .bearer_auth(&s.admin_token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.unwrap()
}

async fn post_sample(s: &TestServer, device_token: &str, seq: u64) -> StatusCode {
    client()
        .post(format!("{}/api/v1/telemetry", s.url))
        .bearer_auth(device_token)
        .json(&json!({"agent_version": "0.1.0", "samples": [Sample::example(seq, chrono::Utc::now())]}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Everything a takeover could change about a device: its row and its event history.
async fn snapshot(s: &TestServer, id: i64) -> (Value, Value) {
    let mut d = admin(
        s,
        reqwest::Method::GET,
        &format!("/api/v1/devices/{id}"),
        None,
    )
    .await;
    // Derived from the clock, not from the row.
    d["health"] = Value::Null;
    let ev = admin(
        s,
        reqwest::Method::GET,
        &format!("/api/v1/devices/{id}/events"),
        None,
    )
    .await;
    (d, ev)
}

fn inventory(host: &str, machine_id: &str, serial: &str) -> Value {
    json!({"hostname": host, "os_name": "Linux", "machine_id": machine_id, "serial_number": serial})
}

/// Known hardware: a device enrolled by the admin, with a sample and an assignee.
async fn known_device(s: &TestServer, tag: &str, retired: bool) -> (i64, String) {
    let admin_cred = json!({"username": ADMIN_USER, "password": ADMIN_PASSWORD});
    let (st, v) = enroll(
        s,
        &admin_cred,
        json!({"inventory": inventory(&format!("host-{tag}"), &format!("MID-{tag}"), &format!("SN-{tag}-0001")),
               "device_name": format!("laptop-{tag}"), "assignee": "jane@example.com"}),
        false,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["device_id"].as_i64().unwrap();
    let token = v["device_token"].as_str().unwrap().to_string();
    assert_eq!(post_sample(s, &token, 1).await, StatusCode::OK);
    if retired {
        admin(
            s,
            reqwest::Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            Some(json!({"lifecycle_state": "retired"})),
        )
        .await;
    }
    (id, token)
}

async fn token_uses(s: &TestServer) -> Vec<(i64, u64)> {
    let v = admin(s, reqwest::Method::GET, "/api/v1/enrollment-tokens", None).await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_i64().unwrap(), t["uses"].as_u64().unwrap()))
        .collect()
}

async fn device_count(s: &TestServer) -> u64 {
    admin(s, reqwest::Method::GET, "/api/v1/devices?limit=1", None).await["total"]
        .as_u64()
        .unwrap()
}

/// What each credential may do to each kind of hardware: the status and error code.
fn expected(cred: Cred, hw: Hw) -> (StatusCode, Option<&'static str>) {
    use Cred::*;
    use Hw::*;
    match (cred, hw) {
        (ExpiredToken, _) => (StatusCode::UNAUTHORIZED, Some("enrollment_token_invalid")),
        (Viewer, _) => (StatusCode::FORBIDDEN, Some("enroll_not_allowed")),
        (_, Retired) => (StatusCode::CONFLICT, Some("device_retired")),
        (Token, Known) => (StatusCode::FORBIDDEN, Some("reenroll_not_allowed")),
        (Admin | ReenrollToken, Known) => (StatusCode::OK, None),
        (_, New) => (StatusCode::CREATED, None),
    }
}

#[tokio::test]
async fn every_credential_kind_against_new_known_and_retired_hardware() {
    let s = TestServer::start().await.unwrap();
    let creds = [
        Cred::Admin,
        Cred::Viewer,
        Cred::Token,
        Cred::ReenrollToken,
        Cred::ExpiredToken,
    ];
    for (ci, cred) in creds.into_iter().enumerate() {
        for hw in [Hw::New, Hw::Known, Hw::Retired] {
            let case = format!("{cred:?} x {hw:?}");
            let tag = format!("{ci}-{hw:?}");
            let existing = match hw {
                Hw::New => None,
                Hw::Known => Some(known_device(&s, &tag, false).await),
                Hw::Retired => Some(known_device(&s, &tag, true).await),
            };
            let c = credential(&s, cred).await;
            let before = match &existing {
                Some((id, _)) => Some(snapshot(&s, *id).await),
                None => None,
            };
            let uses_before = token_uses(&s).await;
            let count_before = device_count(&s).await;
            // The same hardware, its identifiers sent in another case and with padding.
            let inv = inventory(
                "takeover",
                &format!("  mid-{}  ", tag.to_lowercase()),
                &format!("sn-{}-0001", tag.to_lowercase()),
            );
            let (st, v) = enroll(
                &s,
                &c,
                json!({"inventory": inv, "device_name": "renamed-by-caller"}),
                false,
            )
            .await;
            let (want, code) = expected(cred, hw);
            assert_eq!(st, want, "{case}: {v}");
            match code {
                Some(code) => {
                    assert_eq!(v["error"]["code"], code, "{case}: {v}");
                    assert!(!v["error"]["message"].as_str().unwrap().is_empty());
                    // Nothing changed.
                    assert_eq!(
                        token_uses(&s).await,
                        uses_before,
                        "{case}: a token use was spent"
                    );
                    assert_eq!(
                        device_count(&s).await,
                        count_before,
                        "{case}: a device was created"
                    );
                    if let Some((id, token)) = &existing {
                        assert_eq!(
                            Some(snapshot(&s, *id).await),
                            before,
                            "{case}: the device changed"
                        );
                        if hw == Hw::Known {
                            assert_eq!(
                                post_sample(&s, token, 2).await,
                                StatusCode::OK,
                                "{case}: the real agent's token must still work"
                            );
                        }
                    }
                }
                None => {
                    let id = v["device_id"].as_i64().unwrap();
                    let new_token = v["device_token"].as_str().unwrap();
                    assert_eq!(
                        post_sample(&s, new_token, 10).await,
                        StatusCode::OK,
                        "{case}"
                    );
                    match &existing {
                        Some((old_id, old_token)) => {
                            assert_eq!(id, *old_id, "{case}: same device");
                            assert_eq!(v["re_enrolled"], true);
                            assert_eq!(v["max_seq"], 1, "{case}: the stored seq is told");
                            assert_eq!(
                                post_sample(&s, old_token, 3).await,
                                StatusCode::UNAUTHORIZED,
                                "{case}: the old token is revoked"
                            );
                            let (d, _) = snapshot(&s, id).await;
                            assert_eq!(d["name"], "renamed-by-caller", "{case}");
                            assert_eq!(d["assignee"], "jane@example.com", "{case}");
                        }
                        None => {
                            assert_eq!(v["re_enrolled"], false);
                            assert_eq!(device_count(&s).await, count_before + 1);
                        }
                    }
                }
            }
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn a_dry_run_shows_the_known_device_and_changes_nothing() {
    let s = TestServer::start().await.unwrap();
    let (id, token) = known_device(&s, "dry", false).await;
    let before = snapshot(&s, id).await;
    let inv = inventory("whatever", "mid-dry", "");

    // An admin sees what re-enrolling would take over.
    let a = credential(&s, Cred::Admin).await;
    let (st, v) = enroll(&s, &a, json!({"inventory": inv}), true).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["existing"]["id"], id);
    assert_eq!(v["existing"]["name"], "laptop-dry");
    assert_eq!(v["existing"]["assignee"], "jane@example.com");
    assert!(v["existing"]["last_seen"].is_string(), "{v}");

    // A create-only token learns that it may not, and why, but not who has the device.
    let t = credential(&s, Cred::Token).await;
    let uses = token_uses(&s).await;
    let (st, v) = enroll(&s, &t, json!({"inventory": inv}), true).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["allowed"], false);
    assert!(
        v["reason"].as_str().unwrap().contains("allow-reenroll"),
        "{v}"
    );
    assert!(
        v["existing"]["assignee"].is_null() && v["existing"]["name"].is_null(),
        "{v}"
    );
    assert_eq!(token_uses(&s).await, uses, "a dry run uses nothing up");

    // New hardware: allowed, nothing known.
    let (st, v) = enroll(
        &s,
        &t,
        json!({"inventory": inventory("n", "mid-new", "")}),
        true,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["allowed"], true);
    assert!(v["existing"].is_null());

    // A viewer is refused as for the real thing; nothing changed anywhere.
    let vw = credential(&s, Cred::Viewer).await;
    let (st, v) = enroll(&s, &vw, json!({"inventory": inv}), true).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(snapshot(&s, id).await, before);
    assert_eq!(post_sample(&s, &token, 2).await, StatusCode::OK);
    s.stop().await;
}
