//! Shell completions and the manual page of the real `rt-agent` binary: generated for every shell,
//! non-empty, naming real subcommands and flags; the bash script passes `bash -n`. Usage errors
//! exit 2; a closed stdout ends quietly with 0.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[path = "../../rt-client/tests/support/cli_surface.rs"]
mod surface;

const BIN: &str = env!("CARGO_BIN_EXE_rt-agent");

/// Subcommands and flags every generated text must mention.
const MUST_NAME: &[&str] = &["enroll", "collect", "install", "--state-dir"];

#[test]
fn completions_for_every_shell_name_the_real_commands() {
    surface::completions_name_the_real_commands(BIN, MUST_NAME);
}

#[test]
fn unknown_shell_is_a_usage_error() {
    surface::unknown_shell_is_a_usage_error(BIN);
}

#[test]
fn man_page_is_roff_naming_the_real_commands() {
    surface::man_page_names_the_real_commands(BIN, "rt-agent", MUST_NAME);
}

fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    surface::closed_stdout(BIN, args)
}

#[test]
fn a_closed_stdout_ends_quietly_with_0() {
    // completions: write_all's error path; inventory: println!'s panic path.
    for args in [&["completions", "bash"][..], &["man"], &["inventory"]] {
        let (code, err) = closed_stdout(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}

/// Every duration flag reads rt-client's grammar and refuses a bare number; bad values of the
/// other choice flags are usage errors too, found before anything runs.
#[test]
fn bad_values_are_usage_errors_naming_the_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["install", "--dry-run", "--interval", "15"],
            "unit is missing",
        ),
        (&["install", "--dry-run", "--interval", "fast"], "15m"),
        (&["run", "--interval", "0s"], "more than zero"),
        (
            &["enroll", "--non-interactive", "--interval", "90"],
            "unit is missing",
        ),
        (
            &["install", "--dry-run", "--scheduler", "upstart"],
            "systemd, cron",
        ),
        (
            &["install", "--dry-run", "--mode", "daemon"],
            "timer or service",
        ),
        (
            &["enroll", "--non-interactive", "--credential-store", "vault"],
            "keyring or file",
        ),
        (
            &["enroll", "--non-interactive", "--install", "upstart"],
            "systemd, cron",
        ),
        (&["--bogus"], "--bogus"),
    ];
    for (args, why) in cases {
        let out = Command::new(BIN)
            .arg("--state-dir")
            .arg(d)
            .args(*args)
            .env_remove("RT_INTERVAL")
            .env_remove("RT_INSTALL")
            .env_remove("RT_CREDENTIAL_STORE")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(why), "{args:?}: {err}");
    }
    // A good duration passes the parser (the dry run then describes the schedule).
    let out = Command::new(BIN)
        .arg("--state-dir")
        .arg(d)
        .args([
            "install",
            "--dry-run",
            "--scheduler",
            "cron",
            "--interval",
            "1h 30m",
        ])
        .output()
        .unwrap();
    assert_ne!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
