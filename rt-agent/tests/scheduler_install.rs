//! Install / uninstall against real files: a temporary cron.d directory, a real crontab file
//! behind a `crontab` wrapper script, systemd units in a temporary unit directory with a
//! `systemctl` wrapper that records its calls. Never the machine's own schedule.
#![allow(clippy::unwrap_used)]

use rt_agent::scheduler::{self, CRON_MARKER, Host, Mode, SchedulerKind, Scope, Spec};
use std::fs;
use std::path::{Path, PathBuf};

fn script(path: &Path, body: &str) {
    fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn host(dir: &Path, scope: Scope) -> Host {
    let log = dir.join("calls.log");
    // Records each call; stands in for the real systemctl/launchctl/schtasks (which would touch
    // this machine). The crontab wrapper keeps a real crontab file.
    for tool in ["systemctl", "launchctl", "schtasks"] {
        script(
            &dir.join(format!("fake-{tool}")),
            &format!("printf '%s\\n' \"{tool} $*\" >> '{}'\n", log.display()),
        );
    }
    let tab = dir.join("crontab.txt");
    script(
        &dir.join("fake-crontab"),
        &format!(
            "F='{}'\ncase \"$1\" in\n  -l) if [ -f \"$F\" ]; then cat \"$F\"; else echo \"no crontab for tester\" >&2; exit 1; fi ;;\n  -r) rm -f \"$F\" ;;\n  *) cp \"$1\" \"$F\" ;;\nesac\n",
            tab.display()
        ),
    );
    Host {
        scope,
        systemd_unit_dir: dir.join("units"),
        systemctl: dir.join("fake-systemctl"),
        cron_d_dir: dir.join("cron.d"),
        crontab: dir.join("fake-crontab"),
        flock: PathBuf::from("/usr/bin/flock"),
        launchd_dir: dir.join("LaunchDaemons"),
        launchd_log_dir: dir.join("Logs/ResourceTracker"),
        launchctl: dir.join("fake-launchctl"),
        schtasks: dir.join("fake-schtasks"),
        uid: Some(501),
    }
}

fn spec(dir: &Path, kind: SchedulerKind, scope: Scope) -> Spec {
    Spec {
        kind,
        mode: Mode::Timer,
        scope,
        interval_s: 900,
        exe: PathBuf::from("/usr/local/bin/rt-agent"),
        state_dir: dir.join("state"),
    }
}

fn calls(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn cron_d_install_twice_adds_nothing_and_uninstall_removes_only_our_lines() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::System);
    fs::create_dir_all(&h.cron_d_dir).unwrap();
    let s = spec(dir.path(), SchedulerKind::Cron, Scope::System);
    let file = h.cron_d_dir.join("rt-agent");

    let first = scheduler::install(&s, &h, false).unwrap();
    assert!(first.changed);
    let after_first = fs::read_to_string(&file).unwrap();
    assert_eq!(
        after_first
            .lines()
            .filter(|l| l.contains(CRON_MARKER))
            .count(),
        3
    );
    assert!(after_first.contains("*/15 * * * * root /usr/bin/flock -n "));

    let second = scheduler::install(&s, &h, false).unwrap();
    assert!(
        !second.changed,
        "second install changed something: {second:?}"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), after_first);

    // Someone adds their own line to our file: uninstall must keep it.
    fs::write(
        &file,
        format!("{after_first}0 4 * * * root /usr/local/bin/backup\n"),
    )
    .unwrap();
    let st = scheduler::status(&s.state_dir);
    assert!(st.installed && st.missing.is_empty(), "{st}");
    assert!(st.to_string().starts_with("cron timer, every 15m"), "{st}");

    scheduler::uninstall(&s.state_dir).unwrap();
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "0 4 * * * root /usr/local/bin/backup\n"
    );
    assert!(!scheduler::manifest_path(&s.state_dir).exists());
    assert!(!scheduler::status(&s.state_dir).installed);

    // Without foreign lines the file itself goes.
    fs::remove_file(&file).unwrap();
    scheduler::install(&s, &h, false).unwrap();
    scheduler::uninstall(&s.state_dir).unwrap();
    assert!(!file.exists());
}

#[test]
fn user_crontab_keeps_other_entries_and_install_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::User);
    let tab = dir.path().join("crontab.txt");
    let theirs = "MAILTO=me@example.com\n30 2 * * * /home/alice/bin/sync-photos\n";
    fs::write(&tab, theirs).unwrap();
    let s = spec(dir.path(), SchedulerKind::Cron, Scope::User);

    scheduler::install(&s, &h, false).unwrap();
    scheduler::install(&s, &h, false).unwrap();
    let text = fs::read_to_string(&tab).unwrap();
    assert!(text.starts_with(theirs), "{text}");
    assert_eq!(
        text.matches("@reboot sleep 60 && /usr/bin/flock").count(),
        1,
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| l.contains(CRON_MARKER)).count(), 3);
    assert!(scheduler::status(&s.state_dir).missing.is_empty());

    // Someone deletes our lines by hand: status notices.
    fs::write(&tab, theirs).unwrap();
    let st = scheduler::status(&s.state_dir);
    assert!(!st.missing.is_empty(), "{st}");
    scheduler::install(&s, &h, false).unwrap();

    scheduler::uninstall(&s.state_dir).unwrap();
    assert_eq!(fs::read_to_string(&tab).unwrap(), theirs);
}

#[test]
fn user_crontab_install_works_for_a_user_without_a_crontab() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::User);
    let s = spec(dir.path(), SchedulerKind::Cron, Scope::User);
    scheduler::install(&s, &h, false).unwrap();
    let tab = dir.path().join("crontab.txt");
    assert_eq!(fs::read_to_string(&tab).unwrap().lines().count(), 3);
    scheduler::uninstall(&s.state_dir).unwrap();
    assert_eq!(fs::read_to_string(&tab).unwrap(), "");
}

#[test]
fn systemd_install_writes_units_enables_timer_and_uninstall_reverses_it() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::User);
    let s = spec(dir.path(), SchedulerKind::Systemd, Scope::User);

    let dry = scheduler::install(&s, &h, true).unwrap();
    assert!(!h.systemd_unit_dir.exists(), "dry run must not write");
    assert!(
        dry.actions
            .iter()
            .any(|a| a.contains("enable --now rt-agent.timer"))
    );
    assert!(calls(dir.path()).is_empty());

    scheduler::install(&s, &h, false).unwrap();
    let service = h.systemd_unit_dir.join("rt-agent.service");
    let timer = h.systemd_unit_dir.join("rt-agent.timer");
    assert!(service.exists() && timer.exists());
    assert_eq!(
        calls(dir.path()),
        [
            "systemctl --user daemon-reload",
            "systemctl --user enable --now rt-agent.timer"
        ]
    );
    // Unchanged reinstall runs nothing.
    let again = scheduler::install(&s, &h, false).unwrap();
    assert!(!again.changed);
    assert_eq!(calls(dir.path()).len(), 2);

    let st = scheduler::status(&s.state_dir);
    assert_eq!(st.scheduler, Some(SchedulerKind::Systemd));
    assert!(st.locations.iter().any(|l| l.ends_with("rt-agent.timer")));

    scheduler::uninstall(&s.state_dir).unwrap();
    assert!(!service.exists() && !timer.exists());
    // The unit directory was created by us and is empty again: gone.
    assert!(!h.systemd_unit_dir.exists());
    assert_eq!(
        &calls(dir.path())[2..],
        [
            "systemctl --user disable --now rt-agent.timer",
            "systemctl --user daemon-reload"
        ]
    );
}

#[test]
fn switching_scheduler_undoes_the_previous_install_first() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::System);
    fs::create_dir_all(&h.cron_d_dir).unwrap();
    let cron = spec(dir.path(), SchedulerKind::Cron, Scope::System);
    scheduler::install(&cron, &h, false).unwrap();
    let sysd = spec(dir.path(), SchedulerKind::Systemd, Scope::System);
    scheduler::install(&sysd, &h, false).unwrap();
    assert!(!h.cron_d_dir.join("rt-agent").exists());
    assert!(h.systemd_unit_dir.join("rt-agent.timer").exists());
    let m = scheduler::load_manifest(&sysd.state_dir).unwrap().unwrap();
    assert_eq!(m.scheduler, SchedulerKind::Systemd);
    assert!(m.cron.is_none());
}

#[test]
fn launchd_and_windows_installs_record_and_reverse_their_commands() {
    let dir = tempfile::tempdir().unwrap();
    let h = host(dir.path(), Scope::System);
    let l = spec(dir.path(), SchedulerKind::Launchd, Scope::System);
    scheduler::install(&l, &h, false).unwrap();
    let plist = h.launchd_dir.join("com.resourcetracker.agent.plist");
    assert!(plist.exists());
    // launchd writes the log; uninstall removes it and the directories it created.
    fs::write(h.launchd_log_dir.join("rt-agent.log"), "log").unwrap();
    scheduler::uninstall(&l.state_dir).unwrap();
    assert!(!plist.exists() && !h.launchd_dir.exists() && !h.launchd_log_dir.exists());

    let w = spec(dir.path(), SchedulerKind::Windows, Scope::System);
    scheduler::install(&w, &h, false).unwrap();
    let xml = w.state_dir.join("rt-agent-task.xml");
    assert_eq!(&fs::read(&xml).unwrap()[..2], &[0xFF, 0xFE]);
    scheduler::uninstall(&w.state_dir).unwrap();
    assert!(!xml.exists());
    let c = calls(dir.path());
    let expect_create = format!(
        "schtasks /Create /TN \\ResourceTracker\\rt-agent /XML {} /F",
        xml.display()
    );
    assert_eq!(
        c,
        [
            format!("launchctl bootstrap system {}", plist.display()),
            "launchctl bootout system/com.resourcetracker.agent".to_string(),
            expect_create,
            "schtasks /Delete /TN \\ResourceTracker\\rt-agent /F".to_string(),
        ]
    );
}
