//! The complete authorization matrix against a real server (127.0.0.1, real SQLite file):
//! every route × every kind of caller — anonymous, viewer and admin sessions, API tokens of a
//! viewer and of an admin, the `Bearer` scheme in other cases, a device token, an enrollment
//! token, an expired session, a revoked API token, a logged-out session and a retired device's
//! token — with `metrics_public = false`. Each call asserts the exact status, a JSON error body
//! on refusals, and that a refused call changed nothing (the database is re-read before and
//! after).
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use rt_core::Role;
use rt_core::api::EnrollResponse;
use rt_server::auth::{TokenKind, hash_token, new_token};
use rt_server::config::Config;
use rt_server::server::open_store;
use rt_server::store::{Store, users};
use rt_server::testing::{ADMIN_PASSWORD, ADMIN_USER, TestServer};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// One request; `auth` is the whole Authorization header value.
async fn call(
    s: &TestServer,
    method: &Method,
    auth: Option<&str>,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut rb = client().request(method.clone(), format!("{}{}", s.url, path));
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let r = rb.send().await.unwrap();
    let st = r.status();
    let text = r.text().await.unwrap();
    (
        st,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn login(s: &TestServer, user: &str, password: &str) -> String {
    let (st, v) = call(
        s,
        &Method::POST,
        None,
        "/api/v1/auth/login",
        Some(&json!({"username": user, "password": password})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn enroll(s: &TestServer, token: &str, machine_id: &str) -> EnrollResponse {
    let (st, v) = call(
        s,
        &Method::POST,
        None,
        "/api/v1/enroll",
        Some(&json!({"enrollment_token": token, "inventory": {"hostname": machine_id, "machine_id": machine_id}})),
    )
    .await;
    assert!(st.is_success(), "{st} {v}");
    serde_json::from_value(v).unwrap()
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

/// Everything a request could change, read from the database: every row of the tables that
/// hold accounts, tokens, devices, samples and events (API tokens' `last_used_at`, mere
/// bookkeeping of successful reads, left out).
fn fingerprint(store: &Store) -> String {
    store
        .run_sync(|c| -> Result<String, rt_server::store::StoreError> {
            let mut out = String::new();
            for table in [
                "users",
                "user_tokens",
                "enrollment_tokens",
                "devices",
                "device_tokens",
                "samples",
                "events",
            ] {
                let cols: Vec<String> = diesel::sql_query(format!(
                    "SELECT name AS v FROM pragma_table_info('{table}') WHERE name <> 'last_used_at'"
                ))
                .load::<Text>(c)
                .map_err(rt_server::store::StoreError::from)?
                .into_iter()
                .map(|t| t.v)
                .collect();
                if cols.is_empty() {
                    continue;
                }
                // Ordered by every column: some tables are WITHOUT ROWID (store v2).
                let dump: Vec<Text> = diesel::sql_query(format!(
                    "SELECT coalesce(json_group_array(json_array({cols})), '[]') AS v FROM (SELECT * FROM {table} ORDER BY {cols})",
                    cols = cols
                        .iter()
                        .map(|c| format!("quote(\"{c}\")"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .load(c)
                .map_err(rt_server::store::StoreError::from)?;
                out.push_str(table);
                out.push('=');
                out.push_str(&dump[0].v);
                out.push('\n');
            }
            Ok(out)
        })
        .unwrap()
}

/// (method, path, body maker, who may call, status on success).
type Route<'a> = (
    Method,
    String,
    Box<dyn FnMut() -> Option<Value> + 'a>,
    Access,
    StatusCode,
);

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Access {
    Public,
    User,
    Admin,
    Device,
}

/// The kinds of caller; `role` is the account's role for user credentials that are valid.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Anonymous,
    ValidUser(Role),
    Device,
    RetiredDevice,
    Enrollment,
    /// Expired session, revoked API token, logged-out session.
    DeadUser,
}

fn expected(access: Access, kind: Kind, ok: StatusCode) -> StatusCode {
    use StatusCode as S;
    match (access, kind) {
        (Access::Public, _) => ok,
        (_, Kind::Anonymous) => S::UNAUTHORIZED,
        (Access::Device, Kind::Device) => ok,
        (Access::Device, _) => S::FORBIDDEN,
        (Access::User, Kind::ValidUser(_)) => ok,
        (Access::Admin, Kind::ValidUser(Role::Admin)) => ok,
        (Access::Admin, Kind::ValidUser(_)) => S::FORBIDDEN,
        (_, Kind::DeadUser) => S::UNAUTHORIZED,
        (_, Kind::Device | Kind::RetiredDevice | Kind::Enrollment) => S::FORBIDDEN,
    }
}

#[tokio::test]
async fn every_route_for_every_kind_of_caller() {
    let mut config = Config::with_data_dir(tempfile::tempdir().unwrap().keep());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_public = false;
    let s = TestServer::start_with(config.clone()).await.unwrap();
    let admin_api = s.admin_token.clone();
    let viewer_api = s.user_token("vic", Role::Viewer).await.unwrap();
    let viewer_spare = s.user_token("vic", Role::Viewer).await.unwrap();
    let viewer_session = login(&s, "vic", "vic-password-123").await;
    // Its own session: logging out the first must not end it.
    let viewer_session2 = login(&s, "vic", "vic-password-123").await;
    let admin_session = login(&s, ADMIN_USER, ADMIN_PASSWORD).await;
    let enroll_tok = s.enrollment_token().await.unwrap();
    let dev = enroll(&s, &enroll_tok, "matrix-1").await;
    let retired = enroll(&s, &enroll_tok, "matrix-retired").await;
    let admin_h = format!("Bearer {admin_api}");
    let (st, v) = call(
        &s,
        &Method::PATCH,
        Some(&admin_h),
        &format!("/api/v1/devices/{}", retired.device_id.0),
        Some(&json!({"lifecycle_state": "retired"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Dead credentials: a revoked API token, a logged-out session, an expired session.
    let (_, made) = call(
        &s,
        &Method::POST,
        Some(&admin_h),
        "/api/v1/api-tokens",
        Some(&json!({"name": "to-revoke"})),
    )
    .await;
    let revoked_api = made["token"].as_str().unwrap().to_string();
    let (st, _) = call(
        &s,
        &Method::DELETE,
        Some(&admin_h),
        &format!("/api/v1/api-tokens/{}", made["id"]),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let logged_out = login(&s, ADMIN_USER, ADMIN_PASSWORD).await;
    let (st, _) = call(
        &s,
        &Method::POST,
        Some(&format!("Bearer {logged_out}")),
        "/api/v1/auth/logout",
        None,
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let expired = new_token(TokenKind::Session);
    {
        let store = open_store(&config).unwrap();
        let admin = store
            .run_sync(|c| users::find_by_name(c, ADMIN_USER))
            .unwrap()
            .unwrap();
        let now = Utc::now();
        store
            .run_sync(|c| {
                users::insert_token(
                    c,
                    admin.id,
                    users::UserTokenKind::Session,
                    "login",
                    &hash_token(&expired),
                    now - Duration::hours(13),
                    Some(now - Duration::hours(1)),
                )
            })
            .unwrap();
    }

    // Targets the routes act on: a spare viewer API token (a viewer may revoke its own), a
    // spare enrollment token, a third account.
    let spare_api_id = {
        let (_, list) = call(
            &s,
            &Method::GET,
            Some(&format!("Bearer {viewer_spare}")),
            "/api/v1/api-tokens",
            None,
        )
        .await;
        list.as_array().unwrap().last().unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (_, et) = call(
        &s,
        &Method::POST,
        Some(&admin_h),
        "/api/v1/enrollment-tokens",
        Some(&json!({})),
    )
    .await;
    let spare_et_id = et["id"].as_i64().unwrap();
    let (_, target) = call(
        &s,
        &Method::POST,
        Some(&admin_h),
        "/api/v1/users",
        Some(&json!({"username": "target", "password": "target-password-1", "role": "viewer"})),
    )
    .await;
    let target_id = target["id"].as_i64().unwrap();
    let d = dev.device_id.0;
    let store = open_store(&config).unwrap();

    let callers: Vec<(&str, Option<String>, Kind)> = vec![
        ("anonymous", None, Kind::Anonymous),
        (
            "viewer session",
            Some(format!("Bearer {viewer_session}")),
            Kind::ValidUser(Role::Viewer),
        ),
        (
            "admin session",
            Some(format!("Bearer {admin_session}")),
            Kind::ValidUser(Role::Admin),
        ),
        (
            "viewer API token",
            Some(format!("Bearer {viewer_api}")),
            Kind::ValidUser(Role::Viewer),
        ),
        (
            "admin API token",
            Some(admin_h.clone()),
            Kind::ValidUser(Role::Admin),
        ),
        // The scheme is case-insensitive (RFC 9110).
        (
            "admin API token, BEARER",
            Some(format!("BEARER {admin_api}")),
            Kind::ValidUser(Role::Admin),
        ),
        (
            "viewer session, bEaReR",
            Some(format!("bEaReR {viewer_session2}")),
            Kind::ValidUser(Role::Viewer),
        ),
        (
            "device token",
            Some(format!("Bearer {}", dev.device_token)),
            Kind::Device,
        ),
        (
            "device token, bearer",
            Some(format!("bearer {}", dev.device_token)),
            Kind::Device,
        ),
        (
            "retired device token",
            Some(format!("Bearer {}", retired.device_token)),
            Kind::RetiredDevice,
        ),
        (
            "enrollment token",
            Some(format!("Bearer {enroll_tok}")),
            Kind::Enrollment,
        ),
        (
            "expired session",
            Some(format!("Bearer {expired}")),
            Kind::DeadUser,
        ),
        (
            "revoked API token",
            Some(format!("Bearer {revoked_api}")),
            Kind::DeadUser,
        ),
        (
            "logged-out session",
            Some(format!("Bearer {logged_out}")),
            Kind::DeadUser,
        ),
    ];

    // (method, path, body, who, status on success). Logout comes last: it ends the sessions.
    let mut n = 0u32;
    let mut next = || {
        n += 1;
        n
    };
    let routes: Vec<Route<'_>> = vec![
        (
            Method::GET,
            "/livez".into(),
            Box::new(|| None),
            Access::Public,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/readyz".into(),
            Box::new(|| None),
            Access::Public,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/metrics".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            Box::new(|| Some(json!({"username": "vic", "password": "vic-password-123"}))),
            Access::Public,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/auth/me".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/users".into(),
            Box::new(|| None),
            Access::Admin,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            Box::new(move || {
                Some(
                    json!({"username": format!("made-{}", next()), "password": "password-123", "role": "viewer"}),
                )
            }),
            Access::Admin,
            StatusCode::CREATED,
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{target_id}"),
            Box::new(|| Some(json!({"role": "viewer"}))),
            Access::Admin,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/api-tokens".into(),
            Box::new(|| Some(json!({"name": "made"}))),
            Access::User,
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/api-tokens".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/enrollment-tokens".into(),
            Box::new(|| Some(json!({"note": "made"}))),
            Access::Admin,
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            "/api/v1/enrollment-tokens".into(),
            Box::new(|| None),
            Access::Admin,
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/v1/enrollment-tokens/{spare_et_id}"),
            Box::new(|| None),
            Access::Admin,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/telemetry".into(),
            Box::new(|| Some(json!({"agent_version": "0.1.0", "samples": []}))),
            Access::Device,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/devices".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/v1/devices/{d}"),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("/api/v1/devices/{d}"),
            Box::new(|| Some(json!({"notes": "checked"}))),
            Access::Admin,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/v1/devices/{d}/metrics"),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            format!("/api/v1/devices/{d}/events"),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/fleet/summary".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/export/devices?format=csv".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/export/samples?format=ndjson".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/api/v1/export/events?format=json".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::DELETE,
            format!("/api/v1/api-tokens/{spare_api_id}"),
            Box::new(|| None),
            Access::User,
            StatusCode::OK,
        ),
        (
            Method::POST,
            "/api/v1/auth/logout".into(),
            Box::new(|| None),
            Access::User,
            StatusCode::NO_CONTENT,
        ),
    ];

    let mut checked = 0;
    for (method, path, mut body, access, ok) in routes {
        for (who, auth, kind) in &callers {
            let want = expected(access, *kind, ok);
            let b = body();
            let before = (!want.is_success()).then(|| fingerprint(&store));
            let (st, v) = call(&s, &method, auth.as_deref(), &path, b.as_ref()).await;
            assert_eq!(st, want, "{who}: {method} {path}: {v}");
            if let Some(before) = before {
                let code = v["error"]["code"].as_str().unwrap_or("");
                assert!(
                    !code.is_empty(),
                    "{who}: {method} {path}: JSON error body: {v}"
                );
                assert_eq!(
                    fingerprint(&store),
                    before,
                    "{who}: {method} {path} was refused but changed stored state"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 25 * 14);

    // The enrollment route takes its credentials in the body, never from the header: an
    // Authorization header does not make a bad body credential good, nor is it needed.
    for (who, auth, _) in &callers {
        let before = fingerprint(&store);
        let (st, v) = call(
            &s,
            &Method::POST,
            auth.as_deref(),
            "/api/v1/enroll",
            Some(&json!({"enrollment_token": "rte_not-a-real-token", "inventory": {"hostname": "x", "machine_id": "mx"}})),
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{who}: {v}");
        assert_eq!(v["error"]["code"], "enrollment_token_invalid", "{who}");
        assert_eq!(
            fingerprint(&store),
            before,
            "{who}: refused enrollment changed state"
        );
    }
    let (st, v) = call(
        &s,
        &Method::POST,
        Some(&format!("Bearer {admin_api}")),
        "/api/v1/enroll",
        Some(&json!({"enrollment_token": enroll_tok, "inventory": {"hostname": "new-hw", "machine_id": "m-new"}})),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");

    // Malformed Authorization headers are refused as unauthenticated, changing nothing.
    for bad in [
        "Bearer".to_string(),
        "Bearer ".to_string(),
        format!("Basic {admin_api}"),
        format!("Bearer{admin_api}"),
        admin_api.clone(),
    ] {
        let (st, v) = call(&s, &Method::GET, Some(&bad), "/api/v1/devices", None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{bad:?}: {v}");
    }
    s.stop().await;
}
