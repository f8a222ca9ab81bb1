//! `scripts/install-agent.sh` against a real rt-server on loopback that serves a real agent
//! build from its downloads directory: checksum verified, binary installed under a temporary
//! prefix, non-interactive enrollment done; a corrupted checksum aborts with nothing installed.
#![allow(clippy::unwrap_used)]

use rt_server::testing::TestServer;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const AGENT: &str = env!("CARGO_BIN_EXE_rt-agent");

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/install-agent.sh")
}

/// Publishes this build as `rt-agent-linux-x86_64` (+ `.sha256`) in the server's downloads dir.
fn publish(server: &TestServer, corrupt: bool) {
    let dir = &server.config.downloads_dir;
    std::fs::create_dir_all(dir).unwrap();
    let asset = dir.join("rt-agent-linux-x86_64");
    std::fs::copy(AGENT, &asset).unwrap();
    let out = Command::new("sha256sum").arg(&asset).output().unwrap();
    assert!(out.status.success());
    let mut hex = String::from_utf8(out.stdout).unwrap()[..64].to_string();
    if corrupt {
        // One flipped digit: exactly the kind of damage a checksum exists to catch.
        let first = if hex.starts_with('0') { "1" } else { "0" };
        hex.replace_range(0..1, first);
    }
    std::fs::write(
        dir.join("rt-agent-linux-x86_64.sha256"),
        format!("{hex}  rt-agent-linux-x86_64\n"),
    )
    .unwrap();
}

fn run_script(server: &TestServer, home: &Path, extra: &[&str]) -> Output {
    Command::new("sh")
        .arg(script())
        .arg(&server.url)
        .args(extra)
        .env("RT_INSTALL_PREFIX", home.join("prefix"))
        .env("RT_AGENT_PLATFORM", "linux-x86_64")
        .env("RT_AGENT_STATE_DIR", home.join("state"))
        .env("RT_CREDENTIAL_STORE", "file")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_verifies_installs_and_enrolls() {
    let server = TestServer::start().await.unwrap();
    publish(&server, false);
    let token = server.enrollment_token().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = {
        let (s, h, t) = (&server, home.path(), token.clone());
        let args = [
            "--non-interactive",
            "--token",
            &t,
            "--install",
            "none",
            "--name",
            "scripted",
        ];
        tokio::task::block_in_place(|| run_script(s, h, &args))
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Checksum verified"), "{stdout}");
    let installed = home.path().join("prefix/bin/rt-agent");
    assert_eq!(
        std::fs::read(&installed).unwrap(),
        std::fs::read(AGENT).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    assert!(stdout.contains("enrolled: device"), "{stdout}");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("state/config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["server_url"], server.url.as_str());
    assert_eq!(cfg["device_name"], "scripted");
    assert!(!stdout.contains(&token) && !stderr.contains(&token));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_checksum_aborts_and_installs_nothing() {
    let server = TestServer::start().await.unwrap();
    publish(&server, true);
    let home = tempfile::tempdir().unwrap();
    let out = {
        let (s, h) = (&server, home.path());
        tokio::task::block_in_place(|| {
            run_script(
                s,
                h,
                &["--non-interactive", "--token", "x", "--install", "none"],
            )
        })
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(!home.path().join("prefix/bin/rt-agent").exists());
    assert!(!home.path().join("state").exists());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_platform_build_is_reported() {
    let server = TestServer::start().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = {
        let (s, h) = (&server, home.path());
        tokio::task::block_in_place(|| run_script(s, h, &["--non-interactive"]))
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("cannot download"), "{stderr}");
    assert!(!home.path().join("prefix/bin/rt-agent").exists());
    server.stop().await;
}

/// An HTTPS server with a private CA: `--ca-file` among the enroll options is what the
/// script's downloads trust too, and the enrollment keeps it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_over_https_trusts_the_ca_file_it_passes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = rt_server::testing::test_pki(&tmp.path().join("pki"), "rt install CA").unwrap();
    let mut config = rt_server::Config::with_data_dir(tmp.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(pki.tls_files());
    let server = TestServer::start_with(config).await.unwrap();
    publish(&server, false);
    let token = server.enrollment_token().await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let ca = pki.ca.display().to_string();
    let args = [
        "--non-interactive",
        "--token",
        &token,
        "--install",
        "none",
        "--ca-file",
        &ca,
    ];
    let out = tokio::task::block_in_place(|| run_script(&server, home.path(), &args));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Checksum verified"), "{stdout}");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("state/config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["ca_file"], ca.as_str());
    // Without the CA the download itself is refused and nothing is installed.
    let home2 = tempfile::tempdir().unwrap();
    let out = tokio::task::block_in_place(|| {
        run_script(
            &server,
            home2.path(),
            &["--non-interactive", "--token", &token],
        )
    });
    assert!(!out.status.success());
    assert!(!home2.path().join("prefix/bin/rt-agent").exists());
    server.stop().await;
}
