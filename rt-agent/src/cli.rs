//! Command-line definition of `rt-agent` (DESIGN.md §8). Each subcommand is implemented in
//! its own file under `commands/`.
//!
//! Ownership note for the team: edit this file only with small, local edits to your own
//! subcommand's argument struct.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

// Values are checked while parsing, so a bad one is a usage error (exit 2) that names the
// accepted values, before anything runs. The commands parse the checked text again.

/// A duration in rt-client's one grammar (`30s`, `15m`, `1h`).
fn duration_arg(s: &str) -> Result<String, rt_client::duration::DurationError> {
    rt_client::duration::parse(s).map(|_| s.to_string())
}

/// auto, systemd, cron, windows, launchd or none.
fn scheduler_arg(s: &str) -> Result<String, String> {
    s.parse::<crate::scheduler::Choice>()
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// timer or service.
fn mode_arg(s: &str) -> Result<String, String> {
    s.parse::<crate::scheduler::Mode>()
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// auto, keyring or file.
fn credential_store_arg(s: &str) -> Result<String, String> {
    s.parse::<rt_client::credstore::StoreKind>()
        .map(|_| s.to_string())
}

#[derive(Debug, Parser)]
#[command(
    name = "rt-agent",
    version,
    about = "ResourceTracker agent: collects device health telemetry and delivers it to rt-server",
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Agent state directory (queue, config, credentials). Default: /var/lib/rt-agent for root,
    /// $XDG_STATE_HOME/rt-agent (~/.local/state/rt-agent) for a user, %ProgramData%\ResourceTracker on Windows.
    #[arg(long, global = true, env = "RT_AGENT_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Optional TOML configuration file.
    #[arg(long, global = true, env = "RT_AGENT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enroll this device with a server (interactive wizard on a terminal, or --non-interactive).
    Enroll(EnrollArgs),
    /// Collect one sample, queue it and try to upload.
    Collect(CollectArgs),
    /// Upload queued samples now.
    Sync(SyncArgs),
    /// Run resident: collect at the enrolled interval and upload, until stopped.
    Run(RunArgs),
    /// Show enrollment, queue, upload and scheduler state (non-zero exit when attention is needed).
    Status(StatusArgs),
    /// Print this device's hardware inventory.
    Inventory(InventoryArgs),
    /// Show the local queue: depth, bytes, oldest sample, drops, quarantine.
    Queue(QueueArgs),
    /// Install the agent's schedule (systemd, cron, Windows Task Scheduler or launchd).
    Install(InstallArgs),
    /// Remove what `install` installed.
    Uninstall(UninstallArgs),
    /// Print a shell completion script to stdout (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout, e.g. `rt-agent man | man -l -`.
    Man,
}

#[derive(Debug, Clone, Args)]
pub struct EnrollArgs {
    /// Do not prompt; everything comes from flags or environment variables.
    #[arg(long, env = "RT_NON_INTERACTIVE")]
    pub non_interactive: bool,
    /// Server URL, e.g. https://rt.example.com or http://127.0.0.1:8080.
    #[arg(long, env = "RT_SERVER_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Trust exactly the CA certificate(s) in this PEM file for an https:// server (a fleet's
    /// private CA), instead of the system's trust store; kept with the enrollment.
    #[arg(long, env = "RT_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Enrollment token made by an admin (`rt-tui enroll-token create`).
    #[arg(
        long,
        env = "RT_ENROLL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Enroll with a user account instead of a token (password read from stdin).
    #[arg(long, env = "RT_USERNAME", value_name = "USER")]
    pub username: Option<String>,
    /// Read the password from standard input (first line).
    #[arg(long)]
    pub password_stdin: bool,
    /// Device name (default: the hostname).
    #[arg(long, env = "RT_DEVICE_NAME")]
    pub name: Option<String>,
    /// Asset tag.
    #[arg(long, env = "RT_ASSET_TAG")]
    pub asset_tag: Option<String>,
    /// Person the device is assigned to.
    #[arg(long, env = "RT_ASSIGNEE")]
    pub assignee: Option<String>,
    /// Install a schedule after enrolling: auto, systemd, cron, windows, launchd or none.
    #[arg(long, env = "RT_INSTALL", default_value = "none", value_parser = scheduler_arg)]
    pub install: String,
    /// Collection interval, e.g. 5m, 15m, 1h (default: the server's).
    #[arg(long, env = "RT_INTERVAL", value_name = "DURATION", value_parser = duration_arg)]
    pub interval: Option<String>,
    /// Where to keep the device token: auto, keyring or file.
    #[arg(
        long,
        env = "RT_CREDENTIAL_STORE",
        default_value = "auto",
        value_parser = credential_store_arg
    )]
    pub credential_store: String,
    /// Re-enroll without asking when this device is already enrolled.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CollectArgs {
    /// Print one sample as JSON and do not queue or upload it.
    #[arg(long)]
    pub print: bool,
    /// Queue only; do not try to upload.
    #[arg(long)]
    pub no_upload: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Try even after the server refused the device token (a backoff never stops an
    /// explicit `sync`).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Override the collection interval (e.g. 1s, 30s, 5m).
    #[arg(long, value_name = "DURATION", value_parser = duration_arg)]
    pub interval: Option<String>,
    /// Stop after this many collections (for tests and benchmarks).
    #[arg(long)]
    pub count: Option<u64>,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InventoryArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// auto, systemd, cron, windows, launchd or none.
    #[arg(long, default_value = "auto", value_parser = scheduler_arg)]
    pub scheduler: String,
    /// Collection interval, e.g. 15m.
    #[arg(long, default_value = "15m", value_name = "DURATION", value_parser = duration_arg)]
    pub interval: String,
    /// timer (periodic one-shot runs) or service (resident `rt-agent run`).
    #[arg(long, default_value = "timer", value_parser = mode_arg)]
    pub mode: String,
    /// Print what would be installed without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// Also remove the queue, configuration and credentials.
    #[arg(long)]
    pub purge: bool,
}
