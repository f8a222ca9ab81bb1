//! `rt-agent run [--interval D] [--count N]`: the resident loop.
//!
//! Collect, queue, upload, sleep the interval (±10 % jitter so a fleet does not beat in step),
//! until SIGTERM / Ctrl-C. The signal handlers are installed first thing, so a signal that
//! arrives during start-up or a collection is held and acted on at the next step: it never
//! kills the process in the middle of writing a record. An upload in flight is abandoned safely
//! (nothing leaves the queue before its ack). A stop by signal exits 0.

use crate::agent;
use crate::cli::{GlobalArgs, RunArgs};
use crate::collect::Collector;
use crate::enroll::parse_interval;
use crate::upload::{SyncOptions, SyncOutcome, UploadConfig, Uploader, sync_once};
use std::time::Duration;

pub fn run(global: &GlobalArgs, args: &RunArgs) -> anyhow::Result<i32> {
    let rt = agent::runtime()?;
    let mut stop = {
        let _in_runtime = rt.enter();
        Box::pin(shutdown_signal()?)
    };
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
    eprintln!(
        "rt-agent: running, collecting every {interval_s}s into {}",
        sd.queue_dir().display()
    );
    rt.block_on(async {
        let mut done = 0u64;
        loop {
            if stop_requested(&mut stop).await {
                break;
            }
            match agent::collect_into_queue(&sd, &mut collector, &mut queue) {
                Ok(sample) => tracing::debug!(seq = sample.seq, "collected"),
                // Quarantined and shown by `status`; the next collection may be fine.
                Err(e) if e.is::<agent::SampleRefused>() => eprintln!("rt-agent: {e:#}"),
                Err(e) => return Err(e),
            }
            done += 1;
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

/// True when a stop signal has arrived (without waiting for one).
async fn stop_requested(
    stop: &mut std::pin::Pin<Box<impl std::future::Future<Output = ()>>>,
) -> bool {
    tokio::select! {
        biased;
        _ = stop.as_mut() => true,
        _ = std::future::ready(()) => false,
    }
}

/// Installs the SIGTERM / SIGINT handlers now (from here on those signals no longer end the
/// process) and returns a future that completes when one arrives.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use anyhow::Context;
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
