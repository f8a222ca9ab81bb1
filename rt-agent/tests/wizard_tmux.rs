//! The enrollment wizard through a real terminal: the real `rt-agent` binary runs in tmux
//! (its own server socket, killed at the end) against a real rt-server on 127.0.0.1.
//! The schedule goes into a temporary crontab file behind a `crontab` wrapper script, never the
//! machine's own. tmux is required: these tests fail, not skip, without it.
#![allow(clippy::unwrap_used)]

use rt_server::testing::{ADMIN_PASSWORD, ADMIN_USER, TestServer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const AGENT: &str = env!("CARGO_BIN_EXE_rt-agent");

struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// Starts `cmd` (a shell command line) in a detached 160x50 tmux session. When it exits, the
    /// pane prints `__EXIT=<code>` and stays open for capture.
    fn start(name: &str, cmd: &str) -> Tmux {
        let socket = format!("rt-wiz-{}-{name}", std::process::id());
        let t = Tmux {
            socket,
            session: "wiz".into(),
        };
        let full = format!("{cmd}; echo __EXIT=$?; sleep 600");
        let out = Command::new("tmux")
            .args(["-L", &t.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", &t.session, "-x", "160", "-y", "50", &full])
            .output()
            .expect("tmux is required for the wizard tests (apt-get install tmux; scripts/test.sh does)");
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types literal text (no Enter).
    fn text(&self, s: &str) {
        self.tmux(&["send-keys", "-t", &self.session, "-l", s]);
    }

    /// Sends named keys: Enter, Down, C-c, Escape, BSpace.
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.session];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn screen(&self) -> String {
        self.tmux(&[
            "capture-pane",
            "-p",
            "-J",
            "-S",
            "-300",
            "-t",
            &self.session,
        ])
    }

    /// Waits until the screen contains `needle` `count` times; panics with the screen otherwise.
    fn wait_n(&self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let s = self.screen();
            if s.matches(needle).count() >= count {
                // Let the prompt finish drawing and switch the terminal mode.
                std::thread::sleep(Duration::from_millis(300));
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {needle:?} (x{count}); screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait(&self, needle: &str) -> String {
        self.wait_n(needle, 1)
    }

    fn exit_code(&self) -> i32 {
        let s = self.wait("__EXIT=");
        let code = s
            .split("__EXIT=")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap();
        code.parse().unwrap()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// A temporary agent home: state dir, a crontab file behind a wrapper script.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let tab = dir.path().join("crontab.txt");
        let script = dir.path().join("crontab");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nF='{}'\ncase \"$1\" in\n  -l) if [ -f \"$F\" ]; then cat \"$F\"; else echo \"no crontab for tester\" >&2; exit 1; fi ;;\n  -r) rm -f \"$F\" ;;\n  *) cp \"$1\" \"$F\" ;;\nesac\n",
                tab.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Home { dir }
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    fn crontab(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("crontab.txt")).unwrap_or_default()
    }
    /// The wizard's command line, with the scheduler pointed at our crontab (user scope; cron is
    /// what `auto` detects when the machine has no running systemd, as in this container).
    fn command(&self, extra: &str) -> String {
        format!(
            "env -u RT_AGENT_SYSTEMD_UNIT_DIR NO_COLOR=1 RT_AGENT_INSTALL_SCOPE=user \
             RT_AGENT_CRONTAB='{}' RT_CREDENTIAL_STORE=file '{AGENT}' --state-dir '{}' enroll {extra}",
            self.dir.path().join("crontab").display(),
            self.state().display()
        )
    }
}

fn config(state: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(state.join("config.json")).unwrap()).unwrap()
}

async fn device(server: &TestServer, id: i64) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/api/v1/devices/{id}", server.url))
        .bearer_auth(&server.admin_token)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Drives the wizard with an enrollment token through to the end; returns the pane.
fn token_flow(t: &Tmux, url: &str, token: &str, name: &str) -> String {
    t.wait("Server URL");
    t.text(url);
    t.keys(&["Enter"]);
    t.wait("How do you want to sign in?");
    t.keys(&["Enter"]);
    t.wait("Enrollment token (hidden)");
    t.text(token);
    t.keys(&["Enter"]);
    t.wait("Device name");
    t.text(name);
    t.keys(&["Enter"]);
    t.wait("Asset tag");
    t.text("AT-0042");
    t.keys(&["Enter"]);
    t.wait("Assigned to");
    t.text("alice");
    t.keys(&["Enter"]);
    t.wait("Collection interval");
    t.keys(&["Enter"]);
    t.wait("Run the agent automatically");
    t.keys(&["Enter"]);
    t.wait("Enroll this device now?");
    t.text("y");
    t.wait("__EXIT=")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn happy_path_enrolls_installs_cron_and_delivers_the_first_sample() {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token().await.unwrap();
    let home = Home::new();
    let url = server.url.clone();
    let typed = token.clone();
    let (screen, code, home) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("happy", &home.command(""));
        let screen = token_flow(&t, &url, &typed, "wiz-laptop");
        (screen, t.exit_code(), home)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("found a ResourceTracker server"),
        "{screen}"
    );
    assert!(screen.contains("(detected, recommended)"), "{screen}");
    assert!(
        screen.contains("enrolled, first sample delivered"),
        "{screen}"
    );
    // Nothing secret on screen: neither the token typed nor the device token issued (nor
    // any recognisable part of either).
    let issued = std::fs::read_to_string(home.state().join("device.token")).unwrap();
    let issued = issued.trim();
    assert!(issued.starts_with("rtd_") && issued.len() > 20, "{issued}");
    for secret in [token.as_str(), issued] {
        let body = &secret[4..];
        assert!(
            !screen.contains(&body[..12]) && !screen.contains(&body[body.len() - 12..]),
            "a secret is on screen: {screen}"
        );
    }

    let cfg = config(&home.state());
    let id = cfg["device_id"].as_i64().unwrap();
    let d = device(&server, id).await;
    let text = d.to_string();
    assert!(text.contains("wiz-laptop"), "{text}");
    assert!(text.contains("AT-0042"), "{text}");
    assert!(text.contains("alice"), "{text}");
    // The schedule is in our (temporary) crontab, three marked lines, and status reports it.
    let tab = home.crontab();
    assert_eq!(tab.matches("# rt-agent:managed").count(), 3, "{tab}");
    assert!(tab.contains(&format!("--state-dir {}", home.state().display())));
    let st = Command::new(AGENT)
        .arg("--state-dir")
        .arg(home.state())
        .arg("status")
        .env("RT_AGENT_CRONTAB", home.dir.path().join("crontab"))
        .output()
        .unwrap();
    let st = String::from_utf8_lossy(&st.stdout);
    assert!(st.contains("cron timer, every 5m"), "{st}");
    // The token file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.state().join("device.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_urls_are_explained_and_reasked_then_corrected() {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token().await.unwrap();
    let home = Home::new();
    // A port with nothing listening: bind, note the port, close.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let url = server.url.clone();
    let (screen, code) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("url", &home.command(""));
        t.wait("Server URL");
        t.text(&refused);
        t.keys(&["Enter"]);
        t.wait("connection refused");
        // The prompt comes back with the typed URL to edit: erase it and type the right one,
        // first with a wrong path (an HTTP server that is not rt-server there).
        t.wait_n("Server URL", 2);
        for _ in 0..refused.len() + 5 {
            t.keys(&["BSpace"]);
        }
        let wrong_service = format!("{url}/not-here");
        t.text(&wrong_service);
        t.keys(&["Enter"]);
        t.wait("not like a ResourceTracker server");
        t.wait_n("Server URL", 3);
        for _ in 0..wrong_service.len() + 5 {
            t.keys(&["BSpace"]);
        }
        t.text(&url);
        t.keys(&["Enter"]);
        t.wait("found a ResourceTracker server");
        t.wait("How do you want to sign in?");
        t.keys(&["Enter"]);
        t.wait("Enrollment token (hidden)");
        t.text(&token);
        t.keys(&["Enter"]);
        for p in [
            "Device name",
            "Asset tag",
            "Assigned to",
            "Collection interval",
        ] {
            t.wait(p);
            t.keys(&["Enter"]);
        }
        t.wait("Run the agent automatically");
        // Choose "none" (the last entry).
        t.keys(&["Up", "Enter"]);
        t.wait("Enroll this device now?");
        t.text("y");
        (t.wait("__EXIT="), t.exit_code())
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("nothing is listening"), "{screen}");
    assert!(
        screen.contains("enrolled, first sample delivered"),
        "{screen}"
    );
    assert!(screen.contains("no schedule installed"), "{screen}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_reasked_then_right_one_enrolls() {
    let server = TestServer::start().await.unwrap();
    let home = Home::new();
    let url = server.url.clone();
    let (screen, code, home) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("pw", &home.command(""));
        t.wait("Server URL");
        t.text(&url);
        t.keys(&["Enter"]);
        t.wait("How do you want to sign in?");
        t.keys(&["Down", "Enter"]);
        t.wait("User name");
        t.text(ADMIN_USER);
        t.keys(&["Enter"]);
        t.wait("Password (hidden)");
        t.text("not-the-password");
        t.keys(&["Enter"]);
        t.wait("wrong user name or password");
        t.wait_n("User name", 2);
        t.keys(&["Enter"]); // default: the name typed before
        t.wait_n("Password (hidden)", 2);
        t.text(ADMIN_PASSWORD);
        t.keys(&["Enter"]);
        t.wait("signed in as admin");
        t.wait("Device name");
        t.text("pw-laptop");
        t.keys(&["Enter"]);
        for p in ["Asset tag", "Assigned to", "Collection interval"] {
            t.wait(p);
            t.keys(&["Enter"]);
        }
        t.wait("Run the agent automatically");
        t.keys(&["Up", "Enter"]);
        t.wait("Enroll this device now?");
        t.text("y");
        (t.wait("__EXIT="), t.exit_code(), home)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("not-the-password") && !screen.contains(ADMIN_PASSWORD));
    let id = config(&home.state())["device_id"].as_i64().unwrap();
    assert!(device(&server, id).await.to_string().contains("pw-laptop"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_half_way_leaves_nothing_behind() {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token().await.unwrap();
    let home = Home::new();
    let url = server.url.clone();
    let (screen, code, home) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("ctrlc", &home.command(""));
        t.wait("Server URL");
        t.text(&url);
        t.keys(&["Enter"]);
        t.wait("How do you want to sign in?");
        t.keys(&["Enter"]);
        t.wait("Enrollment token (hidden)");
        t.text(&token);
        t.keys(&["Enter"]);
        t.wait("Device name");
        t.text("half-way");
        t.keys(&["C-c"]);
        (t.wait("__EXIT="), t.exit_code(), home)
    })
    .await
    .unwrap();
    assert_eq!(code, 130, "{screen}");
    assert!(screen.contains("nothing was changed"), "{screen}");
    assert!(
        !home.state().exists(),
        "state dir left behind: {:?}",
        std::fs::read_dir(home.state()).map(|d| d.count())
    );
    assert_eq!(home.crontab(), "");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reenrolling_asks_first_and_keeps_the_device_id() {
    let server = TestServer::start().await.unwrap();
    let token = server.enrollment_token_with(true).await.unwrap();
    let home = Home::new();
    let url = server.url.clone();
    let (first, home) = {
        let token = token.clone();
        let url = url.clone();
        tokio::task::spawn_blocking(move || {
            let t = Tmux::start("re1", &home.command(""));
            let s = token_flow(&t, &url, &token, "re-laptop");
            assert_eq!(t.exit_code(), 0, "{s}");
            (s, home)
        })
        .await
        .unwrap()
    };
    let first_id = config(&home.state())["device_id"].as_i64().unwrap();
    assert!(first.contains("enrolled"));

    // Second run: it says so and asks; "no" changes nothing.
    let home = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("re2", &home.command(""));
        t.wait("already enrolled");
        t.wait("Re-enroll it");
        t.text("n");
        assert_eq!(t.exit_code(), 0);
        home
    })
    .await
    .unwrap();
    assert_eq!(
        config(&home.state())["device_id"].as_i64().unwrap(),
        first_id
    );

    // Third run: yes, the whole flow again; same device id server-side, re-enrolled.
    let (screen, home) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("re3", &home.command(""));
        t.wait("Re-enroll it");
        t.text("y");
        t.wait("Server URL");
        // The URL is pre-filled from the current enrollment.
        t.keys(&["Enter"]);
        t.wait("How do you want to sign in?");
        t.keys(&["Enter"]);
        t.wait("Enrollment token (hidden)");
        t.text(&token);
        t.keys(&["Enter"]);
        for p in [
            "Device name",
            "Asset tag",
            "Assigned to",
            "Collection interval",
            "Run the agent automatically",
        ] {
            t.wait(p);
            t.keys(&["Enter"]);
        }
        t.wait("Enroll this device now?");
        t.text("y");
        let s = t.wait("__EXIT=");
        assert_eq!(t.exit_code(), 0, "{s}");
        (s, home)
    })
    .await
    .unwrap();
    assert!(
        screen.contains(&format!("device {first_id} re-enrolled")),
        "{screen}"
    );
    assert_eq!(
        config(&home.state())["device_id"].as_i64().unwrap(),
        first_id
    );
    // Installing again over the same schedule added nothing.
    assert_eq!(home.crontab().matches("# rt-agent:managed").count(), 3);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn known_hardware_is_shown_before_confirming_and_the_typed_name_applies() {
    let server = TestServer::start().await.unwrap();
    let reenroll = server.enrollment_token_with(true).await.unwrap();
    let plain = server.enrollment_token().await.unwrap();
    let url = server.url.clone();
    let first = Home::new();
    let (s, first) = {
        let (url, token) = (url.clone(), reenroll.clone());
        tokio::task::spawn_blocking(move || {
            let t = Tmux::start("known1", &first.command(""));
            let s = token_flow(&t, &url, &token, "known-laptop");
            assert_eq!(t.exit_code(), 0, "{s}");
            (s, first)
        })
        .await
        .unwrap()
    };
    let id = config(&first.state())["device_id"].as_i64().unwrap();
    assert!(s.contains("enrolled"), "{s}");

    // A reinstall: an empty state directory on the same hardware. A token that may not
    // re-enroll is told why before anything is confirmed, and asked for other credentials;
    // one that may shows the device's current name, assignee and last contact, and the name
    // typed then is applied.
    let second = Home::new();
    let (screen, second) = tokio::task::spawn_blocking(move || {
        let t = Tmux::start("known2", &second.command(""));
        t.wait("Server URL");
        t.text(&url);
        t.keys(&["Enter"]);
        t.wait("How do you want to sign in?");
        t.keys(&["Enter"]);
        t.wait("Enrollment token (hidden)");
        t.text(&plain);
        t.keys(&["Enter"]);
        t.wait("takes an administrator's credentials");
        t.wait_n("How do you want to sign in?", 2);
        t.keys(&["Enter"]);
        t.wait_n("Enrollment token (hidden)", 2);
        t.text(&reenroll);
        t.keys(&["Enter"]);
        let shown = t.wait("Device name");
        t.text("renamed-laptop");
        t.keys(&["Enter"]);
        for p in [
            "Asset tag",
            "Assigned to",
            "Collection interval",
            "Run the agent automatically",
        ] {
            t.wait(p);
            t.keys(&["Enter"]);
        }
        t.wait("Enroll this device now?");
        t.text("y");
        let s = t.wait("__EXIT=");
        assert_eq!(t.exit_code(), 0, "{s}");
        (format!("{shown}\n{s}"), second)
    })
    .await
    .unwrap();
    let known = format!(
        "already known to the server as device {id} \"known-laptop\", assigned to alice, last seen 20"
    );
    let at = screen
        .find(&known)
        .unwrap_or_else(|| panic!("the known device is shown: {screen}"));
    assert!(
        at < screen.find("Enroll this device now?").unwrap(),
        "shown before confirming: {screen}"
    );
    assert!(
        screen.contains("renamed from \"known-laptop\" to \"renamed-laptop\""),
        "{screen}"
    );
    assert!(
        screen.contains(&format!("device {id} re-enrolled")),
        "{screen}"
    );
    assert_eq!(config(&second.state())["device_id"].as_i64().unwrap(), id);
    let d = device(&server, id).await;
    assert_eq!(d["name"], "renamed-laptop", "{d}");
    assert_eq!(d["assignee"], "alice", "{d}");
    server.stop().await;
}

#[test]
fn without_a_terminal_the_wizard_refuses_and_points_to_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(AGENT)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("enroll")
        .env_remove("RT_NON_INTERACTIVE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--non-interactive"), "{err}");
    assert!(!dir.path().join("state").exists());
}
