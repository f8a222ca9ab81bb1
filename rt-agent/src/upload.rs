//! Reliable upload of the queue to `POST /api/v1/telemetry`.
//!
//! Split in two so the hard cases are tested without sockets (STYLE.md §9):
//! - [`decide`] is pure: given the persisted [`UploadState`], the seqs of a batch and what the
//!   server (or the network) answered, it returns a [`Verdict`] — which seqs to delete, which
//!   to quarantine with what reason, and what to do next (continue, split the batch, back off,
//!   stop) — and updates the state;
//! - [`sync_once`] is the driver: it reads batches from the queue, sends them (gzip, timeouts),
//!   applies verdicts to the queue and persists the state after every batch.
//!
//! Rules: delete only what `ack` covers; network errors, timeouts and 5xx back off
//! exponentially with jitter (persisted, so a cron-driven agent backs off too); 429 honours
//! Retry-After; 401/403 stop and keep the data until re-enrollment; a sample the server
//! rejects (per-sample `rejected`, or a 400/409/413/422 for a batch narrowed down to that one
//! sample by splitting) goes to the quarantine file with the server's reason.
//!
//! Only the server's own JSON error body is a verdict: a 400/401/403/409/413/422 without one
//! comes from something in between (a captive portal, a proxy) and is a transient failure with
//! backoff — nothing is quarantined and the token is not given up.
//!
//! Sequence continuity (DESIGN §4): every answer carries the device's highest stored seq
//! (`max_seq`), kept as `UploadState::seq_floor`; the queue hands out seqs above it. A sample the
//! server reports as a conflict (another sample is stored under its seq, e.g. after the agent
//! lost its state) is not deleted: it is re-sequenced above the floor and sent again. One that
//! conflicts again after that, or cannot be rewritten, is quarantined and counted
//! (`unresolved_conflicts`), which `status` shows.

use crate::collect::AGENT_VERSION;
use crate::queue::{QuarantineEntry, Queue, QueuedRecord, Removal, write_quarantine};
use crate::state::{StateDir, read_json, write_json_atomic};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use rt_client::credstore::Secret;
use rt_core::api::TelemetryAck;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Upload tuning. Defaults: 500 samples or 4 MiB (uncompressed) per batch, 10 s connect and
/// 60 s request timeout.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    pub max_batch_samples: usize,
    pub max_batch_bytes: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    /// Upper bound of batches in one `sync_once` (a backlog of 30 days at 1/min is ~87 batches).
    pub max_batches: usize,
    /// Trust exactly the CAs in this PEM file instead of the system's (`enroll --ca-file`);
    /// [`Uploader::from_state`] takes it from the enrollment.
    pub ca_file: Option<PathBuf>,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            max_batch_samples: 500,
            max_batch_bytes: 4 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            max_batches: 1000,
            ca_file: None,
        }
    }
}

/// First retry delay and cap of the exponential backoff.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
pub const BACKOFF_CAP: Duration = Duration::from_secs(3600);
/// Longest Retry-After honoured (a misconfigured server must not silence the agent for weeks).
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(24 * 3600);

/// Persisted upload state (`upload.json`), also the source of `status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UploadState {
    #[serde(default)]
    pub consecutive_failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Set on 401/403: uploads stop until the device is enrolled again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_reachable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_collection_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub uploaded_total: u64,
    /// The highest seq the server said it stores for this device (at enrollment and in every
    /// telemetry answer). New samples are numbered above it.
    #[serde(default)]
    pub seq_floor: u64,
    /// Samples re-sent under a new seq after a conflict.
    #[serde(default)]
    pub resequenced_total: u64,
    /// Conflicts that could not be resolved by re-sequencing (quarantined, or deleted by an
    /// older server's ack that did not say which seqs conflicted).
    #[serde(default)]
    pub unresolved_conflicts: u64,
}

impl UploadState {
    pub fn load(sd: &StateDir) -> Result<UploadState> {
        Ok(read_json(&sd.upload_state_path())?.unwrap_or_default())
    }

    pub fn save(&self, sd: &StateDir) -> Result<()> {
        sd.ensure()?;
        write_json_atomic(&sd.upload_state_path(), self)
    }

    /// True when a backoff is in force at `now`.
    pub fn backing_off(&self, now: DateTime<Utc>) -> bool {
        self.next_attempt_at.is_some_and(|t| t > now)
    }
}

/// What came back for one batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response {
        status: u16,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    /// Connection refused, DNS, TLS, timeout, connection dropped mid-response.
    Network(String),
}

/// What to do after a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Send the next batch.
    Continue,
    /// The server refused the batch as a whole; retry with half as many samples to isolate
    /// the sample at fault.
    Split,
    /// Stop for now; retry at `until`.
    Backoff {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Stop until the device is enrolled again (the data is kept).
    StopAuth(String),
}

/// Effects of one batch, as data.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub delete: Vec<u64>,
    pub quarantine: Vec<(u64, String)>,
    /// Conflicts: keep, give a new seq above the floor, send again.
    pub resequence: Vec<u64>,
    pub next: Next,
}

/// Exponential backoff with jitter: `base * 2^(n-1)` capped, then a random point in its upper
/// half (`jitter` in 0..1), so a fleet that lost the server at once does not return at once.
pub fn backoff_delay(failures: u32, jitter: f64) -> Duration {
    let exp = failures.saturating_sub(1).min(20);
    let d = BACKOFF_BASE
        .saturating_mul(1u32 << exp)
        .min(BACKOFF_CAP)
        .as_secs_f64();
    Duration::from_secs_f64(d / 2.0 + d / 2.0 * jitter.clamp(0.0, 1.0))
}

/// Retry-After as seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now: DateTime<Utc>) -> Option<Duration> {
    let v = v.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

fn error_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<rt_core::ErrorBody>(body)
        .ok()
        .map(|b| b.error.to_string())
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The pure decision for one batch (see the module docs). `jitter` in 0..1.
pub fn decide(
    state: &mut UploadState,
    batch: &[u64],
    outcome: &Outcome,
    now: DateTime<Utc>,
    jitter: f64,
) -> Verdict {
    state.last_attempt_at = Some(now);
    let fail = |state: &mut UploadState, reason: String, wait: Option<Duration>| {
        if wait.is_none() {
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        }
        let delay = wait.unwrap_or_else(|| backoff_delay(state.consecutive_failures, jitter));
        let until = now + to_chrono(delay);
        state.next_attempt_at = Some(until);
        state.last_error = Some(reason.clone());
        Verdict {
            delete: vec![],
            quarantine: vec![],
            resequence: vec![],
            next: Next::Backoff { until, reason },
        }
    };
    let (status, retry_after, body) = match outcome {
        Outcome::Network(e) => {
            state.server_reachable = Some(false);
            return fail(state, format!("server unreachable: {e}"), None);
        }
        Outcome::Response {
            status,
            retry_after,
            body,
        } => (*status, *retry_after, body),
    };
    state.server_reachable = Some(true);
    let server_error = error_message(body);
    if matches!(status, 400 | 401 | 403 | 409 | 413 | 422) && server_error.is_none() {
        // Not the server's verdict: a proxy or captive portal answered.
        return fail(
            state,
            format!(
                "HTTP {status} without the server's JSON error: something between this device \
                 and the server (a captive portal or proxy?) answered; retrying later"
            ),
            None,
        );
    }
    let server_says = server_error.unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        200..=299 => {
            let Ok(ack) = serde_json::from_slice::<TelemetryAck>(body) else {
                return fail(
                    state,
                    format!("server sent an unreadable acknowledgement (HTTP {status})"),
                    None,
                );
            };
            let resequence: Vec<u64> = batch
                .iter()
                .copied()
                .filter(|s| ack.conflicts_on(*s))
                .collect();
            let delete: Vec<u64> = batch
                .iter()
                .copied()
                .filter(|s| ack.acks(*s) && !resequence.contains(s))
                .collect();
            let quarantine: Vec<(u64, String)> = ack
                .rejected
                .iter()
                .filter(|r| {
                    batch.contains(&r.seq)
                        && !delete.contains(&r.seq)
                        && !resequence.contains(&r.seq)
                })
                .map(|r| (r.seq, r.reason.clone()))
                .collect();
            if delete.is_empty()
                && quarantine.is_empty()
                && resequence.is_empty()
                && !batch.is_empty()
            {
                return fail(state, "server acknowledged none of the batch".into(), None);
            }
            // The floor only rises: the server's highest stored seq, and any seq it says
            // holds another sample (an older server sends no max_seq).
            state.seq_floor = state
                .seq_floor
                .max(ack.max_seq.unwrap_or(0))
                .max(resequence.iter().copied().max().unwrap_or(0));
            if ack.conflicts > 0 && ack.conflicted.is_empty() {
                // An older server: it acked the conflicts without saying which they were.
                state.unresolved_conflicts += ack.conflicts;
            }
            state.consecutive_failures = 0;
            state.next_attempt_at = None;
            state.last_error = None;
            state.last_success_at = Some(now);
            state.uploaded_total += delete.len() as u64;
            Verdict {
                delete,
                quarantine,
                resequence,
                next: Next::Continue,
            }
        }
        401 | 403 => {
            let msg = format!(
                "the server refused this device's token ({server_says}); the device was revoked, \
                 retired or re-enrolled elsewhere. Queued samples are kept. Run \
                 `rt-agent enroll --force` to enroll again"
            );
            state.auth_failure = Some(msg.clone());
            state.last_error = Some(msg.clone());
            Verdict {
                delete: vec![],
                quarantine: vec![],
                resequence: vec![],
                next: Next::StopAuth(msg),
            }
        }
        429 => {
            let wait = retry_after.map(|d| d.min(RETRY_AFTER_CAP));
            fail(
                state,
                format!("server busy, asked to retry later ({server_says})"),
                wait,
            )
        }
        400 | 409 | 413 | 422 => {
            if batch.len() > 1 {
                Verdict {
                    delete: vec![],
                    quarantine: vec![],
                    resequence: vec![],
                    next: Next::Split,
                }
            } else {
                // One sample the server will never take: keep it aside, not in the way.
                Verdict {
                    delete: vec![],
                    quarantine: batch
                        .iter()
                        .map(|s| (*s, format!("HTTP {status}: {server_says}")))
                        .collect(),
                    resequence: vec![],
                    next: Next::Continue,
                }
            }
        }
        408 | 500..=599 => fail(state, format!("server error: {server_says}"), None),
        _ => fail(
            state,
            format!(
                "server does not accept telemetry here (HTTP {status}: {server_says}); check the server URL"
            ),
            None,
        ),
    }
}

/// The HTTP side: a client with timeouts and the device's credentials.
pub struct Uploader {
    http: reqwest::Client,
    server_url: String,
    token: Secret,
    pub cfg: UploadConfig,
}

impl std::fmt::Debug for Uploader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uploader")
            .field("server_url", &self.server_url)
            .field("token", &self.token)
            .finish()
    }
}

/// An HTTP client with the agent's user agent and timeouts, trusting the system's CAs or, with
/// `ca_file` (`enroll --ca-file`), exactly the CAs in that file (rt_client::tls).
pub fn http_client(
    connect_timeout: Duration,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("rt-agent/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .timeout(timeout);
    rt_client::tls::configure(builder, ca_file)?
        .build()
        .context("cannot build the HTTP client")
}

impl Uploader {
    pub fn new(server_url: &str, token: Secret, cfg: UploadConfig) -> Result<Uploader> {
        Ok(Uploader {
            http: http_client(cfg.connect_timeout, cfg.timeout, cfg.ca_file.as_deref())?,
            server_url: server_url.trim_end_matches('/').to_string(),
            token,
            cfg,
        })
    }

    /// From the enrollment in `sd` (config + credential store).
    pub fn from_state(sd: &StateDir, cfg: UploadConfig) -> Result<Uploader> {
        let conf = sd.require_config()?;
        let store = sd.credential_store(conf.credential_store)?.store;
        let token = store
            .get()
            .context("cannot read the device token")?
            .with_context(|| {
                format!(
                    "no device token in {}; run `rt-agent enroll --force` to enroll again",
                    store.location()
                )
            })?;
        let cfg = UploadConfig {
            ca_file: conf.ca_file.clone(),
            ..cfg
        };
        Uploader::new(&conf.server_url, token, cfg)
    }

    /// Sends one batch; never fails (failures are an [`Outcome`]).
    pub async fn send(&self, records: &[QueuedRecord]) -> Outcome {
        let body = match encode_batch(records) {
            Ok(b) => b,
            Err(e) => return Outcome::Network(format!("cannot compress the batch: {e}")),
        };
        let res = self
            .http
            .post(format!("{}/api/v1/telemetry", self.server_url))
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(body)
            .send()
            .await;
        let resp = match res {
            Ok(r) => r,
            Err(e) => return Outcome::Network(describe(&e, self.cfg.ca_file.as_deref())),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, Utc::now()));
        match resp.bytes().await {
            Ok(b) => Outcome::Response {
                status,
                retry_after,
                body: b.to_vec(),
            },
            Err(e) => Outcome::Network(describe(&e, self.cfg.ca_file.as_deref())),
        }
    }
}

fn describe(e: &reqwest::Error, ca_file: Option<&Path>) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // reqwest errors never include our Authorization header; the URL carries no secret.
    let mut msg = format!("{what}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    if let Some(hint) = rt_client::tls::untrusted_certificate_hint(&msg, ca_file) {
        msg.push_str("; ");
        msg.push_str(&hint);
    }
    msg
}

/// `{"agent_version": .., "samples": [payloads]}` gzipped, built from the queued JSON without
/// re-parsing it.
pub fn encode_batch(records: &[QueuedRecord]) -> std::io::Result<Vec<u8>> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    write!(gz, "{{\"agent_version\":\"{AGENT_VERSION}\",\"samples\":[")?;
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            gz.write_all(b",")?;
        }
        gz.write_all(&r.payload)?;
    }
    gz.write_all(b"]}")?;
    gz.finish()
}

/// How a sync ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum SyncOutcome {
    /// The queue is empty.
    Drained,
    /// A backoff is in force (persisted from an earlier failure, or from this sync).
    BackingOff {
        until: DateTime<Utc>,
        reason: String,
    },
    /// Token refused; re-enrollment needed.
    AuthFailed { message: String },
    /// Stopped after `max_batches`; more remains.
    Incomplete,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncReport {
    pub batches: u32,
    pub sent: u64,
    pub acked: u64,
    pub quarantined: u64,
    /// Conflicting samples given a new seq to be sent again.
    pub resequenced: u64,
    pub remaining: u64,
    pub outcome: SyncOutcome,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SyncOptions {
    /// Try now even when a backoff is in force (an explicit `rt-agent sync` by a person).
    pub ignore_backoff: bool,
    /// Try even after the server refused the device token (`sync --force`).
    pub ignore_auth_failure: bool,
}

/// Drains the queue oldest first, batch by batch, until it is empty or something says stop.
/// Memory is bounded by one batch.
pub async fn sync_once(
    sd: &StateDir,
    queue: &mut Queue,
    up: &Uploader,
    opts: SyncOptions,
) -> Result<SyncReport> {
    let mut state = UploadState::load(sd)?;
    let mut report = SyncReport {
        batches: 0,
        sent: 0,
        acked: 0,
        quarantined: 0,
        resequenced: 0,
        remaining: queue.len() as u64,
        outcome: SyncOutcome::Drained,
    };
    let now = Utc::now();
    if let Some(msg) = state
        .auth_failure
        .as_ref()
        .filter(|_| !opts.ignore_auth_failure)
    {
        report.outcome = SyncOutcome::AuthFailed {
            message: msg.clone(),
        };
        return Ok(report);
    }
    if let Some(until) = state
        .next_attempt_at
        .filter(|t| *t > now && !opts.ignore_backoff)
    {
        report.outcome = SyncOutcome::BackingOff {
            until,
            reason: state.last_error.clone().unwrap_or_default(),
        };
        return Ok(report);
    }
    queue.raise_next_seq(state.seq_floor)?;
    // Seqs given out by re-sequencing in this sync: a conflict on one of them is not resolved
    // by trying again.
    let mut fresh: BTreeSet<u64> = BTreeSet::new();
    let mut limit = up.cfg.max_batch_samples.max(1);
    loop {
        if queue.is_empty() {
            report.outcome = SyncOutcome::Drained;
            break;
        }
        if report.batches as usize >= up.cfg.max_batches {
            report.outcome = SyncOutcome::Incomplete;
            break;
        }
        let batch = queue.peek(limit, up.cfg.max_batch_bytes)?;
        if batch.is_empty() {
            continue; // everything peeked was damaged and removed; re-check
        }
        queue.persist_high_water()?;
        let seqs: Vec<u64> = batch.iter().map(|r| r.seq).collect();
        let outcome = up.send(&batch).await;
        report.batches += 1;
        report.sent += seqs.len() as u64;
        let mut verdict = decide(
            &mut state,
            &seqs,
            &outcome,
            Utc::now(),
            rand::random::<f64>(),
        );
        // Conflicts on samples already re-sequenced in this sync cannot be resolved by doing it
        // again: quarantined (kept, counted, shown), never deleted.
        let (again, resequence): (Vec<u64>, Vec<u64>) = std::mem::take(&mut verdict.resequence)
            .into_iter()
            .partition(|s| fresh.contains(s));
        for s in again {
            state.unresolved_conflicts += 1;
            verdict.quarantine.push((
                s,
                "conflict: the server stores another sample under this seq, and again after \
                 re-sequencing"
                    .into(),
            ));
        }
        apply(sd, queue, &batch, &verdict)?;
        queue.raise_next_seq(state.seq_floor)?;
        for seq in resequence {
            let Some(rec) = batch.iter().find(|r| r.seq == seq) else {
                continue;
            };
            match resequence_payload(&rec.payload) {
                Some(obj) => {
                    let new = queue.resequence(rec, |n| with_seq(&obj, n, &rec.payload))?;
                    fresh.insert(new);
                    state.resequenced_total += 1;
                    report.resequenced += 1;
                }
                None => {
                    state.unresolved_conflicts += 1;
                    let v = Verdict {
                        delete: vec![],
                        quarantine: vec![(
                            seq,
                            "conflict: the server stores another sample under this seq and \
                             this one cannot be re-numbered (not a JSON object)"
                                .into(),
                        )],
                        resequence: vec![],
                        next: Next::Continue,
                    };
                    apply(sd, queue, &batch, &v)?;
                    verdict.quarantine.extend(v.quarantine);
                }
            }
        }
        report.acked += verdict.delete.len() as u64;
        report.quarantined += verdict.quarantine.len() as u64;
        if !verdict.delete.is_empty() {
            queue.note_upload_succeeded()?;
        }
        state.save(sd)?;
        match verdict.next {
            Next::Continue => limit = (limit * 2).min(up.cfg.max_batch_samples.max(1)),
            Next::Split => limit = (seqs.len() / 2).max(1),
            Next::Backoff { until, reason } => {
                report.outcome = SyncOutcome::BackingOff { until, reason };
                break;
            }
            Next::StopAuth(message) => {
                report.outcome = SyncOutcome::AuthFailed { message };
                break;
            }
        }
    }
    report.remaining = queue.len() as u64;
    Ok(report)
}

/// The queued sample as a JSON object whose `seq` can be replaced.
fn resequence_payload(payload: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(payload).ok()? {
        serde_json::Value::Object(m) if m.contains_key("seq") => Some(m),
        _ => None,
    }
}

fn with_seq(
    obj: &serde_json::Map<String, serde_json::Value>,
    seq: u64,
    original: &[u8],
) -> Vec<u8> {
    let mut m = obj.clone();
    m.insert("seq".into(), serde_json::Value::from(seq));
    serde_json::to_vec(&m).unwrap_or_else(|_| original.to_vec())
}

/// Applies a verdict: quarantine first (durably), then remove from the queue.
fn apply(sd: &StateDir, queue: &mut Queue, batch: &[QueuedRecord], v: &Verdict) -> Result<()> {
    if !v.quarantine.is_empty() {
        let now = Utc::now();
        let entries: Vec<QuarantineEntry> = v
            .quarantine
            .iter()
            .filter_map(|(seq, reason)| {
                let r = batch.iter().find(|r| r.seq == *seq)?;
                Some(QuarantineEntry {
                    seq: *seq,
                    reason: reason.clone(),
                    quarantined_at: now,
                    sample: serde_json::from_slice(&r.payload).unwrap_or_else(|_| {
                        serde_json::Value::String(String::from_utf8_lossy(&r.payload).into_owned())
                    }),
                })
            })
            .collect();
        write_quarantine(&sd.quarantine_path(), &entries)?;
        let seqs: Vec<u64> = v.quarantine.iter().map(|q| q.0).collect();
        queue.remove(&seqs, Removal::Quarantined)?;
    }
    if !v.delete.is_empty() {
        queue.ack(&v.delete)?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rt_core::api::RejectedSample;

    fn ok(ack: TelemetryAck) -> Outcome {
        Outcome::Response {
            status: 200,
            retry_after: None,
            body: serde_json::to_vec(&ack).unwrap(),
        }
    }

    fn status(code: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Response {
            status: code,
            retry_after: retry_after.map(Duration::from_secs),
            body: br#"{"error":{"code":"x","message":"nope"}}"#.to_vec(),
        }
    }

    #[test]
    fn only_acked_seqs_of_the_batch_are_deleted() {
        let mut st = UploadState::default();
        let now = Utc::now();
        let ack = TelemetryAck {
            accepted: 2,
            ack: vec![[1, 2], [4, 9]],
            ..Default::default()
        };
        let v = decide(&mut st, &[1, 2, 3, 4], &ok(ack), now, 0.5);
        assert_eq!(
            v.delete,
            vec![1, 2, 4],
            "3 was not acked and seqs 5..9 were not sent"
        );
        assert_eq!(v.next, Next::Continue);
        assert_eq!(st.last_success_at, Some(now));
        assert_eq!(st.server_reachable, Some(true));
    }

    #[test]
    fn rejected_samples_are_quarantined_with_the_reason() {
        let mut st = UploadState::default();
        let ack = TelemetryAck {
            accepted: 1,
            rejected: vec![
                RejectedSample {
                    seq: 2,
                    reason: "cpu.usage_pct: must be 0..=100".into(),
                },
                RejectedSample {
                    seq: 77,
                    reason: "not in this batch".into(),
                },
            ],
            ack: vec![[1, 1]],
            ..Default::default()
        };
        let v = decide(&mut st, &[1, 2], &ok(ack), Utc::now(), 0.0);
        assert_eq!(v.delete, vec![1]);
        assert_eq!(
            v.quarantine,
            vec![(2, "cpu.usage_pct: must be 0..=100".into())]
        );
    }

    #[test]
    fn network_errors_and_5xx_back_off_exponentially_with_jitter() {
        let mut st = UploadState::default();
        let now = Utc::now();
        let mut delays = vec![];
        for i in 0..12 {
            let out = if i % 2 == 0 {
                Outcome::Network("connection refused".into())
            } else {
                status(503, None)
            };
            let v = decide(&mut st, &[1], &out, now, 1.0);
            let Next::Backoff { until, .. } = v.next else {
                panic!("expected backoff, got {:?}", v.next)
            };
            assert!(v.delete.is_empty() && v.quarantine.is_empty());
            delays.push((until - now).num_seconds());
        }
        assert_eq!(&delays[..4], &[30, 60, 120, 240]);
        assert_eq!(*delays.last().unwrap(), 3600, "capped at an hour");
        assert_eq!(st.consecutive_failures, 12);
        // Jitter spreads a retry over the upper half of the interval.
        assert_eq!(backoff_delay(3, 0.0), Duration::from_secs(60));
        assert_eq!(backoff_delay(3, 1.0), Duration::from_secs(120));
        // Success resets.
        let v = decide(
            &mut st,
            &[1],
            &ok(TelemetryAck {
                ack: vec![[1, 1]],
                ..Default::default()
            }),
            now,
            0.3,
        );
        assert_eq!(v.next, Next::Continue);
        assert_eq!(st.consecutive_failures, 0);
        assert_eq!(st.next_attempt_at, None);
    }

    #[test]
    fn too_many_requests_honours_retry_after() {
        let mut st = UploadState::default();
        let now = Utc::now();
        let v = decide(&mut st, &[1, 2], &status(429, Some(17)), now, 0.9);
        assert_eq!(
            v.next,
            Next::Backoff {
                until: now + chrono::Duration::seconds(17),
                reason: "server busy, asked to retry later (nope (x))".into()
            }
        );
        assert_eq!(st.consecutive_failures, 0, "a polite 429 is not a failure");
        let v = decide(&mut st, &[1, 2], &status(429, None), now, 0.0);
        assert!(matches!(v.next, Next::Backoff { .. }));
        assert_eq!(st.consecutive_failures, 1);
        assert_eq!(
            parse_retry_after(
                "Wed, 21 Oct 2015 07:28:00 GMT",
                "2015-10-21T07:27:00Z".parse().unwrap()
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn unauthorized_stops_and_keeps_the_data() {
        for code in [401, 403] {
            let mut st = UploadState::default();
            let v = decide(&mut st, &[1, 2, 3], &status(code, None), Utc::now(), 0.0);
            assert!(matches!(&v.next, Next::StopAuth(m) if m.contains("rt-agent enroll")));
            assert!(v.delete.is_empty() && v.quarantine.is_empty());
            assert!(st.auth_failure.is_some());
        }
    }

    #[test]
    fn a_refused_batch_is_split_until_the_bad_sample_is_alone() {
        let mut st = UploadState::default();
        let v = decide(&mut st, &[1, 2, 3, 4], &status(422, None), Utc::now(), 0.0);
        assert_eq!(v.next, Next::Split);
        let v = decide(&mut st, &[3], &status(422, None), Utc::now(), 0.0);
        assert_eq!(v.quarantine, vec![(3, "HTTP 422: nope (x)".into())]);
        assert_eq!(v.next, Next::Continue);
    }

    #[test]
    fn wrong_url_backs_off_instead_of_quarantining() {
        let mut st = UploadState::default();
        let v = decide(&mut st, &[1], &status(404, None), Utc::now(), 0.0);
        assert!(v.quarantine.is_empty());
        assert!(matches!(v.next, Next::Backoff { reason, .. } if reason.contains("server URL")));
    }

    #[test]
    fn an_empty_or_garbled_ack_is_a_failure_not_a_loop() {
        let mut st = UploadState::default();
        let v = decide(&mut st, &[1], &ok(TelemetryAck::default()), Utc::now(), 0.0);
        assert!(matches!(v.next, Next::Backoff { .. }));
        let garbled = Outcome::Response {
            status: 200,
            retry_after: None,
            body: b"<html>".to_vec(),
        };
        let v = decide(&mut st, &[1], &garbled, Utc::now(), 0.0);
        assert!(matches!(v.next, Next::Backoff { .. }));
        assert_eq!(st.consecutive_failures, 2);
    }

    #[test]
    fn conflicts_are_kept_for_resequencing_and_raise_the_floor() {
        let mut st = UploadState::default();
        // State lost: the agent restarted at 1; the server stores up to 40 and says so.
        let ack = TelemetryAck {
            accepted: 0,
            conflicts: 3,
            ack: vec![[1, 3]],
            conflicted: vec![[1, 3]],
            max_seq: Some(40),
            ..Default::default()
        };
        let v = decide(&mut st, &[1, 2, 3], &ok(ack), Utc::now(), 0.0);
        assert!(v.delete.is_empty(), "a conflict is never deleted: {v:?}");
        assert_eq!(v.resequence, vec![1, 2, 3]);
        assert!(v.quarantine.is_empty());
        assert_eq!(v.next, Next::Continue);
        assert_eq!(st.seq_floor, 40);
        assert_eq!(st.unresolved_conflicts, 0);
        // Mixed: 41 stored, 42 a duplicate, 5 a conflict; the floor never goes down.
        let ack = TelemetryAck {
            accepted: 1,
            duplicates: 1,
            conflicts: 1,
            ack: vec![[5, 5], [41, 42]],
            conflicted: vec![[5, 5]],
            max_seq: Some(42),
            ..Default::default()
        };
        let v = decide(&mut st, &[5, 41, 42], &ok(ack), Utc::now(), 0.0);
        assert_eq!(v.delete, vec![41, 42]);
        assert_eq!(v.resequence, vec![5]);
        assert_eq!(st.seq_floor, 42);
        let ack = TelemetryAck {
            accepted: 1,
            ack: vec![[43, 43]],
            max_seq: Some(7),
            ..Default::default()
        };
        decide(&mut st, &[43], &ok(ack), Utc::now(), 0.0);
        assert_eq!(st.seq_floor, 42);
    }

    #[test]
    fn an_older_servers_unnamed_conflicts_are_counted_not_hidden() {
        let mut st = UploadState::default();
        let ack = TelemetryAck {
            accepted: 1,
            conflicts: 2,
            ack: vec![[1, 3]],
            ..Default::default()
        };
        let v = decide(&mut st, &[1, 2, 3], &ok(ack), Utc::now(), 0.0);
        assert_eq!(v.delete, vec![1, 2, 3]);
        assert_eq!(st.unresolved_conflicts, 2);
    }

    #[test]
    fn a_proxys_refusal_without_the_servers_json_is_transient() {
        for code in [400, 401, 403, 409, 413, 422] {
            let mut st = UploadState::default();
            let portal = Outcome::Response {
                status: code,
                retry_after: None,
                body: b"<html>Please sign in to the hotel Wi-Fi</html>".to_vec(),
            };
            let v = decide(&mut st, &[1, 2], &portal, Utc::now(), 0.0);
            assert!(
                matches!(&v.next, Next::Backoff { reason, .. } if reason.contains("proxy")),
                "HTTP {code}: {v:?}"
            );
            assert!(v.delete.is_empty() && v.quarantine.is_empty());
            assert_eq!(st.auth_failure, None, "HTTP {code} must not stop the agent");
            assert_eq!(st.consecutive_failures, 1);
            // A single sample refused by a proxy is not quarantined either.
            let v = decide(&mut st, &[1], &portal, Utc::now(), 0.0);
            assert!(v.quarantine.is_empty(), "HTTP {code}");
        }
        // The server's own JSON error still is a verdict.
        let mut st = UploadState::default();
        let v = decide(&mut st, &[1], &status(403, None), Utc::now(), 0.0);
        assert!(matches!(v.next, Next::StopAuth(_)));
    }

    #[test]
    fn batch_body_is_gzipped_json_of_the_queued_samples() {
        use std::io::Read;
        let recs = vec![
            QueuedRecord {
                seq: 1,
                collected_at_ms: 0,
                payload: br#"{"seq":1}"#.to_vec(),
            },
            QueuedRecord {
                seq: 2,
                collected_at_ms: 0,
                payload: br#"{"seq":2}"#.to_vec(),
            },
        ];
        let gz = encode_batch(&recs).unwrap();
        let mut s = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut s)
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["samples"][1]["seq"], 2);
        assert_eq!(v["agent_version"], AGENT_VERSION);
    }
}
