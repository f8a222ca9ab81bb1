//! rt-sim, the fleet simulator: a demo fleet for the console and the load generator of the
//! benchmarks. Its own binary, so the agent that ships to laptops does not carry it.
//!
//! It speaks only the public protocol, like N real agents would: each virtual device enrolls
//! through `POST /api/v1/enroll` (its own inventory and machine id) and uploads its back-filled
//! history through `POST /api/v1/telemetry` (gzip JSON batches, `seq` from 1). Lifecycle
//! changes (retired, in stock) go through `PATCH /api/v1/devices/{id}` with an admin token.
//! All of it through rt-client's typed API client ([`retry`] adds the load generator's retries).
//!
//! - Deterministic: everything derives from the seed ([`persona`]); only the end of the history
//!   is "now".
//! - Bounded memory: `concurrency` workers each take one device at a time and generate its
//!   history lazily, one batch at a time ([`generator`]); the fleet is never in memory.
//! - Load generator: `concurrency`, an optional global rate limit in samples/s, and a
//!   [`Summary`] with throughput and batch latency percentiles.

pub mod cli;
pub mod generator;
pub mod persona;
pub mod retry;

use chrono::{DateTime, Duration, Utc};
use generator::DeviceSim;
use persona::DevicePlan;
use rt_client::Secret;
use rt_client::api::{Client, ClientError};
use rt_core::DeviceId;
use rt_core::api::{DevicePatch, EnrollRequest, TelemetryBatch};
use serde::Serialize;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What to simulate and where to send it.
#[derive(Clone)]
pub struct SimOptions {
    pub devices: u32,
    pub history: Duration,
    pub interval: Duration,
    pub seed: u64,
    pub server: String,
    /// `--ca-file`: the CA(s) trusted for an https:// server instead of the system's.
    pub ca_file: Option<std::path::PathBuf>,
    pub enroll_token: String,
    pub admin_token: Option<String>,
    pub concurrency: usize,
    pub batch: usize,
    /// Samples per second across the fleet; 0 = unlimited.
    pub rate: f64,
    /// End of the back-filled history (normally now).
    pub end: DateTime<Utc>,
    /// Print progress lines on stderr.
    pub progress: bool,
    /// Where to write the summary as JSON (in live mode: right after the back-fill, too).
    pub summary_json: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("devices", &self.devices)
            .field("history", &self.history)
            .field("interval", &self.interval)
            .field("seed", &self.seed)
            .field("server", &self.server)
            .field("ca_file", &self.ca_file)
            .field("enroll_token", &"<redacted>")
            .field(
                "admin_token",
                &self.admin_token.as_ref().map(|_| "<redacted>"),
            )
            .field("concurrency", &self.concurrency)
            .field("batch", &self.batch)
            .field("rate", &self.rate)
            .finish()
    }
}

/// Outcome of a run; printed on stderr and optionally written as JSON (`--summary-json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Devices asked for.
    pub devices: u32,
    /// Devices enrolled (new or re-enrolled).
    pub enrolled: u32,
    pub re_enrolled: u32,
    /// Samples sent in batches the server answered.
    pub samples_sent: u64,
    pub accepted: u64,
    pub duplicates: u64,
    pub conflicts: u64,
    pub rejected: u64,
    pub batches: u64,
    pub failed_batches: u64,
    pub failed_devices: u32,
    pub lifecycle_changes: u32,
    pub elapsed_s: f64,
    pub samples_per_s: f64,
    pub batch_latency_p50_ms: f64,
    pub batch_latency_p99_ms: f64,
    /// Per device (in index order): id, hostname and samples accepted or duplicate.
    pub per_device: Vec<DeviceReport>,
    /// First few error messages.
    pub errors: Vec<String>,
}

/// One device of the [`Summary`].
#[derive(Debug, Clone, Serialize)]
pub struct DeviceReport {
    pub index: u32,
    pub device_id: Option<i64>,
    pub hostname: String,
    pub condition: String,
    /// Samples the server stored or already had (accepted + duplicates + conflicts).
    pub stored: u64,
    pub last_seq: u64,
}

impl Summary {
    /// Human lines for stderr.
    pub fn render(&self) -> String {
        format!(
            "rt-sim: {enrolled}/{devices} devices enrolled ({re} re-enrolled), {sent} samples sent in {batches} batches: \
             {acc} accepted, {dup} duplicates, {conf} conflicts, {rej} rejected; {fb} failed batches, {fd} failed devices, \
             {lc} lifecycle changes\n\
             rt-sim: {el:.1} s, {rate:.0} samples/s, batch latency p50 {p50:.1} ms, p99 {p99:.1} ms",
            enrolled = self.enrolled,
            devices = self.devices,
            re = self.re_enrolled,
            sent = self.samples_sent,
            batches = self.batches,
            acc = self.accepted,
            dup = self.duplicates,
            conf = self.conflicts,
            rej = self.rejected,
            fb = self.failed_batches,
            fd = self.failed_devices,
            lc = self.lifecycle_changes,
            el = self.elapsed_s,
            rate = self.samples_per_s,
            p50 = self.batch_latency_p50_ms,
            p99 = self.batch_latency_p99_ms,
        )
    }

    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        self.failed_batches == 0 && self.failed_devices == 0 && self.rejected == 0
    }
}

/// Errors that stop the whole simulation before it starts.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("invalid option: {0}")]
    Option(String),
    #[error("{0}")]
    Output(String),
}

/// A device after its back-fill, kept for lifecycle changes and live mode.
struct Enrolled {
    sim: DeviceSim,
    id: DeviceId,
    token: Secret,
}

/// Shared counters of one run.
#[derive(Default)]
struct Stats {
    sent: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    conflicts: AtomicU64,
    rejected: AtomicU64,
    batches: AtomicU64,
    failed_batches: AtomicU64,
    latencies_ms: Mutex<Vec<f64>>,
    errors: Mutex<Vec<String>>,
}

impl Stats {
    fn error(&self, msg: String) {
        if let Ok(mut e) = self.errors.lock()
            && e.len() < 20
        {
            e.push(msg);
        }
    }
}

/// A global samples/s limit shared by all workers (0 = none).
struct RateLimiter {
    rate: f64,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl RateLimiter {
    fn new(rate: f64) -> Self {
        RateLimiter {
            rate,
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn acquire(&self, samples: usize) {
        if self.rate <= 0.0 || !self.rate.is_finite() {
            return;
        }
        let at = {
            let mut next = self.next.lock().await;
            let now = tokio::time::Instant::now();
            let start = (*next).max(now);
            *next = start + std::time::Duration::from_secs_f64(samples as f64 / self.rate);
            start
        };
        tokio::time::sleep_until(at).await;
    }
}

struct Ctx {
    opts: SimOptions,
    /// Enrollment and telemetry (each device's token goes with its batch).
    client: Client,
    /// The admin's client for lifecycle changes, when an admin token was given.
    admin: Option<Client>,
    stats: Stats,
    limiter: RateLimiter,
    next_index: AtomicU32,
    done_devices: AtomicU32,
}

/// Run the simulation: enroll, back-fill, set lifecycle states. Returns the summary and the
/// enrolled devices (for live mode).
async fn backfill(ctx: Arc<Ctx>) -> (Vec<DeviceReport>, Vec<Enrolled>, u32, u32, u32) {
    let workers = ctx
        .opts
        .concurrency
        .clamp(1, 1024)
        .min(ctx.opts.devices.max(1) as usize);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let ctx = ctx.clone();
        set.spawn(async move {
            let mut out = Vec::new();
            loop {
                let index = ctx.next_index.fetch_add(1, Ordering::Relaxed);
                if index >= ctx.opts.devices {
                    break;
                }
                out.push(one_device(&ctx, index).await);
                ctx.done_devices.fetch_add(1, Ordering::Relaxed);
            }
            out
        });
    }
    let mut reports = Vec::new();
    let mut enrolled = Vec::new();
    let (mut n_enrolled, mut n_re, mut failed) = (0u32, 0u32, 0u32);
    while let Some(res) = set.join_next().await {
        let Ok(list) = res else {
            failed += 1;
            continue;
        };
        for (report, dev, re) in list {
            match dev {
                Some(d) => {
                    n_enrolled += 1;
                    if re {
                        n_re += 1;
                    }
                    enrolled.push(d);
                }
                None => failed += 1,
            }
            reports.push(report);
        }
    }
    reports.sort_by_key(|r| r.index);
    enrolled.sort_by_key(|e| e.sim.plan.index);
    (reports, enrolled, n_enrolled, n_re, failed)
}

/// Enroll one device and upload its whole history, batch by batch.
async fn one_device(ctx: &Ctx, index: u32) -> (DeviceReport, Option<Enrolled>, bool) {
    let o = &ctx.opts;
    let plan = DevicePlan::new(o.seed, index);
    let mut report = DeviceReport {
        index,
        device_id: None,
        hostname: plan.inventory.hostname.clone(),
        condition: format!("{:?}", plan.condition),
        stored: 0,
        last_seq: 0,
    };
    let req = EnrollRequest {
        enrollment_token: Some(o.enroll_token.clone()),
        username: None,
        password: None,
        inventory: plan.inventory.clone(),
        device_name: Some(plan.display_name()),
        asset_tag: Some(plan.asset_tag.clone()),
        assignee: plan.assignee.clone(),
    };
    let resp = match retry::with_retries(|| ctx.client.enroll(&req)).await {
        Ok(r) => r,
        Err(e) => {
            ctx.stats
                .error(format!("device {index} ({}): {e}", report.hostname));
            return (report, None, false);
        }
    };
    report.device_id = Some(resp.device_id.0);
    let mut sim = DeviceSim::new(plan, o.seed, o.end, o.history, o.interval);
    let token = Secret::new(resp.device_token.clone());
    let mut ok = true;
    loop {
        let samples = sim.next_batch(o.batch.max(1));
        if samples.is_empty() {
            break;
        }
        let last_seq = samples.last().map_or(0, |s| s.seq);
        if !send(ctx, &token, samples, &mut report).await {
            ok = false;
            break;
        }
        report.last_seq = last_seq;
    }
    let dev = ok.then_some(Enrolled {
        sim,
        id: resp.device_id,
        token,
    });
    (report, dev, resp.re_enrolled)
}

/// Upload one batch; false when it failed for good.
async fn send(
    ctx: &Ctx,
    token: &Secret,
    samples: Vec<rt_core::Sample>,
    report: &mut DeviceReport,
) -> bool {
    let n = samples.len();
    ctx.limiter.acquire(n).await;
    let batch = TelemetryBatch {
        agent_version: format!("{}-sim", env!("CARGO_PKG_VERSION")),
        samples,
    };
    let st = &ctx.stats;
    let sent = retry::with_retries(|| async {
        let started = Instant::now();
        let ack = ctx.client.send_telemetry(token, &batch).await?;
        Ok((ack, started.elapsed()))
    })
    .await;
    match sent {
        Ok((ack, latency)) => {
            st.batches.fetch_add(1, Ordering::Relaxed);
            st.sent.fetch_add(n as u64, Ordering::Relaxed);
            st.accepted.fetch_add(ack.accepted, Ordering::Relaxed);
            st.duplicates.fetch_add(ack.duplicates, Ordering::Relaxed);
            st.conflicts.fetch_add(ack.conflicts, Ordering::Relaxed);
            st.rejected
                .fetch_add(ack.rejected.len() as u64, Ordering::Relaxed);
            if let Some(r) = ack.rejected.first() {
                st.error(format!(
                    "device {} ({}): seq {} rejected: {}",
                    report.index, report.hostname, r.seq, r.reason
                ));
            }
            report.stored += ack.accepted + ack.duplicates + ack.conflicts;
            if let Ok(mut l) = st.latencies_ms.lock() {
                l.push(latency.as_secs_f64() * 1000.0);
            }
            true
        }
        Err(e) => {
            st.failed_batches.fetch_add(1, Ordering::Relaxed);
            st.error(format!(
                "device {} ({}): {e}",
                report.index, report.hostname
            ));
            false
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Set the lifecycle state of the devices whose persona asks for one (needs an admin token).
async fn apply_lifecycle(ctx: &Ctx, devices: &[Enrolled]) -> u32 {
    let wanted: Vec<&Enrolled> = devices
        .iter()
        .filter(|d| d.sim.plan.lifecycle.is_some())
        .collect();
    if wanted.is_empty() {
        return 0;
    }
    let Some(admin) = &ctx.admin else {
        eprintln!(
            "rt-sim: warning: no admin token (--admin-token or RT_TOKEN), so {} device(s) stay deployed instead of retired/in stock",
            wanted.len()
        );
        return 0;
    };
    let mut n = 0;
    for d in wanted {
        let patch = DevicePatch {
            lifecycle_state: d.sim.plan.lifecycle,
            ..Default::default()
        };
        match retry::with_retries(|| admin.patch_device(d.id, &patch)).await {
            Ok(_) => n += 1,
            Err(e) => {
                eprintln!(
                    "rt-sim: warning: cannot set lifecycle of device {}: {e}",
                    d.id
                );
                ctx.stats
                    .error(format!("lifecycle of device {}: {e}", d.id));
            }
        }
    }
    n
}

/// Periodic progress on stderr until `stop` resolves.
async fn progress_loop(ctx: Arc<Ctx>, started: Instant) {
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let every = if tty { 1 } else { 10 };
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(every)).await;
        let done = ctx.done_devices.load(Ordering::Relaxed);
        let sent = ctx.stats.sent.load(Ordering::Relaxed);
        let el = started.elapsed().as_secs_f64().max(0.001);
        let line = format!(
            "rt-sim: {done}/{} devices, {sent} samples, {:.0} samples/s",
            ctx.opts.devices,
            sent as f64 / el
        );
        if tty {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
    }
}

/// Enroll and back-fill the fleet, then (if `live`) keep sending a sample per device per
/// interval until Ctrl-C.
pub async fn run(opts: SimOptions, live: bool) -> Result<Summary, SimError> {
    if opts.interval <= Duration::zero() || opts.history < Duration::zero() {
        return Err(SimError::Option(
            "interval must be positive and history not negative".into(),
        ));
    }
    if opts.batch == 0 || opts.batch > rt_core::validate::limits::MAX_SAMPLES_PER_BATCH {
        return Err(SimError::Option(format!(
            "--batch must be between 1 and {}",
            rt_core::validate::limits::MAX_SAMPLES_PER_BATCH
        )));
    }
    let http = retry::http_client(opts.ca_file.as_deref())?;
    let admin = match &opts.admin_token {
        Some(t) => Some(Client::with_http(
            &opts.server,
            Some(Secret::new(t.clone())),
            http.clone(),
        )?),
        None => None,
    };
    let ctx = Arc::new(Ctx {
        client: Client::with_http(&opts.server, None, http)?,
        admin,
        limiter: RateLimiter::new(opts.rate),
        opts,
        stats: Stats::default(),
        next_index: AtomicU32::new(0),
        done_devices: AtomicU32::new(0),
    });
    let started = Instant::now();
    let progress = ctx
        .opts
        .progress
        .then(|| tokio::spawn(progress_loop(ctx.clone(), started)));
    let (per_device, enrolled, n_enrolled, n_re, failed) = backfill(ctx.clone()).await;
    let elapsed = started.elapsed().as_secs_f64();
    if let Some(p) = progress {
        p.abort();
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            eprintln!();
        }
    }
    let lifecycle_changes = apply_lifecycle(&ctx, &enrolled).await;

    let st = &ctx.stats;
    let mut lat = st
        .latencies_ms
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    lat.sort_by(f64::total_cmp);
    let sent = st.sent.load(Ordering::Relaxed);
    let mut summary = Summary {
        devices: ctx.opts.devices,
        enrolled: n_enrolled,
        re_enrolled: n_re,
        samples_sent: sent,
        accepted: st.accepted.load(Ordering::Relaxed),
        duplicates: st.duplicates.load(Ordering::Relaxed),
        conflicts: st.conflicts.load(Ordering::Relaxed),
        rejected: st.rejected.load(Ordering::Relaxed),
        batches: st.batches.load(Ordering::Relaxed),
        failed_batches: st.failed_batches.load(Ordering::Relaxed),
        failed_devices: failed,
        lifecycle_changes,
        elapsed_s: elapsed,
        samples_per_s: if elapsed > 0.0 {
            sent as f64 / elapsed
        } else {
            0.0
        },
        batch_latency_p50_ms: percentile(&lat, 50.0),
        batch_latency_p99_ms: percentile(&lat, 99.0),
        per_device,
        errors: st.errors.lock().map(|e| e.clone()).unwrap_or_default(),
    };
    if live {
        if let Some(path) = &ctx.opts.summary_json {
            // Written once the back-fill is done, so a script can wait for it while the live
            // samples go on.
            write_summary(&summary, path)?;
        }
        eprintln!("{}", summary.render());
        eprintln!(
            "rt-sim: live: one sample per device every {} s; Ctrl-C to stop",
            ctx.opts.interval.num_seconds()
        );
        live_loop(&ctx, enrolled, &mut summary).await;
    }
    Ok(summary)
}

/// Write the summary as pretty JSON (replaced atomically).
pub fn write_summary(summary: &Summary, path: &std::path::Path) -> Result<(), SimError> {
    let json = serde_json::to_vec_pretty(summary).map_err(|e| SimError::Output(e.to_string()))?;
    rt_client::files::write_private_atomic(path, &json)
        .map_err(|e| SimError::Output(format!("cannot write {}: {e}", path.display())))
}

/// Live mode: every interval, each device that still reports sends its next sample.
async fn live_loop(ctx: &Ctx, mut devices: Vec<Enrolled>, summary: &mut Summary) {
    devices.retain(|d| d.sim.reports_live() && d.sim.plan.lifecycle.is_none());
    let period = ctx
        .opts
        .interval
        .to_std()
        .unwrap_or(std::time::Duration::from_secs(300));
    let mut tick = tokio::time::interval(period);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => break,
        }
        let now = Utc::now();
        for d in &mut devices {
            d.sim.extend_to(now);
            let samples = d.sim.next_batch(ctx.opts.batch);
            if samples.is_empty() {
                continue;
            }
            let mut report = DeviceReport {
                index: d.sim.plan.index,
                device_id: Some(d.id.0),
                hostname: d.sim.plan.inventory.hostname.clone(),
                condition: String::new(),
                stored: 0,
                last_seq: 0,
            };
            send(ctx, &d.token, samples, &mut report).await;
            if let Some(r) = summary
                .per_device
                .iter_mut()
                .find(|r| r.index == report.index)
            {
                r.stored += report.stored;
                r.last_seq = d.sim.next_seq() - 1;
            }
        }
    }
    let st = &ctx.stats;
    summary.samples_sent = st.sent.load(Ordering::Relaxed);
    summary.accepted = st.accepted.load(Ordering::Relaxed);
    summary.duplicates = st.duplicates.load(Ordering::Relaxed);
    summary.conflicts = st.conflicts.load(Ordering::Relaxed);
    summary.rejected = st.rejected.load(Ordering::Relaxed);
    summary.batches = st.batches.load(Ordering::Relaxed);
    summary.failed_batches = st.failed_batches.load(Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_ranks() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
