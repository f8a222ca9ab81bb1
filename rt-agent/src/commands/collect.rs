//! `rt-agent collect [--print] [--no-upload]`: one sample into the queue, then an upload try.

use crate::agent;
use crate::cli::{CollectArgs, GlobalArgs};
use crate::collect::{CollectContext, Collector, collect_sample};
use crate::upload::{SyncOptions, SyncOutcome, UploadConfig, Uploader, sync_once};

pub fn run(global: &GlobalArgs, args: &CollectArgs) -> anyhow::Result<i32> {
    if args.print {
        let sample = collect_sample(&CollectContext::default())?;
        agent::print_out(&format!("{}\n", serde_json::to_string_pretty(&sample)?))?;
        return Ok(0);
    }
    let sd = agent::state_dir(global);
    sd.require_config()?;
    let mut queue = agent::open_queue(&sd)?;
    let mut collector = Collector::new()?;
    let sample = agent::collect_into_queue(&sd, &mut collector, &mut queue)?;
    eprintln!(
        "rt-agent: queued sample {} (queue depth {})",
        sample.seq,
        queue.len()
    );
    if args.no_upload {
        return Ok(0);
    }
    let up = Uploader::from_state(&sd, UploadConfig::default())?;
    let report =
        agent::runtime()?.block_on(sync_once(&sd, &mut queue, &up, SyncOptions::default()))?;
    match report.outcome {
        SyncOutcome::Drained => eprintln!("rt-agent: uploaded {} sample(s)", report.acked),
        SyncOutcome::Incomplete => eprintln!(
            "rt-agent: uploaded {} sample(s), {} still queued",
            report.acked, report.remaining
        ),
        SyncOutcome::BackingOff { until, reason } => eprintln!(
            "rt-agent: sample kept in the queue ({} queued); next upload attempt after {}: {reason}",
            report.remaining,
            until.format("%Y-%m-%d %H:%M:%S UTC")
        ),
        SyncOutcome::AuthFailed { message } => {
            eprintln!("rt-agent: sample kept in the queue; {message}")
        }
    }
    if report.quarantined > 0 {
        eprintln!(
            "rt-agent: {} sample(s) quarantined (the server will not take them); see `rt-agent queue`",
            report.quarantined
        );
    }
    // The sample is safe in the queue: collection succeeded whatever the upload did.
    Ok(0)
}
