//! Command line of `rt-sim` (DESIGN.md §8) and the run it starts.

use crate::{SimOptions, run as simulate, write_summary};
use anyhow::Context;
use clap::Parser;
use rt_client::duration;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "rt-sim",
    version,
    about = "ResourceTracker fleet simulator: enrolls N virtual devices and uploads realistic history through the public API",
    after_help = "Exit codes: 0 ok, 1 some device or batch failed, 2 usage."
)]
pub struct Cli {
    /// Number of simulated devices.
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub devices: u32,
    /// How much history to back-fill, e.g. 7d, 12h.
    #[arg(long, default_value = "7d", value_name = "DURATION", value_parser = duration::parse)]
    pub history: Duration,
    /// Time between two simulated samples of a device, e.g. 5m.
    #[arg(long, default_value = "5m", value_name = "DURATION", value_parser = duration::parse)]
    pub interval: Duration,
    /// Random seed (same seed, same fleet: a second run re-enrolls the same devices).
    #[arg(long, default_value_t = 42, value_name = "S")]
    pub seed: u64,
    /// Server URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "RT_SERVER_URL", value_name = "URL")]
    pub server: String,
    /// Trust exactly the CA certificate(s) in this PEM file for an https:// server.
    #[arg(long, env = "RT_CA_FILE", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Enrollment token (`rt-tui enroll-token create`).
    #[arg(
        long,
        env = "RT_ENROLL_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: String,
    /// Keep sending live samples after the back-fill, until stopped (Ctrl-C).
    #[arg(long)]
    pub live: bool,
    /// Devices uploading at the same time.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,
    /// Samples per upload batch.
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub batch: usize,
    /// Admin API or session token, used to set the lifecycle of the retired and in-stock
    /// devices (skipped with a warning when absent).
    #[arg(long, env = "RT_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// Rate limit in samples per second across the fleet (0 = unlimited).
    #[arg(long, default_value_t = 0.0, value_name = "PER_SECOND")]
    pub rate: f64,
    /// Also write the final summary as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// No progress lines on stderr (the final summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the simulation and returns the exit code (0 when nothing failed).
pub fn run(args: Cli) -> anyhow::Result<i32> {
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        anyhow::bail!("--rate must be a number of samples per second >= 0 (0 = unlimited)");
    }
    let opts = SimOptions {
        devices: args.devices,
        history: chrono::Duration::from_std(args.history).context("--history is too long")?,
        interval: chrono::Duration::from_std(args.interval).context("--interval is too long")?,
        seed: args.seed,
        server: args.server.clone(),
        ca_file: args.ca_file.clone(),
        enroll_token: args.token.clone(),
        admin_token: args.admin_token.clone().filter(|t| !t.trim().is_empty()),
        concurrency: usize::try_from(args.concurrency).unwrap_or(usize::MAX),
        batch: args.batch,
        rate: args.rate,
        end: chrono::Utc::now(),
        progress: !args.quiet,
        summary_json: args.summary_json.clone(),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let summary = rt.block_on(simulate(opts, args.live))?;
    eprintln!("{}", summary.render());
    for e in summary.errors.iter().take(5) {
        eprintln!("rt-sim: error: {e}");
    }
    if let Some(path) = &args.summary_json {
        write_summary(&summary, path)?;
    }
    Ok(if summary.ok() { 0 } else { 1 })
}
