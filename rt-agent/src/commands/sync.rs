//! `rt-agent sync [--force]`: upload the queue now.
//!
//! Exit codes: 0 the queue is drained (or nothing was queued), 1 upload failed or is backing
//! off (samples stay queued), or samples were quarantined in this run (listed by
//! `rt-agent queue`), 3 the server refused the device token (enroll again).

use crate::agent;
use crate::cli::{GlobalArgs, SyncArgs};
use crate::upload::{SyncOptions, SyncOutcome, UploadConfig, Uploader, sync_once};

pub fn run(global: &GlobalArgs, args: &SyncArgs) -> anyhow::Result<i32> {
    let sd = agent::state_dir(global);
    sd.require_config()?;
    let mut queue = agent::open_queue(&sd)?;
    let up = Uploader::from_state(&sd, UploadConfig::default())?;
    let report = agent::runtime()?.block_on(sync_once(
        &sd,
        &mut queue,
        &up,
        SyncOptions {
            // A person asked for an upload now: a backoff earned by scheduled runs does not
            // apply. A refused token does, unless --force.
            ignore_backoff: true,
            ignore_auth_failure: args.force,
        },
    ))?;
    let mut q = String::new();
    if report.resequenced > 0 {
        q.push_str(&format!(
            ", {} re-sent under a new seq after a conflict",
            report.resequenced
        ));
    }
    if report.quarantined > 0 {
        q.push_str(&format!(
            ", {} quarantined (see `rt-agent queue`)",
            report.quarantined
        ));
    }
    // A quarantine is never silent: it makes the run fail.
    let ok = if report.quarantined > 0 { 1 } else { 0 };
    match report.outcome {
        SyncOutcome::Drained => {
            println!(
                "uploaded {} sample(s) in {} batch(es){q}; queue empty",
                report.acked, report.batches
            );
            Ok(ok)
        }
        SyncOutcome::Incomplete => {
            println!(
                "uploaded {} sample(s){q}; {} still queued (run sync again)",
                report.acked, report.remaining
            );
            Ok(ok)
        }
        SyncOutcome::BackingOff { until, reason } => {
            println!(
                "uploaded {} sample(s){q}; {} still queued",
                report.acked, report.remaining
            );
            eprintln!(
                "rt-agent: {reason}; scheduled uploads resume after {}",
                until.format("%Y-%m-%d %H:%M:%S UTC")
            );
            Ok(1)
        }
        SyncOutcome::AuthFailed { message } => {
            eprintln!("rt-agent: {message}");
            Ok(3)
        }
    }
}
