//! The real `rt-server` binary: user commands on the database, start-up, and SIGTERM with a
//! batch in flight.
#![allow(clippy::unwrap_used)]

use chrono::{Duration, Utc};
use rt_core::Sample;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rt-server"));
    c.env_remove("RT_LISTEN")
        .env_remove("RT_DATA_DIR")
        .env_remove("RT_DATABASE_URL")
        .env_remove("RT_CONFIG")
        .env("RUST_LOG", "warn");
    c
}

fn user_add(dir: &Path, name: &str, role: &str, password: &str) -> std::process::Output {
    let mut child = bin()
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_commands_work_on_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = user_add(dir.path(), "alice", "admin", "alice-password-1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("rt.db").exists());
    let out = user_add(dir.path(), "alice", "admin", "alice-password-1");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = user_add(dir.path(), "bob", "root", "bob-password-12");
    assert_eq!(out.status.code(), Some(2), "bad role is a usage error");
    let out = user_add(dir.path(), "carol", "viewer", "short");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 8"));
    let out = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "user",
            "disable",
            "alice",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = bin()
        .args(["--data-dir", dir.path().to_str().unwrap(), "user", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("alice") && text.contains("disabled"),
        "{text}"
    );
    // Without --password-stdin and without a terminal, it refuses instead of hanging.
    let out = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "user",
            "passwd",
            "alice",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
}

#[tokio::test]
async fn sigterm_with_a_batch_in_flight_either_acks_and_stores_or_does_not_ack() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        user_add(dir.path(), "admin", "admin", "admin-password-123")
            .status
            .success()
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rt-server"))
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The URL line tells the port.
    let stderr = child.stderr.take().unwrap();
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let stderr = stderr.into_owned_fd().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(std::fs::File::from(stderr))
            .lines()
            .map_while(Result::ok)
        {
            if let Some(u) = line.strip_prefix("rt-server listening on ") {
                let _ = url_tx.send(u.to_string());
            }
        }
    });
    let url = url_rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    let c = reqwest::Client::new();
    let login: Value = c
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": "admin-password-123"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let et: Value = c
        .post(format!("{url}/api/v1/enrollment-tokens"))
        .bearer_auth(&token)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dev: Value = c
        .post(format!("{url}/api/v1/enroll"))
        .json(&json!({"enrollment_token": et["token"], "inventory": {"hostname": "sig", "machine_id": "m-sig"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let start = Utc::now() - Duration::days(1);
    let batch: Vec<Sample> = (1..=1000)
        .map(|i| Sample::example(i, start + Duration::seconds(i as i64)))
        .collect();
    let device_token = dev["device_token"].as_str().unwrap().to_string();
    let u2 = url.clone();
    let inflight = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{u2}/api/v1/telemetry"))
            .bearer_auth(device_token)
            .json(&json!({"agent_version": "0.1.0", "samples": batch}))
            .send()
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let pid = child.id().unwrap();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let acked = match inflight.await.unwrap() {
        Ok(r) if r.status().is_success() => {
            let v: Value = r.json().await.unwrap();
            v["accepted"].as_u64().unwrap() + v["duplicates"].as_u64().unwrap()
        }
        _ => 0,
    };
    let status = tokio::time::timeout(std::time::Duration::from_secs(40), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "exit status {status:?}");

    // What was acked is stored: count rows directly in the database.
    use diesel::prelude::*;
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(dir.path().join("rt.db").to_str().unwrap())
            .unwrap();
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM samples")
        .get_result(&mut conn)
        .unwrap();
    if acked > 0 {
        assert_eq!(acked, 1000);
        assert_eq!(n.n, 1000, "acked samples must be stored");
    } else {
        // Not acked: the agent will resend; whatever was stored is then a duplicate.
        assert!(
            n.n == 0 || n.n == 1000,
            "a batch is stored whole or not at all: {}",
            n.n
        );
    }
}

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    // A throw-away CA and a leaf certificate for 127.0.0.1, made with the openssl tool.
    let d = dir.path();
    let ossl = |args: &[&str]| {
        let st = Command::new("openssl")
            .current_dir(d)
            .args(args)
            .stderr(Stdio::null())
            .status()
            .expect("the openssl tool is needed to make test certificates");
        assert!(st.success(), "openssl {args:?}");
    };
    ossl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=rt test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    ossl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    ossl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let mut config = rt_server::Config::with_data_dir(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(rt_server::config::TlsFiles {
        cert: cert.clone(),
        key,
    });
    let server = rt_server::start(config).await.unwrap();
    assert!(server.url().starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(d.join("ca.pem")).unwrap()).unwrap(),
        )
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/readyz", server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // Plain HTTP to the TLS port does not get an API answer.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    server.shutdown().await.unwrap();
}
