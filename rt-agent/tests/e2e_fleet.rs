//! End to end, with the real binaries: `rt-server` on a loopback port with SQLite in a temp
//! dir, this machine's real agent (`rt-agent enroll`, `collect`, `sync`), the simulator
//! (`rt-sim`) and the console's export (`rt-tui export --format csv`). The counts
//! must agree on every side and the exported CSV must hold exactly the stored samples.
//!
//! The binaries are taken from the directory of `rt-agent` (target/debug); `scripts/test.sh`
//! builds all of them before `cargo test`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const ADMIN_PASSWORD: &str = "e2e-admin-password-1";
const SIM_DEVICES: u64 = 9;

fn bin(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_rt-agent")).parent().unwrap();
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is missing: build every binary first (scripts/test.sh runs `cargo build --workspace --bins`)",
        p.display()
    );
    p
}

/// Kills the server when the test ends, however it ends.
struct ServerProc(Child);

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run a command, feed `stdin`, and insist on success.
fn run(cmd: &mut Command, stdin: Option<&str>) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{shown} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let resp = http.get(url).bearer_auth(token).send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(status.is_success(), "GET {url}: {status}: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn quickstart_flow_counts_agree_from_agent_and_simulator_to_csv_export() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("server");
    let agent_state = tmp.path().join("agent");
    let console = tmp.path().join("console");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");

    // Server with an admin account.
    run(
        Command::new(bin("rt-server"))
            .env("RT_DATA_DIR", &data)
            .args([
                "user",
                "add",
                "admin",
                "--role",
                "admin",
                "--password-stdin",
            ]),
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    let _server = ServerProc(
        Command::new(bin("rt-server"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "rt-server not ready on {url} after 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });

    // The console logs in and makes an enrollment token.
    let tui = |args: &[&str], stdin: Option<&str>| -> Output {
        run(
            Command::new(bin("rt-tui"))
                .env("RT_TUI_CONFIG_DIR", &console)
                .env_remove("RT_TOKEN")
                .env("NO_COLOR", "1")
                .arg("--server")
                .arg(&url)
                .args(args),
            stdin,
        )
    };
    tui(
        &["login", "--username", "admin", "--password-stdin"],
        Some(&format!("{ADMIN_PASSWORD}\n")),
    );
    let out = tui(
        &["enroll-token", "create", "--expires", "1h", "--uses", "50"],
        None,
    );
    let enroll_token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(!enroll_token.is_empty() && !enroll_token.contains(char::is_whitespace));

    let admin_token = rt.block_on(async {
        let r: Value = http
            .post(format!("{url}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().unwrap().to_string()
    });

    // This machine's real agent: enroll, collect twice, sync.
    let agent = || {
        let mut c = Command::new(bin("rt-agent"));
        c.arg("--state-dir")
            .arg(&agent_state)
            .env_remove("RT_TOKEN");
        c
    };
    run(
        agent().args([
            "enroll",
            "--non-interactive",
            "--server",
            &url,
            "--token",
            &enroll_token,
            "--install",
            "none",
            "--credential-store",
            "file",
        ]),
        None,
    );
    run(agent().args(["collect", "--no-upload"]), None);
    run(agent().arg("collect"), None);
    run(agent().arg("sync"), None);

    // The simulator: every persona up to the shared hostname (9 devices), one day, 30 min.
    let summary_file = tmp.path().join("summary.json");
    run(
        Command::new(bin("rt-sim"))
            .env_remove("RT_TOKEN")
            .args(["--devices", &SIM_DEVICES.to_string()])
            .args([
                "--history",
                "1d",
                "--interval",
                "30m",
                "--seed",
                "7",
                "--quiet",
            ])
            .args([
                "--server",
                &url,
                "--token",
                &enroll_token,
                "--admin-token",
                &admin_token,
            ])
            .arg("--summary-json")
            .arg(&summary_file),
        None,
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(&summary_file).unwrap()).unwrap();
    assert_eq!(summary["enrolled"], SIM_DEVICES, "{summary:#}");
    assert_eq!(summary["failed_devices"], 0, "{summary:#}");
    assert_eq!(summary["failed_batches"], 0, "{summary:#}");
    assert_eq!(summary["rejected"], 0, "{summary:#}");
    assert_eq!(
        summary["duplicates"], 0,
        "a fresh server has nothing to duplicate"
    );
    assert_eq!(
        summary["lifecycle_changes"], 2,
        "retired and in-stock devices: {summary:#}"
    );
    let sim_accepted = summary["accepted"].as_u64().unwrap();
    assert_eq!(sim_accepted, summary["samples_sent"].as_u64().unwrap());
    assert!(
        sim_accepted > SIM_DEVICES * 5,
        "a day of history per device: {sim_accepted}"
    );

    // Per simulated device: device id -> last seq (seq runs 1..=last).
    let mut expected: BTreeMap<i64, BTreeSet<u64>> = BTreeMap::new();
    let mut sim_ids: BTreeSet<i64> = BTreeSet::new();
    for d in summary["per_device"].as_array().unwrap() {
        let id = d["device_id"].as_i64().unwrap();
        let last = d["last_seq"].as_u64().unwrap();
        assert_eq!(d["stored"].as_u64().unwrap(), last, "{d}");
        assert!(sim_ids.insert(id), "device id {id} twice in the summary");
        // A laptop may sleep through a whole (weekend) day: no samples, no rows.
        if last > 0 {
            expected.insert(id, (1..=last).collect());
        }
    }
    assert_eq!(sim_ids.len() as u64, SIM_DEVICES, "distinct device ids");

    // Server side: device list and fleet summary.
    let (devices, fleet) = rt.block_on(async {
        (
            get_json(
                &http,
                &format!("{url}/api/v1/devices?limit=1000"),
                &admin_token,
            )
            .await,
            get_json(&http, &format!("{url}/api/v1/fleet/summary"), &admin_token).await,
        )
    });
    let items = devices["items"].as_array().unwrap();
    assert_eq!(
        devices["total"],
        SIM_DEVICES + 1,
        "simulated + this machine: {devices:#}"
    );
    assert_eq!(items.len() as u64, SIM_DEVICES + 1);
    assert_eq!(fleet["total"], SIM_DEVICES + 1, "{fleet:#}");
    assert_eq!(
        fleet["online"].as_u64().unwrap() + fleet["offline"].as_u64().unwrap(),
        SIM_DEVICES + 1
    );
    assert_eq!(fleet["by_lifecycle"]["retired"], 1, "{fleet:#}");
    assert_eq!(fleet["by_lifecycle"]["in_stock"], 1, "{fleet:#}");
    let by_health_total: u64 = fleet["by_health"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_health_total, SIM_DEVICES + 1, "{fleet:#}");
    let reception: Vec<&Value> = items
        .iter()
        .filter(|d| d["hostname"] == "RECEPTION-PC")
        .collect();
    assert_eq!(
        reception.len(),
        2,
        "same hostname, two machines, two devices"
    );
    assert_ne!(reception[0]["id"], reception[1]["id"]);
    let this_machine: Vec<i64> = items
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .filter(|id| !sim_ids.contains(id))
        .collect();
    assert_eq!(
        this_machine.len(),
        1,
        "exactly one real device besides the simulated ones"
    );
    let real_id = this_machine[0];

    // Export: exactly the stored samples.
    let csv_file = tmp.path().join("samples.csv");
    let mut args = vec![
        "export",
        "--format",
        "csv",
        "--what",
        "samples",
        "--from",
        "2000-01-01",
    ];
    let csv_path = csv_file.to_str().unwrap();
    args.extend(["--output", csv_path]);
    tui(&args, None);
    let csv_bytes = std::fs::read(&csv_file).unwrap();
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {headers:?}"))
    };
    let (c_dev, c_seq) = (col("device_id"), col("seq"));
    let mut exported: BTreeMap<i64, BTreeSet<u64>> = BTreeMap::new();
    let mut rows = 0u64;
    for rec in reader.records() {
        let rec = rec.unwrap();
        rows += 1;
        let id: i64 = rec[c_dev].parse().unwrap();
        let seq: u64 = rec[c_seq].parse().unwrap();
        assert!(
            exported.entry(id).or_default().insert(seq),
            "device {id} seq {seq} exported twice"
        );
    }
    let real = exported.remove(&real_id).unwrap_or_default();
    assert_eq!(
        real,
        (1..=2).collect::<BTreeSet<u64>>(),
        "the real agent's two samples"
    );
    assert_eq!(
        exported, expected,
        "exported seqs per simulated device = uploaded seqs"
    );
    assert_eq!(
        rows,
        sim_accepted + 2,
        "CSV rows = samples accepted by the server"
    );
}
