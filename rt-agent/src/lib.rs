//! rt-agent: collects device health telemetry, keeps it in a durable local queue and delivers
//! it to rt-server exactly once; enrolls the device and installs its schedule.

pub mod agent;
pub mod cli;
pub mod collect;
pub mod commands;
pub mod enroll;
pub mod queue;
pub mod scheduler;
pub mod simulate;
pub mod state;
pub mod upload;
pub mod wizard;

use clap::Parser;
use cli::{Cli, Command};

/// Parses the command line, runs the subcommand and returns the process exit code.
pub fn run() -> i32 {
    let cli = Cli::parse();
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
        Command::Simulate(a) => commands::simulate::run(g, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rt-agent: error: {e:#}");
            1
        }
    }
}
