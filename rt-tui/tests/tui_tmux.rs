//! The real `rt-tui` binary in an 80x24 tmux pane against a real rt-server: start, filter by
//! level, open a device, assign it, sort, bulk-assign two devices, quit; and the alerts screen:
//! alerts raised by posted samples, acknowledged with confirmation — asserting on captured
//! panes and on the server.
//! tmux is required: this test fails (it does not skip) when tmux is missing.
#![allow(clippy::unwrap_used)]

mod common;

use rt_core::alert::api::AlertInfo;
use rt_core::api::{DeviceDetail, Page};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect(
                "tmux must be installed to run the console end-to-end test (apt-get install tmux)",
            )
    }

    fn capture(&self) -> String {
        common::text(&self.cmd(&["capture-pane", "-p", "-t", "rt"]).stdout)
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "rt"];
        args.extend_from_slice(keys);
        let o = self.cmd(&args);
        assert!(o.status.success(), "send-keys: {}", common::text(&o.stderr));
    }

    fn literal(&self, s: &str) {
        let o = self.cmd(&["send-keys", "-t", "rt", "-l", s]);
        assert!(o.status.success());
    }

    /// Waits until the pane shows `needle`; panics with the last capture otherwise.
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pane = self.capture();
            if pane.contains(needle) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn alive(&self) -> bool {
        self.cmd(&["has-session", "-t", "rt"]).status.success()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// Starts `rt-tui` against `url` in a detached 80x24 tmux session named `rt`.
fn launch(name: &str, url: &str, token: &str, cfg: &std::path::Path) -> Tmux {
    let tmux = Tmux {
        socket: format!("rt-test-{name}-{}", std::process::id()),
    };
    let shell_cmd = format!(
        "env RT_SERVER_URL='{}' RT_TOKEN='{}' RT_TUI_CONFIG_DIR='{}' LANG=C.UTF-8 TERM=xterm-256color '{}' --refresh 2s",
        url,
        token,
        cfg.display(),
        common::BIN
    );
    let o = tmux.cmd(&[
        "new-session",
        "-d",
        "-s",
        "rt",
        "-x",
        "80",
        "-y",
        "24",
        &shell_cmd,
    ]);
    assert!(
        o.status.success(),
        "tmux new-session: {}",
        common::text(&o.stderr)
    );
    // tmux may keep a default size until a client attaches; force 80x24.
    let _ = tmux.cmd(&["resize-window", "-t", "rt", "-x", "80", "-y", "24"]);
    tmux
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_open_assign_quit_in_tmux() {
    let f = common::fleet().await;
    let cfg = tempfile::tempdir().unwrap();
    let tmux = launch("fleet", &f.server.url, &f.server.admin_token, cfg.path());

    // Fleet view with every device, the critical one first.
    let pane = tmux.wait_for("idle-box");
    assert!(pane.contains("4 of 4 shown"), "{pane}");
    let crit_line = pane.lines().find(|l| l.contains("crit-box")).unwrap();
    assert!(crit_line.starts_with("CRIT"), "{pane}");

    // Filter by level with the short names; Ctrl-U clears the line as in a shell.
    tmux.keys(&["/"]);
    tmux.literal("warn");
    let pane = tmux.wait_for("1 of 4 shown");
    assert!(
        pane.contains("warm-box") && !pane.contains("crit-box"),
        "{pane}"
    );
    tmux.keys(&["C-u"]);
    tmux.wait_for("4 of 4 shown");
    tmux.literal("crit");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("1 of 4 shown");
    assert!(
        pane.contains("crit-box") && !pane.contains("calm-box"),
        "{pane}"
    );

    // Open it: health reasons, inventory, the 24 h chart, events.
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("Inventory");
    assert!(pane.contains("crit-box (id"), "{pane}");
    let pane = tmux.wait_for("[24h]");
    assert!(pane.contains("Health CRIT"), "{pane}");
    tmux.wait_for("CPU / RAM %");

    // Assign it to alice, confirming.
    tmux.keys(&["a"]);
    tmux.wait_for("Assign to");
    tmux.keys(&["C-u"]);
    tmux.literal("alice");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Assign crit-box to alice?");
    tmux.keys(&["y"]);
    let pane = tmux.wait_for("done: assign crit-box to alice");
    assert!(pane.contains("User alice"), "{pane}");

    // Back to the fleet, clear the filter, sort by name (key 2): calm-box comes first.
    tmux.keys(&["Escape"]);
    tmux.wait_for("1 of 4 shown");
    tmux.keys(&["Escape"]);
    tmux.wait_for("4 of 4 shown");
    tmux.keys(&["2"]);
    let pane = tmux.wait_for("NAME▲");
    let rows: Vec<&str> = pane
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.ends_with("-box"))
        .collect();
    assert_eq!(
        rows,
        ["calm-box", "crit-box", "idle-box", "warm-box"],
        "{pane}"
    );

    // Bulk: mark calm-box and idle-box, assign both to bob with one confirmation.
    tmux.keys(&["Home"]);
    tmux.keys(&["Space"]); // marks calm-box, moves to crit-box
    tmux.keys(&["j"]);
    tmux.keys(&["Space"]); // marks idle-box
    tmux.wait_for("2 marked");
    tmux.keys(&["a"]);
    tmux.wait_for("Assign to");
    tmux.literal("bob");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("Assign 2 devices to bob?");
    assert!(
        pane.contains("assign calm-box to bob") && pane.contains("assign idle-box to bob"),
        "{pane}"
    );
    assert!(!pane.contains("assign crit-box"), "{pane}");
    tmux.keys(&["y"]);
    tmux.wait_for("assign 2 devices to bob: 2/2 done");

    // The server agrees.
    let http = reqwest::Client::new();
    for (id, name, _) in &f.devices {
        let d: DeviceDetail = http
            .get(format!("{}/api/v1/devices/{id}", f.server.url))
            .bearer_auth(&f.server.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let want = match name.as_str() {
            "crit-box" => Some("alice"),
            "calm-box" | "idle-box" => Some("bob"),
            _ => None,
        };
        assert_eq!(d.summary.assignee.as_deref(), want, "{name}");
    }

    // Help, back to the fleet, quit: the process ends and the session with it.
    tmux.keys(&["?"]);
    tmux.wait_for("closes this help");
    tmux.keys(&["Escape"]);
    let pane = tmux.wait_for("4 of 4 shown");
    let line = pane.lines().find(|l| l.contains("crit-box")).unwrap();
    assert!(line.contains("alice"), "{pane}");

    // The server dies: the console says so, keeps the last data and stays responsive.
    f.server.stop().await;
    let pane = tmux.wait_for("RECONNECTING");
    assert!(pane.contains("showing data from"), "{pane}");
    assert!(
        pane.contains("crit-box") && pane.contains("alice"),
        "{pane}"
    );
    tmux.keys(&["?"]);
    tmux.wait_for("closes this help");
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "rt-tui did not quit on q:\n{}",
            tmux.capture()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(tmux);
}

async fn alerts(f: &common::Fleet, query: &str) -> Vec<AlertInfo> {
    let page: Page<AlertInfo> = reqwest::Client::new()
        .get(format!("{}/api/v1/alerts?{query}", f.server.url))
        .bearer_auth(&f.server.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page.items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_screen_acknowledges_with_confirmation_in_tmux() {
    // The posted samples raise the alerts: crit-box's disk is 97 % full (critical), warm-box's
    // 92 % (warning); both have held longer than the rule's `for`, so they fire.
    let f = common::fleet().await;
    let firing = alerts(&f, "state=firing").await;
    let crit = firing
        .iter()
        .find(|a| a.device_name == "crit-box" && a.rule == "disk_usage")
        .unwrap_or_else(|| panic!("crit-box's disk alert fires: {firing:?}"))
        .clone();
    assert_eq!(crit.severity, rt_core::alert::Severity::Critical);
    assert!(crit.acknowledged_by.is_none());

    let cfg = tempfile::tempdir().unwrap();
    let tmux = launch("alerts", &f.server.url, &f.server.admin_token, cfg.path());
    // Every screen's header counts the firing alerts.
    let pane = tmux.wait_for(&format!("ALERTS {}", firing.len()));
    assert!(pane.contains("crit-box"), "{pane}");

    // The alerts screen: the critical one first, with a text marker, device, rule, state.
    tmux.keys(&["A"]);
    let pane = tmux.wait_for("Alerts: open");
    let row = |pane: &str, needle: &str| -> String {
        pane.lines()
            .find(|l| l.contains(needle) && l.contains("ago"))
            .unwrap_or_else(|| panic!("no row with {needle:?}:\n{pane}"))
            .to_string()
    };
    let first = pane
        .lines()
        .find(|l| l.contains(" ago "))
        .unwrap_or_default();
    assert!(
        first.starts_with("CRIT") && first.contains("crit-box") && first.contains("disk_usage"),
        "{pane}"
    );
    assert!(first.contains("firing"), "{pane}");
    assert!(row(&pane, "warm-box").starts_with("WARN"), "{pane}");

    // Acknowledge it: the confirmation names the alert; the answer is reloaded.
    tmux.keys(&["a"]);
    tmux.wait_for(&format!(
        "Acknowledge disk_usage:/ on crit-box (alert {})?",
        crit.id
    ));
    tmux.keys(&["y"]);
    let pane = tmux.wait_for("done: acknowledge disk_usage:/ on crit-box");
    let _ = pane;
    let pane = tmux.wait_for("acked");
    assert!(row(&pane, "crit-box").contains("acked"), "{pane}");

    // The server agrees: acknowledged by the console's user.
    let after = alerts(&f, &format!("device={}&state=firing", crit.device_id)).await;
    let a = after.iter().find(|a| a.id == crit.id).unwrap();
    assert_eq!(a.acknowledged_by.as_deref(), Some("admin"), "{a:?}");
    assert!(a.acknowledged_at.is_some());

    // Enter opens the device, whose detail lists its firing alert; Esc comes back.
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("Alert CRIT disk_usage:/");
    assert!(
        pane.contains("crit-box (id") && pane.contains("disk_usage:/"),
        "{pane}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("Alerts: open");
    tmux.keys(&["q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.alive() {
        assert!(
            Instant::now() < deadline,
            "rt-tui did not quit on q:\n{}",
            tmux.capture()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
