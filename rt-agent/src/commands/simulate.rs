//! `rt-agent simulate`: enroll N virtual devices and upload realistic history through the
//! real protocol (demo fleet and load generator). The logic lives in [`crate::simulate`].

use crate::cli::{GlobalArgs, SimulateArgs};
use crate::simulate::{self, SimOptions};
use anyhow::Context;
use rt_client::duration::parse_chrono as parse_duration;

pub fn run(_global: &GlobalArgs, args: &SimulateArgs) -> anyhow::Result<i32> {
    let history = parse_duration(&args.history)?;
    let interval = parse_duration(&args.interval)?;
    if args.concurrency == 0 {
        anyhow::bail!("--concurrency must be at least 1");
    }
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        anyhow::bail!("--rate must be a number of samples per second >= 0 (0 = unlimited)");
    }
    let opts = SimOptions {
        devices: args.devices,
        history,
        interval,
        seed: args.seed,
        server: args.server.clone(),
        enroll_token: args.token.clone(),
        admin_token: args.admin_token.clone().filter(|t| !t.trim().is_empty()),
        concurrency: args.concurrency,
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
    let summary = rt.block_on(simulate::run(opts, args.live))?;
    eprintln!("{}", summary.render());
    for e in summary.errors.iter().take(5) {
        eprintln!("simulate: error: {e}");
    }
    if let Some(path) = &args.summary_json {
        simulate::write_summary(&summary, path)?;
    }
    Ok(if summary.ok() { 0 } else { 1 })
}
