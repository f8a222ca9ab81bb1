//! Sequence continuity through the real `rt-agent` binary against a real rt-server (issue 11):
//! every sample collected after the agent lost its state — a reinstall on known hardware from an
//! empty state directory, damaged queue bookkeeping with and without the upload state — is stored
//! on the server under its own seq, with the payload the agent collected. And `rt-agent run`
//! stops on SIGTERM with exit 0 and its queue intact, whenever the signal comes.
#![allow(clippy::unwrap_used)]

use rt_agent::queue::{Queue, QueueConfig};
use rt_core::Sample;
use rt_core::export::{SAMPLE_COLUMNS, sample_cells};
use rt_server::testing::{ADMIN_PASSWORD, ADMIN_USER, TestServer};
use std::collections::BTreeSet;
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

/// Enrolls this machine with the admin's credentials (allowed to re-enroll known hardware).
async fn enroll(server: &TestServer, state: &Path) -> i64 {
    let o = agent(
        state,
        &[
            "enroll",
            "--non-interactive",
            "--server",
            &server.url,
            "--username",
            ADMIN_USER,
            "--password-stdin",
            "--credential-store",
            "file",
            "--force",
        ],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    )
    .await;
    assert_eq!(o.code, 0, "enroll failed: {} {}", o.stdout, o.stderr);
    let conf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("config.json")).unwrap()).unwrap();
    conf["device_id"].as_i64().unwrap()
}

/// Collects `n` samples into the queue without uploading; returns what was queued (the exact
/// payloads, read back from the queue files).
async fn collect(state: &Path, n: usize) -> Vec<Sample> {
    for _ in 0..n {
        let o = agent(state, &["collect", "--no-upload"], None).await;
        assert_eq!(o.code, 0, "collect failed: {}", o.stderr);
    }
    let mut q = Queue::open_read_only(&state.join("queue"), QueueConfig::default()).unwrap();
    q.peek(10_000, usize::MAX)
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.payload).unwrap())
        .collect()
}

async fn sync(state: &Path) -> Out {
    agent(state, &["sync"], None).await
}

/// Every stored sample of the device as its export row (column name -> value).
async fn stored(
    server: &TestServer,
    device_id: i64,
) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let body = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/export/samples?format=ndjson&device={device_id}",
            server.url
        ))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The export row the server would give for `s` (seq and device name left out: a re-sequenced
/// sample has a new seq, and the name is the server's).
fn row_of(device_id: i64, s: &Sample) -> Vec<(String, serde_json::Value)> {
    SAMPLE_COLUMNS
        .iter()
        .zip(sample_cells(rt_core::DeviceId(device_id), "", s))
        .filter(|(c, _)| !matches!(**c, "seq" | "device_name" | "name"))
        .map(|(c, v)| (c.to_string(), v.to_json()))
        .collect()
}

/// Asserts that the server stores every sample of `queued`, each once, with its payload, and
/// that no seq is stored twice.
fn assert_all_stored(
    device_id: i64,
    rows: &[serde_json::Map<String, serde_json::Value>],
    queued: &[Sample],
    what: &str,
) {
    let seqs: Vec<u64> = rows.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seqs.len(),
        "{what}: a seq stored twice: {seqs:?}"
    );
    for s in queued {
        let want = row_of(device_id, s);
        let found = rows
            .iter()
            .filter(|r| want.iter().all(|(c, v)| r.get(c) == Some(v)))
            .count();
        assert_eq!(
            found, 1,
            "{what}: the sample collected at {} (queued as seq {}) is stored {found} times; stored seqs {seqs:?}",
            s.collected_at, s.seq
        );
    }
}

#[tokio::test]
async fn every_sample_collected_after_state_loss_is_stored() {
    let server = TestServer::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("agent");

    let device = enroll(&server, &state).await;
    let first = collect(&state, 3).await;
    let o = sync(&state).await;
    assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    assert_all_stored(
        device,
        &stored(&server, device).await,
        &first,
        "first install",
    );

    // 1. Reinstall: the state directory is gone; the same hardware enrolls again.
    std::fs::remove_dir_all(&state).unwrap();
    let again = enroll(&server, &state).await;
    assert_eq!(again, device, "known hardware is the same device");
    let after_reinstall = collect(&state, 3).await;
    assert!(
        after_reinstall.iter().all(|s| s.seq > 3),
        "seqs continue above what the server stores: {:?}",
        after_reinstall.iter().map(|s| s.seq).collect::<Vec<_>>()
    );
    let o = sync(&state).await;
    assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    let rows = stored(&server, device).await;
    assert_eq!(rows.len(), 6);
    assert_all_stored(device, &rows, &first, "reinstall (old samples)");
    assert_all_stored(device, &rows, &after_reinstall, "reinstall");

    // 2. Queue bookkeeping damaged while the queue was empty; the floor in upload.json holds.
    std::fs::write(state.join("queue/meta.json"), b"{\"next_seq\": 7, \"he").unwrap();
    let o = agent(&state, &["queue"], None).await;
    assert_eq!(
        o.code, 0,
        "queue works read-only on damaged metadata: {}",
        o.stderr
    );
    assert!(o.stdout.contains("meta.json"), "{}", o.stdout);
    let o = agent(&state, &["status", "--json"], None).await;
    let st: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(
        st["queue"]["depth"].is_u64(),
        "status reads the damaged queue: {}",
        o.stdout
    );
    assert_ne!(
        o.code, 0,
        "damaged bookkeeping needs attention: {}",
        o.stdout
    );
    let after_damage = collect(&state, 2).await;
    let o = sync(&state).await;
    assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    let rows = stored(&server, device).await;
    assert_eq!(rows.len(), 8);
    assert_all_stored(device, &rows, &after_damage, "damaged meta.json");

    // 3. Bookkeeping and upload state both lost: seqs restart at 1, the server reports
    //    conflicts, and the agent re-sends those samples under new seqs instead of deleting them.
    std::fs::write(state.join("queue/meta.json"), b"garbage").unwrap();
    std::fs::remove_file(state.join("upload.json")).unwrap();
    let after_total_loss = collect(&state, 2).await;
    assert_eq!(
        after_total_loss.iter().map(|s| s.seq).collect::<Vec<_>>(),
        vec![1, 2],
        "nothing left to know the floor from"
    );
    let o = sync(&state).await;
    assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    assert!(o.stdout.contains("re-sent under a new seq"), "{}", o.stdout);
    let rows = stored(&server, device).await;
    assert_eq!(rows.len(), 10, "{rows:?}");
    assert_all_stored(device, &rows, &first, "total loss (first samples kept)");
    assert_all_stored(device, &rows, &after_total_loss, "total loss");
    let o = agent(&state, &["queue", "--json"], None).await;
    let q: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(q["stats"]["depth"], 0);
    assert_eq!(q["stats"]["resequenced_total"], 2);
    server.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn run_stops_on_sigterm_with_exit_0_and_its_queue_intact() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let server = TestServer::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("agent");
    enroll(&server, &state).await;
    // No server from here on: whatever is collected stays queued.
    server.stop().await;

    // Signal at start-up (before the first collection is done), and later, once one and two
    // collections are in the queue.
    let depth = |state: &Path| {
        Queue::open_read_only(&state.join("queue"), QueueConfig::default())
            .map(|q| q.len())
            .unwrap_or(0)
    };
    for (round, grow) in [(0usize, 0usize), (1, 1), (2, 2)] {
        let before = depth(&state);
        let mut child = Command::new(env!("CARGO_BIN_EXE_rt-agent"))
            .arg("--state-dir")
            .arg(&state)
            .args(["run", "--interval", "1s"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let line = tokio::time::timeout_at(deadline, lines.next_line())
                .await
                .unwrap_or_else(|_| panic!("round {round}: agent did not start: {seen}"))
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: agent ended early: {seen}"));
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("running") {
                break;
            }
        }
        while depth(&state) < before + grow {
            assert!(
                tokio::time::Instant::now() < deadline,
                "round {round}: no collection in time"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let pid = child.id().unwrap();
        let kill = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let mut rest = String::new();
        while let Ok(Some(l)) = lines.next_line().await {
            rest.push_str(&l);
            rest.push('\n');
        }
        let status = child.wait().await.unwrap();
        assert_eq!(
            status.code(),
            Some(0),
            "round {round}: SIGTERM ends `rt-agent run` cleanly ({status:?}): {seen}{rest}"
        );
        let stopped = rest
            .lines()
            .find(|l| l.contains("stopped after"))
            .unwrap_or_else(|| panic!("round {round}: no stop line: {seen}{rest}"));
        let q = Queue::open(&state.join("queue"), QueueConfig::default()).unwrap();
        assert_eq!(q.recovery().damaged_records, 0, "round {round}");
        assert_eq!(q.recovery().torn_tail_bytes, 0, "round {round}");
        assert!(q.recovery().lost.is_empty(), "round {round}");
        assert!(
            stopped.contains(&format!("{} sample(s) queued", q.len())),
            "round {round}: queue holds what the agent said: {stopped} vs {}",
            q.len()
        );
        assert!(q.len() >= before, "round {round}: nothing left the queue");
    }
}
