//! The OpenAPI document against the real server (127.0.0.1, port 0): it is served, it names
//! every route the server answers and nothing it does not, every example validates against its
//! schema, and every request example is accepted by the server.
#![allow(clippy::unwrap_used)]

use reqwest::{Method, StatusCode};
use rt_core::Role;
use rt_server::config::Config;
use rt_server::testing::TestServer;
use serde_json::Value;
use std::collections::BTreeSet;

/// The route table of the server, as source text: the routes are read from it, so a route added
/// there without documenting it fails `every_route_the_server_answers_is_documented`.
const FILTERS_RS: &str = include_str!("../src/api/filters.rs");

/// A file the test server has in its downloads directory.
const DOWNLOAD: &str = "rt-agent-linux-x86_64";

async fn server() -> (TestServer, tempfile::TempDir) {
    let temp = tempfile::tempdir().unwrap();
    let mut config = Config::with_data_dir(temp.path());
    config.listen = ([127, 0, 0, 1], 0).into();
    std::fs::create_dir_all(&config.downloads_dir).unwrap();
    std::fs::write(config.downloads_dir.join(DOWNLOAD), b"binary").unwrap();
    (TestServer::start_with(config).await.unwrap(), temp)
}

async fn fetch_document(s: &TestServer) -> Value {
    let r = reqwest::get(format!("{}/api/v1/openapi.json", s.url))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    serde_json::from_str(&r.text().await.unwrap()).expect("the document is valid JSON")
}

/// `/api/v1/devices/{id}/metrics` -> `/api/v1/devices/{}/metrics`.
fn template(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// (METHOD, path template) of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete", "head"].contains(&method.as_str()) {
                ops.insert((method.to_uppercase(), template(path)));
            }
        }
    }
    ops
}

/// (METHOD, path template) of every `warp::path!` route in filters.rs: the segments of the
/// macro, prefixed by `/api/v1` when the route starts from `api`, and the method filters of
/// the same `let` statement.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for stmt in FILTERS_RS.split("let ").skip(1) {
        let stmt = stmt.split(';').next().unwrap();
        let Some(start) = stmt.find("warp::path!(") else {
            continue;
        };
        let rest = &stmt[start + "warp::path!(".len()..];
        let args = &rest[..rest.find(')').unwrap()];
        let mut path = String::new();
        if stmt
            .split('=')
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("api")
        {
            path.push_str("/api/v1");
        }
        for seg in args.split('/') {
            let seg = seg.trim();
            path.push('/');
            match seg.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                Some(lit) => path.push_str(lit),
                None => path.push_str("{}"),
            }
        }
        let methods: Vec<&str> = ["get", "post", "put", "patch", "delete", "head"]
            .into_iter()
            .filter(|m| stmt.contains(&format!("warp::{m}()")))
            .collect();
        assert!(
            !methods.is_empty(),
            "no method filter for {path} in filters.rs"
        );
        for m in methods {
            routes.insert((m.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn document_is_served_without_authentication_as_openapi_3_1() {
    let (s, _t) = server().await;
    let doc = fetch_document(&s).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3.1"), "{version}");
    assert_eq!(doc["info"]["title"], "ResourceTracker API");
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert!(schemes.contains_key("user_token") && schemes.contains_key("device_token"));
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn every_route_the_server_answers_is_documented() {
    let (s, _t) = server().await;
    let doc = documented(&fetch_document(&s).await);
    let source = routes_in_source();
    // The parser must see the whole table, not silently nothing.
    assert!(
        source.len() >= 28,
        "only {} routes parsed: {source:?}",
        source.len()
    );
    let missing: Vec<_> = source.difference(&doc).collect();
    assert!(
        missing.is_empty(),
        "routes not in the document: {missing:?}"
    );
    // The metrics route templates are the other list of routes (and /downloads/ is not a
    // `path!` route).
    let doc_paths: BTreeSet<&str> = doc.iter().map(|(_, p)| p.as_str()).collect();
    for route in rt_server::metrics::ROUTES {
        assert!(
            doc_paths.contains(template(route).as_str()),
            "metrics route {route} is not in the document"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn every_documented_operation_is_answered_by_the_server() {
    let (s, _t) = server().await;
    let doc = fetch_document(&s).await;
    let client = reqwest::Client::new();
    let mut probed = 0;
    for (method, path) in documented(&doc) {
        let url = path
            .replace("/downloads/{}", &format!("/downloads/{DOWNLOAD}"))
            .replace("/export/{}", "/export/devices")
            .replace("{}", "1");
        let r = client
            .request(
                Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{url}", s.url),
            )
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {url}: {body}"
        );
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("no such endpoint")),
            "{method} {url} is documented but no route answers it"
        );
        probed += 1;
    }
    assert!(probed >= 30, "{probed}");
    s.stop().await;
}

/// Every (pointer, example, schema) of the document: media types and parameters with
/// `example`/`examples`, and schemas with `examples`.
fn examples(v: &Value, at: &str, out: &mut Vec<(String, Value, Value)>, keys: &mut usize) {
    match v {
        Value::Object(o) => {
            *keys += ["example", "examples"]
                .iter()
                .filter(|k| o.contains_key(**k))
                .count();
            if let Some(schema) = o.get("schema") {
                if let Some(e) = o.get("example") {
                    out.push((format!("{at}/example"), e.clone(), schema.clone()));
                }
                if let Some(es) = o.get("examples").and_then(Value::as_object) {
                    for (name, e) in es {
                        out.push((
                            format!("{at}/examples/{name}"),
                            e["value"].clone(),
                            schema.clone(),
                        ));
                    }
                }
            } else if let Some(es) = o.get("examples").and_then(Value::as_array) {
                for (i, e) in es.iter().enumerate() {
                    out.push((format!("{at}/examples/{i}"), e.clone(), v.clone()));
                }
            }
            for (k, child) in o {
                if k != "example" && k != "examples" {
                    examples(child, &format!("{at}/{k}"), out, keys);
                }
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                examples(child, &format!("{at}/{i}"), out, keys);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn every_example_validates_against_its_schema() {
    let (s, _t) = server().await;
    let doc = fetch_document(&s).await;
    let (mut found, mut keys) = (Vec::new(), 0);
    examples(&doc, "", &mut found, &mut keys);
    assert_eq!(
        found.len(),
        keys,
        "an example the walk cannot pair with a schema"
    );
    assert!(found.len() >= 25, "only {} examples", found.len());
    for (at, example, schema) in &found {
        // `#/components/...` references resolve against the root of the schema document.
        let mut root = schema.clone();
        root.as_object_mut()
            .unwrap()
            .insert("components".into(), doc["components"].clone());
        let validator = jsonschema::draft202012::new(&root)
            .unwrap_or_else(|e| panic!("{at}: the schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(example)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{at}: {errors:?}\n{example}");
    }
    // The schemas are strict enough to reject a wrong example.
    let login =
        &doc["paths"]["/api/v1/auth/login"]["post"]["requestBody"]["content"]["application/json"];
    let mut root = login["schema"].clone();
    root.as_object_mut()
        .unwrap()
        .insert("components".into(), doc["components"].clone());
    let v = jsonschema::draft202012::new(&root).unwrap();
    assert!(!v.is_valid(&serde_json::json!({"username": "admin"})));
    s.stop().await;
}

#[tokio::test]
async fn every_request_example_is_accepted_by_the_server() {
    let (s, _t) = server().await;
    let doc = fetch_document(&s).await;
    let client = reqwest::Client::new();
    let enrollment_token = s.enrollment_token().await.unwrap();

    // A device (from the enrollment example itself) and a second user for the `{id}` routes.
    let mut enroll = doc["paths"]["/api/v1/enroll"]["post"]["requestBody"]["content"]
        ["application/json"]["example"]
        .clone();
    enroll["enrollment_token"] = enrollment_token.clone().into();
    let r = client
        .post(format!("{}/api/v1/enroll", s.url))
        .json(&enroll)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let enrolled: rt_core::api::EnrollResponse = r.json().await.unwrap();
    let mut device_token = enrolled.device_token.clone();
    s.user_token("viewer-1", Role::Viewer).await.unwrap();
    let users: Vec<rt_core::api::UserInfo> = client
        .get(format!("{}/api/v1/users", s.url))
        .bearer_auth(&s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let viewer = users.iter().find(|u| u.username == "viewer-1").unwrap().id;

    // The loop enrolls the same hardware again: a token that may re-enroll it.
    let reenroll_token = s.enrollment_token_with(true).await.unwrap();
    let (mut sent, mut bodies) = (0, 0);
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            bodies += usize::from(op.get("requestBody").is_some());
            let Some(example) = op["requestBody"]["content"]["application/json"].get("example")
            else {
                continue;
            };
            let mut body = example.clone();
            // Secrets cannot be in the document: the test server's own take their place.
            if path == "/api/v1/auth/login" {
                body["username"] = rt_server::testing::ADMIN_USER.into();
                body["password"] = rt_server::testing::ADMIN_PASSWORD.into();
            }
            if body.get("enrollment_token").is_some() {
                body["enrollment_token"] = reenroll_token.clone().into();
            }
            let url = path
                .replace("/users/{id}", &format!("/users/{}", viewer.0))
                .replace(
                    "/devices/{id}",
                    &format!("/devices/{}", enrolled.device_id.0),
                )
                .replace("{id}", "1");
            let mut req = client
                .request(
                    Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                    format!("{}{url}", s.url),
                )
                .json(&body);
            req = if path == "/api/v1/telemetry" {
                req.bearer_auth(&device_token)
            } else {
                req.bearer_auth(&s.admin_token)
            };
            let r = req.send().await.unwrap();
            let status = r.status();
            let answer = r.text().await.unwrap();
            assert!(
                ![
                    StatusCode::BAD_REQUEST,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    StatusCode::UNAUTHORIZED,
                    StatusCode::FORBIDDEN,
                ]
                .contains(&status)
                    && !status.is_server_error(),
                "{method} {url}: the example was refused: {status} {answer}"
            );
            // Alerts need a firing rule, so those two answer 404; everything else succeeds.
            if !path.starts_with("/api/v1/alerts/") {
                assert!(status.is_success(), "{method} {url}: {status} {answer}");
            }
            if path == "/api/v1/enroll" {
                // Re-enrolled: the earlier device token is revoked.
                let again: rt_core::api::EnrollResponse = serde_json::from_str(&answer).unwrap();
                assert!(
                    again.re_enrolled && again.device_id == enrolled.device_id,
                    "{answer}"
                );
                device_token = again.device_token;
            }
            if path == "/api/v1/telemetry" {
                let ack: rt_core::api::TelemetryAck = serde_json::from_str(&answer).unwrap();
                assert!(ack.rejected.is_empty(), "{answer}");
                assert_eq!(ack.accepted, 1, "{answer}");
            }
            sent += 1;
        }
    }
    assert_eq!(
        sent, bodies,
        "an operation with a request body has no JSON example"
    );
    assert!(sent >= 11, "{sent}");
    s.stop().await;
}
