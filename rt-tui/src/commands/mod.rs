//! Scripted commands: data on stdout, messages and progress on stderr, never the alternate
//! screen. One module per command.

pub mod alerts;
pub mod assign;
pub mod device;
pub mod devices;
pub mod enroll_token;
pub mod export;
pub mod login;
pub mod users;

use std::io::{BufRead, IsTerminal};

/// Reads one line (a password) from stdin, without the line ending.
pub fn read_stdin_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let s = line.trim_end_matches(['\r', '\n']).to_string();
    if s.is_empty() {
        anyhow::bail!(
            "empty password on stdin: pipe the password, e.g. `printf '%s\\n' \"$PW\" | rt-tui login --password-stdin`"
        );
    }
    Ok(s)
}

/// Prompts for a hidden password on the terminal.
pub fn prompt_password(prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(crate::UsageError(
            "no terminal to ask for the password: use --password-stdin".into(),
        )
        .into());
    }
    let mut p = dialoguer::Password::new().with_prompt(prompt);
    if confirm {
        p = p.with_confirmation("Repeat password", "the passwords do not match");
    }
    Ok(p.interact()?)
}
