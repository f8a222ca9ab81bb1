//! The single ingest writer: one thread owns one SQLite connection and commits concurrent
//! telemetry batches together (group commit), because SQLite has one writer and a transaction
//! per HTTP request would make the fsync/lock the bottleneck.
//!
//! Each batch runs in its own savepoint inside the group's transaction, so one failing batch
//! does not fail its neighbours. A batch is answered only after its transaction committed:
//! what the agent sees acked is on disk.
//!
//! Alert rules are evaluated here too, per batch, right after its samples are stored and in the
//! same savepoint (`store::alerts::evaluate_batch`): the rules run on sample time within the
//! group commit, and the new rule state and the transitions it publishes commit together with
//! the samples, so each transition is recorded exactly once. It costs a few indexed statements
//! per batch (state read and write, open alerts) and no extra transaction or fsync; a failing
//! evaluation is logged and rolled back alone, never failing the ingest. Notifications are
//! handed to the notifier only after the commit, without waiting (`notify`).

use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::store::alerts::{self, Notice};
use crate::store::samples::{self, IngestOutcome, PreparedSample, Strings};
use crate::store::{Store, StoreError};
use chrono::Utc;
use diesel::connection::Connection;
use diesel::sqlite::SqliteConnection;
use rt_core::alert::AlertRules;
use rt_core::health::HealthPolicy;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Most samples committed in one group transaction.
const MAX_GROUP_SAMPLES: usize = 20_000;
/// Queue of batches waiting for the writer.
const QUEUE_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the server is shutting down")]
    ShuttingDown,
    #[error("write failed: {0}")]
    Store(String),
}

struct Job {
    device_id: i64,
    samples: Vec<PreparedSample>,
    reply: oneshot::Sender<Result<IngestOutcome, WriteError>>,
}

enum Msg {
    Ingest(Job),
    Shutdown,
}

/// What the writer needs to evaluate alert rules at ingest.
#[derive(Debug, Clone, Default)]
pub struct Alerting {
    pub rules: AlertRules,
    pub notifier: Notifier,
}

/// Handle to the writer thread. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Writer {
    tx: mpsc::Sender<Msg>,
}

/// Joins the writer thread after it drained its queue.
#[derive(Debug)]
pub struct WriterThread {
    handle: std::thread::JoinHandle<()>,
    tx: mpsc::Sender<Msg>,
}

impl Writer {
    /// Start the writer thread with its own connection.
    pub fn start(
        store: &Store,
        metrics: Arc<Metrics>,
        policy: HealthPolicy,
        alerting: Alerting,
    ) -> Result<(Writer, WriterThread), StoreError> {
        let conn = store.connect()?;
        let (tx, rx) = mpsc::channel(QUEUE_LEN);
        let handle = std::thread::Builder::new()
            .name("rt-writer".into())
            .spawn(move || run(conn, rx, metrics, policy, alerting))
            .map_err(|e| StoreError::Task(e.to_string()))?;
        Ok((Writer { tx: tx.clone() }, WriterThread { handle, tx }))
    }

    /// Store one device's batch; resolves after commit.
    pub async fn ingest(
        &self,
        device_id: i64,
        samples: Vec<PreparedSample>,
    ) -> Result<IngestOutcome, WriteError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Ingest(Job {
                device_id,
                samples,
                reply,
            }))
            .await
            .map_err(|_| WriteError::ShuttingDown)?;
        rx.await.map_err(|_| WriteError::ShuttingDown)?
    }
}

impl WriterThread {
    /// Ask the writer to finish what is queued, then wait for it (on a blocking thread).
    pub async fn shutdown(self) {
        let _ = self.tx.send(Msg::Shutdown).await;
        let handle = self.handle;
        let _ = tokio::task::spawn_blocking(move || handle.join()).await;
    }
}

fn run(
    mut conn: SqliteConnection,
    mut rx: mpsc::Receiver<Msg>,
    metrics: Arc<Metrics>,
    policy: HealthPolicy,
    alerting: Alerting,
) {
    let mut strings = Strings::default();
    let mut stopping = false;
    while !stopping {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        let mut jobs = Vec::new();
        let mut n = 0;
        match first {
            Msg::Ingest(j) => {
                n += j.samples.len();
                jobs.push(j);
            }
            Msg::Shutdown => stopping = true,
        }
        // Take whatever else is already waiting (or, when stopping, everything queued).
        while stopping || n < MAX_GROUP_SAMPLES {
            match rx.try_recv() {
                Ok(Msg::Ingest(j)) => {
                    n += j.samples.len();
                    jobs.push(j);
                }
                Ok(Msg::Shutdown) => stopping = true,
                Err(_) => break,
            }
        }
        if stopping {
            rx.close();
            while let Ok(m) = rx.try_recv() {
                if let Msg::Ingest(j) = m {
                    jobs.push(j);
                }
            }
        }
        if !jobs.is_empty() {
            commit_group(&mut conn, &mut strings, jobs, &metrics, &policy, &alerting);
        }
    }
    tracing::debug!("writer stopped");
}

fn commit_group(
    conn: &mut SqliteConnection,
    strings: &mut Strings,
    jobs: Vec<Job>,
    metrics: &Metrics,
    policy: &HealthPolicy,
    alerting: &Alerting,
) {
    let started = Instant::now();
    let now = Utc::now();
    let count = jobs.len();
    let result = conn.immediate_transaction(|conn| {
        let mut results = Vec::with_capacity(jobs.len());
        for job in &jobs {
            // A savepoint per batch: one failing batch is reported alone.
            let r = conn.transaction(|c| {
                let o = samples::ingest(c, strings, job.device_id, &job.samples, policy, now)?;
                let notices = evaluate_alerts(c, job, &o, alerting, now);
                Ok::<_, StoreError>((o, notices))
            });
            // Dictionary strings added in a rolled-back savepoint are gone again.
            match r {
                Ok(_) => strings.keep_pending(),
                Err(_) => strings.forget_pending(),
            }
            results.push(r);
        }
        Ok::<_, StoreError>(results)
    });
    metrics.record_write_group(count, started.elapsed());
    match result {
        Ok(results) => {
            for (job, r) in jobs.into_iter().zip(results) {
                let reply = match r {
                    Ok((o, notices)) => {
                        alerting.notifier.send(notices);
                        metrics
                            .samples_accepted
                            .fetch_add(o.accepted.len() as u64, Ordering::Relaxed);
                        metrics
                            .samples_duplicate
                            .fetch_add(o.duplicates.len() as u64, Ordering::Relaxed);
                        metrics
                            .samples_conflict
                            .fetch_add(o.conflicts.len() as u64, Ordering::Relaxed);
                        Ok(o)
                    }
                    Err(e) => {
                        tracing::error!(device_id = job.device_id, error = %e, "telemetry batch not stored");
                        Err(WriteError::Store(e.to_string()))
                    }
                };
                let _ = job.reply.send(reply);
            }
        }
        Err(e) => {
            strings.clear();
            tracing::error!(error = %e, batches = count, "group commit failed; nothing of it was stored");
            for job in jobs {
                let _ = job.reply.send(Err(WriteError::Store(e.to_string())));
            }
        }
    }
}

/// The alert rules over a batch's newly stored samples, in a savepoint of their own: an error
/// is logged and leaves samples and rule state as they were before the evaluation.
fn evaluate_alerts(
    conn: &mut SqliteConnection,
    job: &Job,
    outcome: &IngestOutcome,
    alerting: &Alerting,
    now: chrono::DateTime<Utc>,
) -> Vec<Notice> {
    if outcome.accepted.is_empty() {
        return Vec::new();
    }
    let accepted: std::collections::HashSet<u64> = outcome.accepted.iter().copied().collect();
    let new: Vec<rt_core::Sample> = job
        .samples
        .iter()
        .filter(|s| u64::try_from(s.seq).is_ok_and(|q| accepted.contains(&q)))
        .map(|s| s.sample.clone())
        .collect();
    match conn.transaction(|c| alerts::evaluate_batch(c, job.device_id, &new, &alerting.rules, now))
    {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(device_id = job.device_id, error = %e, "alert evaluation failed; samples stored");
            Vec::new()
        }
    }
}
