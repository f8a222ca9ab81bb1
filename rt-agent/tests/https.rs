//! The real `rt-agent` binary against a real rt-server serving HTTPS with a private CA: without
//! `--ca-file` or with the wrong CA nothing is enrolled and the error says what to pass; with
//! the right CA the agent enrolls, keeps the CA with its enrollment, and its collections are
//! uploaded over HTTPS (checked on the server's side).
#![allow(clippy::unwrap_used)]

use rt_server::testing::{TestServer, test_pki};
use std::path::Path;
use std::process::Stdio;
use tokio::process::Command;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn agent(state: &Path, args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_rt-agent"))
        .arg("--state-dir")
        .arg(state)
        .args(args)
        // Only the CA file decides trust here: no environment CA, no environment server.
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("RT_CA_FILE")
        .env_remove("RT_SERVER_URL")
        .env_remove("RT_ENROLL_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .await
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Seqs the server stored for the device, read over HTTPS trusting the test CA.
async fn stored_seqs(server: &TestServer, ca: &Path, device_id: i64) -> Vec<u64> {
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(ca).unwrap()).unwrap()])
        .build()
        .unwrap();
    let body = client
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
    let mut v: Vec<u64> = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test]
async fn enrolls_and_uploads_over_https_trusting_exactly_its_ca_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = test_pki(&tmp.path().join("pki"), "rt fleet CA").unwrap();
    let stranger = test_pki(&tmp.path().join("other"), "some other CA").unwrap();
    let mut config = rt_server::Config::with_data_dir(tmp.path().join("data"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.tls = Some(pki.tls_files());
    let server = TestServer::start_with(config).await.unwrap();
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let token = server.enrollment_token().await.unwrap();
    let state = tmp.path().join("agent");
    let enroll = |extra: Vec<String>| {
        let mut args: Vec<String> = [
            "enroll",
            "--non-interactive",
            "--server",
            &server.url,
            "--token",
            &token,
            "--credential-store",
            "file",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra);
        args
    };

    // The system's trust store does not know the private CA: refused, told what to pass.
    let args = enroll(vec![]);
    let o = agent(&state, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_ne!(o.code, 0, "enrolled without trusting the CA: {}", o.stdout);
    assert!(o.stderr.contains("--ca-file"), "{}", o.stderr);
    eprintln!("no CA file: {}", o.stderr.trim());
    assert!(!state.join("config.json").exists());

    // Another CA: refused, and the message names the file that was given.
    let args = enroll(vec!["--ca-file".into(), stranger.ca.display().to_string()]);
    let o = agent(&state, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_ne!(o.code, 0, "enrolled with the wrong CA: {}", o.stdout);
    assert!(
        o.stderr.contains(&stranger.ca.display().to_string()),
        "{}",
        o.stderr
    );
    eprintln!("wrong CA: {}", o.stderr.trim());
    assert!(!state.join("config.json").exists());

    // A file that is not a certificate is refused before any connection.
    let args = enroll(vec!["--ca-file".into(), pki.key.display().to_string()]);
    let o = agent(&state, &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("no PEM certificate"), "{}", o.stderr);

    // The right CA, given as a relative path: enrolled, the absolute path kept.
    let args = enroll(vec!["--ca-file".into(), "pki/ca.pem".into()]);
    let o = Command::new(env!("CARGO_BIN_EXE_rt-agent"))
        .current_dir(tmp.path())
        .arg("--state-dir")
        .arg(&state)
        .args(&args)
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env_remove("RT_CA_FILE")
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let conf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        Path::new(conf["ca_file"].as_str().unwrap()),
        pki.ca.as_path()
    );
    let device_id = conf["device_id"].as_i64().unwrap();

    // Collections upload over HTTPS from any working directory (the CA comes from the enrollment).
    for _ in 0..3 {
        let o = agent(&state, &["collect"]).await;
        assert_eq!(o.code, 0, "{} {}", o.stdout, o.stderr);
    }
    assert_eq!(
        stored_seqs(&server, &pki.ca, device_id).await,
        vec![1, 2, 3]
    );
    let o = agent(&state, &["status", "--json"]).await;
    assert_eq!(o.code, 0, "{}", o.stdout);
    let st: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(st["queue"]["depth"].as_u64(), Some(0), "{st}");
    assert_eq!(st["upload"]["server_reachable"], true, "{st}");
    assert!(st["upload"]["last_success_at"].is_string(), "{st}");
    server.stop().await;
}
