//! Installing the agent's schedule: systemd (service + timer), cron, Windows Task Scheduler and
//! launchd.
//!
//! Split in two on purpose:
//! - pure generators (`systemd`, `cron`, `windows`, `launchd`) that turn a [`Spec`] into unit
//!   files, cron lines, task XML or a plist, and the command lines to run — tested on every OS
//!   with golden files;
//! - a thin executor ([`install`], [`uninstall`]) that writes those files, edits the crontab and
//!   runs the commands, recording everything in an install manifest (`<state>/install.json`) so
//!   that uninstall reverses exactly what install did.
//!
//! Every path and external command the executor touches comes from [`Host`], which reads
//! overrides from `RT_AGENT_*` variables: tests point them at temporary directories and fake
//! `crontab`/`systemctl` wrappers, so they never touch the machine's own schedule.

pub mod cron;
pub mod launchd;
pub mod systemd;
pub mod windows;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Marker that ends every cron line we write; uninstall removes exactly the lines carrying it.
pub const CRON_MARKER: &str = "# rt-agent:managed";
/// Task Scheduler path of the Windows task.
pub const WINDOWS_TASK_NAME: &str = r"\ResourceTracker\rt-agent";
/// launchd label.
pub const LAUNCHD_LABEL: &str = "com.resourcetracker.agent";
/// systemd unit base name.
pub const SYSTEMD_UNIT: &str = "rt-agent";
/// File name of the install manifest inside the state directory.
pub const MANIFEST_FILE: &str = "install.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchedulerKind {
    Systemd,
    Cron,
    Windows,
    Launchd,
}

impl SchedulerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SchedulerKind::Systemd => "systemd",
            SchedulerKind::Cron => "cron",
            SchedulerKind::Windows => "windows",
            SchedulerKind::Launchd => "launchd",
        }
    }
}

impl fmt::Display for SchedulerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the user asked for: a scheduler, `auto`, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    Auto,
    None,
    Kind(SchedulerKind),
}

impl std::str::FromStr for Choice {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Choice::Auto,
            "none" | "" => Choice::None,
            "systemd" => Choice::Kind(SchedulerKind::Systemd),
            "cron" => Choice::Kind(SchedulerKind::Cron),
            "windows" | "schtasks" | "task-scheduler" => Choice::Kind(SchedulerKind::Windows),
            "launchd" => Choice::Kind(SchedulerKind::Launchd),
            other => bail!(
                "unknown scheduler {other:?}: use auto, systemd, cron, windows, launchd or none"
            ),
        })
    }
}

/// timer: a short `rt-agent collect` every interval; service: a resident `rt-agent run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Timer,
    Service,
}

impl std::str::FromStr for Mode {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "timer" => Ok(Mode::Timer),
            "service" => Ok(Mode::Service),
            other => bail!("unknown mode {other:?}: use timer or service"),
        }
    }
}

/// Machine-wide (root / SYSTEM, starts at boot) or for the signed-in user only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    System,
    User,
}

/// Everything the generators need. Pure data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub kind: SchedulerKind,
    pub mode: Mode,
    pub scope: Scope,
    pub interval_s: u64,
    /// Absolute path of the rt-agent executable.
    pub exe: PathBuf,
    /// Absolute path of the state directory.
    pub state_dir: PathBuf,
}

impl Spec {
    /// Arguments after the executable: `--state-dir DIR collect` (timer) or `... run` (service).
    pub fn agent_args(&self) -> Vec<String> {
        vec![
            "--state-dir".into(),
            self.state_dir.display().to_string(),
            match self.mode {
                Mode::Timer => "collect".into(),
                Mode::Service => "run".into(),
            },
        ]
    }
}

/// A file the install writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
    /// Unix permission bits.
    pub mode: u32,
}

/// Which crontab we edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CronTarget {
    /// A file in a cron.d directory (root): `/etc/cron.d/rt-agent`.
    CronD { path: PathBuf },
    /// The user's crontab, read with `crontab -l` and written with `crontab FILE`.
    UserCrontab { crontab: PathBuf },
}

/// The whole install, as data: what to write and what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub files: Vec<PlannedFile>,
    pub cron: Option<(CronTarget, Vec<String>)>,
    /// Run after the files are written (daemon-reload, enable --now, schtasks /Create, ...).
    pub commands: Vec<Vec<String>>,
    /// Run by uninstall before the files are removed (disable --now, schtasks /Delete, ...).
    pub undo_commands: Vec<Vec<String>>,
    /// Run by uninstall after the files are removed (daemon-reload).
    pub after_undo: Vec<Vec<String>>,
    /// Directories to create when missing (recorded, and removed again on uninstall when empty).
    pub dirs: Vec<PathBuf>,
    /// Files the schedule itself produces at run time (logs); uninstall removes them.
    pub cleanup: Vec<PathBuf>,
}

/// The paths and commands of the machine we install on. Defaults are the real ones; each can be
/// overridden by an environment variable (tests, packaging, unusual layouts).
#[derive(Debug, Clone)]
pub struct Host {
    pub scope: Scope,
    pub systemd_unit_dir: PathBuf,
    pub systemctl: PathBuf,
    pub cron_d_dir: PathBuf,
    pub crontab: PathBuf,
    pub flock: PathBuf,
    pub launchd_dir: PathBuf,
    pub launchd_log_dir: PathBuf,
    pub launchctl: PathBuf,
    pub schtasks: PathBuf,
    /// launchd's user domain (`gui/<uid>`).
    pub uid: Option<u32>,
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn home() -> PathBuf {
    env_path("HOME").unwrap_or_else(|| PathBuf::from("."))
}

impl Host {
    /// The running machine, with `RT_AGENT_*` overrides:
    /// `RT_AGENT_INSTALL_SCOPE` (system|user), `RT_AGENT_SYSTEMD_UNIT_DIR`, `RT_AGENT_SYSTEMCTL`,
    /// `RT_AGENT_CRON_D_DIR`, `RT_AGENT_CRONTAB`, `RT_AGENT_FLOCK`, `RT_AGENT_LAUNCHD_DIR`,
    /// `RT_AGENT_LAUNCHD_LOG_DIR`, `RT_AGENT_LAUNCHCTL`, `RT_AGENT_SCHTASKS`.
    pub fn from_env() -> Result<Host> {
        let scope = match std::env::var("RT_AGENT_INSTALL_SCOPE").ok().as_deref() {
            Some("system") => Scope::System,
            Some("user") => Scope::User,
            Some("") | None => {
                if is_privileged() {
                    Scope::System
                } else {
                    Scope::User
                }
            }
            Some(other) => bail!("RT_AGENT_INSTALL_SCOPE={other:?}: use system or user"),
        };
        let user_systemd = env_path("XDG_CONFIG_HOME")
            .unwrap_or_else(|| home().join(".config"))
            .join("systemd/user");
        Ok(Host {
            scope,
            systemd_unit_dir: env_path("RT_AGENT_SYSTEMD_UNIT_DIR").unwrap_or(match scope {
                Scope::System => PathBuf::from("/etc/systemd/system"),
                Scope::User => user_systemd,
            }),
            systemctl: env_path("RT_AGENT_SYSTEMCTL").unwrap_or_else(|| "systemctl".into()),
            cron_d_dir: env_path("RT_AGENT_CRON_D_DIR").unwrap_or_else(|| "/etc/cron.d".into()),
            crontab: env_path("RT_AGENT_CRONTAB").unwrap_or_else(|| "crontab".into()),
            flock: env_path("RT_AGENT_FLOCK")
                .or_else(|| find_in_path("flock"))
                .unwrap_or_else(|| "/usr/bin/flock".into()),
            launchd_dir: env_path("RT_AGENT_LAUNCHD_DIR").unwrap_or(match scope {
                Scope::System => PathBuf::from("/Library/LaunchDaemons"),
                Scope::User => home().join("Library/LaunchAgents"),
            }),
            launchd_log_dir: env_path("RT_AGENT_LAUNCHD_LOG_DIR").unwrap_or(match scope {
                Scope::System => PathBuf::from("/Library/Logs/ResourceTracker"),
                Scope::User => home().join("Library/Logs/ResourceTracker"),
            }),
            launchctl: env_path("RT_AGENT_LAUNCHCTL").unwrap_or_else(|| "launchctl".into()),
            schtasks: env_path("RT_AGENT_SCHTASKS").unwrap_or_else(|| "schtasks".into()),
            uid: rt_client::platform::effective_uid(),
        })
    }

    /// Which scheduler `auto` means here, or why there is none.
    pub fn detect(&self) -> Result<SchedulerKind> {
        if cfg!(windows) {
            return Ok(SchedulerKind::Windows);
        }
        if cfg!(target_os = "macos") {
            return Ok(SchedulerKind::Launchd);
        }
        if env_path("RT_AGENT_SYSTEMD_UNIT_DIR").is_some() {
            return Ok(SchedulerKind::Systemd);
        }
        let systemd_booted = Path::new("/run/systemd/system").is_dir();
        let user_manager = env_path("XDG_RUNTIME_DIR").is_some_and(|d| d.join("systemd").is_dir());
        if systemd_booted && (self.scope == Scope::System || user_manager) {
            return Ok(SchedulerKind::Systemd);
        }
        let cron = match self.scope {
            Scope::System => self.cron_d_dir.is_dir(),
            Scope::User => {
                self.crontab.is_absolute() && self.crontab.exists()
                    || find_in_path(&self.crontab.to_string_lossy()).is_some()
            }
        };
        if cron {
            return Ok(SchedulerKind::Cron);
        }
        bail!(
            "no scheduler found on this machine (no running systemd, no cron); \
             choose one with --scheduler, or run `rt-agent run` from your own service manager"
        )
    }
}

/// Root on Unix (rt-client's one check). Windows installs are always machine-wide: they need
/// an elevated prompt, and schtasks says so itself when it is not.
pub fn is_privileged() -> bool {
    cfg!(windows) || rt_client::platform::running_as_root()
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Parses an interval in the one duration grammar (`15m`, `1h`) into seconds.
pub fn parse_interval(s: &str) -> Result<u64> {
    Ok(rt_client::duration::parse_secs(s)?)
}

/// `900` -> `15m`, for messages.
pub fn human_interval(secs: u64) -> String {
    rt_client::duration::format_secs(secs)
}

/// Builds the plan for `spec` on `host`.
pub fn plan(spec: &Spec, host: &Host) -> Result<Plan> {
    if spec.interval_s < 60 {
        bail!(
            "the scheduled interval must be at least 1 minute (got {})",
            human_interval(spec.interval_s)
        );
    }
    match spec.kind {
        SchedulerKind::Systemd => Ok(systemd::plan(spec, host)),
        SchedulerKind::Cron => cron::plan(spec, host),
        SchedulerKind::Windows => windows::plan(spec, host),
        SchedulerKind::Launchd => launchd::plan(spec, host),
    }
}

/// What install recorded, so uninstall can undo exactly that.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub scheduler: SchedulerKind,
    pub mode: Mode,
    pub scope: Scope,
    pub interval_s: u64,
    pub exe: PathBuf,
    pub installed_at: chrono::DateTime<chrono::Utc>,
    pub files: Vec<PathBuf>,
    #[serde(default)]
    pub dirs_created: Vec<PathBuf>,
    #[serde(default)]
    pub cron: Option<CronRecord>,
    #[serde(default)]
    pub cleanup: Vec<PathBuf>,
    pub undo_commands: Vec<Vec<String>>,
    pub after_undo: Vec<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CronRecord {
    pub target: CronTarget,
    pub lines: Vec<String>,
}

pub fn manifest_path(state_dir: &Path) -> PathBuf {
    state_dir.join(MANIFEST_FILE)
}

pub fn load_manifest(state_dir: &Path) -> Result<Option<Manifest>> {
    crate::state::read_json(&manifest_path(state_dir))
}

/// Scheduler state for `rt-agent status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchedulerStatus {
    pub installed: bool,
    pub scheduler: Option<SchedulerKind>,
    pub mode: Option<Mode>,
    pub scope: Option<Scope>,
    pub interval_s: Option<u64>,
    pub installed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Installed files or cron lines that have gone missing since (someone removed them).
    pub missing: Vec<String>,
    /// Where the schedule lives (files, crontab), for people.
    pub locations: Vec<String>,
}

impl fmt::Display for SchedulerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(kind) = self.scheduler.filter(|_| self.installed) else {
            return f.write_str("not installed (run `rt-agent install`)");
        };
        write!(f, "{kind}")?;
        if let Some(m) = self.mode {
            write!(f, " {}", if m == Mode::Timer { "timer" } else { "service" })?;
        }
        if let Some(i) = self.interval_s {
            write!(f, ", every {}", human_interval(i))?;
        }
        if let Some(s) = self.scope {
            write!(
                f,
                ", {}",
                if s == Scope::System {
                    "machine-wide"
                } else {
                    "this user"
                }
            )?;
        }
        if !self.locations.is_empty() {
            write!(f, " ({})", self.locations.join(", "))?;
        }
        if !self.missing.is_empty() {
            write!(f, "; MISSING: {}", self.missing.join(", "))?;
        }
        Ok(())
    }
}

/// Reads the manifest and checks that what it lists is still in place.
pub fn status(state_dir: &Path) -> SchedulerStatus {
    let m = match load_manifest(state_dir) {
        Ok(Some(m)) => m,
        _ => {
            return SchedulerStatus {
                installed: false,
                scheduler: None,
                mode: None,
                scope: None,
                interval_s: None,
                installed_at: None,
                missing: vec![],
                locations: vec![],
            };
        }
    };
    let mut missing = vec![];
    let mut locations = vec![];
    for f in &m.files {
        locations.push(f.display().to_string());
        if !f.exists() {
            missing.push(f.display().to_string());
        }
    }
    if let Some(c) = &m.cron {
        match &c.target {
            CronTarget::CronD { path } => {
                locations.push(path.display().to_string());
                let text = fs::read_to_string(path).unwrap_or_default();
                if !c.lines.iter().all(|l| text.lines().any(|x| x == l)) {
                    missing.push(format!("cron lines in {}", path.display()));
                }
            }
            CronTarget::UserCrontab { crontab } => {
                locations.push("user crontab".into());
                match read_user_crontab(crontab) {
                    Ok(text) if c.lines.iter().all(|l| text.lines().any(|x| x == l)) => {}
                    _ => missing.push("cron lines in the user crontab".into()),
                }
            }
        }
    }
    if m.scheduler == SchedulerKind::Windows {
        locations.push(format!("task {WINDOWS_TASK_NAME}"));
    }
    SchedulerStatus {
        installed: true,
        scheduler: Some(m.scheduler),
        mode: Some(m.mode),
        scope: Some(m.scope),
        interval_s: Some(m.interval_s),
        installed_at: Some(m.installed_at),
        missing,
        locations,
    }
}

/// What an install or uninstall did, one line per action, for printing.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub actions: Vec<String>,
    pub warnings: Vec<String>,
    pub changed: bool,
}

/// Installs `spec`: replaces an earlier install (undoing it first when it differs), writes the
/// files, edits the crontab, runs the commands and records the manifest. With `dry_run`, only
/// reports what it would do.
pub fn install(spec: &Spec, host: &Host, dry_run: bool) -> Result<Report> {
    let plan = plan(spec, host)?;
    let mut report = Report::default();
    if dry_run {
        for d in &plan.dirs {
            report
                .actions
                .push(format!("would create directory {}", d.display()));
        }
        for f in &plan.files {
            // The task XML is UTF-16 on disk, as Task Scheduler wants; shown as text here.
            let (text, encoding) = match windows::text_of_utf16le_with_bom(&f.contents) {
                Some(t) => (t, ", UTF-16LE"),
                None => (String::from_utf8_lossy(&f.contents).into_owned(), ""),
            };
            report.actions.push(format!(
                "would write {} (mode {:o}{encoding}):\n{text}",
                f.path.display(),
                f.mode,
            ));
        }
        if let Some((target, lines)) = &plan.cron {
            report.actions.push(format!(
                "would add to {}:\n{}",
                describe_cron(target),
                lines.join("\n")
            ));
        }
        for c in &plan.commands {
            report.actions.push(format!("would run: {}", c.join(" ")));
        }
        return Ok(report);
    }

    let previous = load_manifest(&spec.state_dir)?;
    let same = previous.as_ref().is_some_and(|m| {
        m.scheduler == spec.kind
            && m.mode == spec.mode
            && m.scope == spec.scope
            && m.interval_s == spec.interval_s
            && m.exe == spec.exe
    });
    if let Some(prev) = previous.as_ref().filter(|_| !same) {
        report.actions.push(format!(
            "replacing the earlier {} install",
            prev.scheduler.as_str()
        ));
        let r = undo(prev)?;
        report.actions.extend(r.actions);
        report.warnings.extend(r.warnings);
    }

    let mut dirs_created = previous
        .as_ref()
        .filter(|_| same)
        .map(|m| m.dirs_created.clone())
        .unwrap_or_default();
    for d in &plan.dirs {
        if !d.exists() {
            fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            report
                .actions
                .push(format!("created directory {}", d.display()));
            dirs_created.push(d.clone());
            report.changed = true;
        }
    }
    for f in &plan.files {
        if fs::read(&f.path).ok().as_deref() == Some(&f.contents[..]) {
            report
                .actions
                .push(format!("{} is already up to date", f.path.display()));
            continue;
        }
        write_file(&f.path, &f.contents, f.mode)?;
        report.actions.push(format!("wrote {}", f.path.display()));
        report.changed = true;
    }
    let mut cron_record = None;
    if let Some((target, lines)) = &plan.cron {
        let changed = cron_apply(target, lines)?;
        report.actions.push(if changed {
            format!("added {} line(s) to {}", lines.len(), describe_cron(target))
        } else {
            format!("{} already has our lines", describe_cron(target))
        });
        report.changed |= changed;
        cron_record = Some(CronRecord {
            target: target.clone(),
            lines: lines.clone(),
        });
    }
    if report.changed || !same {
        for c in &plan.commands {
            run_command(c)?;
            report.actions.push(format!("ran: {}", c.join(" ")));
        }
    }
    let manifest = Manifest {
        scheduler: spec.kind,
        mode: spec.mode,
        scope: spec.scope,
        interval_s: spec.interval_s,
        exe: spec.exe.clone(),
        installed_at: previous
            .filter(|_| same && !report.changed)
            .map(|m| m.installed_at)
            .unwrap_or_else(chrono::Utc::now),
        files: plan.files.iter().map(|f| f.path.clone()).collect(),
        dirs_created,
        cron: cron_record,
        cleanup: plan.cleanup.clone(),
        undo_commands: plan.undo_commands.clone(),
        after_undo: plan.after_undo.clone(),
    };
    rt_client::files::create_private_dir(&spec.state_dir)
        .with_context(|| format!("cannot create {}", spec.state_dir.display()))?;
    crate::state::write_json_atomic(&manifest_path(&spec.state_dir), &manifest)?;
    Ok(report)
}

/// Reverses the install recorded in `state_dir`. Ok with an empty report when nothing was
/// installed.
pub fn uninstall(state_dir: &Path) -> Result<Report> {
    let Some(m) = load_manifest(state_dir)? else {
        return Ok(Report::default());
    };
    let report = undo(&m)?;
    match fs::remove_file(manifest_path(state_dir)) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).context("cannot remove the install manifest"),
    }
    Ok(report)
}

fn undo(m: &Manifest) -> Result<Report> {
    let mut report = Report {
        changed: true,
        ..Report::default()
    };
    // Stopping may fail when someone already removed the unit or task: go on, but say so.
    for c in &m.undo_commands {
        match run_command(c) {
            Ok(()) => report.actions.push(format!("ran: {}", c.join(" "))),
            Err(e) => report.warnings.push(format!("{e:#}")),
        }
    }
    for f in &m.files {
        match fs::remove_file(f) {
            Ok(()) => report.actions.push(format!("removed {}", f.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => report
                .warnings
                .push(format!("{} was already gone", f.display())),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot remove {}", f.display()));
            }
        }
    }
    if let Some(c) = &m.cron {
        let removed = cron_remove(&c.target)?;
        report.actions.push(format!(
            "removed {removed} line(s) from {}",
            describe_cron(&c.target)
        ));
    }
    for c in &m.after_undo {
        match run_command(c) {
            Ok(()) => report.actions.push(format!("ran: {}", c.join(" "))),
            Err(e) => report.warnings.push(format!("{e:#}")),
        }
    }
    for f in &m.cleanup {
        if fs::remove_file(f).is_ok() {
            report.actions.push(format!("removed {}", f.display()));
        }
    }
    for d in m.dirs_created.iter().rev() {
        // Only when empty: someone else may have put files there since.
        if fs::remove_dir(d).is_ok() {
            report
                .actions
                .push(format!("removed directory {}", d.display()));
        }
    }
    Ok(report)
}

fn describe_cron(t: &CronTarget) -> String {
    match t {
        CronTarget::CronD { path } => path.display().to_string(),
        CronTarget::UserCrontab { .. } => "the user crontab".into(),
    }
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".rt-tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, contents).with_context(|| format!("cannot write {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set permissions of {}", tmp.display()))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn run_command(argv: &[String]) -> Result<()> {
    let (prog, args) = argv.split_first().context("empty command")?;
    let out = Command::new(prog)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {prog}"))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            argv.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn read_user_crontab(crontab: &Path) -> Result<String> {
    let out = Command::new(crontab)
        .arg("-l")
        .output()
        .with_context(|| format!("cannot run {} -l", crontab.display()))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    // "no crontab for alice" is the normal answer for a user without one.
    if err.to_ascii_lowercase().contains("no crontab") {
        return Ok(String::new());
    }
    bail!("`{} -l` failed: {}", crontab.display(), err.trim())
}

fn write_user_crontab(crontab: &Path, text: &str) -> Result<()> {
    let tmp = tempfile_in_tmp(text)?;
    let out = Command::new(crontab)
        .arg(tmp.path())
        .output()
        .with_context(|| format!("cannot run {}", crontab.display()))?;
    if !out.status.success() {
        bail!(
            "`{} FILE` failed: {}",
            crontab.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// A private temporary file removed on drop.
struct TmpFile(PathBuf);
impl TmpFile {
    fn path(&self) -> &Path {
        &self.0
    }
}
impl Drop for TmpFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn tempfile_in_tmp(text: &str) -> Result<TmpFile> {
    let name = format!(
        "rt-agent-crontab-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    );
    let path = std::env::temp_dir().join(name);
    let mut f = crate::state::create_private_file(&path, true)
        .with_context(|| format!("cannot create {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(TmpFile(path))
}

/// Adds our lines (replacing any earlier ones of ours). Returns whether anything changed.
fn cron_apply(target: &CronTarget, lines: &[String]) -> Result<bool> {
    let current = match target {
        CronTarget::CronD { path } => match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        },
        CronTarget::UserCrontab { crontab } => read_user_crontab(crontab)?,
    };
    let next = cron::merge(&current, lines);
    if next == current {
        return Ok(false);
    }
    match target {
        CronTarget::CronD { path } => write_file(path, next.as_bytes(), 0o644)?,
        CronTarget::UserCrontab { crontab } => write_user_crontab(crontab, &next)?,
    }
    Ok(true)
}

/// Removes our lines; returns how many. A cron.d file left with nothing of anyone's is deleted.
fn cron_remove(target: &CronTarget) -> Result<usize> {
    match target {
        CronTarget::CronD { path } => {
            let current = match fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read {}", path.display()));
                }
            };
            let (rest, removed) = cron::strip(&current);
            if rest.trim().is_empty() {
                fs::remove_file(path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
            } else if removed > 0 {
                write_file(path, rest.as_bytes(), 0o644)?;
            }
            Ok(removed)
        }
        CronTarget::UserCrontab { crontab } => {
            let current = read_user_crontab(crontab)?;
            let (rest, removed) = cron::strip(&current);
            if removed > 0 {
                write_user_crontab(crontab, &rest)?;
            }
            Ok(removed)
        }
    }
}

/// Resolves `--scheduler`/`--interval`/`--mode` into a [`Spec`] for this machine.
pub fn spec_for(
    choice: Choice,
    interval: &str,
    mode: &str,
    state_dir: &Path,
    host: &Host,
) -> Result<Option<Spec>> {
    let kind = match choice {
        Choice::None => return Ok(None),
        Choice::Auto => host.detect()?,
        Choice::Kind(k) => k,
    };
    let mode: Mode = mode.parse()?;
    if mode == Mode::Service && kind != SchedulerKind::Systemd {
        bail!("--mode service is available with systemd only; {kind} runs the agent as a timer");
    }
    let exe = std::env::current_exe().context("cannot find the rt-agent executable")?;
    let exe = exe.canonicalize().unwrap_or(exe);
    // Canonical Windows paths are verbatim (`\\?\C:\...`); the task runs the ordinary form.
    let exe = match exe.to_str() {
        Some(s) if cfg!(windows) => PathBuf::from(windows::without_verbatim_prefix(s)),
        _ => exe,
    };
    let state_dir = absolute(state_dir)?;
    Ok(Some(Spec {
        kind,
        mode,
        scope: host.scope,
        interval_s: parse_interval(interval)?,
        exe,
        state_dir,
    }))
}

fn absolute(p: &Path) -> Result<PathBuf> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join(p))
}

/// Prints a report the same way for install, uninstall and the wizard.
pub fn print_report(report: &Report) {
    for a in &report.actions {
        println!("  {a}");
    }
    for w in &report.warnings {
        eprintln!("  warning: {w}");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_in_common_units() {
        assert_eq!(parse_interval("15m").unwrap(), 900);
        assert_eq!(parse_interval("15min").unwrap(), 900);
        assert_eq!(parse_interval("1h").unwrap(), 3600);
        assert!(parse_interval("90").is_err(), "a unit is required");
        assert_eq!(parse_interval(" 2d ").unwrap(), 172_800);
        assert!(parse_interval("0m").is_err());
        assert!(parse_interval("fast").is_err());
        assert_eq!(parse_interval("2 weeks").unwrap(), 1_209_600);
        assert_eq!(human_interval(900), "15m");
        assert_eq!(human_interval(7200), "2h");
        assert_eq!(human_interval(45), "45s");
    }

    #[test]
    fn choices_parse_and_unknown_ones_are_named() {
        assert_eq!("none".parse::<Choice>().unwrap(), Choice::None);
        assert_eq!(
            "Cron".parse::<Choice>().unwrap(),
            Choice::Kind(SchedulerKind::Cron)
        );
        let e = "upstart".parse::<Choice>().unwrap_err().to_string();
        assert!(e.contains("systemd, cron, windows, launchd"), "{e}");
    }

    #[test]
    fn windows_dry_run_shows_the_utf16_task_as_text_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let host = Host {
            scope: Scope::System,
            systemd_unit_dir: d.join("units"),
            systemctl: d.join("systemctl"),
            cron_d_dir: d.join("cron.d"),
            crontab: d.join("crontab"),
            flock: d.join("flock"),
            launchd_dir: d.join("launchd"),
            launchd_log_dir: d.join("logs"),
            launchctl: d.join("launchctl"),
            schtasks: d.join("schtasks"),
            uid: None,
        };
        let spec = Spec {
            kind: SchedulerKind::Windows,
            mode: Mode::Timer,
            scope: Scope::System,
            interval_s: 1800,
            exe: d.join("rt-agent.exe"),
            state_dir: d.join("state"),
        };
        let report = install(&spec, &host, true).unwrap();
        let text = report.actions.join("\n");
        assert!(!text.contains('\0'), "raw UTF-16 in the output: {text:?}");
        assert!(text.contains("(mode 600, UTF-16LE):"), "{text}");
        assert!(text.contains("<BootTrigger>"), "{text}");
        assert!(text.contains("<Interval>PT30M</Interval>"), "{text}");
        assert!(text.contains("would run: "), "{text}");
        assert!(!spec.state_dir.exists(), "a dry run writes nothing");
    }

    #[test]
    fn status_without_manifest_says_not_installed() {
        let dir = tempfile::tempdir().unwrap();
        let s = status(dir.path());
        assert!(!s.installed);
        assert!(s.to_string().contains("not installed"));
    }
}
