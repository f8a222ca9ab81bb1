//! Shell completions and the manual page of the real `rt-server` binary: generated for every shell,
//! non-empty, naming real subcommands and flags; the bash script passes `bash -n`. Usage errors
//! exit 2; a closed stdout ends quietly with 0.
#![allow(clippy::unwrap_used)]

use std::process::Command;

/// Subcommands and flags every generated text must mention.
const MUST_NAME: &[&str] = &["serve", "user", "--listen", "--data-dir", "--tls-cert"];

fn generate(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rt-server"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_for_every_shell_name_the_real_commands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let text = generate(&["completions", shell]);
        assert!(text.len() > 1000, "{shell}: {} bytes", text.len());
        // fish writes long flags as `-l name`.
        for word in MUST_NAME {
            let word = word.trim_start_matches('-');
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("rt-server.bash");
    std::fs::write(&script, generate(&["completions", "bash"])).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_rt-server"))
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("powershell"));
}

#[test]
fn man_page_is_roff_naming_the_real_commands() {
    let text = generate(&["man"]);
    assert!(text.contains(".TH rt-server 1"), "{text}");
    assert!(text.contains(".SH SYNOPSIS"));
    // roff escapes every hyphen.
    for word in MUST_NAME {
        let roff = word.replace('-', "\\-");
        assert!(text.contains(&roff), "man page lacks {roff}");
    }
}

/// Runs the binary with its stdout already closed by the reader (as `| head` does once it has
/// its lines) and returns (exit code, stderr).
fn closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rt-server"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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
    (child.wait().unwrap().code(), err)
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
        let out = Command::new(env!("CARGO_BIN_EXE_rt-server"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
