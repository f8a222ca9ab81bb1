//! rt-tui: the ResourceTracker console.
//!
//! - [`cli`]: the command line; [`commands`]: one module per scripted command;
//! - [`client`]: the HTTP API client and exit codes; [`config`]: server URL and login token;
//! - [`tui`]: the interactive console (state, keys, background fetcher, pure render functions);
//! - [`filter`] and [`format`]: pure helpers shared by both (filters, sorting, times, sparklines).

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod filter;
#[doc(hidden)]
pub mod fixtures;
pub mod format;
pub mod tui;

use clap::Parser;
use client::{Client, ClientError, exit};
use rt_client::credstore::Secret;
use std::path::PathBuf;
use std::process::ExitCode;

/// A usage problem found after argument parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// What every command needs: where the server is, which token, display options.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub server: Option<String>,
    pub token: Option<Secret>,
    /// `--ca-file` / `RT_CA_FILE`, else the one `rt-tui login` saved for the saved server.
    pub ca_file: Option<PathBuf>,
    pub config_dir: PathBuf,
    pub ascii: bool,
}

impl Ctx {
    /// Resolves server (flag/env > config) and token (flag/env > credential store).
    pub fn resolve(cli: &cli::Cli) -> anyhow::Result<Ctx> {
        let config_dir = config::config_dir()?;
        let cfg = config::load(&config_dir)?;
        let flag_server = cli.server.clone().filter(|s| !s.trim().is_empty());
        // The saved CA belongs to the saved server: not used for another one.
        let saved_ca = match &flag_server {
            Some(s) if cfg.server.as_deref() != Some(s.trim().trim_end_matches('/')) => None,
            _ => cfg.ca_file.clone(),
        };
        let ca_file = cli
            .ca_file
            .clone()
            .filter(|p| !p.as_os_str().is_empty())
            .or(saved_ca);
        let server = flag_server.or(cfg.server);
        let token = match cli
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            Some(t) => Some(Secret::new(t)),
            None => config::load_token(&config_dir, server.as_deref()).unwrap_or(None),
        };
        Ok(Ctx {
            server,
            token,
            ca_file,
            config_dir,
            ascii: cli.ascii,
        })
    }

    /// A client that must be authenticated.
    pub fn client(&self) -> Result<Client, ClientError> {
        let server = self.server.as_deref().ok_or(ClientError::NoServer)?;
        if self.token.is_none() {
            return Err(ClientError::NoToken);
        }
        Client::new(server, self.token.clone(), self.ca_file.as_deref())
    }
}

/// Maps an error to the documented exit code.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(c) = cause.downcast_ref::<ClientError>() {
            return c.exit_code();
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return exit::USAGE;
        }
    }
    exit::FAILURE
}

/// Entry point used by the binary: parses arguments, runs, prints the error and returns the
/// exit code.
pub fn main_exit() -> ExitCode {
    rt_client::stdio::exit_quietly_on_closed_stdout();
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(e) if rt_client::stdio::is_broken_pipe(e.as_ref()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("rt-tui: error: {e:#}");
            ExitCode::from(exit_code_for(&e))
        }
    }
}

pub fn run(cli: cli::Cli) -> anyhow::Result<()> {
    // Generated from the definition alone: no configuration, no server.
    match cli.command {
        Some(cli::Command::Completions { shell }) => return Ok(print_completions(shell)?),
        Some(cli::Command::Man) => return Ok(print_man()?),
        _ => {}
    }
    let ctx = Ctx::resolve(&cli)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    use cli::Command as C;
    match cli.command {
        None => tui::run(&ctx, &rt, cli.refresh),
        Some(C::Login(a)) => rt.block_on(commands::login::run(&ctx, &a)),
        Some(C::Logout) => commands::login::logout(&ctx),
        Some(C::Whoami { json }) => rt.block_on(commands::login::whoami(&ctx, json)),
        Some(C::Devices(a)) => rt.block_on(commands::devices::run(&ctx, &a)),
        Some(C::Device { id, json }) => rt.block_on(commands::device::run(&ctx, &id, json)),
        Some(C::Export(a)) => rt.block_on(commands::export::run(&ctx, &a)),
        Some(C::Users(u)) => rt.block_on(commands::users::run(&ctx, &u)),
        Some(C::Alerts(a)) => rt.block_on(commands::alerts::list(&ctx, &a)),
        Some(C::Ack { id, comment }) => rt.block_on(commands::alerts::ack(&ctx, id, comment)),
        Some(C::Silence {
            id,
            duration,
            comment,
        }) => rt.block_on(commands::alerts::silence(&ctx, id, duration, comment)),
        Some(C::EnrollToken(t)) => rt.block_on(commands::enroll_token::run(&ctx, &t)),
        Some(C::Assign { device, user }) => {
            rt.block_on(commands::assign::assign(&ctx, &device, &user))
        }
        Some(C::Lifecycle { device, state }) => {
            rt.block_on(commands::assign::lifecycle(&ctx, &device, &state))
        }
        Some(C::Completions { .. } | C::Man) => Ok(()),
    }
}

/// `completions SHELL`: the script for `shell`, generated from the command definition. Built in
/// memory and written at once, so a closed stdout is an ordinary write error.
fn print_completions(shell: clap_complete::Shell) -> std::io::Result<()> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cli::Cli::command(), "rt-tui", &mut buf);
    std::io::stdout().write_all(&buf)
}

/// `man`: the manual page (roff), generated from the command definition.
fn print_man() -> std::io::Result<()> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    clap_mangen::Man::new(cli::Cli::command()).render(&mut buf)?;
    std::io::stdout().write_all(&buf)
}

/// The device a command-line argument names. A number is a device id, which must exist;
/// anything else is the exact name or asset tag (ASCII case ignored) of one device. An unknown
/// device is an error (exit 1); a name or tag several devices share is a usage error (exit 2)
/// that lists them with their ids.
pub async fn resolve_device(client: &Client, arg: &str) -> anyhow::Result<rt_core::DeviceId> {
    let t = arg.trim();
    if t.is_empty() {
        return Err(UsageError(
            "no device given: use a device id, name or asset tag (see `rt-tui devices`)".into(),
        )
        .into());
    }
    if let Ok(id) = t.parse::<rt_core::DeviceId>() {
        return match client.device(id).await {
            Ok(_) => Ok(id),
            Err(ClientError::Api { status: 404, .. }) => {
                anyhow::bail!("no device with id {id}: see `rt-tui devices`")
            }
            Err(e) => Err(e.into()),
        };
    }
    // The server's text search covers name and asset tag (among others); keep exact matches.
    let q = rt_client::api::DeviceQuery {
        q: Some(t.to_string()),
        ..Default::default()
    };
    let found: Vec<_> = client
        .all_devices(&q)
        .await?
        .into_iter()
        .filter(|d| {
            d.name.eq_ignore_ascii_case(t)
                || d.asset_tag
                    .as_deref()
                    .is_some_and(|a| a.eq_ignore_ascii_case(t))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.id),
        [] => anyhow::bail!("no device named or tagged {t:?}: see `rt-tui devices --filter {t:?}`"),
        many => {
            let list: Vec<String> = many
                .iter()
                .map(|d| match &d.asset_tag {
                    Some(tag) => format!("{} ({}, tag {tag})", d.id, d.name),
                    None => format!("{} ({})", d.id, d.name),
                })
                .collect();
            Err(UsageError(format!(
                "{t:?} matches {} devices: {}; use the id",
                many.len(),
                list.join(", ")
            ))
            .into())
        }
    }
}
