//! Glue shared by the agent's subcommands: state directory, queue, runtime, one collection.

use crate::cli::GlobalArgs;
use crate::collect::{CollectContext, Collector};
use crate::queue::{Queue, QueueConfig};
use crate::state::StateDir;
use crate::upload::UploadState;
use anyhow::{Context, Result};
use chrono::Utc;
use std::time::Duration;

pub fn state_dir(global: &GlobalArgs) -> StateDir {
    StateDir::resolve(global.state_dir.as_deref())
}

/// Opens the queue for writing (waits briefly for another short-lived rt-agent to finish).
pub fn open_queue(sd: &StateDir) -> Result<Queue> {
    sd.ensure()?;
    let q = Queue::open_waiting(
        &sd.queue_dir(),
        QueueConfig::default(),
        Duration::from_secs(30),
    )?;
    let r = q.recovery();
    if r.damaged_records > 0 || r.torn_tail_bytes > 0 {
        eprintln!(
            "rt-agent: queue recovered: {} damaged record(s) skipped, {} byte(s) of an interrupted write removed",
            r.damaged_records, r.torn_tail_bytes
        );
    }
    if !r.lost.is_empty() {
        eprintln!(
            "rt-agent: queue: samples {:?} are in no queue file any more (deleted or unreadable); counted as gaps",
            r.lost
        );
    }
    Ok(q)
}

/// A single-threaded runtime: the agent does one thing at a time and stays small.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A collected sample that fails rt-core's validation (the rule the server applies): it was
/// written to the quarantine file with the problems instead of being queued.
#[derive(Debug, thiserror::Error)]
#[error("the collected sample is not valid and was quarantined, not queued: {0}")]
pub struct SampleRefused(pub String);

/// Collects one sample, appends it to the queue (assigning its seq) and applies the queue's
/// limits. Records the collection time in the upload state.
pub fn collect_into_queue(
    sd: &StateDir,
    collector: &mut Collector,
    queue: &mut Queue,
) -> Result<rt_core::Sample> {
    let st = UploadState::load(sd)?;
    let ctx = CollectContext {
        server_reachable: st.server_reachable,
        queue_depth: queue.len() as u64,
        dropped_since_last_upload: queue.meta().dropped_since_upload,
    };
    let sample = collector.collect(&ctx);
    queue_collected(sd, queue, sample)
}

/// Validates a collected sample and appends it to the queue (see [`collect_into_queue`]).
/// Machine-reported text is neutralised first, as the server does; a sample that is still
/// invalid goes to the quarantine file with the problems (shown by `rt-agent status`) and
/// the call fails with [`SampleRefused`]: never queued to be refused later, never silent.
pub fn queue_collected(
    sd: &StateDir,
    queue: &mut Queue,
    mut sample: rt_core::Sample,
) -> Result<rt_core::Sample> {
    use rt_core::Validate;
    let mut st = UploadState::load(sd)?;
    sample.neutralise();
    // The queue assigns the seq when appending; until then any valid one stands in.
    sample.seq = sample.seq.max(1);
    let now = Utc::now();
    let problems = sample.validate(now);
    if !problems.is_empty() {
        let reason = format!(
            "refused by the agent before queueing: {}",
            problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        );
        crate::queue::write_quarantine(
            &sd.quarantine_path(),
            &[crate::queue::QuarantineEntry {
                seq: 0,
                reason: reason.clone(),
                quarantined_at: now,
                sample: serde_json::to_value(&sample).unwrap_or(serde_json::Value::Null),
            }],
        )?;
        st.last_collection_at = Some(sample.collected_at);
        st.save(sd)?;
        return Err(SampleRefused(reason).into());
    }
    // Never at or below what the server already stores (a reinstall, a rebuilt queue).
    queue.raise_next_seq(st.seq_floor)?;
    queue.append_sample(&mut sample)?;
    let dropped = queue.enforce_limits(Utc::now())?;
    if dropped > 0 {
        eprintln!(
            "rt-agent: queue full: dropped the {dropped} oldest sample(s) (counted and reported)"
        );
    }
    st.last_collection_at = Some(sample.collected_at);
    st.save(sd)?;
    Ok(sample)
}

/// Writes command output to stdout; a closed pipe (`rt-agent queue | head`) is not an error.
pub fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to standard output")
        }
        _ => Ok(()),
    }
}
