//! The real `rt-agent` binary against a real rt-server: non-interactive enrollment with a user
//! account, collect, status exit codes, private files, and what happens when the server goes away.
#![allow(clippy::unwrap_used)]

use rt_server::testing::{ADMIN_PASSWORD, ADMIN_USER, TestServer};
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn agent(state: &Path, args: &[&str], stdin: Option<&str>) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rt-agent"));
    c.arg("--state-dir")
        .arg(state)
        .args(args)
        .env_remove("RT_SERVER_URL")
        .env_remove("RT_ENROLL_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(s) = stdin {
        pipe.write_all(s.as_bytes()).await.unwrap();
    }
    drop(pipe);
    let o = child.wait_with_output().await.unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

#[tokio::test]
async fn enroll_collect_status_and_an_outage_through_the_binary() {
    let server = TestServer::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("agent");

    let o = agent(&state, &["status"], None).await;
    assert_eq!(o.code, 3, "not enrolled: {}", o.stdout);
    assert!(o.stdout.contains("rt-agent enroll"));

    let o = agent(
        &state,
        &[
            "enroll",
            "--non-interactive",
            "--server",
            &server.url,
            "--username",
            ADMIN_USER,
            "--password-stdin",
            "--name",
            "cli-test",
            "--credential-store",
            "file",
        ],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    )
    .await;
    assert_eq!(o.code, 0, "enroll failed: {}", o.stderr);
    assert!(o.stdout.contains("enrolled: device"), "{}", o.stdout);
    assert!(!o.stdout.contains(ADMIN_PASSWORD) && !o.stderr.contains(ADMIN_PASSWORD));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("device.token")), 0o600);
        assert_eq!(mode(&state.join("config.json")), 0o600);
    }

    let o = agent(
        &state,
        &[
            "enroll",
            "--non-interactive",
            "--server",
            &server.url,
            "--token",
            "x",
        ],
        None,
    )
    .await;
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("already enrolled"), "{}", o.stderr);

    let o = agent(&state, &["collect"], None).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("uploaded 1 sample"), "{}", o.stderr);
    let o = agent(&state, &["status", "--json"], None).await;
    assert_eq!(o.code, 0, "all well: {}", o.stdout);
    let st: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(st["enrolled"], true);
    assert_eq!(st["queue"]["depth"], 0);
    assert_eq!(st["upload"]["server_reachable"], true);
    assert!(st["upload"]["last_success_at"].is_string());

    // The server goes away: samples queue up, status says so, sync fails without losing them.
    server.stop().await;
    for _ in 0..2 {
        let o = agent(&state, &["collect"], None).await;
        assert_eq!(
            o.code, 0,
            "collection does not depend on the server: {}",
            o.stderr
        );
    }
    let o = agent(&state, &["status"], None).await;
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("server reachable  no"), "{}", o.stdout);
    assert!(o.stdout.contains("uploads failing"), "{}", o.stdout);
    let o = agent(&state, &["sync"], None).await;
    assert_eq!(o.code, 1);
    assert!(o.stdout.contains("2 still queued"), "{}", o.stdout);
    let o = agent(&state, &["queue", "--json"], None).await;
    let q: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(q["stats"]["depth"], 2);
    assert_eq!(q["stats"]["next_seq"], 4);
}
