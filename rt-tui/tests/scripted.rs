//! The scripted commands against a real rt-server: exports parsed back and compared with the
//! server's rows, atomic output on a cut connection, exit codes, login/logout, admin helpers.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fleet, run, text};
use rt_core::api::{DeviceDetail, DeviceSummary, Page};
use rt_core::export::{DEVICE_COLUMNS, SAMPLE_COLUMNS};
use std::collections::BTreeMap;
use std::io::{Read, Write};

async fn server_devices(url: &str, token: &str) -> Vec<DeviceSummary> {
    let page: Page<DeviceSummary> = reqwest::Client::new()
        .get(format!("{url}/api/v1/devices?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page.items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_parse_back_to_the_servers_rows() {
    let f = fleet().await;
    let url = f.server.url.clone();
    let tok = f.server.admin_token.clone();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let expected: BTreeMap<i64, String> = server_devices(&url, &tok)
        .await
        .into_iter()
        .map(|d| (d.id.0, d.name))
        .collect();
    assert_eq!(expected.len(), common::DEVICES.len());
    let total_samples: u64 = f.devices.iter().map(|d| d.2).sum();

    // Devices as CSV to a file: the product's columns, one row per device.
    let out = dir.path().join("devices.csv");
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &[
            "export",
            "--format",
            "csv",
            "--what",
            "devices",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty(), "data goes to the file, not stdout");
    assert!(
        text(&o.stderr).contains("exported 4 devices rows"),
        "{}",
        text(&o.stderr)
    );
    let mut rdr = csv::Reader::from_path(&out).unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(headers, DEVICE_COLUMNS);
    let got: BTreeMap<i64, String> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_string())
        })
        .collect();
    assert_eq!(got, expected);

    // Samples as CSV on stdout with --since: every posted sample, seqs per device complete.
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["export", "--format", "csv", "--since", "7d"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(headers, SAMPLE_COLUMNS);
    let seq_col = headers.iter().position(|h| h == "seq").unwrap();
    let mut per_device: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for r in rdr.records() {
        let r = r.unwrap();
        per_device
            .entry(r[0].parse().unwrap())
            .or_default()
            .push(r[seq_col].parse().unwrap());
    }
    for (id, _, n) in &f.devices {
        let mut seqs = per_device.remove(id).unwrap_or_default();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=*n).collect::<Vec<_>>(), "device {id}");
    }
    assert!(
        text(&o.stderr).contains(&format!("exported {total_samples} samples rows")),
        "{}",
        text(&o.stderr)
    );

    // JSON and NDJSON of samples: the same rows with the same keys.
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["export", "--format", "json", "--since", "7d"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows.len() as u64, total_samples);
    for c in SAMPLE_COLUMNS {
        assert!(rows[0].contains_key(*c), "json row lacks {c}");
    }
    assert!(
        text(&o.stderr).contains(&format!("exported {total_samples} samples rows")),
        "{}",
        text(&o.stderr)
    );
    let first = f.devices[0].0;
    let out = dir.path().join("one.ndjson");
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &[
            "export",
            "--format",
            "ndjson",
            "--device",
            &first.to_string(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let body = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, f.devices[0].2);
    assert!(lines.iter().all(|l| l["device_id"] == first));

    // devices --csv uses the same columns; --json the API objects; --filter narrows.
    let o = run(&cfg, &url, Some(&tok), &["devices", "--csv"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        DEVICE_COLUMNS
    );
    assert_eq!(rdr.records().count(), 4);
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["devices", "--json", "--filter", "health:critical"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let crit: Vec<DeviceSummary> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        crit.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        vec!["crit-box"]
    );
    let o = run(&cfg, &url, Some(&tok), &["devices"]);
    assert!(o.status.success());
    assert!(
        text(&o.stdout).contains("CRITICAL") && text(&o.stdout).contains("crit-box"),
        "{}",
        text(&o.stdout)
    );

    f.server.stop().await;
}

/// Forwards one connection to `upstream` but cuts the response after `keep` bytes.
fn cutting_proxy(
    upstream: std::net::SocketAddr,
    keep: usize,
) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = client.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let mut up = std::net::TcpStream::connect(upstream).unwrap();
        up.write_all(&req).unwrap();
        let mut sent = 0;
        while sent < keep {
            let n = up.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            let take = n.min(keep - sent);
            client.write_all(&buf[..take]).unwrap();
            sent += take;
        }
        // Dropping both sockets cuts the stream mid-body.
        let _ = client.shutdown(std::net::Shutdown::Both);
    });
    (addr, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_export_leaves_no_file_and_auth_errors_exit_3() {
    let f = fleet().await;
    let url = f.server.url.clone();
    let tok = f.server.admin_token.clone();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let outdir = dir.path().join("out");
    std::fs::create_dir(&outdir).unwrap();

    // A connection cut in the middle of the body: exit 1, nothing at --output, no leftovers.
    let (proxy, h) = cutting_proxy(f.server.addr, 2_000);
    let out = outdir.join("fleet.csv");
    let o = run(
        &cfg,
        &format!("http://{proxy}"),
        Some(&tok),
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "7d",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    h.join().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("run the export again"),
        "{}",
        text(&o.stderr)
    );
    assert!(
        !out.exists(),
        "a failed export must not leave {}",
        out.display()
    );
    assert_eq!(
        std::fs::read_dir(&outdir).unwrap().count(),
        0,
        "no temporary file left behind"
    );

    // The same export through the real server works and lands atomically.
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "7d",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(out.exists());

    // No token at all: exit 3 and the fix.
    let o = run(&cfg, &url, None, &["devices"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        text(&o.stderr).contains("rt-tui login --server URL"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&cfg, &url, None, &["export", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(3));
    // A wrong token: exit 3.
    let o = run(&cfg, &url, Some("not-a-token"), &["devices"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("rt-tui login"),
        "{}",
        text(&o.stderr)
    );
    // A viewer may not assign: exit 3 (forbidden), and the server is unchanged.
    let viewer = f
        .server
        .user_token("vera", rt_core::Role::Viewer)
        .await
        .unwrap();
    let id = f.devices[0].0.to_string();
    let o = run(&cfg, &url, Some(&viewer), &["assign", &id, "alice"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    // Usage errors: exit 2.
    let o = run(&cfg, &url, Some(&tok), &["export", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["export", "--format", "csv", "--since", "soon"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["devices", "--filter", "colour:red"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));

    // Admin helpers: assign, lifecycle (allowed and refused), enroll-token.
    let o = run(&cfg, &url, Some(&tok), &["assign", &id, "alice"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&cfg, &url, Some(&tok), &["lifecycle", &id, "lost"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&cfg, &url, Some(&tok), &["lifecycle", &id, "deployed"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("allowed from lost"),
        "{}",
        text(&o.stderr)
    );
    let o = run(&cfg, &url, Some(&tok), &["device", &id, "--json"]);
    let d: DeviceDetail = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d.summary.assignee.as_deref(), Some("alice"));
    assert_eq!(d.summary.lifecycle_state, rt_core::LifecycleState::Lost);
    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["enroll-token", "create", "--expires", "2h", "--uses", "3"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(!text(&o.stdout).trim().is_empty());

    f.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_keeps_the_token_and_logout_forgets_it() {
    let server = rt_server::testing::TestServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let mut cmd = std::process::Command::new(common::BIN);
    let mut child = cmd
        .args([
            "login",
            "--server",
            &server.url,
            "--username",
            rt_server::testing::ADMIN_USER,
            "--password-stdin",
        ])
        .env_remove("RT_TOKEN")
        .env_remove("RT_SERVER_URL")
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(
        child.stdin.take().unwrap(),
        "{}",
        rt_server::testing::ADMIN_PASSWORD
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    // The token is not printed; it sits in a 0600 file in the config dir.
    assert!(!text(&o.stdout).contains("rt_"), "{}", text(&o.stdout));
    let whoami = std::process::Command::new(common::BIN)
        .args(["whoami"])
        .env_remove("RT_TOKEN")
        .env_remove("RT_SERVER_URL")
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .output()
        .unwrap();
    assert!(whoami.status.success(), "{}", text(&whoami.stderr));
    assert!(
        text(&whoami.stdout).starts_with("admin (admin)"),
        "{}",
        text(&whoami.stdout)
    );
    let o = std::process::Command::new(common::BIN)
        .args(["logout"])
        .env_remove("RT_TOKEN")
        .env_remove("RT_SERVER_URL")
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = std::process::Command::new(common::BIN)
        .args(["whoami"])
        .env_remove("RT_TOKEN")
        .env_remove("RT_SERVER_URL")
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    // Wrong password: exit 3.
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "login",
            "--server",
            &server.url,
            "-u",
            "admin",
            "--password-stdin",
        ])
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "wrong").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_hostile_text_is_escaped_in_the_devices_table_and_csv() {
    let f = fleet().await;
    let url = f.server.url.clone();
    let tok = f.server.admin_token.clone();
    // Values stored before text hygiene existed: written by the store, past the API's checks.
    let patch = rt_core::api::DevicePatch {
        name: Some("\u{1b}[2Jpwned".into()),
        assignee: Some("bob\u{202E}gpj.exe".into()),
        notes: Some("c1\u{9b}31m".into()),
        ..Default::default()
    };
    let store = rt_server::server::open_store(&f.server.config).unwrap();
    let id = f.devices[0].0;
    store
        .run_sync(|c| {
            rt_server::store::devices::apply_patch(c, id, &patch, "legacy", chrono::Utc::now())
        })
        .unwrap()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let id_s = id.to_string();
    for args in [
        vec!["devices"],
        vec!["devices", "--csv"],
        vec!["device", id_s.as_str()],
    ] {
        let o = run(&cfg, &url, Some(&tok), &args);
        assert!(o.status.success(), "{args:?}: {}", text(&o.stderr));
        let out = text(&o.stdout);
        let lines = out.replace(['\n', '\r'], " ");
        assert_eq!(
            rt_core::text::first_unsafe(&lines, false),
            None,
            "{args:?} printed a raw control character: {out:?}"
        );
        assert!(out.contains("\\u{1b}[2Jpwned"), "{args:?}: {out}");
        if args[0] == "devices" {
            assert!(out.contains("bob\\u{202e}gpj.exe"), "{args:?}: {out}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_are_listed_as_table_and_json_and_acknowledged() {
    let f = fleet().await;
    let url = f.server.url.clone();
    let tok = f.server.admin_token.clone();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let o = run(&cfg, &url, Some(&tok), &["alerts", "--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let alerts: Vec<rt_core::alert::api::AlertInfo> = serde_json::from_slice(&o.stdout).unwrap();
    let disk: Vec<_> = alerts.iter().filter(|a| a.rule == "disk_usage").collect();
    // crit-box is 97 % full, warm-box 92 %: one critical and one warning disk alert.
    assert_eq!(disk.len(), 2, "{alerts:?}");
    let crit = disk.iter().find(|a| a.device_name == "crit-box").unwrap();
    assert_eq!(crit.severity, rt_core::alert::Severity::Critical);
    assert_eq!(crit.state, rt_core::alert::api::AlertState::Firing);

    let o = run(
        &cfg,
        &url,
        Some(&tok),
        &["alerts", "--severity", "critical"],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let table = text(&o.stdout);
    assert!(
        table.contains("crit-box") && table.contains("disk_usage:/"),
        "{table}"
    );
    assert!(!table.contains("warm-box"), "{table}");

    let id = crit.id.to_string();
    let o = run(&cfg, &url, Some(&tok), &["ack", id.as_str()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = run(&cfg, &url, Some(&tok), &["silence", id.as_str(), "4"]);
    assert_eq!(o.status.code(), Some(2), "a bare number is refused");
    let o = run(&cfg, &url, Some(&tok), &["alerts", "--json"]);
    let alerts: Vec<rt_core::alert::api::AlertInfo> = serde_json::from_slice(&o.stdout).unwrap();
    let acked = alerts.iter().find(|a| a.id == crit.id).unwrap();
    assert_eq!(acked.acknowledged_by.as_deref(), Some("admin"));
}

/// HTTPS with a private CA: refused (exit 1, told to pass --ca-file) until the CA is given;
/// `login --ca-file` saves it for that server, so later commands need no flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_a_private_ca_through_ca_file_and_login() {
    let dir = tempfile::tempdir().unwrap();
    let pki = rt_server::testing::test_pki(&dir.path().join("pki"), "rt console CA").unwrap();
    let mut config = rt_server::Config::with_data_dir(dir.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(pki.tls_files());
    let server = rt_server::testing::TestServer::start_with(config)
        .await
        .unwrap();
    let cfg = dir.path().join("cfg");
    let console = |args: &[&str]| {
        std::process::Command::new(common::BIN)
            .args(args)
            .env_remove("RT_TOKEN")
            .env_remove("RT_SERVER_URL")
            .env_remove("RT_CA_FILE")
            .env_remove("SSL_CERT_FILE")
            .env_remove("SSL_CERT_DIR")
            .env("RT_TUI_CONFIG_DIR", &cfg)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let url = server.url.clone();
    let token = server.admin_token.clone();
    let o = console(&["--server", &url, "--token", &token, "devices", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--ca-file"), "{}", text(&o.stderr));
    let ca = pki.ca.display().to_string();
    let o = console(&[
        "--server",
        &url,
        "--token",
        &token,
        "--ca-file",
        &ca,
        "devices",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout).trim(), "[]");

    // login --ca-file keeps the CA with the server; whoami then needs no flag at all.
    let mut child = std::process::Command::new(common::BIN)
        .args([
            "login",
            "--server",
            &url,
            "--ca-file",
            &ca,
            "-u",
            rt_server::testing::ADMIN_USER,
            "--password-stdin",
        ])
        .env_remove("RT_TOKEN")
        .env_remove("RT_SERVER_URL")
        .env_remove("RT_CA_FILE")
        .env("RT_TUI_CONFIG_DIR", &cfg)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(
        child.stdin.take().unwrap(),
        "{}",
        rt_server::testing::ADMIN_PASSWORD
    )
    .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = console(&["whoami"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).starts_with("admin (admin)"),
        "{}",
        text(&o.stdout)
    );
    server.stop().await;
}
