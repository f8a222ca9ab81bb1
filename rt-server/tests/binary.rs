//! The real `rt-server` binary: user commands on the database, start-up, SIGTERM with a batch
//! in flight, and a full disk.
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
async fn sigterm_after_the_whole_body_arrived_answers_and_stores_the_batch() {
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
    // The batch goes out on a raw connection whose ports we know, so that the signal is sent
    // exactly when the server has read the whole request (its socket's receive queue is
    // empty and ours has nothing unsent), not after a guessed delay.
    let body = serde_json::to_vec(&json!({"agent_version": "0.1.0", "samples": batch})).unwrap();
    let server_addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().unwrap();
    let mut stream = tokio::net::TcpStream::connect(server_addr).await.unwrap();
    let client_port = stream.local_addr().unwrap().port();
    let head = format!(
        "POST /api/v1/telemetry HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {device_token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !body_fully_received(server_addr.port(), client_port) {
        assert!(
            std::time::Instant::now() < deadline,
            "the server never read the whole body"
        );
        tokio::task::yield_now().await;
    }
    let pid = child.id().unwrap();
    let st = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    // The request in flight is answered, in full, before the server exits.
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(40),
        stream.read_to_end(&mut answer),
    )
    .await
    .unwrap()
    .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let json_start = answer.find("\r\n\r\n").unwrap() + 4;
    let v: Value = serde_json::from_str(answer[json_start..].trim()).unwrap();
    assert_eq!(v["accepted"], 1000, "{v}");
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
    assert_eq!(n.n, 1000, "the acknowledged batch must be stored");
}

/// Whether the server's end of the connection (local port `server`, peer port `client`) has
/// read everything and the client's end has nothing left to send, per /proc/net/tcp.
fn body_fully_received(server: u16, client: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let queues = |local: u16, remote: u16| {
        table.lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = |a: &str| u16::from_str_radix(a.rsplit(':').next()?, 16).ok();
            (port(f.get(1)?)? == local && port(f.get(2)?)? == remote).then(|| {
                let (tx, rx) = f.get(4)?.split_once(':')?;
                Some((
                    u64::from_str_radix(tx, 16).ok()?,
                    u64::from_str_radix(rx, 16).ok()?,
                ))
            })?
        })
    };
    matches!(
        (queues(server, client), queues(client, server)),
        (Some((_, 0)), Some((0, _)))
    )
}

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = rt_server::testing::test_pki(&dir.path().join("pki"), "rt test CA").unwrap();
    let mut config = rt_server::Config::with_data_dir(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(pki.tls_files());
    let server = rt_server::start(config).await.unwrap();
    assert!(server.url().starts_with("https://"));
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(&std::fs::read(&pki.ca).unwrap()).unwrap(),
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

/// A small tmpfs mounted for one test; unmounted on drop.
struct SmallDisk(tempfile::TempDir);

impl SmallDisk {
    /// None when this machine does not let the test mount (not root, no CAP_SYS_ADMIN).
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .ok()?
            .success();
        ok.then_some(SmallDisk(dir))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.0.path()).status();
    }
}

#[tokio::test]
async fn a_full_disk_makes_readyz_not_ready_and_writes_503_until_space_is_freed() {
    let Some(disk) = SmallDisk::mount("16m") else {
        eprintln!(
            "SKIPPED: cannot mount a tmpfs here (needs root); the disk-full path is untested"
        );
        return;
    };
    let data = disk.0.path().join("data");
    assert!(
        user_add(&data, "admin", "admin", "admin-password-123")
            .status
            .success()
    );
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rt-server"))
        .args([
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .env("RUST_LOG", "error")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap().into_owned_fd().unwrap();
    let (url_tx, url_rx) = std::sync::mpsc::channel();
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
        .json(&json!({"enrollment_token": et["token"], "inventory": {"hostname": "full", "machine_id": "m-full"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = dev["device_token"].as_str().unwrap().to_string();
    let start = Utc::now() - Duration::days(1);
    let post = |first: u64, n: u64| {
        let batch: Vec<Sample> = (first..first + n)
            .map(|i| Sample::example(i, start + Duration::seconds(i as i64)))
            .collect();
        c.post(format!("{url}/api/v1/telemetry"))
            .bearer_auth(&device)
            .json(&json!({"agent_version": "0.1.0", "samples": batch}))
            .send()
    };
    assert_eq!(post(1, 10).await.unwrap().status(), 200);
    let ready = || c.get(format!("{url}/readyz")).send();
    assert_eq!(ready().await.unwrap().status(), 200);

    // Fill the disk to the last byte.
    let filler = disk.0.path().join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let mut small = [0u8; 512];
        while f.write_all(&small[..]).is_ok() {
            small[0] = small[0].wrapping_add(1);
        }
    }
    let r = ready().await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "storage_full", "{v}");
    let r = post(100, 1000).await.unwrap();
    assert_eq!(r.status(), 503, "a write on a full disk");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "storage_full", "{v}");
    // Other writes are refused the same way or fit; never a 500.
    let r = c
        .post(format!("{url}/api/v1/enrollment-tokens"))
        .bearer_auth(&token)
        .json(&json!({"note": "x".repeat(200)}))
        .send()
        .await
        .unwrap();
    assert!(
        r.status() == 201 || r.status() == 503,
        "admin write on a full disk: {}",
        r.status()
    );

    // Space freed: ready again, and the refused batch goes in.
    std::fs::remove_file(&filler).unwrap();
    assert_eq!(ready().await.unwrap().status(), 200);
    let r = post(100, 1000).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["accepted"], 1000, "{v}");
    child.kill().await.unwrap();
}
