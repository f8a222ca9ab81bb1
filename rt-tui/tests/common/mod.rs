//! Shared helpers of the end-to-end tests: a real rt-server holding a few devices with
//! telemetry, and running the real `rt-tui` binary.
#![allow(clippy::unwrap_used, dead_code)]

use chrono::{Duration, Utc};
use rt_core::api::{EnrollRequest, EnrollResponse, TelemetryAck, TelemetryBatch};
use rt_core::{Inventory, Sample};
use rt_server::testing::TestServer;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_rt-tui");

/// (name, disk used %, samples). The first one is critical (disk 97% full).
pub const DEVICES: [(&str, f64, u64); 4] = [
    ("crit-box", 97.0, 30),
    ("warm-box", 92.0, 20),
    ("calm-box", 40.0, 25),
    ("idle-box", 20.0, 10),
];

pub struct Fleet {
    pub server: TestServer,
    /// (device id, name, samples posted)
    pub devices: Vec<(i64, String, u64)>,
}

pub async fn fleet() -> Fleet {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token().await.unwrap();
    let http = reqwest::Client::new();
    let mut devices = Vec::new();
    for (name, disk_pct, n) in DEVICES {
        let req = EnrollRequest {
            enrollment_token: Some(token.clone()),
            username: None,
            password: None,
            inventory: Inventory {
                hostname: name.into(),
                os_name: "Ubuntu".into(),
                os_version: "24.04".into(),
                machine_id: Some(format!("machine-{name}")),
                cpu_cores: 2,
                ..Default::default()
            },
            device_name: Some(name.into()),
            asset_tag: None,
            assignee: None,
        };
        let resp = http
            .post(format!("{}/api/v1/enroll", server.url))
            .json(&req)
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "enroll {name}: {}",
            resp.status()
        );
        let e: EnrollResponse = resp.json().await.unwrap();
        let now = Utc::now();
        let samples: Vec<Sample> = (1..=n)
            .map(|seq| {
                let mut s = Sample::example(seq, now - Duration::minutes(5 * (n - seq) as i64));
                s.cpu.usage_pct = (seq * 7 % 100) as f64;
                let total = s.disks[0].total_bytes;
                s.disks[0].available_bytes = (total as f64 * (1.0 - disk_pct / 100.0)) as u64;
                s
            })
            .collect();
        let resp = http
            .post(format!("{}/api/v1/telemetry", server.url))
            .bearer_auth(&e.device_token)
            .json(&TelemetryBatch {
                agent_version: "0.1.0".into(),
                samples,
            })
            .send()
            .await
            .unwrap();
        assert!(
            resp.status().is_success(),
            "telemetry {name}: {}",
            resp.status()
        );
        let ack: TelemetryAck = resp.json().await.unwrap();
        assert_eq!(ack.accepted, n, "{name}");
        devices.push((e.device_id.0, name.to_string(), n));
    }
    Fleet { server, devices }
}

/// Runs `rt-tui args...` with the server URL and `token` in the environment and an isolated
/// config directory.
pub fn run(config_dir: &Path, url: &str, token: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("RT_TOKEN")
        .env("RT_SERVER_URL", url)
        .env("RT_TUI_CONFIG_DIR", config_dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    if let Some(t) = token {
        cmd.env("RT_TOKEN", t);
    }
    cmd.output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
