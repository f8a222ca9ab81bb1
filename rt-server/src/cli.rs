//! Command line: `rt-server [serve]` and `rt-server user add|list|passwd|disable|enable`.
//! The user commands work directly on the database, whether or not the server is running
//! (SQLite WAL and a busy timeout let both write).

use crate::auth;
use crate::config::{Config, Overrides};
use crate::store::{Store, users};
use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use rt_core::Role;
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rt-server",
    version,
    about = "ResourceTracker server: fleet telemetry and asset tracking API"
)]
pub struct Cli {
    #[command(flatten)]
    pub opts: ServerOpts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct ServerOpts {
    /// Address to listen on.
    #[arg(long, env = "RT_LISTEN", global = true, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Data directory (database, downloads). Default ./rt-data.
    #[arg(long, env = "RT_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// SQLite database file. Default <data-dir>/rt.db.
    #[arg(long, env = "RT_DATABASE_URL", global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// TOML configuration file.
    #[arg(long, env = "RT_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// TLS certificate chain (PEM); needs --tls-key.
    #[arg(long, env = "RT_TLS_CERT", global = true, value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs --tls-cert.
    #[arg(long, env = "RT_TLS_KEY", global = true, value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Directory served at /downloads/. Default <data-dir>/downloads.
    #[arg(long, env = "RT_DOWNLOADS_DIR", global = true, value_name = "DIR")]
    pub downloads_dir: Option<PathBuf>,
    /// Seconds between collections, told to agents at enrollment. Default 300.
    #[arg(
        long,
        env = "RT_COLLECTION_INTERVAL",
        global = true,
        value_name = "SECONDS"
    )]
    pub collection_interval: Option<u32>,
}

impl ServerOpts {
    pub fn resolve(&self) -> anyhow::Result<Config> {
        Config::resolve(Overrides {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            downloads_dir: self.downloads_dir.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            collection_interval_s: self.collection_interval,
            config: self.config.clone(),
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Manage user accounts (directly in the database).
    #[command(subcommand)]
    User(UserCommand),
    /// Print a shell completion script to stdout (bash, zsh, fish, powershell, elvish).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to stdout, e.g. `rt-server man | man -l -`.
    Man,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts.
    List,
    /// Set a new password (signs the user out everywhere).
    Passwd {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Disable an account and revoke its tokens.
    Disable { name: String },
    /// Enable a disabled account again.
    Enable { name: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>().map_err(|e| e.to_string())
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let pw = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        if !std::io::stdin().is_terminal() {
            bail!("no terminal to prompt for a password: pass it with --password-stdin");
        }
        dialoguer::Password::new()
            .with_prompt("Password")
            .with_confirmation("Repeat password", "the passwords do not match")
            .interact()
            .context("password prompt failed")?
    };
    auth::check_password_policy(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(pw)
}

fn open(config: &Config) -> anyhow::Result<Store> {
    crate::server::open_store(config)
}

/// Run a `user` subcommand; output goes to stdout, messages to stderr.
pub fn user_command(config: &Config, cmd: UserCommand) -> anyhow::Result<()> {
    let store = open(config)?;
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_stdin,
        } => {
            if let Some(m) = rt_core::validate::username_problem(&name) {
                bail!("user name {m}");
            }
            let pw = read_password(password_stdin)?;
            let hash = auth::hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            let created = store.run_sync(|c| users::create(c, &name, &hash, role, Utc::now()))?;
            match created {
                Some(u) => eprintln!(
                    "created user {:?} (id {}, role {})",
                    u.username, u.id, u.role
                ),
                None => bail!(
                    "a user named {name:?} already exists (use `rt-server user passwd {name}`)"
                ),
            }
        }
        UserCommand::List => {
            let rows = store.run_sync(users::list)?;
            println!(
                "{:<6} {:<32} {:<8} {:<9} created",
                "id", "username", "role", "status"
            );
            for u in rows {
                println!(
                    "{:<6} {:<32} {:<8} {:<9} {}",
                    u.id,
                    u.username,
                    u.role,
                    if u.disabled { "disabled" } else { "active" },
                    crate::store::from_ms(u.created_at).format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let user = store
                .run_sync(|c| users::find_by_name(c, &name))?
                .ok_or_else(|| {
                    anyhow::anyhow!("no user named {name:?} (see `rt-server user list`)")
                })?;
            let pw = read_password(password_stdin)?;
            let hash = auth::hash_password(&pw).map_err(|e| anyhow::anyhow!("{e}"))?;
            store.run_sync(|c| users::update(c, user.id, Some(&hash), None, None))?;
            eprintln!("password of {name:?} changed; its sessions were signed out");
        }
        UserCommand::Disable { name } => set_disabled(&store, &name, true)?,
        UserCommand::Enable { name } => set_disabled(&store, &name, false)?,
    }
    Ok(())
}

fn set_disabled(store: &Store, name: &str, disabled: bool) -> anyhow::Result<()> {
    let user = store
        .run_sync(|c| users::find_by_name(c, name))?
        .ok_or_else(|| anyhow::anyhow!("no user named {name:?} (see `rt-server user list`)"))?;
    store.run_sync(|c| users::update(c, user.id, None, None, Some(disabled)))?;
    if disabled {
        eprintln!("user {name:?} disabled; its tokens were revoked");
    } else {
        eprintln!("user {name:?} enabled");
    }
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `completions SHELL`: the script for `shell`, generated from the command definition. Built in
/// memory and written at once, so a closed stdout is an ordinary write error.
fn print_completions(shell: clap_complete::Shell) -> std::io::Result<()> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rt-server", &mut buf);
    std::io::stdout().write_all(&buf)
}

/// `man`: the manual page (roff), generated from the command definition.
fn print_man() -> std::io::Result<()> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
    std::io::stdout().write_all(&buf)
}

/// True when the error comes from writing to a closed stdout. The rule of
/// `rt_client::stdio::is_broken_pipe` (the server does not link the client crate).
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// `print!` on a closed stdout (`rt-server user list | head -1`) panics; that panic exits 0
/// quietly, every other one goes to the default hook. The rule of
/// `rt_client::stdio::exit_quietly_on_closed_stdout`.
pub fn exit_quietly_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.payload_as_str().is_some_and(|m| {
            m.starts_with("failed printing to stdout")
                && (m.ends_with("(os error 32)") || m.ends_with("(os error 232)"))
        }) {
            std::process::exit(0);
        }
        previous(info);
    }));
}

/// The whole binary.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Generated from the definition alone: no configuration, no log.
    match cli.command {
        Some(Command::Completions { shell }) => return Ok(print_completions(shell)?),
        Some(Command::Man) => return Ok(print_man()?),
        _ => {}
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = cli.opts.resolve()?;
    match cli.command {
        None | Some(Command::Serve) => {
            let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            rt.block_on(crate::server::serve(config, shutdown_signal()))
        }
        Some(Command::User(cmd)) => user_command(&config, cmd),
        Some(Command::Completions { .. } | Command::Man) => Ok(()),
    }
}
