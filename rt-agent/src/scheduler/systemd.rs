//! systemd units: `rt-agent.service` (oneshot `collect` for timer mode, resident `run` with
//! Restart=on-failure for service mode) and `rt-agent.timer` (timer mode). System units are
//! hardened; user units keep the options that work without privileges.

use super::{Host, Mode, Plan, PlannedFile, SYSTEMD_UNIT, Scope, Spec};
use std::path::Path;

/// A systemd time span: `15min`, `2h`, `90s`.
pub fn span(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}min", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Quotes one ExecStart word when it needs it (spaces, quotes, backslashes).
fn exec_word(w: &str) -> String {
    if !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,".contains(c))
    {
        return w.to_string();
    }
    let escaped = w
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

/// The `ExecStart=` command line.
pub fn exec_start(spec: &Spec) -> String {
    let mut words = vec![exec_word(&spec.exe.display().to_string())];
    words.extend(spec.agent_args().iter().map(|a| exec_word(a)));
    words.join(" ")
}

/// `rt-agent.service`.
pub fn service_unit(spec: &Spec) -> String {
    let mut u = String::new();
    u.push_str("# Installed by `rt-agent install`; removed by `rt-agent uninstall`.\n");
    u.push_str("[Unit]\n");
    match spec.mode {
        Mode::Timer => {
            u.push_str("Description=ResourceTracker agent: collect and upload one health sample\n")
        }
        Mode::Service => {
            u.push_str("Description=ResourceTracker agent: collect and upload device health\n")
        }
    }
    if spec.scope == Scope::System {
        u.push_str("Wants=network-online.target\nAfter=network-online.target\n");
    }
    u.push_str("\n[Service]\n");
    match spec.mode {
        Mode::Timer => u.push_str("Type=oneshot\n"),
        Mode::Service => u.push_str("Type=exec\nRestart=on-failure\nRestartSec=30s\n"),
    }
    u.push_str(&format!("ExecStart={}\n", exec_start(spec)));
    if spec.mode == Mode::Timer {
        // A stuck collection (a hung smartctl, an unreachable server) must not block the next.
        u.push_str("TimeoutStartSec=10min\n");
    }
    u.push_str("Nice=10\nIOSchedulingClass=idle\nUMask=0077\nNoNewPrivileges=yes\n");
    if spec.scope == Scope::System {
        let default_state = Path::new("/var/lib").join(SYSTEMD_UNIT);
        if spec.state_dir == default_state {
            u.push_str(&format!(
                "StateDirectory={SYSTEMD_UNIT}\nStateDirectoryMode=0700\n"
            ));
        } else {
            u.push_str(&format!(
                "ReadWritePaths={}\n",
                exec_word(&spec.state_dir.display().to_string())
            ));
        }
        // Hardening. Collection reads /proc, /sys and (for SMART) /dev, so no PrivateDevices,
        // and it runs as root so smartctl can query disks.
        u.push_str(concat!(
            "ProtectSystem=strict\n",
            "ProtectHome=read-only\n",
            "PrivateTmp=yes\n",
            "ProtectKernelTunables=yes\n",
            "ProtectKernelModules=yes\n",
            "ProtectKernelLogs=yes\n",
            "ProtectControlGroups=yes\n",
            "ProtectClock=yes\n",
            "ProtectHostname=yes\n",
            "RestrictSUIDSGID=yes\n",
            "RestrictRealtime=yes\n",
            "RestrictNamespaces=yes\n",
            "LockPersonality=yes\n",
            "MemoryDenyWriteExecute=yes\n",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK\n",
            "SystemCallArchitectures=native\n",
        ));
    }
    if spec.mode == Mode::Service {
        let target = match spec.scope {
            Scope::System => "multi-user.target",
            Scope::User => "default.target",
        };
        u.push_str(&format!("\n[Install]\nWantedBy={target}\n"));
    }
    u
}

/// `rt-agent.timer` (timer mode only).
pub fn timer_unit(spec: &Spec) -> String {
    // Spread a fleet's uploads over a tenth of the interval, at most 5 minutes.
    let jitter = (spec.interval_s / 10).clamp(1, 300);
    format!(
        "# Installed by `rt-agent install`; removed by `rt-agent uninstall`.\n\
         [Unit]\n\
         Description=ResourceTracker agent schedule (every {every})\n\
         \n\
         [Timer]\n\
         OnBootSec=2min\n\
         OnUnitActiveSec={every}\n\
         RandomizedDelaySec={jitter}\n\
         AccuracySec=1min\n\
         Unit={SYSTEMD_UNIT}.service\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        every = span(spec.interval_s),
        jitter = span(jitter),
    )
}

fn systemctl(host: &Host, spec: &Spec, args: &[&str]) -> Vec<String> {
    let mut v = vec![host.systemctl.display().to_string()];
    if spec.scope == Scope::User {
        v.push("--user".into());
    }
    v.extend(args.iter().map(|s| s.to_string()));
    v
}

pub fn plan(spec: &Spec, host: &Host) -> Plan {
    let dir = &host.systemd_unit_dir;
    let mut files = vec![PlannedFile {
        path: dir.join(format!("{SYSTEMD_UNIT}.service")),
        contents: service_unit(spec).into_bytes(),
        mode: 0o644,
    }];
    let enabled = match spec.mode {
        Mode::Timer => {
            files.push(PlannedFile {
                path: dir.join(format!("{SYSTEMD_UNIT}.timer")),
                contents: timer_unit(spec).into_bytes(),
                mode: 0o644,
            });
            format!("{SYSTEMD_UNIT}.timer")
        }
        Mode::Service => format!("{SYSTEMD_UNIT}.service"),
    };
    Plan {
        dirs: vec![dir.clone()],
        files,
        cron: None,
        commands: vec![
            systemctl(host, spec, &["daemon-reload"]),
            systemctl(host, spec, &["enable", "--now", &enabled]),
        ],
        undo_commands: vec![systemctl(host, spec, &["disable", "--now", &enabled])],
        after_undo: vec![systemctl(host, spec, &["daemon-reload"])],
        cleanup: vec![],
    }
}
