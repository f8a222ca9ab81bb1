//! Shell completions and the manual page of the real `rt-server` binary: generated for every shell,
//! non-empty, naming real subcommands and flags; the bash script passes `bash -n`. Usage errors
//! exit 2; a closed stdout ends quietly with 0.
#![allow(clippy::unwrap_used)]

use std::process::Command;

#[path = "../../rt-client/tests/support/cli_surface.rs"]
mod surface;

const BIN: &str = env!("CARGO_BIN_EXE_rt-server");

/// Subcommands and flags every generated text must mention.
const MUST_NAME: &[&str] = &["serve", "user", "--listen", "--data-dir", "--tls-cert"];

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
    surface::man_page_names_the_real_commands(BIN, "rt-server", MUST_NAME);
}

fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    surface::closed_stdout(BIN, args)
}

#[test]
fn a_closed_stdout_ends_quietly_with_0() {
    for args in [&["completions", "bash"][..], &["man"]] {
        let (code, err) = closed_stdout(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    // `user list` prints with println!, the panic path.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, err) = closed_stdout(&["--data-dir", d, "user", "list"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--bogus"][..],
        &["user", "add", "x", "--role", "root"],
        &["--listen", "not-an-address"],
        &["user"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
