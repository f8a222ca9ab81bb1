//! rt-agent: collects device health telemetry, keeps it in a durable local queue and delivers
//! it to rt-server exactly once; enrolls the device and installs its schedule.

pub mod agent;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod enroll;
pub mod queue;
pub mod scheduler;
pub mod state;
pub mod upload;
pub mod wizard;

use clap::Parser;
use cli::{Cli, Command};

/// Parses the command line, runs the subcommand and returns the process exit code.
pub fn run() -> i32 {
    rt_client::stdio::exit_quietly_on_closed_stdout();
    let cli = Cli::parse();
    init_logging();
    let g = &cli.global;
    let result = match &cli.command {
        Command::Enroll(a) => commands::enroll::run(g, a),
        Command::Collect(a) => commands::collect::run(g, a),
        Command::Sync(a) => commands::sync::run(g, a),
        Command::Run(a) => commands::run::run(g, a),
        Command::Status(a) => commands::status::run(g, a),
        Command::Inventory(a) => commands::inventory::run(g, a),
        Command::Queue(a) => commands::queue::run(g, a),
        Command::Install(a) => commands::install::run(g, a),
        Command::Uninstall(a) => commands::uninstall::run(g, a),
        Command::Completions { shell } => print_completions(*shell).map(|()| 0).map_err(Into::into),
        Command::Man => print_man().map(|()| 0).map_err(Into::into),
    };
    match result {
        Ok(code) => code,
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(e) if rt_client::stdio::is_broken_pipe(e.as_ref()) => 0,
        Err(e) => {
            eprintln!("rt-agent: error: {e:#}");
            1
        }
    }
}

/// `completions SHELL`: the script for `shell`, generated from the command definition. Built in
/// memory and written at once, so a closed stdout is an ordinary write error.
fn print_completions(shell: clap_complete::Shell) -> std::io::Result<()> {
    use clap::CommandFactory;
    use std::io::Write;
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rt-agent", &mut buf);
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

/// Sends the agent's log (tracing) to stderr, where a terminal, cron's mail or systemd's journal
/// (the units run the agent with stderr connected to journald) picks it up. Level from
/// `RT_LOG` (`error`, `warn`, `info`, `debug`, `trace`, `off`; default `warn`). Colours only on
/// a terminal without `NO_COLOR`, so log files never hold ANSI codes; no timestamps under
/// journald, which adds its own. A plain level filter, not `EnvFilter`: it keeps the regex
/// engine out of the agent binary.
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::LevelFilter;
    let level = std::env::var("RT_LOG")
        .ok()
        .and_then(|v| v.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::WARN);
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false);
    // A second initialisation (tests calling `run` twice) keeps the first subscriber.
    let _ = if std::env::var_os("JOURNAL_STREAM").is_some() {
        builder.without_time().try_init()
    } else {
        builder.try_init()
    };
}
