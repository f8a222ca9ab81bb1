//! launchd: `/Library/LaunchDaemons/com.resourcetracker.agent.plist` (or the user's
//! LaunchAgents) with RunAtLoad and StartInterval, logs under /Library/Logs/ResourceTracker.

use super::{Host, LAUNCHD_LABEL, Plan, PlannedFile, Scope, Spec};
use anyhow::Result;
use std::path::Path;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The property list. `log_dir` holds `rt-agent.log`.
pub fn plist(spec: &Spec, log_dir: &Path) -> String {
    let mut args = String::new();
    for a in std::iter::once(spec.exe.display().to_string()).chain(spec.agent_args()) {
        args.push_str(&format!("\t\t<string>{}</string>\n", xml_escape(&a)));
    }
    let log = xml_escape(&log_dir.join("rt-agent.log").display().to_string());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Installed by `rt-agent install`; removed by `rt-agent uninstall`. -->
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{LAUNCHD_LABEL}</string>
	<key>ProgramArguments</key>
	<array>
{args}	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>StartInterval</key>
	<integer>{interval}</integer>
	<key>ProcessType</key>
	<string>Background</string>
	<key>LowPriorityIO</key>
	<true/>
	<key>Nice</key>
	<integer>10</integer>
	<key>Umask</key>
	<integer>63</integer>
	<key>StandardOutPath</key>
	<string>{log}</string>
	<key>StandardErrorPath</key>
	<string>{log}</string>
</dict>
</plist>
"#,
        interval = spec.interval_s,
    )
}

/// `system` for daemons, `gui/<uid>` for a user's agents.
pub fn domain(scope: Scope, uid: Option<u32>) -> String {
    match scope {
        Scope::System => "system".into(),
        Scope::User => format!("gui/{}", uid.unwrap_or(501)),
    }
}

pub fn plan(spec: &Spec, host: &Host) -> Result<Plan> {
    let path = host.launchd_dir.join(format!("{LAUNCHD_LABEL}.plist"));
    let launchctl = host.launchctl.display().to_string();
    let domain = domain(spec.scope, host.uid);
    let mode = match spec.scope {
        Scope::System => 0o644,
        Scope::User => 0o600,
    };
    Ok(Plan {
        dirs: vec![host.launchd_dir.clone(), host.launchd_log_dir.clone()],
        files: vec![PlannedFile {
            path: path.clone(),
            contents: plist(spec, &host.launchd_log_dir).into_bytes(),
            mode,
        }],
        cron: None,
        commands: vec![vec![
            launchctl.clone(),
            "bootstrap".into(),
            domain.clone(),
            path.display().to_string(),
        ]],
        undo_commands: vec![vec![
            launchctl,
            "bootout".into(),
            format!("{domain}/{LAUNCHD_LABEL}"),
        ]],
        after_undo: vec![],
        cleanup: vec![host.launchd_log_dir.join("rt-agent.log")],
    })
}
