//! `rt-agent run [--interval D] [--count N]`: the resident loop.
//!
//! Collect, queue, upload, sleep the interval (±10 % jitter so a fleet does not beat in step),
//! until SIGTERM / Ctrl-C. A signal is only acted on between steps or while waiting on the
//! network or the timer, never in the middle of writing a record; an upload in flight is
//! abandoned safely (nothing leaves the queue before its ack).

use crate::agent;
use crate::cli::{GlobalArgs, RunArgs};
use crate::collect::Collector;
use crate::enroll::parse_interval;
use crate::upload::{SyncOptions, SyncOutcome, UploadConfig, Uploader, sync_once};
use std::time::Duration;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<i32> {
    let sd = agent::state_dir(global);
    let conf = sd.require_config()?;
    let interval_s = match &args.interval {
        Some(s) => parse_interval(s)?,
        None => conf.collection_interval_s.max(1),
    };
    // The resident agent owns the queue for its whole life: a concurrent `collect` from a
    // leftover cron entry fails loudly instead of interleaving.
    let mut queue = crate::queue::Queue::open_waiting(
        &sd.queue_dir(),
        crate::queue::QueueConfig::default(),
        Duration::from_secs(5),
    )?;
    let up = Uploader::from_state(&sd, UploadConfig::default())?;
    let mut collector = Collector::new()?;
    let rt = agent::runtime()?;
    eprintln!(
        "rt-agent: running, collecting every {interval_s}s into {}",
        sd.queue_dir().display()
    );
    rt.block_on(async {
        let mut stop = Box::pin(shutdown_signal());
        let mut done = 0u64;
        loop {
            let sample = agent::collect_into_queue(&sd, &mut collector, &mut queue)?;
            done += 1;
            tracing::debug!(seq = sample.seq, "collected");
            tokio::select! {
                r = sync_once(&sd, &mut queue, &up, SyncOptions::default()) => match r {
                    Ok(rep) => {
                        if let SyncOutcome::AuthFailed { message } = &rep.outcome {
                            eprintln!("rt-agent: {message}");
                        }
                    }
                    Err(e) => eprintln!("rt-agent: upload error: {e:#}"),
                },
                _ = &mut stop => break,
            }
            if args.count.is_some_and(|c| done >= c) {
                break;
            }
            let jitter = 0.9 + rand::random::<f64>() * 0.2;
            let wait = Duration::from_secs_f64(f64::from(interval_s) * jitter);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stop => break,
            }
        }
        eprintln!(
            "rt-agent: stopped after {done} collection(s); {} sample(s) queued",
            queue.len()
        );
        anyhow::Ok(())
    })?;
    Ok(0)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
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
