//! Shared checks of a real binary's command-line surface, included by the `cli_surface` tests
//! of rt-server, rt-agent and rt-tui (`#[path]`): completions for every shell (non-empty,
//! naming real subcommands and flags, `bash -n` clean), the roff manual page, the unknown-shell
//! usage error, and running with stdout already closed (as `| head` does).
#![allow(dead_code, clippy::unwrap_used)]

use std::process::Command;

/// stdout of `bin args` run without the caller's environment; it must exit 0 with an empty
/// stderr.
pub fn generate(bin: &str, args: &[&str]) -> String {
    let out = Command::new(bin)
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

/// Completions for bash, zsh, fish and PowerShell name every word of `must_name`; the bash
/// script passes `bash -n`.
pub fn completions_name_the_real_commands(bin: &str, must_name: &[&str]) {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let text = generate(bin, &["completions", shell]);
        assert!(text.len() > 1000, "{shell}: {} bytes", text.len());
        // fish writes long flags as `-l name`.
        for word in must_name {
            let word = word.trim_start_matches('-');
            assert!(text.contains(word), "{shell} completion lacks {word}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("completion.bash");
    std::fs::write(&script, generate(bin, &["completions", "bash"])).unwrap();
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

/// `completions tcsh` is a usage error (exit 2) that lists the shells.
pub fn unknown_shell_is_a_usage_error(bin: &str) {
    let out = Command::new(bin)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("powershell"));
}

/// `man` prints roff titled `name(1)` that names every word of `must_name`.
pub fn man_page_names_the_real_commands(bin: &str, name: &str, must_name: &[&str]) {
    let text = generate(bin, &["man"]);
    assert!(text.contains(&format!(".TH {name} 1")), "{text}");
    assert!(text.contains(".SH SYNOPSIS"));
    // roff escapes every hyphen.
    for word in must_name {
        let roff = word.replace('-', "\\-");
        assert!(text.contains(&roff), "man page lacks {roff}");
    }
}

/// Runs `bin args` with its stdout already closed by the reader (as `| head` does once it has
/// its lines) and returns (exit code, stderr).
pub fn closed_stdout(bin: &str, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = Command::new(bin)
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
