//! cron: `@reboot` plus every N minutes, each run under `flock -n` so runs never overlap, with
//! absolute paths. Root gets `/etc/cron.d/rt-agent` (with a user field); anyone else their own
//! crontab. Every line ends with [`CRON_MARKER`], which is how install stays idempotent and how
//! uninstall removes only our lines.

use super::{CRON_MARKER, CronTarget, Host, Plan, Scope, Spec};
use anyhow::{Result, bail};

/// The cron time fields for "every `interval_s`", or why cron cannot say it.
pub fn schedule(interval_s: u64) -> Result<String> {
    let minutes = interval_s.div_ceil(60).max(1);
    if minutes < 60 {
        // A step that does not divide 60 (`*/7`) restarts at every full hour (:49, :56, :00):
        // one shorter gap an hour, which docs/agent-install.md mentions.
        return Ok(if minutes == 1 {
            "* * * * *".into()
        } else {
            format!("*/{minutes} * * * *")
        });
    }
    if minutes.is_multiple_of(60) {
        let hours = minutes / 60;
        if hours == 1 {
            return Ok("0 * * * *".into());
        }
        if hours < 24 {
            return Ok(format!("0 */{hours} * * *"));
        }
        if hours == 24 {
            return Ok("0 0 * * *".into());
        }
    }
    bail!(
        "cron cannot run something every {} exactly; use a number of minutes below 60, \
         or whole hours up to 24h",
        super::human_interval(interval_s)
    )
}

/// Shell-quotes one word for a cron command line (cron hands the line to /bin/sh).
fn sh_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        return w.to_string();
    }
    format!("'{}'", w.replace('\'', r"'\''"))
}

/// The command part of both lines: `flock -n LOCK rt-agent --state-dir DIR collect`.
pub fn command(spec: &Spec, flock: &str) -> String {
    let lock = spec.state_dir.join("cron.lock");
    let mut words = vec![
        sh_word(flock),
        "-n".to_string(),
        sh_word(&lock.display().to_string()),
        sh_word(&spec.exe.display().to_string()),
    ];
    words.extend(spec.agent_args().iter().map(|a| sh_word(a)));
    // `%` means newline to cron; our paths are quoted but a literal % must still be escaped.
    format!("{} >/dev/null 2>&1", words.join(" ")).replace('%', r"\%")
}

/// The lines to install. `user_field` is `Some("root")` for cron.d files, None for a crontab.
pub fn lines(spec: &Spec, flock: &str, user_field: Option<&str>) -> Result<Vec<String>> {
    let when = schedule(spec.interval_s)?;
    let cmd = command(spec, flock);
    let user = user_field.map(|u| format!("{u} ")).unwrap_or_default();
    Ok(vec![
        format!("# ResourceTracker agent, installed by `rt-agent install` {CRON_MARKER}"),
        // After boot, give the network a minute before the first collection.
        format!("@reboot {user}sleep 60 && {cmd} {CRON_MARKER}"),
        format!("{when} {user}{cmd} {CRON_MARKER}"),
    ])
}

/// `current` with our earlier lines removed and `ours` appended.
pub fn merge(current: &str, ours: &[String]) -> String {
    let (mut rest, _) = strip(current);
    if !rest.is_empty() && !rest.ends_with('\n') {
        rest.push('\n');
    }
    for l in ours {
        rest.push_str(l);
        rest.push('\n');
    }
    rest
}

/// `current` without our lines, and how many were removed.
pub fn strip(current: &str) -> (String, usize) {
    let mut out = String::new();
    let mut removed = 0;
    for l in current.lines() {
        if l.trim_end().ends_with(CRON_MARKER) {
            removed += 1;
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    (out, removed)
}

pub fn plan(spec: &Spec, host: &Host) -> Result<Plan> {
    let flock = host.flock.display().to_string();
    let (target, lines) = match spec.scope {
        Scope::System => (
            CronTarget::CronD {
                // cron ignores cron.d files whose names contain a dot: no extension.
                path: host.cron_d_dir.join("rt-agent"),
            },
            lines(spec, &flock, Some("root"))?,
        ),
        Scope::User => (
            CronTarget::UserCrontab {
                crontab: host.crontab.clone(),
            },
            lines(spec, &flock, None)?,
        ),
    };
    Ok(Plan {
        files: vec![],
        cron: Some((target, lines)),
        commands: vec![],
        undo_commands: vec![],
        after_undo: vec![],
        dirs: vec![],
        cleanup: vec![],
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn schedules_for_common_intervals() {
        assert_eq!(schedule(60).unwrap(), "* * * * *");
        assert_eq!(schedule(300).unwrap(), "*/5 * * * *");
        assert_eq!(schedule(900).unwrap(), "*/15 * * * *");
        assert_eq!(schedule(3600).unwrap(), "0 * * * *");
        assert_eq!(schedule(6 * 3600).unwrap(), "0 */6 * * *");
        assert_eq!(schedule(86_400).unwrap(), "0 0 * * *");
        let e = schedule(90 * 60).unwrap_err().to_string();
        assert!(e.contains("whole hours"), "{e}");
    }

    #[test]
    fn merge_is_idempotent_and_strip_keeps_other_lines() {
        let ours = vec![format!("* * * * * true {CRON_MARKER}")];
        let theirs = "MAILTO=ops\n0 3 * * * /usr/bin/backup\n";
        let once = merge(theirs, &ours);
        let twice = merge(&once, &ours);
        assert_eq!(once, twice);
        assert!(once.starts_with(theirs));
        let (rest, removed) = strip(&twice);
        assert_eq!(removed, 1);
        assert_eq!(rest, theirs);
    }

    #[test]
    fn odd_paths_are_quoted_for_the_shell() {
        assert_eq!(sh_word("/usr/bin/rt-agent"), "/usr/bin/rt-agent");
        assert_eq!(sh_word("/opt/my agent/it's"), r"'/opt/my agent/it'\''s'");
    }
}
