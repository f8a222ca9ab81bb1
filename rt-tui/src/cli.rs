//! Command line (DESIGN §8). No subcommand starts the TUI.

use clap::{Args, Parser, Subcommand, ValueEnum};
use rt_client::duration;
use std::path::PathBuf;
use std::time::Duration;

/// `--refresh`: the duration grammar, 1 s to 1 h, in seconds.
fn parse_refresh(s: &str) -> Result<u64, String> {
    let secs = duration::parse_secs(s).map_err(|e| e.to_string())?;
    if secs > 3600 {
        return Err(format!("--refresh {s}: at most 1h"));
    }
    Ok(secs)
}

#[derive(Debug, Parser)]
#[command(
    name = "rt-tui",
    version,
    about = "ResourceTracker console: fleet health TUI and scripted commands",
    after_help = "Without a subcommand, starts the interactive console.\n\
                  Exit codes: 0 ok, 1 failure, 2 usage, 3 not authenticated or forbidden."
)]
pub struct Cli {
    /// Server URL, e.g. http://127.0.0.1:8080 (default: the one saved by `rt-tui login`)
    #[arg(long, global = true, env = "RT_SERVER_URL")]
    pub server: Option<String>,
    /// Bearer token (API token or session); default: the one saved by `rt-tui login`
    #[arg(long, global = true, env = "RT_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Trust exactly the CA certificate(s) in this PEM file for an https:// server (a private
    /// CA) instead of the system's; `rt-tui login` saves it for that server
    #[arg(long, global = true, env = "RT_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// ASCII only: no braille/blocks in sparklines, plain borders
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Time between automatic refreshes in the TUI, e.g. 10s, 1m
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = parse_refresh)]
    pub refresh: u64,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in and keep the session token in the credential store
    Login(LoginArgs),
    /// Forget the saved token for this server
    Logout,
    /// Show who the current token belongs to
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// List devices (a table; --json or --csv for scripts)
    Devices(DevicesArgs),
    /// Show one device
    Device {
        /// Device id (as shown by `rt-tui devices`), name or asset tag
        #[arg(value_name = "DEVICE")]
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Stream an export from the server to stdout or a file
    Export(ExportArgs),
    /// Manage user accounts (admin)
    #[command(subcommand)]
    Users(UsersCmd),
    /// Enrollment tokens for new devices (admin)
    #[command(name = "enroll-token", subcommand)]
    EnrollToken(EnrollTokenCmd),
    /// Assign a device to a user or person ("-" or "" to unassign) (admin)
    Assign {
        /// Device id, name or asset tag
        device: String,
        /// User or person; "-" or "" unassigns
        user: String,
    },
    /// Change a device's lifecycle state (admin)
    Lifecycle {
        /// Device id, name or asset tag
        device: String,
        /// in_stock, deployed, in_repair, lost or retired
        state: String,
    },
    /// List alerts (a table; --json for scripts). Default: the open ones (pending, firing)
    Alerts(AlertsArgs),
    /// Acknowledge an open alert (admin)
    Ack {
        /// Alert id (as shown by `rt-tui alerts`)
        id: i64,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Silence an open alert's notifications for a while (admin), e.g. `silence 12 4h`
    Silence {
        /// Alert id (as shown by `rt-tui alerts`)
        id: i64,
        /// How long, e.g. 30m, 4h, 7d
        #[arg(value_parser = duration::parse)]
        duration: Duration,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Print a shell completion script to stdout (bash, zsh, fish, powershell, elvish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout, e.g. `rt-tui man | man -l -`
    Man,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    /// pending, firing or resolved (comma list); default pending,firing
    #[arg(long)]
    pub state: Option<String>,
    /// info, warning or critical (comma list)
    #[arg(long)]
    pub severity: Option<String>,
    /// Only this device id
    #[arg(long)]
    pub device: Option<i64>,
    /// Every state, resolved included
    #[arg(long, conflicts_with = "state")]
    pub all: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// User name (prompted when absent and stdin is a terminal)
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password from the first line of stdin (for scripts)
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Filter: text and tokens like health:critical state:deployed user:alice
    #[arg(long, short = 'f')]
    pub filter: Option<String>,
    /// Sort column: health, name, user, state, cpu, ram, disk, temp, battery, seen
    #[arg(long, default_value = "health")]
    pub sort: String,
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
    Ndjson,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum What {
    Samples,
    Devices,
    Events,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: Format,
    #[arg(long, value_enum, default_value = "samples")]
    pub what: What,
    /// Window ending now (or at --until), e.g. 30m, 24h, 7d, 2w
    #[arg(long, conflicts_with = "from", value_name = "DURATION", value_parser = duration::parse)]
    pub since: Option<Duration>,
    /// Start (RFC 3339 or YYYY-MM-DD)
    #[arg(long)]
    pub from: Option<String>,
    /// End (RFC 3339 or YYYY-MM-DD); default now
    #[arg(long)]
    pub until: Option<String>,
    /// Only these devices: id, name or asset tag (repeatable)
    #[arg(long = "device", value_name = "DEVICE")]
    pub devices: Vec<String>,
    /// Write to FILE atomically instead of stdout
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// List accounts
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create an account (password prompted, or --password-stdin)
    Add {
        name: String,
        #[arg(long, default_value = "viewer")]
        role: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnrollTokenCmd {
    /// Create an enrollment token (printed once on stdout)
    Create {
        /// How long the token stays valid, e.g. 24h, 7d (rounded up to whole hours)
        #[arg(long, default_value = "24h", value_name = "DURATION", value_parser = duration::parse)]
        expires: Duration,
        /// Maximum number of enrollments
        #[arg(long)]
        uses: Option<u32>,
        #[arg(long)]
        note: Option<String>,
        /// The token may also re-enroll hardware that is already a device (a reinstall); this
        /// revokes that device's current token
        #[arg(long)]
        allow_reenroll: bool,
        #[arg(long)]
        json: bool,
    },
}
