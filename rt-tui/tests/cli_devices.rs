//! Devices addressed by id, name or asset tag in the scripted commands, against a real
//! rt-server: exact matches only, an ambiguous name is a usage error listing the matches, an
//! unknown device is an error (never an empty export); a closed stdout ends quietly with 0.
#![allow(clippy::unwrap_used)]

mod common;

use common::{fleet, run, text};
use rt_core::api::{DevicePatch, DeviceSummary};
use std::io::Read;
use std::process::{Command, Stdio};

async fn patch(url: &str, token: &str, id: i64, p: &DevicePatch) {
    let resp = reqwest::Client::new()
        .patch(format!("{url}/api/v1/devices/{id}"))
        .bearer_auth(token)
        .json(p)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_by_id_name_or_asset_tag() {
    let f = fleet().await;
    let url = f.server.url.clone();
    let tok = f.server.admin_token.clone();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let id_of = |name: &str| f.devices.iter().find(|d| d.1 == name).unwrap().0;
    let (crit, warm, calm, idle) = (
        id_of("crit-box"),
        id_of("warm-box"),
        id_of("calm-box"),
        id_of("idle-box"),
    );
    let tag = |t: &str| DevicePatch {
        asset_tag: Some(t.into()),
        ..Default::default()
    };
    patch(&url, &tok, warm, &tag("AT-0002")).await;
    // calm-box's tag is idle-box's name: "idle-box" names two devices.
    patch(&url, &tok, calm, &tag("idle-box")).await;

    let shown = |args: &[&str]| {
        let out = run(&cfg, &url, Some(&tok), args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let d: rt_core::api::DeviceDetail = serde_json::from_slice(&out.stdout).unwrap();
        d.summary.id.0
    };
    assert_eq!(shown(&["device", &crit.to_string(), "--json"]), crit);
    assert_eq!(shown(&["device", "crit-box", "--json"]), crit);
    assert_eq!(
        shown(&["device", "CRIT-BOX", "--json"]),
        crit,
        "case ignored"
    );
    assert_eq!(
        shown(&["device", "at-0002", "--json"]),
        warm,
        "by asset tag"
    );

    // A substring is not a match, an unknown name or id is an error (exit 1).
    for (arg, why) in [
        ("crit", "no device named or tagged \"crit\""),
        ("no-such-box", "no device named or tagged"),
        ("999999", "no device with id 999999"),
    ] {
        let out = run(&cfg, &url, Some(&tok), &["device", arg]);
        assert_eq!(out.status.code(), Some(1), "{arg}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains(why),
            "{arg}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    // Ambiguous: a usage error listing both matches with their ids.
    let out = run(&cfg, &url, Some(&tok), &["device", "idle-box"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("matches 2 devices"), "{err}");
    assert!(
        err.contains(&format!("{calm} (calm-box, tag idle-box)")),
        "{err}"
    );
    assert!(err.contains(&format!("{idle} (idle-box)")), "{err}");

    // assign / lifecycle by name, checked on the server.
    let out = run(&cfg, &url, Some(&tok), &["assign", "at-0002", "alice"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        &cfg,
        &url,
        Some(&tok),
        &["lifecycle", "crit-box", "in_repair"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list: rt_core::api::Page<DeviceSummary> = reqwest::Client::new()
        .get(format!("{url}/api/v1/devices?limit=100"))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let by_id = |id: i64| list.items.iter().find(|d| d.id.0 == id).unwrap();
    assert_eq!(by_id(warm).assignee.as_deref(), Some("alice"));
    assert_eq!(by_id(crit).lifecycle_state.as_str(), "in_repair");

    // Export: a named device exports its rows only; an unknown one fails without a file.
    let out_file = dir.path().join("crit.csv");
    let out = run(
        &cfg,
        &url,
        Some(&tok),
        &[
            "export",
            "--format",
            "csv",
            "--since",
            "30d",
            "--device",
            "crit-box",
            "-o",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut rdr = csv::Reader::from_path(&out_file).unwrap();
    let col = rdr
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "device_id")
        .unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    let crit_samples = f.devices.iter().find(|d| d.0 == crit).unwrap().2;
    assert_eq!(rows.len() as u64, crit_samples);
    assert!(rows.iter().all(|r| r[col] == crit.to_string()));
    let none_file = dir.path().join("none.csv");
    let out = run(
        &cfg,
        &url,
        Some(&tok),
        &[
            "export",
            "--format",
            "csv",
            "--device",
            "no-such-box",
            "-o",
            none_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!none_file.exists());
    let out = run(
        &cfg,
        &url,
        Some(&tok),
        &["export", "--format", "csv", "--device", "no-such-box"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout for an unknown device"
    );

    // A closed stdout: the table (println!) and a streamed export end quietly with 0.
    for args in [
        &["devices"][..],
        &["device", "crit-box"],
        &["export", "--format", "csv", "--since", "30d"],
    ] {
        let mut child = Command::new(common::BIN)
            .args(args)
            .env_remove("RT_TOKEN")
            .env("RT_TOKEN", &tok)
            .env("RT_SERVER_URL", &url)
            .env("RT_TUI_CONFIG_DIR", &cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let code = child.wait().unwrap().code();
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("error"),
            "{args:?}: {err}"
        );
    }
}
