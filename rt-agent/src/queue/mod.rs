//! The durable local queue ("the local log") of collected samples.
//!
//! Format: append-only segment files of checksummed records (`record.rs`) plus a small
//! `meta.json` replaced atomically. Why not SQLite: the agent would carry a second SQL engine
//! (~1 MB, a C build) for what is a FIFO; an append + fsync of one record is the cheapest
//! durable write there is, and recovery is a linear scan we can reason about and test.
//!
//! Guarantees:
//! - `append` returns only after the record is written and fsynced: a kill -9 at any instant
//!   loses at most the record being written (a torn tail, truncated on reopen).
//! - every record carries a CRC-32; damaged records are skipped and counted, the rest are kept
//!   (resync on the next record magic).
//! - `seq` is strictly increasing and never reused, even after everything was acked and the
//!   segments deleted (`meta.next_seq`, persisted before any seq is sent or any segment removed).
//! - bounded by total bytes and record age; when over, the oldest records are dropped, counted,
//!   and the dropped seq ranges remembered (`gaps`), so the server sees the hole in `seq` and the
//!   agent reports `dropped_since_last_upload`.
//! - a record lost with its segment (deleted, unreadable) is found on open as a seq that
//!   `meta.json` says was handed out but no segment holds: counted (`lost_total`) and remembered
//!   as a gap like a drop, never silently forgotten.
//! - the floor: `raise_next_seq` keeps new seqs above what the server already stores (its
//!   `max_seq`), so a queue rebuilt after damage or a reinstall never reuses a stored seq.
//! - a collection reopens the last segment for appending instead of starting a new file.
//! - files 0600, directory 0700.
//!
//! Removing a record (acked, quarantined, dropped) marks it done in `meta.json`; a segment file is
//! deleted once none of its records is live.

mod record;

pub use record::MAX_PAYLOAD;

use crate::state::{create_private_file, sync_dir, write_json_atomic};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Queue limits. Defaults: 64 MiB, 30 days, 4 MiB segments.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub max_bytes: u64,
    pub max_age: chrono::Duration,
    pub segment_bytes: u64,
    /// fsync each append (and meta write). Only tests that do not simulate power loss turn it off.
    pub fsync: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            max_bytes: 64 * 1024 * 1024,
            max_age: chrono::Duration::days(30),
            segment_bytes: 4 * 1024 * 1024,
            fsync: true,
        }
    }
}

/// Queue failures.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("queue metadata {path}: {message}")]
    Meta { path: PathBuf, message: String },
    #[error("sample of {0} bytes is larger than the queue's record limit")]
    TooLarge(usize),
    #[error(
        "the queue in {0} is in use by another rt-agent process (a running `rt-agent run`?); \
         stop it or wait for it to finish"
    )]
    Locked(PathBuf),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Persistent bookkeeping (`queue/meta.json`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The next seq to hand out is at least this.
    pub next_seq: u64,
    /// Every seq below `head` is done (acked, quarantined or dropped).
    pub head: u64,
    /// Seqs at or above `head` that are done.
    #[serde(default)]
    pub done: BTreeSet<u64>,
    #[serde(default)]
    pub dropped_total: u64,
    #[serde(default)]
    pub dropped_since_upload: u64,
    #[serde(default)]
    pub damaged_total: u64,
    #[serde(default)]
    pub quarantined_total: u64,
    /// Records handed out but found in no segment on open (segment deleted or unreadable).
    #[serde(default)]
    pub lost_total: u64,
    /// Records re-sent under a new seq after the server reported a conflict.
    #[serde(default)]
    pub resequenced_total: u64,
    /// Seq ranges (inclusive) jumped over by `raise_next_seq`: never handed out, so not lost.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<[u64; 2]>,
    /// Most recent dropped seq ranges (inclusive), oldest first, at most `MAX_GAPS`.
    #[serde(default)]
    pub gaps: Vec<[u64; 2]>,
}

const MAX_GAPS: usize = 32;

/// Where a live record is.
#[derive(Debug, Clone, Copy)]
struct Loc {
    segment: u64,
    offset: u64,
    len: u32,
    ts_ms: i64,
}

/// A queued record as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedRecord {
    pub seq: u64,
    pub collected_at_ms: i64,
    pub payload: Vec<u8>,
}

/// Figures for `rt-agent queue` and `status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    pub depth: u64,
    pub bytes: u64,
    pub oldest: Option<DateTime<Utc>>,
    pub newest: Option<DateTime<Utc>>,
    pub next_seq: u64,
    pub dropped_total: u64,
    pub dropped_since_upload: u64,
    pub damaged_total: u64,
    pub quarantined_total: u64,
    #[serde(default)]
    pub lost_total: u64,
    #[serde(default)]
    pub resequenced_total: u64,
    pub gaps: Vec<[u64; 2]>,
    pub max_bytes: u64,
    pub max_age_days: i64,
    /// Set when `meta.json` could not be read (a read-only view then shows what the segments
    /// hold; the next writer rebuilds the bookkeeping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_problem: Option<String>,
}

/// What reopening found and repaired.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    pub damaged_records: u64,
    pub torn_tail_bytes: u64,
    /// Seqs handed out that no segment holds any more (inclusive ranges).
    pub lost: Vec<[u64; 2]>,
}

/// Why records leave the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Acked,
    Quarantined,
    Dropped,
    Damaged,
    /// Moved to a new seq (the server stores another sample under the old one).
    Resequenced,
}

pub struct Queue {
    dir: PathBuf,
    cfg: QueueConfig,
    meta: Meta,
    /// First seq (segment id) -> file length.
    segments: BTreeMap<u64, u64>,
    /// Live records by seq.
    index: BTreeMap<u64, Loc>,
    next_seq: u64,
    active: Option<(u64, File)>,
    recovery: Recovery,
    /// Held for the queue's lifetime (None when opened read-only): one writer at a time.
    _lock: Option<File>,
    read_only: bool,
    meta_problem: Option<String>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("dir", &self.dir)
            .field("depth", &self.index.len())
            .field("next_seq", &self.next_seq)
            .finish()
    }
}

fn segment_name(id: u64) -> String {
    format!("{id:020}.seg")
}

impl Queue {
    /// Opens (creating) the queue in `dir`, recovering from a crash or damage.
    pub fn open(dir: &Path, cfg: QueueConfig) -> Result<Queue, QueueError> {
        Self::open_inner(dir, cfg, false, Duration::from_secs(10))
    }

    /// Opens for writing, waiting up to `wait` for another process to release the queue.
    pub fn open_waiting(dir: &Path, cfg: QueueConfig, wait: Duration) -> Result<Queue, QueueError> {
        Self::open_inner(dir, cfg, false, wait)
    }

    /// Opens without the writer lock and without repairing anything, for `status` and
    /// `queue` while another process may be writing. Must not be used to append or remove.
    pub fn open_read_only(dir: &Path, cfg: QueueConfig) -> Result<Queue, QueueError> {
        Self::open_inner(dir, cfg, true, Duration::ZERO)
    }

    fn open_inner(
        dir: &Path,
        mut cfg: QueueConfig,
        read_only: bool,
        wait: Duration,
    ) -> Result<Queue, QueueError> {
        cfg.segment_bytes = cfg.segment_bytes.clamp(4096, (cfg.max_bytes / 4).max(4096));
        let lock = if read_only {
            None
        } else {
            rt_client::files::create_private_dir(dir).map_err(io_err(dir))?;
            Some(acquire_lock(dir, wait)?)
        };
        let meta_path = dir.join("meta.json");
        let mut meta_problem = None;
        let meta: Meta = match fs::read(&meta_path) {
            Ok(b) => match serde_json::from_slice(&b) {
                Ok(m) => m,
                Err(e) if read_only => {
                    // Show what the segments hold; repairing is the next writer's job.
                    meta_problem = Some(format!(
                        "{} is unreadable ({e}); figures come from the segments, and the next \
                         collect or sync rebuilds it",
                        meta_path.display()
                    ));
                    Meta::default()
                }
                Err(e) => {
                    // Unreadable bookkeeping: start over from what the segments hold. Worst
                    // case, acked samples are re-sent and the server acks them as duplicates.
                    let bad = dir.join("meta.json.bad");
                    let _ = fs::rename(&meta_path, &bad);
                    tracing::warn!("queue meta.json unreadable ({e}); rebuilt from segments");
                    Meta::default()
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Meta::default(),
            Err(e) => return Err(io_err(&meta_path)(e)),
        };
        let read_only = read_only || !dir.exists();
        let mut q = Queue {
            dir: dir.to_path_buf(),
            cfg,
            next_seq: meta.next_seq.max(meta.head).max(1),
            meta,
            segments: BTreeMap::new(),
            index: BTreeMap::new(),
            active: None,
            recovery: Recovery::default(),
            _lock: lock,
            read_only,
            meta_problem,
        };
        if read_only && !dir.exists() {
            return Ok(q);
        }
        q.load_segments()?;
        Ok(q)
    }

    fn load_segments(&mut self) -> Result<(), QueueError> {
        let mut ids: Vec<u64> = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        let last = ids.last().copied();
        let mut damaged_now = 0u64;
        for id in ids {
            let path = self.dir.join(segment_name(id));
            let data = fs::read(&path).map_err(io_err(&path))?;
            let scan = record::scan(&data);
            let mut len = data.len() as u64;
            if scan.valid_end < len {
                if Some(id) == last && self.read_only {
                    self.recovery.torn_tail_bytes += len - scan.valid_end;
                    len = scan.valid_end;
                } else if Some(id) == last {
                    // Torn tail of the segment being written at a crash: cut it off so new
                    // records follow the last good one.
                    self.recovery.torn_tail_bytes += len - scan.valid_end;
                    let f = fs::OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(io_err(&path))?;
                    f.set_len(scan.valid_end).map_err(io_err(&path))?;
                    f.sync_all().map_err(io_err(&path))?;
                    len = scan.valid_end;
                } else {
                    damaged_now += 1;
                }
            }
            damaged_now += scan.damaged;
            for (offset, h) in scan.records {
                self.next_seq = self.next_seq.max(h.seq.saturating_add(1));
                if h.seq < self.meta.head || self.meta.done.contains(&h.seq) {
                    continue;
                }
                self.index.entry(h.seq).or_insert(Loc {
                    segment: id,
                    offset,
                    len: h.len,
                    ts_ms: h.ts_ms,
                });
            }
            self.segments.insert(id, len);
        }
        self.recovery.damaged_records = damaged_now;
        if damaged_now > 0 {
            tracing::warn!("queue: skipped {damaged_now} damaged record(s)");
        }
        // Damage stays in its segment until the segment is deleted and is found again by every
        // open; keep the largest figure rather than adding it up once per open.
        self.meta.damaged_total = self.meta.damaged_total.max(damaged_now);
        self.recovery.lost = self.missing_ranges();
        if !self.read_only {
            if !self.recovery.lost.is_empty() {
                let n: u64 = self.recovery.lost.iter().map(|[a, b]| b - a + 1).sum();
                tracing::warn!(
                    "queue: {n} sample(s) handed out earlier are in no segment (lost: {:?})",
                    self.recovery.lost
                );
                let lost = self.recovery.lost.clone();
                self.meta.lost_total += n;
                self.meta.dropped_since_upload += n;
                for r in &lost {
                    self.meta.done.extend(r[0]..=r[1]);
                    self.note_gap(*r);
                }
            }
            self.compact()?;
            self.reopen_last_segment()?;
        }
        Ok(())
    }

    /// Seqs that the bookkeeping says were handed out and are not done, but that no segment
    /// holds: their segment was deleted or is unreadable.
    fn missing_ranges(&self) -> Vec<[u64; 2]> {
        let end = self.meta.next_seq; // exclusive: the persisted high-water mark
        let mut cursor = self.meta.head.max(1);
        let mut out = Vec::new();
        if cursor >= end {
            return out;
        }
        for r in &self.meta.skipped {
            if r[0] <= cursor && cursor <= r[1] {
                cursor = r[1].saturating_add(1);
            }
        }
        let known: BTreeSet<u64> = self
            .index
            .range(cursor..end)
            .map(|(s, _)| *s)
            .chain(self.meta.done.range(cursor..end).copied())
            .collect();
        for k in known {
            if k < cursor {
                continue;
            }
            if k > cursor {
                out.push([cursor, k - 1]);
            }
            cursor = k + 1;
        }
        if cursor < end {
            out.push([cursor, end - 1]);
        }
        // Take out what was jumped over on purpose.
        let mut lost = Vec::new();
        for [mut a, b] in out {
            for sk in &self.meta.skipped {
                if sk[1] < a || sk[0] > b {
                    continue;
                }
                if sk[0] > a {
                    lost.push([a, sk[0] - 1]);
                }
                a = sk[1].saturating_add(1);
            }
            if a <= b {
                lost.push([a, b]);
            }
        }
        lost
    }

    /// Keeps appending to the newest segment while it has room, so that a short-lived
    /// `rt-agent collect` does not leave one file per collection.
    fn reopen_last_segment(&mut self) -> Result<(), QueueError> {
        let Some((&id, &len)) = self.segments.iter().next_back() else {
            return Ok(());
        };
        if len >= self.cfg.segment_bytes {
            return Ok(());
        }
        let path = self.dir.join(segment_name(id));
        let f = create_private_file(&path, false).map_err(io_err(&path))?;
        self.active = Some((id, f));
        Ok(())
    }

    fn note_gap(&mut self, r: [u64; 2]) {
        let pos = self.meta.gaps.partition_point(|g| g[0] < r[0]);
        self.meta.gaps.insert(pos, r);
        // Merge neighbours that touch or overlap.
        let mut merged: Vec<[u64; 2]> = Vec::with_capacity(self.meta.gaps.len());
        for g in std::mem::take(&mut self.meta.gaps) {
            match merged.last_mut() {
                Some(last) if last[1].saturating_add(1) >= g[0] => last[1] = last[1].max(g[1]),
                _ => merged.push(g),
            }
        }
        let excess = merged.len().saturating_sub(MAX_GAPS);
        merged.drain(..excess);
        self.meta.gaps = merged;
    }

    fn writable(&self) -> Result<(), QueueError> {
        if self.read_only {
            return Err(QueueError::Meta {
                path: self.dir.clone(),
                message: "the queue was opened read-only".into(),
            });
        }
        Ok(())
    }

    /// What the last open repaired.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The seq the next append will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Live seqs, oldest first.
    pub fn seqs(&self) -> Vec<u64> {
        self.index.keys().copied().collect()
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Appends one record. `make_payload` gets the seq assigned to it (the sample carries its
    /// seq). Returns the seq once the record is durable.
    pub fn append_with(
        &mut self,
        collected_at: DateTime<Utc>,
        make_payload: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64, QueueError> {
        self.writable()?;
        let seq = self.next_seq;
        let payload = make_payload(seq);
        if payload.len() > MAX_PAYLOAD as usize {
            return Err(QueueError::TooLarge(payload.len()));
        }
        let ts_ms = collected_at.timestamp_millis();
        let buf = record::encode(seq, ts_ms, &payload);
        let need_new = match &self.active {
            None => true,
            Some((id, _)) => {
                let cur = self.segments.get(id).copied().unwrap_or(0);
                cur > 0 && cur + buf.len() as u64 > self.cfg.segment_bytes
            }
        };
        if need_new {
            let path = self.dir.join(segment_name(seq));
            let f = create_private_file(&path, false).map_err(io_err(&path))?;
            if self.cfg.fsync {
                sync_dir(&self.dir);
            }
            self.segments.entry(seq).or_insert(0);
            self.active = Some((seq, f));
        }
        let Some((id, file)) = self.active.as_mut() else {
            unreachable!("active segment was just ensured");
        };
        let id = *id;
        let start = self.segments.get(&id).copied().unwrap_or(0);
        let path = self.dir.join(segment_name(id));
        let res = file.write_all(&buf).and_then(|_| {
            if self.cfg.fsync {
                file.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = res {
            // Leave no partial record behind: cut back to where this record started.
            let _ = file.set_len(start);
            self.active = None;
            return Err(io_err(&path)(e));
        }
        self.segments.insert(id, start + buf.len() as u64);
        self.index.insert(
            seq,
            Loc {
                segment: id,
                offset: start,
                len: payload.len() as u32,
                ts_ms,
            },
        );
        self.next_seq = seq + 1;
        Ok(seq)
    }

    /// Makes sure the next seq handed out is above `floor` (the highest seq the server
    /// stores for this device), persisting the bookkeeping when that raised it.
    pub fn raise_next_seq(&mut self, floor: u64) -> Result<(), QueueError> {
        let want = floor.saturating_add(1);
        if self.next_seq < want {
            self.writable()?;
            self.meta.skipped.push([self.next_seq, want - 1]);
            self.next_seq = want;
            // Compaction moves `head` past the jump when nothing is live, and persists.
            self.compact()?;
        }
        Ok(())
    }

    /// Moves a live record to a new seq at the end of the queue: the new record (whose payload
    /// `make_payload` builds for the new seq) is durable before the old one leaves. Returns the
    /// new seq.
    pub fn resequence(
        &mut self,
        old: &QueuedRecord,
        make_payload: impl FnOnce(u64) -> Vec<u8>,
    ) -> Result<u64, QueueError> {
        let at =
            DateTime::<Utc>::from_timestamp_millis(old.collected_at_ms).unwrap_or_else(Utc::now);
        let new = self.append_with(at, make_payload)?;
        self.remove(&[old.seq], Removal::Resequenced)?;
        Ok(new)
    }

    /// Appends a sample, assigning its seq.
    pub fn append_sample(&mut self, sample: &mut rt_core::Sample) -> Result<u64, QueueError> {
        sample.seq = self.next_seq;
        let payload = serde_json::to_vec(&*sample).map_err(|e| QueueError::Meta {
            path: self.dir.clone(),
            message: format!("cannot encode sample: {e}"),
        })?;
        self.append_with(sample.collected_at, |_| payload)
    }

    /// Enforces the size and age limits, dropping the oldest records. Returns how many were
    /// dropped.
    pub fn enforce_limits(&mut self, now: DateTime<Utc>) -> Result<u64, QueueError> {
        let mut drop: Vec<u64> = Vec::new();
        let cutoff = (now - self.cfg.max_age).timestamp_millis();
        drop.extend(
            self.index
                .iter()
                .take_while(|(_, l)| l.ts_ms < cutoff)
                .map(|(s, _)| *s),
        );
        // Size: drop whole oldest segments until the files fit (the newest segment is kept).
        let mut total: u64 = self.segments.values().sum();
        let active_id = self.active.as_ref().map(|(id, _)| *id);
        for (&id, &len) in &self.segments {
            if total <= self.cfg.max_bytes
                || Some(id) == active_id
                || Some(&id) == self.segments.keys().next_back()
            {
                break;
            }
            drop.extend(
                self.index
                    .iter()
                    .filter(|(_, l)| l.segment == id)
                    .map(|(s, _)| *s),
            );
            total -= len;
        }
        // Any ts older than the cutoff outside the prefix (clock jumps) is kept: order is by seq.
        drop.sort_unstable();
        drop.dedup();
        let n = drop.len() as u64;
        if n > 0 {
            self.remove(&drop, Removal::Dropped)?;
        }
        Ok(n)
    }

    /// Reads up to `max_count` live records, oldest first, stopping before `max_bytes` of
    /// payload (at least one record is returned when any is live). Records found damaged on
    /// read are removed and counted.
    pub fn peek(
        &mut self,
        max_count: usize,
        max_bytes: usize,
    ) -> Result<Vec<QueuedRecord>, QueueError> {
        let mut out = Vec::new();
        let mut bytes = 0usize;
        let mut damaged = Vec::new();
        let mut open: Option<(u64, File)> = None;
        for (&seq, loc) in &self.index {
            if out.len() >= max_count || (bytes > 0 && bytes + loc.len as usize > max_bytes) {
                break;
            }
            if open.as_ref().map(|(id, _)| *id) != Some(loc.segment) {
                let path = self.dir.join(segment_name(loc.segment));
                open = Some((loc.segment, File::open(&path).map_err(io_err(&path))?));
            }
            let Some((_, f)) = open.as_mut() else {
                unreachable!("segment was just opened");
            };
            let mut buf = vec![0u8; record::HEADER_LEN + loc.len as usize];
            let path = self.dir.join(segment_name(loc.segment));
            f.seek(SeekFrom::Start(loc.offset)).map_err(io_err(&path))?;
            let ok = match f.read_exact(&mut buf) {
                Ok(()) => {
                    let (hb, payload) = buf.split_at(record::HEADER_LEN);
                    record::parse_header(hb)
                        .is_some_and(|h| h.seq == seq && record::verify(hb, &h, payload))
                }
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => false,
                Err(e) => return Err(io_err(&path)(e)),
            };
            if !ok {
                damaged.push(seq);
                continue;
            }
            bytes += loc.len as usize;
            out.push(QueuedRecord {
                seq,
                collected_at_ms: loc.ts_ms,
                payload: buf.split_off(record::HEADER_LEN),
            });
        }
        if !damaged.is_empty() {
            tracing::warn!(
                "queue: {} record(s) damaged on disk were skipped",
                damaged.len()
            );
            self.remove(&damaged, Removal::Damaged)?;
        }
        Ok(out)
    }

    /// Makes sure every seq handed out so far is below the persisted `next_seq`, so a seq that
    /// may have reached the server is never reused even if its segment is later lost. Called
    /// before anything is sent.
    pub fn persist_high_water(&mut self) -> Result<(), QueueError> {
        if self.meta.next_seq < self.next_seq {
            self.save_meta()?;
        }
        Ok(())
    }

    /// Removes records (those not live are ignored), persists the bookkeeping, then deletes
    /// segment files that hold no live record.
    pub fn remove(&mut self, seqs: &[u64], why: Removal) -> Result<u64, QueueError> {
        self.writable()?;
        let mut n = 0u64;
        let mut removed: Vec<u64> = Vec::new();
        for s in seqs {
            if self.index.remove(s).is_some() {
                self.meta.done.insert(*s);
                removed.push(*s);
                n += 1;
            }
        }
        match why {
            Removal::Acked => {}
            Removal::Quarantined => self.meta.quarantined_total += n,
            Removal::Resequenced => self.meta.resequenced_total += n,
            Removal::Damaged | Removal::Dropped => {
                if why == Removal::Damaged {
                    self.meta.damaged_total += n;
                } else {
                    self.meta.dropped_total += n;
                }
                self.meta.dropped_since_upload += n;
                for r in rt_core::api::TelemetryAck::ranges_from(removed.iter().copied()) {
                    self.note_gap(r);
                }
            }
        }
        if n > 0 {
            self.compact()?;
        }
        Ok(n)
    }

    /// Acked records leave the queue.
    pub fn ack(&mut self, seqs: &[u64]) -> Result<u64, QueueError> {
        self.remove(seqs, Removal::Acked)
    }

    /// Resets the "dropped since last upload" counter after a successful upload.
    pub fn note_upload_succeeded(&mut self) -> Result<(), QueueError> {
        if self.meta.dropped_since_upload > 0 {
            self.meta.dropped_since_upload = 0;
            self.save_meta()?;
        }
        Ok(())
    }

    fn compact(&mut self) -> Result<(), QueueError> {
        let head = self.index.keys().next().copied().unwrap_or(self.next_seq);
        let mut done = std::mem::take(&mut self.meta.done);
        done.retain(|s| *s >= head);
        self.meta.done = done;
        self.meta.head = head;
        self.meta.skipped.retain(|r| r[1] >= head);
        self.save_meta()?;
        // Delete segments without live records (bookkeeping is durable first).
        let live: BTreeSet<u64> = self.index.values().map(|l| l.segment).collect();
        let empty: Vec<u64> = self
            .segments
            .keys()
            .copied()
            .filter(|id| !live.contains(id))
            .collect();
        for id in empty {
            if self.active.as_ref().is_some_and(|(a, _)| *a == id) {
                self.active = None;
            }
            let path = self.dir.join(segment_name(id));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
            self.segments.remove(&id);
        }
        if self.cfg.fsync {
            sync_dir(&self.dir);
        }
        Ok(())
    }

    fn save_meta(&mut self) -> Result<(), QueueError> {
        self.meta.next_seq = self.next_seq;
        let path = self.dir.join("meta.json");
        write_json_atomic(&path, &self.meta).map_err(|e| QueueError::Meta {
            path: path.clone(),
            message: format!("{e:#}"),
        })
    }

    pub fn stats(&self) -> QueueStats {
        let ts = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
        QueueStats {
            depth: self.index.len() as u64,
            bytes: self.segments.values().sum(),
            oldest: self.index.values().next().and_then(|l| ts(l.ts_ms)),
            newest: self.index.values().next_back().and_then(|l| ts(l.ts_ms)),
            next_seq: self.next_seq,
            dropped_total: self.meta.dropped_total,
            dropped_since_upload: self.meta.dropped_since_upload,
            damaged_total: self.meta.damaged_total,
            quarantined_total: self.meta.quarantined_total,
            lost_total: self.meta.lost_total
                + self
                    .recovery
                    .lost
                    .iter()
                    .map(|[a, b]| b - a + 1)
                    .sum::<u64>()
                    * u64::from(self.read_only),
            resequenced_total: self.meta.resequenced_total,
            gaps: self.meta.gaps.clone(),
            max_bytes: self.cfg.max_bytes,
            max_age_days: self.cfg.max_age.num_days(),
            meta_problem: self.meta_problem.clone(),
        }
    }
}

fn acquire_lock(dir: &Path, wait: Duration) -> Result<File, QueueError> {
    let path = dir.join("lock");
    let f = create_private_file(&path, false).map_err(io_err(&path))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match f.try_lock() {
            Ok(()) => return Ok(f),
            Err(fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(fs::TryLockError::WouldBlock) => return Err(QueueError::Locked(dir.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
    }
}

/// One quarantined sample (a line of `quarantine.ndjson`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub seq: u64,
    pub reason: String,
    pub quarantined_at: DateTime<Utc>,
    /// The sample exactly as queued (JSON), or its text when it was not valid JSON.
    pub sample: serde_json::Value,
}

/// Appends entries to the quarantine file (0600), fsynced, before the records leave the queue.
pub fn write_quarantine(path: &Path, entries: &[QuarantineEntry]) -> Result<(), QueueError> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut buf = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut buf, e).map_err(|err| QueueError::Meta {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
        buf.push(b'\n');
    }
    let mut f = create_private_file(path, false).map_err(io_err(path))?;
    f.write_all(&buf)
        .and_then(|_| f.sync_data())
        .map_err(io_err(path))
}

/// Reads the quarantine file (missing = empty); unreadable lines are skipped.
pub fn read_quarantine(path: &Path) -> Vec<QuarantineEntry> {
    fs::read_to_string(path)
        .map(|s| {
            s.lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
